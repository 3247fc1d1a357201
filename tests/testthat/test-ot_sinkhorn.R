# ot_sinkhorn(): log-domain Sinkhorn (entropic, approximate OT), against a
# slow, obvious pure-R implementation of the same iterations, against the
# exact optimum of ot_exact(), on extremes and on bad input.

# The same iterations, written plainly: f (rows), g (columns), zero-mass rows
# and columns left out; returns the plan and the raw potentials.
ref_sinkhorn <- function(C, a, b, eps, tol, max_iter) {
  I <- which(a > 0)
  J <- which(b > 0)
  Cs <- C[I, J, drop = FALSE]
  as <- a[I]
  bs <- b[J]
  lse <- function(x) {
    mx <- max(x)
    mx + log(sum(exp(x - mx)))
  }
  f <- numeric(length(I))
  g <- numeric(length(J))
  it <- 0L
  repeat {
    it <- it + 1L
    for (i in seq_along(I)) f[i] <- eps * log(as[i]) - eps * lse((g - Cs[i, ]) / eps)
    P <- exp((outer(f, g, "+") - Cs) / eps)
    err <- sum(abs(colSums(P) - bs))
    if (err <= tol || it >= max_iter) break
    for (j in seq_along(J)) g[j] <- eps * log(bs[j]) - eps * lse((f - Cs[, j]) / eps)
  }
  plan <- matrix(0, nrow(C), ncol(C))
  plan[I, J] <- P
  list(plan = plan, f = f, g = g, I = I, J = J, iterations = it,
       converged = err <= tol, cost = sum(plan * C))
}

random_masses <- function(k, zeros) {
  x <- stats::runif(k)
  if (zeros && k > 1) x[sample.int(k, sample.int(k - 1, 1))] <- 0
  x
}

test_that("ot_sinkhorn() matches a plain R log-domain Sinkhorn on small problems", {
  set.seed(42)
  for (case in 1:60) {
    n <- sample.int(8, 1)
    m <- sample.int(8, 1)
    C <- matrix(stats::runif(n * m, 0, 2), n, m)
    kind <- case %% 3
    if (kind == 0) {
      a <- rep(1 / n, n)
      b <- rep(1 / m, m)
      res <- ot_sinkhorn(C, epsilon = 0.05, tol = 1e-11, max_iter = 5000)
    } else {
      a <- random_masses(n, zeros = kind == 2)
      b <- random_masses(m, zeros = kind == 2)
      b <- b * sum(a) / sum(b)
      res <- ot_sinkhorn(C, a, b, epsilon = 0.05, tol = 1e-11, max_iter = 5000)
    }
    ref <- ref_sinkhorn(C, a, b, 0.05, 1e-11, 5000)
    lab <- paste0("case ", case, " (", n, " x ", m, ")")
    expect_equal(res$plan, ref$plan, tolerance = 1e-10, label = lab)
    expect_equal(res$cost, ref$cost, tolerance = 1e-10, label = lab)
    expect_identical(res$iterations, ref$iterations, label = lab)
    expect_identical(res$converged, ref$converged, label = lab)
    # potentials up to the constant shift (u + c, v - c)
    du <- res$u[ref$I] - ref$f
    dv <- res$v[ref$J] - ref$g
    expect_lt(max(abs(du - du[1])), 1e-10, label = lab)
    expect_lt(max(abs(dv + du[1])), 1e-10, label = lab)
    # centred as in ot_exact(), and the plan is exp((u + v - C) / eps)
    expect_equal(sum(a * res$u), sum(b * res$v), tolerance = 1e-10, label = lab)
    P <- exp((outer(res$u, res$v, "+") - C) / 0.05)
    P[a == 0, ] <- 0
    P[, b == 0] <- 0
    expect_equal(res$plan, P, tolerance = 1e-10, label = lab)
    # zero-mass rows/columns: zero mass, finite potentials below the cost
    expect_true(all(is.finite(res$u)) && all(is.finite(res$v)), label = lab)
    expect_true(all(res$plan[a == 0, ] == 0) && all(res$plan[, b == 0] == 0))
    expect_true(all(outer(res$u[a == 0], res$v[b > 0], "+") <=
                      C[a == 0, b > 0, drop = FALSE] + 1e-12))
    # objective = cost - eps H(P)
    p <- res$plan[res$plan > 0]
    expect_equal(res$objective, res$cost + 0.05 * sum(p * log(p)),
                 tolerance = 1e-10, label = lab)
  }
})

test_that("converged runs meet the marginals to tol; a short max_iter does not converge", {
  set.seed(7)
  C <- 1 - stats::cor(matrix(stats::rnorm(300), 30, 10), matrix(stats::rnorm(360), 30, 12))
  res <- ot_sinkhorn(C, epsilon = 0.01, tol = 1e-9)
  expect_true(res$converged)
  expect_lte(sum(abs(colSums(res$plan) - 1 / 12)), 1e-9)
  expect_lt(sum(abs(rowSums(res$plan) - 1 / 10)), 1e-12)
  expect_equal(res$marginal_error,
               sum(abs(rowSums(res$plan) - 1 / 10)) + sum(abs(colSums(res$plan) - 1 / 12)),
               tolerance = 1e-6)
  short <- ot_sinkhorn(C, epsilon = 0.001, tol = 1e-12, max_iter = 2)
  expect_false(short$converged)
  expect_identical(short$iterations, 2L)
  expect_gt(short$marginal_error, 1e-12)
  expect_output(print(short), "converged:      FALSE")
  # non-uniform masses
  a <- stats::runif(10)
  b <- stats::runif(12)
  b <- b * sum(a) / sum(b)
  res <- ot_sinkhorn(C, a, b, epsilon = 0.02, tol = 1e-10)
  expect_true(res$converged)
  expect_lte(sum(abs(colSums(res$plan) - b)), 1e-10)
  expect_lt(max(abs(rowSums(res$plan) - a)), 1e-12)
})

test_that("the entropic cost converges to the exact optimum within the documented bound", {
  set.seed(11)
  Z <- matrix(stats::rnorm(200 * 8), 200, 8)
  X <- Z %*% matrix(stats::rnorm(8 * 50), 8) + matrix(stats::rnorm(200 * 50), 200)
  Y <- Z %*% matrix(stats::rnorm(8 * 70), 8) + matrix(stats::rnorm(200 * 70), 200)
  C <- correlation_cost(X, Y)
  exact <- ot_exact(C)$cost
  eps <- c(0.1, 0.03, 0.01, 0.003)
  gap <- vapply(eps, function(e) {
    res <- ot_sinkhorn(C, epsilon = e, tol = 1e-10, max_iter = 1e5)
    expect_true(res$converged)
    res$cost - exact
  }, 0)
  expect_true(all(diff(abs(gap)) < 0))
  expect_true(all(gap >= -1e-12))
  # 0 <= cost_eps - OT <= eps * min(H(a), H(b)) = eps * log(min(n, m))
  expect_true(all(gap <= eps * log(min(dim(C)))))
  # non-uniform masses: eps * min(H(a), H(b)) (total mass 1)
  a <- stats::runif(50)
  a <- a / sum(a)
  b <- stats::rexp(70)
  b <- b / sum(b)
  H <- function(p) -sum(p * log(p))
  ex <- ot_exact(C, a, b)$cost
  for (e in c(0.1, 0.01)) {
    res <- ot_sinkhorn(C, a, b, epsilon = e, tol = 1e-10, max_iter = 1e5)
    expect_gte(res$cost - ex, -1e-12)
    expect_lte(res$cost - ex, e * min(H(a), H(b)))
  }
})

test_that("extremes: 1 x 1, 1 x n, n x 1, tiny epsilon, scaled costs", {
  one <- ot_sinkhorn(matrix(3, 1, 1))
  expect_equal(one$plan, matrix(1, 1, 1))
  expect_equal(one$cost, 3)
  expect_true(one$converged)
  expect_equal(one$u + one$v, 3)
  row <- ot_sinkhorn(matrix(1:5 / 5, 1, 5), epsilon = 0.1)
  expect_equal(row$plan, matrix(0.2, 1, 5))
  expect_true(row$converged)
  col <- ot_sinkhorn(matrix(1:4 / 4, 4, 1), a = c(0.1, 0.2, 0.3, 0.4))
  expect_equal(col$plan, matrix(c(0.1, 0.2, 0.3, 0.4), 4, 1))
  expect_equal(col$cost, sum(c(0.1, 0.2, 0.3, 0.4) * 1:4 / 4))
  set.seed(3)
  C <- matrix(stats::runif(12 * 15, 0, 2), 12, 15)
  # (Sinkhorn needs ~1e6 iterations to reach 1e-9 here; finiteness is the point)
  tiny <- ot_sinkhorn(C, epsilon = 1e-4, tol = 1e-9, max_iter = 1e5)
  expect_true(all(is.finite(tiny$plan)) && all(is.finite(tiny$u)) &&
                all(is.finite(tiny$v)) && is.finite(tiny$objective) &&
                is.finite(tiny$marginal_error))
  expect_true(all(tiny$plan >= 0))
  expect_lt(max(abs(rowSums(tiny$plan) - 1 / 12)), 1e-12)
  expect_lt(tiny$marginal_error, 1e-4)
  # within the bound, up to what the marginal violation can move the cost
  expect_lte(abs(tiny$cost - ot_exact(C)$cost),
             1e-4 * log(12) + tiny$marginal_error * max(C))
  base <- ot_sinkhorn(C, epsilon = 0.05, tol = 1e-12)
  big <- ot_sinkhorn(C * 1e6, epsilon = 0.05 * 1e6, tol = 1e-12)
  expect_equal(big$plan, base$plan, tolerance = 1e-8)
  expect_equal(big$cost, base$cost * 1e6, tolerance = 1e-8)
  expect_equal(big$u, base$u * 1e6, tolerance = 1e-8)
  # dimnames carried over
  dn <- list(letters[1:2], LETTERS[1:3])
  named <- ot_sinkhorn(matrix(1:6, 2, 3, dimnames = dn))
  expect_identical(dimnames(named$plan), dn)
})

test_that("bad input is refused with an error naming the argument", {
  C <- matrix(stats::runif(6), 2, 3)
  expect_error(ot_sinkhorn(matrix(c(1, NA, 3, 4), 2)), "`cost`.*NA")
  expect_error(ot_sinkhorn(matrix(c(1, Inf, 3, 4), 2)), "`cost`.*Inf")
  expect_error(ot_sinkhorn("a"), "`cost` must be a numeric matrix")
  expect_error(ot_sinkhorn(C, a = c(1, 1, 1)), "`a` must be a numeric vector of length 2")
  expect_error(ot_sinkhorn(C, b = c(1, 1)), "`b` must be a numeric vector of length 3")
  expect_error(ot_sinkhorn(C, a = c(1, 1), b = c(1, 1, 1)), "`a` and `b` must have equal sums")
  expect_error(ot_sinkhorn(C, a = c(-1, 2)), "`a` has negative masses")
  for (bad in list(0, -1, NA, NA_real_, Inf, c(0.1, 0.2), "a", NULL)) {
    expect_error(ot_sinkhorn(C, epsilon = bad), "`epsilon` must be a single finite number > 0")
  }
  expect_error(ot_sinkhorn(C, max_iter = 0), "`max_iter` must be a whole number >= 1")
  expect_error(ot_sinkhorn(C, max_iter = 1.5), "`max_iter`")
  expect_error(ot_sinkhorn(C, tol = -1), "`tol` must be a single number")
  expect_error(ot_sinkhorn(C, tol = NA), "`tol`")
  # the .Call refuses what the wrapper would never send
  C_sk <- getFromNamespace("C_ffi_sinkhorn", "hotalign")
  expect_error(.Call(C_sk, C, c(0.5, 0.5), c(1, 1, 1) / 3, -1, 0, 10L), "epsilon")
  expect_error(.Call(C_sk, C, c(0, 1), c(1, 1, 1) / 3, 0.1, 0, 10L), "`a`")
  expect_error(.Call(C_sk, C, c(0.5, 0.5), c(1, 1) / 2, 0.1, 0, 10L), "disagree")
  expect_error(.Call(C_sk, C, c(0.5, 0.5), c(1, 1, 1) / 3, 0.1, 0, 0L), "max_iter")
})

test_that("a plan too large for the memory limit is refused before allocating", {
  old <- options(hotalign.max_memory = 3e5)
  on.exit(options(old))
  # ot_exact() fits (about 2.5e5 bytes), the dense 200 x 200 plan does not
  expect_s3_class(ot_exact(matrix(0, 200, 200)), "ot_plan")
  expect_error(ot_sinkhorn(matrix(0, 200, 200)), "`cost` needs about .* working memory")
  options(hotalign.max_memory = 1e9)
  expect_s3_class(ot_sinkhorn(matrix(0, 200, 200)), "ot_sinkhorn")
})

test_that("print() says the result is approximate and points to ot_exact()", {
  res <- ot_sinkhorn(matrix(c(0, 1, 1, 0), 2), epsilon = 0.1)
  out <- capture.output(print(res))
  expect_match(out[1], "approximate")
  expect_match(out[1], "2 x 2, epsilon = 0.1")
  expect_true(any(grepl("ot_exact()", out, fixed = TRUE)))
})

test_that("a long ot_sinkhorn() stops within 1 s of SIGINT", {
  skip_on_cran()
  skip_on_os("windows")
  out <- interrupt_child(
    setup = c("set.seed(1)", "C <- matrix(runif(1e6, 0, 2), 1000)"),
    long = "ot_sinkhorn(C, epsilon = 1e-4, tol = 0, max_iter = 1e8)",
    after = "ot_sinkhorn(C[1:5, 1:7], epsilon = 0.1)$cost")
  expect_interrupted_within(out, 1)
  set.seed(1)
  C <- matrix(stats::runif(1e6, 0, 2), 1000)
  expect_identical(as.numeric(out$result[2]), ot_sinkhorn(C[1:5, 1:7], epsilon = 0.1)$cost)
})

test_that("converged means the marginals hold: huge, negative and shifted costs", {
  # a spread of 1.5e100 with epsilon 0.01 cannot be represented: refused
  expect_error(ot_sinkhorn(matrix(c(-1, 0.5, 0.2, -1), 2) * 1e100),
               "`cost` spans 1.5e\\+100, more than 1e12 times `epsilon`",
               class = "hotalign_error_input")
  expect_error(ot_sinkhorn(matrix(c(-1e308, 1e308, 0, 1), 2)), "spans Inf")
  # the same spread with a matching epsilon: a coupling
  big <- ot_sinkhorn(matrix(c(-1, 0.5, 0.2, -1), 2) * 1e100, epsilon = 1e100)
  small <- ot_sinkhorn(matrix(c(-1, 0.5, 0.2, -1), 2), epsilon = 1)
  expect_equal(big$plan, small$plan, tolerance = 1e-12)
  expect_true(big$converged)
  expect_equal(sum(big$plan), 1, tolerance = 1e-12)
  set.seed(4)
  C <- matrix(runif(30), 5, 6)
  ref <- ot_sinkhorn(C, epsilon = 0.05)
  for (shift in c(-1e16, -1e12, 1e12, 1e14, 1e16)) {
    s <- ot_sinkhorn(C + shift, epsilon = 0.05)
    expect_true(s$converged, info = shift)
    expect_equal(rowSums(s$plan), rep(1 / 5, 5), tolerance = 1e-9, info = shift)
    expect_equal(colSums(s$plan), rep(1 / 6, 6), tolerance = 1e-9, info = shift)
    # the plan does not change (up to the rounding of C + shift itself)
    tol <- max(1e-9, 8 * abs(shift) * .Machine$double.eps / 0.05)
    expect_equal(s$plan, ref$plan, tolerance = tol, info = shift)
    expect_equal(s$cost, sum((C + shift) * s$plan), tolerance = 1e-12,
                 info = shift)
  }
  # huge negative costs on a matching scale
  neg <- ot_sinkhorn(-1e300 * C, epsilon = 1e298)
  expect_true(neg$converged)
  expect_equal(colSums(neg$plan), rep(1 / 6, 6), tolerance = 1e-9)
  # not converged when max_iter stops it: reported as such
  slow <- ot_sinkhorn(C, epsilon = 1e-3, max_iter = 1)
  expect_false(slow$converged)
  expect_gt(slow$marginal_error, 1e-9)
})

test_that("the memory checks of ot_sinkhorn() and the partial solver take their sizes from C", {
  ws <- function(n, m) .Call(hotalign:::C_ffi_sinkhorn_workspace, n, m)
  # at least the dense plan and the two potentials, linear in n m
  expect_gte(ws(30L, 20L), 8 * (30 * 20 + 30 + 20))
  expect_equal(ws(61L, 20L) - ws(31L, 20L), ws(31L, 20L) - ws(1L, 20L))
  expect_error(ws(0L, 3L), "`n` and `m` must be whole numbers >= 1")
  pw <- function(n, m) hotalign:::partial_workspace_bytes(n, m)
  # the augmented problem's solver workspace and cost matrix at least
  expect_gte(pw(30L, 20L), .Call(hotalign:::C_ffi_ot_workspace, 31L, 21L) + 8 * 31 * 21)
  expect_identical(pw(30L, 20L), .Call(hotalign:::C_ffi_ot_partial_workspace, 30L, 20L))
})
