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


# The C descent through its resumable form (rotation_begin / _step /
# _finish, at most `budget` pivots per step; 0 = no limit), with the parts
# the engine uses: R, the basis V (n x r) and W = V'R, the recorded plan, R
# recomputed from it (rotation_from_plan), the lower bound and Z R' through
# the compact form.
# form_dense = FALSE: only the compact form (R is NULL when r < n);
# shared_basis = TRUE: the source's basis computed on its own first
# (rotation_basis) and passed to rotation_begin_basis;
# polar = FALSE: every Procrustes step by dgesdd (the straightforward
# descent); TRUE: the eigendecomposition route with its dgesdd fallback
# (polar_fast / polar_fallback count the steps of each kind);
# reuse = FALSE: a step whose plan is the one W came from recomputes W and
# the rotated cost (the full step) instead of keeping them (polar_reused
# counts the steps that kept them).
c_parts <- function(Xs, Ys, max_iter, tol, budget = 0, Z = NULL, form_dense = TRUE,
                    shared_basis = FALSE, polar = TRUE, reuse = TRUE) {
  if (is.null(Z)) Z <- matrix(0, 0, ncol(Xs))
  res <- .Call(hotalign:::C_ffi_rotation_parts, Xs, Ys, as.integer(max_iter),
               as.double(tol), as.double(budget), Z, form_dense, shared_basis, polar,
               reuse)
  res$trace <- res$trace[!is.na(res$trace)]
  res
}

# The rotation-invariant lower bound, straight from its formula:
# tr(G) / (2n) + 1/2 - ||Xs'Ys||_* / sqrt(n m).
ref_lower_bound <- function(Xs, Ys) {
  n <- ncol(Xs)
  m <- ncol(Ys)
  sum(Xs^2) / (2 * n) + 0.5 - sum(svd(crossprod(Xs, Ys))$d) / sqrt(n * m)
}
