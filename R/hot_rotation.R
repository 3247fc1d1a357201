# Rotation-invariant HOT (HOT+R, SPEC section 2): the R side of hot(rotation =
# TRUE). The descent itself is src/rotation.c, run on every pair by the pair
# loop (src/pair_loop.c). The loop keeps no rotation; after the outer OT the
# rotations that are used -- pairs with outer mass for HOT itself, plus the
# pairs the baselines use -- are recomputed by rerunning the deterministic
# descent on those pairs only (ffi_rotation_pairs), which reproduces them bit
# for bit.

# Message of a failed pair solve (statuses of src/hotalign.h).
pair_failure <- function(status, k, source_names, target_names) {
  L <- length(source_names)
  what <- switch(as.character(status),
    "2" = "the exact OT solver failed (the masses do not balance)",
    "3" = "the exact OT solver failed (unbounded)",
    "4" = "the SVD of the HOT+R Procrustes step (LAPACK dgesdd) did not converge",
    "5" = "LAPACK dgesdd rejected an argument in the HOT+R Procrustes step",
    "the exact OT solver failed")
  abort(what, " on layer pair (`", source_names[(k - 1L) %% L + 1L], "`, `",
        target_names[(k - 1L) %/% L + 1L], "`), status ", status)
}

# Pairs (k = l + (m - 1) L) whose rotation the reconstructions use: the
# pairs with outer mass (HOT, single best) and, when scores are computed, the
# cheapest pair of every source layer (pairwise best) and the pairs the
# row-permuted plans give mass to (perm-P).
rotation_pairs_used <- function(plan, cost, perms, scored) {
  L <- nrow(plan)
  used <- plan > 0
  if (scored) {
    used[cbind(seq_len(L), apply(cost, 1, which.min))] <- TRUE
    for (p in perms) used <- used | plan[p, , drop = FALSE] > 0
  }
  which(used)
}

# The rotations of `pairs` as an L x M list-matrix (NULL elsewhere), by
# rerunning the descent; pairs that made no iteration keep R = I.
pair_rotations <- function(Xs, Ys, inner, pairs, max_iter, tol, threads,
                           progress, layer_names) {
  L <- length(Xs)
  M <- length(Ys)
  out <- matrix(list(), L, M, dimnames = layer_names)
  still <- pairs[inner$iterations[pairs] == 0L]
  for (k in still) out[[k]] <- diag(ncol(Xs[[(k - 1L) %% L + 1L]]))
  rerun <- setdiff(pairs, still)
  if (!length(rerun)) return(out)
  res <- with_blas_single_thread(with_cost_kernel(
    # the rerun needs no more iterations than the first pass made: this also
    # bounds the objective trace the C side allocates ((iterations + 1) x pairs)
    .Call(C_ffi_rotation_pairs, Xs, Ys, as.integer(rerun),
          max(inner$iterations[rerun]), tol,
          threads, progress)
  ))
  bad <- which(res$status != 0L)
  if (length(bad)) {
    pair_failure(res$status[bad[1]], rerun[bad[1]], layer_names[[1]],
                 layer_names[[2]])
  }
  if (!identical(res$cost, as.vector(inner$cost)[rerun]) ||
      !identical(res$iterations, inner$iterations[rerun])) {
    abort("internal error: the HOT+R descent did not reproduce itself on ",
          "rerun; please report this")
  }
  out[rerun] <- res$rotations
  out
}

# The rotations as the reconstruction kernel takes them: NULL where R = I
# (exactly plain HOT there) or where no rotation was computed.
rotations_for_kernel <- function(rotations, iterations) {
  if (is.null(rotations)) return(NULL)
  rotations[iterations == 0L] <- list(NULL)
  rotations
}

# fit$rotation of a HOT+R fit: the rotations of the pairs with outer mass,
# and the iterations and convergence of the descent on every pair.
rotation_result <- function(rotations, plan, inner, max_iter, tol) {
  matrices <- rotations
  matrices[plan == 0] <- list(NULL)
  list(matrices = matrices,
       iterations = matrix(inner$iterations, nrow(plan), ncol(plan),
                           dimnames = dimnames(plan)),
       converged = matrix(inner$converged, nrow(plan), ncol(plan),
                          dimnames = dimnames(plan)),
       max_iter = max_iter, tol = tol)
}

# Working memory of HOT+R beyond plain HOT, in bytes (see ?hot, Memory):
# per thread the descent workspace of the largest pair, and the rotations
# held while scoring.
rotation_memory_bytes <- function(widths_x, widths_y, threads, n_perm) {
  n <- max(as.double(widths_x))
  n2 <- max(as.double(widths_y))
  max_pair <- max(as.double(widths_x)) * max(as.double(widths_y))
  L <- length(widths_x)
  M <- length(widths_y)
  held <- if (n_perm > 0) M * sum(as.double(widths_x)^2) else
    min(L * M, 2 * L + M - 1) * n^2
  threads * (8 * (8 * n^2 + max_pair + 80 * n + 2 * n2) + 4 * (10 * n + 2 * n2)) +
    8 * held
}

# Is `x` a HOT+R fit? (fit$rotation is FALSE for plain HOT, a list for HOT+R)
is_hot_rotation <- function(x) is.list(x$rotation) || isTRUE(x$rotation)

# The HOT+R rotation R_lm of pair (l, m) of a fit (n_l x n_l), NULL for
# plain HOT; predict() rebuilds with Y (n_l Q_lm)' R_lm'.
hot_pair_rotation <- function(x, l, m) {
  if (!is.list(x$rotation)) return(NULL)
  x$rotation$matrices[[l, m]]
}
