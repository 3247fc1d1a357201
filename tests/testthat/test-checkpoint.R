# Checkpoint directories of hot_many() and hot_trajectory(): finished fits
# are written atomically as they end, a rerun resumes, and a directory made
# for other inputs is refused.

ck_systems <- function(n_systems = 3, units = 6, n_stimuli = 50) {
  sim <- simulate_hierarchy(n_stimuli = n_stimuli, source_layers = 3,
                            target_layers = 3, source_units = units,
                            target_units = units, seed = 11)
  s <- list(sim$X, sim$Y, sim$X[3:1], sim$Y[3:1], sim$X[c(1, 3, 2)],
            sim$Y[c(2, 1, 3)], sim$X[c(2, 3, 1)], sim$Y[c(3, 1, 2)])
  stats::setNames(s[seq_len(n_systems)], LETTERS[seq_len(n_systems)])
}

without_call <- function(x) x[setdiff(names(x), "call")]

test_that("hot_many() writes each fit, resumes from them and refuses other runs", {
  systems <- ck_systems()
  dir <- tempfile("ck-")
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  ref <- hot_many(systems, n_perm = 5, seed = 1, threads = 1,
                  progress = FALSE)
  first <- hot_many(systems, n_perm = 5, seed = 1, threads = 1,
                    checkpoint = dir, progress = FALSE)
  expect_identical(without_call(first), without_call(ref))
  files <- list.files(dir, all.files = TRUE, no.. = TRUE)
  expect_setequal(files, c("hotalign-checkpoint.rds",
                           sprintf("fit-%d-%d.rds", c(1, 1, 2, 2, 3, 3),
                                   c(2, 3, 1, 3, 1, 2))))
  # a rerun reads the files, it does not refit: a doctored file shows
  doctored <- readRDS(file.path(dir, "fit-1-2.rds"))
  doctored$score <- 42
  saveRDS(doctored, file.path(dir, "fit-1-2.rds"))
  again <- hot_many(systems, n_perm = 5, seed = 1, threads = 1,
                    checkpoint = dir, progress = FALSE)
  expect_equal(again$score["A", "B"], 42)
  expect_identical(again$score["B", "A"], ref$score["B", "A"])
  # seed = NULL takes the seed recorded in the directory
  expect_identical(hot_many(systems, n_perm = 5, threads = 1, checkpoint = dir,
                            progress = FALSE)$seed, 1)
  # other data, settings or seed: refused
  other <- systems
  other$C[[1]][1, 1] <- other$C[[1]][1, 1] + 1e-12
  expect_error(hot_many(other, n_perm = 5, seed = 1, threads = 1,
                        checkpoint = dir, progress = FALSE),
               "was made by another hot_many\\(\\) run with other data or settings",
               class = "hotalign_error_checkpoint")
  expect_error(hot_many(systems, n_perm = 6, seed = 1, threads = 1,
                        checkpoint = dir, progress = FALSE),
               class = "hotalign_error_checkpoint")
  expect_error(hot_many(systems, n_perm = 5, seed = 2, threads = 1,
                        checkpoint = dir, progress = FALSE),
               "made with `seed = 1`, not 2", class = "hotalign_error_checkpoint")
  # threads do not change the results: accepted
  expect_no_error(hot_many(systems, n_perm = 5, seed = 1, threads = 2,
                           checkpoint = dir, progress = FALSE))
  file <- tempfile()
  writeLines("x", file)
  on.exit(unlink(file), add = TRUE)
  expect_error(hot_many(systems, checkpoint = file),
               "must be a directory", class = "hotalign_error_checkpoint")
  expect_error(hot_many(systems, checkpoint = 1),
               "`checkpoint` must be NULL or the path of a directory, not 1",
               class = "hotalign_error_input")
})

test_that("a hot_many() run killed midway resumes to the uninterrupted result", {
  skip_on_os("windows")
  skip_on_cran()
  dir <- tempfile("ck-kill-")
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  make <- c(
    "sim <- simulate_hierarchy(n_stimuli = 300, source_layers = 6,",
    "  target_layers = 6, source_units = 150, target_units = 150, seed = 1)",
    "systems <- list(A = sim$X, B = sim$Y, C = sim$X[6:1], D = sim$Y[6:1],",
    "  E = sim$X[c(2, 1, 3:6)], F = sim$Y[c(2, 1, 3:6)])")
  pid_file <- start_child_r(c(make, sprintf(
    "hot_many(systems, n_perm = 20, seed = 7, threads = 1, checkpoint = '%s', progress = FALSE)",
    dir)))
  n_fits <- function() length(list.files(dir, pattern = "^fit-.*\\.rds$"))
  expect_true(wait_for(function() n_fits() >= 4L, timeout = 60, every = 0.02))
  pid <- as.integer(readLines(pid_file))
  tools::pskill(pid, tools::SIGKILL)
  # the child is gone: the count no longer moves
  expect_true(wait_for(function() !dir.exists(file.path("/proc", pid)) ||
                         grepl("^State:\\s+Z",
                               paste(readLines(file.path("/proc", pid, "status"),
                                               warn = FALSE), collapse = "\n")),
                       timeout = 10))
  done <- n_fits()
  skip_if(done >= 30L, "the child finished before it was killed")
  eval(parse(text = make))
  resumed <- hot_many(systems, n_perm = 20, seed = 7, threads = 1,
                      checkpoint = dir, progress = FALSE)
  expect_equal(n_fits(), 30L)
  ref <- hot_many(systems, n_perm = 20, seed = 7, threads = 1,
                  progress = FALSE)
  expect_identical(without_call(resumed), without_call(ref))
  expect_length(list.files(dir, pattern = "\\.tmp$", all.files = TRUE), 0L)
})

test_that("hot_trajectory() checkpoints each fit and resumes to the same result", {
  set.seed(3)
  run <- lapply(1:3, function(k) {
    list(a = matrix(rnorm(40 * 5), 40), b = matrix(rnorm(40 * 4), 40))
  })
  other <- lapply(run, function(ck) lapply(ck, function(x) x + 0.3 * rnorm(length(x))))
  # a constant held-out column warns on some pairs: warnings are kept too
  other[[2]]$b[, 1] <- c(rnorm(32), rep(1, 8))
  dir <- tempfile("ck-traj-")
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  ref <- suppressWarnings(hot_trajectory(run, other, test = 33:40, seed = 2,
                                         n_perm = 0, progress = FALSE))
  first <- suppressWarnings(hot_trajectory(run, other, test = 33:40, seed = 2,
                                           n_perm = 0, checkpoint = dir,
                                           progress = FALSE))
  expect_identical(without_call(first), without_call(ref))
  expect_length(list.files(dir, pattern = "^fit-"), 9L)
  # drop two fits, as a killed run would leave it; the resumed run refits them
  unlink(file.path(dir, c("fit-2-3.rds", "fit-3-3.rds")))
  doctored <- readRDS(file.path(dir, "fit-1-1.rds"))
  doctored$fit$objective <- 42
  saveRDS(doctored, file.path(dir, "fit-1-1.rds"))
  resumed <- suppressWarnings(hot_trajectory(run, other, test = 33:40,
                                             seed = 2, n_perm = 0,
                                             checkpoint = dir,
                                             progress = FALSE))
  expect_equal(resumed$cost[1, 1], 42)
  expect_identical(resumed$fits[[3, 3]], ref$fits[[3, 3]])
  expect_identical(resumed$warnings, ref$warnings)
  expect_error(hot_trajectory(run, other, test = 1:8, seed = 2, n_perm = 0,
                              checkpoint = dir, progress = FALSE),
               "other data or settings", class = "hotalign_error_checkpoint")
  expect_error(hot_many(list(A = run[[1]], B = other[[1]]), checkpoint = dir),
               "was made by another hot_trajectory\\(\\) run",
               class = "hotalign_error_checkpoint")
})

test_that("under a parallel future plan the workers write the checkpoint files", {
  skip_on_os("windows")
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  systems <- ck_systems()
  dir <- tempfile("ck-par-")
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  ref <- hot_many(systems, n_perm = 5, seed = 3, threads = 1, progress = FALSE)
  old <- future::plan(future::multicore, workers = 2)
  on.exit(future::plan(old), add = TRUE)
  par <- hot_many(systems, n_perm = 5, seed = 3, checkpoint = dir,
                  progress = FALSE)
  expect_true(par$parallel)
  expect_length(list.files(dir, pattern = "^fit-"), 6L)
  expect_identical(par$pairs, ref$pairs)
  # resumed under the plan from the files alone
  again <- hot_many(systems, n_perm = 5, seed = 3, checkpoint = dir,
                    progress = FALSE)
  expect_identical(again$pairs, ref$pairs)
})
