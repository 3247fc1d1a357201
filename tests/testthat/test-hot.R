test_that("identical systems: plan = identity / L, zero diagonal cost, score 1", {
  X <- make_system()
  fit <- hot(X, X, seed = 1, n_perm = 20, threads = 1)
  L <- length(X)
  expect_equal(unname(fit$plan), diag(L) / L, tolerance = 1e-15)
  expect_lt(max(abs(diag(fit$cost))), 1e-12)
  expect_true(all(fit$cost[row(fit$cost) != col(fit$cost)] > 0.5))
  expect_equal(fit$score, 1, tolerance = 1e-12)
  expect_equal(unname(fit$layer_scores), rep(1, L), tolerance = 1e-12)
  expect_equal(fit$objective, sum(fit$plan * fit$cost), tolerance = 1e-15)
  # every inner plan of a diagonal pair is the identity / n
  for (l in seq_len(L)) {
    n <- ncol(X[[l]])
    expect_equal(dense_inner(fit, l, l), diag(n) / n, tolerance = 1e-15)
  }
})

test_that("shuffled layer order and shuffled units are recovered", {
  X <- make_system(widths = c(6, 9, 7, 8))
  set.seed(5)
  layer_perm <- c(3, 1, 4, 2)
  unit_perms <- lapply(X[layer_perm], function(x) sample(ncol(x)))
  Y <- Map(function(x, p) x[, p], X[layer_perm], unit_perms)
  names(Y) <- paste0("Y", seq_along(Y))
  fit <- hot(X, Y, seed = 2, n_perm = 10, threads = 2)
  L <- length(X)
  truth <- matrix(0, L, L)
  truth[cbind(layer_perm, seq_len(L))] <- 1 / L
  expect_equal(unname(fit$plan), truth, tolerance = 1e-15)
  expect_equal(fit$score, 1, tolerance = 1e-12)
  for (m in seq_len(L)) {
    l <- layer_perm[m]
    n <- ncol(X[[l]])
    Q <- dense_inner(fit, l, m)
    # unit i of X[[l]] is column match(i, p) of Y[[m]]
    expected <- matrix(0, n, n)
    expected[cbind(unit_perms[[m]], seq_len(n))] <- 1 / n
    expect_equal(Q, expected, tolerance = 1e-15)
  }
})

test_that("inner costs and the objective agree with ot_exact on the same costs", {
  X <- make_system(widths = c(5, 7), seed = 3)
  Y <- make_system(widths = c(6, 4, 8), seed = 4)
  fit <- hot(X, Y, seed = 3, n_perm = 5, threads = 1)
  train <- fit$train
  for (l in seq_along(X)) for (m in seq_along(Y)) {
    K <- 1 - stats::cor(X[[l]][train, ], Y[[m]][train, ])
    ref <- ot_exact(K)
    expect_equal(fit$cost[l, m], ref$cost, tolerance = 1e-12)
    Q <- dense_inner(fit, l, m)
    expect_equal(sum(K * Q), fit$cost[l, m], tolerance = 1e-12)
    expect_lte(sum(Q > 0), ncol(X[[l]]) + ncol(Y[[m]]) - 1)
    expect_equal(rowSums(Q), rep(1 / ncol(X[[l]]), ncol(X[[l]])), tolerance = 1e-15)
    expect_equal(colSums(Q), rep(1 / ncol(Y[[m]]), ncol(Y[[m]])), tolerance = 1e-15)
  }
  outer <- ot_exact(fit$cost)
  expect_equal(fit$objective, outer$cost, tolerance = 1e-14)
  expect_equal(unname(rowSums(fit$plan)), rep(1 / 2, 2), tolerance = 1e-15)
  expect_equal(unname(colSums(fit$plan)), rep(1 / 3, 3), tolerance = 1e-15)
})

test_that("held-out scores and baselines agree with a slow R reconstruction", {
  X <- make_system(widths = c(5, 7, 6), noise = 1, seed = 6)
  Y <- make_system(widths = c(6, 4, 8, 5), noise = 1, seed = 6)
  fit <- hot(X, Y, seed = 9, n_perm = 0, threads = 1)
  expect_equal(unname(fit$layer_scores),
               ref_layer_scores(fit, X, Y, fit$plan), tolerance = 1e-10)
  expect_equal(fit$score, mean(fit$layer_scores), tolerance = 1e-15)
  L <- length(X)
  one_hot <- function(target) {
    W <- matrix(0, L, length(Y))
    W[cbind(seq_len(L), target)] <- 1 / L
    W
  }
  pairwise <- ref_layer_scores(fit, X, Y, one_hot(apply(fit$cost, 1, which.min)))
  expect_equal(fit$baselines$pairwise_best, mean(pairwise), tolerance = 1e-10)
  single <- ref_layer_scores(fit, X, Y, one_hot(apply(fit$plan, 1, which.max)))
  expect_equal(fit$baselines$single_best, mean(single), tolerance = 1e-10)
  expect_true(is.na(fit$baselines$perm_p))
  expect_true(is.na(fit$baselines$perm_p_value))
})

test_that("perm-P baseline and its p-value", {
  X <- make_system(widths = c(6, 8, 7, 5), seed = 7)
  fit <- hot(X, X, seed = 1, n_perm = 50, threads = 1)
  expect_lt(fit$baselines$perm_p, fit$score)
  # the identity coupling beats every permutation except itself
  expect_gte(fit$baselines$perm_p_value, 1 / 51)
  expect_lte(fit$baselines$perm_p_value, 1)
  again <- hot(X, X, seed = 1, n_perm = 50, threads = 1)
  expect_identical(fit$baselines, again$baselines)
})

test_that("HOT recovers the simulated hierarchy and beats the greedy baselines", {
  sim <- simulate_hierarchy(seed = 1)
  fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 50, threads = 2)
  L <- length(sim$X)
  expect_lt(sum(abs(fit$plan * L - sim$truth)), 1e-12)
  expect_gt(fit$score, fit$baselines$pairwise_best)
  expect_gt(fit$score, fit$baselines$perm_p)
  expect_lt(fit$baselines$perm_p_value, 0.05)
})

test_that("results are bit-identical for 1 and 2 threads", {
  X <- make_system(widths = c(30, 45, 25), seed = 11)
  Y <- make_system(widths = c(40, 20, 35, 50), seed = 12)
  f1 <- hot(X, Y, seed = 4, n_perm = 10, threads = 1)
  f2 <- hot(X, Y, seed = 4, n_perm = 10, threads = 2)
  expect_identical(fit_content(f1), fit_content(f2))
})

test_that("legal extremes: one layer, one unit, more units than stimuli", {
  X <- make_system(n_stimuli = 40, widths = 5, seed = 2)
  one <- hot(X, X, seed = 1, n_perm = 5, threads = 1)
  expect_equal(unname(one$plan), matrix(1, 1, 1))
  expect_equal(one$baselines$perm_p, one$score)
  expect_equal(one$baselines$perm_p_value, 1)

  unit <- list(u = X[[1]][, 1, drop = FALSE])
  fit <- hot(unit, X, seed = 1, n_perm = 5, threads = 1)
  expect_equal(dim(fit$plan), c(1L, 1L))
  expect_equal(sum(dense_inner(fit, 1, 1)), 1, tolerance = 1e-15)
  # one unit sends all its mass: its reconstruction is the mean of the
  # target layer, so a plain vector is accepted as a one-unit layer too
  expect_identical(fit_content(fit),
                   fit_content(hot(list(u = X[[1]][, 1]), X, seed = 1,
                                   n_perm = 5, threads = 1)))

  wide <- make_system(n_stimuli = 20, widths = c(50, 3), seed = 3)
  fit <- hot(wide, wide, seed = 1, n_perm = 5, threads = 1)
  expect_equal(unname(fit$plan), diag(2) / 2, tolerance = 1e-15)
  expect_equal(fit$score, 1, tolerance = 1e-12)
})

test_that("splits: scores averaged with a standard error; first split reported", {
  X <- make_system(widths = c(6, 8), noise = 1, seed = 8)
  Y <- make_system(widths = c(7, 5, 6), noise = 1, seed = 8)
  fit <- hot(X, Y, splits = 3, seed = 2, n_perm = 5, threads = 1)
  expect_length(fit$splits, 3)
  scores <- vapply(fit$splits, `[[`, 0, "score")
  expect_equal(fit$score, mean(scores), tolerance = 1e-15)
  expect_equal(fit$score_se, stats::sd(scores) / sqrt(3), tolerance = 1e-15)
  expect_identical(fit$plan, fit$splits[[1]]$plan)
  expect_identical(fit$test, fit$splits[[1]]$test)
  tests <- lapply(fit$splits, `[[`, "test")
  expect_false(identical(tests[[1]], tests[[2]]))
  for (s in fit$splits) expect_length(intersect(s$test, s$train), 0)
})

test_that("user-given test indices: numeric and logical agree; holdout = 0 gives no score", {
  X <- make_system(widths = c(5, 6), seed = 10)
  test <- c(3, 10, 20, 40, 77, 100)
  a <- hot(X, X, test = test, n_perm = 5, seed = 1, threads = 1)
  b <- hot(X, X, test = seq_len(120) %in% test, n_perm = 5, seed = 1, threads = 1)
  expect_identical(a$test, as.integer(test))
  expect_identical(fit_content(a), fit_content(b))
  none <- hot(X, X, holdout = 0, n_perm = 5, threads = 1)
  expect_length(none$test, 0)
  expect_true(is.na(none$score))
  expect_equal(unname(none$plan), diag(2) / 2, tolerance = 1e-15)
})

test_that("a seed reproduces the fit and leaves the caller's random stream alone", {
  X <- make_system(widths = c(5, 6), seed = 10)
  set.seed(123)
  before <- .Random.seed
  a <- hot(X, X, seed = 42, n_perm = 10, threads = 1)
  expect_identical(.Random.seed, before)
  b <- hot(X, X, seed = 42, n_perm = 10, threads = 1)
  expect_identical(fit_content(a), fit_content(b))
})

test_that("constant column: an error naming the layer, or dropped and recorded", {
  X <- make_system(widths = c(5, 6), seed = 12)
  X$L2[, 4] <- 2.5
  expect_error(hot(X, X, threads = 1),
               "layer `L2` of `X` has 1 column constant on the training stimuli \\(4\\)")
  fit <- hot(X, X, constant = "drop", seed = 1, n_perm = 5, threads = 1)
  expect_identical(fit$dropped$source$L2, 4L)
  expect_identical(fit$dropped$target$L2, 4L)
  expect_identical(fit$sizes$source, c(L1 = 5L, L2 = 5L))
  expect_equal(fit$score, 1, tolerance = 1e-12)
  expect_identical(names(fit$unit_scores$L2), c("1", "2", "3", "5", "6"))
})

test_that("units constant on the held-out stimuli are reported, not averaged", {
  X <- make_system(n_stimuli = 60, widths = c(5, 6), seed = 13)
  test <- 51:60
  X$L1[test, 2] <- 0
  expect_warning(fit <- hot(X, X, test = test, n_perm = 0, threads = 1),
                 "undefined for 1 unit")
  expect_identical(fit$undefined, data.frame(layer = "L1", unit = 2L))
  expect_true(is.na(fit$unit_scores$L1[["2"]]))
  expect_equal(fit$layer_scores[["L1"]], mean(fit$unit_scores$L1, na.rm = TRUE))
})

test_that("user-given folds: one split per held-out set, errors name the fold", {
  X <- make_system(n_stimuli = 60, widths = c(5, 6), noise = 1, seed = 14)
  folds <- list(1:12, 13:24, 25:36)
  fit <- hot(X, X, test = folds, n_perm = 5, seed = 1, threads = 1)
  expect_length(fit$splits, 3)
  expect_identical(lapply(fit$splits, `[[`, "test"), lapply(folds, as.integer))
  one <- hot(X, X, test = folds[[2]], n_perm = 5, seed = 1, threads = 1)
  expect_identical(fit$splits[[2]]$plan, one$plan)
  expect_equal(fit$splits[[2]]$score, one$score, tolerance = 1e-15)
  expect_error(hot(X, X, test = list(1:5, c(0, 3))),
               "`test\\[\\[2\\]\\]` has indices outside 1..60: 0")
  expect_error(hot(X, X, test = list()), "`test` is an empty list of folds")
  expect_error(hot(X, X, test = folds, splits = 2), "either `test` or `splits`")
})

test_that("one split of hot() crosses into C a constant number of times", {
  calls <- function(X, Y, ...) {
    env <- counting_namespace()
    fit <- env$hot(X, Y, seed = 1, threads = 1, progress = FALSE, ...)
    expect_s3_class(fit, "hot")
    env$calls
  }
  X <- make_system(widths = c(8, 12, 10), seed = 1)
  Y <- make_system(widths = c(10, 6, 9, 7), seed = 2)
  small <- calls(X[1], Y[1], n_perm = 0)
  # the counting sees the engine itself
  expect_true("ffi_hot_split" %in% small)
  expect_identical(sum(small == "ffi_hot_split"), 1L)
  expect_lte(length(small), 8L)
  # independent of L, M and n_perm
  expect_identical(calls(X, Y, n_perm = 0), small)
  expect_identical(calls(X, Y, n_perm = 200), small)
  expect_identical(calls(X[1:2], Y, n_perm = 50, rotation = TRUE, max_iter = 3),
                   small)
  # each further split adds the same few calls, one engine call among them
  three <- calls(X, Y, n_perm = 10, splits = 3)
  per_split <- (length(three) - length(small)) / 2
  expect_identical(sum(three == "ffi_hot_split"), 3L)
  expect_lte(per_split, 5)
})

test_that("a reconstruction that is constant up to round-off is undefined, not scored", {
  # target units y and 7.3 - y standardise to y~ and (round-off of) -y~; a
  # single source unit takes half of each, so its reconstruction is zero in
  # exact arithmetic and round-off in floating point
  set.seed(1)
  y1 <- rnorm(40) * 3 + 1
  x <- rnorm(40)
  Y <- list(b = cbind(y1, 7.3 - y1))
  expect_warning(
    fit <- hot(list(a = cbind(x)), Y, test = 31:40, n_perm = 0, progress = FALSE),
    class = "hotalign_warning_undefined")
  expect_true(is.na(fit$unit_scores$a))
  expect_identical(fit$undefined, data.frame(layer = "a", unit = 1L))
  expect_true(is.na(fit$score))
  # the same rule in the kernel predict() and layer_similarity() use: the
  # round-off residue (far above zero, far below the terms) is undefined ...
  C <- getFromNamespace("C_ffi_reconstruct_scores", "hotalign")
  a <- rnorm(10)
  inner <- list(i = c(1L, 1L), j = 1:2, x = c(0.5, 0.5), start = c(0, 2))
  yt <- cbind(a, 0.1 - (a - 0.1))  # a + (0.2 - a): constant 0.2 with round-off
  xt <- cbind(rnorm(10))
  got <- .Call(C, list(xt), list(yt), inner, matrix(1), NULL, TRUE, 1L, NULL)
  expect_gt(stats::sd(got$rebuilt[[1]]), 0)  # not exactly constant
  expect_true(is.na(got$units[[1]]))
  # ... while a small genuine variation (1e-6 of the level) is scored
  yt2 <- cbind(a, 0.2 - a + 1e-6 * xt[, 1])
  got2 <- .Call(C, list(xt), list(yt2), inner, matrix(1), NULL, FALSE, 1L, NULL)
  expect_equal(got2$units[[1]], 1, tolerance = 1e-6)
  # a truth column one ulp from constant is undefined too
  xt3 <- cbind(rep(c(0.3, 0.3 * (1 + 2^-52)), 5))
  expect_gt(stats::sd(xt3[, 1]), 0)
  got3 <- .Call(C, list(xt3), list(cbind(a, a)), inner, matrix(1), NULL, FALSE, 1L,
                NULL)
  expect_true(is.na(got3$units[[1]]))
  expect_true(is.na(got3$layers))
  # with row weights (the bootstrap of hot_inference()), the same rule on
  # weighted norms: a resample of one distinct stimulus is undefined
  w <- cbind(rep(1, 10), c(5, rep(0, 9)), c(2, 2, rep(0, 8)))
  got4 <- .Call(C, list(xt), list(yt2), inner, matrix(1), NULL, FALSE, 1L, w)
  expect_equal(got4$layers[1, 1], got2$layers, tolerance = 1e-12)
  expect_true(is.na(got4$layers[1, 2]))
  expect_equal(abs(got4$layers[1, 3]), 1)
})

test_that("the one-pass engine gives the same bits for 1 and 2 threads, scores included", {
  X <- make_system(widths = c(8, 12, 10), seed = 1)
  Y <- make_system(widths = c(10, 6, 9, 7), seed = 2)
  one <- hot(X, Y, seed = 4, n_perm = 40, splits = 2, threads = 1,
             progress = FALSE)
  two <- hot(X, Y, seed = 4, n_perm = 40, splits = 2, threads = 2,
             progress = FALSE)
  expect_identical(fit_content(one), fit_content(two))
  r1 <- hot(X[1:2], Y[1:3], rotation = TRUE, max_iter = 5, seed = 4,
            n_perm = 10, threads = 1, progress = FALSE)
  r2 <- hot(X[1:2], Y[1:3], rotation = TRUE, max_iter = 5, seed = 4,
            n_perm = 10, threads = 2, progress = FALSE)
  expect_identical(fit_content(r1), fit_content(r2))
})

test_that("the perm-P null scored from the plan's row shifts equals explicit permuted plans", {
  X <- make_system(widths = c(8, 12, 10), seed = 1)
  Y <- make_system(widths = c(10, 6, 9, 7), seed = 2)
  fit <- hot(X, Y, seed = 5, n_perm = 6, threads = 1, progress = FALSE)
  perms <- getFromNamespace("perm_p_permutations", "hotalign")(3L, 6L)
  expect_true(attr(perms, "exact"))
  got <- vapply(perms, function(p) {
    mean(ref_layer_scores(fit, X, Y, fit$plan[p, , drop = FALSE]))
  }, 0)
  expect_equal(fit$baselines$perm_p, mean(got), tolerance = 1e-12)
  # a permuted score within round-off of the real one may count either way
  # (valgrind's 64-bit long doubles change the reference's last bits)
  near <- abs(got - fit$score) <= 1e-12 * max(1, abs(fit$score))
  expect_gte(fit$baselines$perm_p_value, mean(got >= fit$score & !near))
  expect_lte(fit$baselines$perm_p_value, mean(got >= fit$score | near))
  if (!any(near)) expect_equal(fit$baselines$perm_p_value, mean(got >= fit$score))
})
