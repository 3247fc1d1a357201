# Ctrl-C in a child R process. `setup` (R lines) makes the data; `long` (one
# line) must run for several seconds; `after` (one line, a number) runs once
# the interrupt is caught, to show the session still works. The child is sent
# SIGINT one second after `long` starts. Returns the lines the child wrote --
# "interrupted <time>" (or "finished") and the value of `after` with 17
# digits -- and the time the signal was sent.
interrupt_child <- function(setup, long, after) {
  dir <- tempfile("interrupt-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  child <- file.path(dir, "child.R")
  writeLines(c(
    "dir <- commandArgs(TRUE)[1]",
    "library(hotalign)",
    setup,
    "writeLines(as.character(Sys.getpid()), file.path(dir, 'pid'))",
    "res <- tryCatch({",
    "  writeLines('started', file.path(dir, 'started'))",
    paste0("  ", long),
    "  'finished'",
    "}, interrupt = function(e) sprintf('interrupted %.3f', as.numeric(Sys.time())))",
    paste0("after <- ", after),
    "writeLines(c(res, sprintf('%.17g', after)), file.path(dir, 'result'))"
  ), child)
  rscript <- file.path(R.home("bin"), "Rscript")
  libs <- paste(.libPaths(), collapse = .Platform$path.sep)
  system2(rscript, c(shQuote(child), shQuote(dir)), wait = FALSE,
          env = paste0("R_LIBS=", shQuote(libs)))
  wait_for <- function(file, seconds) {
    deadline <- Sys.time() + seconds
    while (!file.exists(file) && Sys.time() < deadline) Sys.sleep(0.05)
    file.exists(file)
  }
  testthat::expect_true(wait_for(file.path(dir, "started"), 60))
  Sys.sleep(1)
  sent <- as.numeric(Sys.time())
  tools::pskill(as.integer(readLines(file.path(dir, "pid"))), tools::SIGINT)
  testthat::expect_true(wait_for(file.path(dir, "result"), 60))
  list(result = readLines(file.path(dir, "result")), sent = sent)
}

# the child caught the interrupt within `seconds` of the signal
expect_interrupted_within <- function(out, seconds = 1) {
  testthat::expect_match(out$result[1], "^interrupted ")
  caught <- as.numeric(sub("^interrupted ", "", out$result[1]))
  testthat::expect_lt(caught - out$sent, seconds)
}
