# S3 methods for class "hot": print, summary, as.data.frame, predict,
# unit_plan. The layout of the object is fixed in ARCHITECTURE.md.

#' Print a HOT fit
#'
#' A short account of a [hot()] fit: the two systems' depths, the transport
#' objective, the held-out HOT score and its baselines. Use [summary.hot()]
#' for the full report.
#'
#' @param x A `"hot"` object returned by [hot()].
#' @param digits Significant digits for the numbers shown.
#' @param ... Ignored.
#' @return `x`, invisibly.
#' @seealso [summary.hot()], [plot.hot()]
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' fit
print.hot <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  L <- nrow(x$plan)
  M <- ncol(x$plan)
  n_splits <- hot_n_splits(x)
  cat("<hot> ", if (is_hot_rotation(x)) "rotation-invariant HOT (HOT+R)"
      else "hierarchical optimal transport", ": ",
      L, " source layer", if (L != 1L) "s", " x ",
      M, " target layer", if (M != 1L) "s", "\n", sep = "")
  cat("  objective ", hot_fmt(x$objective, digits), ";  score ", sep = "")
  if (length(x$test) == 0L) {
    cat("NA (no held-out stimuli)\n")
    return(invisible(x))
  }
  cat(hot_fmt(x$score, digits), hot_se_text(x, digits),
      " on ", length(x$test), " held-out stimuli",
      if (n_splits > 1L) paste0(" x ", n_splits, " splits"), "\n", sep = "")
  b <- x$baselines
  if (!is.null(b)) {
    cat("  baselines: pairwise best ", hot_fmt(b$pairwise_best, digits),
        ", single best ", hot_fmt(b$single_best, digits),
        ", perm-P ", hot_fmt(b$perm_p, digits),
        " (p = ", hot_fmt(b$perm_p_value, digits), ")\n", sep = "")
  }
  invisible(x)
}

#' Summarise a HOT fit
#'
#' The full report of a [hot()] fit: per-layer held-out scores beside the
#' baselines', the layer plan with the dominant target of every source layer,
#' the baselines with the permutation p-value, the per-split results when
#' the score was averaged over several splits, and the columns and units
#' that were dropped or left undefined.
#'
#' @param object A `"hot"` object returned by [hot()].
#' @param x A `"summary.hot"` object.
#' @param digits Significant digits for the numbers shown.
#' @param ... Ignored.
#' @return `summary.hot()` returns an object of class `"summary.hot"`, a
#'   list with `call`, `rotation`, `descent` (HOT+R only: iterations and
#'   convergence of every pair), `dims` (numbers of layers), `sizes`
#'   (widths), `n_train`, `n_test`, `n_splits`, `objective`, `score`,
#'   `score_se`, `layers` (a data frame, one row per source layer: units,
#'   HOT score, dominant target, its share `L * plan[l, m]`, and the
#'   baseline layer scores), `plan`, `baselines`, `n_perm`, `splits` (a data
#'   frame, one row per split), `dropped` and `undefined`.
#'   `print.summary.hot()` returns `x` invisibly.
#' @seealso [print.hot()], [as.data.frame.hot()]
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' summary(fit)
summary.hot <- function(object, ...) {
  plan <- object$plan
  L <- nrow(plan)
  M <- ncol(plan)
  source_names <- rownames(plan)
  target_names <- colnames(plan)

  dominant <- apply(plan, 1L, which.max)
  layers <- data.frame(
    layer = source_names,
    units = hot_widths(object, "source", L),
    score = as.numeric(object$layer_scores),
    dominant = target_names[dominant],
    share = L * plan[cbind(seq_len(L), dominant)],
    stringsAsFactors = FALSE
  )
  bls <- object$baseline_layer_scores
  if (!is.null(bls)) {
    bls <- as.matrix(bls)
    for (k in seq_len(ncol(bls))) layers[[colnames(bls)[k]]] <- bls[, k]
  }
  rownames(layers) <- NULL

  splits <- NULL
  if (length(object$splits) > 0L) {
    splits <- data.frame(
      split = seq_along(object$splits),
      n_train = vapply(object$splits, function(s) length(s$train), 1L),
      n_test = vapply(object$splits, function(s) length(s$test), 1L),
      objective = vapply(object$splits, function(s) hot_num(s$objective), 1),
      score = vapply(object$splits, function(s) hot_num(s$score), 1),
      pairwise_best = vapply(object$splits, function(s)
        hot_num(s$baselines$pairwise_best), 1),
      perm_p = vapply(object$splits, function(s)
        hot_num(s$baselines$perm_p), 1)
    )
  }

  undefined <- object$undefined
  if (is.null(undefined)) {
    undefined <- data.frame(layer = character(0), unit = integer(0))
  }

  out <- list(
    call = object$call,
    rotation = is_hot_rotation(object),
    descent = if (is.list(object$rotation)) {
      object$rotation[c("iterations", "converged", "max_iter", "tol")]
    },
    dims = c(source = L, target = M),
    sizes = list(source = hot_widths(object, "source", L),
                 target = hot_widths(object, "target", M)),
    n_train = length(object$train),
    n_test = length(object$test),
    n_splits = hot_n_splits(object),
    objective = object$objective,
    score = object$score,
    score_se = if (is.null(object$score_se)) NA_real_ else object$score_se,
    layers = layers,
    plan = plan,
    baselines = object$baselines,
    n_perm = object$n_perm,
    splits = splits,
    dropped = object$dropped,
    undefined = undefined
  )
  names(out$sizes$source) <- source_names
  names(out$sizes$target) <- target_names
  class(out) <- "summary.hot"
  out
}

#' @rdname summary.hot
#' @export
print.summary.hot <- function(x, digits = max(3L, getOption("digits") - 3L),
                              ...) {
  cat(if (x$rotation) "Rotation-invariant hierarchical optimal transport (HOT+R)"
      else "Hierarchical optimal transport (HOT)", "\n", sep = "")
  if (!is.null(x$call)) {
    cat("Call: ", paste(deparse(x$call, width.cutoff = 70L),
                        collapse = "\n      "), "\n", sep = "")
  }
  cat("\nSource: ", x$dims[["source"]], " layers (units: ",
      hot_width_text(x$sizes$source), ")\n", sep = "")
  cat("Target: ", x$dims[["target"]], " layers (units: ",
      hot_width_text(x$sizes$target), ")\n", sep = "")
  cat("Stimuli: ", x$n_train, " training, ", x$n_test, " held out",
      if (x$n_splits > 1L) paste0(" (first of ", x$n_splits, " splits)"),
      "\n", sep = "")

  if (!is.null(x$descent)) {
    it <- x$descent$iterations
    cat("HOT+R descent: ", sum(x$descent$converged), " of ", length(it),
        " layer pairs converged (tol ", hot_fmt(x$descent$tol, digits),
        "), ", min(it), " to ", max(it), " iterations (max_iter ",
        x$descent$max_iter, ")\n", sep = "")
  }

  cat("\nObjective <C, P>: ", hot_fmt(x$objective, digits), "\n", sep = "")
  cat("HOT score:        ", hot_fmt(x$score, digits), sep = "")
  if (x$n_splits > 1L && !is.na(x$score_se)) {
    cat(" (SE ", hot_fmt(x$score_se, digits), " over ", x$n_splits,
        " splits)", sep = "")
  }
  cat("\n")

  cat("\nPer source layer (held-out scores; dominant target and its share):\n")
  layers <- x$layers
  num <- vapply(layers, is.numeric, TRUE) & names(layers) != "units"
  layers[num] <- lapply(layers[num], signif, digits = digits)
  print(layers, row.names = FALSE)

  cat("\nLayer plan as shares of each source layer (L * plan; rows sum to 1):\n")
  shares <- x$plan * nrow(x$plan)
  txt <- formatC(shares, digits = digits, format = "fg")
  txt[shares == 0] <- "."
  txt <- matrix(txt, nrow(shares), dimnames = dimnames(shares))
  print(noquote(txt), right = TRUE)

  b <- x$baselines
  if (!is.null(b)) {
    cat("\nBaselines (held-out scores):\n")
    tab <- c("HOT" = hot_num(x$score),
             "pairwise best" = hot_num(b$pairwise_best),
             "single best" = hot_num(b$single_best),
             "perm-P (mean)" = hot_num(b$perm_p))
    lines <- paste0("  ", formatC(names(tab), width = -14L),
                    hot_fmt(tab, digits))
    lines[4L] <- paste0(lines[4L], "  (p = ", hot_fmt(b$perm_p_value, digits),
                        if (!is.null(x$n_perm))
                          paste0(", ", x$n_perm, " permutations"), ")")
    cat(lines, sep = "\n")
  }

  if (x$n_splits > 1L && !is.null(x$splits)) {
    cat("\nSplits:\n")
    splits <- x$splits
    num <- c("objective", "score", "pairwise_best", "perm_p")
    splits[num] <- lapply(splits[num], signif, digits = digits)
    print(splits, row.names = FALSE)
  }

  cat("\nDropped constant columns: ")
  dropped <- hot_dropped_text(x$dropped)
  if (length(dropped) == 0L) cat("none\n") else cat("\n", dropped, sep = "")

  cat("Units with undefined held-out correlation: ")
  if (NROW(x$undefined) == 0L) {
    cat("none\n")
  } else {
    cat(NROW(x$undefined), "\n")
    by_layer <- split(x$undefined$unit, factor(x$undefined$layer,
                                               levels = unique(x$undefined$layer)))
    for (l in names(by_layer)) {
      cat("  ", l, ": ", hot_index_text(by_layer[[l]]), "\n", sep = "")
    }
  }
  invisible(x)
}

#' Layer plan of a HOT fit as a data frame
#'
#' The layer-to-layer coupling in long form, one row per pair of layers.
#'
#' @param x A `"hot"` object returned by [hot()].
#' @param row.names,optional Ignored (present for compatibility with the
#'   generic).
#' @param ... Ignored.
#' @return A data frame with `L * M` rows and columns `source` and `target`
#'   (factors whose levels keep the layer order), `mass` (the plan entry,
#'   summing to 1 over all rows) and `cost` (the soft-matching cost of the
#'   pair, one minus its soft-matching correlation). Source layers vary
#'   fastest.
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' df <- as.data.frame(fit)
#' df[df$mass > 0, ]
as.data.frame.hot <- function(x, row.names = NULL, optional = FALSE, ...) {
  L <- nrow(x$plan)
  M <- ncol(x$plan)
  source_names <- rownames(x$plan)
  target_names <- colnames(x$plan)
  data.frame(
    source = factor(rep(source_names, times = M), levels = source_names),
    target = factor(rep(target_names, each = L), levels = target_names),
    mass = as.vector(x$plan),
    cost = as.vector(x$cost),
    stringsAsFactors = FALSE
  )
}

#' Reconstruct the source layers from new target-system data
#'
#' Rebuilds every layer of system A from responses of system B to new
#' stimuli, through the fitted layer plan and inner unit plans (SPEC section
#' 2): with `Y~_m` the new target data standardised with the training
#' statistics of the fit,
#' `X^_l = sum_m (L * plan[l, m]) * Y~_m %*% t(n_l * Q_lm)`, and for a HOT+R
#' fit (`rotation = TRUE`) each term is multiplied on the right by `t(R_lm)`,
#' the pair's rotation.
#' Given the fit's own held-out rows, the column-wise correlations of the
#' reconstructions with the held-out source data are the fit's unit scores.
#'
#' @param object A `"hot"` object returned by [hot()].
#' @param newdata A list of the target layers, one numeric matrix (or data
#'   frame) per target layer of the fit, each with the columns it had at fit
#'   time (constant columns that were dropped included) and all with the same
#'   stimuli as rows. If named, the names must be the target layer names (in
#'   any order).
#' @param type `"standardised"` (the default) returns the reconstructions on
#'   the standardised scale of the fit (training-centred columns of unit
#'   norm); `"original"` maps them back to the units of the source data with
#'   each source column's training mean and norm.
#' @param ... Ignored.
#' @return A named list, one matrix per source layer, `nrow(newdata[[1]])`
#'   rows and one column per source unit used in the fit.
#' @seealso [unit_plan()]
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' test_y <- lapply(sim$Y, function(y) y[fit$test, ])
#' rebuilt <- predict(fit, test_y)
#' # held-out correlation of each unit of the first source layer
#' diag(cor(rebuilt$A1, sim$X$A1[fit$test, ]))
predict.hot <- function(object, newdata, type = c("standardised", "original"),
                        ...) {
  type <- match.arg(type)
  if (missing(newdata)) {
    stop("`newdata` is missing: give a list of target layers (new stimuli ",
         "as rows)", call. = FALSE)
  }
  if (is_hot_rotation(object) && !is.list(object$rotation$matrices)) {
    stop("`object` is a rotation-invariant fit without stored rotations; ",
         "predict() cannot rebuild its source layers", call. = FALSE)
  }
  ys <- hot_standardise_newdata(object, newdata)
  plan <- object$plan
  L <- nrow(plan)
  M <- ncol(plan)
  n_source <- as.integer(object$inner$n_source)
  n_rows <- nrow(ys[[1L]])
  out <- vector("list", L)
  for (l in seq_len(L)) {
    acc <- matrix(0, n_rows, n_source[l])
    for (m in seq_len(M)) {
      w <- L * plan[l, m]
      if (w == 0) next
      yq <- hot_pair_product(object, l, m, ys[[m]])
      r <- hot_pair_rotation(object, l, m)
      if (!is.null(r)) yq <- tcrossprod(yq, r)
      acc <- acc + w * n_source[l] * yq
    }
    if (type == "original") {
      st <- hot_layer_stats(object, "source", l)
      acc <- sweep(sweep(acc, 2L, st$scale, "*"), 2L, st$center, "+")
    }
    dn <- list(rownames(ys[[1L]]), hot_unit_names(object, l))
    if (!all(vapply(dn, is.null, TRUE))) dimnames(acc) <- dn
    out[[l]] <- acc
  }
  names(out) <- rownames(plan)
  out
}

#' Inner (unit-level) transport plan of one pair of layers
#'
#' The exact optimal transport plan `Q_lm` between the units of source layer
#' `l` and target layer `m` of a fit, stored sparse.
#'
#' @param fit A fit, such as a `"hot"` object returned by [hot()].
#' @param l Source layer: an index or a layer name.
#' @param m Target layer: an index or a layer name.
#' @param ... Passed to methods.
#' @return A sparse `n_l x n'_m` [Matrix::sparseMatrix()] of the plan:
#'   non-negative, summing to 1, rows summing to `1 / n_l` and columns to
#'   `1 / n'_m`; rows and columns are the units used in the fit (constant
#'   columns dropped).
#' @seealso [predict.hot()]
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' q <- unit_plan(fit, "A1", "B1")
#' dim(q)
#' sum(q)
unit_plan <- function(fit, l, m, ...) {
  UseMethod("unit_plan")
}

#' @rdname unit_plan
#' @export
unit_plan.hot <- function(fit, l, m, ...) {
  l <- hot_layer_index(l, "l", rownames(fit$plan), "source")
  m <- hot_layer_index(m, "m", colnames(fit$plan), "target")
  q <- hot_pair_matrix(fit, l, m)
  src <- hot_unit_names(fit, l)
  tgt <- hot_unit_names(fit, m, "target")
  if (!is.null(src) && !is.null(tgt)) dimnames(q) <- list(src, tgt)
  q
}

#' @rdname unit_plan
#' @export
unit_plan.default <- function(fit, l, m, ...) {
  stop("`fit` must be a fit with inner plans, such as a \"hot\" object ",
       "from hot(), not an object of class ", class(fit)[1L], call. = FALSE)
}

# --- helpers (private) -------------------------------------------------------

hot_fmt <- function(x, digits) {
  if (is.null(x) || length(x) == 0L) return("NA")
  out <- formatC(as.numeric(x), digits = digits, format = "g")
  out[is.na(x)] <- "NA"
  out
}

hot_num <- function(x) {
  if (is.null(x) || length(x) == 0L) NA_real_ else as.numeric(x)[1L]
}

hot_n_splits <- function(x) {
  max(1L, length(x$splits))
}

hot_se_text <- function(x, digits) {
  if (hot_n_splits(x) > 1L && !is.null(x$score_se) && !is.na(x$score_se)) {
    paste0(" (SE ", hot_fmt(x$score_se, digits), ")")
  } else {
    ""
  }
}

hot_widths <- function(x, side, n) {
  w <- x$sizes[[side]]
  if (is.null(w)) {
    w <- x$inner[[if (side == "source") "n_source" else "n_target"]]
  }
  if (is.null(w)) rep(NA_integer_, n) else as.integer(w)
}

hot_width_text <- function(w) {
  paste(paste(names(w), w), collapse = ", ")
}

hot_index_text <- function(i, max_shown = 20L) {
  i <- sort(unique(i))
  txt <- paste(utils::head(i, max_shown), collapse = ", ")
  if (length(i) > max_shown) {
    txt <- paste0(txt, ", ... (", length(i), " in all)")
  }
  txt
}

hot_dropped_text <- function(dropped) {
  out <- character(0)
  for (side in c("source", "target")) {
    d <- dropped[[side]]
    for (k in seq_along(d)) {
      if (length(d[[k]]) > 0L) {
        out <- c(out, paste0("  ", side, " `", names(d)[k], "`: column",
                             if (length(d[[k]]) > 1L) "s", " ",
                             hot_index_text(d[[k]]), "\n"))
      }
    }
  }
  out
}

# index of a layer given by position or name; errors name the argument
hot_layer_index <- function(x, arg, layer_names, side) {
  n <- length(layer_names)
  if (is.character(x) && length(x) == 1L && !is.na(x)) {
    k <- match(x, layer_names)
    if (is.na(k)) {
      stop("`", arg, "` must be a ", side, " layer name, one of ",
           paste0("`", layer_names, "`", collapse = ", "), "; not `", x, "`",
           call. = FALSE)
    }
    return(k)
  }
  if (is.numeric(x) && length(x) == 1L && is.finite(x) && x == round(x) &&
      x >= 1 && x <= n) {
    return(as.integer(x))
  }
  stop("`", arg, "` must be a ", side, " layer index in 1..", n,
       " or a ", side, " layer name", call. = FALSE)
}

# the inner plan of pair (l, m) as a sparse n_l x n'_m Matrix
hot_pair_matrix <- function(x, l, m) {
  e <- hot_pair_entries(x, l, m)
  Matrix::sparseMatrix(i = e$i, j = e$j, x = e$x,
                       dims = c(as.integer(x$inner$n_source[l]),
                                as.integer(x$inner$n_target[m])))
}

# entries of the inner plan of pair (l, m) in the triplet store
hot_pair_entries <- function(x, l, m) {
  inner <- x$inner
  k <- l + (m - 1L) * length(inner$n_source)
  from <- inner$start[k] + 1
  to <- inner$start[k + 1L]
  idx <- if (to >= from) seq.int(from, to) else integer(0)
  list(i = as.integer(inner$i[idx]), j = as.integer(inner$j[idx]),
       x = as.numeric(inner$x[idx]))
}

# ys %*% t(Q_lm) from the triplets, without forming Q_lm: column i of the
# result is sum over entries (i, j, q) of q * ys[, j]
hot_pair_product <- function(x, l, m, ys) {
  e <- hot_pair_entries(x, l, m)
  n_l <- as.integer(x$inner$n_source[l])
  out <- matrix(0, nrow(ys), n_l)
  if (length(e$x) == 0L) return(out)
  weighted <- ys[, e$j, drop = FALSE] * rep(e$x, each = nrow(ys))
  sums <- rowsum(t(weighted), e$i, reorder = TRUE)
  out[, as.integer(rownames(sums))] <- t(sums)
  out
}

# training statistics of one layer restricted to the columns used in the fit
hot_layer_stats <- function(x, side, k) {
  st <- x$standardise[[side]][[k]]
  keep <- as.integer(st$keep)
  width <- if (side == "source") x$inner$n_source[k] else x$inner$n_target[k]
  center <- st$center
  scale <- st$scale
  # statistics may be stored for every column or for the kept ones only
  if (length(center) != width) center <- center[keep]
  if (length(scale) != width) scale <- scale[keep]
  list(center = as.numeric(center), scale = as.numeric(scale), keep = keep,
       n_cols = length(keep) + length(x$dropped[[side]][[k]]))
}

# column names of the units used in the fit, when the fit kept them
hot_unit_names <- function(x, k, side = "source") {
  nm <- names(x$standardise[[side]][[k]]$center)
  width <- if (side == "source") x$inner$n_source[k] else x$inner$n_target[k]
  if (!is.null(nm) && length(nm) != width) {
    nm <- nm[as.integer(x$standardise[[side]][[k]]$keep)]
  }
  nm
}

# validate newdata and standardise it with the target training statistics
hot_standardise_newdata <- function(x, newdata) {
  target_names <- colnames(x$plan)
  M <- length(target_names)
  if (is.data.frame(newdata) || is.matrix(newdata) || !is.list(newdata)) {
    stop("`newdata` must be a list of target layers (one matrix per layer), ",
         "not a ", if (is.data.frame(newdata)) "data frame"
         else if (is.matrix(newdata)) "matrix" else class(newdata)[1L],
         call. = FALSE)
  }
  if (length(newdata) != M) {
    stop("`newdata` must have one element per target layer (", M, "), not ",
         length(newdata), call. = FALSE)
  }
  nm <- names(newdata)
  if (!is.null(nm)) {
    unknown <- setdiff(nm, target_names)
    if (length(unknown) > 0L || anyDuplicated(nm)) {
      bad <- if (length(unknown) > 0L) unknown[1L] else nm[anyDuplicated(nm)]
      stop("`newdata` names must be the target layer names (",
           paste0("`", target_names, "`", collapse = ", "), "); `", bad,
           "` is ", if (length(unknown) > 0L) "not one of them"
           else "duplicated", call. = FALSE)
    }
    newdata <- newdata[target_names]
  }
  n_rows <- NA_integer_
  out <- vector("list", M)
  for (m in seq_len(M)) {
    y <- newdata[[m]]
    layer <- target_names[m]
    if (is.data.frame(y)) {
      if (!all(vapply(y, is.numeric, TRUE))) {
        stop("`newdata` layer `", layer, "` has non-numeric columns",
             call. = FALSE)
      }
      y <- as.matrix(y)
    }
    if (!is.matrix(y) || !is.numeric(y)) {
      stop("`newdata` layer `", layer, "` must be a numeric matrix or data ",
           "frame", call. = FALSE)
    }
    if (is.na(n_rows)) {
      n_rows <- nrow(y)
      if (n_rows < 1L) {
        stop("`newdata` layer `", layer, "` has no rows", call. = FALSE)
      }
    } else if (nrow(y) != n_rows) {
      stop("`newdata` layer `", layer, "` has ", nrow(y), " rows, but layer `",
           target_names[1L], "` has ", n_rows, "; every layer needs the same ",
           "stimuli", call. = FALSE)
    }
    st <- hot_layer_stats(x, "target", m)
    if (ncol(y) != st$n_cols) {
      stop("`newdata` layer `", layer, "` has ", ncol(y), " columns, but ",
           st$n_cols, " at fit time", call. = FALSE)
    }
    if (any(!is.finite(y))) {
      stop("`newdata` layer `", layer, "` contains NA, NaN or infinite values",
           call. = FALSE)
    }
    storage.mode(y) <- "double"
    y <- y[, st$keep, drop = FALSE]
    y <- sweep(sweep(y, 2L, st$center, "-"), 2L, st$scale, "/")
    out[[m]] <- y
  }
  names(out) <- target_names
  out
}
