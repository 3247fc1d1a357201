# Helpers shared by the HOT+R tests (and by bench/peers/test-t4transport.R).

# Columns centred and scaled to unit norm on all rows (as hot() does on the
# training rows).
std_cols <- function(x) {
  x <- sweep(x, 2, colMeans(x))
  sweep(x, 2, sqrt(colSums(x^2)), "/")
}

# A random n x n orthogonal matrix (Haar: QR with the signs fixed).
rand_orthogonal <- function(n) {
  qrd <- qr(matrix(stats::rnorm(n * n), n, n))
  qr.Q(qrd) %*% diag(sign(diag(qr.R(qrd))), n)
}

# The C descent on one pair of standardised layers, through the rerun entry
# point: list(R, cost, iterations, converged, status, trace).
c_descent <- function(Xs, Ys, max_iter, tol, threads = 1L) {
  res <- .Call(hotalign:::C_ffi_rotation_pairs, list(Xs), list(Ys), 1L,
               as.integer(max_iter), as.double(tol), as.integer(threads), FALSE)
  trace <- res$trace[, 1]
  list(R = res$rotations[[1]], cost = res$cost, iterations = res$iterations,
       converged = res$converged, status = res$status,
       trace = trace[!is.na(trace)])
}

