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
#' A square problem with equal masses everywhere (`n x n`, `a` and `b`
#' uniform) is an assignment problem: it is solved by a shortest augmenting
#' path (Jonker-Volgenant) assignment solver, whose optimum is the same
#' vertex set and whose duals certify it the same way.
#'
#' @param cost A numeric `n x m` matrix of transport costs (any sign).
#' @param a,b Masses of the rows and of the columns: non-negative, with equal
#'   sums (to a relative 1e-9; `b` is then rescaled to `sum(a)` exactly).
#'   `NULL` means uniform (`1/n`, `1/m`; or uniform with the other's total).
#' @param mass `NULL` (balanced transport, the default) or the total mass
#'   `s` to move, `0 < s <= min(sum(a), sum(b))`: the **partial** problem
#'   \deqn{\min_{Q \ge 0,\ Q 1 \le a,\ Q^\top 1 \le b,\ 1^\top Q 1 = s}
#'   \langle C, Q \rangle,}{min <C, Q> over Q >= 0, Q 1 <= a, Q' 1 <= b,
#'   sum(Q) = s,}
#'   where `a` and `b` may have different sums (`NULL` means uniform with
#'   total 1, or uniform with the other's total). It is solved exactly by the
#'   network simplex on the balanced problem with one dummy row of mass
#'   `sum(b) - s` and one dummy column of mass `sum(a) - s` (dummy arcs cost
#'   0; the dummy-dummy cell costs `2 max|C|`, more than `-min(C)`, so it
#'   carries no mass and the reduction is exact for costs of any sign). A
#'   `mass` within a relative 1e-9 of `min(sum(a), sum(b))` is taken as that
#'   bound; when it equals both sums, the balanced problem is solved as
#'   without `mass` (the same plan and cost, bit for bit).
#' @return An object of class `"ot_plan"`: a list with
#'   \describe{
#'   \item{plan}{the optimal plan, a sparse [Matrix::dgCMatrix-class] `n x m`;}
#'   \item{cost}{the optimal value \eqn{\langle C, F \rangle};}
#'   \item{u, v}{dual potentials: `u[i] + v[j] <= cost[i, j]` for all
#'     pairs, with equality wherever the plan is positive, and
#'     `sum(a * u) + sum(b * v)` equal to the optimal value (they are centred
#'     so that `sum(a * u) == sum(b * v)`);}
#'   \item{iterations}{the solver's work: the number of network-simplex
#'     pivots; for a square problem with equal masses everywhere (solved as
#'     an assignment, see Details) the assignment solver's work units, about
#'     one per row scanned by its searches (plus the simplex pivots in the
#'     rare case it hands over to the simplex). Comparable between runs of
#'     one problem, not between the two solvers.}
#'   }
#'   With `mass`, also `mass` (the mass moved) and `lambda`, and `u`, `v` are
#'   the duals of the partial problem: `u <= 0` (rows), `v <= 0` (columns),
#'   `u[i] + v[j] + lambda <= cost[i, j]` everywhere with equality where the
#'   plan is positive, `u[i] < 0` only for rows that send all their mass,
#'   `v[j] < 0` only for columns that receive all of theirs, and
#'   `sum(a * u) + sum(b * v) + mass * lambda` equal to the optimal value
#'   (`lambda` is the marginal cost of moving more mass).
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
#' # partial transport: move only half of the mass (the cheap diagonal)
#' part <- ot_exact(cost + 1, mass = 0.5)
#' as.matrix(part$plan)
#' part$cost / part$mass  # cost per unit of moved mass
ot_exact <- function(cost, a = NULL, b = NULL, mass = NULL) {
  if (!is.null(mass)) return(ot_exact_partial(cost, a, b, mass))
  ot_exact_priced(cost, a, b, pricing = 0L)
}

# ot_exact() with a choice of pricing rule (tests compare the three).
ot_exact_priced <- function(cost, a, b, pricing) {
  ot_exact_checked(check_cost(cost), a, b, pricing)
}

# ot_exact_priced() on a cost check_cost() has already passed (`checked` is
# its result), so that ot_exact(mass = ) at full mass scans the cost once
ot_exact_checked <- function(checked, a, b, pricing) {
  cost <- checked$cost
  # costs or masses near the double limit: the solver's sums (reduced costs,
  # total mass) would overflow. The problem scaled by powers of two has the
  # same optimal plan, exactly, and its duals and cost scale back exactly.
  cs <- pow2_scale(checked$max_abs)
  ms <- if (is.numeric(a) || is.numeric(b)) pow2_scale(max_abs(c(a, b))) else 1
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

# 1, or the power of two that brings a largest magnitude `big` beyond 2^500
# (about 3e150) to at most 2 (1 for NaN: a non-finite input, refused later)
pow2_scale <- function(big) {
  if (!is.finite(big) || big <= 2^500) return(1)
  2^(ceiling(log2(big)) - 1) # at most 2^1023: 2^1024 overflows
}

# max |x| of a short numeric vector (the masses); NaN when it is not one of
# finite numbers
max_abs <- function(x) {
  if (!is.numeric(x) || !length(x) || anyNA(x) || any(!is.finite(x))) return(NaN)
  max(abs(x))
}

# The "dgCMatrix" of a plan from its 1-based triplets (distinct (i, j), as
# every solver output is), built slot by slot: the same object as
# Matrix::sparseMatrix() gives, without its validity checks, which were a
# third of a small ot_exact() call. Matrix is loaded here, at the first plan,
# not with hotalign: a session that holds its many S4 classes and methods pays
# for them at every garbage collection (a full gc() 135 ms instead of 32 ms).
plan_matrix <- function(i, j, x, dims, dimnames = NULL) {
  o <- order(j, i)
  plan <- methods::new(dgc_class())
  plan@Dim <- as.integer(dims)
  plan@i <- as.integer(i[o]) - 1L
  plan@p <- c(0L, cumsum(tabulate(j, dims[2])))
  plan@x <- as.double(x[o])
  if (!is.null(dimnames)) plan@Dimnames <- dimnames
  plan
}

plan_class <- new.env(parent = emptyenv())
dgc_class <- function() {
  if (is.null(plan_class$def)) {
    plan_class$def <- methods::getClassDef("dgCMatrix", package = "Matrix",
                                           where = asNamespace("Matrix"))
  }
  plan_class$def
}

# The checked double matrix and its largest magnitude max |cost| (from the
# same pass in C as the NA/NaN/Inf check: no n x m temporary in R).
check_cost <- function(cost) {
  if (is.data.frame(cost)) cost <- as.matrix(cost)
  if (!is.matrix(cost) || !(is.numeric(cost) || is.logical(cost))) {
    abort("`cost` must be a numeric matrix, not ", class(cost)[1], arg = "cost")
  }
  if (nrow(cost) == 0L || ncol(cost) == 0L) {
    abort("`cost` must have at least one row and one column, not ",
          nrow(cost), " x ", ncol(cost), arg = "cost")
  }
  if (storage.mode(cost) != "double") storage.mode(cost) <- "double"
  scan <- check_finite(cost, "`cost`", arg = "cost")
  # the solver's workspace, as src/ot_simplex.c sizes it
  check_memory(.Call(C_ffi_ot_workspace, nrow(cost), ncol(cost)), "`cost`")
  list(cost = cost, max_abs = scan[3])
}

# The kernel call shared by ot_exact() and the outer level of hot().
# pricing (for tests): 0 automatic, 1 dense block search only, 2 a candidate
# list that cannot grow, 3 the simplex on square uniform problems too, 4 the
# automatic rule from the star tree (see ot_set_pricing() in src/hotalign.h).
solve_ot <- function(cost, masses, what, pricing = 0L) {
  res <- .Call(C_ffi_ot_exact, cost, masses$a, masses$b, masses$scale, pricing)
  if (res$status != 0L) solver_failure(res$status, what)
  res
}

#' @export
print.ot_plan <- function(x, ...) {
  d <- dim(x$plan)
  cat("<ot_plan> exact optimal transport, ", d[1], " x ", d[2], "\n", sep = "")
  cat("  optimal cost: ", format(x$cost, digits = 10), "\n", sep = "")
  if (!is.null(x$mass)) {
    cat("  partial:      mass ", format(x$mass, digits = 10), " moved\n", sep = "")
  }
  cat("  non-zeros:    ", Matrix::nnzero(x$plan), " (at most ",
      d[1] + d[2] - 1, ")\n", sep = "")
  cat("  iterations:   ", format(x$iterations), "\n", sep = "")
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
  pair <- standardise_pair(A, B)
  K <- .Call(C_ffi_correlation_cost, pair$A, pair$B, cost_kernel_mode())
  if (!is.null(colnames(A)) || !is.null(colnames(B))) {
    dimnames(K) <- list(colnames(A), colnames(B))
  }
  K
}

# Checks two layers and standardises every row of both (all rows train).
# The working memory of what follows, refused before allocating: the
# standardised copies, the cost matrix and (`solver`: soft_matching()) the
# exact OT solver's workspace as src/ot_simplex.c sizes it.
standardise_pair <- function(A, B, solver = FALSE) {
  A <- check_layer(A, "`A`", arg = "A")
  B <- check_layer(B, "`B`", arg = "B")
  if (nrow(A) != nrow(B)) {
    abort("`A` and `B` must have the same stimuli (rows): ", nrow(A), " vs ",
          nrow(B), arg = "B")
  }
  if (nrow(A) < 2L) abort("`A` and `B` need at least 2 stimuli (rows)", arg = "A")
  check_memory(8 * as.double(nrow(A)) * (ncol(A) + ncol(B)) +
                 8 * as.double(ncol(A)) * ncol(B) +
                 if (solver) .Call(C_ffi_ot_workspace, ncol(A), ncol(B)) else 0,
               "`A` and `B`")
  rows <- seq_len(nrow(A))
  list(A = standardise_all(A, rows, "`A`"), B = standardise_all(B, rows, "`B`"))
}

standardise_all <- function(x, rows, what) {
  st <- .Call(C_ffi_col_stats, x, rows)
  if (any(st$constant)) {
    abort(what, " has constant column", if (sum(st$constant) > 1) "s", " ",
          paste(utils::head(which(st$constant), 5), collapse = ", "),
          ": their correlation is undefined", arg = gsub("`", "", what))
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
  # the cost matrix and the solver workspace (standardise_pair() checks them)
  pair <- standardise_pair(A, B, solver = TRUE)
  K <- .Call(C_ffi_correlation_cost, pair$A, pair$B, cost_kernel_mode())
  if (!is.null(colnames(A)) || !is.null(colnames(B))) {
    dimnames(K) <- list(colnames(A), colnames(B))
  }
  res <- solve_ot(K, check_masses(NULL, NULL, nrow(K), ncol(K)),
                  "the unit cost of `A` and `B`")
  plan <- plan_matrix(res$i, res$j, res$x, dim(K), dimnames(K))
  list(correlation = 1 - res$cost, cost = res$cost, plan = plan)
}
