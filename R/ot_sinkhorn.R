#' Entropic (approximate) optimal transport by log-domain Sinkhorn
#'
#' Solves the entropy-regularised problem
#' \deqn{\min_{P \ge 0,\ P 1 = a,\ P^\top 1 = b} \langle C, P \rangle -
#'   \varepsilon H(P), \qquad H(P) = -\sum_{ij} P_{ij} \log P_{ij},}
#' by Sinkhorn's iterations on the dual potentials, in the log domain (every
#' log-sum-exp is computed with its maximum subtracted), so that small
#' `epsilon` gives neither overflow nor `NaN`. The result is **APPROXIMATE**:
#' a dense plan whose transport cost is above the exact optimum of
#' [ot_exact()] and approaches it as `epsilon -> 0`.
#'
#' Use it where the exact solver is impractical -- widths at which the
#' network simplex, whose work grows faster than `n * m`, takes too long;
#' one Sinkhorn iteration costs `O(n m)` time and the plan `8 n m` bytes --
#' or when a smooth, fully dense plan is wanted. It is not a faster
#' substitute at moderate widths: on the correlation costs of
#' `bench/sinkhorn_vs_exact.R` (1000 x 1000 and 896 x 3072) [ot_exact()] is
#' faster than every useful `epsilon`. For the exact optimum, its sparse
#' vertex plan and its certificate, use [ot_exact()].
#'
#' **Error against the exact optimum.** Let \eqn{P_\varepsilon} be the exact
#' minimiser of the entropic problem, \eqn{S} the total mass and \eqn{OT} the
#' exact optimal cost. Then
#' \deqn{0 \le \langle C, P_\varepsilon \rangle - OT \le \varepsilon S
#'   \min(H(a/S), H(b/S)) \le \varepsilon S \log \min(n, m).}
#' Proof: comparing \eqn{P_\varepsilon} with an exact optimal plan
#' \eqn{P^*} in the entropic objective gives \eqn{\langle C, P_\varepsilon
#' \rangle - OT \le \varepsilon (H(P_\varepsilon) - H(P^*))}; for couplings
#' of mass 1, \eqn{H(P) \le H(a) + H(b)} (subadditivity) and \eqn{H(P) \ge
#' \max(H(a), H(b))} (a conditional entropy is non-negative); for mass
#' \eqn{S}, \eqn{H(S Q) = S H(Q) - S \log S}. With uniform masses the gap
#' is at most `epsilon * log(min(n, m))`, tighter than the often quoted
#' `epsilon * log(n * m)`. The returned plan meets the
#' marginals only to `tol` (see `marginal_error`), so its cost can differ from
#' \eqn{\langle C, P_\varepsilon \rangle} by about `tol * max(abs(cost))`.
#'
#' `epsilon` is absolute, in the units of `cost`: scaling the cost and
#' `epsilon` by the same factor gives the same plan. It should be compared
#' with the spread of the cost's entries: much larger than it, the plan is
#' nearly uniform (`a b'`) and its cost far above the optimum; much smaller,
#' Sinkhorn needs very many iterations (their number grows much faster than
#' `1 / epsilon`). Correlation costs of wide layers lie around 1 with a
#' spread of a few hundredths, where 0.003 to 0.03 are the useful values.
#'
#' Rows of `a` and columns of `b` with zero mass are left out of the
#' iterations: they get zero mass in the plan and the potentials
#' `u[i] = min_j (cost[i, j] - v[j])` (over the columns with mass), and
#' likewise for columns.
#'
#' @param cost A numeric `n x m` matrix of transport costs (finite, any sign).
#' @param a,b Masses of the rows and of the columns, as in [ot_exact()]:
#'   non-negative, equal sums; `NULL` means uniform (`1/n`, `1/m`).
#' @param epsilon The entropic regularisation, in the units of `cost`: a
#'   single finite number > 0. The cost is shifted by its minimum first
#'   (which does not change the plan), and a cost whose spread (maximum
#'   minus minimum) exceeds `1e12 * epsilon` is refused: double precision
#'   cannot represent its entropic plan.
#' @param tol Stopping tolerance (>= 0) on the L1 violation of the column
#'   marginal after a row update (the rows are then exact).
#' @param max_iter Iteration limit, a whole number >= 1; `converged` is
#'   `FALSE` when it stops the iterations.
#' @return An object of class `"ot_sinkhorn"`: a list with
#'   \describe{
#'   \item{plan}{the dense `n x m` entropic plan (dimnames of `cost`);}
#'   \item{cost}{its transport cost `sum(cost * plan)`, an upper estimate of
#'     the exact optimum;}
#'   \item{objective}{`cost - epsilon * H(plan)`, the entropic objective;}
#'   \item{u, v}{the dual potentials: `plan[i, j] = exp((u[i] + v[j] -
#'     cost[i, j]) / epsilon)`, centred as in [ot_exact()] so that
#'     `sum(a * u) == sum(b * v)`;}
#'   \item{iterations}{the number of Sinkhorn iterations (row updates);}
#'   \item{converged}{whether the tolerance was reached: the column
#'     marginals within `tol` and the L1 violation `marginal_error` of the
#'     returned plan within `2 tol` (plus the round-off of its sums);}
#'   \item{marginal_error}{the L1 violation of the row and column marginals,
#'     `sum(abs(rowSums(plan) - a)) + sum(abs(colSums(plan) - b))`;}
#'   \item{epsilon}{the regularisation used.}
#'   }
#' @seealso [ot_exact()] for the exact optimum (sparse plan, certified
#'   duals).
#' @export
#' @examples
#' set.seed(1)
#' cost <- 1 - cor(matrix(rnorm(200), 20, 10), matrix(rnorm(240), 20, 12))
#' approx <- ot_sinkhorn(cost, epsilon = 0.01)
#' approx
#' exact <- ot_exact(cost)
#' # above the exact optimum, by at most epsilon * log(min(n, m))
#' approx$cost - exact$cost
#' 0.01 * log(min(dim(cost)))
ot_sinkhorn <- function(cost, a = NULL, b = NULL, epsilon = 0.01, tol = 1e-9,
                        max_iter = 10000L) {
  cost <- check_cost(cost)$cost
  n <- nrow(cost)
  m <- ncol(cost)
  masses <- check_masses(a, b, n, m)
  a <- masses$a
  b <- masses$b
  if (is.null(masses$scale) || masses$scale != 1) {
    # uniform masses come back in integers (see check_masses())
    a <- rep(1 / n, n)
    b <- rep(1 / m, m)
  }
  if (!is.numeric(epsilon) || length(epsilon) != 1L || !is.finite(epsilon) ||
      epsilon <= 0) {
    abort("`epsilon` must be a single finite number > 0 (in the units of ",
          "`cost`), not ", describe(epsilon))
  }
  epsilon <- as.double(epsilon)
  tol <- check_number(tol, "tol", 0)
  max_iter <- check_count(max_iter, "max_iter", 1)
  rows <- which(a > 0)
  cols <- which(b > 0)
  full <- length(rows) == n && length(cols) == m
  # what the C kernel allocates for the problem on the support (its plan,
  # potentials and scratch, sized by sinkhorn.c), the shifted copy of the
  # cost it is given, and without full support the subset of the cost and
  # the plan at full size
  nr <- length(rows)
  nc <- length(cols)
  check_memory(.Call(C_ffi_sinkhorn_workspace, nr, nc) + 8 * as.double(nr) * nc +
                 if (full) 0 else 8 * (as.double(nr) * nc + as.double(n) * m),
               "`cost`")
  # The potentials carry the size of the costs, and the plan is computed
  # from f + g - cost: its rounding must stay far below epsilon. Shifting
  # the cost by its minimum does not change the plan and removes any
  # constant (1e12 + C); a spread beyond 1e12 epsilon cannot be represented.
  lo <- min(cost)
  spread <- max(cost) - lo
  if (!is.finite(spread) || spread > 1e12 * epsilon) {
    abort("`cost` spans ", format(spread, digits = 3), ", more than 1e12 ",
          "times `epsilon` (", format(epsilon, digits = 3), "): its entropic ",
          "plan cannot be computed in double precision; give a larger ",
          "`epsilon` (in the units of `cost`), or use ot_exact()",
          arg = "cost")
  }
  sub <- if (full) cost - lo else cost[rows, cols, drop = FALSE] - lo
  res <- .Call(C_ffi_sinkhorn, sub, a[rows], b[cols], epsilon, tol, max_iter)
  # back to the given cost: plan = exp((f + lo + g - cost) / epsilon)
  f <- res$f + lo
  g <- res$g
  res$cost <- res$cost + lo * sum(res$plan)
  # centring as in ot_exact(): sum(a * u) == sum(b * v)
  shift <- (sum(b[cols] * g) - sum(a[rows] * f)) / (2 * sum(a))
  f <- f + shift
  g <- g - shift
  if (full) {
    plan <- res$plan
    u <- f
    v <- g
  } else {
    plan <- matrix(0, n, m)
    plan[rows, cols] <- res$plan
    u <- numeric(n)
    v <- numeric(m)
    u[rows] <- f
    v[cols] <- g
    # zero-mass rows/columns: the c-transform over the support
    for (i in setdiff(seq_len(n), rows)) u[i] <- min(cost[i, cols] - g)
    for (j in setdiff(seq_len(m), cols)) v[j] <- min(cost[rows, j] - f)
  }
  dimnames(plan) <- dimnames(cost)
  structure(list(plan = plan, cost = res$cost,
                 objective = res$cost + epsilon * res$plogp,
                 u = u, v = v, iterations = res$iterations,
                 # converged only when the returned plan's marginals hold
                 # (to the tolerance, plus the round-off of summing them)
                 converged = res$converged &&
                   res$row_error + res$col_error <=
                     2 * tol + 64 * .Machine$double.eps * (n + m),
                 marginal_error = res$row_error + res$col_error,
                 epsilon = epsilon),
            class = "ot_sinkhorn")
}

#' @export
print.ot_sinkhorn <- function(x, ...) {
  d <- dim(x$plan)
  cat("<ot_sinkhorn> entropic (approximate) optimal transport, ", d[1], " x ",
      d[2], ", epsilon = ", format(x$epsilon, digits = 6), "\n", sep = "")
  cat("  transport cost: ", format(x$cost, digits = 10),
      " (above the exact optimum)\n", sep = "")
  cat("  marginal error: ", format(x$marginal_error, digits = 3), "\n", sep = "")
  cat("  iterations:     ", format(x$iterations), "\n", sep = "")
  cat("  converged:      ", x$converged, "\n", sep = "")
  cat("  for the exact optimum use ot_exact()\n")
  invisible(x)
}
