# HOT+R against T4transport::pwdist (Procrustes-Wasserstein: exact OT and an
# orthogonal alignment, alternated) per pair, where the two problems are the
# same: source units orthonormal and spanning the centred space (T = n + 1,
# source whitened; see bench/peers/test-t4transport.R), a hidden rotation
# plus noise to find.  Each runs to its own stopping rule (HOT+R: decrease
# <= 1e-10 relative, at most 100 iterations; pwdist: abstol 1e-10, its
# default 496 iterations at most), 1 thread, one after the other on the
# same pair; the objectives are reported with the times (HOT+R's must be
# at least as low: it starts from the plain plan and only descends).  Times
# are medians per call (see per_call()), each side warmed up by one call.
#   HOTALIGN_BENCH_LIB=/tmp/lib-polar T4_LIB=/tmp/lib-t4 Rscript bench/hotr_t4transport.R
local({
  args <- commandArgs(FALSE)
  file <- sub("^--file=", "", grep("^--file=", args, value = TRUE))
  here <- if (length(file)) dirname(normalizePath(file[1])) else normalizePath("bench")
  source(file.path(here, "common.R"))
  assign("here", here, globalenv())
}, envir = globalenv())
.libPaths(c(Sys.getenv("T4_LIB", "/tmp/lib-t4"), .libPaths()))
if (!requireNamespace("T4transport", quietly = TRUE)) {
  cat("T4transport is not installed: nothing to compare\n")
  quit(save = "no")
}
source(file.path(here, "..", "tests", "testthat", "helper-rotation.R"))
Sys.setenv(OMP_NUM_THREADS = "1")
whiten <- function(Xs) {
  e <- eigen(crossprod(Xs), symmetric = TRUE)
  Xs %*% e$vectors %*% diag(1 / sqrt(e$values), ncol(Xs)) %*% t(e$vectors)
}
# the median over `reps` rounds of the time per call; a round repeats the
# call until it has run for at least 0.2 s (small pairs take milliseconds,
# below system.time()'s resolution)
reps <- as.integer(Sys.getenv("HOTALIGN_T4_REPS", "5"))
per_call <- function(f) {
  stats::median(vapply(seq_len(reps), function(i) {
    k <- 0L
    t0 <- proc.time()[["elapsed"]]
    repeat {
      f()
      k <- k + 1L
      el <- proc.time()[["elapsed"]] - t0
      if (el >= 0.2) break
    }
    el / k
  }, 0))
}
rows <- list()
for (n in c(64L, 128L, 256L, 384L)) {
  set.seed(n)
  T <- n + 1L
  Xs <- whiten(std_cols(matrix(stats::rnorm(T * n), T, n)))
  y <- Xs %*% rand_orthogonal(n) + 0.3 * matrix(stats::rnorm(T * n), T, n) / sqrt(T)
  Ys <- std_cols(y)
  ours <- c_descent(Xs, Ys, max_iter = 100, tol = 1e-10)
  pw <- T4transport::pwdist(t(Xs), t(Ys), abstol = 1e-10)
  t_ours <- per_call(function() c_descent(Xs, Ys, max_iter = 100, tol = 1e-10))
  t_t4 <- per_call(function() T4transport::pwdist(t(Xs), t(Ys), abstol = 1e-10))
  rows[[length(rows) + 1]] <- data.frame(
    pair = sprintf("%d x %d, T %d", n, n, T), hotr_s = t_ours, t4_s = t_t4,
    ratio = t_t4 / t_ours, hotr_iterations = ours$iterations,
    hotr_cost = ours$cost, t4_cost = 0.5 * pw$distance^2)
  cat(sprintf("%d: ours %.4f s (%d it, cost %.6g), T4 %.4f s (cost %.6g)\n", n, t_ours,
              ours$iterations, ours$cost, t_t4, 0.5 * pw$distance^2))
}
res <- do.call(rbind, rows)
md <- c("# HOT+R vs T4transport::pwdist (bench/hotr_t4transport.R), 1 thread", "",
        paste0("BLAS: ", machine_info()$blas, "; load: ", machine_info()$load, "; ",
               format(Sys.time(), tz = "UTC"), " UTC"), "", md_table(res))
writeLines(md, file.path(out_dir, "hotr_t4transport.md"))
cat(md, sep = "\n")
