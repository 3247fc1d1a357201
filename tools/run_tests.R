# Run the hotalign test suite against a fresh installation of this checkout.
#
#   Rscript tools/run_tests.R
#
# 1. installs what is missing: on Debian/Ubuntu (as root) the compilers and
#    libraries R builds packages with (apt-get install r-base-dev), and the R
#    packages hotalign and its tests need (DESCRIPTION Imports/LinkingTo,
#    testthat) from CRAN;
# 2. installs hotalign from this checkout into a temporary library (the checkout
#    itself is not modified and the default library is not touched);
# 3. runs tests/testthat against the installed package with OMP_THREAD_LIMIT=2
#    and NOT_CRAN=true (unless already set); tests that need a suggested
#    package (clue, lpSolve, future.apply) are skipped when it is missing;
# 4. ends with one line "N passed, N failed, N skipped" (testthat expectations;
#    a test that stops with an error counts as failed) and exits with status 1
#    if anything failed.

cran <- "https://cloud.r-project.org"

script_file <- function() {
  arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(arg) == 0L) stop("run this script with `Rscript tools/run_tests.R`")
  normalizePath(sub("^--file=", "", arg[[1L]]), mustWork = TRUE)
}

# OpenMP reads OMP_THREAD_LIMIT once, when the runtime starts, and R itself may
# already have started it: setting it with Sys.setenv() here would be too late.
# So, if it is unset, run this script again in a child process that has it.
if (!nzchar(Sys.getenv("OMP_THREAD_LIMIT"))) {
  Sys.setenv(OMP_THREAD_LIMIT = "2")
  status <- system2(file.path(R.home("bin"), "Rscript"),
                    c("--no-echo", "--no-restore", shQuote(script_file())))
  quit(save = "no", status = status)
}

source(file.path(dirname(script_file()), "setup.R"))
install_missing(rbind(desc_deps(c("Depends", "Imports", "LinkingTo")),
                      data.frame(package = "testthat", version = "3.0.0")))

lib <- tempfile("hotalign-lib-")
dir.create(lib)
version <- unname(read.dcf(desc_file, "Version")[1L, 1L])
cat(sprintf("Installing hotalign %s from %s into a temporary library ...\n", version, root))
t0 <- proc.time()[["elapsed"]]
installed <- tryCatch({ install_checkout(root, lib); TRUE }, error = function(e) {
  cat(conditionMessage(e), "\n", sep = "")
  FALSE
})
if (!installed) {
  cat("0 passed, 1 failed, 0 skipped\n")   # the installation counts as one failure
  quit(save = "no", status = 1L)
}
cat(sprintf("  done (%.0f s)\n", proc.time()[["elapsed"]] - t0))

.libPaths(c(lib, .libPaths()))
# the full suite, as devtools::test() runs it (R CMD check runs it CRAN-style)
if (!nzchar(Sys.getenv("NOT_CRAN"))) Sys.setenv(NOT_CRAN = "true")
Sys.setenv(R_LIBS = paste(c(lib, Sys.getenv("R_LIBS")[nzchar(Sys.getenv("R_LIBS"))]),
                          collapse = .Platform$path.sep))

cat(sprintf("Running tests/testthat with OMP_THREAD_LIMIT=%s\n", Sys.getenv("OMP_THREAD_LIMIT")))
reporter <- testthat::ProgressReporter$new(
  show_praise = FALSE, max_failures = 1e6,
  update_interval = if (cli::is_dynamic_tty()) 0.1 else Inf)  # no spinner lines in logs
results <- tryCatch(
  testthat::test_dir(file.path(root, "tests", "testthat"), package = "hotalign",
                     load_package = "installed", reporter = reporter,
                     stop_on_failure = FALSE, stop_on_warning = FALSE),
  error = function(e) {
    cat("\nThe test run itself failed: ", conditionMessage(e), "\n", sep = "")
    NULL
  })

if (is.null(results)) {
  n_pass <- 0L; n_fail <- 1L; n_skip <- 0L
} else {
  df <- as.data.frame(results)
  n_pass <- sum(df$passed)
  n_fail <- sum(df$failed) + sum(df$error)   # error: the test stopped with an error
  n_skip <- sum(df$skipped)
}
cat(sprintf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip))
quit(save = "no", status = if (n_fail > 0L) 1L else 0L)
