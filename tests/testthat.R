# Tests run with at most 2 OpenMP threads unless the caller says otherwise;
# set before the package (and so the OpenMP runtime) is loaded.
if (!nzchar(Sys.getenv("OMP_THREAD_LIMIT"))) Sys.setenv(OMP_THREAD_LIMIT = "2")
library(testthat)
library(hotalign)

test_check("hotalign")
