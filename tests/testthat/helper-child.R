# Child R processes for tests that may hang (a fork after OpenMP) or that are
# killed on purpose (checkpoints): the code runs in a fresh Rscript with the
# same library paths as this session, so a regression fails on the timeout
# instead of hanging the suite.

child_script <- function(code) {
  file <- tempfile(fileext = ".R")
  writeLines(c(
    sprintf(".libPaths(c(%s))",
            paste0('"', .libPaths(), '"', collapse = ", ")),
    "suppressPackageStartupMessages(library(hotalign))",
    code), file)
  file
}

# Runs `code` (character lines) to the end or for at most `timeout` seconds;
# returns list(status, output): status 124 (as timeout(1)) when it was cut.
run_child_r <- function(code, timeout = 60) {
  file <- child_script(code)
  on.exit(unlink(file))
  out <- suppressWarnings(system2(file.path(R.home("bin"), "Rscript"),
                                  c("--vanilla", shQuote(file)),
                                  stdout = TRUE, stderr = TRUE,
                                  timeout = timeout,
                                  env = "OMP_THREAD_LIMIT=2"))
  status <- attr(out, "status")
  list(status = if (is.null(status)) 0L else status, output = out)
}

# Runs `code` (which saves its result to the file commandArgs(TRUE)[1]) in
# two fresh processes, the second with HOTALIGN_NO_VECTOR_PATHS (every SIMD
# kernel on its generic path); returns list(vector, generic), the two results
vector_and_generic <- function(code, timeout = 120) {
  out <- c(tempfile(fileext = ".rds"), tempfile(fileext = ".rds"))
  file <- child_script(code)
  on.exit(unlink(c(file, out)))
  rscript <- file.path(R.home("bin"), "Rscript")
  env <- list("OMP_THREAD_LIMIT=2", c("OMP_THREAD_LIMIT=2", "HOTALIGN_NO_VECTOR_PATHS=1"))
  for (k in 1:2) {
    system2(rscript, c("--vanilla", shQuote(file), shQuote(out[k])), env = env[[k]],
            stdout = FALSE, stderr = FALSE, timeout = timeout)
  }
  list(vector = readRDS(out[1]), generic = readRDS(out[2]))
}

# Starts `code` in the background; the child writes its process id to the
# returned `pid_file` first, so that the test can kill it
start_child_r <- function(code) {
  pid_file <- tempfile()
  file <- child_script(c(sprintf('writeLines(as.character(Sys.getpid()), "%s")',
                                 pid_file), code))
  system2(file.path(R.home("bin"), "Rscript"), c("--vanilla", shQuote(file)),
          stdout = FALSE, stderr = FALSE, wait = FALSE,
          env = "OMP_THREAD_LIMIT=2")
  pid_file
}

wait_for <- function(cond, timeout = 60, every = 0.1) {
  t0 <- Sys.time()
  while (!cond()) {
    if (as.numeric(difftime(Sys.time(), t0, units = "secs")) > timeout) {
      return(FALSE)
    }
    Sys.sleep(every)
  }
  TRUE
}
