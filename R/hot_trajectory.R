# Three-level HOT over training trajectories: hot_trajectory(), its class
# "hot_trajectory" (constructor, validator, accessor) and its S3 methods.

#' Three-level HOT: align two training trajectories
#'
#' Compares two training runs (or any two ordered series of snapshots of two
#' systems) checkpoint by checkpoint with hierarchical optimal transport, and
#' couples the two trajectories by a third exact optimal transport.
#'
#' For every pair of checkpoints `(c, d)`, [hot()] aligns the layers of
#' checkpoint `c` of `A` (as `X`) with those of checkpoint `d` of `B` (as `Y`);
#' its objective is the checkpoint-pair cost `D[c, d]` (`cost`). The exact
#' optimal transport over `D` with uniform masses gives the checkpoint
#' coupling (`plan`, `C_A x C_B`): every checkpoint of `A` gives mass
#' `1 / C_A`, every checkpoint of `B` receives `1 / C_B`, and `plan[c, d]` is
#' the share of checkpoint `c` matched to checkpoint `d`. The three levels
#' (units, layers, checkpoints) are each solved exactly.
#'
#' All checkpoint pairs share one train/test split of the stimuli: it is drawn
#' once (from `seed`, as [hot()] would) and passed to every fit as `test`, so
#' the costs and held-out scores of all pairs are comparable. Several random
#' splits (`splits` of [hot()]) are therefore not available here.
#'
#' The *diagonal share* reported by [summary.hot_trajectory()] is the mass the
#' plan has in common with the order-preserving coupling of the two
#' trajectories (the north-west-corner coupling of the uniform masses: the
#' identity divided by `C` when `C_A = C_B = C`, where it is `sum(diag(plan))`).
#' It is 1 when checkpoint `k` of one run is matched to the same point in
#' training of the other.
#'
#' @section Memory and time:
#' `C_A * C_B` fits of [hot()] are run one after the other (each in parallel
#' over its layer pairs with `threads`) and all are kept, as [hot()] returns
#' them (inner plans stored sparse); nothing else of size proportional to the
#' data is kept per pair. The checkpoints themselves are checked and coerced
#' once, not once per pair.
#'
#' @param A,B Lists of checkpoints, in training order: `A` the source run,
#'   `B` the target run. Each checkpoint is a list of layers as [hot()] takes
#'   them (numeric matrices, stimuli x units, the same stimuli in every layer
#'   of every checkpoint of both runs). Unnamed checkpoints are named `"A1"`,
#'   `"A2"`, ... and `"B1"`, ...; unnamed layers `"X1"`, ... (in `A`) and
#'   `"Y1"`, ... (in `B`), as [hot()] names them.
#' @param ... Further arguments of [hot()] used for every checkpoint pair,
#'   by name: for example `rotation`, `n_perm`, `constant`, `max_iter`, `tol`
#'   and `threads`.
#' @param test,holdout The held-out stimuli shared by all checkpoint pairs, as
#'   in [hot()]: `test` gives them (1-based row indices or a logical vector;
#'   not a list of folds, which is refused), otherwise a fraction `holdout` of the stimuli is drawn at random once.
#' @param seed Random seed of the split (and of every fit's permutation
#'   baseline, see [hot()]); `NULL` uses the current random stream. The
#'   caller's random state is left untouched when a seed is given.
#' @param checkpoint `NULL`, or a directory in which every finished fit is
#'   written (atomically: a temporary file renamed into place) as soon as it
#'   ends. Rerun the same call with the same directory after an interruption
#'   to resume: the fits found there are read, not refitted, and the result
#'   is identical to that of an uninterrupted run. A directory made with
#'   other checkpoints, settings (anything but `threads` and `progress`) or
#'   `seed` is refused with an error of class `"hotalign_error_checkpoint"`;
#'   with `seed = NULL` a seed is drawn once and recorded in the directory.
#' @param progress Show a progress bar over the checkpoint pairs (the fits
#'   themselves show none).
#' @return An object of class `"hot_trajectory"`: a list with
#'   \describe{
#'   \item{plan}{the checkpoint coupling, a `C_A x C_B` matrix with dimnames
#'     `source` and `target` (the checkpoint names); rows sum to `1 / C_A`,
#'     columns to `1 / C_B`.}
#'   \item{cost}{`D`, the `C_A x C_B` HOT objectives of all checkpoint
#'     pairs.}
#'   \item{scores}{the `C_A x C_B` held-out HOT scores of all checkpoint
#'     pairs (`NA` without held-out stimuli).}
#'   \item{objective}{`sum(plan * cost)`.}
#'   \item{score}{the plan-weighted HOT score, `sum(plan * scores)`.}
#'   \item{fits}{the `"hot"` fits of all checkpoint pairs, a `C_A x C_B`
#'     list-matrix with the same dimnames: `x$fits[[c, d]]` by index or name,
#'     or [trajectory_fit()]. The `call` of each fit is the equivalent call of
#'     [hot()] on the checkpoints, with `test` standing for `x$test`.}
#'   \item{train, test}{the shared training and held-out stimuli (1-based).}
#'   \item{layers}{`list(source, target)`: the number of layers of every
#'     checkpoint.}
#'   \item{rotation}{whether the fits are rotation-invariant (HOT+R).}
#'   \item{warnings}{a data frame (`source`, `target`, `message`) of the
#'     warnings of the fits, which are reported once, together.}
#'   \item{seed, call}{the seed and the call.}
#'   }
#' @references Shah, S. and Khosla, M. (2025). Representational alignment
#'   across model layers and brain regions with hierarchical optimal transport.
#'   \doi{10.48550/arXiv.2510.01706}
#' @seealso [trajectory_fit()], [summary.hot_trajectory()],
#'   [plot.hot_trajectory()], [as.data.frame.hot_trajectory()]; [hot()] for
#'   one pair of systems.
#' @export
#' @examples
#' # three checkpoints of a drifting network (two layers)
#' set.seed(1)
#' drift <- function(x) sqrt(0.5) * (x + matrix(rnorm(length(x)), nrow(x)))
#' run1 <- list(early = list(conv = matrix(rnorm(60 * 8), 60),
#'                           fc = matrix(rnorm(60 * 5), 60)))
#' run1$middle <- lapply(run1$early, drift)
#' run1$late <- lapply(run1$middle, drift)
#' # a second run: the same features, its units in another order, with noise
#' copy <- function(x) {
#'   x[, sample(ncol(x))] + 0.5 * matrix(rnorm(length(x)), nrow(x))
#' }
#' run2 <- lapply(run1, lapply, copy)
#'
#' traj <- hot_trajectory(run1, run2, seed = 1, n_perm = 0, threads = 1,
#'                        progress = FALSE)
#' traj
#' round(traj$cost, 2)
#' traj$plan * 3
#' trajectory_fit(traj, "late", "late")
hot_trajectory <- function(A, B, ..., test = NULL, holdout = 0.2, seed = NULL,
                           checkpoint = NULL, progress = interactive()) {
  call <- match.call()
  dots <- list(...)
  check_trajectory_dots(dots)
  A <- check_checkpoints(A, "A", "X")
  B <- check_checkpoints(B, "B", "Y")
  n_stimuli <- check_trajectory_stimuli(A, B)
  holdout <- check_number(holdout, "holdout", 0, 1, upper_open = TRUE)
  if (!is.null(seed)) seed <- check_seed(seed)
  progress <- check_flag(progress, "progress")
  if (is.list(test)) {
    abort("`test` must be one held-out set (row indices or a logical ",
          "vector), not a list of folds: all checkpoint pairs share one ",
          "train/test split; call hot_trajectory() once per fold", arg = "test")
  }
  # what the fits depend on (not threads or progress)
  ck <- checkpoint_open(checkpoint, "hot_trajectory",
                        list(A = A$checkpoints, B = B$checkpoints,
                             dots = dots[setdiff(names(dots), "threads")],
                             test = test, holdout = holdout), seed)
  if (!is.null(ck)) seed <- ck$seed

  split <- with_seed(seed, make_splits(n_stimuli, test, holdout, 1L))[[1L]]
  # every fit gets the split explicitly; "no held-out stimuli" is holdout = 0
  shared <- if (length(split$test)) list(test = split$test, holdout = holdout)
            else list(test = NULL, holdout = 0)

  CA <- length(A$checkpoints)
  CB <- length(B$checkpoints)
  checkpoint_names <- list(source = names(A$checkpoints),
                           target = names(B$checkpoints))
  fits <- matrix(list(), CA, CB, dimnames = checkpoint_names)
  warned <- list()
  if (progress) {
    cli::cli_progress_bar("Fitting checkpoint pairs", total = CA * CB)
  }
  for (j in seq_len(CB)) {
    for (i in seq_len(CA)) {
      pair <- c(A$labels[[i]], B$labels[[j]])
      key <- sprintf("fit-%d-%d", i, j)
      done <- checkpoint_load(ck, key)
      if (!is.null(done)) {
        fits[[i, j]] <- done$fit
        warned <- c(warned, done$warned)
        if (progress) cli::cli_progress_update()
        next
      }
      n_warned <- length(warned)
      fit <- withCallingHandlers(
        tryCatch(
          hot(A$checkpoints[[i]], B$checkpoints[[j]], test = shared$test,
              holdout = shared$holdout, seed = seed, progress = FALSE, ...),
          error = function(e) {
            abort("hot() failed on checkpoint pair (`", pair[1L], "`, `",
                  pair[2L], "`): ", conditionMessage(e))
          }),
        warning = function(w) {
          warned[[length(warned) + 1L]] <<- data.frame(
            source = checkpoint_names$source[i],
            target = checkpoint_names$target[j],
            message = conditionMessage(w), stringsAsFactors = FALSE)
          invokeRestart("muffleWarning")
        })
      fit$call <- checkpoint_pair_call(call, A$keys[[i]], B$keys[[j]],
                                       has_test = !is.null(shared$test))
      fits[[i, j]] <- fit
      checkpoint_save(ck, key, list(fit = fit,
                                    warned = warned[seq_along(warned) > n_warned]))
      if (progress) cli::cli_progress_update()
    }
  }
  if (progress) cli::cli_progress_done()

  warned <- do.call(rbind, c(warned, list(data.frame(
    source = character(0), target = character(0), message = character(0),
    stringsAsFactors = FALSE))))
  if (nrow(warned)) {
    pairs <- unique(warned[c("source", "target")])
    warning("hot() warned on ", nrow(pairs), " of ", CA * CB,
            " checkpoint pairs, first on (`", warned$source[1L], "`, `",
            warned$target[1L], "`): ", warned$message[1L],
            "; all are in `$warnings`", call. = FALSE)
  }

  cost <- matrix(vapply(fits, function(f) f$objective, 0), CA, CB,
                 dimnames = checkpoint_names)
  scores <- matrix(vapply(fits, function(f) f$score, 0), CA, CB,
                   dimnames = checkpoint_names)
  outer <- solve_ot(cost, check_masses(NULL, NULL, CA, CB),
                    "the checkpoint cost matrix")
  plan <- matrix(0, CA, CB, dimnames = checkpoint_names)
  plan[cbind(outer$i, outer$j)] <- outer$x

  new_hot_trajectory(
    plan = plan, cost = cost, scores = scores, fits = fits,
    train = split$train, test = split$test,
    layers = list(source = lengths(A$checkpoints),
                  target = lengths(B$checkpoints)),
    rotation = is_hot_rotation(fits[[1L]]), warnings = warned,
    seed = seed, call = call
  )
}

# --- the class --------------------------------------------------------------

new_hot_trajectory <- function(plan, cost, scores, fits, train, test, layers,
                               rotation, warnings, seed, call) {
  x <- structure(list(
    plan = plan, cost = cost, scores = scores,
    objective = sum(plan * cost), score = sum(plan * scores),
    fits = fits, train = train, test = test, layers = layers,
    rotation = rotation, warnings = warnings, seed = seed, call = call
  ), class = "hot_trajectory")
  validate_hot_trajectory(x)
}

validate_hot_trajectory <- function(x) {
  d <- dim(x$plan)
  same <- function(m) is.matrix(m) && identical(dim(m), d) &&
    identical(dimnames(m), dimnames(x$plan))
  if (!same(x$cost) || !same(x$scores) || !same(x$fits) || !is.list(x$fits)) {
    abort("a \"hot_trajectory\" needs `plan`, `cost`, `scores` and `fits` ",
          "of the same dimensions and dimnames")
  }
  if (!all(vapply(x$fits, inherits, TRUE, what = "hot"))) {
    abort("every element of `fits` of a \"hot_trajectory\" must be a ",
          "\"hot\" fit")
  }
  if (any(x$plan < 0) ||
      abs(sum(x$plan) - 1) > 1e-9 || !all(is.finite(x$cost))) {
    abort("the `plan` of a \"hot_trajectory\" must be a coupling ",
          "(non-negative, summing to 1) over finite costs")
  }
  x
}

#' The HOT fit of one checkpoint pair of a trajectory
#'
#' Returns the [hot()] fit of checkpoint `c` of `A` against checkpoint `d` of
#' `B` from a [hot_trajectory()]; the same as `x$fits[[c, d]]`, with checked
#' arguments and clear errors.
#'
#' @param x A `"hot_trajectory"` object returned by [hot_trajectory()].
#' @param c A checkpoint of `A`: an index or a checkpoint name.
#' @param d A checkpoint of `B`: an index or a checkpoint name.
#' @return The `"hot"` object of that checkpoint pair; all its methods
#'   ([summary.hot()], [plot.hot()], [unit_plan()], [predict.hot()]) apply.
#' @seealso [hot_trajectory()]
#' @export
#' @examples
#' set.seed(1)
#' drift <- function(x) sqrt(0.5) * (x + matrix(rnorm(length(x)), nrow(x)))
#' run1 <- list(early = list(conv = matrix(rnorm(60 * 8), 60),
#'                           fc = matrix(rnorm(60 * 5), 60)))
#' run1$late <- lapply(run1$early, drift)
#' copy <- function(x) {
#'   x[, sample(ncol(x))] + 0.5 * matrix(rnorm(length(x)), nrow(x))
#' }
#' run2 <- lapply(run1, lapply, copy)
#' traj <- hot_trajectory(run1, run2, seed = 1, n_perm = 0, threads = 1,
#'                        progress = FALSE)
#' fit <- trajectory_fit(traj, "early", 1)
#' fit$plan
#' identical(fit, traj$fits[["early", 1]])
trajectory_fit <- function(x, c, d) {
  if (!inherits(x, "hot_trajectory")) {
    abort("`x` must be a \"hot_trajectory\" object from hot_trajectory(), not ",
          "an object of class ", class(x)[1L])
  }
  c <- checkpoint_index(c, "c", rownames(x$plan), "A")
  d <- checkpoint_index(d, "d", colnames(x$plan), "B")
  x$fits[[c, d]]
}

# --- methods ----------------------------------------------------------------

#' Print and summarise a trajectory alignment
#'
#' `print()` gives a short account of a [hot_trajectory()] fit: the numbers of
#' checkpoints, the objective, the plan-weighted HOT score and the diagonal
#' share. `summary()` gives the full report: the checkpoint plan, the
#' dominant partner of every checkpoint of both runs with its share, cost and
#' score, the checkpoint costs, and the diagonal share (see
#' [hot_trajectory()]).
#'
#' @param x A `"hot_trajectory"` object (for `print`) or a
#'   `"summary.hot_trajectory"` object.
#' @param object A `"hot_trajectory"` object returned by [hot_trajectory()].
#' @param digits Significant digits for the numbers shown.
#' @param ... Ignored.
#' @return `print()` returns `x` invisibly. `summary()` returns an object of
#'   class `"summary.hot_trajectory"`: a list with `call`, `rotation`,
#'   `dims` (numbers of checkpoints), `n_train`, `n_test`, `objective`,
#'   `score`, `diagonal_share`, `plan`, `cost`, `scores`, `source` and
#'   `target` (data frames, one row per checkpoint of `A` and of `B`: its
#'   number of layers, its dominant partner in the other run, the partner's
#'   share of its mass, and the HOT cost and score of that pair) and
#'   `warnings`.
#' @seealso [plot.hot_trajectory()], [as.data.frame.hot_trajectory()]
#' @export
#' @examples
#' set.seed(1)
#' drift <- function(x) sqrt(0.5) * (x + matrix(rnorm(length(x)), nrow(x)))
#' run1 <- list(early = list(conv = matrix(rnorm(60 * 8), 60),
#'                           fc = matrix(rnorm(60 * 5), 60)))
#' run1$middle <- lapply(run1$early, drift)
#' run1$late <- lapply(run1$middle, drift)
#' copy <- function(x) {
#'   x[, sample(ncol(x))] + 0.5 * matrix(rnorm(length(x)), nrow(x))
#' }
#' run2 <- lapply(run1, lapply, copy)
#' traj <- hot_trajectory(run1, run2, seed = 1, n_perm = 0, threads = 1,
#'                        progress = FALSE)
#' print(traj)
#' summary(traj)
print.hot_trajectory <- function(x, digits = max(3L, getOption("digits") - 3L),
                                 ...) {
  digits <- check_digits(digits)
  CA <- nrow(x$plan)
  CB <- ncol(x$plan)
  cat("<hot_trajectory> three-level ",
      if (isTRUE(x$rotation)) "HOT+R" else "HOT", ": ",
      CA, " checkpoint", if (CA != 1L) "s", " of A x ",
      CB, " checkpoint", if (CB != 1L) "s", " of B\n", sep = "")
  cat("  objective ", traj_fmt(x$objective, digits), ";  plan-weighted score ",
      traj_fmt(x$score, digits), " on ", length(x$test),
      " held-out stimuli\n", sep = "")
  cat("  diagonal share ", traj_fmt(diagonal_share(x$plan), digits),
      " (mass on the order-preserving coupling)\n", sep = "")
  invisible(x)
}

#' @rdname print.hot_trajectory
#' @export
summary.hot_trajectory <- function(object, ...) {
  plan <- object$plan
  CA <- nrow(plan)
  CB <- ncol(plan)
  partners <- function(side) {
    by_row <- side == "source"
    own <- if (by_row) rownames(plan) else colnames(plan)
    other <- if (by_row) colnames(plan) else rownames(plan)
    best <- apply(plan, if (by_row) 1L else 2L, which.max)
    idx <- if (by_row) cbind(seq_len(CA), best) else cbind(best, seq_len(CB))
    out <- data.frame(
      checkpoint = own,
      layers = as.integer(object$layers[[side]]),
      partner = other[best],
      share = (if (by_row) CA else CB) * plan[idx],
      cost = object$cost[idx],
      score = object$scores[idx],
      stringsAsFactors = FALSE
    )
    rownames(out) <- NULL
    out
  }
  out <- list(
    call = object$call,
    rotation = isTRUE(object$rotation),
    dims = c(source = CA, target = CB),
    n_train = length(object$train),
    n_test = length(object$test),
    objective = object$objective,
    score = object$score,
    diagonal_share = diagonal_share(plan),
    plan = plan,
    cost = object$cost,
    scores = object$scores,
    source = partners("source"),
    target = partners("target"),
    warnings = object$warnings
  )
  class(out) <- "summary.hot_trajectory"
  out
}

#' @rdname print.hot_trajectory
#' @export
print.summary.hot_trajectory <- function(
    x, digits = max(3L, getOption("digits") - 3L), ...) {
  digits <- check_digits(digits)
  cat("Three-level ", if (x$rotation) "HOT+R" else "HOT",
      ": alignment of two training trajectories\n", sep = "")
  if (!is.null(x$call)) {
    cat("Call: ", paste(deparse(x$call, width.cutoff = 70L),
                        collapse = "\n      "), "\n", sep = "")
  }
  cat("\nCheckpoints: ", x$dims[["source"]], " of A, ", x$dims[["target"]],
      " of B\n", sep = "")
  cat("Stimuli: ", x$n_train, " training, ", x$n_test,
      " held out (the same split for every checkpoint pair)\n", sep = "")
  cat("\nObjective <D, P>:      ", traj_fmt(x$objective, digits), "\n",
      sep = "")
  cat("Plan-weighted score:   ", traj_fmt(x$score, digits), "\n", sep = "")
  cat("Diagonal share:        ", traj_fmt(x$diagonal_share, digits),
      " (mass on the order-preserving coupling)\n", sep = "")

  show_table <- function(tab, title) {
    cat("\n", title, "\n", sep = "")
    num <- c("share", "cost", "score")
    tab[num] <- lapply(tab[num], signif, digits = digits)
    print(tab, row.names = FALSE)
  }
  show_table(x$source, paste("Checkpoints of A (dominant partner in B,",
                             "its share, cost and score):"))
  show_table(x$target, paste("Checkpoints of B (dominant partner in A,",
                             "its share, cost and score):"))

  cat("\nCheckpoint plan as shares of each checkpoint of A",
      "(C_A * plan; rows sum to 1):\n")
  shares <- x$plan * nrow(x$plan)
  txt <- formatC(shares, digits = digits, format = "fg")
  txt[shares == 0] <- "."
  print(noquote(matrix(txt, nrow(shares), dimnames = dimnames(shares))),
        right = TRUE)
  if (max(dim(x$cost)) <= 12L) {
    cat("\nCheckpoint costs (HOT objectives):\n")
    print(signif(x$cost, digits))
  }
  if (NROW(x$warnings)) {
    cat("\nWarnings of the fits: ", NROW(x$warnings), " (see `$warnings`)\n",
        sep = "")
  }
  invisible(x)
}

#' Plot a trajectory alignment
#'
#' Base-graphics heatmaps of a [hot_trajectory()] fit, checkpoints of `A` as
#' rows from top to bottom and checkpoints of `B` as columns:
#' * `type = "plan"` (the default): the checkpoint coupling;
#' * `type = "cost"`: the HOT objective of every checkpoint pair;
#' * `type = "scores"`: the held-out HOT score of every checkpoint pair.
#'
#' @param x A `"hot_trajectory"` object returned by [hot_trajectory()].
#' @param type What to draw: `"plan"`, `"cost"` or `"scores"`.
#' @param main Title; a default that says what is drawn when `NULL`.
#' @param col A palette; by default light to dark for growing mass, dark for
#'   low cost and for high score.
#' @param numbers Write the values in the cells? By default when the matrix
#'   has at most 100 cells.
#' @param digits Significant digits of the values written in the cells.
#' @param diagonal Draw the diagonal of the order-preserving coupling (from
#'   the first checkpoints to the last) as a dashed line?
#' @param ... Further graphical arguments passed to [graphics::image()].
#' @return `x`, invisibly.
#' @seealso [print.hot_trajectory()], [plot.hot()] for a single checkpoint
#'   pair (see [trajectory_fit()]).
#' @export
#' @examples
#' set.seed(1)
#' drift <- function(x) sqrt(0.5) * (x + matrix(rnorm(length(x)), nrow(x)))
#' run1 <- list(early = list(conv = matrix(rnorm(60 * 8), 60),
#'                           fc = matrix(rnorm(60 * 5), 60)))
#' run1$middle <- lapply(run1$early, drift)
#' run1$late <- lapply(run1$middle, drift)
#' copy <- function(x) {
#'   x[, sample(ncol(x))] + 0.5 * matrix(rnorm(length(x)), nrow(x))
#' }
#' run2 <- lapply(run1, lapply, copy)
#' traj <- hot_trajectory(run1, run2, seed = 1, n_perm = 0, threads = 1,
#'                        progress = FALSE)
#' plot(traj)
#' plot(traj, type = "cost")
#' plot(traj, type = "scores")
plot.hot_trajectory <- function(x, type = c("plan", "cost", "scores"),
                                main = NULL, col = NULL, numbers = NULL,
                                digits = 2, diagonal = TRUE, ...) {
  type <- match.arg(type)
  if (!is.null(numbers)) numbers <- check_flag(numbers, "numbers")
  diagonal <- check_flag(diagonal, "diagonal")
  z <- switch(type, plan = x$plan, cost = x$cost, scores = x$scores)
  if (type == "scores" && all(is.na(z))) {
    abort("`x` has no held-out scores (fitted without held-out stimuli): ",
          "use `type = \"plan\"` or `\"cost\"`")
  }
  if (is.null(main)) {
    main <- switch(type, plan = "Checkpoint coupling (HOT plan)",
                   cost = "Checkpoint cost (HOT objective)",
                   scores = "Held-out HOT score")
  }
  if (is.null(col)) {
    col <- switch(type,
                  plan = grDevices::hcl.colors(64L, "YlOrRd", rev = TRUE),
                  cost = grDevices::hcl.colors(64L, "YlGnBu"),
                  scores = grDevices::hcl.colors(64L, "YlGnBu", rev = TRUE))
  }
  if (is.null(numbers)) numbers <- length(z) <= 100L
  hot_plot_heatmap(z, main = main, col = col, numbers = numbers,
                   digits = digits,
                   legend_title = switch(type, plan = "mass", cost = "cost",
                                         scores = "score"),
                   blank_zero = type == "plan", xlab = "checkpoint of B",
                   ylab = "checkpoint of A", diagonal = diagonal, ...)
  invisible(x)
}

#' Checkpoint coupling of a trajectory alignment as a data frame
#'
#' The checkpoint coupling of a [hot_trajectory()] fit in long form, one row
#' per pair of checkpoints.
#'
#' @param x A `"hot_trajectory"` object returned by [hot_trajectory()].
#' @param row.names,optional Ignored (present for compatibility with the
#'   generic).
#' @param ... Ignored.
#' @return A data frame with `C_A * C_B` rows and columns `source` and
#'   `target` (factors whose levels keep the checkpoint order), `mass` (the
#'   plan entry, summing to 1 over all rows), `cost` (the HOT objective of the
#'   pair) and `score` (its held-out HOT score). Checkpoints of `A` vary
#'   fastest.
#' @seealso [as.data.frame.hot()]
#' @export
#' @examples
#' set.seed(1)
#' drift <- function(x) sqrt(0.5) * (x + matrix(rnorm(length(x)), nrow(x)))
#' run1 <- list(early = list(conv = matrix(rnorm(60 * 8), 60),
#'                           fc = matrix(rnorm(60 * 5), 60)))
#' run1$late <- lapply(run1$early, drift)
#' copy <- function(x) {
#'   x[, sample(ncol(x))] + 0.5 * matrix(rnorm(length(x)), nrow(x))
#' }
#' run2 <- lapply(run1, lapply, copy)
#' traj <- hot_trajectory(run1, run2, seed = 1, n_perm = 0, threads = 1,
#'                        progress = FALSE)
#' as.data.frame(traj)
as.data.frame.hot_trajectory <- function(x, row.names = NULL, optional = FALSE,
                                         ...) {
  coupling_long_form(x$plan, cost = x$cost, score = x$scores)
}

# --- helpers (private) ------------------------------------------------------

# `...` of hot_trajectory() must be named arguments of hot() that it may set
check_trajectory_dots <- function(dots) {
  if (!length(dots)) return(invisible())
  nm <- names(dots)
  if (is.null(nm) || any(is.na(nm) | nm == "")) {
    abort("arguments in `...` must be named (they are passed to hot())")
  }
  if ("splits" %in% nm) {
    abort("`splits` is not available in hot_trajectory(): all checkpoint ",
          "pairs share one train/test split; choose it with `test`, or ",
          "`holdout` and `seed`")
  }
  own <- c("X", "Y")
  allowed <- setdiff(names(formals(hot)), own)
  bad <- setdiff(nm, allowed)
  if (length(bad)) {
    abort("`...` must hold arguments of hot() other than `X` and `Y` ",
          "(the checkpoints of `A` and `B`); not ",
          paste0("`", bad, "`", collapse = ", "))
  }
  if (anyDuplicated(nm)) {
    abort("`...` has duplicated argument `", nm[anyDuplicated(nm)], "`")
  }
  invisible()
}

# A run: a list of checkpoints, each a list of layers. Returns the checked
# checkpoints (named), how messages refer to them (`A[[2]]`, `A[["late"]]`)
# and the keys that index them in the caller's list (2, "late").
check_checkpoints <- function(x, arg, layer_prefix) {
  if (is.data.frame(x) || is.matrix(x) || !is.list(x)) {
    abort("`", arg, "` must be a list of checkpoints (each a list of layers), ",
          "not a ", class(x)[1L])
  }
  if (length(x) == 0L) {
    abort("`", arg, "` is an empty list: it needs at least one checkpoint")
  }
  is_layer <- function(el) {
    is.matrix(el) || is.data.frame(el) || (is.atomic(el) && is.numeric(el))
  }
  if (all(vapply(x, is_layer, TRUE))) {
    abort("`", arg, "` must be a list of checkpoints, each a list of layers; ",
          "it looks like a single checkpoint (a list of matrices): wrap it as ",
          "list(", arg, ")")
  }
  given <- names(x)
  if (is.null(given)) given <- rep("", length(x))
  unnamed <- is.na(given) | given == ""
  nm <- ifelse(unnamed, paste0(arg, seq_along(x)), given)
  if (anyDuplicated(nm)) {
    abort("`", arg, "` has duplicated checkpoint names: ",
          paste0("`", unique(nm[duplicated(nm)]), "`", collapse = ", "))
  }
  labels <- ifelse(unnamed, sprintf("%s[[%d]]", arg, seq_along(x)),
                   sprintf("%s[[\"%s\"]]", arg, nm))
  checkpoints <- Map(function(ck, label) {
    check_layers(name_layers(ck, layer_prefix), label)
  }, x, labels)
  names(checkpoints) <- nm
  names(labels) <- nm
  # how the caller's list is indexed: by name, or by position when unnamed
  keys <- lapply(seq_along(x), function(k) if (unnamed[k]) k else nm[k])
  list(checkpoints = checkpoints, labels = labels, keys = keys)
}

# unnamed layers get the names hot() would give them
name_layers <- function(ck, prefix) {
  if (!is.list(ck) || is.data.frame(ck) || length(ck) == 0L) return(ck)
  nm <- names(ck)
  if (is.null(nm)) nm <- rep("", length(ck))
  empty <- is.na(nm) | nm == ""
  nm[empty] <- paste0(prefix, seq_along(ck))[empty]
  names(ck) <- nm
  ck
}

# every checkpoint of both runs has the same stimuli (rows)
check_trajectory_stimuli <- function(A, B) {
  rows <- c(vapply(A$checkpoints, function(ck) nrow(ck[[1L]]), 1L),
            vapply(B$checkpoints, function(ck) nrow(ck[[1L]]), 1L))
  labels <- c(A$labels, B$labels)
  if (any(rows != rows[1L])) {
    k <- which(rows != rows[1L])[1L]
    abort("all checkpoints of `A` and `B` must have the same stimuli (rows): ",
          "`", labels[1L], "` has ", rows[1L], ", `", labels[k], "` has ",
          rows[k])
  }
  rows[1L]
}

# The call of hot() equivalent to one checkpoint pair's fit, built from the
# call of hot_trajectory() (`test` stands for the trajectory's `$test`). A
# run is referred to by the caller's expression when that is small (a symbol
# or a short call; not data inlined by do.call()), else as `A` / `B`; a
# checkpoint by its name, or by its index when it had none.
checkpoint_pair_call <- function(call, a_key, b_key, has_test) {
  args <- as.list(call)[-1L]
  run_expr <- function(e, default) {
    small <- is.symbol(e) || (is.call(e) && utils::object.size(e) < 2048)
    if (small) e else as.symbol(default)
  }
  a <- run_expr(args$A, "A")
  b <- run_expr(args$B, "B")
  args[c("A", "B", "test", "holdout", "progress", "checkpoint")] <- NULL
  split <- if (has_test) list(test = quote(test)) else list(holdout = 0)
  as.call(c(list(quote(hot), X = call("[[", a, a_key),
                 Y = call("[[", b, b_key)), split, args))
}

# index of a checkpoint given by position or name; errors name the argument
checkpoint_index <- function(x, arg, checkpoint_names, run) {
  n <- length(checkpoint_names)
  if (is.character(x) && length(x) == 1L && !is.na(x)) {
    k <- match(x, checkpoint_names)
    if (is.na(k)) {
      abort("`", arg, "` must be a checkpoint of `", run, "`: one of ",
            paste0("`", utils::head(checkpoint_names, 10L), "`",
                   collapse = ", "),
            if (n > 10L) ", ...", "; not `", x, "`")
    }
    return(k)
  }
  if (is.numeric(x) && length(x) == 1L && is.finite(x) && x == round(x) &&
      x >= 1 && x <= n) {
    return(as.integer(x))
  }
  abort("`", arg, "` must be a checkpoint of `", run, "`: an index in 1..", n,
        " or a checkpoint name, not ", describe(x))
}

# Mass shared with the order-preserving coupling of the uniform masses;
# sum(diag(plan)) for a square plan. That coupling is the unique optimum of
# the strictly convex cost (i m - j n)^2 (the quantile coupling of two
# uniform measures on the line), which the exact solver finds: integer
# costs and masses (row masses m, column masses n, flows scaled by
# 1 / (n m)), so no round-off can break the uniqueness.
diagonal_share <- function(plan) {
  n <- nrow(plan)
  m <- ncol(plan)
  order_cost <- outer(seq_len(n) * as.double(m), seq_len(m) * as.double(n),
                      "-")^2
  order <- solve_ot(order_cost, check_masses(NULL, NULL, n, m),
                    "the order-preserving coupling")
  order_plan <- matrix(0, n, m)
  order_plan[cbind(order$i, order$j)] <- order$x
  sum(pmin(plan, order_plan))
}

traj_fmt <- function(x, digits) trimws(hot_fmt(x, digits))
