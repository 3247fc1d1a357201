# Tests use at most 2 threads (as CRAN asks). R may have started the OpenMP
# runtime before this file runs, so OMP_THREAD_LIMIT set here reaches only
# the child R processes some tests start; the option caps hotalign itself.
if (!nzchar(Sys.getenv("OMP_THREAD_LIMIT"))) Sys.setenv(OMP_THREAD_LIMIT = "2")
if (is.null(getOption("hotalign.threads"))) options(hotalign.threads = 2L)
library(testthat)
library(hotalign)

test_check("hotalign")
