# Rotation-invariant HOT (HOT+R, SPEC section 2): the R side of hot(rotation =
# TRUE). The descent itself is src/rotation.c, run on every pair by the pair
# loop (src/pair_loop.c); the rotations the scores need are obtained in the
# same engine call (pair_rotations() in src/hot_split.c), each from the plan
# its descent recorded, by one Procrustes step (no descent runs twice).

# fit$rotation of a HOT+R fit: the rotations of the pairs with outer mass,
# and the iterations and convergence of the descent on every pair.
# Where the engine returned the compact form of a rotation (`compact`: a
# source wider than its training rows), that is what is kept: O(n T) doubles
# instead of n^2, expanded on demand by hot_pair_rotation().
rotation_result <- function(rotations, plan, inner, max_iter, tol, compact = NULL,
                            n_source = NULL) {
  matrices <- rotations
  if (!is.null(compact)) {
    L <- nrow(plan)
    for (k in which(!vapply(compact, is.null, NA))) {
      matrices[[k]] <- compact_rotation(compact[[k]], n_source[(k - 1L) %% L + 1L])
    }
  }
  matrices[plan == 0] <- list(NULL)
  list(matrices = matrices,
       iterations = matrix(inner$iterations, nrow(plan), ncol(plan),
                           dimnames = dimnames(plan)),
       converged = matrix(inner$converged, nrow(plan), ncol(plan),
                          dimnames = dimnames(plan)),
       max_iter = max_iter, tol = tol)
}

# Is `x` a HOT+R fit? (fit$rotation is FALSE for plain HOT, a list for HOT+R)
is_hot_rotation <- function(x) is.list(x$rotation) || isTRUE(x$rotation)

# The HOT+R rotation R_lm of pair (l, m) of a fit (n_l x n_l), NULL for
# plain HOT; predict() rebuilds with Y (n_l Q_lm)' R_lm'.
hot_pair_rotation <- function(x, l, m) {
  if (!is.list(x$rotation)) return(NULL)
  expand_rotation(x$rotation$matrices[[l, m]])
}

# A rotation kept compactly: the Householder factors of its basis V and of
# W' (n x r each, r <= T_train), their scalar factors and signs (see
# src/rotation.c), 2 n r + 3 r doubles; no factors (r = 0): R = I, for a
# pair whose descent made no iteration.
compact_rotation <- function(factors, n) {
  structure(list(factors = factors, n = as.integer(n),
                 r = as.integer(length(factors) / (2 * n + 3))),
            class = "hot_compact_rotation")
}

# The dense n x n rotation of an entry of fit$rotation$matrices (a matrix,
# NULL, or a compact rotation, expanded bit for bit as the engine formed it).
expand_rotation <- function(R) {
  if (!inherits(R, "hot_compact_rotation")) return(R)
  if (R$r == 0L) return(diag(1, R$n))
  .Call(C_ffi_rotation_expand, R$factors, R$n, R$r)
}

# A compact rotation as a user meets it in fit$rotation$matrices: as.matrix()
# forms the dense n x n matrix (bit for bit the engine's), print() says what
# it is instead of listing its factors.
#' @export
#' @noRd
as.matrix.hot_compact_rotation <- function(x, ...) expand_rotation(x)

#' @export
#' @noRd
print.hot_compact_rotation <- function(x, ...) {
  mb <- function(d) format(8 * d / 2^20, digits = 3)
  what <- if (x$r == 0L) {
    "the identity (the descent made no iteration)"
  } else {
    sprintf("Householder factors of rank %d (%s MB; dense: %s MB)", x$r,
            mb(length(x$factors)), mb(as.numeric(x$n)^2))
  }
  cat(sprintf("<hot_compact_rotation> %d x %d orthogonal matrix, kept as %s\n",
              x$n, x$n, what))
  cat("as.matrix() forms the dense matrix\n")
  invisible(x)
}

# An entry of fit$rotation$matrices as the reconstruction kernel takes it:
# a dense matrix, the compact factors themselves (applied in O(T n r), never
# expanded), or NULL for R = I.
kernel_rotation <- function(R) {
  if (!inherits(R, "hot_compact_rotation")) return(R)
  if (R$r == 0L) return(NULL)
  R$factors
}
