X <- make_system(n_stimuli = 30, widths = c(4, 5), seed = 1)

test_that("not a list of layers, empty list, empty layer", {
  expect_error(hot(X$L1, X), "`X` must be a list of layers .*as_layers\\(\\)")
  expect_error(hot(X, "a"), "`Y` must be a list of layers")
  expect_error(hot(list(), X), "`X` is an empty list")
  expect_error(hot(X, list()), "`Y` is an empty list")
  expect_error(hot(c(X, list(e = matrix(0, 30, 0))), X),
               "layer `e` of `X` has no units \\(0 columns\\)")
  expect_error(hot(list(a = matrix(0, 0, 3)), X), "layer `a` of `X` has no stimuli")
  expect_error(hot(list(a = matrix("x", 30, 2)), X), "layer `a` of `X` must be a numeric matrix")
  expect_error(hot(list(a = data.frame(u = 1:30, v = letters[1:30])), X),
               "layer `a` of `X` has non-numeric column `v`")
  expect_error(hot(list(a = X$L1, a = X$L2), X), "duplicated layer names: `a`")
})

test_that("NA, NaN and Inf are errors naming the layer and the place", {
  for (bad in c(NA, NaN, Inf, -Inf)) {
    Y <- X
    Y$L2[7, 3] <- bad
    expect_error(hot(X, Y, threads = 1),
                 "layer `L2` of `Y` has 1 NA/NaN/Inf value \\(first at row 7, column 3\\)")
  }
})

test_that("mismatched stimulus counts", {
  expect_error(hot(list(a = X$L1, b = X$L2[-1, ]), X),
               "all layers of `X` must have the same stimuli \\(rows\\): layer `a` has 30, layer `b` has 29")
  expect_error(hot(X, lapply(X, function(x) x[-1, ])),
               "`X` and `Y` must have the same stimuli \\(rows\\): layer `L1` of `X` has 30 rows, layer `L1` of `Y` has 29")
})

test_that("data frames and integer matrices are converted", {
  Xi <- lapply(X, function(x) {
    x <- round(10 * x)
    storage.mode(x) <- "integer"
    x
  })
  Xd <- lapply(Xi, as.data.frame)
  a <- hot(Xi, Xi, seed = 1, n_perm = 5, threads = 1)
  b <- hot(Xd, Xd, seed = 1, n_perm = 5, threads = 1)
  expect_identical(fit_content(a)[c("plan", "cost", "score")],
                   fit_content(b)[c("plan", "cost", "score")])
  expect_named(hot(unname(X), X, seed = 1, n_perm = 0, threads = 1)$layer_scores,
               c("X1", "X2"))
})

test_that("bad test indices and splits", {
  expect_error(hot(X, X, test = c(1, 31)), "`test` has indices outside 1..30: 31")
  expect_error(hot(X, X, test = c(0, 2)), "`test` has indices outside 1..30: 0")
  expect_error(hot(X, X, test = c(1, NA)), "`test` must be whole-number row indices")
  expect_error(hot(X, X, test = c(1.5, 2)), "`test` must be whole-number row indices")
  expect_error(hot(X, X, test = c(2, 2, 3)), "`test` has duplicated indices")
  expect_error(hot(X, X, test = integer(0)), "`test` is empty")
  expect_error(hot(X, X, test = rep(TRUE, 29)), "`test` as a logical vector must have one")
  expect_error(hot(X, X, test = 4), "a held-out set of 1 stimulus gives no correlation")
  expect_error(hot(X, X, test = 3:30), "at least 3 training stimuli are needed; the split leaves 2 of 30")
  expect_error(hot(X, X, test = 1:5, splits = 2), "either `test` or `splits`")
  expect_error(hot(X, X, holdout = 0, splits = 2), "`splits` > 1 needs `holdout` > 0")
  few <- lapply(X, function(x) x[1:4, ])
  expect_error(hot(few, few, holdout = 0.5), "at least 3 training stimuli are needed")
})

test_that("one stimulus too few: 3 training stimuli work, 2 do not", {
  five <- lapply(X, function(x) x[1:5, ])
  fit <- hot(five, five, test = 4:5, n_perm = 0, threads = 1)
  expect_length(fit$train, 3)
  expect_error(hot(five, five, test = 3:5), "at least 3 training stimuli")
})

test_that("scalar arguments are checked", {
  expect_error(hot(X, X, holdout = 1), "`holdout` must be a single number in \\[0, 1\\)")
  expect_error(hot(X, X, holdout = -0.1), "`holdout` must be a single number")
  expect_error(hot(X, X, holdout = NA), "`holdout` must be a single number")
  expect_error(hot(X, X, splits = 0), "`splits` must be a whole number >= 1")
  expect_error(hot(X, X, n_perm = -1), "`n_perm` must be a whole number >= 0")
  expect_error(hot(X, X, n_perm = 2.5), "`n_perm` must be a whole number >= 0")
  expect_error(hot(X, X, seed = "a"), "`seed` must be a single number")
  expect_error(hot(X, X, rotation = NA), "`rotation` must be TRUE or FALSE")
  expect_error(hot(X, X, progress = "yes"), "`progress` must be TRUE or FALSE")
  expect_error(hot(X, X, constant = "keep"), "should be one of")
  for (bad in list(0, -1, 1.5, NA, "2", c(1, 2), Inf, NULL)) {
    expect_error(hot(X, X, threads = bad), "`threads` must be a positive whole number")
  }
})

test_that("thread control: option, setter, and refusals", {
  old <- set_hot_threads(1)
  on.exit(set_hot_threads(old))
  expect_identical(hot_threads(), 1L)
  expect_identical(set_hot_threads(2), 1L)
  expect_identical(hot_threads(), 2L)
  expect_error(set_hot_threads(0), "`n` must be a positive whole number")
  expect_error(set_hot_threads("a"), "`n` must be a positive whole number")
  options(hotalign.threads = -3)
  expect_error(hot_threads(), "option `hotalign.threads` must be a positive whole number")
  set_hot_threads(NULL)
  expect_true(hot_threads() >= 1L)
})

test_that("huge problems are refused before allocation, stating the need", {
  old <- options(hotalign.max_memory = 2000)
  on.exit(options(old))
  expect_error(hot(X, X, threads = 1),
               "hot\\(\\) on `X` \\(2 layers\\) and `Y` \\(2 layers\\) with 1 thread needs about .* of working memory but only 1.95 KiB is available")
  expect_error(ot_exact(matrix(1, 200, 200)), "`cost` needs about")
  # the formula of ?hot, for an LLM-scale problem: 24 x 28 layers
  bytes <- hotalign:::hot_memory_bytes(rep(896, 24), rep(3072, 28), 1000, 2)
  expect_gt(bytes, 2 * 9 * 896 * 3072)
  expect_lt(bytes, 2e9)
})

test_that("as_layers splits a voxel matrix by ROI label", {
  x <- matrix(rnorm(20 * 6), 20, 6, dimnames = list(NULL, paste0("v", 1:6)))
  layers <- as_layers(x, c("V1", "V1", "V2", "IT", "V2", "V2"))
  expect_named(layers, c("V1", "V2", "IT"))
  expect_identical(layers$V2, x[, c(3, 5, 6)])
  f <- factor(c("b", "a", "b", "a", "a", "b"), levels = c("b", "a"))
  expect_named(as_layers(x, f), c("b", "a"))
  expect_error(as_layers(x, c("a", "b")), "`groups` must have one label per column of `x` \\(6\\), not 2")
  expect_error(as_layers(x, c(NA, rep("a", 5))), "`groups` has NA labels")
  x[2, 2] <- NA
  expect_error(as_layers(x, rep("a", 6)), "`x` has 1 NA/NaN/Inf value")
})

test_that("the thread count honours OMP_NUM_THREADS and is clamped to the tasks", {
  old <- options(hotalign.threads = NULL)
  on.exit(options(old))
  env <- Sys.getenv("OMP_NUM_THREADS", unset = NA)
  on.exit(if (is.na(env)) Sys.unsetenv("OMP_NUM_THREADS") else
    Sys.setenv(OMP_NUM_THREADS = env), add = TRUE)
  Sys.setenv(OMP_NUM_THREADS = "1")
  expect_identical(hot_threads(), 1L)
  Sys.setenv(OMP_NUM_THREADS = "not a number")
  expect_gte(hot_threads(), 1L)
  options(hotalign.threads = 3)
  expect_identical(hot_threads(), 3L)
  # one pair of 20000-unit layers: one pair-loop thread's workspace whatever
  # is asked (the scoring's three reconstructions may take up to 3 threads)
  bytes <- getFromNamespace("hot_memory_bytes", "hotalign")
  one <- bytes(20000L, 20000L, 1000, 1L)
  sixteen <- bytes(20000L, 20000L, 1000, 16L)
  expect_gt(one, 8 * 20000^2)  # the cost matrix
  expect_lte(sixteen, one + 2 * 8 * 1000 * 20000 * 2)
  expect_lt(sixteen, 5 * 2^30)
  # more pairs than threads: the workspace grows with the threads
  expect_gt(bytes(c(500L, 500L), c(500L, 500L), 100, 4L),
            bytes(c(500L, 500L), c(500L, 500L), 100, 1L))
})

test_that("errors are classed and carry the argument, layer and pair", {
  X <- list(a = matrix(rnorm(40), 20, 2), b = matrix(rnorm(60), 20, 3))
  Xna <- X
  Xna$b[3, 2] <- NA
  err <- expect_error(hot(Xna, X, threads = 1), class = "hotalign_error_input")
  expect_identical(err$arg, "X")
  expect_identical(err$layer, "b")
  err <- expect_error(hot(X, X, holdout = 2), class = "hotalign_error_input")
  expect_identical(err$arg, "holdout")
  err <- expect_error(hot(X, X, threads = 0), class = "hotalign_error_input")
  expect_identical(err$arg, "threads")
  Xc <- X
  Xc$a[, 2] <- 1
  err <- expect_error(hot(X, Xc, threads = 1, progress = FALSE),
                      class = "hotalign_error_input")
  expect_identical(err$arg, "Y")
  expect_identical(err$layer, "a")
  old <- options(hotalign.max_memory = 2000)
  err <- expect_error(hot(X, X, threads = 1), class = "hotalign_error_memory")
  expect_gt(err$bytes, err$available)
  options(old)
  # solver statuses are mapped by name, with the pair
  fail <- getFromNamespace("solver_failure", "hotalign")
  err <- expect_error(fail(4L, "layer pair (`a`, `b`)", c("a", "b")),
                      "did not converge", class = "hotalign_error_solver")
  expect_identical(err$pair, c("a", "b"))
  expect_identical(err$status, 4L)
  expect_error(fail(2L, "x"), "infeasible", class = "hotalign_error_solver")
  expect_error(fail(99L, "x"), "solver failed", class = "hotalign_error_solver")
})

test_that("constant = \"drop\" names the layer that is entirely constant", {
  set.seed(2)
  X <- list(a = cbind(rnorm(30), 1), b = matrix(5, 30, 2))
  Y <- list(c = matrix(rnorm(60), 30, 2))
  err <- expect_error(hot(X, Y, constant = "drop", threads = 1, progress = FALSE),
                      "layer `b` of `X` has only constant columns",
                      class = "hotalign_error_input")
  expect_identical(err$layer, "b")
  expect_error(hot(X, Y, threads = 1, progress = FALSE),
               "layer `a` of `X` has 1 column constant")
  fit <- hot(X[1], Y, constant = "drop", threads = 1, progress = FALSE,
             n_perm = 0)
  expect_identical(fit$dropped$source$a, 2L)
})
