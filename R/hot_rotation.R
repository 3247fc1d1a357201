# Rotation-invariant HOT (HOT+R, SPEC section 2): the R side of hot(rotation =
# TRUE). The descent itself is src/rotation.c, run on every pair by the pair
# loop (src/pair_loop.c); the rotations the scores need are obtained in the
# same engine call (pair_rotations() in src/hot_split.c), each from the plan
# its descent recorded, by one Procrustes step (no descent runs twice).

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

# Is `x` a HOT+R fit? (fit$rotation is FALSE for plain HOT, a list for HOT+R)
is_hot_rotation <- function(x) is.list(x$rotation) || isTRUE(x$rotation)

# The HOT+R rotation R_lm of pair (l, m) of a fit (n_l x n_l), NULL for
# plain HOT; predict() rebuilds with Y (n_l Q_lm)' R_lm'.
hot_pair_rotation <- function(x, l, m) {
  if (!is.list(x$rotation)) return(NULL)
  x$rotation$matrices[[l, m]]
}
