# Optional peer test: HOT+R against T4transport::pwdist on a single pair.
# T4transport takes about ten minutes to compile (RcppArmadillo), so it is not
# a test dependency of the package; run this where it is installed:
#
#   Rscript -e 'testthat::test_file("bench/peers/test-t4transport.R")'
#
library(testthat)
library(hotalign)
source(file.path("tests", "testthat", "helper-rotation.R"))

test_that("HOT+R objective is at least as low as T4transport::pwdist's", {
  skip_if_not_installed("T4transport")
  # pwdist(X, Y) couples the rows of X and Y as points in R^P and rotates
  # that space; HOT+R couples units (points in R^T) and rotates the source
  # units among themselves (X R, R in O(n)). The two problems are the same
  # when the source units are orthonormal and span the whole centred space
  # (T = n + 1, source whitened): then {X R} is exactly the set of rotations
  # of the source units within that space. On such pairs, with a hidden
  # rotation to find, HOT+R's objective must be at least as low.
  whiten <- function(Xs) {
    e <- eigen(crossprod(Xs), symmetric = TRUE)
    Xs %*% e$vectors %*% diag(1 / sqrt(e$values), ncol(Xs)) %*% t(e$vectors)
  }
  set.seed(41)
  for (n in c(5, 8, 12)) {
    T <- n + 1
    Xs <- whiten(std_cols(matrix(stats::rnorm(T * n), T, n)))
    for (noise in c(0.05, 0.5)) {
      y <- Xs %*% rand_orthogonal(n) + noise * matrix(stats::rnorm(T * n), T, n) / sqrt(T)
      Ys <- std_cols(y)
      ours <- c_descent(Xs, Ys, max_iter = 100, tol = 1e-10)
      # PW distance^2 = sum_ij plan_ij ||x_i - O y_j||^2 with uniform weights;
      # HOT+R's cost carries a factor 1/2
      pw <- T4transport::pwdist(t(Xs), t(Ys))
      theirs <- 0.5 * pw$distance^2
      expect_lte(ours$cost, theirs + 1e-10)
      expect_lt(ours$cost, ours$trace[1])
    }
  }
})
