# layer_similarity(): every metric against a slow, obvious R reference,
# invariances, and the input checks shared with hot().

ls_system <- function(n = 40, widths = c(a = 5, b = 7), seed = 1) {
  set.seed(seed)
  lapply(as.list(widths), function(w) matrix(stats::rnorm(n * w), n, w))
}

# two systems sharing signal, with a layer wider than the number of stimuli
ls_pair <- function(n = 30, seed = 2) {
  set.seed(seed)
  base <- matrix(stats::rnorm(n * 6), n, 6)
  X <- list(x1 = base[, 1:4] + 0.3 * matrix(stats::rnorm(n * 4), n),
            x2 = base %*% matrix(stats::rnorm(6 * 40), 6, 40) +
              matrix(stats::rnorm(n * 40), n))
  Y <- list(y1 = base[, c(2, 1, 5)] + 0.5 * matrix(stats::rnorm(n * 3), n),
            y2 = matrix(stats::rnorm(n * 9), n, 9),
            y3 = base %*% matrix(stats::rnorm(6 * 35), 6, 35))
  list(X = X, Y = Y)
}

# --- slow references ---------------------------------------------------------

ref_cka <- function(x, y) {
  n <- nrow(x)
  H <- diag(n) - matrix(1 / n, n, n)
  hsic <- function(K, L) sum(diag(K %*% H %*% L %*% H))
  K <- x %*% t(x)
  L <- y %*% t(y)
  hsic(K, L) / sqrt(hsic(K, K) * hsic(L, L))
}

ref_procrustes <- function(x, y) {
  x <- scale(x, scale = FALSE)
  y <- scale(y, scale = FALSE)
  x <- x / sqrt(sum(x^2))
  y <- y / sqrt(sum(y^2))
  p <- max(ncol(x), ncol(y))
  xp <- cbind(x, matrix(0, nrow(x), p - ncol(x)))
  yp <- cbind(y, matrix(0, nrow(y), p - ncol(y)))
  s <- svd(t(xp) %*% yp)
  R <- s$u %*% t(s$v)                      # optimal rotation of xp onto yp
  1 - sum((xp %*% R - yp)^2) / 2
}

ref_rsa <- function(x, y) {
  n <- nrow(x)
  dx <- dy <- numeric(0)
  for (i in 1:(n - 1)) {
    for (j in (i + 1):n) {
      dx <- c(dx, 1 - stats::cor(x[i, ], x[j, ]))
      dy <- c(dy, 1 - stats::cor(y[i, ], y[j, ]))
    }
  }
  stats::cor(dx, dy, method = "spearman")
}

# ridge on explicitly standardised training rows, scored on the test rows
ref_linear <- function(x, y, test, lambda) {
  train <- setdiff(seq_len(nrow(x)), test)
  mu <- colMeans(y[train, , drop = FALSE])
  yc <- sweep(y, 2, mu)
  yn <- sweep(yc, 2, sqrt(colSums(yc[train, , drop = FALSE]^2)), "/")
  xc <- sweep(x, 2, colMeans(x[train, , drop = FALSE]))
  Z <- yn[train, , drop = FALSE]
  B <- solve(t(Z) %*% Z + lambda * diag(ncol(Z)), t(Z) %*% xc[train, , drop = FALSE])
  pred <- yn[test, , drop = FALSE] %*% B
  mean(vapply(seq_len(ncol(x)), function(i) stats::cor(pred[, i], x[test, i]), 0))
}

ref_matrix <- function(X, Y, f) {
  outer(seq_along(X), seq_along(Y),
        Vectorize(function(l, m) f(X[[l]], Y[[m]])))
}

bare <- function(s) unname(as.matrix(s))

# --- references --------------------------------------------------------------

test_that("cka matches HSIC with explicit centering matrices (wide layers too)", {
  p <- ls_pair()
  s <- layer_similarity(p$X, p$Y, metric = "cka")
  expect_s3_class(s, "layer_similarity")
  expect_equal(dimnames(s), list(source = c("x1", "x2"),
                                 target = c("y1", "y2", "y3")))
  expect_equal(bare(s), ref_matrix(p$X, p$Y, ref_cka), tolerance = 1e-10)
})

test_that("procrustes matches the optimal rotation found by svd, in [0, 1]", {
  p <- ls_pair()
  s <- layer_similarity(p$X, p$Y, metric = "procrustes")
  expect_equal(bare(s), ref_matrix(p$X, p$Y, ref_procrustes),
               tolerance = 1e-10)
  expect_true(all(s >= 0 & s <= 1))
})

test_that("rsa matches Spearman r of RDMs built by explicit loops", {
  p <- ls_pair(n = 15)
  s <- layer_similarity(p$X, p$Y, metric = "rsa")
  expect_equal(bare(s), ref_matrix(p$X, p$Y, ref_rsa), tolerance = 1e-10)
})

test_that("linear matches ridge by solve() on the same split, and qr least squares", {
  p <- ls_pair(n = 40)
  test <- c(3, 8, 11, 17, 20, 26, 31, 38)
  for (lambda in c(0.1, 2)) {
    s <- layer_similarity(p$X, p$Y, metric = "linear", test = test,
                          lambda = lambda)
    ref <- ref_matrix(p$X, p$Y, function(x, y) ref_linear(x, y, test, lambda))
    expect_equal(bare(s), ref, tolerance = 1e-8)
    expect_equal(attr(s, "test"), test)
    expect_equal(attr(s, "lambda"), lambda)
  }
  # lambda = 0 with a narrow target layer is least squares with intercept
  s0 <- layer_similarity(p$X["x1"], p$Y["y1"], metric = "linear",
                         test = test, lambda = 0)
  train <- setdiff(1:40, test)
  x <- p$X$x1
  y <- p$Y$y1
  fit <- qr.coef(qr(cbind(1, y[train, ])), x[train, ])
  pred <- cbind(1, y[test, ]) %*% fit
  ref <- mean(vapply(1:4, function(i) stats::cor(pred[, i], x[test, i]), 0))
  expect_equal(bare(s0)[1, 1], ref, tolerance = 1e-8)
})

test_that("linear uses the split of hot() for the same seed and holdout", {
  sim <- simulate_hierarchy(n_stimuli = 50, source_layers = 1,
                            target_layers = 2, source_units = 6,
                            target_units = 4, seed = 3)
  fit <- hot(sim$X, sim$Y, seed = 7, n_perm = 0, threads = 1,
             progress = FALSE)
  s <- layer_similarity(sim$X, sim$Y, metric = "linear", seed = 7)
  expect_equal(attr(s, "test"), fit$test)
  expect_equal(attr(s, "train"), fit$train)
})

test_that("soft_matching equals soft_matching() per pair and brute-force assignment", {
  p <- ls_system(n = 30, widths = c(a = 4, b = 6))
  q <- ls_system(n = 30, widths = c(c = 4, d = 3), seed = 5)
  s <- layer_similarity(p, q, metric = "soft_matching", threads = 1)
  ref <- ref_matrix(p, q, function(x, y) soft_matching(x, y)$correlation)
  expect_equal(bare(s), ref, tolerance = 1e-12)
  # equal widths: the best of all 4! permutations of mean correlation
  perms <- function(v) {
    if (length(v) <= 1) return(list(v))
    do.call(c, lapply(seq_along(v), function(i)
      lapply(perms(v[-i]), function(r) c(v[i], r))))
  }
  r <- stats::cor(p$a, q$c)
  brute <- max(vapply(perms(1:4), function(pi) mean(r[cbind(1:4, pi)]), 0))
  expect_equal(bare(s)[1, 1], brute, tolerance = 1e-12)
})

# --- properties --------------------------------------------------------------

test_that("cka is 1 for identical layers and invariant to rotation and scaling", {
  p <- ls_pair()
  Q <- qr.Q(qr(matrix(stats::rnorm(16), 4, 4)))
  X <- list(x = p$X$x1)
  Y <- list(same = p$X$x1, rotated = 3.7 * p$X$x1 %*% Q + 5,
            other = p$Y$y2)
  s <- bare(layer_similarity(X, Y, metric = "cka"))
  expect_equal(s[1, 1], 1, tolerance = 1e-12)
  expect_equal(s[1, 2], 1, tolerance = 1e-12)
  expect_lt(s[1, 3], 1)
  # and the other way round
  Y2 <- list(a = p$Y$y1, b = p$Y$y2)
  X2 <- list(a = p$X$x1, b = 0.2 * p$X$x1 %*% Q)
  s2 <- bare(layer_similarity(X2, Y2, metric = "cka"))
  expect_equal(s2[1, ], s2[2, ], tolerance = 1e-12)
})

test_that("procrustes is 1 for orthogonal transforms up to scale, and symmetric metrics transpose", {
  p <- ls_pair()
  Q <- qr.Q(qr(matrix(stats::rnorm(16), 4, 4)))
  s <- bare(layer_similarity(list(x = p$X$x1),
                             list(r = 2 * p$X$x1 %*% Q - 1),
                             metric = "procrustes"))
  expect_equal(s[1, 1], 1, tolerance = 1e-12)
  for (metric in c("cka", "rsa", "procrustes")) {
    a <- bare(layer_similarity(p$X, p$Y, metric = metric))
    b <- bare(layer_similarity(p$Y, p$X, metric = metric))
    expect_equal(a, t(b), tolerance = 1e-12, info = metric)
  }
})

test_that("rsa and soft_matching are 1 for identical layers (columns permuted)", {
  p <- ls_pair()
  X <- list(x = p$X$x1)
  Y <- list(y = p$X$x1[, c(3, 1, 4, 2)])
  expect_equal(bare(layer_similarity(X, Y, metric = "rsa"))[1, 1], 1)
  expect_equal(bare(layer_similarity(X, Y, metric = "soft_matching",
                                     threads = 1))[1, 1], 1)
})

test_that("linear is near 1 for a noiseless linear map and near 0 for noise", {
  set.seed(4)
  y <- matrix(stats::rnorm(60 * 5), 60, 5)
  X <- list(mapped = y %*% matrix(stats::rnorm(15), 5, 3))
  Y <- list(y = y, noise = matrix(stats::rnorm(60 * 5), 60, 5))
  s <- bare(layer_similarity(X, Y, metric = "linear", seed = 1,
                             lambda = 1e-8))
  expect_gt(s[1, 1], 0.999)
  expect_lt(abs(s[1, 2]), 0.5)
})

test_that("simulated hierarchy: every metric finds each source layer's block", {
  sim <- simulate_hierarchy(n_stimuli = 80, source_layers = 2,
                            target_layers = 4, source_units = 10,
                            target_units = 8, noise = 0.3, seed = 1)
  for (metric in c("soft_matching", "cka", "rsa", "procrustes", "linear")) {
    s <- layer_similarity(sim$X, sim$Y, metric = metric, seed = 1,
                          threads = 1)
    best <- apply(bare(s), 1, which.max)
    expect_equal(unname(sim$block[best]), 1:2, info = metric)
  }
})

# --- input checks ------------------------------------------------------------

test_that("inputs are checked as in hot(): errors name the argument and layer", {
  p <- ls_pair()
  expect_error(layer_similarity(p$X$x1, p$Y), "`X` must be a list of layers")
  expect_error(layer_similarity(list(), p$Y), "`X` is an empty list")
  bad <- p$Y
  bad$y2[3, 2] <- NA
  expect_error(layer_similarity(p$X, bad, metric = "cka"),
               "layer `y2` of `Y` has 1 NA/NaN/Inf value")
  short <- lapply(p$Y, function(y) y[-1, ])
  expect_error(layer_similarity(p$X, short), "same stimuli")
  expect_error(layer_similarity(p$X, p$Y, metric = "nope"), "should be one of")
  expect_error(layer_similarity(lapply(p$X, function(x) x[1:2, , drop = FALSE]),
                                lapply(p$Y, function(x) x[1:2, , drop = FALSE])),
               "at least 3 stimuli")
  expect_error(layer_similarity(p$X, p$Y, metric = "linear", holdout = 0),
               "`holdout` must be > 0")
  expect_error(layer_similarity(p$X, p$Y, lambda = -1), "`lambda`")
  expect_error(layer_similarity(p$X, p$Y, threads = 0), "`threads`")
})

test_that("edge cases: one unit, constant column, constant layer", {
  p <- ls_pair()
  one <- list(u = p$X$x1[, 1, drop = FALSE])
  expect_error(layer_similarity(one, p$Y, metric = "rsa"),
               "layer `u` of `X` has 1 unit: RSA needs at least 2 units")
  # one unit is fine for the others
  expect_equal(dim(layer_similarity(one, p$Y, metric = "cka")), c(1L, 3L))
  expect_equal(dim(layer_similarity(one, p$Y, metric = "procrustes")),
               c(1L, 3L))
  const <- p$Y
  const$y1[, 2] <- 4
  expect_error(layer_similarity(p$X, const, metric = "soft_matching",
                                threads = 1),
               "layer `y1` of `Y` has 1 column constant")
  expect_error(layer_similarity(p$X, const, metric = "linear", seed = 1),
               "layer `y1` of `Y` has 1 column constant")
  dropped <- layer_similarity(p$X, const, metric = "soft_matching",
                              constant = "drop", threads = 1)
  expect_equal(attr(dropped, "dropped")$target$y1, 2L)
  ref <- soft_matching(p$X$x1, const$y1[, -2])$correlation
  expect_equal(bare(dropped)[1, 1], ref, tolerance = 1e-12)
  # a constant column does not change cka (it is zero after centring)
  expect_equal(bare(layer_similarity(p$X, const, metric = "cka"))[, 1],
               unname(vapply(p$X, function(x) ref_cka(x, const$y1[, -2]), 0)),
               tolerance = 1e-10)
  flat <- list(f = matrix(2, 30, 3))
  expect_error(layer_similarity(flat, p$Y, metric = "cka"),
               "layer `f` of `X` is constant over the stimuli")
  row_flat <- p$X
  row_flat$x1[5, ] <- 1
  expect_error(layer_similarity(row_flat, p$Y, metric = "rsa"),
               "layer `x1` of `X` has 1 stimulus whose response pattern is constant")
})

test_that("linear reports units with undefined held-out correlation", {
  set.seed(6)
  x <- matrix(stats::rnorm(30 * 3), 30, 3)
  test <- 21:30
  x[test, 2] <- 0.5                     # constant on the held-out rows only
  y <- matrix(stats::rnorm(30 * 4), 30, 4)
  expect_warning(s <- layer_similarity(list(x = x), list(y = y),
                                       metric = "linear", test = test),
                 "undefined for 1 source unit")
  expect_equal(attr(s, "undefined"),
               data.frame(source = "x", target = "y", unit = 2L))
  expect_equal(bare(s)[1, 1], ref_linear(x[, -2], y, test, 0.1),
               tolerance = 1e-8)
})

# --- methods -----------------------------------------------------------------

test_that("print, as.data.frame, as.matrix and plot", {
  p <- ls_pair()
  s <- layer_similarity(p$X, p$Y, metric = "cka")
  out <- capture.output(res <- print(s))
  expect_identical(res, s)
  expect_match(out[1], "linear CKA: 2 source x 3 target layers", fixed = TRUE)
  best <- apply(bare(s), 1, which.max)
  expect_match(out[length(out)], paste0("x1 -> y", best[1]), fixed = TRUE)

  df <- as.data.frame(s)
  expect_equal(names(df), c("source", "target", "similarity", "best",
                            "metric"))
  expect_equal(nrow(df), 6L)
  expect_equal(df$similarity, as.vector(bare(s)))
  expect_equal(as.vector(tapply(df$best, df$source, sum)), c(1L, 1L))
  expect_true(all(df$best[df$best] == TRUE))
  expect_equal(as.character(df$target[df$best]), paste0("y", best))

  m <- as.matrix(s)
  expect_false(inherits(m, "layer_similarity"))
  expect_null(attr(m, "metric"))

  fit <- hot(p$X, p$Y, seed = 1, n_perm = 0, threads = 1, progress = FALSE)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_identical(plot(s), s)
  expect_identical(plot(s, plan = fit), s)
  expect_identical(plot(s, plan = fit$plan, numbers = TRUE), s)
  expect_error(plot(s, plan = matrix(0, 3, 3)), "`plan` must be")
  expect_error(plot(s, plan = t(fit$plan)), "`plan` must be")
})

test_that("linear predictivity uses the undefined rule of ?hot (no round-off scores)", {
  set.seed(3)
  y <- rnorm(40)
  X <- list(a = cbind(rnorm(40), rnorm(40)))
  # the kernel: a prediction constant up to one ulp is undefined, a varying
  # one is scored
  C <- getFromNamespace("C_ffi_correlations", "hotalign")
  a <- matrix(rep(0.2, 10), 10, 1) + c(0, 2^-54)  # constant up to one ulp
  expect_true(is.na(.Call(C, a, matrix(rnorm(10), 10, 1), NULL)))
  expect_equal(.Call(C, cbind(1:10 + 0), cbind(2 * (1:10)), NULL), 1)
  expect_error(.Call(C, diag(2), diag(3), NULL), "`a` and `b` must")
  expect_error(.Call(C, diag(2), diag(2), 1), "`bound` must")
  s <- layer_similarity(X, list(b = cbind(y, rnorm(40))), metric = "linear",
                        test = 31:40)
  expect_true(all(is.finite(unclass(s))))
})
