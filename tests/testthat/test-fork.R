# Forked workers after the parent used OpenMP: libgomp's thread pool does not
# survive fork(), so without the atfork handler (src/fork.c) the children
# hang. Each case runs in a child R process with a timeout.

skip_on_os("windows")

fork_setup <- c(
  "sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,",
  "  target_layers = 3, source_units = 8, target_units = 6, seed = 1)",
  "fit <- hot(sim$X, sim$Y, threads = 2, n_perm = 0, seed = 1)")

test_that("parallel::mclapply children of a 2-thread hot() return", {
  res <- run_child_r(c(fork_setup,
    "r <- parallel::mclapply(1:2, function(i) {",
    "  list(score = hot(sim$X, sim$Y, threads = 2, n_perm = 0, seed = 1)$score,",
    "       forked = hotalign:::in_forked_child())",
    "}, mc.cores = 2)",
    "stopifnot(!hotalign:::in_forked_child())",
    "cat('scores', sapply(r, `[[`, 'score') == fit$score, '\\n')",
    "cat('forked', sapply(r, `[[`, 'forked'), '\\n')"), timeout = 60)
  expect_equal(res$status, 0L, info = paste(res$output, collapse = "\n"))
  expect_true(any(res$output == "scores TRUE TRUE "))
  expect_true(any(res$output == "forked TRUE TRUE "))
})

test_that("future multicore + hot_many() after a 2-thread fit returns", {
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  res <- run_child_r(c(fork_setup,
    "systems <- list(A = sim$X, B = sim$Y)",
    "ref <- hot_many(systems, n_perm = 0, seed = 1, threads = 2)",
    "future::plan(future::multicore, workers = 2)",
    "par <- hot_many(systems, n_perm = 0, seed = 1, threads = 2)",
    "future::plan(future::sequential)",
    "cat('parallel', par$parallel, '\\n')",
    "cat('same', identical(ref$score, par$score), '\\n')"), timeout = 90)
  expect_equal(res$status, 0L, info = paste(res$output, collapse = "\n"))
  expect_true(any(res$output == "same TRUE "))
})
