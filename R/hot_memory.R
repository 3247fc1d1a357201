# Working memory of hot() and HOT+R, refused before anything is allocated
# (see the Memory section of ?hot). The sizes are those of the C workspaces,
# reported by src/memory.c: no constant of theirs is retyped here.

# Working memory of hot(), in bytes (see the Memory section of ?hot).
hot_memory_bytes <- function(widths_x, widths_y, n_stimuli, threads,
                             rotation = FALSE, n_perm = 0L) {
  .Call(C_ffi_hot_memory, as.integer(widths_x), as.integer(widths_y),
        as.double(n_stimuli), as.integer(threads), rotation, as.integer(n_perm))
}

check_hot_memory <- function(X, Y, n_stimuli, threads, rotation = FALSE,
                             n_perm = 0) {
  bytes <- hot_memory_bytes(vapply(X, ncol, 1L), vapply(Y, ncol, 1L), n_stimuli,
                            threads, rotation, n_perm)
  check_memory(bytes, paste0("hot() on `X` (", length(X), " layers) and `Y` (",
                             length(Y), " layers) with ", threads, " thread",
                             if (threads > 1) "s"))
}
