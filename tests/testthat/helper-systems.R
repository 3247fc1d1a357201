# Small systems with known structure for the hot() tests.

# L layers of shared latent signals plus noise; widths as given.
make_system <- function(n_stimuli = 120, widths = c(8, 12, 10), noise = 0.3,
                        seed = 1) {
  set.seed(seed)
  layers <- lapply(widths, function(w) {
    latent <- matrix(stats::rnorm(n_stimuli * w), n_stimuli, w)
    latent + noise * matrix(stats::rnorm(n_stimuli * w), n_stimuli, w)
  })
  names(layers) <- paste0("L", seq_along(widths))
  layers
}

# Everything in a fit but the call (which records how it was made).
fit_content <- function(fit) fit[setdiff(names(fit), "call")]

# The inner plan of pair (l, m) as a dense matrix, straight from fit$inner.
dense_inner <- function(fit, l, m) {
  L <- nrow(fit$plan)
  k <- l + (m - 1) * L
  idx <- seq_len(fit$inner$start[k + 1] - fit$inner$start[k]) + fit$inner$start[k]
  Q <- matrix(0, fit$inner$n_source[l], fit$inner$n_target[m])
  Q[cbind(fit$inner$i[idx], fit$inner$j[idx])] <- fit$inner$x[idx]
  Q
}

# Columns centred on the training rows and scaled to unit norm there, as hot()
# standardises (applied to all rows).
std_train <- function(x, train) {
  mu <- colMeans(x[train, , drop = FALSE])
  cen <- sweep(x, 2, mu)
  sweep(cen, 2, sqrt(colSums(cen[train, , drop = FALSE]^2)), "/")
}

# Slow reference of the held-out layer scores for weights W (L x M):
# X^_l = sum_m L W[l, m] Yt_m (n_l Q_lm)' scored by per-unit Pearson r.
ref_layer_scores <- function(fit, X, Y, W) {
  L <- length(X)
  train <- fit$train
  test <- fit$test
  std <- function(x) std_train(x, train)
  vapply(seq_len(L), function(l) {
    Xt <- std(X[[l]])[test, , drop = FALSE]
    Xhat <- 0
    for (m in seq_along(Y)) {
      if (W[l, m] == 0) next
      Yt <- std(Y[[m]])[test, , drop = FALSE]
      Xhat <- Xhat + L * W[l, m] * Yt %*% t(ncol(X[[l]]) * dense_inner(fit, l, m))
    }
    mean(vapply(seq_len(ncol(Xt)), function(i) stats::cor(Xhat[, i], Xt[, i]), 0))
  }, 0)
}
