# ot_exact(mass = s): exact partial OT, checked against two independent LPs
# (the Bland-rule tableau simplex of helper-references.R and lpSolve), POT's
# partial_wasserstein when python3 and POT are there, and the optimality
# certificate of the partial problem.

# ---- references ---------------------------------------------------------------

# min <C, Q>, Q >= 0, Q 1 <= a, Q' 1 <= b, sum Q = s as an equality-form LP
# with slacks (n m + n + m variables), solved by ref_simplex_std()
ref_partial_bland <- function(C, a, b, s) {
  n <- nrow(C)
  m <- ncol(C)
  nv <- n * m + n + m
  A <- matrix(0, n + m + 1, nv)
  for (j in seq_len(m)) {
    for (i in seq_len(n)) {
      k <- i + (j - 1L) * n
      A[i, k] <- 1
      A[n + j, k] <- 1
      A[n + m + 1, k] <- 1
    }
  }
  A[cbind(seq_len(n), n * m + seq_len(n))] <- 1
  A[cbind(n + seq_len(m), n * m + n + seq_len(m))] <- 1
  sol <- ref_simplex_std(A, c(a, b, s), c(as.vector(C), rep(0, n + m)))
  plan <- matrix(sol$x[seq_len(n * m)], n, m)
  list(cost = sum(C * plan), plan = plan)
}

ref_partial_lpsolve <- function(C, a, b, s) {
  n <- nrow(C)
  m <- ncol(C)
  con <- matrix(0, n + m + 1, n * m)
  for (j in seq_len(m)) {
    for (i in seq_len(n)) {
      k <- i + (j - 1L) * n
      con[c(i, n + j, n + m + 1), k] <- 1
    }
  }
  sol <- lpSolve::lp("min", as.vector(C), con,
                     c(rep("<=", n + m), "="), c(a, b, s))
  stopifnot(sol$status == 0)
  sol$objval
}

# the certificate of the partial problem: primal feasibility (Q >= 0,
# Q 1 <= a, Q' 1 <= b, sum Q = s), dual feasibility (u <= 0, v <= 0,
# u_i + v_j + lambda <= C_ij), complementary slackness (equality on the
# support; u_i < 0 only on saturated rows, v_j < 0 only on saturated
# columns), strong duality, and a vertex (at most n + m + 1 entries)
check_partial_certificate <- function(C, a, b, s, res, tol = 1e-10) {
  n <- nrow(C)
  m <- ncol(C)
  scale_c <- max(abs(C), 1e-300)
  if (scale_c == 1e-300) scale_c <- 1
  mass <- max(1, sum(a), sum(b))
  P <- as.matrix(res$plan)
  expect_s3_class(res, "ot_plan")
  expect_identical(dim(P), c(n, m))
  expect_gte(min(P), 0)
  expect_lte(max(rowSums(P) - a), 1e-12 * mass)
  expect_lte(max(colSums(P) - b), 1e-12 * mass)
  expect_lte(abs(sum(P) - s), 1e-12 * mass)
  expect_equal(res$mass, s)
  u <- res$u
  v <- res$v
  lam <- res$lambda
  expect_true(all(is.finite(c(u, v, lam))))
  expect_lte(max(u), tol * scale_c)
  expect_lte(max(v), tol * scale_c)
  reduced <- C - outer(u, v, "+") - lam
  expect_gte(min(reduced), -tol * scale_c)
  expect_lte(max(abs(reduced[P > 0]), 0), tol * scale_c)
  # a row with u_i < 0 (beyond round-off) sends all of a_i
  short_row <- a - rowSums(P) > 1e-12 * mass
  expect_true(all(u[short_row] >= -tol * scale_c))
  short_col <- b - colSums(P) > 1e-12 * mass
  expect_true(all(v[short_col] >= -tol * scale_c))
  primal <- sum(C * P)
  dual <- sum(a * u) + sum(b * v) + s * lam
  denom <- max(abs(primal), 1e-6 * scale_c * mass)
  expect_lte(abs(primal - dual), 1e-10 * denom)
  expect_lte(abs(primal - res$cost), 1e-12 * denom)
  expect_lte(length(res$plan@x), n + m + 1L)
  invisible(NULL)
}

rand_mass <- function(k, total = 1, zeros = 0L) {
  x <- stats::runif(k, 0.1, 1)
  if (zeros > 0L) x[sample.int(k, zeros)] <- 0
  total * x / sum(x)
}

# ---- against the references ------------------------------------------------------

test_that("partial ot_exact() matches the Bland-rule LP and lpSolve to 1e-9", {
  skip_if_not_installed("lpSolve")
  set.seed(131)
  for (rep in 1:40) {
    n <- sample(1:6, 1)
    m <- sample(1:6, 1)
    C <- matrix(stats::rnorm(n * m), n, m)  # costs of both signs
    if (rep %% 4 == 0) C <- C + 3            # all positive
    if (rep %% 4 == 1) C <- C - 3            # all negative
    if (rep %% 5 == 0) C <- round(C)         # ties, degeneracy
    a <- rand_mass(n, stats::runif(1, 0.5, 2))
    b <- rand_mass(m, stats::runif(1, 0.5, 2))
    s <- stats::runif(1, 0.05, 1) * min(sum(a), sum(b))
    res <- ot_exact(C, a, b, mass = s)
    bland <- ref_partial_bland(C, a, b, s)
    lps <- ref_partial_lpsolve(C, a, b, s)
    expect_lte(abs(res$cost - bland$cost), 1e-9 * max(1, abs(bland$cost)))
    expect_lte(abs(res$cost - lps), 1e-9 * max(1, abs(lps)))
    check_partial_certificate(C, a, b, s, res)
  }
})

test_that("partial ot_exact() is exact on larger problems (lpSolve, certificate)", {
  skip_if_not_installed("lpSolve")
  set.seed(132)
  for (rep in 1:4) {
    n <- sample(15:25, 1)
    m <- sample(15:25, 1)
    C <- matrix(stats::runif(n * m, -1, 2), n, m)
    a <- rand_mass(n, 1, zeros = 2)
    b <- rand_mass(m, 1.3)
    s <- c(0.2, 0.5, 0.9, 0.999)[rep]
    res <- ot_exact(C, a, b, mass = s)
    lps <- ref_partial_lpsolve(C, a, b, s)
    expect_lte(abs(res$cost - lps), 1e-9 * max(1, abs(lps)))
    check_partial_certificate(C, a, b, s, res)
  }
})

test_that("the certificate rejects a feasible but suboptimal partial plan", {
  C <- matrix(c(0, 5, 5, 1), 2, 2)
  a <- b <- c(0.5, 0.5)
  res <- ot_exact(C, a, b, mass = 0.5)
  # the optimum moves 0.5 along the zero-cost cell
  expect_equal(as.matrix(res$plan), matrix(c(0.5, 0, 0, 0), 2, 2))
  bad <- res
  bad$plan <- Matrix::Matrix(matrix(c(0.25, 0, 0, 0.25), 2, 2), sparse = TRUE)
  bad$cost <- 0.25
  failures <- 0L
  withCallingHandlers(
    check_partial_certificate(C, a, b, 0.5, bad),
    expectation = function(e) {
      if (!inherits(e, "expectation_success")) failures <<- failures + 1L
      invokeRestart("continue_test")
    })
  expect_gt(failures, 0L)
})

test_that("partial ot_exact() agrees with POT's partial_wasserstein", {
  py <- python_with("ot.partial")
  skip_if(!nzchar(py), "no Python with POT (python3-pot)")
  set.seed(133)
  n <- 7
  m <- 9
  C <- matrix(stats::runif(n * m), n, m)
  a <- rand_mass(n, 1)
  b <- rand_mass(m, 0.8)
  s <- 0.55
  dir <- tempfile("pot")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  utils::write.table(C, file.path(dir, "C.txt"), row.names = FALSE, col.names = FALSE)
  writeLines(format(a, digits = 17), file.path(dir, "a.txt"))
  writeLines(format(b, digits = 17), file.path(dir, "b.txt"))
  script <- file.path(dir, "pot.py")
  writeLines(c(
    "import sys, numpy as np, ot.partial",
    "d = sys.argv[1]",
    "C = np.loadtxt(d + '/C.txt', ndmin=2)",
    "a = np.loadtxt(d + '/a.txt', ndmin=1); b = np.loadtxt(d + '/b.txt', ndmin=1)",
    "G = ot.partial.partial_wasserstein(a, b, C, m=float(sys.argv[2]))",
    "print(repr(float(np.sum(G * C))))"), script)
  out <- system2(py, c(script, dir, "0.55"), stdout = TRUE)
  pot <- as.numeric(utils::tail(out, 1))
  res <- ot_exact(C, a, b, mass = s)
  expect_lte(abs(res$cost - pot), 1e-9)
})

# ---- the balanced case and edge cases ----------------------------------------------

test_that("mass = min(sum a, sum b) with equal sums is balanced ot_exact() bit for bit", {
  set.seed(134)
  C <- matrix(stats::rnorm(8 * 6), 8, 6)
  full <- ot_exact(C)
  part <- ot_exact(C, mass = 1)
  expect_identical(part$plan, full$plan)
  expect_identical(part$cost, full$cost)
  expect_identical(part$iterations, full$iterations)
  # the cost is checked (its NA/NaN/Inf and magnitude scan) once, not again
  # by the balanced solve
  env <- counting_namespace()
  invisible(env$ot_exact(C, mass = 1))
  expect_identical(sum(env$calls == "ffi_nonfinite"), 1L)
  expect_identical(sum(env$calls == "ffi_ot_exact"), 1L)
  a <- rand_mass(8)
  b <- rand_mass(6)
  full <- ot_exact(C, a, b)
  part <- ot_exact(C, a, b, mass = 1)
  expect_identical(part$plan, full$plan)
  expect_identical(part$cost, full$cost)
  # its duals are the balanced ones in the partial sign convention
  check_partial_certificate(C, a, b * sum(a) / sum(b), sum(a), part)
})

test_that("partial ot_exact() edge cases: tiny s, s at the bound, unequal sums, one row, zero masses", {
  skip_if_not_installed("lpSolve")
  set.seed(135)
  C <- matrix(stats::runif(5 * 4, -1, 1), 5, 4)
  a <- rand_mass(5, 1)
  b <- rand_mass(4, 2)
  # tiny s: all of it on the cheapest cell that can take it
  res <- ot_exact(C, a, b, mass = 1e-9)
  check_partial_certificate(C, a, b, 1e-9, res)
  # flows come from balances of the augmented masses (total sum(a) + sum(b)),
  # so a tiny plan is exact to about 1e-16 of that total, absolutely
  expect_lte(abs(res$cost - 1e-9 * min(C)), 1e-15)
  expect_equal(res$lambda, min(C), tolerance = 1e-12)
  # far below round-off of the totals: still a plan, exact to ~1e-16 absolutely
  res <- ot_exact(C, a, b, mass = 1e-13)
  expect_gt(length(res$plan@x), 0L)
  expect_lte(abs(sum(res$plan) - 1e-13), 1e-15)
  # round-off flows of the augmented balances are not reported as entries
  res <- ot_exact(C, a, b, mass = 0.6)
  expect_gt(min(res$plan@x), 1e-12)
  # s at the bound with unequal sums: every row sends all of a
  res <- ot_exact(C, a, b, mass = sum(a))
  check_partial_certificate(C, a, b, sum(a), res)
  expect_lte(max(abs(rowSums(as.matrix(res$plan)) - a)), 1e-12)
  expect_lte(abs(res$cost - ref_partial_lpsolve(C, a, b, sum(a))), 1e-9)
  # unequal sums the other way round
  res <- ot_exact(t(C), b, a, mass = 0.7)
  check_partial_certificate(t(C), b, a, 0.7, res)
  expect_lte(abs(res$cost - ref_partial_lpsolve(t(C), b, a, 0.7)), 1e-9)
  # one row: it sends s to the cheapest columns, filling them in cost order
  c1 <- matrix(c(3, 1, 2, -1), 1, 4)
  res <- ot_exact(c1, a = 1, b = c(0.5, 0.2, 0.2, 0.3), mass = 0.6)
  expect_equal(as.vector(as.matrix(res$plan)), c(0, 0.2, 0.1, 0.3),
               tolerance = 1e-15)
  check_partial_certificate(c1, 1, c(0.5, 0.2, 0.2, 0.3), 0.6, res)
  # one row and one column
  res <- ot_exact(matrix(-2, 1, 1), a = 1, b = 3, mass = 0.5)
  expect_equal(res$cost, -1)
  # zero masses: rows and columns without mass get nothing
  a0 <- rand_mass(5, 1, zeros = 2)
  b0 <- rand_mass(4, 1, zeros = 1)
  res <- ot_exact(C, a0, b0, mass = 0.4)
  P <- as.matrix(res$plan)
  expect_true(all(P[a0 == 0, ] == 0))
  expect_true(all(P[, b0 == 0] == 0))
  check_partial_certificate(C, a0, b0, 0.4, res)
  expect_lte(abs(res$cost - ref_partial_lpsolve(C, a0, b0, 0.4)), 1e-9)
  # constant and zero costs
  res <- ot_exact(matrix(0, 3, 3), mass = 0.5)
  expect_identical(res$cost, 0)
  expect_equal(sum(res$plan), 0.5)
  # uniform masses by default, total 1 each
  res <- ot_exact(C, mass = 0.5)
  check_partial_certificate(C, rep(1 / 5, 5), rep(1 / 4, 4), 0.5, res)
})

test_that("partial transport leaves out the rows and columns without a cheap counterpart", {
  # 3 rows matched cheaply to 3 columns; one spurious row and column
  C <- matrix(5, 4, 4)
  C[cbind(1:3, c(2, 3, 1))] <- 0
  res <- ot_exact(C, mass = 0.75)
  P <- as.matrix(res$plan)
  expect_identical(res$cost, 0)
  expect_equal(rowSums(P), c(0.25, 0.25, 0.25, 0))
  expect_equal(colSums(P), c(0.25, 0.25, 0.25, 0))
})

test_that("bad `mass` values are refused with a classed error naming it", {
  C <- matrix(1:6, 2, 3)
  for (bad in list(0, -1, NA, NaN, Inf, c(0.1, 0.2), "0.5", TRUE)) {
    err <- expect_error(ot_exact(C, mass = bad), class = "hotalign_error_input")
    expect_identical(err$arg, "mass")
    expect_match(conditionMessage(err), "`mass`")
    expect_false(grepl("\\.$", conditionMessage(err)))
  }
  err <- expect_error(ot_exact(C, a = c(1, 1), b = c(0.5, 0.5, 0.5), mass = 1.6),
                      "at most min\\(sum\\(a\\), sum\\(b\\)\\) = 1.5",
                      class = "hotalign_error_input")
  expect_identical(err$arg, "mass")
  expect_snapshot(ot_exact(C, mass = 2), error = TRUE)
  # a relative 1e-9 above the bound is the bound
  res <- ot_exact(C, a = c(1, 1), b = c(0.5, 0.5, 0.5), mass = 1.5 * (1 + 1e-10))
  expect_identical(res$mass, 1.5)
  # the masses are still checked
  expect_error(ot_exact(C, a = c(-1, 1), mass = 0.5), "`a` has negative masses")
})
