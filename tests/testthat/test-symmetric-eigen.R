# The symmetric eigendecomposition of the Procrustes step (src/symmetric_eigen.c):
# dsyevr's algorithm with its tridiagonal reduction (own panels, the update
# through the kernel) and back-transformation rewritten; checked against
# LAPACK (R's eigen(), dsyevr) and by its own residual and orthogonality.
sym_eigen <- function(H, blocked = TRUE) .Call(C_ffi_symmetric_eigen, H, blocked)

check_eigen <- function(H, label) {
  ref <- eigen(H, symmetric = TRUE)$values
  scale <- max(abs(ref), 1)
  for (blocked in c(TRUE, FALSE)) {
    e <- sym_eigen(H, blocked)
    lab <- paste(label, if (blocked) "blocked" else "dsytrd")
    expect_true(e$ok, label = lab)
    # ascending, as dsyevr
    expect_false(is.unsorted(e$values), label = lab)
    expect_lt(max(abs(rev(e$values) - ref)), 1e-13 * nrow(H) * scale)
    Z <- e$vectors
    expect_lt(max(abs(H %*% Z - Z %*% diag(e$values, nrow(H)))), 1e-13 * nrow(H) * scale)
    expect_lt(max(abs(crossprod(Z) - diag(nrow(H)))), 1e-13 * nrow(H))
  }
}

test_that("eigenvalues and vectors of random symmetric matrices across the block edges", {
  set.seed(1)
  for (r in c(2, 3, 5, 31, 32, 33, 64, 65, 67, 97, 130, 200)) {
    A <- matrix(rnorm(r * r), r)
    check_eigen(A + t(A), paste("random", r))
  }
})

test_that("Gram matrices: ill-conditioned, rank-deficient and clustered spectra", {
  set.seed(2)
  r <- 150
  B <- matrix(rnorm(r * 400), r) * rep(10^seq(0, -5, length.out = r), 400)
  check_eigen(tcrossprod(B), "graded 1e-10")
  B <- matrix(rnorm(r * 20), r)
  check_eigen(tcrossprod(B), "rank 20")
  Q <- qr.Q(qr(matrix(rnorm(r * r), r)))
  check_eigen(Q %*% diag(rep(c(1, 2, 3), each = r / 3)) %*% t(Q), "three clusters")
  check_eigen(diag(r), "identity")
  check_eigen(matrix(0, 40, 40), "zero")
})

test_that("the vector paths and the plain C give the same spectrum", {
  set.seed(3)
  A <- matrix(rnorm(90 * 90), 90)
  H <- A + t(A)
  inp <- tempfile(fileext = ".rds")
  out <- tempfile(fileext = ".rds")
  saveRDS(H, inp)
  file <- child_script(c(
    "args <- commandArgs(TRUE)",
    "e <- .Call(hotalign:::C_ffi_symmetric_eigen, readRDS(args[1]), TRUE)",
    "saveRDS(e, args[2])"))
  on.exit(unlink(c(file, inp, out)))
  status <- system2(file.path(R.home("bin"), "Rscript"),
                    c("--vanilla", shQuote(file), shQuote(inp), shQuote(out)),
                    env = "HOTALIGN_NO_VECTOR_PATHS=1", stdout = FALSE, stderr = FALSE,
                    timeout = 60)
  expect_identical(status, 0L)
  plain <- readRDS(out)
  vec <- sym_eigen(H)
  expect_true(plain$ok)
  expect_equal(plain$values, vec$values, tolerance = 1e-13)
  expect_lt(max(abs(H %*% plain$vectors - plain$vectors %*% diag(plain$values))), 1e-11)
})
