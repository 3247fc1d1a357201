# noise_ceiling(): split-half reliability, Spearman-Brown corrected, checked
# against a slow unit-by-unit loop and against simulated data whose
# reliability is known, s2 / (s2 + n2 / k).

# the obvious implementation: every unit, every split, cor() on the half means
ref_noise_ceiling <- function(R, splits) {
  k <- dim(R)[3]
  h <- k %/% 2
  f <- k / h
  vapply(seq_len(dim(R)[2]), function(u) {
    rs <- vapply(splits, function(sp) {
      a <- rowMeans(matrix(R[, u, sp[[1]]], nrow = dim(R)[1]), na.rm = TRUE)
      b <- rowMeans(matrix(R[, u, sp[[2]]], nrow = dim(R)[1]), na.rm = TRUE)
      ok <- is.finite(a) & is.finite(b)
      if (sum(ok) < 3 || stats::sd(a[ok]) == 0 || stats::sd(b[ok]) == 0) return(NA_real_)
      stats::cor(a[ok], b[ok])
    }, numeric(1))
    r <- mean(rs, na.rm = TRUE)
    if (is.nan(r)) return(NA_real_)
    f * r / (1 + (f - 1) * r)
  }, numeric(1))
}

sim_repeats <- function(n_stim, signal_sd, noise_sd, k) {
  S <- matrix(stats::rnorm(n_stim * length(signal_sd)), n_stim) %*% diag(signal_sd, length(signal_sd))
  array(vapply(seq_len(k), function(r) {
    S + matrix(stats::rnorm(length(S)), n_stim) %*% diag(noise_sd, length(noise_sd))
  }, S), c(dim(S), k))
}

test_that("noise_ceiling() matches the slow loop over units and splits", {
  set.seed(41)
  for (k in 2:7) {
    R <- sim_repeats(30, stats::runif(6, 0.2, 1), stats::runif(6, 0.2, 2), k)
    set.seed(7)
    nc <- noise_ceiling(R, n_splits = 20)
    set.seed(7)
    splits <- hotalign:::repeat_splits(k, 20)
    expect_equal(attr(nc, "splits"), length(splits))
    expect_equal(nc$reliability, ref_noise_ceiling(R, splits), tolerance = 1e-12)
    expect_identical(nc$unit, 1:6)
  }
})

test_that("noise_ceiling() lists every split of few repeats and draws many at random", {
  count <- function(k) length(hotalign:::repeat_splits(k, 1000))
  expect_identical(vapply(2:6, count, 1L), c(1L, 3L, 3L, 15L, 10L))
  for (k in 2:6) {
    sp <- hotalign:::repeat_splits(k, 1000)
    keys <- vapply(sp, function(x) {
      paste(sort(c(paste(sort(x[[1]]), collapse = ","),
                   paste(sort(x[[2]]), collapse = ","))), collapse = "|")
    }, "")
    expect_false(anyDuplicated(keys) > 0)
    expect_true(all(vapply(sp, function(x) !length(intersect(x[[1]], x[[2]])) &&
                             length(x[[1]]) == k %/% 2 && length(x[[2]]) == k %/% 2, TRUE)))
  }
  # 10 repeats: 126 splits > 100, so 100 are drawn
  expect_length(hotalign:::repeat_splits(10, 100), 100L)
  # with a seed the result is reproducible and the session's state untouched
  R <- sim_repeats(40, rep(1, 3), rep(1, 3), 10)
  set.seed(3)
  before <- stats::runif(1)
  set.seed(3)
  a <- noise_ceiling(R, n_splits = 30, seed = 9)
  expect_identical(stats::runif(1), before)
  expect_identical(noise_ceiling(R, n_splits = 30, seed = 9), a)
})

test_that("noise_ceiling() recovers the known reliability s2 / (s2 + n2 / k)", {
  set.seed(42)
  n_stim <- 400
  signal_sd <- rep(1, 8)
  noise_sd <- c(0.2, 0.5, 1, 1.5, 2, 3, 4, 6)
  for (k in c(2, 3, 4, 5)) {
    truth <- signal_sd^2 / (signal_sd^2 + noise_sd^2 / k)
    est <- replicate(30, noise_ceiling(sim_repeats(n_stim, signal_sd, noise_sd, k))$reliability)
    # unbiased to well within the spread over data sets
    bias <- rowMeans(est) - truth
    sd_est <- apply(est, 1, stats::sd)
    expect_true(all(abs(bias) < 4 * sd_est / sqrt(30) + 0.01), info = paste("k =", k))
  }
})

test_that("the delta-method se is conservative but of the right size; the bootstrap se matches the spread", {
  set.seed(43)
  n_stim <- 200
  signal_sd <- rep(1, 5)
  noise_sd <- c(0.5, 1, 2, 3, 4)
  k <- 4
  runs <- replicate(40, {
    nc <- noise_ceiling(sim_repeats(n_stim, signal_sd, noise_sd, k), se = "bootstrap", n_boot = 100)
    nc_d <- noise_ceiling(sim_repeats(n_stim, signal_sd, noise_sd, k))
    c(nc$reliability, nc$se, nc_d$reliability, nc_d$se)
  })
  sd_boot_est <- apply(runs[1:5, ], 1, stats::sd)
  se_boot <- rowMeans(runs[6:10, ])
  sd_delta_est <- apply(runs[11:15, ], 1, stats::sd)
  se_delta <- rowMeans(runs[16:20, ])
  # the bootstrap se estimates the spread of the estimate over data sets
  expect_true(all(se_boot / sd_boot_est > 0.65 & se_boot / sd_boot_est < 1.5))
  # the delta se (of a single split) is at least the spread, and not wildly more
  expect_true(all(se_delta / sd_delta_est > 0.85 & se_delta / sd_delta_est < 3))
})

test_that("noise_ceiling() takes a list of repeats, handles NA, constant units and 2 repeats", {
  set.seed(44)
  R <- sim_repeats(50, rep(1, 4), rep(1, 4), 2)
  reps <- lapply(1:2, function(r) {
    x <- R[, , r]
    colnames(x) <- paste0("v", 1:4)
    x
  })
  from_list <- noise_ceiling(reps)
  expect_identical(from_list$unit, paste0("v", 1:4))
  expect_equal(from_list$reliability, noise_ceiling(R)$reliability)
  # 2 repeats: one split, r stepped up to 2 r / (1 + r)
  r <- vapply(1:4, function(u) stats::cor(R[, u, 1], R[, u, 2]), 1)
  expect_equal(from_list$reliability, 2 * r / (1 + r), tolerance = 1e-12)
  expect_equal(from_list$split_half, r, tolerance = 1e-12)
  expect_equal(from_list$se, 2 * (1 - r^2) / ((1 + r)^2 * sqrt(47)), tolerance = 1e-12)
  # a constant unit: NA, reported, not an error
  R2 <- R
  R2[, 3, ] <- 5
  nc <- noise_ceiling(R2)
  expect_true(is.na(nc$reliability[3]) && is.na(nc$se[3]))
  expect_equal(nc$reliability[-3], noise_ceiling(R)$reliability[-3])
  # NA values: left out of the half means, stimuli without a half left out
  R3 <- sim_repeats(60, rep(1, 3), rep(1, 3), 4)
  R3[1:5, 1, 1] <- NA
  R3[6, 2, ] <- NA
  set.seed(1)
  nc <- noise_ceiling(R3)
  ref <- ref_noise_ceiling(R3, hotalign:::repeat_splits(4, 100))
  expect_equal(nc$reliability, ref, tolerance = 1e-12)
  expect_true(all(is.finite(nc$reliability)))
  # noise only: near-zero or negative reliability, floored at -1
  R4 <- array(stats::rnorm(30 * 5 * 2), c(30, 5, 2))
  expect_true(all(noise_ceiling(R4)$reliability >= -1))
})

test_that("noise_ceiling() refuses bad input with classed errors naming the argument", {
  R <- array(stats::rnorm(20 * 3 * 2), c(20, 3, 2))
  expect_error(noise_ceiling(R[, , 1]), "`responses` must be an array", class = "hotalign_error_input")
  expect_error(noise_ceiling(R[, , 1, drop = FALSE]), "at least 2 repeats", class = "hotalign_error_input")
  expect_error(noise_ceiling(list(R[, , 1])), "at least 2 repeats", class = "hotalign_error_input")
  expect_error(noise_ceiling(list(R[, , 1], R[-1, , 2])), "same stimuli x units shape", class = "hotalign_error_input")
  expect_error(noise_ceiling(list(R[, , 1], "a")), "repeat 2 of `responses`", class = "hotalign_error_input")
  R[1, 1, 1] <- Inf
  expect_error(noise_ceiling(R), "NaN/Inf", class = "hotalign_error_input")
  R[1, 1, 1] <- 0
  expect_error(noise_ceiling(R, n_splits = 0), "`n_splits`", class = "hotalign_error_input")
  expect_error(noise_ceiling(R, se = "jackknife"), "should be one of")
  expect_error(noise_ceiling(R, n_boot = 1.5), "`n_boot`", class = "hotalign_error_input")
  err <- expect_error(noise_ceiling("x"), class = "hotalign_error_input")
  expect_identical(err$arg, "responses")
})

test_that("noise_ceiling() is scale-invariant near the double limits", {
  set.seed(21)
  signal <- matrix(rnorm(30 * 4), 30, 4)
  r <- array(rep(signal, 4) + rnorm(30 * 4 * 4, sd = 0.5), c(30, 4, 4))
  ref <- noise_ceiling(r, n_splits = 10, seed = 1)
  expect_true(all(is.finite(ref$reliability)))
  # a power of two changes no bit; any other factor only round-off
  expect_identical(noise_ceiling(r * 2^-900, n_splits = 10, seed = 1), ref)
  for (s in c(1e-300, 1e-200, 1e200, 1e300)) {
    got <- noise_ceiling(r * s, n_splits = 10, seed = 1)
    expect_equal(got$reliability, ref$reliability, tolerance = 1e-12)
    expect_equal(got$se, ref$se, tolerance = 1e-10)
  }
})

test_that("simulate_hierarchy() refuses counts beyond the integer range with a classed error", {
  expect_error(simulate_hierarchy(repeats = 2^31), "repeats",
               class = "hotalign_error_input")
  expect_error(simulate_hierarchy(source_units = 2^31), "source_units",
               class = "hotalign_error_input")
  expect_error(simulate_hierarchy(noise = -1), "noise",
               class = "hotalign_error_input")
})
