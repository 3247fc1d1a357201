# The one-pass statistics-and-rows kernel of the engine (src/standardise.c,
# col_stats_standardise()) against its reference, col_train_stats() +
# standardise_rows() (reached through ffi_col_stats and ffi_standardise), bit
# for bit: its vector path (AVX2, where the processor has it), its generic
# path, and 1 or 2 threads.

std_kernel <- function(x, train, test, simd, threads = 1L) {
  .Call(hotalign:::C_ffi_col_stats_standardise, x, as.integer(train), as.integer(test),
        simd, as.integer(threads))
}

std_reference <- function(x, train, test) {
  st <- .Call(hotalign:::C_ffi_col_stats, x, as.integer(train))
  keep <- which(!st$constant)
  list(stats = st, keep = keep,
       train = .Call(hotalign:::C_ffi_standardise, x, as.integer(train), keep,
                     st$center, st$scale, 1L),
       test = .Call(hotalign:::C_ffi_standardise, x, as.integer(test), keep,
                    st$center, st$scale, 1L))
}

expect_kernel_matches <- function(x, train, test) {
  ref <- std_reference(x, train, test)
  for (simd in c(TRUE, FALSE)) for (th in 1:2) {
    got <- std_kernel(x, train, test, simd, th)
    expect_identical(got$center, ref$stats$center)
    expect_identical(got$scale, ref$stats$scale)
    expect_identical(got$constant, ref$stats$constant)
    expect_identical(got$train[, ref$keep, drop = FALSE], ref$train)
    expect_identical(got$test[, ref$keep, drop = FALSE], ref$test)
  }
}

test_that("the one-pass kernel is col_train_stats() + standardise_rows() bit for bit", {
  set.seed(11)
  for (n in c(1:9, 15:17, 33)) for (T in c(2L, 3L, 7L, 50L)) {
    x <- matrix(rnorm(T * n, sd = 3), T, n) + rep(rnorm(n, sd = 10), each = T)
    tr <- sort(sample.int(T, max(2L, T - T %/% 4)))
    te <- setdiff(seq_len(T), tr)
    expect_kernel_matches(x, tr, te)
    expect_kernel_matches(x, sample(tr), c(te, te))  # any row order, repeats
  }
  # the same result as the plain R definition
  x <- matrix(rnorm(40 * 6), 40, 6)
  got <- std_kernel(x, 1:30, 31:40, TRUE)
  mu <- colMeans(x[1:30, ])
  s <- sqrt(colSums(sweep(x[1:30, ], 2, mu)^2))
  expect_equal(got$center, mu, tolerance = 1e-14)
  expect_equal(got$scale, s, tolerance = 1e-14)
  expect_equal(got$test, sweep(sweep(x[31:40, ], 2, mu), 2, s, "/"), tolerance = 1e-13)
})

test_that("the one-pass kernel keeps the reference's constants and extreme-range fallbacks", {
  set.seed(12)
  T <- 30L
  x <- matrix(rnorm(T * 11), T, 11)
  x[, 2] <- 5                          # constant
  x[, 3] <- c(rep(1, T - 1), 2)        # constant on the training rows only
  x[, 4] <- x[, 4] * 1e300             # sum overflows: the x / n mean
  x[, 6] <- x[, 6] * 1e200             # squares overflow: scaled norm
  x[, 7] <- x[, 7] * 1e-200            # squares underflow: scaled norm
  x[, 9] <- 0.1 * (1:T)                # an exact ramp
  x[, 10] <- c(-0, 0, rep(0, T - 2))   # signed zeros: constant
  x[, 11] <- .Machine$double.xmax * c(1, -1)
  tr <- seq_len(T - 1L)
  expect_kernel_matches(x, tr, T)
  expect_kernel_matches(x[, c(4, 1, 2, 3)], tr, c(T, 1L))
  expect_kernel_matches(x[, 6:7], tr, integer())
  got <- std_kernel(x, tr, T, TRUE)
  expect_identical(which(got$constant), c(2L, 3L, 10L))
})

test_that("hot() drops constant columns from the one-pass copies as before", {
  set.seed(13)
  X <- list(a = matrix(rnorm(40 * 9), 40, 9), b = matrix(rnorm(40 * 3), 40, 3))
  Y <- list(c = matrix(rnorm(40 * 6), 40, 6))
  X$a[, c(1, 4, 9)] <- 2
  Y$c[, 5] <- -1
  fit <- hot(X, Y, constant = "drop", seed = 1, n_perm = 0, threads = 2, progress = FALSE)
  ref <- hot(list(a = X$a[, -c(1, 4, 9)], b = X$b), list(c = Y$c[, -5]), seed = 1,
             n_perm = 0, threads = 1, progress = FALSE)
  expect_identical(fit$dropped$source$a, c(1L, 4L, 9L))
  expect_identical(fit$dropped$target$c, 5L)
  for (k in c("plan", "cost", "objective", "score", "layer_scores", "baselines")) {
    expect_identical(unname(fit[[k]]), unname(ref[[k]]))
  }
  expect_identical(fit$inner$x, ref$inner$x)
})

test_that("the engine's vector paths give the bits of its generic paths", {
  skip_on_cran()
  # hot() and ot_exact() in two fresh processes, one with the AVX2 paths of
  # standardise.c, reconstruct.c, the simplex's pricing and the cost kernel's
  # packing turned off (where the
  # processor has none, both runs take the generic paths)
  code <- c(
    "args <- commandArgs(TRUE)",
    "set.seed(5)",
    "mk <- function(ns) lapply(setNames(ns, paste0('l', seq_along(ns))),",
    "  function(n) matrix(rnorm(90 * n), 90, n))",
    "X <- mk(c(5, 12, 9)); Y <- mk(c(17, 3, 8))",
    "X$l2[, 4] <- 1",
    "fits <- list(",
    "  ex = hot(hot_example$X, hot_example$Y, seed = 1, threads = 2, progress = FALSE),",
    "  drop = hot(X, Y, constant = 'drop', splits = 2, seed = 2, threads = 2,",
    "             progress = FALSE),",
    "  rot = hot(X[c(1, 3)], Y[2:3], rotation = TRUE, seed = 3, n_perm = 5,",
    "            threads = 1, progress = FALSE),",
    "  part = hot(X[c(1, 3)], Y, unit_mass = 0.8, seed = 4, n_perm = 5, threads = 1,",
    "             progress = FALSE))",
    "fits <- lapply(fits, function(f) { f$call <- NULL; f })",
    "# the simplex's pricing: random, tied and constant costs, uniform masses",
    "fits$ot <- lapply(1:150, function(k) {",
    "  n <- c(30, 20, 7, 41)[k %% 4 + 1]; m <- c(20, 30, 13, 5)[k %% 3 + 1]",
    "  K <- switch(k %% 3 + 1, matrix(runif(n * m), n, m),",
    "              matrix(sample(0:2, n * m, TRUE), n, m), matrix(1, n, m))",
    "  r <- ot_exact(K)",
    "  list(r$plan@i, r$plan@p, r$plan@x, r$cost, r$u, r$v, r$iterations)",
    "})",
    "saveRDS(fits, args[1])")
  both <- vector_and_generic(code, timeout = 120)
  vector <- both$vector
  generic <- both$generic
  expect_named(vector, c("ex", "drop", "rot", "part", "ot"))
  for (k in names(vector)) expect_identical(vector[[k]], generic[[k]], label = k)
})
