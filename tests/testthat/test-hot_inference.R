# hot_inference(): bootstrap intervals against an explicit resampling
# reference, the stimulus-shuffle null against explicit refits, checks that
# the fit belongs to the data.

inf_problem <- function(seed = 1, n = 60) {
  simulate_hierarchy(n_stimuli = n, source_layers = 2, target_layers = 4,
                     source_units = c(8, 10), target_units = c(6, 5, 7, 6),
                     noise = 0.5, seed = seed)
}

inf_fit <- function(sim, ...) {
  hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1, progress = FALSE,
      ...)
}

# Slow reference: reconstructions of the held-out rows from dense inner
# plans, and every bootstrap resample rebuilt as explicit rows.
inf_dense_inner <- function(fit, l, m) {
  L <- nrow(fit$plan)
  k <- l + (m - 1) * L
  idx <- seq_len(fit$inner$start[k + 1] - fit$inner$start[k]) +
    fit$inner$start[k]
  Q <- matrix(0, fit$inner$n_source[l], fit$inner$n_target[m])
  Q[cbind(fit$inner$i[idx], fit$inner$j[idx])] <- fit$inner$x[idx]
  Q
}

inf_reconstruct <- function(fit, X, Y) {
  train <- fit$train
  test <- fit$test
  std <- function(x) std_train(x, train)
  L <- length(X)
  lapply(seq_len(L), function(l) {
    Xhat <- 0
    for (m in seq_along(Y)) {
      if (fit$plan[l, m] == 0) next
      Xhat <- Xhat + L * fit$plan[l, m] * std(Y[[m]])[test, , drop = FALSE] %*%
        t(ncol(X[[l]]) * inf_dense_inner(fit, l, m))
    }
    Xhat
  })
}

inf_layer_score <- function(a, b) {
  r <- vapply(seq_len(ncol(a)), function(i)
    suppressWarnings(stats::cor(a[, i], b[, i])), 0)
  if (all(is.na(r))) NA_real_ else mean(r, na.rm = TRUE)
}

test_that("bootstrap values equal explicit resampling of the held-out rows", {
  sim <- inf_problem()
  fit <- inf_fit(sim)
  inf <- hot_inference(fit, sim$X, sim$Y, n_boot = 15, n_shuffle = 0,
                       seed = 42, threads = 1, progress = FALSE)
  rebuilt <- inf_reconstruct(fit, sim$X, sim$Y)
  test <- fit$test
  n <- length(test)
  set.seed(42)
  ref <- t(vapply(1:15, function(b) {
    rows <- sort(sample.int(n, n, replace = TRUE))
    vapply(seq_along(sim$X), function(l) {
      inf_layer_score(rebuilt[[l]][rows, , drop = FALSE],
                      sim$X[[l]][test[rows], , drop = FALSE])
    }, 0)
  }, numeric(2)))
  expect_equal(unname(inf$boot$layer_scores), ref, tolerance = 1e-10)
  expect_equal(inf$boot$score, rowMeans(ref), tolerance = 1e-10)
  # the estimates are the fit's; the intervals are quantiles of the values
  iv <- inf$intervals
  expect_equal(iv$estimate, c(fit$score, unname(fit$layer_scores)))
  expect_equal(iv$layer, c(NA, "A1", "A2"))
  expect_equal(iv$lower[1], unname(stats::quantile(rowMeans(ref), 0.025)),
               tolerance = 1e-10)
  expect_equal(iv$upper[2], unname(stats::quantile(ref[, 1], 0.975)),
               tolerance = 1e-10)
  expect_equal(iv$std_error[3], stats::sd(ref[, 2]), tolerance = 1e-10)
})

test_that("intervals cover the estimate, narrow with level, and the seed is reproducible", {
  sim <- inf_problem()
  fit <- inf_fit(sim)
  a <- hot_inference(fit, sim$X, sim$Y, n_boot = 300, n_shuffle = 0,
                     seed = 7, threads = 1)
  b <- hot_inference(fit, sim$X, sim$Y, n_boot = 300, n_shuffle = 0,
                     seed = 7, threads = 1, level = 0.5)
  bc <- hot_inference(fit, sim$X, sim$Y, n_boot = 300, n_shuffle = 0,
                      seed = 7, threads = 1, interval = "bc")
  expect_identical(a$boot, b$boot)
  expect_true(all(a$intervals$lower <= b$intervals$lower))
  expect_true(all(a$intervals$upper >= b$intervals$upper))
  expect_true(all(a$intervals$lower < a$intervals$estimate &
                    a$intervals$estimate < a$intervals$upper))
  # bias-corrected: the quantiles are shifted by the share below the estimate
  z0 <- stats::qnorm(mean(a$boot$score < fit$score))
  probs <- stats::pnorm(2 * z0 + stats::qnorm(c(0.025, 0.975)))
  expect_equal(c(bc$intervals$lower[1], bc$intervals$upper[1]),
               unname(stats::quantile(a$boot$score, probs)))
  # the caller's random stream is untouched when a seed is given
  set.seed(1)
  before <- stats::runif(1)
  set.seed(1)
  hot_inference(fit, sim$X, sim$Y, n_boot = 10, n_shuffle = 2, seed = 3,
                threads = 1)
  expect_equal(stats::runif(1), before)
})

test_that("the stimulus-shuffle null refits hot() on shuffled Y, same split", {
  sim <- inf_problem()
  fit <- inf_fit(sim)
  inf <- hot_inference(fit, sim$X, sim$Y, n_boot = 0, n_shuffle = 9,
                       seed = 5, threads = 1)
  set.seed(5)
  perm <- sample.int(60)
  ref <- hot(sim$X, lapply(sim$Y, function(y) y[perm, ]), test = fit$test,
             n_perm = 0, threads = 1, progress = FALSE)
  expect_equal(inf$shuffle_scores[1], ref$score)
  # strongly aligned systems: no shuffle reaches the observed score
  tests <- inf$tests
  expect_equal(tests$test, c("stimulus_shuffle", "perm_p"))
  expect_equal(tests$p_value[1], 1 / 10)
  expect_equal(tests$n, c(9L, 20L))
  expect_lt(abs(tests$null_mean[1]), 0.2)
  # the perm-P row is the fit's own test
  expect_equal(tests$p_value[2], fit$baselines$perm_p_value)
  expect_equal(tests$null_mean[2], fit$baselines$perm_p)
  expect_true(all(is.na(inf$intervals$lower)))
})

test_that("independent systems are not significant under the shuffle null", {
  set.seed(8)
  X <- list(a = matrix(stats::rnorm(60 * 5), 60, 5))
  Y <- list(b = matrix(stats::rnorm(60 * 5), 60, 5),
            c = matrix(stats::rnorm(60 * 4), 60, 4))
  fit <- hot(X, Y, seed = 1, n_perm = 0, threads = 1, progress = FALSE)
  inf <- hot_inference(fit, X, Y, n_boot = 200, n_shuffle = 19, seed = 2,
                       threads = 1)
  expect_gt(inf$tests$p_value[1], 0.05)
  expect_true(inf$intervals$lower[1] < 0.15)
})

test_that("several splits: refitted splits reproduce the fit; resamples are shared", {
  sim <- inf_problem()
  fit <- inf_fit(sim, splits = 3)
  inf <- hot_inference(fit, sim$X, sim$Y, n_boot = 12, n_shuffle = 2,
                       seed = 4, threads = 1)
  expect_equal(inf$intervals$estimate[1], fit$score)
  expect_equal(inf$n_splits, 3L)
  # reference: one draw over the union of held-out stimuli, each split scored
  # on its own rows repeated as often as drawn, then averaged as in hot()
  pool <- sort(unique(unlist(lapply(fit$splits, `[[`, "test"))))
  refits <- lapply(fit$splits, function(s) {
    f <- hot(sim$X, sim$Y, test = s$test, n_perm = 0, threads = 1,
             progress = FALSE)
    list(test = s$test, rebuilt = inf_reconstruct(f, sim$X, sim$Y))
  })
  set.seed(4)
  ref <- vapply(1:12, function(b) {
    counts <- tabulate(sample.int(length(pool), length(pool), TRUE),
                       length(pool))
    split_scores <- vapply(refits, function(r) {
      rows <- rep(seq_along(r$test), counts[match(r$test, pool)])
      mean(vapply(seq_along(sim$X), function(l) {
        inf_layer_score(r$rebuilt[[l]][rows, , drop = FALSE],
                        sim$X[[l]][r$test[rows], , drop = FALSE])
      }, 0))
    }, 0)
    mean(split_scores)
  }, 0)
  expect_equal(inf$boot$score, ref, tolerance = 1e-10)
  expect_length(inf$shuffle_scores, 2L)
})

test_that("rotation-invariant fits are supported", {
  sim <- inf_problem(n = 50)
  fit <- hot(sim$X, sim$Y, rotation = TRUE, max_iter = 5, seed = 1,
             n_perm = 0, threads = 1, progress = FALSE)
  inf <- hot_inference(fit, sim$X, sim$Y, n_boot = 50, n_shuffle = 1,
                       seed = 1, threads = 1)
  expect_equal(inf$intervals$estimate[1], fit$score)
  expect_true(is.finite(inf$shuffle_scores))
})

test_that("the fit must have been made on X and Y", {
  sim <- inf_problem()
  fit <- inf_fit(sim)
  expect_error(hot_inference(list(), sim$X, sim$Y),
               "`fit` must be a \"hot\" fit")
  expect_error(hot_inference(fit, sim$Y, sim$X, threads = 1),
               "`X` has layers `B1`, `B2`, `B3`, `B4` but `fit` was made on source layers `A1`, `A2`")
  wide <- sim$Y
  wide$B3 <- cbind(wide$B3, 1)
  expect_error(hot_inference(fit, sim$X, wide, threads = 1),
               "layer `B3` of `Y` has 8 units but had 7 in `fit`")
  short <- lapply(sim$X, function(x) x[-1, ])
  expect_error(hot_inference(fit, short, lapply(sim$Y, function(y) y[-1, ]),
                             threads = 1),
               "59 stimuli \\(rows\\) but `fit` was made on 60")
  other <- inf_problem(seed = 2)
  expect_error(hot_inference(fit, other$X, other$Y, n_boot = 5,
                             n_shuffle = 0, threads = 1),
               "do not reproduce the held-out score of `fit` \\(split 1, layer `A1`")
  reordered <- lapply(sim$Y, function(y) y[c(2, 1, 3:60), ])
  expect_error(hot_inference(fit, sim$X, reordered, threads = 1),
               "do not reproduce")
  none <- hot(sim$X, sim$Y, holdout = 0, n_perm = 0, threads = 1)
  expect_error(hot_inference(none, sim$X, sim$Y),
               "`fit` has no held-out stimuli")
  expect_error(hot_inference(fit, sim$X, sim$Y, n_boot = -1),
               "`n_boot` must be a whole number >= 0")
  expect_error(hot_inference(fit, sim$X, sim$Y, n_shuffle = 1.5),
               "`n_shuffle` must be a whole number >= 0")
  expect_error(hot_inference(fit, sim$X, sim$Y, level = 1),
               "`level` must be a single number")
  expect_error(hot_inference(fit, sim$X, sim$Y, level = 0),
               "`level` must be a single number")
  expect_error(hot_inference(fit, sim$X, sim$Y, interval = "bca"),
               "should be one of")
})

test_that("constant columns dropped in the fit are handled", {
  sim <- inf_problem()
  X <- sim$X
  X$A2[, 3] <- 2
  fit <- hot(X, sim$Y, seed = 1, n_perm = 0, constant = "drop", threads = 1,
             progress = FALSE)
  inf <- hot_inference(fit, X, sim$Y, n_boot = 20, n_shuffle = 2, seed = 1,
                       threads = 1)
  expect_equal(inf$intervals$estimate[3], unname(fit$layer_scores[2]))
  expect_true(all(!is.na(inf$boot$layer_scores)))
})

test_that("print and as.data.frame", {
  sim <- inf_problem()
  fit <- inf_fit(sim)
  inf <- hot_inference(fit, sim$X, sim$Y, n_boot = 50, n_shuffle = 3,
                       seed = 1, threads = 1)
  out <- capture.output(r <- print(inf))
  expect_identical(r, inf)
  txt <- paste(out, collapse = "\n")
  expect_match(txt, "95% bootstrap CI", fixed = TRUE)
  expect_match(txt, "stimulus-shuffle null", fixed = TRUE)
  expect_match(txt, "perm-P null", fixed = TRUE)
  expect_match(txt, "A2", fixed = TRUE)
  iv <- as.data.frame(inf)
  expect_equal(names(iv), c("term", "layer", "estimate", "std_error",
                            "lower", "upper", "level"))
  expect_equal(nrow(iv), 3L)
  expect_equal(iv$level, rep(0.95, 3))
  tt <- as.data.frame(inf, what = "tests")
  expect_equal(names(tt), c("test", "observed", "null_mean", "p_value", "n"))
})

test_that("hot_inference() refits no split the fit already solved", {
  sim <- inf_problem()
  fit <- inf_fit(sim, splits = 5)
  env <- counting_namespace()
  inf <- env$hot_inference(fit, sim$X, sim$Y, n_boot = 50, n_shuffle = 0,
                           seed = 2, threads = 1, progress = FALSE)
  expect_identical(sum(env$calls == "ffi_hot_split"), 0L)
  expect_identical(inf$n_splits, 5L)
  # a fit saved before the splits kept their plans: the others are refitted,
  # and give the same intervals
  old <- fit
  old$splits <- lapply(old$splits, function(s) {
    s[c("train", "test", "score", "layer_scores", "objective", "plan",
        "baselines")]
  })
  env <- counting_namespace()
  inf_old <- env$hot_inference(old, sim$X, sim$Y, n_boot = 50, n_shuffle = 0,
                               seed = 2, threads = 1, progress = FALSE)
  expect_identical(sum(env$calls == "ffi_hot_split"), 4L)
  expect_equal(inf_old$intervals, inf$intervals, tolerance = 1e-12)
  # the shuffle null refits through the internal fit, one engine call per
  # split and shuffle, never through hot() and its checks
  env <- counting_namespace()
  invisible(env$hot_inference(fit, sim$X, sim$Y, n_boot = 0, n_shuffle = 3,
                              seed = 2, threads = 1, progress = FALSE))
  expect_identical(sum(env$calls == "ffi_hot_split"), 15L)
  expect_identical(sum(env$calls == "ffi_nonfinite"), 2L)  # X and Y, once
})

test_that("resamples where a unit is constant give NA, not a sqrt() NaN warning", {
  # a binary source unit (a category label, as in the 92-image set) that is 1
  # on only two held-out stimuli: many bootstrap resamples draw it constant,
  # which must give NA cells, not a warning from the arithmetic
  sim <- inf_problem(n = 80)
  fit0 <- inf_fit(sim)
  x <- sim$X
  x[[1]][, 1] <- 0
  x[[1]][fit0$train[1:10], 1] <- 1
  x[[1]][fit0$test[1:2], 1] <- 1
  fit <- hot(x, sim$Y, test = fit0$test, n_perm = 0, threads = 1,
             progress = FALSE)
  expect_no_warning(
    inf <- hot_inference(fit, x, sim$Y, n_boot = 200, n_shuffle = 0, seed = 3,
                         threads = 1, progress = FALSE))
  expect_true(all(is.finite(inf$intervals$estimate)))
  expect_true(all(is.finite(inf$intervals$lower)))
})
