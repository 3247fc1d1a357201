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
#' A unit's held-out correlation is undefined when its held-out responses or
#' its reconstruction are constant; it is then `NA`, left out of the means
#' and listed in `$undefined` (with a warning of class
#' `hotalign_warning_undefined`). One rule decides it, whatever the
#' rounding: a vector `v` is constant when
#' `sqrt(sum((v - mean(v))^2)) <= 1e-10 * B`, with `B` the norm of `v` for
#' the responses and, for a reconstruction `v = sum_k c_k y_k` built from
#' target units `y_k` with weights `c_k`, `B = sum_k |c_k| sqrt(sum(y_k^2))`.
#' Rounding moves `v` by about `n * .Machine$double.eps * B` for `n`
#' held-out stimuli, far below the threshold, so a reconstruction that is
#' constant in exact arithmetic (terms that cancel, or no term at all) is
#' undefined rather than scored from its round-off, while any variation
#' above `1e-10` of the terms' size is scored. The same rule, in the same
#' compiled kernel, decides in the bootstrap of [hot_inference()] (with the
#' norms weighted by the resample) and in
#' `layer_similarity(metric = "linear")` (the terms of a prediction being
#' the target units times their ridge coefficients).
#'
#' With `rotation = TRUE` (HOT+R, rotation-invariant HOT), each pair's cost
#' is minimised over rotations too:
#' `C[l, m] = min_{R, Q} sum_ij Q_ij ||(X_l R)_i - y_j||^2 / 2` over
#' orthogonal `n_l x n_l` matrices `R` (reflections included), by
#' block-coordinate descent from `R = I` (so the first step is plain HOT):
#' exact OT for `Q` with `R` fixed, then orthogonal Procrustes for `R` with
#' `Q` fixed (the polar factor of the Procrustes matrix, from a symmetric
#' eigendecomposition with corrections whose size is measured and must fall
#' below `1e-11`, and from an SVD where it does not, as for nearly singular
#' or rank-deficient matrices; either way the SVD's rotation to round-off).
#' The objective never increases; the descent stops when
#' an iteration decreases it by at most `tol` times its value (plus
#' `2^10 * .Machine$double.eps` of round-off), or after `max_iter`
#' iterations (`max_iter = 0` is plain HOT exactly). An iteration that
#' starts from the plan the current rotation came from (usually the last one)
#' keeps that rotation and its cost matrix instead of recomputing them, which
#' gives the same result to the bit. It is a local method:
#' started from `R = I`, it improves on the plain matching rather than
#' searching all rotations. The reconstruction applies the rotation,
#' `X^_l = sum_m L P[l, m] Y_m (n_l Q_lm)' R_lm'`. The rotations of the
#' pairs with outer mass are kept in `$rotation$matrices` (an `L x M` list
#' matrix, `NULL` for pairs without mass; for a source layer wider than its
#' training stimuli a compact `"hot_compact_rotation"` where that is
#' smaller, see Memory; `as.matrix()` gives its dense matrix), with the iterations and
#' convergence of every pair in `$rotation$iterations` and
#' `$rotation$converged`. The baselines use the rotations of the pairs they
#' rebuild from (the cheapest pair of each layer; the pairs the permuted
#' plans give mass to): no descent runs twice, each pair keeps the sparse
#' plan its final rotation came from and the rotation is recomputed from it
#' after the outer OT by one Procrustes step, bit for bit the descent's.
#' See `vignette("rotation")`.
#'
#' @section Memory:
#' `hot()` holds the inputs; one standardised copy of every layer (the
#' training and the held-out rows); the sparse inner plans of all pairs (at
#' most `n_l + n'_m - 1` entries each); per thread of the pair loop one cost
#' matrix and exact-OT solver workspace of the largest layer pair; and per
#' scoring thread one reconstruction of the widest source layer. A parallel
#' step never uses more threads than it has tasks, so a single layer pair
#' needs one thread's workspace whatever `threads` is. With
#' `rotation = TRUE`, each thread of the pair loop also holds the descent's
#' workspace, reused for recomputing the rotations after the outer OT (a
#' second one only where a source wider than `T` keeps dense rotations,
#' see below). The descent works in the row space of the
#' source (*r* = `min(n_l, T)` dimensions for `T` training stimuli), so a
#' workspace is about `7 n_l r + r n'_m` doubles plus LAPACK's, `O(n_l T)`
#' for a layer wider than its stimuli (fMRI voxels, wide CNN layers) rather
#' than `O(n_l^2)`. Each pair keeps the sparse plan its rotation came from
#' (as many entries as its inner plan), and each source layer wider than
#' `T` its basis (`n_l T` doubles). The rotations used for scoring are held
#' at once during the fit, with `n_perm > 0` possibly every pair's,
#' otherwise those of at most `2 L + M - 1` pairs, in the form the fit keeps
#' them: dense (`n_l x n_l`) where `n_l <= T` or where that is smaller, and
#' otherwise compact (`"hot_compact_rotation"`: Householder factors,
#' `2 n_l r + 3 r` doubles, `O(n_l T)` per pair), applied to the held-out
#' rows and by [predict()] through the factors, never expanded;
#' `as.matrix()` forms the dense matrix of one on demand. For 2 x 2
#' regions of 5000 voxels with 92 stimuli and 2 threads, `rotation = TRUE`
#' needs about 1.4 times the memory of plain HOT (0.61 GiB against 0.44
#' GiB; it was 10.6 GiB with dense workspaces and rotations). The estimate is
#' computed from the sizes of the C
#' workspaces themselves, and a problem whose need exceeds the available
#' memory is refused with an error of class `hotalign_error_memory` before
#' anything is allocated; the option `hotalign.max_memory` (in bytes) sets
#' a lower limit, e.g. on a shared machine.
#'
#' @section Partial transport and noise ceilings:
#' With `unit_mass = s < 1`, every inner problem moves only the share `s` of
#' its units' mass: the exact partial OT of [ot_exact()] (`mass`), so that
#' units without a good counterpart (noisy voxels, units specific to one
#' network) can be left out. `C[l, m]` is then the cost per unit of
#' transported mass, `<K_lm, Q_lm> / s`, comparable to the balanced one.
#' Each source unit is rebuilt from the mass it does send (renormalised per
#' unit: the correlation score does not depend on the scale); a unit that
#' sends less than 1e-6 of its mass under the layer plan is reported in
#' `$unsent` (layer, unit, share sent) and left out of the scores, not scored
#' as zero. With `layer_mass = t < 1` the outer problem moves only the
#' share `t` of the layers' mass, so a layer without a counterpart (a
#' network's classifier head against visual cortex) can be left out:
#' `$layers_without_mass` lists the source and target layers that send or
#' receive none, and the `score` (and the baselines) average over the source
#' layers that send mass; `objective` is `<C, P> / t`. `unit_mass = 1,
#' layer_mass = 1` is plain HOT, bit for bit. The inner problems of a
#' partial fit run in the same parallel pair loop (results do not depend on
#' `threads`), each thread holding besides plain HOT's workspace the
#' augmented `(n + 1) x (n' + 1)` problem (its cost and solver workspace);
#' its scores come from the same reconstruction kernel as plain HOT's (so a
#' partial fit at full mass, e.g. with `reliability` alone, gives plain HOT's
#' plan and scores bit for bit). It does not combine with `rotation` yet.
#'
#' `reliability = list(X = , Y = )` gives each unit's reliability (for
#' example [noise_ceiling()] of repeated measurements; one entry per layer,
#' a numeric vector or a `noise_ceiling()` data frame; either system may be
#' left out). With `min_reliability`, units below it (and those with `NA`
#' reliability) are removed before fitting, recorded in
#' `$reliability_removed` (original column indices per layer). Beside
#' `score`, the fit reports `score_corrected`: each source unit's held-out
#' correlation divided by its noise ceiling, averaged as the score is,
#' \deqn{ceiling_i = \sqrt{rel_{x,i} \; rel_{\hat x, i}},}{ceiling_i = sqrt(rel_x[i] * rel_xhat[i]),}
#' the classical correction for attenuation, where `rel_x[i]` is the
#' reliability of source unit `i` and `rel_xhat[i]` that of its
#' reconstruction `xhat_i = sum_j w_ij y_j`, computed from the target
#' reliabilities as `1 - sum_j w_ij^2 (1 - rel_j) var(y_j) / var(xhat_i)`
#' on the held-out stimuli (noise independent across target units). A
#' system without reliabilities counts as noiseless (`rel = 1`). It corrects
#' for the measurement noise of the two sides at scoring time only; it does
#' NOT correct for the noise's effect on the fitted plans (plans fitted on
#' noisy data are worse than on clean data, so the corrected score tends to
#' fall a little short of the noiseless one), for noise shared across units
#' (the independence assumption), nor for the error of the reliability
#' estimates themselves; units with a reliability <= 0 have no ceiling and
#' are left out of it. Corrected values may exceed 1. `$ceilings` holds the
#' per-unit ceilings and `$score_corrected_se` the standard error over
#' splits.
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
#' @param unit_mass Share of each inner problem's mass to transport, in
#'   `(0, 1]` (see the section on partial transport).
#' @param layer_mass Share of the outer (layer) problem's mass to transport,
#'   in `(0, 1]`.
#' @param reliability `NULL`, or `list(X = , Y = )` of per-unit
#'   reliabilities (see the section): adds `score_corrected`.
#' @param min_reliability `NULL` (keep every unit), or a number: units whose
#'   reliability is below it are removed before fitting.
#' @return An object of class `"hot"`: a list with `plan` and `cost` (`L x M`
#'   matrices named by layer), `objective` (`sum(plan * cost)`), `score`,
#'   `layer_scores`, `unit_scores`, `undefined` (units whose held-out
#'   correlation is undefined, left out of the means), `baselines`
#'   (`pairwise_best`, `single_best`, `perm_p`, `perm_p_value`),
#'   `baseline_layer_scores`, `train`, `test`, `rotation` (`FALSE` for plain
#'   HOT; for HOT+R a list with `matrices`, `iterations`, `converged`,
#'   `max_iter` and `tol`, of the first split), `inner` (the inner
#'   plans of all pairs, sparse; see [unit_plan()]), `standardise`,
#'   `dropped`, `sizes`, `splits` (per split: `train`, `test`, `score`,
#'   `layer_scores`, `objective`, `plan`, `baselines` and its `inner` plans,
#'   `standardise` and `dropped`; with HOT+R, `rotation$splits` holds each
#'   split's rotations), `score_se`, `n_perm`, `perm_test` (how
#'   many permutations the perm-P null used and whether it was exact), `seed`
#'   and `call`. With `unit_mass`, `layer_mass` below 1 or `reliability`,
#'   also `unit_mass`, `layer_mass`, `unsent`, `layers_without_mass`, and with
#'   `reliability` `score_corrected`, `score_corrected_se`,
#'   `layer_scores_corrected`, `ceilings`, `reliability_removed` and
#'   `min_reliability`; the inner plans of a partial fit sum to `unit_mass`.
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
#'
#' # partial HOT: a source layer without a counterpart is left out
#' X <- c(sim$X[1:2], noise = list(matrix(rnorm(100 * 10), 100, 10)))
#' part <- hot(X, sim$Y[1:4], layer_mass = 2 / 3, seed = 1, n_perm = 0,
#'             threads = 1)
#' part$layers_without_mass
#'
#' # noise ceilings from repeated measurements
#' rep4 <- simulate_hierarchy(n_stimuli = 100, source_layers = 2,
#'                            target_layers = 2, source_units = 10,
#'                            target_units = 10, seed = 1, repeats = 4,
#'                            repeat_noise = c(0.2, 2))
#' rel <- lapply(rep4$repeats, function(sys) lapply(sys, noise_ceiling))
#' nc <- hot(rep4$X, rep4$Y, reliability = rel, min_reliability = 0.3,
#'           seed = 1, n_perm = 0, threads = 1)
#' c(score = nc$score, corrected = nc$score_corrected)
hot <- function(X, Y, rotation = FALSE, test = NULL, holdout = 0.2, splits = 1,
                seed = NULL, n_perm = 100, constant = c("error", "drop"),
                max_iter = 100, tol = 1e-8, threads = hot_threads(),
                progress = interactive(), unit_mass = 1, layer_mass = 1,
                reliability = NULL, min_reliability = NULL) {
  hot_fit(prepare_systems(X, Y), rotation = rotation, test = test,
          holdout = holdout, splits = splits, seed = seed, n_perm = n_perm,
          constant = constant, max_iter = max_iter, tol = tol,
          threads = threads, progress = progress, unit_mass = unit_mass,
          layer_mass = layer_mass, reliability = reliability,
          min_reliability = min_reliability, call = match.call())
}

# Systems validated once: checked, named, coerced layers of `X` and `Y` with
# their common number of stimuli. hot() prepares them from user input;
# callers that have checked their layers already (hot_trajectory(),
# hot_many()) wrap them with checked_systems(), and hand either to hot_fit().
prepare_systems <- function(X, Y) {
  checked_systems(check_layers(X, "X"), check_layers(Y, "Y"))
}

checked_systems <- function(X, Y) {
  structure(list(X = X, Y = Y, n_stimuli = check_same_stimuli(X, Y)),
            class = "hot_systems")
}

# The internal fit: hot() on prepared systems (see prepare_systems()), with
# the arguments of hot(); `call` is recorded in the fit.
hot_fit <- function(sys, rotation = FALSE, test = NULL, holdout = 0.2,
                    splits = 1, seed = NULL, n_perm = 100,
                    constant = c("error", "drop"), max_iter = 100, tol = 1e-8,
                    threads = hot_threads(), progress = interactive(),
                    unit_mass = 1, layer_mass = 1, reliability = NULL,
                    min_reliability = NULL, call = NULL) {
  constant <- match.arg(constant)
  rotation <- check_flag(rotation, "rotation")
  holdout <- check_number(holdout, "holdout", 0, 1, upper_open = TRUE)
  splits <- check_count(splits, "splits", 1)
  n_perm <- check_count(n_perm, "n_perm", 0)
  max_iter <- check_count(max_iter, "max_iter", 0)
  tol <- check_number(tol, "tol", 0)
  threads <- check_threads(threads)
  progress <- check_flag(progress, "progress")
  if (!is.null(seed)) seed <- check_seed(seed)
  X <- sys$X
  Y <- sys$Y
  check_hot_memory(X, Y, sys$n_stimuli, threads, rotation, n_perm)
  # partial transport and noise ceilings: R/hot_partial.R
  unit_mass <- check_share(unit_mass, "unit_mass")
  layer_mass <- check_share(layer_mass, "layer_mass")
  rel <- check_reliability(reliability, X, Y)
  if (!is.null(min_reliability)) {
    min_reliability <- check_number(min_reliability, "min_reliability", -1, 1)
    if (is.null(rel)) abort("`min_reliability` needs `reliability`",
                            arg = "min_reliability")
  }
  if (unit_mass < 1 || layer_mass < 1 || !is.null(rel)) {
    if (rotation) {
      abort("`rotation = TRUE` does not combine with `unit_mass`, ",
            "`layer_mass` below 1 or `reliability` yet", arg = "rotation")
    }
    return(hot_partial(X, Y, test, holdout, splits, seed, n_perm, constant,
                       unit_mass, layer_mass, rel, min_reliability, call,
                       threads, progress))
  }

  fits <- with_seed(seed, {
    folds <- make_splits(sys$n_stimuli, test, holdout, splits)
    lapply(folds, function(f) {
      fit_split(X, Y, f$train, f$test, constant, n_perm, threads, progress,
                rotation, max_iter, tol)
    })
  })
  new_hot(fits, call = call, n_perm = n_perm, seed = seed)
}
