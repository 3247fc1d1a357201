# A fit saved with saveRDS() and read back in a fresh R session still prints,
# summarises, plots and predicts, for plain HOT and HOT+R.

test_that("a saved fit prints, plots and predicts in a fresh session", {
  skip_on_cran()
  sim <- simulate_hierarchy(n_stimuli = 80, seed = 3)
  dir <- tempfile("hot-saved-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  fits <- list(
    plain = hot(sim$X, sim$Y, seed = 1, n_perm = 5, threads = 1),
    rotation = hot(sim$X, sim$Y, rotation = TRUE, seed = 1, n_perm = 0,
                   threads = 1)
  )
  saveRDS(fits, file.path(dir, "fits.rds"))
  saveRDS(sim$Y, file.path(dir, "newdata.rds"))
  child <- file.path(dir, "child.R")
  writeLines(c(
    "dir <- commandArgs(TRUE)[1]",
    "library(hotalign)",
    "fits <- readRDS(file.path(dir, 'fits.rds'))",
    "newdata <- readRDS(file.path(dir, 'newdata.rds'))",
    "out <- lapply(fits, function(fit) {",
    "  printed <- capture.output(print(fit), print(summary(fit)))",
    "  png(file.path(dir, paste0(class(fit)[1], '.png')))",
    "  plot(fit); plot(fit, type = 'cost'); plot(fit, type = 'scores')",
    "  dev.off()",
    "  list(printed = printed, predicted = predict(fit, newdata),",
    "       unit = as.matrix(hotalign::unit_plan(fit, 1, 1)))",
    "})",
    "saveRDS(out, file.path(dir, 'out.rds'))"
  ), child)
  libs <- paste(.libPaths(), collapse = .Platform$path.sep)
  status <- system2(file.path(R.home("bin"), "Rscript"),
                    c("--vanilla", shQuote(child), shQuote(dir)),
                    env = paste0("R_LIBS=", shQuote(libs)),
                    stdout = FALSE, stderr = file.path(dir, "stderr.txt"))
  expect_identical(status, 0L, info = paste(readLines(file.path(dir, "stderr.txt")),
                                             collapse = "\n"))
  out <- readRDS(file.path(dir, "out.rds"))
  for (kind in names(fits)) {
    fit <- fits[[kind]]
    here <- capture.output(print(fit), print(summary(fit)))
    expect_identical(out[[kind]]$printed, here)
    expect_identical(out[[kind]]$predicted, predict(fit, sim$Y))
    expect_identical(out[[kind]]$unit, as.matrix(unit_plan(fit, 1, 1)))
  }
  expect_true(file.exists(file.path(dir, "hot.png")))
})
