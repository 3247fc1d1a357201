# Slow, obvious, independent references for the exact optimal transport
# solver `ot_exact()`. Pure base R: no package is needed to run them, and none
# of them shares code (or an algorithm) with src/ot_simplex.c.
#
# - ref_simplex_std():           dense two-phase tableau simplex, Bland's rule
# - ref_lp_transport():          the transportation problem through it
# - ref_assignment_bruteforce(): minimum over all permutations (Birkhoff)
# - check_ot_certificate():      optimality certificate of an "ot_plan"

# Dense two-phase tableau simplex for  min c'x  s.t.  A x = rhs, x >= 0.
# Bland's rule (lowest-index entering column, lowest-index leaving basic
# variable among ratio ties) so that degenerate problems cannot cycle.
# `eps` is the zero tolerance on tableau entries and on rhs values; reduced
# costs are compared with `eps * max(1, max|c|)`. Returns list(x, value,
# pivots). Meant for a few dozen variables only.
ref_simplex_std <- function(A, rhs, c, eps = 1e-12, max_pivots = 50000L) {
  A <- as.matrix(A)
  storage.mode(A) <- "double"
  p <- nrow(A)
  nv <- ncol(A)
  stopifnot(length(rhs) == p, length(c) == nv, all(is.finite(c)))
  # make rhs >= 0 so that the artificial basis is feasible
  neg <- rhs < 0
  A[neg, ] <- -A[neg, ]
  rhs[neg] <- -rhs[neg]
  rhs_scale <- max(1, sum(abs(rhs)))

  # tableau: p constraint rows, columns 1..nv real, nv+1..nv+p artificial,
  # last column the right-hand side
  tab <- cbind(A, diag(p), rhs)
  basis <- nv + seq_len(p)
  ncols <- nv + p
  rhs_col <- ncols + 1L
  pivots <- 0L

  pivot <- function(tab, r, k) {
    tab[r, ] <- tab[r, ] / tab[r, k]
    for (i in seq_len(nrow(tab))) {
      if (i != r && tab[i, k] != 0) {
        tab[i, ] <- tab[i, ] - tab[i, k] * tab[r, ]
      }
    }
    # entries that are round-off of zero are zero
    small <- abs(tab[, rhs_col]) < eps * rhs_scale
    tab[small, rhs_col] <- 0
    tab
  }

  # one phase of Bland's-rule simplex over the allowed columns
  run_phase <- function(tab, basis, cost, allowed) {
    cost_tol <- eps * max(1, abs(cost))
    repeat {
      # reduced costs d_j = c_j - c_B' B^-1 A_j, from the current tableau
      d <- cost[seq_len(ncols)] -
        drop(crossprod(cost[basis], tab[, seq_len(ncols), drop = FALSE]))
      cand <- which(allowed & d < -cost_tol)
      if (length(cand) == 0L) break
      k <- cand[1L]                                   # Bland: lowest index
      col <- tab[, k]
      rows <- which(col > eps)
      if (length(rows) == 0L) stop("reference LP is unbounded")
      ratio <- tab[rows, rhs_col] / col[rows]
      best <- min(ratio)
      tied <- rows[ratio <= best + eps * rhs_scale]
      r <- tied[which.min(basis[tied])]               # Bland: lowest basic index
      tab <- pivot(tab, r, k)
      basis[r] <- k
      pivots <<- pivots + 1L
      if (pivots > max_pivots) stop("reference LP: too many pivots")
    }
    list(tab = tab, basis = basis)
  }

  # phase 1: minimise the sum of the artificial variables
  cost1 <- c(rep(0, nv), rep(1, p))
  ph <- run_phase(tab, basis, cost1, rep(TRUE, ncols))
  tab <- ph$tab
  basis <- ph$basis
  infeas <- sum(tab[basis > nv, rhs_col])
  if (infeas > 1e-9 * rhs_scale) stop("reference LP is infeasible")

  # drive the artificials (all at level zero) out of the basis; a row with no
  # real column left is a redundant constraint and is dropped
  keep <- rep(TRUE, p)
  for (r in which(basis > nv)) {
    k <- which(abs(tab[r, seq_len(nv)]) > eps)
    if (length(k)) {
      tab[r, rhs_col] <- 0
      tab <- pivot(tab, r, k[1L])
      basis[r] <- k[1L]
    } else {
      keep[r] <- FALSE
    }
  }
  tab <- tab[keep, , drop = FALSE]
  basis <- basis[keep]

  # phase 2: the real costs; artificial columns may never re-enter
  cost2 <- c(c, rep(0, p))
  ph <- run_phase(tab, basis, cost2, c(rep(TRUE, nv), rep(FALSE, p)))
  x <- numeric(nv)
  x[ph$basis] <- ph$tab[, rhs_col]
  list(x = x, value = sum(c * x), pivots = pivots)
}

# Transportation problem min <C, F>, F >= 0, rowSums(F) = a, colSums(F) = b,
# written out as a plain LP with n * m variables (column-major, as as.vector(C))
# and solved by ref_simplex_std(). Good for n, m <= 6 or so.
# Returns list(cost = optimal value, plan = n x m matrix).
ref_lp_transport <- function(C, a = NULL, b = NULL) {
  C <- as.matrix(C)
  storage.mode(C) <- "double"
  n <- nrow(C)
  m <- ncol(C)
  if (is.null(a)) a <- rep(1 / n, n)
  if (is.null(b)) b <- rep(1 / m, m)
  A <- matrix(0, n + m, n * m)
  for (j in seq_len(m)) {
    for (i in seq_len(n)) {
      k <- i + (j - 1L) * n
      A[i, k] <- 1
      A[n + j, k] <- 1
    }
  }
  sol <- ref_simplex_std(A, c(a, b), as.vector(C))
  plan <- matrix(sol$x, n, m)
  list(cost = sum(C * plan), plan = plan)
}

# All permutations of 1..n as the rows of an n! x n matrix (plain recursion).
ref_permutations <- function(n) {
  if (n == 1L) return(matrix(1L, 1L, 1L))
  sub <- ref_permutations(n - 1L)
  out <- vector("list", n)
  for (first in seq_len(n)) {
    rest <- setdiff(seq_len(n), first)
    out[[first]] <- cbind(first, matrix(rest[sub], nrow(sub)))
  }
  unname(do.call(rbind, out))
}

# min over permutations p of sum_i C[i, p(i)] / n: the value of the optimal
# transport between uniform marginals on a square cost (Birkhoff - von
# Neumann). Square, n <= 7. Returns list(cost, perm).
ref_assignment_bruteforce <- function(C) {
  C <- as.matrix(C)
  n <- nrow(C)
  stopifnot(n == ncol(C), n >= 1L, n <= 7L)
  perms <- ref_permutations(n)
  totals <- vapply(seq_len(nrow(perms)),
                   function(r) sum(C[cbind(seq_len(n), perms[r, ])]),
                   numeric(1))
  best <- which.min(totals)
  list(cost = totals[best] / n, perm = perms[best, ])
}

# Optimality certificate of an "ot_plan" `res` for cost C and marginals a, b:
# primal feasibility, dual feasibility, complementary slackness, strong
# duality and a vertex (at most n + m - 1 stored entries). Marginal sums to
# 1e-12 (times the total mass when it exceeds 1); `tol` is relative to max|C|
# for reduced costs; strong duality is checked to 1e-10 relative.
# All checks are testthat expectations.
check_ot_certificate <- function(C, a = NULL, b = NULL, res, tol = 1e-10) {
  C <- as.matrix(C)
  storage.mode(C) <- "double"
  n <- nrow(C)
  m <- ncol(C)
  if (is.null(a)) a <- rep(1 / n, n)
  if (is.null(b)) b <- rep(1 / m, m)
  scale_c <- max(abs(C))
  if (scale_c == 0) scale_c <- 1
  mass <- max(1, sum(a))

  testthat::expect_s3_class(res, "ot_plan")
  testthat::expect_s4_class(res$plan, "dgCMatrix")
  testthat::expect_identical(dim(res$plan), c(n, m))
  testthat::expect_true(is.numeric(res$u) && length(res$u) == n &&
                          all(is.finite(res$u)))
  testthat::expect_true(is.numeric(res$v) && length(res$v) == m &&
                          all(is.finite(res$v)))
  testthat::expect_true(is.numeric(res$cost) && length(res$cost) == 1L &&
                          is.finite(res$cost))
  plan <- as.matrix(res$plan)
  u <- as.numeric(res$u)
  v <- as.numeric(res$v)

  # primal feasibility
  testthat::expect_gte(min(plan), 0)
  testthat::expect_lte(max(abs(rowSums(plan) - a)), 1e-12 * mass)
  testthat::expect_lte(max(abs(colSums(plan) - b)), 1e-12 * mass)

  # dual feasibility: reduced costs C[i, j] - u[i] - v[j] >= 0
  reduced <- C - outer(u, v, "+")
  testthat::expect_gte(min(reduced), -tol * scale_c)

  # complementary slackness: zero reduced cost wherever flow is carried
  carried <- plan > 0
  testthat::expect_lte(max(abs(reduced[carried])), tol * scale_c)

  # strong duality: primal value == dual value == reported value, relative
  # to the value (floored at 1e-6 of the cost scale, for values near zero)
  primal <- sum(C * plan)
  dual <- sum(a * u) + sum(b * v)
  denom <- max(abs(primal), 1e-6 * scale_c * mass)
  testthat::expect_lte(abs(primal - dual), 1e-10 * denom)
  testthat::expect_lte(abs(primal - res$cost), 1e-10 * denom)

  # a vertex: at most n + m - 1 stored entries (tree arcs)
  testthat::expect_lte(length(res$plan@x), n + m - 1L)
  invisible(NULL)
}
