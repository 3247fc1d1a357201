# Methods for class "hot" on real fits of small simulated problems.

small_problem <- function(seed = 1) {
  simulate_hierarchy(n_stimuli = 80, source_layers = 2, target_layers = 4,
                     source_units = c(8, 10), target_units = c(6, 5, 7, 6),
                     seed = seed)
}

small_fit <- function(sim = small_problem(), ...) {
  hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1, progress = FALSE,
      ...)
}

# mean held-out unit correlation of each reconstructed layer with the source
# units used in the fit, skipping units whose correlation is undefined
reconstruction_scores <- function(rebuilt, fit, X) {
  vapply(seq_along(rebuilt), function(l) {
    keep <- fit$standardise$source[[l]]$keep
    x <- X[[l]][fit$test, keep, drop = FALSE]
    r <- vapply(seq_len(ncol(x)), function(i)
      suppressWarnings(stats::cor(rebuilt[[l]][, i], x[, i])), 1)
    mean(r, na.rm = TRUE)
  }, 1)
}

test_that("print.hot() is short and shows dims, objective, score and baselines", {
  fit <- small_fit()
  out <- capture.output(res <- print(fit))
  expect_identical(res, fit)
  expect_lte(length(out), 5L)
  txt <- paste(out, collapse = "\n")
  expect_match(txt, "2 source layers x 4 target layers", fixed = TRUE)
  expect_match(txt, formatC(fit$score, digits = 4, format = "g"),
               fixed = TRUE)
  expect_match(txt, formatC(fit$objective, digits = 4, format = "g"),
               fixed = TRUE)
  expect_match(txt, "pairwise best", fixed = TRUE)
  expect_match(txt, "perm-P", fixed = TRUE)
})

test_that("summary.hot() has its own class and a full print", {
  fit <- small_fit()
  s <- summary(fit)
  expect_s3_class(s, "summary.hot")
  expect_equal(s$score, fit$score)
  expect_equal(nrow(s$layers), 2L)
  expect_equal(s$layers$score, unname(fit$layer_scores))
  expect_equal(s$layers$dominant,
               colnames(fit$plan)[apply(fit$plan, 1, which.max)])
  out <- capture.output(res <- print(s))
  expect_identical(res, s)
  txt <- paste(out, collapse = "\n")
  expect_match(txt, formatC(fit$score, digits = 4, format = "g"),
               fixed = TRUE)
  expect_match(txt, "Per source layer", fixed = TRUE)
  expect_match(txt, "Layer plan", fixed = TRUE)
  expect_match(txt, "p = ", fixed = TRUE)
  expect_match(txt, "Dropped constant columns: none", fixed = TRUE)
  for (nm in c(rownames(fit$plan), colnames(fit$plan))) {
    expect_match(txt, nm, fixed = TRUE)
  }
  expect_no_match(txt, "Splits:", fixed = TRUE)
})

test_that("summary.hot() reports splits, score_se and dropped columns", {
  sim <- small_problem()
  sim$X$A2[, 3] <- 1
  sim$Y$B3[, 7] <- -2
  fit <- small_fit(sim, splits = 3, constant = "drop")
  s <- summary(fit)
  expect_equal(s$n_splits, 3L)
  expect_equal(nrow(s$splits), 3L)
  txt <- paste(capture.output(print(s)), collapse = "\n")
  expect_match(txt, "Splits:", fixed = TRUE)
  expect_match(txt, "SE ", fixed = TRUE)
  expect_match(txt, "source `A2`: column 3", fixed = TRUE)
  expect_match(txt, "target `B3`: column 7", fixed = TRUE)
  expect_match(paste(capture.output(print(fit)), collapse = "\n"),
               "3 splits", fixed = TRUE)
})

test_that("as.data.frame.hot() gives the plan in long form", {
  fit <- small_fit()
  df <- as.data.frame(fit)
  expect_s3_class(df, "data.frame")
  expect_named(df, c("source", "target", "mass", "cost"))
  expect_equal(nrow(df), length(fit$plan))
  expect_equal(sum(df$mass), 1)
  expect_equal(levels(df$source), rownames(fit$plan))
  expect_equal(levels(df$target), colnames(fit$plan))
  i <- cbind(as.integer(df$source), as.integer(df$target))
  expect_equal(df$mass, unname(fit$plan[i]))
  expect_equal(df$cost, unname(fit$cost[i]))
})

test_that("predict.hot() on the held-out rows reproduces the layer scores", {
  sim <- small_problem()
  fit <- small_fit(sim)
  newdata <- lapply(sim$Y, function(y) y[fit$test, , drop = FALSE])
  rebuilt <- predict(fit, newdata)
  expect_named(rebuilt, names(sim$X))
  expect_equal(unname(vapply(rebuilt, nrow, 1L)),
               rep(length(fit$test), 2L))
  expect_equal(unname(vapply(rebuilt, ncol, 1L)),
               unname(vapply(sim$X, ncol, 1L)))
  expect_equal(reconstruction_scores(rebuilt, fit, sim$X),
               unname(fit$layer_scores), tolerance = 1e-10)
  # per unit as well
  for (l in seq_along(rebuilt)) {
    r <- diag(stats::cor(rebuilt[[l]], sim$X[[l]][fit$test, ]))
    expect_equal(unname(r), unname(fit$unit_scores[[l]]), tolerance = 1e-10)
  }
  # the original scale is an affine map of each column: same correlations
  original <- predict(fit, newdata, type = "original")
  expect_equal(reconstruction_scores(original, fit, sim$X),
               unname(fit$layer_scores), tolerance = 1e-10)
  # layers given by name in another order are put back in order
  expect_equal(predict(fit, rev(newdata)), rebuilt)
})

test_that("predict.hot() maps to the original scale with the source training statistics", {
  sim <- small_problem()
  fit <- small_fit(sim)
  newdata <- lapply(sim$Y, function(y) y[1:5, , drop = FALSE])
  std <- predict(fit, newdata)
  orig <- predict(fit, newdata, type = "original")
  x <- sim$X$A1[fit$train, ]
  center <- colMeans(x)
  scale <- sqrt(colSums(sweep(x, 2, center)^2))
  expect_equal(unname(orig$A1), unname(sweep(sweep(std$A1, 2, scale, "*"), 2,
                                             center, "+")), tolerance = 1e-10)
})

test_that("predict.hot() handles dropped constant columns", {
  sim <- small_problem()
  sim$X$A2[, 3] <- 1
  sim$Y$B3[, 7] <- -2
  fit <- small_fit(sim, constant = "drop")
  newdata <- lapply(sim$Y, function(y) y[fit$test, , drop = FALSE])
  rebuilt <- predict(fit, newdata)
  expect_equal(ncol(rebuilt$A2), 9L)
  expect_equal(reconstruction_scores(rebuilt, fit, sim$X),
               unname(fit$layer_scores), tolerance = 1e-10)
})

test_that("predict.hot() validates newdata, naming the argument and the layer", {
  sim <- small_problem()
  fit <- small_fit(sim)
  nd <- lapply(sim$Y, function(y) y[1:6, , drop = FALSE])
  expect_error(predict(fit), "`newdata`")
  expect_error(predict(fit, sim$Y$B1), "`newdata` must be a list")
  expect_error(predict(fit, nd[1:3]), "one element per target layer \\(4\\)")
  bad <- nd
  names(bad)[2] <- "C2"
  expect_error(predict(fit, bad), "`C2`")
  bad <- nd
  bad$B3 <- bad$B3[1:4, ]
  expect_error(predict(fit, bad), "`newdata` layer `B3` has 4 rows")
  bad <- nd
  bad$B2 <- bad$B2[, -1]
  expect_error(predict(fit, bad), "`newdata` layer `B2` has 4 columns")
  bad <- nd
  bad$B4[2, 2] <- NA
  expect_error(predict(fit, bad), "`newdata` layer `B4` contains NA")
  bad$B4[2, 2] <- Inf
  expect_error(predict(fit, bad), "`newdata` layer `B4` contains NA")
  bad <- nd
  bad$B1 <- letters[1:6]
  expect_error(predict(fit, bad), "`newdata` layer `B1` must be a numeric")
  err <- tryCatch(predict(fit, nd[1:3]), error = identity)
  expect_false(grepl("\\.$", conditionMessage(err)))
  # data frames and integer matrices are accepted
  ok <- nd
  ok$B1 <- as.data.frame(ok$B1)
  expect_equal(predict(fit, ok), predict(fit, nd))
})

test_that("unit_plan() returns the sparse inner plan with uniform marginals", {
  sim <- small_problem()
  fit <- small_fit(sim)
  for (l in 1:2) for (m in 1:4) {
    q <- unit_plan(fit, l, m)
    expect_s4_class(q, "sparseMatrix")
    n_l <- ncol(sim$X[[l]])
    n_m <- ncol(sim$Y[[m]])
    expect_equal(dim(q), c(n_l, n_m))
    expect_equal(sum(q), 1)
    expect_equal(unname(Matrix::rowSums(q)), rep(1 / n_l, n_l))
    expect_equal(unname(Matrix::colSums(q)), rep(1 / n_m, n_m))
    expect_true(all(q@x >= 0))
    expect_lte(Matrix::nnzero(q), n_l + n_m - 1L)
  }
  expect_equal(unit_plan(fit, "A2", "B3"), unit_plan(fit, 2, 3))
  expect_error(unit_plan(fit, 3, 1), "`l`")
  expect_error(unit_plan(fit, 1, 0), "`m`")
  expect_error(unit_plan(fit, "A9", 1), "`l`.*`A9`")
  expect_error(unit_plan(fit, 1, "A1"), "`m`.*`A1`")
  expect_error(unit_plan(fit, c(1, 2), 1), "`l`")
  expect_error(unit_plan(list(), 1, 1), "`fit`")
})

test_that("unit_plan() is the optimal inner plan behind the cost matrix", {
  sim <- small_problem()
  fit <- small_fit(sim)
  train <- fit$train
  stdz <- function(z) {
    z <- sweep(z, 2, colMeans(z[train, ]))
    sweep(z, 2, sqrt(colSums(z[train, ]^2)), "/")
  }
  for (l in 1:2) for (m in 1:4) {
    k <- 1 - crossprod(stdz(sim$X[[l]])[train, ], stdz(sim$Y[[m]])[train, ])
    q <- as.matrix(unit_plan(fit, l, m))
    expect_equal(sum(k * q), fit$cost[l, m], tolerance = 1e-10)
  }
})

test_that("plot.hot() draws every type to a PNG", {
  fit <- small_fit()
  for (type in c("plan", "cost", "scores")) {
    file <- tempfile(fileext = ".png")
    grDevices::png(file, width = 600, height = 400)
    res <- withVisible(plot(fit, type = type))
    grDevices::dev.off()
    expect_false(res$visible)
    expect_identical(res$value, fit)
    expect_gt(file.size(file), 1000)
    unlink(file)
  }
  expect_error(plot(fit, type = "nope"))
  expect_error(plot(fit, numbers = "yes"), "`numbers`")
})

test_that("hot() recovers the simulated layer correspondence and beats the baselines", {
  sim <- simulate_hierarchy(seed = 1)
  fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 50, threads = 2,
             progress = FALSE)
  L <- nrow(sim$truth)
  # every source layer's dominant target is in its true block ...
  dominant <- apply(fit$plan, 1, which.max)
  expect_true(all(sim$truth[cbind(seq_len(L), dominant)] > 0))
  # ... and the plan is the truth
  expect_lt(sum(abs(fit$plan * L - sim$truth)), 0.1)
  expect_gt(fit$score, fit$baselines$pairwise_best)
  expect_gt(fit$score, fit$baselines$single_best)
  expect_gt(fit$score, fit$baselines$perm_p)
  # with 4 source layers only 4! = 24 row permutations exist, the identity
  # among them: the p-value cannot go much below 1/24
  expect_lte(fit$baselines$perm_p_value, 0.1)
})

test_that("hot() on hot_example finds the true blocks", {
  fit <- hot(hot_example$X, hot_example$Y, seed = 1, n_perm = 20,
             threads = 1, progress = FALSE)
  expect_lt(sum(abs(fit$plan * 4 - hot_example$truth)), 0.1)
  expect_gt(fit$score, fit$baselines$pairwise_best)
})

test_that("summary.hot() lists units with undefined held-out correlation", {
  sim <- small_problem()
  sim$X$A2[61:80, 4] <- 3
  expect_warning(fit <- small_fit(sim, test = 61:80), "undefined")
  s <- summary(fit)
  expect_equal(nrow(s$undefined), 1L)
  txt <- paste(capture.output(print(s)), collapse = "\n")
  expect_match(txt, "undefined held-out correlation: 1", fixed = TRUE)
  expect_match(txt, "A2: 4", fixed = TRUE)
  # predict() gives the same (NA-skipping) layer scores
  rebuilt <- predict(fit, lapply(sim$Y, function(y) y[61:80, ]))
  expect_equal(reconstruction_scores(rebuilt, fit, sim$X),
               unname(fit$layer_scores), tolerance = 1e-10)
})

test_that("methods work on a fit without held-out stimuli", {
  sim <- small_problem()
  fit <- small_fit(sim, holdout = 0)
  expect_output(print(fit), "no held-out stimuli", fixed = TRUE)
  expect_output(print(summary(fit)), "Layer plan", fixed = TRUE)
  expect_equal(sum(as.data.frame(fit)$mass), 1)
  rebuilt <- predict(fit, lapply(sim$Y, function(y) y[1:3, ]))
  expect_equal(unname(vapply(rebuilt, dim, integer(2))),
               rbind(3L, c(8L, 10L)))
  file <- tempfile(fileext = ".png")
  grDevices::png(file)
  expect_invisible(plot(fit, type = "scores"))
  grDevices::dev.off()
  unlink(file)
})

test_that("methods handle HOT+R fits: predict() applies the rotations", {
  sim <- small_problem()
  fit <- small_fit(sim, rotation = TRUE, max_iter = 20)
  expect_output(print(fit), "HOT+R", fixed = TRUE)
  txt <- paste(capture.output(print(summary(fit))), collapse = "\n")
  expect_match(txt, "HOT+R descent", fixed = TRUE)
  rebuilt <- predict(fit, lapply(sim$Y, function(y) y[fit$test, ]))
  expect_equal(reconstruction_scores(rebuilt, fit, sim$X),
               unname(fit$layer_scores), tolerance = 1e-10)
  q <- unit_plan(fit, 1, 2)
  expect_equal(sum(q), 1)
})
