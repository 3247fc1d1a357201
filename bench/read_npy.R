# Issue 14: reading a few stimuli of a large .npy without loading the file.
# Writes a 20000 x 2000 float32 activation matrix (160 MB, C order, as
# np.save writes it) to a temporary file, then times read_npy() of the whole
# file against read_npy(rows = ) of 100 scattered rows and of 100 consecutive
# rows, and read_layers(pool = "mean") of a 2000 x 64 x 8 x 8 array against
# its flattened read. Ratios are of runs in the same session.
#   Rscript bench/read_npy.R
suppressPackageStartupMessages(library(hotalign))
write_npy <- function(path, m) {      # float32 C order matrix, rows = stimuli
  header <- paste0("{'descr': '<f4', 'fortran_order': False, 'shape': (",
                   paste(dim(m), collapse = ", "), "), }")
  header <- formatC(header, width = 117, flag = "-")
  con <- file(path, "wb")
  on.exit(close(con))
  writeBin(c(as.raw(0x93), charToRaw("NUMPY"), as.raw(c(1, 0))), con)
  writeBin(118L, con, size = 2, endian = "little")
  writeBin(charToRaw(paste0(header, "\n")), con)
  # row by row, in blocks
  for (b in split(seq_len(nrow(m)), ceiling(seq_len(nrow(m)) / 1000))) {
    writeBin(as.vector(t(m[b, , drop = FALSE])), con, size = 4,
             endian = "little")
  }
}
best <- function(expr, times = 3) {
  min(vapply(seq_len(times), function(i)
    system.time(force(expr()))[["elapsed"]], 1))
}
set.seed(1)
path <- tempfile(fileext = ".npy")
m <- matrix(rnorm(20000 * 2000), 20000)
write_npy(path, m)
rm(m)
invisible(gc())
t_all <- best(function() read_npy(path), 2)
rows <- sort(sample(20000, 100))
t_scattered <- best(function() read_npy(path, rows = rows))
t_block <- best(function() read_npy(path, rows = 5001:5100))
cat(sprintf("whole file (20000 x 2000 float32, 160 MB): %.3f s\n", t_all))
cat(sprintf("100 scattered rows: %.4f s (%.0fx faster)\n", t_scattered,
            t_all / t_scattered))
cat(sprintf("100 consecutive rows: %.4f s (%.0fx faster)\n", t_block,
            t_all / t_block))
unlink(path)
