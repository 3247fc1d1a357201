#' Similarity between every pair of layers of two systems
#'
#' The layer-by-layer similarity matrix that greedy layer-wise comparisons
#' are built on, for the metrics users know, computed on the same inputs as
#' [hot()] so that HOT's layer plan can be set beside it (see the `plan`
#' argument of [plot.layer_similarity()]).
#'
#' @section Metrics:
#' With `T` stimuli, `X_l` a `T x n` source layer and `Y_m` a `T x n'`
#' target layer:
#' * `"soft_matching"`: the soft-matching correlation of Khosla and Williams
#'   (2023), `soft_matching(X_l, Y_m)$correlation`: one minus the exact
#'   optimal transport cost between the units under correlation distance,
#'   with every stimulus used. It is `1 - hot(X, Y, holdout = 0)$cost`, and
#'   is computed that way (the pairs in parallel, `threads`).
#' * `"cka"`: linear centred kernel alignment (Kornblith et al., 2019) of the
#'   column-centred layers,
#'   `||Y'X||_F^2 / (||X'X||_F ||Y'Y||_F)`, in `[0, 1]`; invariant to
#'   orthogonal transformations and isotropic scaling of either layer.
#' * `"rsa"`: representational similarity analysis: for each layer the
#'   representational dissimilarity matrix (RDM) of the stimuli,
#'   `1 - cor(x_s, x_t)` between the response patterns of stimuli `s` and
#'   `t`, and the Spearman correlation of the upper triangles of the two
#'   RDMs. Needs at least 2 units per layer and no stimulus whose pattern is
#'   constant over the units; takes `O(T^2)` memory per layer.
#' * `"procrustes"`: orthogonal Procrustes similarity of the column-centred
#'   layers scaled to unit Frobenius norm, the nuclear norm (sum of singular
#'   values) of `X'Y`, in `[0, 1]`. It equals `1 - d^2 / 2`, where `d` is the
#'   Procrustes distance `min_R ||X R - Y||_F` over orthogonal `R` (the
#'   narrower layer padded with zero columns), and is 1 when one layer is an
#'   orthogonal transformation of the other up to scale.
#' * `"linear"`: cross-validated linear predictivity of the source layer
#'   from the target layer (the direction in which [hot()] rebuilds the
#'   source). On the training stimuli, every target unit is centred and
#'   scaled to unit norm (so `Y'Y` is their correlation matrix), every source
#'   unit centred, and a ridge regression with the fixed penalty `lambda` is
#'   fitted for each source unit; the score is the mean over source units of
#'   the Pearson correlation between prediction and truth on the held-out
#'   stimuli. The split is that of [hot()]: `test`, or a random `holdout`
#'   fraction drawn with `seed` -- with the same `test`, `holdout` and `seed`
#'   it is the split of `hot()`'s first fit. Units whose held-out correlation
#'   is undefined (constant prediction or truth) are left out of the means,
#'   with a warning, and listed in `attr(, "undefined")`.
#'
#' `"cka"`, `"rsa"` and `"procrustes"` are symmetric: swapping `X` and `Y`
#' transposes the matrix. Units constant over the stimuli do not affect
#' them (centring makes them zero), but a layer that is entirely constant is
#' an error. For `"soft_matching"` and `"linear"`, whose unit correlations
#' are undefined for a constant unit, such units are an error unless
#' `constant = "drop"`, as in [hot()].
#'
#' @param X,Y Named lists of numeric matrices, stimuli in rows (the same
#'   stimuli in every layer of both systems), units in columns, as for
#'   [hot()]. `X` is the source system (rows of the result), `Y` the target
#'   (columns).
#' @param metric The similarity measure; see the Metrics section.
#' @param constant What to do with units constant on the (training)
#'   stimuli for `"soft_matching"` and `"linear"`: `"error"` or `"drop"`
#'   them (recorded in `attr(, "dropped")`).
#' @param test,holdout,seed The train/test split of `"linear"`, as in
#'   [hot()]: held-out row indices (or a logical vector), else a random
#'   fraction `holdout` in `(0, 1)` drawn with `seed` (`NULL`: the current
#'   random stream; a given seed leaves the caller's stream untouched).
#'   Ignored by the other metrics, which use every stimulus.
#' @param lambda Ridge penalty of `"linear"`, a number `>= 0`, on the scale
#'   of the predictors' correlation matrix (unit diagonal). `0` is least
#'   squares (minimum-norm when the target layer is wider than the training
#'   set).
#' @param threads Threads for `"soft_matching"`; see [hot_threads()].
#' @return An object of class `"layer_similarity"`: an `L x M` numeric
#'   matrix with dimnames `source` and `target` (the layer names), and
#'   attributes `metric`, `dropped` (per system, per layer, the dropped
#'   columns), for `"linear"` also `train`, `test`, `lambda` and `undefined`
#'   (a data frame of `source`, `target`, `unit`). Methods: `print`,
#'   [plot()][plot.layer_similarity],
#'   [as.data.frame()][as.data.frame.layer_similarity]
#'   and `as.matrix` (the bare matrix).
#' @references Kornblith, S., Norouzi, M., Lee, H. and Hinton, G. (2019).
#'   Similarity of neural network representations revisited. ICML.
#'
#'   Khosla, M. and Williams, A. H. (2023). Soft matching distance: a metric
#'   on neural representations that captures single-neuron tuning.
#'   \doi{10.48550/arXiv.2311.09466}
#'
#'   Kriegeskorte, N., Mur, M. and Bandettini, P. (2008). Representational
#'   similarity analysis -- connecting the branches of systems neuroscience.
#'   \doi{10.3389/neuro.06.004.2008}
#' @seealso [hot()] for the global, mass-conserving alternative to picking
#'   the best match of every layer; [soft_matching()] for one pair.
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 80, source_layers = 2,
#'                           target_layers = 4, source_units = 10,
#'                           target_units = 8, seed = 1)
#' s <- layer_similarity(sim$X, sim$Y, metric = "cka")
#' s
#' head(as.data.frame(s))
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 0, threads = 1,
#'            progress = FALSE)
#' plot(s, plan = fit)
#' layer_similarity(sim$X, sim$Y, metric = "linear", seed = 1)
layer_similarity <- function(X, Y,
                             metric = c("soft_matching", "cka", "rsa",
                                        "procrustes", "linear"),
                             constant = c("error", "drop"), test = NULL,
                             holdout = 0.2, seed = NULL, lambda = 0.1,
                             threads = hot_threads()) {
  metric <- match.arg(metric)
  constant <- match.arg(constant)
  X <- check_layers(X, "X")
  Y <- check_layers(Y, "Y")
  n_stimuli <- check_same_stimuli(X, Y)
  if (n_stimuli < 3L) {
    abort("`X` and `Y` need at least 3 stimuli (rows) for a layer ",
          "similarity, not ", n_stimuli, arg = "X")
  }
  holdout <- check_number(holdout, "holdout", 0, 1, upper_open = TRUE)
  lambda <- check_number(lambda, "lambda", 0)
  threads <- check_threads(threads)
  if (!is.null(seed)) seed <- check_seed(seed)

  extra <- list()
  dropped <- NULL
  sim <- switch(metric,
    soft_matching = {
      fit <- hot_fit(checked_systems(X, Y), holdout = 0, n_perm = 0,
                     constant = constant, threads = threads, progress = FALSE)
      dropped <- fit$dropped
      1 - fit$cost
    },
    cka = similarity_cka(X, Y),
    procrustes = similarity_procrustes(X, Y),
    rsa = similarity_rsa(X, Y),
    linear = {
      if (is.null(test) && holdout == 0) {
        abort("`holdout` must be > 0 (or `test` given) for ",
              "`metric = \"linear\"`: it is scored on held-out stimuli",
              arg = "holdout")
      }
      if (is.list(test)) {
        abort("`test` must be one held-out set (row indices or a logical ",
              "vector) for `metric = \"linear\"`, not a list of folds: call ",
              "layer_similarity() once per fold", arg = "test")
      }
      split <- with_seed(seed, make_splits(n_stimuli, test, holdout, 1L))[[1]]
      res <- similarity_linear(X, Y, split$train, split$test, lambda,
                               constant)
      dropped <- res$dropped
      extra <- list(train = split$train, test = split$test, lambda = lambda,
                    undefined = res$undefined)
      res$similarity
    }
  )
  dimnames(sim) <- list(source = names(X), target = names(Y))
  new_layer_similarity(sim, metric, dropped, extra)
}

new_layer_similarity <- function(sim, metric, dropped = NULL, extra = list()) {
  if (is.null(dropped)) dropped <- list(source = list(), target = list())
  out <- do.call(structure, c(list(.Data = sim, metric = metric,
                                   dropped = dropped), extra))
  class(out) <- c("layer_similarity", "matrix", "array")
  out
}

metric_label <- function(metric) {
  switch(metric,
         soft_matching = "soft-matching correlation",
         cka = "linear CKA",
         rsa = "RSA (Spearman r of correlation-distance RDMs)",
         procrustes = "orthogonal Procrustes similarity",
         linear = "held-out linear predictivity (mean r)",
         metric)
}

# --- the metrics (private) -------------------------------------------------

# Column-centred layer with at most T columns and the same X'X spectrum: a
# layer wider than its number of stimuli is replaced by U D of its thin SVD
# (X = U D V', and every quantity used here is invariant to the orthonormal
# V). An entirely constant layer is an error naming it.
centred_layers <- function(layers, arg) {
  Map(function(x, name) {
    x <- unit_max(x)
    xc <- x - rep(colMeans(x), each = nrow(x))
    ss <- sum(xc^2)
    if (!(ss > 1e-24 * sum(x^2))) {
      abort("layer `", name, "` of `", arg, "` is constant over the stimuli: ",
            "its similarity is undefined", arg = arg, layer = name)
    }
    if (ncol(xc) > nrow(xc)) {
      s <- svd(xc, nu = nrow(xc), nv = 0L)
      xc <- s$u %*% diag(s$d, nrow(xc))
    }
    xc
  }, layers, names(layers))
}

similarity_cka <- function(X, Y) {
  Xc <- centred_layers(X, "X")
  Yc <- centred_layers(Y, "Y")
  self <- function(z) sqrt(sum(crossprod(z)^2))
  nx <- vapply(Xc, self, 0)
  ny <- vapply(Yc, self, 0)
  outer(seq_along(Xc), seq_along(Yc), Vectorize(function(l, m) {
    sum(crossprod(Xc[[l]], Yc[[m]])^2) / (nx[l] * ny[m])
  }))
}

similarity_procrustes <- function(X, Y) {
  unit <- function(z) z / sqrt(sum(z^2))
  Xc <- lapply(centred_layers(X, "X"), unit)
  Yc <- lapply(centred_layers(Y, "Y"), unit)
  sim <- outer(seq_along(Xc), seq_along(Yc), Vectorize(function(l, m) {
    sum(svd(crossprod(Xc[[l]], Yc[[m]]), nu = 0L, nv = 0L)$d)
  }))
  pmin(pmax(sim, 0), 1)
}

# A layer divided by its largest magnitude: every metric here is invariant
# to the scale of a layer, and sums of squares of data scaled by 1e-200 (or
# 1e200) would underflow (overflow) otherwise
unit_max <- function(x) {
  s <- max(abs(x))
  if (s > 0 && is.finite(s)) x / s else x
}

# Ranks of the upper triangle of each layer's correlation-distance RDM.
rdm_ranks <- function(layers, arg) {
  vapply(names(layers), function(name) {
    x <- unit_max(layers[[name]])
    what <- paste0("layer `", name, "` of `", arg, "`")
    if (ncol(x) < 2L) {
      abort(what, " has 1 unit: RSA needs at least 2 units to correlate ",
            "the response patterns of stimuli", arg = arg, layer = name)
    }
    xc <- x - rowMeans(x)
    norms <- sqrt(rowSums(xc^2))
    flat <- which(!(norms > 1e-12 * sqrt(rowSums(x^2))))
    if (length(flat)) {
      abort(what, " has ", length(flat), " stimul",
            if (length(flat) > 1) "i" else "us",
            " whose response pattern is constant over the units (first: row ",
            flat[1], "): their RDM entries are undefined", arg = arg,
            layer = name)
    }
    xn <- xc / norms
    rdm <- 1 - tcrossprod(xn)
    rank(rdm[upper.tri(rdm)])
  }, numeric(nrow(layers[[1]]) * (nrow(layers[[1]]) - 1) / 2))
}

similarity_rsa <- function(X, Y) {
  rx <- rdm_ranks(X, "X")
  ry <- rdm_ranks(Y, "Y")
  # a constant RDM (every pair equally far) has no rank correlation: NA
  suppressWarnings(stats::cor(rx, ry))
}

# Ridge predictions of every source layer from every target layer, scored
# on the held-out rows.
similarity_linear <- function(X, Y, train, test, lambda, constant) {
  X <- lapply(X, unit_max)
  Y <- lapply(Y, unit_max)
  sx <- layer_standardisation(X, train, constant, "X")
  sy <- layer_standardisation(Y, train, constant, "Y")
  Ytr <- standardise_layers(Y, train, sy)
  Yte <- standardise_layers(Y, test, sy)
  Xtr <- standardise_layers(X, train, sx)
  Xte <- standardise_layers(X, test, sx)
  L <- length(X)
  M <- length(Y)
  sim <- matrix(NA_real_, L, M)
  undefined <- list()
  for (m in seq_len(M)) {
    # ridge coefficients from the training rows: beta = V f(D) U' x,
    # predictions Yte beta, with f(d) = d / (d^2 + lambda)
    s <- svd(Ytr[[m]])
    f <- if (lambda > 0) s$d / (s$d^2 + lambda) else
      ifelse(s$d > max(dim(Ytr[[m]])) * .Machine$double.eps * s$d[1],
             1 / s$d, 0)
    # the prediction of unit i is sum_j beta[j, i] Yte[, j]: the bound of the
    # undefined rule (see ?hot) is sum_j |beta[j, i]| ||Yte[, j]||
    norms <- sqrt(colSums(Yte[[m]]^2))
    for (l in seq_len(L)) {
      beta <- s$v %*% (f * crossprod(s$u, Xtr[[l]]))
      r <- .Call(C_ffi_correlations, Yte[[m]] %*% beta, Xte[[l]],
                 as.vector(crossprod(abs(beta), norms)))
      bad <- which(is.na(r))
      if (length(bad)) {
        undefined[[length(undefined) + 1L]] <- data.frame(
          source = names(X)[l], target = names(Y)[m],
          unit = sx[[l]]$keep[bad], stringsAsFactors = FALSE)
      }
      sim[l, m] <- if (length(bad) == length(r)) NA_real_ else
        mean(r, na.rm = TRUE)
    }
  }
  undefined <- do.call(rbind, c(undefined, list(data.frame(
    source = character(0), target = character(0), unit = integer(0)))))
  if (nrow(undefined)) {
    warn("held-out correlation is undefined for ", nrow(undefined),
         " source unit prediction", if (nrow(undefined) > 1) "s",
         " (constant on the held-out stimuli, or in their prediction); they ",
         "are left out of the means: see `attr(, \"undefined\")`",
         class = "undefined", layer = unique(undefined$source))
  }
  list(similarity = sim, undefined = undefined,
       dropped = list(source = lapply(sx, `[[`, "dropped"),
                      target = lapply(sy, `[[`, "dropped")))
}

# --- methods ---------------------------------------------------------------

#' @rdname layer_similarity
#' @export
as.matrix.layer_similarity <- function(x, ...) {
  matrix(unclass(x), nrow(x), ncol(x), dimnames = dimnames(x))
}

#' @rdname layer_similarity
#' @param x A `"layer_similarity"` object.
#' @param digits Decimal places shown.
#' @param ... Ignored.
#' @export
print.layer_similarity <- function(x, digits = 3L, ...) {
  digits <- check_digits(digits)
  m <- as.matrix(x)
  cat("<layer_similarity> ", metric_label(attr(x, "metric")), ": ",
      nrow(m), " source x ", ncol(m), " target layers\n", sep = "")
  print(round(m, digits))
  best <- greedy_best(m)
  cat("Best match of each source layer: ",
      paste0(rownames(m), " -> ", ifelse(is.na(best), "NA", colnames(m)[best]),
             collapse = ", "), "\n", sep = "")
  invisible(x)
}

# column of the largest finite value of each row (NA for an all-NA row)
greedy_best <- function(m) {
  apply(m, 1L, function(r) if (all(is.na(r))) NA_integer_ else which.max(r))
}

#' Layer similarity as a data frame
#'
#' @param x A `"layer_similarity"` object from [layer_similarity()].
#' @param row.names,optional Ignored.
#' @param ... Ignored.
#' @return A data frame with one row per pair of layers (source layers
#'   varying fastest): `source` and `target` (factors in layer order),
#'   `similarity`, `best` (`TRUE` for the greedy best match of the source
#'   layer, the target layer of largest similarity) and `metric`.
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' df <- as.data.frame(layer_similarity(sim$X, sim$Y, metric = "rsa"))
#' df[df$best, ]
as.data.frame.layer_similarity <- function(x, row.names = NULL,
                                           optional = FALSE, ...) {
  m <- as.matrix(x)
  L <- nrow(m)
  M <- ncol(m)
  best <- matrix(FALSE, L, M)
  b <- greedy_best(m)
  best[cbind(seq_len(L), b)[!is.na(b), , drop = FALSE]] <- TRUE
  data.frame(
    source = factor(rep(rownames(m), times = M), levels = rownames(m)),
    target = factor(rep(colnames(m), each = L), levels = colnames(m)),
    similarity = as.vector(m),
    best = as.vector(best),
    metric = attr(x, "metric"),
    stringsAsFactors = FALSE
  )
}

#' Plot a layer similarity matrix, with HOT's plan beside greedy matching
#'
#' A base-graphics heatmap of the similarity of every pair of layers, source
#' layers as rows (top to bottom), target layers as columns. The greedy best
#' match of each source layer -- what layer-wise comparisons report -- is
#' outlined. Given a [hot()] fit (or its `plan`), the layer plan is drawn on
#' top as circles whose area is the share `L * plan[l, m]` of source layer
#' `l` sent to target layer `m`, so that the global, mass-conserving
#' coupling can be read against the greedy choice.
#'
#' @param x A `"layer_similarity"` object from [layer_similarity()].
#' @param plan `NULL`, a `"hot"` fit of the same systems, or an `L x M`
#'   plan matrix.
#' @param main Title (by default the metric).
#' @param col Palette, light to dark for growing similarity by default.
#' @param numbers Write the values in the cells? By default when there are
#'   at most 100 cells.
#' @param digits Significant digits of the values written.
#' @param ... Further arguments to [graphics::image()].
#' @return `x`, invisibly.
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' s <- layer_similarity(sim$X, sim$Y, metric = "cka")
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 0, threads = 1,
#'            progress = FALSE)
#' plot(s, plan = fit)
plot.layer_similarity <- function(x, plan = NULL, main = NULL, col = NULL,
                                  numbers = NULL, digits = 2, ...) {
  m <- as.matrix(x)
  if (!is.null(plan)) plan <- check_plan_overlay(plan, m)
  if (is.null(main)) main <- metric_label(attr(x, "metric"))
  if (is.null(col)) col <- grDevices::hcl.colors(64L, "Blues 3", rev = TRUE)
  if (is.null(numbers)) numbers <- length(m) <= 100L && is.null(plan)
  geom <- hot_plot_heatmap(m, main = main, col = col, numbers = numbers,
                           digits = digits, legend_title = "similarity",
                           blank_zero = FALSE, top = 3.6, ...)
  best <- greedy_best(m)
  rows <- which(!is.na(best))
  # outlines and circles of the edge cells reach past the plot region: drawn
  # unclipped (xpd = NA), so the outer half of their line is not cut off
  graphics::rect(best[rows] - 0.5, geom$y(rows) - 0.5, best[rows] + 0.5,
                 geom$y(rows) + 0.5, border = "#D7191C", lwd = 2.5,
                 xpd = NA)
  if (!is.null(plan)) {
    share <- plan * nrow(plan)
    at <- which(share > 0, arr.ind = TRUE)
    graphics::symbols(at[, 2], geom$y(at[, 1]),
                      circles = 0.45 * sqrt(share[at]), inches = FALSE,
                      add = TRUE, fg = "black", bg = grDevices::adjustcolor(
                        "#FDAE61", alpha.f = 0.8), xpd = NA)
  }
  graphics::mtext(paste0("outlined: greedy best match",
                         if (!is.null(plan))
                           "; circles: HOT plan (area = share)"),
                  side = 3, line = 0.4, cex = 0.7)
  invisible(x)
}

check_plan_overlay <- function(plan, m) {
  if (inherits(plan, "hot")) plan <- plan$plan
  if (!is.matrix(plan) || !is.numeric(plan) || !identical(dim(plan), dim(m))) {
    abort("`plan` must be a \"hot\" fit or a ", nrow(m), " x ", ncol(m),
          " plan matrix of the same layers")
  }
  if (!is.null(dimnames(plan)) &&
      (!identical(rownames(plan), rownames(m)) ||
       !identical(colnames(plan), colnames(m)))) {
    abort("`plan` has other layers (", paste(rownames(plan), collapse = ", "),
          " x ", paste(colnames(plan), collapse = ", "), ") than `x`")
  }
  plan
}
