#' Hierarchical optimal transport between two systems
#'
#' Aligns two systems probed with the same stimuli -- the layers of two
#' networks, regions of interest of two brains, a network against a brain --
#' with hierarchical optimal transport (HOT; Shah and Khosla, 2025).
#'
#' Every unit is centred and scaled to unit norm on the training stimuli.
#' For each pair of layers `(l, m)` the cost between units is the correlation
#' distance `1 - r`, and the exact optimal transport `Q_lm` with uniform
#' masses gives the layer-pair cost `C[l, m]` (one minus the soft-matching
#' correlation). A second exact optimal transport over `C` with uniform
#' masses gives the layer coupling `P` (`plan`): `P[l, m]` is the share of
#' source layer `l` explained by target layer `m`; each row sums to `1/L`,
#' each column to `1/M`. Both levels are solved exactly, so the result is the
#' joint optimum of `sum P[l, m] <Q_lm, K_lm>`.
#'
#' Each source layer is then rebuilt on the held-out stimuli from the target
#' system, `X^_l = sum_m L P[l, m] Y_m (n_l Q_lm)'`, and scored by the mean
#' Pearson correlation of its units with the truth; the HOT `score` is the
#' mean over source layers. The same fit gives the baselines: `pairwise_best`
#' rebuilds each source layer from its cheapest target layer alone (greedy
#' layer-wise matching), `single_best` from the target layer with most of its
#' mass in `P`, and `perm_p` from `P` with its rows randomly permuted (mean
#' over `n_perm` permutations); `perm_p_value` is the permutation p-value of
#' the HOT score against that null, `(1 + #{perm >= score}) / (1 + n_perm)`.
#' When the `L!` row permutations are no more than `n_perm`, all of them are
#' used (the identity among them) and the test is exact: the p-value is the
#' share of permutations scoring at least as high, so it cannot fall below
#' `1 / L!` (e.g. 1/2 for two source layers, 1/24 for four).
#'
#' With `rotation = TRUE` (HOT+R, rotation-invariant HOT), each pair's cost
#' is minimised over rotations too:
#' `C[l, m] = min_{R, Q} sum_ij Q_ij ||(X_l R)_i - y_j||^2 / 2` over
#' orthogonal `n_l x n_l` matrices `R` (reflections included), by
#' block-coordinate descent from `R = I` (so the first step is plain HOT):
#' exact OT for `Q` with `R` fixed, then orthogonal Procrustes for `R` with
#' `Q` fixed (an SVD). The objective never increases; the descent stops when
#' an iteration decreases it by at most `tol` times its value (plus
#' `2^10 * .Machine$double.eps` of round-off), or after `max_iter`
#' iterations (`max_iter = 0` is plain HOT exactly). It is a local method:
#' started from `R = I`, it improves on the plain matching rather than
#' searching all rotations. The reconstruction applies the rotation,
#' `X^_l = sum_m L P[l, m] Y_m (n_l Q_lm)' R_lm'`. The rotations of the
#' pairs with outer mass are kept in `$rotation$matrices` (an `L x M` list
#' matrix, `NULL` for pairs without mass), with the iterations and
#' convergence of every pair in `$rotation$iterations` and
#' `$rotation$converged`. The baselines use the rotations of the pairs they
#' rebuild from (the cheapest pair of each layer; the pairs the permuted
#' plans give mass to): these are recomputed after the outer OT by rerunning
#' the descent, which is deterministic, on those pairs only. With `n_perm > 0`
#' that is nearly every pair, so HOT+R then takes about twice the time of
#' the descent alone; `n_perm = 0` avoids it. See `vignette("rotation")`.
#'
#' @section Memory:
#' `hot()` holds the inputs, one standardised copy of the training rows of
#' every layer, and per thread one cost matrix and solver workspace of the
#' largest layer pair (about `9 * max(n_l * n'_m) + 520 * (n + n')` bytes for
#' the largest widths `n = max(n_l)`, `n' = max(n'_m)`), plus the sparse
#' inner plans (`16 * sum(n_l + n'_m)` bytes over all pairs). With
#' `rotation = TRUE`, each thread also holds the descent's workspace for the
#' largest widths `n = max(n_l)`, `n' = max(n'_m)`: `G`, `R`, the Procrustes
#' matrix, its SVD factors `U` and `V'` (`5 n^2` doubles), `X' Y`
#' (`max(n_l * n'_m)` doubles) and the LAPACK `dgesdd` workspace
#' (`max(3 n^2 + 7 n, 67 n)` doubles), about
#' `8 * (8 n^2 + max(n_l * n'_m) + 80 n + 2 n') + 4 * (10 n + 2 n')` bytes;
#' and the rotations used for scoring are held at once, `8 * n_l^2` bytes
#' each: with `n_perm > 0` nearly every pair's (up to
#' `8 * M * sum(n_l^2)` bytes), otherwise those of at most `2 L + M - 1`
#' pairs. A problem whose need exceeds the available memory is refused
#' before anything is allocated;
#' the option `hotalign.max_memory` (in bytes) sets a lower limit, e.g. on a
#' shared machine.
#'
#' @param X,Y Named lists of numeric matrices, stimuli in rows (the same
#'   stimuli, in the same order, in every layer of both systems), units in
#'   columns. Data frames and integer matrices are converted; see
#'   [as_layers()] to split one voxel matrix by ROI. `X` is the source system
#'   (the one that is rebuilt and scored), `Y` the target.
#' @param rotation `TRUE` for rotation-invariant HOT (HOT+R): every layer
#'   pair is aligned up to an orthogonal transformation of the source units
#'   (see Details).
#' @param test Held-out stimuli: 1-based row indices or a logical vector of
#'   length `nrow`; or a list of such vectors, one per split (user-given
#'   folds, e.g. whole trials or sessions held out together). Overrides
#'   `holdout` and `splits`.
#' @param holdout Fraction of stimuli held out at random, in `[0, 1)`. With
#'   `0` nothing is held out and no score is computed.
#' @param splits Number of random train/test splits; the score, the layer
#'   scores and the baselines are averaged over them, with a standard error.
#'   The plan, costs and inner plans reported are those of the first split.
#' @param seed Random seed for the splits and permutations; `NULL` uses the
#'   current random stream. The caller's random state is left untouched when a
#'   seed is given.
#' @param n_perm Number of row permutations of the plan for the `perm_p`
#'   baseline and p-value (0 to skip).
#' @param constant What to do with units that are constant on the training
#'   stimuli (their correlation is undefined): `"error"` (default) or `"drop"`
#'   them, recording which were dropped in `$dropped`.
#' @param max_iter,tol Iteration limit (a whole number >= 0) and relative
#'   tolerance of the HOT+R descent (ignored without `rotation`).
#' @param threads Number of threads for the inner level, a positive whole
#'   number; see [hot_threads()]. Results do not depend on it.
#' @param progress Show a progress bar for long fits (needs the `cli`
#'   package's progress bars, shown after 2 seconds).
#' @return An object of class `"hot"`: a list with `plan` and `cost` (`L x M`
#'   matrices named by layer), `objective` (`sum(plan * cost)`), `score`,
#'   `layer_scores`, `unit_scores`, `undefined` (units whose held-out
#'   correlation is undefined, left out of the means), `baselines`
#'   (`pairwise_best`, `single_best`, `perm_p`, `perm_p_value`),
#'   `baseline_layer_scores`, `train`, `test`, `rotation` (`FALSE` for plain
#'   HOT; for HOT+R a list with `matrices`, `iterations`, `converged`,
#'   `max_iter` and `tol`, of the first split), `inner` (the inner
#'   plans of all pairs, sparse; see [unit_plan()]), `standardise`,
#'   `dropped`, `sizes`, `splits`, `score_se`, `n_perm`, `perm_test` (how
#'   many permutations the perm-P null used and whether it was exact), `seed`
#'   and `call`.
#' @references Shah, S. and Khosla, M. (2025). Representational alignment
#'   across model layers and brain regions with hierarchical optimal transport.
#'   \doi{10.48550/arXiv.2510.01706}
#' @seealso [summary.hot()], [plot.hot()], [predict.hot()], [unit_plan()],
#'   [soft_matching()], [ot_exact()].
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 100, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1)
#' fit
#' round(fit$plan * length(sim$X), 2)
#'
#' # HOT+R: the target units are a rotation of the source units
#' rot <- qr.Q(qr(matrix(rnorm(64), 8, 8)))
#' x <- matrix(rnorm(80 * 8), 80, 8)
#' y <- x %*% rot + 0.1 * matrix(rnorm(80 * 8), 80, 8)
#' plain <- hot(list(x = x), list(y = y), seed = 1, n_perm = 0, threads = 1)
#' rotated <- hot(list(x = x), list(y = y), rotation = TRUE, seed = 1,
#'                n_perm = 0, threads = 1)
#' c(plain = plain$score, rotation = rotated$score)
hot <- function(X, Y, rotation = FALSE, test = NULL, holdout = 0.2, splits = 1,
                seed = NULL, n_perm = 100, constant = c("error", "drop"),
                max_iter = 100, tol = 1e-8, threads = hot_threads(),
                progress = interactive()) {
  call <- match.call()
  constant <- match.arg(constant)
  rotation <- check_flag(rotation, "rotation")
  X <- check_layers(X, "X")
  Y <- check_layers(Y, "Y")
  n_stimuli <- check_same_stimuli(X, Y)
  holdout <- check_number(holdout, "holdout", 0, 1, upper_open = TRUE)
  splits <- check_count(splits, "splits", 1)
  n_perm <- check_count(n_perm, "n_perm", 0)
  max_iter <- check_count(max_iter, "max_iter", 0)
  tol <- check_number(tol, "tol", 0)
  threads <- check_threads(threads)
  progress <- check_flag(progress, "progress")
  if (!is.null(seed)) seed <- check_seed(seed)
  check_hot_memory(X, Y, n_stimuli, threads, rotation, n_perm)

  fits <- with_seed(seed, {
    folds <- make_splits(n_stimuli, test, holdout, splits)
    lapply(folds, function(f) {
      fit_split(X, Y, f$train, f$test, constant, n_perm, threads, progress,
                rotation, max_iter, tol)
    })
  })
  new_hot(fits, call = call, n_perm = n_perm, seed = seed)
}

# Working memory of hot(), in bytes (see the Memory section of ?hot).
hot_memory_bytes <- function(widths_x, widths_y, n_stimuli, threads) {
  # no outer(): L x M can be huge (46341 x 46341 one-unit layers)
  max_pair <- max(as.double(widths_x)) * max(as.double(widths_y))
  pairs_nnz <- length(widths_y) * sum(as.double(widths_x)) +
    length(widths_x) * sum(as.double(widths_y))
  threads * (9 * max_pair + 520 * (max(widths_x) + max(widths_y))) +
    8 * as.double(n_stimuli) * (sum(as.double(widths_x)) + sum(as.double(widths_y))) +
    16 * pairs_nnz
}

check_hot_memory <- function(X, Y, n_stimuli, threads, rotation = FALSE,
                             n_perm = 0) {
  bytes <- hot_memory_bytes(vapply(X, ncol, 1L), vapply(Y, ncol, 1L), n_stimuli,
                            threads)
  if (rotation) {
    bytes <- bytes + rotation_memory_bytes(vapply(X, ncol, 1L),
                                           vapply(Y, ncol, 1L), threads, n_perm)
  }
  check_memory(bytes, paste0("hot() on `X` (", length(X), " layers) and `Y` (",
                             length(Y), " layers) with ", threads, " thread",
                             if (threads > 1) "s"))
}

# Evaluates `code` with the random seed set, restoring the caller's stream.
with_seed <- function(seed, code) {
  if (is.null(seed)) return(code)
  env <- globalenv()
  old <- if (exists(".Random.seed", envir = env, inherits = FALSE))
    get(".Random.seed", envir = env, inherits = FALSE)
  on.exit(if (is.null(old)) {
    rm(".Random.seed", envir = env)
  } else {
    assign(".Random.seed", old, envir = env)
  })
  set.seed(seed)
  code
}

# Training statistics of every layer; constant columns are an error or dropped.
layer_standardisation <- function(layers, train, constant, arg) {
  Map(function(x, name) {
    st <- .Call(C_ffi_col_stats, x, train)
    dropped <- which(st$constant)
    what <- paste0("layer `", name, "` of `", arg, "`")
    if (length(dropped) == ncol(x)) {
      abort(what, " has only constant columns on the training stimuli")
    }
    if (length(dropped) && constant == "error") {
      labels <- if (is.null(colnames(x))) dropped else colnames(x)[dropped]
      # empty or NA names: the column number
      labels <- ifelse(is.na(labels) | labels == "", paste0("column ", dropped),
                       labels)
      abort(what, " has ", length(dropped), " column",
            if (length(dropped) > 1) "s", " constant on the training stimuli (",
            paste(utils::head(labels, 5), collapse = ", "),
            if (length(dropped) > 5) ", ...",
            "): correlation is undefined; remove ",
            if (length(dropped) > 1) "them" else "it",
            " or use `constant = \"drop\"`")
    }
    list(center = stats::setNames(st$center, colnames(x)),
         scale = stats::setNames(st$scale, colnames(x)),
         keep = setdiff(seq_len(ncol(x)), dropped), dropped = dropped)
  }, layers, names(layers))
}

standardise_layers <- function(layers, rows, stats, threads = 1L) {
  Map(function(x, s) {
    .Call(C_ffi_standardise, x, rows, s$keep, s$center, s$scale, threads)
  }, layers, stats)
}

# One train/test split: inner plans, outer plan, held-out scores, baselines.
fit_split <- function(X, Y, train, test, constant, n_perm, threads, progress,
                      rotation = FALSE, max_iter = 0L, tol = 0) {
  sx <- layer_standardisation(X, train, constant, "X")
  sy <- layer_standardisation(Y, train, constant, "Y")
  Xs <- standardise_layers(X, train, sx, threads)
  Ys <- standardise_layers(Y, train, sy, threads)
  inner <- with_blas_single_thread(with_cost_kernel(
    .Call(C_ffi_inner_plans, Xs, Ys, threads, progress, rotation, max_iter, tol)
  ))
  L <- length(X)
  M <- length(Y)
  if (any(inner$status != 0L)) {
    k <- which(inner$status != 0L)[1]
    pair_failure(inner$status[k], k, names(X), names(Y))
  }
  layer_names <- list(source = names(X), target = names(Y))
  cost <- matrix(inner$cost, L, M, dimnames = layer_names)
  outer <- solve_ot(cost, check_masses(NULL, NULL, L, M), "the layer cost matrix")
  plan <- matrix(0, L, M, dimnames = layer_names)
  plan[cbind(outer$i, outer$j)] <- outer$x
  sizes <- list(source = vapply(sx, function(s) length(s$keep), 1L),
                target = vapply(sy, function(s) length(s$keep), 1L))
  fit <- list(
    plan = plan, cost = cost, objective = outer$cost, train = train,
    test = test,
    inner = list(i = inner$i, j = inner$j, x = inner$x, start = inner$start,
                 n_source = sizes$source, n_target = sizes$target),
    standardise = list(source = lapply(sx, `[`, c("center", "scale", "keep")),
                       target = lapply(sy, `[`, c("center", "scale", "keep"))),
    dropped = list(source = lapply(sx, `[[`, "dropped"),
                   target = lapply(sy, `[[`, "dropped")),
    sizes = sizes
  )
  # the permutations of the perm-P baseline, drawn here so that HOT+R knows
  # which pairs' rotations the scores need
  perms <- if (length(test)) perm_p_permutations(L, n_perm)
  rotations <- NULL
  fit$rotation <- FALSE
  if (rotation) {
    used <- rotation_pairs_used(plan, cost, perms, length(test) > 0L)
    rotations <- pair_rotations(Xs, Ys, inner, used, max_iter, tol, threads,
                                progress, layer_names)
    fit$rotation <- rotation_result(rotations, plan, inner, max_iter, tol)
    rotations <- rotations_for_kernel(rotations, inner$iterations)
  }
  c(fit, score_split(X, Y, fit, sx, sy, test, perms, rotations))
}

# Held-out scores of HOT and of the baselines for one fitted split; `perms`
# are the row permutations of the perm-P baseline, `rotations` the HOT+R
# rotations (see rotations_for_kernel()) or NULL.
score_split <- function(X, Y, fit, sx, sy, test, perms, rotations = NULL) {
  L <- length(X)
  M <- length(Y)
  n_perm <- length(perms)
  if (!length(test)) {
    na_layers <- stats::setNames(rep(NA_real_, L), names(X))
    return(list(score = NA_real_, layer_scores = na_layers, unit_scores = NULL,
                undefined = data.frame(layer = character(0), unit = integer(0)),
                baselines = list(pairwise_best = NA_real_, single_best = NA_real_,
                                 perm_p = NA_real_, perm_p_value = NA_real_),
                baseline_layer_scores = baseline_table(na_layers, na_layers,
                                                       na_layers),
                perm_scores = numeric(0), perm_exact = FALSE))
  }
  Xt <- standardise_layers(X, test, sx)
  Yt <- standardise_layers(Y, test, sy)
  plans <- fit$inner[c("i", "j", "x", "start")]
  unit_scores_of <- function(W) {
    .Call(C_ffi_reconstruct_scores, Xt, Yt, plans, W, rotations)
  }
  layer_means <- function(units) {
    vapply(units, function(r) if (all(is.na(r))) NA_real_ else mean(r, na.rm = TRUE), 0)
  }
  one_hot <- function(target) {
    W <- matrix(0, L, M)
    W[cbind(seq_len(L), target)] <- 1 / L
    W
  }

  units <- unit_scores_of(fit$plan)
  names(units) <- names(X)
  units <- Map(function(r, x, s) {
    stats::setNames(r, if (is.null(colnames(x))) s$keep else colnames(x)[s$keep])
  }, units, X, sx)
  layer_scores <- stats::setNames(layer_means(units), names(X))
  score <- mean(layer_scores, na.rm = TRUE)

  pairwise <- layer_means(unit_scores_of(one_hot(apply(fit$cost, 1, which.min))))
  single <- layer_means(unit_scores_of(one_hot(apply(fit$plan, 1, which.max))))
  perm_layers <- vapply(perms, function(p) {
    layer_means(unit_scores_of(fit$plan[p, , drop = FALSE]))
  }, numeric(L))
  perm_layers <- matrix(perm_layers, nrow = L)
  perm_scores <- colMeans(perm_layers, na.rm = TRUE)
  perm_layer <- if (n_perm) rowMeans(perm_layers, na.rm = TRUE) else rep(NA_real_, L)

  list(
    score = score, layer_scores = layer_scores, unit_scores = units,
    undefined = undefined_units(units, sx),
    baselines = list(
      pairwise_best = mean(pairwise, na.rm = TRUE),
      single_best = mean(single, na.rm = TRUE),
      perm_p = if (n_perm) mean(perm_scores) else NA_real_,
      perm_p_value = perm_p_value(score, perm_scores, exact = attr(perms, "exact"))
    ),
    baseline_layer_scores = baseline_table(pairwise, single, perm_layer,
                                           names(X)),
    perm_scores = perm_scores, perm_exact = isTRUE(attr(perms, "exact"))
  )
}

# The row permutations of the perm-P null. When there are no more than
# `n_perm` of them (L! <= n_perm) all are used, identity included, and the test
# is exact; otherwise `n_perm` are drawn at random.
perm_p_permutations <- function(L, n_perm) {
  if (n_perm > 0 && L <= 8L && factorial(L) <= n_perm) {
    perms <- all_permutations(L)
    return(structure(lapply(seq_len(nrow(perms)), function(k) perms[k, ]),
                     exact = TRUE))
  }
  structure(lapply(seq_len(n_perm), function(k) sample.int(L)), exact = FALSE)
}

all_permutations <- function(L) {
  if (L == 1L) return(matrix(1L, 1L, 1L))
  smaller <- all_permutations(L - 1L)
  do.call(rbind, lapply(seq_len(L), function(first) {
    cbind(first, matrix(setdiff(seq_len(L), first)[smaller], nrow(smaller)))
  }))
}

# Exact: the share of all permutations (the identity among them) scoring at
# least as high. Monte Carlo: (1 + #{perm >= score}) / (1 + n_perm).
perm_p_value <- function(score, perm_scores, exact = FALSE) {
  if (!length(perm_scores) || is.na(score)) return(NA_real_)
  if (isTRUE(exact)) return(mean(perm_scores >= score))
  (1 + sum(perm_scores >= score)) / (1 + length(perm_scores))
}

baseline_table <- function(pairwise, single, perm, layers = names(pairwise)) {
  matrix(c(pairwise, single, perm), ncol = 3L,
         dimnames = list(layers, c("pairwise_best", "single_best", "perm_p")))
}

undefined_units <- function(units, stats) {
  rows <- lapply(names(units), function(l) {
    bad <- which(is.na(units[[l]]))
    data.frame(layer = rep(l, length(bad)), unit = stats[[l]]$keep[bad])
  })
  do.call(rbind, c(rows, list(data.frame(layer = character(0), unit = integer(0)))))
}

# Assembles the "hot" object from the fits of the splits.
new_hot <- function(fits, call, n_perm, seed) {
  first <- fits[[1]]
  K <- length(fits)
  scores <- vapply(fits, `[[`, 0, "score")
  layer_scores <- rowMeans(matrix(vapply(fits, `[[`, first$layer_scores,
                                         "layer_scores"),
                                  ncol = K))
  names(layer_scores) <- names(first$layer_scores)
  baselines <- lapply(c(pairwise_best = "pairwise_best",
                        single_best = "single_best", perm_p = "perm_p"),
                      function(b) mean(vapply(fits, function(f) f$baselines[[b]], 0)))
  # the null of the split-averaged score: permutation k averaged over splits
  perm_scores <- rowMeans(matrix(unlist(lapply(fits, `[[`, "perm_scores")),
                                 ncol = K))
  baselines$perm_p_value <- if (K == 1) first$baselines$perm_p_value else
    perm_p_value(mean(scores), perm_scores, exact = first$perm_exact)
  undefined <- first$undefined
  if (nrow(undefined)) {
    warning("held-out correlation is undefined for ", nrow(undefined),
            " unit", if (nrow(undefined) > 1) "s",
            " (constant on the held-out stimuli, or in their reconstruction); ",
            "they are left out of the layer scores: see `$undefined`",
            call. = FALSE)
  }
  structure(list(
    plan = first$plan, cost = first$cost, objective = first$objective,
    score = mean(scores), layer_scores = layer_scores,
    unit_scores = first$unit_scores, undefined = undefined,
    baselines = baselines,
    baseline_layer_scores = Reduce(`+`, lapply(fits, `[[`,
                                               "baseline_layer_scores")) / K,
    train = first$train, test = first$test, rotation = first$rotation,
    inner = first$inner, standardise = first$standardise,
    dropped = first$dropped, sizes = first$sizes,
    splits = lapply(fits, function(f) {
      f[c("train", "test", "score", "layer_scores", "objective", "plan",
          "baselines")]
    }),
    score_se = if (K > 1) stats::sd(scores) / sqrt(K) else NA_real_,
    n_perm = n_perm,
    perm_test = list(n = length(first$perm_scores), exact = first$perm_exact),
    seed = seed, call = call
  ), class = "hot")
}
