# Working memory of hot() and HOT+R, refused before anything is allocated
# (see the Memory section of ?hot).

# Working memory of hot(), in bytes (see the Memory section of ?hot).
hot_memory_bytes <- function(widths_x, widths_y, n_stimuli, threads) {
  max_pair <- max(outer(as.double(widths_x), as.double(widths_y)))
  pairs_nnz <- sum(outer(as.double(widths_x), as.double(widths_y), "+"))
  threads * (9 * max_pair + 520 * (max(widths_x) + max(widths_y))) +
    8 * as.double(n_stimuli) * (sum(as.double(widths_x)) + sum(as.double(widths_y))) +
    16 * pairs_nnz
}

check_hot_memory <- function(X, Y, n_stimuli, threads, rotation = FALSE,
                             n_perm = 0) {
  bytes <- hot_memory_bytes(vapply(X, ncol, 1L), vapply(Y, ncol, 1L), n_stimuli,
                            threads)
  if (rotation) {
    bytes <- bytes + rotation_memory_bytes(vapply(X, ncol, 1L),
                                           vapply(Y, ncol, 1L), threads, n_perm)
  }
  check_memory(bytes, paste0("hot() on `X` (", length(X), " layers) and `Y` (",
                             length(Y), " layers) with ", threads, " thread",
                             if (threads > 1) "s"))
}

# Working memory of HOT+R beyond plain HOT, in bytes (see ?hot, Memory):
# per thread the descent workspace of the largest pair, and the rotations
# held while scoring.
rotation_memory_bytes <- function(widths_x, widths_y, threads, n_perm) {
  n <- max(as.double(widths_x))
  n2 <- max(as.double(widths_y))
  max_pair <- max(outer(as.double(widths_x), as.double(widths_y)))
  L <- length(widths_x)
  M <- length(widths_y)
  held <- if (n_perm > 0) M * sum(as.double(widths_x)^2) else
    min(L * M, 2 * L + M - 1) * n^2
  threads * (8 * (8 * n^2 + max_pair + 80 * n + 2 * n2) + 4 * (10 * n + 2 * n2)) +
    8 * held
}
