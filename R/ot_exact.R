#' Exact optimal transport between two discrete distributions
#'
#' Solves \deqn{\min_{F \ge 0,\ F 1 = a,\ F^\top 1 = b} \langle C, F \rangle}
#' exactly, by the network simplex method (written in C for this package).
#' The solution is an optimal vertex: at most `n + m - 1` non-zeros, returned
#' as a sparse matrix, with optimal dual potentials that certify it.
#'
#' Uniform masses (`a` and `b` both `NULL`) are solved in integers, so the
#' plan of an `n x n` problem is exactly a permutation divided by `n`.
#' Degenerate problems (ties, integer costs) are handled by keeping the
#' spanning tree strongly feasible, which rules out cycling.
#'
#' @param cost A numeric `n x m` matrix of transport costs (any sign).
#' @param a,b Masses of the rows and of the columns: non-negative, with equal
#'   sums (to a relative 1e-9; `b` is then rescaled to `sum(a)` exactly).
#'   `NULL` means uniform (`1/n`, `1/m`; or uniform with the other's total).
#' @return An object of class `"ot_plan"`: a list with
#'   \describe{
#'   \item{plan}{the optimal plan, a sparse [Matrix::dgCMatrix-class] `n x m`;}
#'   \item{cost}{the optimal value \eqn{\langle C, F \rangle};}
#'   \item{u, v}{dual potentials: `u[i] + v[j] <= cost[i, j]` for all
#'     pairs, with equality wherever the plan is positive, and
#'     `sum(a * u) + sum(b * v)` equal to the optimal value (they are centred
#'     so that `sum(a * u) == sum(b * v)`);}
#'   \item{iterations}{the number of simplex pivots.}
#'   }
#' @seealso [soft_matching()] for the correlation-distance problem between
#'   two layers; [hot()] for whole systems.
#' @export
#' @examples
#' cost <- matrix(c(0, 1, 2,
#'                  1, 0, 1,
#'                  2, 1, 0), 3, 3)
#' res <- ot_exact(cost)
#' res$cost
#' as.matrix(res$plan)
#' # non-uniform masses
#' ot_exact(cost, a = c(0.5, 0.25, 0.25), b = c(0.2, 0.3, 0.5))$cost
ot_exact <- function(cost, a = NULL, b = NULL) {
  ot_exact_priced(cost, a, b, pricing = 0L)
}

# ot_exact() with a choice of pricing rule (tests compare the three).
ot_exact_priced <- function(cost, a, b, pricing) {
  cost <- check_cost(cost)
  # costs or masses near the double limit: the solver's sums (reduced costs,
  # total mass) would overflow. The problem scaled by powers of two has the
  # same optimal plan, exactly, and its duals and cost scale back exactly.
  cs <- pow2_scale(cost)
  ms <- if (is.numeric(a) || is.numeric(b)) pow2_scale(c(a, b)) else 1
  if (cs != 1) cost <- cost / cs
  if (ms != 1) {
    if (is.numeric(a)) a <- a / ms
    if (is.numeric(b)) b <- b / ms
  }
  masses <- check_masses(a, b, nrow(cost), ncol(cost))
  res <- solve_ot(cost, masses, "`cost`", pricing)
  if (cs != 1 || ms != 1) {
    res$x <- res$x * ms
    res$cost <- res$cost * (cs * ms)
    res$u <- res$u * cs
    res$v <- res$v * cs
    if (cs != 1) cost <- cost * cs
  }
  plan <- plan_matrix(res$i, res$j, res$x, dim(cost), dimnames(cost))
  structure(list(plan = plan, cost = res$cost, u = res$u, v = res$v,
                 iterations = res$pivots),
            class = "ot_plan")
}

# 1, or the power of two that brings finite values beyond 2^500 (about
# 3e150) to at most 2 in magnitude
pow2_scale <- function(x) {
  if (!is.numeric(x) || !length(x) || anyNA(x) || any(!is.finite(x))) return(1)
  big <- max(abs(x))
  if (big <= 2^500) return(1)
  2^(ceiling(log2(big)) - 1) # at most 2^1023: 2^1024 overflows
}

# The "dgCMatrix" of a plan from its 1-based triplets (distinct (i, j), as
# every solver output is), built slot by slot: the same object as
# Matrix::sparseMatrix() gives, without its validity checks, which were a
# third of a small ot_exact() call.
plan_matrix <- function(i, j, x, dims, dimnames = NULL) {
  o <- order(j, i)
  plan <- methods::new("dgCMatrix")
  plan@Dim <- as.integer(dims)
  plan@i <- as.integer(i[o]) - 1L
  plan@p <- c(0L, cumsum(tabulate(j, dims[2])))
  plan@x <- as.double(x[o])
  if (!is.null(dimnames)) plan@Dimnames <- dimnames
  plan
}

check_cost <- function(cost) {
  if (is.data.frame(cost)) cost <- as.matrix(cost)
  if (!is.matrix(cost) || !(is.numeric(cost) || is.logical(cost))) {
    abort("`cost` must be a numeric matrix, not ", class(cost)[1])
  }
  if (nrow(cost) == 0L || ncol(cost) == 0L) {
    abort("`cost` must have at least one row and one column, not ",
          nrow(cost), " x ", ncol(cost))
  }
  if (storage.mode(cost) != "double") storage.mode(cost) <- "double"
  check_finite(cost, "`cost`")
  # solver workspace: about 1 byte per arc plus 520 per node
  check_memory(as.double(nrow(cost)) * ncol(cost) + 520 * (nrow(cost) + ncol(cost)),
               "`cost`")
  cost
}

# The kernel call shared by ot_exact() and the outer level of hot().
# pricing (for tests): 0 automatic, 1 dense block search only, 2 a candidate
# list that cannot grow (see ot_set_pricing() in src/hotalign.h).
solve_ot <- function(cost, masses, what, pricing = 0L) {
  res <- .Call(C_ffi_ot_exact, cost, masses$a, masses$b, masses$scale, pricing)
  if (res$status != 0L) {
    abort("the exact OT solver failed on ", what, " (status ", res$status,
          if (res$status == 2L) ": the masses do not balance", ")")
  }
  res
}

#' @export
print.ot_plan <- function(x, ...) {
  d <- dim(x$plan)
  cat("<ot_plan> exact optimal transport, ", d[1], " x ", d[2], "\n", sep = "")
  cat("  optimal cost: ", format(x$cost, digits = 10), "\n", sep = "")
  cat("  non-zeros:    ", Matrix::nnzero(x$plan), " (at most ",
      d[1] + d[2] - 1, ")\n", sep = "")
  cat("  pivots:       ", format(x$iterations), "\n", sep = "")
  invisible(x)
}

#' @rdname ot_exact
#' @param x An `"ot_plan"` object.
#' @param row.names,optional,... Ignored (for the generic).
#' @return `as.data.frame()`: one row per non-zero of the plan, with `row`,
#'   `column` (names when `cost` had dimnames, else indices) and `mass`.
#' @export
as.data.frame.ot_plan <- function(x, row.names = NULL, optional = FALSE, ...) {
  P <- x$plan  # dgCMatrix: the non-zeros column by column
  i <- P@i + 1L
  j <- rep(seq_len(ncol(P)), diff(P@p))
  label <- function(idx, names) if (is.null(names)) idx else names[idx]
  dn <- dimnames(P)
  data.frame(row = label(i, dn[[1]]), column = label(j, dn[[2]]),
             mass = P@x, stringsAsFactors = FALSE)
}

#' Correlation-distance cost between the units of two layers
#'
#' `K[i, j] = 1 - cor(A[, i], B[, j])`, which equals half the squared
#' Euclidean distance between the columns after centring each and scaling it
#' to unit norm. Computed with one BLAS `dgemm`.
#'
#' @param A,B Numeric matrices with the same stimuli in rows.
#' @return A numeric `ncol(A) x ncol(B)` matrix.
#' @export
#' @examples
#' A <- matrix(rnorm(50 * 3), 50, 3)
#' B <- matrix(rnorm(50 * 4), 50, 4)
#' all.equal(correlation_cost(A, B), 1 - cor(A, B))
correlation_cost <- function(A, B) {
  pair <- standardise_pair(A, B, bytes_per_pair = 8)
  K <- with_cost_kernel(.Call(C_ffi_correlation_cost, pair$A, pair$B))
  if (!is.null(colnames(A)) || !is.null(colnames(B))) {
    dimnames(K) <- list(colnames(A), colnames(B))
  }
  K
}

# Checks two layers and standardises every row of both (all rows train).
# `bytes_per_pair`: working memory per unit pair of what follows (the cost
# matrix; soft_matching() adds the solver's), refused before allocating.
standardise_pair <- function(A, B, bytes_per_pair = 8) {
  A <- check_layer(A, "`A`")
  B <- check_layer(B, "`B`")
  if (nrow(A) != nrow(B)) {
    abort("`A` and `B` must have the same stimuli (rows): ", nrow(A), " vs ",
          nrow(B))
  }
  if (nrow(A) < 2L) abort("`A` and `B` need at least 2 stimuli (rows)")
  check_memory(8 * as.double(nrow(A)) * (ncol(A) + ncol(B)) +
                 bytes_per_pair * as.double(ncol(A)) * ncol(B) +
                 60 * (ncol(A) + ncol(B)), "`A` and `B`")
  rows <- seq_len(nrow(A))
  list(A = standardise_all(A, rows, "`A`"), B = standardise_all(B, rows, "`B`"))
}

standardise_all <- function(x, rows, what) {
  st <- .Call(C_ffi_col_stats, x, rows)
  if (any(st$constant)) {
    abort(what, " has constant column", if (sum(st$constant) > 1) "s", " ",
          paste(utils::head(which(st$constant), 5), collapse = ", "),
          ": their correlation is undefined")
  }
  .Call(C_ffi_standardise, x, rows, seq_len(ncol(x)), st$center, st$scale, 1L)
}

#' Soft matching between the units of two layers
#'
#' The soft-matching correlation of Khosla and Williams (2023): the exact OT
#' between the units of `A` and `B` with uniform masses and correlation
#' distance as cost. For layers of equal width the plan is a permutation
#' (divided by the width), otherwise a soft assignment.
#'
#' @inheritParams correlation_cost
#' @return A list with `correlation` (`1 - cost`), `cost` (the optimal
#'   transport cost) and `plan` (a sparse `ncol(A) x ncol(B)` matrix whose
#'   rows sum to `1/ncol(A)` and columns to `1/ncol(B)`).
#' @export
#' @examples
#' A <- matrix(rnorm(100 * 5), 100, 5)
#' B <- A[, 5:1] + 0.1 * matrix(rnorm(100 * 5), 100, 5)
#' sm <- soft_matching(A, B)
#' sm$correlation
#' which(as.matrix(sm$plan) > 0, arr.ind = TRUE)
soft_matching <- function(A, B) {
  # the cost matrix (8 bytes per pair) and the solver workspace (about 9)
  pair <- standardise_pair(A, B, bytes_per_pair = 17)
  K <- with_cost_kernel(.Call(C_ffi_correlation_cost, pair$A, pair$B))
  if (!is.null(colnames(A)) || !is.null(colnames(B))) {
    dimnames(K) <- list(colnames(A), colnames(B))
  }
  res <- solve_ot(K, check_masses(NULL, NULL, nrow(K), ncol(K)),
                  "the unit cost of `A` and `B`")
  plan <- plan_matrix(res$i, res$j, res$x, dim(K), dimnames(K))
  list(correlation = 1 - res$cost, cost = res$cost, plan = plan)
}
