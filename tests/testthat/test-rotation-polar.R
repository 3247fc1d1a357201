# The Procrustes step's polar factor (src/rotation.c, polar_eig): from a
# symmetric eigendecomposition of B B' with certified first-order
# corrections, dgesdd where the certificate fails.  Checked against the
# straightforward descent (every step by dgesdd, polar = FALSE) and against
# base svd() on the recorded plan.

polar_pair <- function(T, n, m, seed, k = 5, noise = 1) {
  set.seed(seed)
  Z <- matrix(stats::rnorm(T * k), T, k)
  x <- Z %*% matrix(stats::rnorm(k * n), k, n) + noise * matrix(stats::rnorm(T * n), T, n)
  y <- Z %*% matrix(stats::rnorm(k * m), k, m) + noise * matrix(stats::rnorm(T * m), T, m)
  list(Xs = std_cols(x), Ys = std_cols(y))
}

# W = polar(M) from base svd(): u v'
svd_polar <- function(M) {
  s <- svd(M)
  s$u %*% t(s$v)
}

test_that("the eigendecomposition polar factor gives the dgesdd descent (n <= T, n > T)", {
  # T, n, m: square B (n <= T) and r x n B with r = T < n
  for (sh in list(c(120, 40, 60), c(300, 200, 260), c(60, 100, 120), c(45, 60, 60))) {
    T <- sh[1]; n <- sh[2]; m <- sh[3]
    d <- polar_pair(T, n, m, seed = sum(sh))
    fast <- c_parts(d$Xs, d$Ys, max_iter = 30, tol = 1e-10, polar = TRUE)
    slow <- c_parts(d$Xs, d$Ys, max_iter = 30, tol = 1e-10, polar = FALSE)
    label <- paste0("T ", T, ", ", n, " x ", m)
    expect_identical(fast$status, 0L, label = label)
    expect_gt(fast$iterations, 1L)
    # every step took the fast route (nothing here is near singular)
    expect_identical(fast$polar_fast + fast$polar_reused, fast$iterations, label = label)
    expect_identical(fast$polar_fallback, 0L, label = label)
    expect_identical(slow$polar_fast, 0L)
    expect_identical(fast$iterations, slow$iterations, label = label)
    expect_equal(fast$trace, slow$trace, tolerance = 1e-12, label = label)
    expect_equal(fast$cost, slow$cost, tolerance = 1e-12, label = label)
    expect_equal(fast$W, slow$W, tolerance = 1e-10, label = label)
    # R is orthogonal to round-off, entry by entry
    expect_lt(max(abs(crossprod(fast$R) - diag(n))), 1e-13)
    # the last step against base svd() of A (n Q)' from the recorded plan
    A <- crossprod(d$Xs, d$Ys)
    Q <- matrix(0, n, m)
    Q[cbind(fast$plan_i, fast$plan_j)] <- fast$plan_x
    ref <- svd_polar(A %*% t(n * Q))
    if (n <= T) {
      expect_equal(fast$R, ref, tolerance = 1e-10, label = label)
    } else {
      # R is unique on the row space of Xs only
      expect_equal(d$Xs %*% fast$R, d$Xs %*% ref, tolerance = 1e-10, label = label)
    }
    # the final cost is the exact OT of K_R for this R
    XR <- d$Xs %*% fast$R
    K <- 0.5 * colSums(XR^2) + 0.5 - crossprod(XR, d$Ys)
    expect_equal(ot_exact(K)$cost, fast$cost, tolerance = 1e-10, label = label)
  }
})

test_that("a rank-deficient Procrustes matrix falls back to dgesdd bit for bit", {
  # (a) fewer targets than units: rank(B) <= m < n = r
  d <- polar_pair(T = 80, n = 20, m = 8, seed = 5)
  fast <- c_parts(d$Xs, d$Ys, max_iter = 30, tol = 0, polar = TRUE)
  slow <- c_parts(d$Xs, d$Ys, max_iter = 30, tol = 0, polar = FALSE)
  expect_identical(fast$polar_fast, 0L)
  expect_identical(fast$polar_fallback + fast$polar_reused, fast$iterations)
  expect_true(fast$rank_deficient)
  expect_identical(fast$trace, slow$trace)
  expect_identical(fast$R, slow$R)
  # (b) as many targets as units, but targets of rank 3: rank(B) <= 3
  set.seed(6)
  T <- 60
  Xs <- std_cols(matrix(stats::rnorm(T * 10), T, 10))
  Ys <- std_cols(matrix(stats::rnorm(T * 3), T, 3) %*% matrix(stats::rnorm(3 * 15), 3, 15))
  fast <- c_parts(Xs, Ys, max_iter = 30, tol = 0, polar = TRUE)
  slow <- c_parts(Xs, Ys, max_iter = 30, tol = 0, polar = FALSE)
  expect_identical(fast$status, 0L)
  expect_identical(fast$polar_fast, 0L)
  expect_identical(fast$polar_fallback + fast$polar_reused, fast$iterations)
  expect_identical(fast$trace, slow$trace)
  expect_identical(fast$R, slow$R)
  expect_identical(fast$R_from_plan, slow$R_from_plan)
})

test_that("nearly singular Procrustes matrices give the dgesdd descent's objective", {
  # targets of rank 3 plus noise of 1e-6 .. 1e-2: cond(B) from ~1e8 down
  for (eps in c(1e-6, 1e-4, 1e-2)) {
    set.seed(7)
    T <- 80
    Xs <- std_cols(matrix(stats::rnorm(T * 12), T, 12))
    y <- matrix(stats::rnorm(T * 3), T, 3) %*% matrix(stats::rnorm(3 * 16), 3, 16)
    Ys <- std_cols(y + eps * matrix(stats::rnorm(T * 16), T, 16))
    fast <- c_parts(Xs, Ys, max_iter = 30, tol = 1e-10, polar = TRUE)
    slow <- c_parts(Xs, Ys, max_iter = 30, tol = 1e-10, polar = FALSE)
    label <- paste0("noise ", eps)
    expect_identical(fast$status, 0L, label = label)
    expect_identical(fast$polar_fast + fast$polar_fallback + fast$polar_reused,
                     fast$iterations, label = label)
    # the most singular takes dgesdd, the best conditioned the fast route
    if (eps == 1e-6) expect_gt(fast$polar_fallback, 0L)
    if (eps == 1e-2) expect_gt(fast$polar_fast, 0L)
    expect_identical(fast$iterations, slow$iterations, label = label)
    expect_equal(fast$trace, slow$trace, tolerance = 1e-9, label = label)
    expect_lt(max(abs(crossprod(fast$R) - diag(12))), 1e-13)
  }
})

test_that("a perfect alignment (targets a rotation of the source) is found by the fast route", {
  set.seed(8)
  T <- 90
  Xs <- std_cols(matrix(stats::rnorm(T * 30), T, 30))
  rot <- rand_orthogonal(30)
  Ys <- Xs %*% rot
  fast <- c_parts(Xs, Ys, max_iter = 50, tol = 1e-12, polar = TRUE)
  slow <- c_parts(Xs, Ys, max_iter = 50, tol = 1e-12, polar = FALSE)
  expect_gt(fast$polar_fast, 0L)
  expect_identical(fast$iterations, slow$iterations)
  expect_equal(fast$trace, slow$trace, tolerance = 1e-9)
  expect_lt(fast$cost, 1e-10)
})

test_that("the dense R of compact factors is Q_V D Q_W' by the kernel route", {
  # Q_V D Q_W' straight from the Householder factors with LAPACK's dormqr
  # (qr.qy / qr.qty on a LAPACK-style qr object)
  ref_dense <- function(stored, n) {
    r <- stored$r
    f <- stored$factors
    nr <- n * r
    as_qr <- function(h, tau) structure(list(qr = matrix(h, n, r), rank = r, qraux = tau,
                                             pivot = seq_len(r)),
                                        useLAPACK = TRUE, class = "qr")
    qv <- as_qr(f[seq_len(nr)], f[2 * nr + seq_len(r)])
    qw <- as_qr(f[nr + seq_len(nr)], f[2 * nr + r + seq_len(r)])
    d <- c(f[2 * nr + 2 * r + seq_len(r)], rep(1, n - r))
    qr.qy(qv, d * qr.qty(qw, diag(n)))
  }
  # the fit keeps compact factors where 2 n r + 3 r < n^2, i.e. r < n / 2:
  # there the kernel route forms R (the dormqr route, r > n / 2, forms the
  # descent's R in the subspace tests of test-rotation.R)
  for (w in c(120, 200)) {
    set.seed(28)
    T <- 60
    X <- list(X1 = matrix(stats::rnorm(T * w), T, w), X2 = matrix(stats::rnorm(T * 10), T, 10))
    rot <- rand_orthogonal(w)
    sys <- list(X = X, Y = list(Y1 = X$X1 %*% rot + 0.5 * matrix(stats::rnorm(T * w), T, w),
                                Y2 = X$X2 + 0.5 * matrix(stats::rnorm(T * 10), T, 10)))
    fit <- hot(sys$X, sys$Y, rotation = TRUE, seed = 6, n_perm = 0, threads = 2)
    stored <- fit$rotation$matrices[[1, 1]]
    expect_s3_class(stored, "hot_compact_rotation")
    R <- hot_pair_rotation(fit, 1, 1)
    expect_equal(R, ref_dense(stored, w), tolerance = 1e-13, label = paste(w, "units"))
    expect_lt(max(abs(crossprod(R) - diag(w))), 1e-13)
  }
})
