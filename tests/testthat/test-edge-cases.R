# Numerical edge cases (issue 6): near-constant columns, duplicated units,
# fewer stimuli than units, very unequal widths, costs with ties, very large
# and very small magnitudes. Each test title states the case and what holds.

# The plan of an ot_exact() result is an optimal vertex: feasible with masses
# a, b, at most n + m - 1 non-zeros, and certified by its potentials
# (u_i + v_j <= C_ij everywhere, = on the support).
expect_certified_vertex <- function(res, cost, a, b) {
  P <- as.matrix(res$plan)
  tol <- 1e-9 * max(abs(cost))
  expect_true(all(P >= 0))
  expect_equal(rowSums(P), a, tolerance = 1e-12)
  expect_equal(colSums(P), b, tolerance = 1e-12)
  expect_lte(sum(P > 0), nrow(cost) + ncol(cost) - 1L)
  red <- cost - outer(res$u, res$v, "+")
  expect_gte(min(red), -tol)
  expect_lte(max(abs(red[P > 0])), tol)
  expect_equal(res$cost, sum(P * cost), tolerance = 1e-12)
}

test_that("near-constant columns (1e6 + 1e-7 * noise): the two-pass standardisation matches 1 - cor()", {
  set.seed(11)
  n_stim <- 60
  A <- 1e6 + 1e-7 * matrix(rnorm(n_stim * 3), n_stim, 3)
  B <- matrix(rnorm(n_stim * 4), n_stim, 4)
  K <- correlation_cost(A, B)
  # R's cor() is two-pass too: agreement to round-off
  expect_lt(max(abs(K - (1 - cor(A, B)))), 1e-12)
  # against the exact values (A - 1e6 is exact): the double nearest the mean
  # of such a column is off by up to half an ulp of 1e6 (6e-11, 6e-4 of the
  # spread), which bounds the error; a one-pass formula would be off by O(1)
  expect_lt(max(abs(K - (1 - cor(A - 1e6, B)))), 1e-6)
  # a column's correlation with itself is 1, not undefined nor NaN
  expect_lt(max(abs(diag(correlation_cost(A, A)))), 1e-12)
  # hot() keeps them (they are not constant) and matches them to themselves
  X <- list(a = A)
  Y <- list(b = A[, 3:1] + 1e-9 * matrix(rnorm(n_stim * 3), n_stim, 3))
  fit <- hot(X, Y, seed = 1, n_perm = 0, threads = 1)
  expect_equal(fit$sizes$source, c(a = 3L))
  q <- as.matrix(unit_plan(fit, 1, 1))
  expect_equal(q, diag(3)[, 3:1] / 3, ignore_attr = TRUE)
  expect_true(all(is.finite(fit$cost)))
  # an exactly constant column is still refused
  expect_error(correlation_cost(cbind(A, 1e6), B), "constant column 4")
})

test_that("duplicated units (identical columns): ties in the OT still give certified vertices", {
  set.seed(12)
  base <- matrix(rnorm(30 * 3), 30, 3)
  A <- base[, c(1, 1, 2, 2, 3, 3)]      # every unit twice
  B <- base[, c(3, 2, 1)]
  K <- correlation_cost(A, B)
  res <- ot_exact(K)
  expect_certified_vertex(res, K, rep(1 / 6, 6), rep(1 / 3, 3))
  # each copy goes to its own original: cost zero
  expect_lt(abs(res$cost), 1e-12)
  P <- as.matrix(res$plan)
  expect_equal(unname(apply(P, 1, which.max)), c(3, 3, 2, 2, 1, 1))
  sm <- soft_matching(A, B)
  expect_equal(as.matrix(sm$plan), P)
  expect_lt(abs(sm$correlation - 1), 1e-12)
  # identical columns on both sides: many optimal plans, any vertex is right
  A2 <- base[, c(1, 1, 1, 2)]
  K2 <- correlation_cost(A2, A2)
  res2 <- ot_exact(K2)
  expect_certified_vertex(res2, K2, rep(1 / 4, 4), rep(1 / 4, 4))
  expect_lt(abs(res2$cost), 1e-12)
  # hot() with duplicated units in both systems
  fit <- hot(list(a = A), list(b = A2), seed = 1, n_perm = 0, threads = 1)
  q <- as.matrix(unit_plan(fit, 1, 1))
  expect_equal(rowSums(q), rep(1 / 6, 6))
  expect_equal(colSums(q), rep(1 / 4, 4))
  expect_lte(sum(q > 0), 6 + 4 - 1)
})

test_that("fewer stimuli than units (8 stimuli, 30 and 25 units): costs are 1 - cor, plans valid", {
  set.seed(13)
  A <- matrix(rnorm(8 * 30), 8, 30)
  B <- matrix(rnorm(8 * 25), 8, 25)
  K <- correlation_cost(A, B)
  expect_lt(max(abs(K - (1 - cor(A, B)))), 1e-12)
  res <- ot_exact(K)
  expect_certified_vertex(res, K, rep(1 / 30, 30), rep(1 / 25, 25))
  fit <- hot(list(a = A, b = A[, 1:5]), list(c = B), test = 7:8, n_perm = 0,
             threads = 1)
  expect_equal(dim(fit$plan), c(2L, 1L))
  expect_true(all(fit$cost >= -1e-12 & fit$cost <= 2))
  q <- as.matrix(unit_plan(fit, "a", "c"))
  expect_equal(rowSums(q), rep(1 / 30, 30))
  expect_equal(colSums(q), rep(1 / 25, 25))
  expect_true(is.finite(fit$score))
})

test_that("very unequal widths (1 unit vs 5000 units): soft_matching and hot() work, marginals exact", {
  set.seed(14)
  n_stim <- 20
  one <- matrix(rnorm(n_stim), n_stim, 1)
  many <- matrix(rnorm(n_stim * 5000), n_stim, 5000)
  sm <- soft_matching(one, many)
  P <- sm$plan
  expect_equal(dim(P), c(1L, 5000L))
  # solved in integers: every column's mass is exactly 1/5000
  expect_identical(Matrix::colSums(P), rep(1 / 5000, 5000))
  expect_equal(sum(P), 1, tolerance = 1e-14)
  expect_equal(sm$cost, mean(1 - cor(one, many)), tolerance = 1e-12)
  sm2 <- soft_matching(many, one)
  expect_identical(Matrix::rowSums(sm2$plan), rep(1 / 5000, 5000))
  expect_equal(sm2$cost, sm$cost, tolerance = 1e-12)

  fit <- hot(list(a = one), list(b = many), test = 19:20, n_perm = 0,
             threads = 1)
  q <- unit_plan(fit, 1, 1)
  expect_identical(Matrix::colSums(q), rep(1 / 5000, 5000))
  expect_equal(fit$cost[1, 1], sm$cost, tolerance = 1e-2)  # train rows only
  fit2 <- hot(list(a = many), list(b = one), test = 19:20, n_perm = 0,
              threads = 1)
  expect_identical(Matrix::rowSums(unit_plan(fit2, 1, 1)), rep(1 / 5000, 5000))
  expect_equal(fit2$plan, matrix(1, dimnames = list(source = "a", target = "b")))
})

test_that("costs with ties (constant, 0/1, integer): certified vertices with the optimal cost", {
  set.seed(15)
  # all costs equal: any vertex is optimal
  res <- ot_exact(matrix(1, 6, 4))
  expect_certified_vertex(res, matrix(1, 6, 4), rep(1 / 6, 6), rep(1 / 4, 4))
  expect_equal(res$cost, 1)
  # many ties, against brute force over all 5! permutations
  perms <- as.matrix(expand.grid(rep(list(1:5), 5)))
  perms <- perms[apply(perms, 1, function(p) length(unique(p)) == 5), ]
  for (case in 1:8) {
    cost <- matrix(sample(0:(case %% 3 + 1), 25, TRUE), 5, 5)
    res <- ot_exact(cost)
    expect_certified_vertex(res, cost, rep(0.2, 5), rep(0.2, 5))
    best <- min(apply(perms, 1, function(p) sum(cost[cbind(1:5, p)]))) / 5
    expect_equal(res$cost, best, tolerance = 1e-14)
    # uniform square: a permutation divided by n, exactly
    expect_true(all(as.matrix(res$plan) %in% c(0, 0.2)))
  }
  # ties with non-uniform masses
  cost <- outer(1:7, 1:5, function(i, j) (i + j) %% 2)
  a <- c(1, 2, 3, 1, 2, 3, 1) / 13
  b <- c(3, 3, 3, 2, 2) / 13
  expect_certified_vertex(ot_exact(cost, a, b), cost, a, b)
})

test_that("very large (1e150, 1e300) and very small (1e-150, 1e-300) data: hot() is scale-free", {
  set.seed(16)
  X <- list(a = matrix(rnorm(40 * 5), 40, 5), b = matrix(rnorm(40 * 3), 40, 3))
  Y <- list(c = X$a[, 5:1] + matrix(rnorm(200), 40, 5),
            d = matrix(rnorm(40 * 4), 40, 4))
  fit0 <- hot(X, Y, seed = 1, n_perm = 10, threads = 1)
  for (s in c(1e150, 1e-150, 1e300, 1e-300)) {
    fit <- hot(lapply(X, `*`, s), lapply(Y, `*`, s), seed = 1, n_perm = 10,
               threads = 1)
    expect_identical(fit$plan, fit0$plan, label = format(s))
    expect_equal(fit$cost, fit0$cost, tolerance = 1e-12, label = format(s))
    expect_equal(fit$score, fit0$score, tolerance = 1e-12, label = format(s))
    expect_equal(fit$inner[c("i", "j", "x", "start")],
                 fit0$inner[c("i", "j", "x", "start")], label = format(s))
    # the stored standardisation scales with the data
    expect_equal(fit$standardise$source$a$scale / s,
                 fit0$standardise$source$a$scale, tolerance = 1e-12)
    K <- correlation_cost(X$a * s, Y$d * s)
    expect_lt(max(abs(K - (1 - cor(X$a, Y$d)))), 1e-12, label = format(s))
  }
  # one system huge, the other tiny
  fit <- hot(lapply(X, `*`, 1e200), lapply(Y, `*`, 1e-200), seed = 1,
             n_perm = 10, threads = 1)
  expect_identical(fit$plan, fit0$plan)
  expect_equal(fit$score, fit0$score, tolerance = 1e-12)
})

test_that("ot_exact costs scaled by 1e100 and 1e-100: the same plan, the cost scales", {
  set.seed(17)
  for (case in 1:6) {
    n <- sample(2:9, 1)
    m <- sample(2:9, 1)
    cost <- matrix(if (case %% 2) rnorm(n * m) else sample(0:3, n * m, TRUE), n, m)
    uniform <- case <= 3
    a <- if (uniform) NULL else runif(n) + 0.1
    b <- if (uniform) NULL else {
      bb <- runif(m) + 0.1
      bb / sum(bb) * sum(a)
    }
    res <- ot_exact(cost, a, b)
    for (s in c(1e100, 1e-100)) {
      rs <- ot_exact(cost * s, a, b)
      expect_equal(rs$plan, res$plan, label = paste(case, format(s)))
      expect_equal(rs$cost / s, res$cost, tolerance = 1e-12)
      am <- if (uniform) rep(1 / n, n) else a
      bm <- if (uniform) rep(1 / m, m) else b * sum(a) / sum(b)
      expect_certified_vertex(rs, cost * s, am, bm)
    }
  }
})
