# The class "hot_trajectory" of hot_trajectory() (constructor, validator,
# accessor trajectory_fit()) and its S3 methods; the driver is in
# hot_trajectory.R, the checkpoint directories in checkpoint.R.

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
  c <- index_or_name(c, "c", rownames(x$plan), "checkpoint of `A`")
  d <- index_or_name(d, "d", colnames(x$plan), "checkpoint of `B`")
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

# --- helpers of the methods (private) ---------------------------------------

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
