# hot(unit_mass, layer_mass, reliability, min_reliability): partial HOT and
# noise-corrected scores.

small_sim <- function(seed = 1, ...) {
  simulate_hierarchy(n_stimuli = 120, source_layers = 2, target_layers = 4,
                     source_units = 10, target_units = 8, seed = seed, ...)
}

test_that("unit_mass = layer_mass = 1 is plain hot() bit for bit", {
  sim <- small_sim()
  plain <- hot(sim$X, sim$Y, seed = 1, n_perm = 10, threads = 1)
  same <- hot(sim$X, sim$Y, seed = 1, n_perm = 10, threads = 1,
              unit_mass = 1, layer_mass = 1)
  expect_identical(fit_content(same), fit_content(plain))
  # and with splits, 2 threads
  plain <- hot(sim$X, sim$Y, seed = 2, n_perm = 5, splits = 3, threads = 2)
  same <- hot(sim$X, sim$Y, seed = 2, n_perm = 5, splits = 3, threads = 2,
              unit_mass = 1, layer_mass = 1)
  expect_identical(fit_content(same), fit_content(plain))
})

test_that("the partial path at full mass is the engine bit for bit", {
  # reliability = 1 everywhere takes the partial path with balanced solves
  sim <- small_sim(3)
  ones <- lapply(sim$X, function(x) rep(1, ncol(x)))
  plain <- hot(sim$X, sim$Y, seed = 4, n_perm = 10, splits = 2, threads = 1)
  alt <- hot(sim$X, sim$Y, seed = 4, n_perm = 10, splits = 2, threads = 1,
             reliability = list(X = ones))
  # the same pair loop, outer solver and reconstruction kernel: the same bits
  for (field in c("plan", "cost", "objective", "inner", "score", "layer_scores",
                  "unit_scores", "baselines", "baseline_layer_scores",
                  "score_se")) {
    expect_identical(alt[[field]], plain[[field]], label = field)
  }
  # noiseless reliabilities: the ceiling is 1 and the corrected score the score
  expect_identical(alt$score_corrected, alt$score)
  expect_identical(nrow(alt$unsent), 0L)
})

test_that("partial inner plans are the exact partial OT of each pair, costs per unit of mass", {
  sim <- small_sim(5)
  s <- 0.6
  fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 0, threads = 1, unit_mass = s)
  std <- function(x) {
    x <- x[fit$train, , drop = FALSE]
    x <- sweep(x, 2, colMeans(x))
    sweep(x, 2, sqrt(colSums(x^2)), "/")
  }
  for (l in 1:2) for (m in c(1, 4)) {
    K <- 1 - crossprod(std(sim$X[[l]]), std(sim$Y[[m]]))
    ref <- ot_exact(K, mass = s)
    Q <- as.matrix(unit_plan(fit, l, m))
    expect_equal(sum(Q), s, tolerance = 1e-12)
    expect_lte(max(rowSums(Q) - 1 / ncol(K)), 1e-12)
    expect_equal(fit$cost[l, m], ref$cost / s, tolerance = 1e-10)
    expect_equal(sum(K * Q), ref$cost, tolerance = 1e-10)
  }
  # the outer plan is the balanced OT of these costs
  expect_equal(fit$objective, ot_exact(fit$cost)$cost, tolerance = 1e-12)
})

test_that("planted spurious units are the ones left out by unit_mass", {
  sim <- simulate_hierarchy(n_stimuli = 200, source_layers = 2, target_layers = 2,
                            source_units = 20, target_units = 20, noise = 0.3,
                            seed = 4)
  set.seed(9)
  X <- sim$X
  X$A1 <- cbind(X$A1, matrix(stats::rnorm(200 * 5), 200, 5))  # units 21:25
  Y <- sim$Y
  Y$B2 <- cbind(Y$B2, matrix(stats::rnorm(200 * 5), 200, 5))  # no counterpart either
  fit <- hot(list(A1 = X$A1), list(B1 = Y$B1), seed = 3, n_perm = 0,
             threads = 1, unit_mass = 20 / 25)
  expect_identical(fit$unsent$layer, rep("A1", 5))
  expect_identical(fit$unsent$unit, 21:25)
  expect_true(all(fit$unsent$sent == 0))
  expect_true(all(is.na(fit$unit_scores$A1[21:25])))
  expect_false(anyNA(fit$unit_scores$A1[1:20]))
  expect_equal(fit$layer_scores[["A1"]], mean(fit$unit_scores$A1[1:20]))
  expect_identical(nrow(fit$undefined), 0L)
  # the plan of the spurious rows is empty, the real ones send all their mass
  Q <- as.matrix(unit_plan(fit, 1, 1))
  expect_true(all(rowSums(Q)[21:25] == 0))
  expect_equal(unname(rowSums(Q)[1:20]), rep(1 / 25, 20), tolerance = 1e-12)
  # the planted units of the target are never received
  fit2 <- hot(list(A2 = X$A2), list(B2 = Y$B2), seed = 3, n_perm = 0,
              threads = 1, unit_mass = 20 / 25)
  expect_true(all(colSums(as.matrix(unit_plan(fit2, 1, 1)))[21:25] == 0))
  # predict() rebuilds each unit from the mass it sends, NA for the rest
  pr <- predict(fit, list(B1 = Y$B1))$A1
  expect_true(all(is.na(pr[, 21:25])))
  expect_false(anyNA(pr[, 1:20]))
  st <- fit$standardise$target$B1
  ys <- sweep(sweep(Y$B1, 2, st$center), 2, st$scale, "/")
  expect_equal(unname(pr[, 1:20]),
               unname((ys %*% t(Q[1:20, ])) / rep(rowSums(Q)[1:20], each = 200)),
               tolerance = 1e-12)
})

test_that("a planted extra layer is the one left out by layer_mass, and the score says so", {
  sim <- small_sim(6)
  set.seed(10)
  X <- c(sim$X, list(extra = matrix(stats::rnorm(120 * 10), 120, 10)))
  fit <- hot(X, sim$Y, seed = 1, n_perm = 10, threads = 1, layer_mass = 2 / 3)
  expect_identical(fit$layers_without_mass$source, "extra")
  expect_identical(fit$layers_without_mass$target, character(0))
  expect_equal(sum(fit$plan), 2 / 3, tolerance = 1e-12)
  expect_true(all(fit$plan["extra", ] == 0))
  expect_true(is.na(fit$layer_scores[["extra"]]))
  expect_equal(fit$score, mean(fit$layer_scores[c("A1", "A2")]))
  expect_equal(fit$objective, sum(fit$plan * fit$cost) / (2 / 3), tolerance = 1e-12)
  # the real layers send all their mass, each to the block that re-encodes it
  expect_equal(unname(rowSums(fit$plan)[1:2]), rep(1 / 3, 2), tolerance = 1e-12)
  expect_true(all(fit$plan[1, sim$block != 1] == 0))
  expect_true(all(fit$plan[2, sim$block != 2] == 0))
  out <- capture.output(print(fit))
  expect_true(any(grepl("averages over the 2 of 3 source layers that send mass", out)))
  expect_true(any(grepl("layers without mass: source extra", out)))
  out <- capture.output(print(summary(fit)))
  expect_true(any(grepl("averages over the 2 of 3 source layers", out)))
  # a target layer without a counterpart
  Y <- c(sim$Y, list(extra = matrix(stats::rnorm(120 * 8), 120, 8)))
  fit <- hot(sim$X, Y, seed = 1, n_perm = 0, threads = 1, layer_mass = 4 / 5)
  expect_identical(fit$layers_without_mass$target, "extra")
})

test_that("partial transport drops the least reliable units first", {
  sim <- simulate_hierarchy(n_stimuli = 200, source_layers = 2, target_layers = 2,
                            source_units = 20, target_units = 20, noise = 0.3,
                            seed = 4, repeats = 4, repeat_noise = c(0.2, 3))
  fit <- hot(sim$X, sim$Y, seed = 3, n_perm = 0, threads = 1, unit_mass = 0.7)
  truth <- unlist(unname(sim$reliability$X))
  dropped <- names(truth) %in% paste0(fit$unsent$layer, "_", fit$unsent$unit)
  expect_identical(sum(dropped), 12L)
  # the dropped units are the less reliable: AUC of reliability, kept > dropped
  auc <- mean(outer(truth[!dropped], truth[dropped], ">"))
  expect_gt(auc, 0.75)
  expect_lt(mean(truth[dropped]), mean(truth[!dropped]) - 0.1)
  # and the score of the kept units is higher than the balanced score
  bal <- hot(sim$X, sim$Y, seed = 3, n_perm = 0, threads = 1)
  expect_gt(fit$score, bal$score)
})

test_that("the noise-corrected score recovers the noiseless score within its interval", {
  sim <- simulate_hierarchy(n_stimuli = 300, source_layers = 2, target_layers = 4,
                            source_units = 16, target_units = 8, noise = 0.3,
                            seed = 2, repeats = 4, repeat_noise = c(0.3, 2.5))
  rel <- lapply(sim$repeats, function(sys) lapply(sys, noise_ceiling))
  clean <- hot(sim$noiseless$X, sim$noiseless$Y, seed = 3, splits = 5,
               n_perm = 0, threads = 1)
  noisy <- hot(sim$X, sim$Y, seed = 3, splits = 5, n_perm = 0, threads = 1,
               reliability = rel)
  # the raw score is far below, the corrected one within 2 SE (over splits)
  expect_lt(noisy$score, clean$score - 0.1)
  expect_lt(abs(noisy$score_corrected - clean$score), 2 * noisy$score_corrected_se)
  # correcting for the source side only under-corrects
  xonly <- hot(sim$X, sim$Y, seed = 3, splits = 5, n_perm = 0, threads = 1,
               reliability = list(X = rel$X))
  expect_lt(xonly$score_corrected, noisy$score_corrected - 0.03)
  expect_gt(xonly$score_corrected, noisy$score)
  # the ceilings: sqrt(rel_x * rel_reconstruction) <= sqrt(rel_x)
  ceil <- noisy$ceilings$A1
  expect_true(all(ceil <= sqrt(rel$X$A1$reliability) + 1e-12, na.rm = TRUE))
  expect_equal(unname(xonly$ceilings$A1), sqrt(rel$X$A1$reliability))
  out <- capture.output(print(noisy))
  expect_true(any(grepl("noise-corrected score", out)))
})

test_that("min_reliability removes the unreliable units and records them", {
  sim <- small_sim(7, repeats = 4, repeat_noise = c(0.2, 4))
  rel <- lapply(sim$repeats, function(sys) lapply(sys, noise_ceiling))
  fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 0, threads = 1,
             reliability = rel, min_reliability = 0.5)
  for (l in names(sim$X)) {
    low <- which(rel$X[[l]]$reliability < 0.5)
    expect_identical(fit$reliability_removed$source[[l]], low)
    expect_identical(unname(fit$sizes$source[[l]]), ncol(sim$X[[l]]) - length(low))
    expect_identical(names(fit$unit_scores[[l]]),
                     colnames(sim$X[[l]])[setdiff(seq_len(ncol(sim$X[[l]])), low)])
  }
  for (m in names(sim$Y)) {
    expect_identical(fit$reliability_removed$target[[m]],
                     which(rel$Y[[m]]$reliability < 0.5))
  }
  # the same as fitting the kept units alone
  keep <- function(layers, r) Map(function(x, q) x[, q$reliability >= 0.5, drop = FALSE], layers, r)
  ref <- hot(keep(sim$X, rel$X), keep(sim$Y, rel$Y), seed = 1, n_perm = 0, threads = 1)
  expect_identical(fit$plan, ref$plan)
  expect_equal(fit$score, ref$score, tolerance = 1e-12)
  expect_identical(fit$min_reliability, 0.5)
})

test_that("bad unit_mass, layer_mass, reliability and min_reliability are refused", {
  sim <- small_sim()
  for (bad in list(0, -0.1, 1.5, NA, NaN, c(0.5, 0.5), "a")) {
    err <- expect_error(hot(sim$X, sim$Y, unit_mass = bad, threads = 1),
                        "`unit_mass` must be a single number in \\(0, 1\\]",
                        class = "hotalign_error_input")
    expect_identical(err$arg, "unit_mass")
    expect_error(hot(sim$X, sim$Y, layer_mass = bad, threads = 1),
                 "`layer_mass`", class = "hotalign_error_input")
  }
  expect_error(hot(sim$X, sim$Y, reliability = c(1, 2), threads = 1),
               "`reliability` must be list\\(X = , Y = \\)")
  expect_error(hot(sim$X, sim$Y, reliability = list(X = list(1, 2, 3)), threads = 1),
               "one entry per layer of `X` \\(2\\)")
  err <- expect_error(hot(sim$X, sim$Y, reliability = list(X = list(1:3, 1:3)),
                          threads = 1), "for layer `A1` must be 10 numbers")
  expect_identical(err$layer, "A1")
  expect_error(hot(sim$X, sim$Y, reliability = list(X = list(rep(2, 10), rep(1, 10))),
                   threads = 1), "above 1")
  expect_error(hot(sim$X, sim$Y, min_reliability = 0.3, threads = 1),
               "`min_reliability` needs `reliability`")
  ones <- lapply(sim$X, function(x) rep(0.2, ncol(x)))
  err <- expect_error(hot(sim$X, sim$Y, reliability = list(X = ones),
                          min_reliability = 0.3, threads = 1),
                      "no unit of layer `A1` of `X` reaches `min_reliability`")
  expect_identical(err$arg, "min_reliability")
  expect_error(hot(sim$X, sim$Y, reliability = list(X = ones), min_reliability = 2,
                   threads = 1), "`min_reliability`")
  expect_error(hot(sim$X, sim$Y, rotation = TRUE, unit_mass = 0.5, threads = 1),
               "does not combine", class = "hotalign_error_input")
})

test_that("partial fits are bit-identical for 1 and 2 threads", {
  sim <- small_sim(8, repeats = 3, repeat_noise = c(0.3, 2))
  rel <- lapply(sim$repeats, function(sys) lapply(sys, noise_ceiling))
  one <- hot(sim$X, sim$Y, unit_mass = 0.75, layer_mass = 0.9, reliability = rel,
             seed = 2, n_perm = 5, splits = 2, threads = 1)
  two <- hot(sim$X, sim$Y, unit_mass = 0.75, layer_mass = 0.9, reliability = rel,
             seed = 2, n_perm = 5, splits = 2, threads = 2)
  expect_identical(fit_content(two), fit_content(one))
})

test_that("a partial fit too large for the memory limit is refused before allocating", {
  sim <- small_sim()
  # enough for plain HOT, not for the augmented partial costs
  plain_need <- hotalign:::hot_memory_bytes(c(10, 10), rep(8, 4), 120, 1)
  old <- options(hotalign.max_memory = plain_need + 100)
  on.exit(options(old))
  expect_s3_class(hot(sim$X, sim$Y, n_perm = 0, threads = 1), "hot")
  expect_error(hot(sim$X, sim$Y, unit_mass = 0.5, threads = 1),
               "partial hot\\(\\) on `X` \\(2 layers\\).*working memory")
})

test_that("hot_inference() refuses partial and noise-corrected fits", {
  sim <- small_sim()
  fit <- hot(sim$X, sim$Y, unit_mass = 0.8, seed = 1, n_perm = 0, threads = 1)
  expect_error(hot_inference(fit, sim$X, sim$Y, n_boot = 10, n_shuffle = 0),
               "partial or noise-corrected fit", class = "hotalign_error_input")
})
