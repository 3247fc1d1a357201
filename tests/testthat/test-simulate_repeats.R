# simulate_hierarchy(repeats =, repeat_noise =): repeated measurements with a
# known reliability; the default draws nothing more.

test_that("repeats leave the stable responses and the default outputs unchanged", {
  base <- simulate_hierarchy(n_stimuli = 40, source_layers = 2, target_layers = 3,
                             source_units = 6, target_units = 5, seed = 11)
  same <- simulate_hierarchy(n_stimuli = 40, source_layers = 2, target_layers = 3,
                             source_units = 6, target_units = 5, seed = 11,
                             repeats = 1, repeat_noise = 0)
  expect_identical(same, base)
  rep3 <- simulate_hierarchy(n_stimuli = 40, source_layers = 2, target_layers = 3,
                             source_units = 6, target_units = 5, seed = 11,
                             repeats = 3, repeat_noise = c(0.5, 2))
  expect_identical(rep3$noiseless, base[c("X", "Y")])
  expect_identical(rep3[c("truth", "block", "unit_source")],
                   base[c("truth", "block", "unit_source")])
  expect_identical(dim(rep3$repeats$X$A2), c(40L, 6L, 3L))
  expect_identical(dim(rep3$repeats$Y$B3), c(40L, 5L, 3L))
  # X, Y are the means over the repeats
  expect_equal(rep3$X$A1, apply(rep3$repeats$X$A1, 1:2, mean), ignore_attr = TRUE)
  expect_identical(colnames(rep3$X$A1), colnames(base$X$A1))
  # per-unit sigma in the range, reliability from it
  s <- rep3$repeat_sd$Y$B2
  expect_true(all(s >= 0.5 & s <= 2))
  expect_equal(rep3$reliability$Y$B2, 1.25 / (1.25 + s^2 / 3))
  expect_named(rep3$reliability$X$A1, colnames(base$X$A1))
})

test_that("the measurement noise has the stated sd and the stated reliability", {
  sim <- simulate_hierarchy(n_stimuli = 3000, source_layers = 1, target_layers = 1,
                            source_units = 4, target_units = 4, noise = 0.5,
                            seed = 12, repeats = 4, repeat_noise = c(0.3, 3))
  reps <- sim$repeats$X$A1
  resid <- sweep(reps, 1:2, sim$noiseless$X$A1)
  expect_equal(unname(apply(resid, 2, stats::sd)), unname(sim$repeat_sd$X$A1), tolerance = 0.03)
  nc <- noise_ceiling(reps)
  expect_true(all(abs(nc$reliability - sim$reliability$X$A1) < 4 * nc$se))
  expect_equal(nc$reliability, unname(sim$reliability$X$A1), tolerance = 0.05)
})

test_that("bad repeats and repeat_noise are refused", {
  expect_error(simulate_hierarchy(repeats = 0), "`repeats`")
  expect_error(simulate_hierarchy(repeats = 2.5), "`repeats`")
  expect_error(simulate_hierarchy(repeat_noise = -1), "`repeat_noise`",
               class = "hotalign_error_input")
  expect_error(simulate_hierarchy(repeat_noise = c(2, 1)), "`repeat_noise`")
  expect_error(simulate_hierarchy(repeat_noise = c(1, 2, 3)), "`repeat_noise`")
  expect_error(simulate_hierarchy(repeat_noise = NA), "`repeat_noise`")
})
