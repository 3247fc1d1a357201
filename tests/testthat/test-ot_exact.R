# ot_exact(): the exact OT solver checked against slow, obvious, independent
# references (helper-references.R) and an optimality certificate, and the
# references themselves checked against outside solvers when installed.

# ---- local generators -------------------------------------------------------

# positive masses summing to 1, `zeros` of them set to zero
rand_marginal <- function(k, zeros = 0L) {
  x <- stats::runif(k, 0.1, 1)
  if (zeros > 0L) x[sample.int(k, zeros)] <- 0
  x / sum(x)
}

# the plan is a permutation matrix / n (the vertices of the uniform square
# transport polytope)
expect_permutation_vertex <- function(res, n) {
  P <- as.matrix(res$plan)
  nz <- P != 0
  expect_identical(unname(rowSums(nz)), rep(1, n))
  expect_identical(unname(colSums(nz)), rep(1, n))
  expect_lte(max(abs(P[nz] - 1 / n)), 1e-15)
}

# |x - y| <= tol * scale
expect_close <- function(x, y, tol, scale = abs(y)) {
  expect_lte(abs(x - y), tol * max(scale, .Machine$double.xmin))
}

# number of failed expectations of check_ot_certificate() (muffled), so that
# the certificate itself can be shown to reject wrong answers
certificate_failures <- function(C, a, b, res) {
  n_failed <- 0L
  withCallingHandlers(
    check_ot_certificate(C, a, b, res),
    expectation = function(e) {
      if (!inherits(e, "expectation_success")) n_failed <<- n_failed + 1L
      invokeRestart("continue_test")
    }
  )
  n_failed
}

# an "ot_plan" built by hand from a dense plan and duals
fake_ot_plan <- function(P, u, v, cost = NULL) {
  nz <- which(P != 0, arr.ind = TRUE)
  plan <- Matrix::sparseMatrix(i = nz[, 1], j = nz[, 2], x = P[nz],
                               dims = dim(P))
  structure(list(plan = plan, cost = cost, u = u, v = v, iterations = 0),
            class = "ot_plan")
}

correlation_like <- function(T, n, m) {
  A <- matrix(stats::rnorm(T * n), T, n)
  B <- matrix(stats::rnorm(T * m), T, m)
  # a shared component so that the optimum is not trivial
  B[, seq_len(min(n, m))] <- B[, seq_len(min(n, m))] + A[, seq_len(min(n, m))]
  1 - stats::cor(A, B)
}

# ---- the references against each other and against outside solvers ---------

test_that("brute-force assignment and reference LP agree on square uniform problems", {
  set.seed(101)
  for (n in 1:6) {
    for (rep in 1:3) {
      C <- matrix(stats::runif(n * n, -1, 2), n, n)
      expect_close(ref_lp_transport(C)$cost, ref_assignment_bruteforce(C)$cost,
                   1e-12, scale = max(abs(C)))
    }
  }
})

test_that("reference LP is primal feasible, including zero and integer cases", {
  set.seed(102)
  for (rep in 1:20) {
    n <- sample(1:6, 1)
    m <- sample(1:6, 1)
    C <- matrix(sample(0:3, n * m, replace = TRUE), n, m)
    a <- rand_marginal(n, n %/% 3)
    b <- rand_marginal(m, m %/% 3)
    r <- ref_lp_transport(C, a, b)
    expect_gte(min(r$plan), 0)
    expect_lte(max(abs(rowSums(r$plan) - a)), 1e-12)
    expect_lte(max(abs(colSums(r$plan) - b)), 1e-12)
  }
})

test_that("reference LP agrees with an outside solver (lpSolve::lp.transport)", {
  skip_if_not_installed("lpSolve")
  set.seed(103)
  for (rep in 1:40) {
    n <- sample(1:6, 1)
    m <- sample(1:6, 1)
    C <- if (rep %% 3 == 0) {
      matrix(sample(0:3, n * m, replace = TRUE), n, m)
    } else {
      matrix(stats::runif(n * m, -1, 2), n, m)
    }
    a <- rand_marginal(n, n %/% 3)
    b <- rand_marginal(m, m %/% 3)
    lp <- lpSolve::lp.transport(C, "min", rep("=", n), a, rep("=", m), b,
                                integers = NULL)
    expect_identical(lp$status, 0L)
    expect_close(ref_lp_transport(C, a, b)$cost, lp$objval, 1e-9,
                 scale = max(abs(C)))
  }
})

test_that("brute-force assignment agrees with an outside solver (clue::solve_LSAP)", {
  skip_if_not_installed("clue")
  set.seed(104)
  for (n in 1:7) {
    for (rep in 1:3) {
      C <- matrix(stats::runif(n * n), n, n)
      perm <- as.integer(clue::solve_LSAP(C))
      expect_close(ref_assignment_bruteforce(C)$cost,
                   sum(C[cbind(seq_len(n), perm)]) / n, 1e-12, scale = max(C))
    }
  }
})

test_that("the certificate accepts a hand-made optimum and rejects wrong answers", {
  # C = 1 on the diagonal, 2 elsewhere: the identity / 3 is optimal with
  # value 1 and duals u = v = 1/2
  C <- 2 - diag(3)
  w <- rep(1 / 3, 3)
  good <- fake_ot_plan(diag(3) / 3, rep(0.5, 3), rep(0.5, 3), cost = 1)
  expect_identical(certificate_failures(C, w, w, good), 0L)
  # a feasible but suboptimal plan (a cyclic permutation)
  perm <- diag(3)[c(2, 3, 1), ] / 3
  expect_gt(certificate_failures(C, w, w,
                                 fake_ot_plan(perm, rep(0.5, 3), rep(0.5, 3), 1)), 0L)
  # an infeasible plan
  expect_gt(certificate_failures(C, w, w,
                                 fake_ot_plan(diag(c(0.5, 0.25, 0.25)), rep(0.5, 3),
                                              rep(0.5, 3), 1)), 0L)
  # infeasible duals
  expect_gt(certificate_failures(C, w, w,
                                 fake_ot_plan(diag(3) / 3, c(0.5, 2, 0.5), rep(0.5, 3), 1)), 0L)
  # duals off by a little (strong duality and slackness)
  expect_gt(certificate_failures(C, w, w,
                                 fake_ot_plan(diag(3) / 3, rep(0.5 - 1e-8, 3),
                                              rep(0.5, 3), 1)), 0L)
  # a wrong reported value
  expect_gt(certificate_failures(C, w, w,
                                 fake_ot_plan(diag(3) / 3, rep(0.5, 3), rep(0.5, 3),
                                              1 + 1e-8)), 0L)
  # an optimal plan that is not a vertex (9 > 3 + 3 - 1 non-zeros)
  C0 <- matrix(0, 3, 3)
  expect_identical(certificate_failures(C0, w, w,
                                        fake_ot_plan(matrix(1 / 9, 3, 3), rep(0, 3),
                                                     rep(0, 3), 0)), 1L)
})

# ---- shapes -----------------------------------------------------------------

test_that("1 x 1 cost: the only plan carries all the mass", {
  C <- matrix(3.5)
  res <- ot_exact(C)
  check_ot_certificate(C, NULL, NULL, res)
  expect_equal(as.matrix(res$plan)[1, 1], 1)
  expect_close(res$cost, ref_lp_transport(C)$cost, 1e-12)

  res2 <- ot_exact(C, a = 2, b = 2)
  check_ot_certificate(C, 2, 2, res2)
  expect_close(res2$cost, ref_lp_transport(C, 2, 2)$cost, 1e-12)
})

test_that("1 x n cost: the plan is the column marginal", {
  set.seed(201)
  for (m in c(1, 2, 5, 17)) {
    C <- matrix(stats::runif(m, -1, 1), 1, m)
    b <- rand_marginal(m, m %/% 4)
    res <- ot_exact(C, a = 1, b = b)
    check_ot_certificate(C, 1, b, res)
    expect_lte(max(abs(as.matrix(res$plan)[1, ] - b)), 1e-15)
    expect_close(res$cost, sum(C[1, ] * b), 1e-12, scale = max(abs(C)))
    if (m <= 6) expect_close(res$cost, ref_lp_transport(C, 1, b)$cost, 1e-10,
                             scale = max(abs(C)))
  }
  res <- ot_exact(matrix(1:4, 1, 4))
  check_ot_certificate(matrix(1:4, 1, 4), NULL, NULL, res)
})

test_that("n x 1 cost: the plan is the row marginal", {
  set.seed(202)
  for (n in c(1, 2, 5, 17)) {
    C <- matrix(stats::runif(n, -1, 1), n, 1)
    a <- rand_marginal(n, n %/% 4)
    res <- ot_exact(C, a = a, b = 1)
    check_ot_certificate(C, a, 1, res)
    expect_lte(max(abs(as.matrix(res$plan)[, 1] - a)), 1e-15)
    expect_close(res$cost, sum(C[, 1] * a), 1e-12, scale = max(abs(C)))
    if (n <= 6) expect_close(res$cost, ref_lp_transport(C, a, 1)$cost, 1e-10,
                             scale = max(abs(C)))
  }
})

test_that("2 x 3 cost with non-uniform marginals matches the reference LP", {
  set.seed(203)
  for (rep in 1:10) {
    C <- matrix(stats::runif(6), 2, 3)
    a <- rand_marginal(2)
    b <- rand_marginal(3)
    res <- ot_exact(C, a, b)
    check_ot_certificate(C, a, b, res)
    expect_close(res$cost, ref_lp_transport(C, a, b)$cost, 1e-10)
  }
  C <- matrix(c(1, 4, 2, 0, 3, 5), 2, 3)
  res <- ot_exact(C)
  check_ot_certificate(C, NULL, NULL, res)
  expect_close(res$cost, ref_lp_transport(C)$cost, 1e-10)
})

# ---- random problems against the references ---------------------------------

test_that("square random costs with uniform marginals match brute force (n = 1..7)", {
  set.seed(301)
  for (n in 1:7) {
    for (rep in 1:4) {
      C <- matrix(stats::runif(n * n), n, n)
      res <- ot_exact(C)
      check_ot_certificate(C, NULL, NULL, res)
      expect_permutation_vertex(res, n)
      expect_close(res$cost, ref_assignment_bruteforce(C)$cost, 1e-10)
    }
  }
})

test_that("non-square random costs, non-uniform marginals with zeros, match the reference LP", {
  set.seed(302)
  for (rep in 1:40) {
    n <- sample(1:6, 1)
    m <- sample(1:6, 1)
    C <- matrix(stats::rexp(n * m), n, m)
    a <- rand_marginal(n, sample(0:(n - 1), 1))
    b <- rand_marginal(m, sample(0:(m - 1), 1))
    res <- ot_exact(C, a, b)
    check_ot_certificate(C, a, b, res)
    expect_close(res$cost, ref_lp_transport(C, a, b)$cost, 1e-10)
    # rows and columns without mass carry no flow
    P <- as.matrix(res$plan)
    expect_true(all(P[a == 0, ] == 0))
    expect_true(all(P[, b == 0] == 0))
  }
})

test_that("medium random problems with zeros agree with an outside solver (lpSolve)", {
  skip_if_not_installed("lpSolve")
  set.seed(303)
  for (rep in 1:5) {
    n <- sample(20:40, 1)
    m <- sample(20:40, 1)
    C <- matrix(stats::runif(n * m), n, m)
    a <- rand_marginal(n, 3)
    b <- rand_marginal(m, 2)
    res <- ot_exact(C, a, b)
    check_ot_certificate(C, a, b, res)
    lp <- lpSolve::lp.transport(C, "min", rep("=", n), a, rep("=", m), b,
                                integers = NULL)
    expect_identical(lp$status, 0L)
    expect_close(res$cost, lp$objval, 1e-9)
  }
})

# ---- degenerate and extreme costs -------------------------------------------

test_that("integer costs with many ties (degenerate) match the references", {
  set.seed(401)
  # square, uniform: brute force
  for (n in 2:7) {
    for (rep in 1:3) {
      C <- matrix(sample(0:3, n * n, replace = TRUE), n, n)
      res <- ot_exact(C)
      check_ot_certificate(C, NULL, NULL, res)
      expect_permutation_vertex(res, n)
      expect_close(res$cost, ref_assignment_bruteforce(C)$cost, 1e-10)
    }
  }
  # non-square with coinciding partial sums of a and b (primal degeneracy)
  degenerate <- list(
    list(a = c(1, 1, 2) / 4, b = c(1, 1) / 2),
    list(a = c(1, 1, 1, 1) / 4, b = c(1, 1) / 2),
    list(a = c(1, 2, 1, 2) / 6, b = c(1, 2, 3) / 6),
    list(a = c(0, 1, 1, 0, 2) / 4, b = c(2, 0, 2) / 4),
    list(a = rep(1, 6) / 6, b = rep(1, 3) / 3)
  )
  for (d in degenerate) {
    for (rep in 1:4) {
      n <- length(d$a)
      m <- length(d$b)
      C <- matrix(sample(0:3, n * m, replace = TRUE), n, m)
      res <- ot_exact(C, d$a, d$b)
      check_ot_certificate(C, d$a, d$b, res)
      expect_close(res$cost, ref_lp_transport(C, d$a, d$b)$cost, 1e-10,
                   scale = max(1, abs(C)))
    }
  }
  # larger: the certificate (the solver must not cycle or stall)
  C <- matrix(sample(0:3, 80 * 120, replace = TRUE), 80, 120)
  res <- ot_exact(C)
  check_ot_certificate(C, NULL, NULL, res)
  C <- matrix(sample(0:1, 150 * 150, replace = TRUE), 150, 150)
  res <- ot_exact(C)
  check_ot_certificate(C, NULL, NULL, res)
  expect_permutation_vertex(res, 150)
})

test_that("near-ties: integer costs perturbed by 1e-9 match brute force and the reference LP", {
  # optimal and suboptimal plans differ by about 1e-9: a solver whose
  # optimality tolerance is loose stops early and fails at 1e-10 relative
  set.seed(405)
  for (n in 3:7) {
    for (rep in 1:4) {
      C <- matrix(sample(1:3, n * n, replace = TRUE) +
                    1e-9 * stats::runif(n * n), n, n)
      res <- ot_exact(C)
      check_ot_certificate(C, NULL, NULL, res)
      expect_close(res$cost, ref_assignment_bruteforce(C)$cost, 1e-10)
    }
  }
  for (rep in 1:10) {
    n <- sample(2:6, 1)
    m <- sample(2:6, 1)
    C <- matrix(sample(1:3, n * m, replace = TRUE) + 1e-9 * stats::runif(n * m),
                n, m)
    a <- rand_marginal(n)
    b <- rand_marginal(m)
    res <- ot_exact(C, a, b)
    check_ot_certificate(C, a, b, res)
    expect_close(res$cost, ref_lp_transport(C, a, b)$cost, 1e-10)
  }
  C <- matrix(sample(1:3, 300 * 300, replace = TRUE) +
                1e-9 * stats::runif(300 * 300), 300, 300)
  res <- ot_exact(C)
  check_ot_certificate(C, NULL, NULL, res)
  skip_if_not_installed("clue")
  perm <- as.integer(clue::solve_LSAP(C))
  expect_close(res$cost, sum(C[cbind(1:300, perm)]) / 300, 1e-12)
})

test_that("all-equal costs: every feasible plan is optimal", {
  set.seed(402)
  for (k in c(0, 2.5, -1)) {
    C <- matrix(k, 5, 7)
    a <- rand_marginal(5, 1)
    b <- rand_marginal(7, 2)
    res <- ot_exact(C, a, b)
    check_ot_certificate(C, a, b, res)
    expect_close(res$cost, k * sum(a), 1e-12, scale = max(1, abs(k)))
    expect_close(res$cost, ref_lp_transport(C, a, b)$cost, 1e-12,
                 scale = max(1, abs(k)))
    res <- ot_exact(matrix(k, 40, 40))
    check_ot_certificate(matrix(k, 40, 40), NULL, NULL, res)
    expect_permutation_vertex(res, 40)
  }
})

test_that("costs of large (1e8) and tiny (1e-8) magnitude match the reference LP", {
  set.seed(403)
  for (s in c(1e8, 1e-8)) {
    for (rep in 1:6) {
      n <- sample(2:6, 1)
      m <- sample(2:6, 1)
      C0 <- matrix(stats::runif(n * m), n, m)
      a <- rand_marginal(n, 1)
      b <- rand_marginal(m)
      res <- ot_exact(C0 * s, a, b)
      check_ot_certificate(C0 * s, a, b, res)
      expect_close(res$cost, ref_lp_transport(C0 * s, a, b)$cost, 1e-10)
      # scaling the cost scales the value
      expect_close(res$cost / s, ot_exact(C0, a, b)$cost, 1e-10)
    }
  }
  # mixed magnitudes within one matrix: relative to the cost scale
  for (rep in 1:6) {
    n <- sample(2:6, 1)
    m <- sample(2:6, 1)
    C <- matrix(10^stats::runif(n * m, -8, 8), n, m)
    a <- rand_marginal(n)
    b <- rand_marginal(m, 1)
    res <- ot_exact(C, a, b)
    check_ot_certificate(C, a, b, res)
    ref <- ref_lp_transport(C, a, b)$cost
    expect_close(res$cost, ref, 1e-10, scale = max(abs(ref), 1e-6 * max(C)))
  }
  # a larger problem at both scales
  C0 <- correlation_like(30, 60, 90)
  for (s in c(1e8, 1e-8)) {
    res <- ot_exact(C0 * s)
    check_ot_certificate(C0 * s, NULL, NULL, res)
    expect_close(res$cost / s, ot_exact(C0)$cost, 1e-10)
  }
})

test_that("negative costs match the reference LP and shift by a constant", {
  set.seed(404)
  for (rep in 1:15) {
    n <- sample(1:6, 1)
    m <- sample(1:6, 1)
    C <- matrix(stats::rnorm(n * m) - 3, n, m)
    a <- rand_marginal(n, n %/% 3)
    b <- rand_marginal(m, m %/% 3)
    res <- ot_exact(C, a, b)
    check_ot_certificate(C, a, b, res)
    expect_close(res$cost, ref_lp_transport(C, a, b)$cost, 1e-10)
    # adding k to every cost adds k * total mass to the value
    expect_close(ot_exact(C + 10, a, b)$cost, res$cost + 10, 1e-10,
                 scale = max(abs(C + 10)))
  }
  C <- -correlation_like(20, 50, 50)
  res <- ot_exact(C)
  check_ot_certificate(C, NULL, NULL, res)
  expect_permutation_vertex(res, 50)
})

# ---- correlation-like costs at the sizes HOT uses ----------------------------

test_that("correlation costs 1 - cor(A, B) at 200 x 300 pass the certificate", {
  set.seed(501)
  C <- correlation_like(60, 200, 300)
  res <- ot_exact(C)
  check_ot_certificate(C, NULL, NULL, res)
  a <- rand_marginal(200, 10)
  b <- rand_marginal(300, 10)
  res2 <- ot_exact(C, a, b)
  check_ot_certificate(C, a, b, res2)
  skip_if_not_installed("lpSolve")
  lp <- lpSolve::lp.transport(C, "min", rep("=", 200), rep(1 / 200, 200),
                              rep("=", 300), rep(1 / 300, 300), integers = NULL)
  expect_identical(lp$status, 0L)
  expect_close(res$cost, lp$objval, 1e-9)
})

test_that("correlation costs 1 - cor(A, B) at 500 x 500 pass the certificate", {
  set.seed(502)
  C <- correlation_like(60, 500, 500)
  res <- ot_exact(C)
  check_ot_certificate(C, NULL, NULL, res)
  expect_permutation_vertex(res, 500)
  skip_if_not_installed("clue")
  perm <- as.integer(clue::solve_LSAP(C))
  expect_close(res$cost, sum(C[cbind(1:500, perm)]) / 500, 1e-10)
})

test_that("correlation costs at 1500 x 1500 (solved over several interrupt slices) pass the certificate", {
  # about 25000 pivots: more than one slice of the interrupt-checking loop
  set.seed(504)
  C <- correlation_like(40, 1500, 1500)
  res <- ot_exact(C)
  check_ot_certificate(C, NULL, NULL, res)
  expect_permutation_vertex(res, 1500)
  a <- rand_marginal(1500, 50)
  b <- rand_marginal(1500, 50)
  res2 <- ot_exact(C, a, b)
  check_ot_certificate(C, a, b, res2)
})

# transport::transport is compared in bench/ (it needs a newer RcppEigen than
# Debian ships, so it is not a test dependency).

# ---- properties of the interface --------------------------------------------

test_that("repeated calls give identical results (determinism)", {
  set.seed(601)
  C <- correlation_like(40, 120, 90)
  a <- rand_marginal(120, 5)
  b <- rand_marginal(90, 5)
  expect_identical(ot_exact(C, a, b), ot_exact(C, a, b))
  expect_identical(ot_exact(C), ot_exact(C))
  Ci <- matrix(sample(0:3, 60 * 60, replace = TRUE), 60, 60)
  expect_identical(ot_exact(Ci), ot_exact(Ci))
})

test_that("NULL marginals are uniform", {
  set.seed(602)
  C <- matrix(stats::runif(7 * 4), 7, 4)
  res <- ot_exact(C)
  res_u <- ot_exact(C, rep(1 / 7, 7), rep(1 / 4, 4))
  check_ot_certificate(C, rep(1 / 7, 7), rep(1 / 4, 4), res)
  expect_close(res$cost, res_u$cost, 1e-12)
  expect_close(res$cost, ot_exact(C, a = rep(1 / 7, 7))$cost, 1e-12)
  expect_close(res$cost, ot_exact(C, b = rep(1 / 4, 4))$cost, 1e-12)
})

test_that("integer cost matrices are accepted and equal their double form", {
  set.seed(603)
  Ci <- matrix(sample(0:9, 6 * 8, replace = TRUE), 6, 8)
  expect_type(Ci, "integer")
  res_i <- ot_exact(Ci)
  res_d <- ot_exact(Ci + 0)
  expect_identical(res_i$cost, res_d$cost)
  expect_identical(as.matrix(res_i$plan), as.matrix(res_d$plan))
  check_ot_certificate(Ci, NULL, NULL, res_i)
  expect_close(res_i$cost, ref_lp_transport(Ci)$cost, 1e-10)
})

test_that("the plan takes its dimnames from cost; iterations are reported", {
  C <- matrix(c(3, 1, 2, 5, 4, 0), 2, 3,
              dimnames = list(c("r1", "r2"), c("c1", "c2", "c3")))
  res <- ot_exact(C)
  expect_identical(dimnames(res$plan), dimnames(C))
  expect_true(is.numeric(res$iterations) && length(res$iterations) == 1L)
  expect_gte(res$iterations, 0)
  check_ot_certificate(C, NULL, NULL, res)
})

test_that("transposing the problem keeps the value; scaling the masses scales it", {
  set.seed(604)
  for (rep in 1:5) {
    n <- sample(2:30, 1)
    m <- sample(2:30, 1)
    C <- matrix(stats::runif(n * m), n, m)
    a <- rand_marginal(n, 1)
    b <- rand_marginal(m, 1)
    res <- ot_exact(C, a, b)
    expect_close(ot_exact(t(C), b, a)$cost, res$cost, 1e-10)
    res7 <- ot_exact(C, 7 * a, 7 * b)
    check_ot_certificate(C, 7 * a, 7 * b, res7)
    expect_close(res7$cost, 7 * res$cost, 1e-10)
  }
})

test_that("duals are centred as documented: sum(a * u) == sum(b * v)", {
  set.seed(605)
  C <- matrix(stats::runif(8 * 5), 8, 5)
  a <- rand_marginal(8, 2)
  b <- rand_marginal(5, 1)
  res <- ot_exact(C, a, b)
  expect_close(sum(a * res$u), sum(b * res$v), 1e-10, scale = max(abs(C)))
  res <- ot_exact(C)
  expect_close(mean(res$u), mean(res$v), 1e-10, scale = max(abs(C)))
})

test_that("marginal sums that agree to relative 1e-9 are accepted", {
  C <- matrix(c(1, 2, 3, 4), 2, 2)
  expect_no_error(ot_exact(C, c(0.5, 0.5), c(0.25, 0.75 + 1e-12)))
  expect_error(ot_exact(C, c(0.5, 0.5), c(0.25, 0.75 + 1e-6)), "`a`|`b`")
})

# ---- errors -----------------------------------------------------------------

test_that("NA, NaN, Inf in cost are errors naming `cost`", {
  for (bad in c(NA, NaN, Inf, -Inf)) {
    C <- matrix(1, 3, 2)
    C[2, 1] <- bad
    expect_error(ot_exact(C), "`cost`")
  }
  expect_error(ot_exact(matrix(NA_integer_, 2, 2)), "`cost`")
})

test_that("non-numeric cost is an error naming `cost`", {
  expect_error(ot_exact(matrix(letters[1:4], 2, 2)), "`cost`")
  expect_error(ot_exact(list(1, 2)), "`cost`")
  expect_error(ot_exact(NULL), "`cost`")
})

test_that("cost with 0 rows or 0 columns is an error naming `cost`", {
  expect_error(ot_exact(matrix(numeric(0), 0, 3)), "`cost`")
  expect_error(ot_exact(matrix(numeric(0), 3, 0)), "`cost`")
  expect_error(ot_exact(matrix(numeric(0), 0, 0)), "`cost`")
})

test_that("a or b of the wrong length is an error naming it", {
  C <- matrix(1, 3, 2)
  expect_error(ot_exact(C, a = c(0.5, 0.5)), "`a`")
  expect_error(ot_exact(C, a = rep(1 / 4, 4)), "`a`")
  expect_error(ot_exact(C, b = rep(1 / 3, 3)), "`b`")
  expect_error(ot_exact(C, b = 1), "`b`")
})

test_that("negative or non-finite a or b is an error naming it", {
  C <- matrix(1, 3, 2)
  expect_error(ot_exact(C, a = c(0.5, 0.6, -0.1)), "`a`")
  expect_error(ot_exact(C, b = c(1.2, -0.2)), "`b`")
  expect_error(ot_exact(C, a = c(0.5, NA, 0.5), b = c(0.5, 0.5)), "`a`")
  expect_error(ot_exact(C, a = c(0.5, NaN, 0.5), b = c(0.5, 0.5)), "`a`")
  expect_error(ot_exact(C, a = c(Inf, 0, 0)), "`a`")
  expect_error(ot_exact(C, b = c(NA, 1)), "`b`")
  expect_error(ot_exact(C, b = c(Inf, 1)), "`b`")
})

test_that("sums of a and b that differ are an error naming them", {
  C <- matrix(1, 3, 2)
  expect_error(ot_exact(C, a = c(1, 1, 1), b = c(1, 1)), "`a`|`b`")
  expect_error(ot_exact(C, a = rep(1 / 3, 3), b = c(0.5, 0.6)), "`a`|`b`")
})

test_that("all-zero a is an error naming `a`", {
  C <- matrix(1, 3, 2)
  expect_error(ot_exact(C, a = c(0, 0, 0), b = c(0, 0)), "`a`")
})

test_that("pricing that starts mid-column wraps exactly once (regression: 4 x 4 ties)", {
  # this problem once made the block search overrun its wrap point, miss the
  # last candidate and loop between search and verification forever
  C <- matrix(c(1, 3, 1, 2, 0, 0, 3, 1, 1, 2, 0, 1, 3, 0, 2, 3), 4, 4)
  res <- ot_exact(C)
  expect_equal(res$cost, ref_assignment_bruteforce(C)$cost, tolerance = 1e-12)
  check_ot_certificate(C, rep(1 / 4, 4), rep(1 / 4, 4), res)
})

test_that("a 31 x 23 correlation cost that once hung the search solves with a certificate (regression)", {
  C <- readRDS(test_path("fixtures", "ot-31x23.rds"))
  res <- ot_exact(C)
  check_ot_certificate(C, rep(1 / 31, 31), rep(1 / 23, 23), res)
  skip_if_not_installed("lpSolve")
  lp <- lpSolve::lp.transport(C, "min", rep("=", 31), rep(1 / 31, 31),
                              rep("=", 23), rep(1 / 23, 23), integers = NULL)
  expect_equal(res$cost, lp$objval, tolerance = 1e-9)
})

test_that("plans are the dgCMatrix that Matrix::sparseMatrix() builds, and valid", {
  set.seed(611)
  shapes <- expand.grid(n = c(1, 2, 5, 12), m = c(1, 3, 12), kind = c("runif", "ties", "named"))
  for (k in seq_len(nrow(shapes))) {
    n <- shapes$n[k]
    m <- shapes$m[k]
    C <- switch(as.character(shapes$kind[k]),
                ties = matrix(sample(0:2, n * m, replace = TRUE), n, m),
                matrix(stats::runif(n * m), n, m))
    storage.mode(C) <- "double"
    if (shapes$kind[k] == "named") dimnames(C) <- list(paste0("r", 1:n), paste0("c", 1:m))
    a <- rand_marginal(n, if (n > 2) 1L else 0L)
    b <- rand_marginal(m, if (m > 2) 1L else 0L)
    res <- ot_exact(C, a, b)
    raw <- hotalign:::solve_ot(C, hotalign:::check_masses(a, b, n, m), "C")
    ref <- Matrix::sparseMatrix(i = raw$i, j = raw$j, x = raw$x, dims = dim(C),
                                dimnames = dimnames(C))
    expect_identical(res$plan, ref)
    expect_silent(methods::validObject(res$plan))
  }
})

test_that("a solve that does not end optimal reports no duals, not uninitialised memory", {
  # masses that do not balance (R refuses them; the internal entry point
  # solves and reports the infeasibility): the plan is empty, the cost and
  # every dual NA
  set.seed(61)
  C <- matrix(stats::runif(12), 3, 4)
  res <- .Call(hotalign:::C_ffi_ot_exact, C, c(1, 1, 1), c(1, 1, 1, 2), 1, 0L)
  expect_identical(res$status, 2L)
  expect_length(res$i, 0)
  expect_identical(res$cost, NA_real_)
  expect_identical(res$u, rep(NA_real_, 3))
  expect_identical(res$v, rep(NA_real_, 4))
})

test_that("the internal entry points keep non-finite costs and masses from the solvers", {
  # R checks these before; a direct .Call must not reach the solvers with
  # them (an Inf cost row made the forced simplex crash there)
  C <- matrix(stats::runif(300 * 300), 300, 300)
  C[5, ] <- Inf
  a <- rep(300, 300)
  for (pricing in c(0L, 3L)) {
    # ffi_ot_exact reports them by status (test-fuzz.R), without solving
    res <- .Call(hotalign:::C_ffi_ot_exact, C, a, a, 1 / 300^2, pricing)
    expect_identical(res$status, 3L)
    expect_identical(res$pivots, 0)
    expect_identical(res$u, rep(NA_real_, 300))
    expect_error(.Call(hotalign:::C_ffi_ot_sequence, list(C), a, a, 1 / 300^2, pricing, 0),
                 "finite")
  }
  ok <- matrix(stats::runif(9), 3, 3)
  expect_identical(.Call(hotalign:::C_ffi_ot_exact, ok, c(1, NaN, 1), rep(1, 3), 1, 0L)$status,
                   2L)
  expect_error(.Call(hotalign:::C_ffi_ot_partial, ok, rep(1, 3), c(1, -Inf, 1), 0.5), "finite")
  expect_error(.Call(hotalign:::C_ffi_ot_partial, ok, rep(1, 3), rep(1, 3), Inf), "finite")
})
