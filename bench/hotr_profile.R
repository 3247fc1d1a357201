# Where one HOT+R descent iteration spends its time (issue 11, item 1), at
# the issue's shapes, with R's BLAS: the pieces of the old iteration (n x n
# dgesdd, R'A by dgemm, G R, U V') and of the new one (r x n dgesdd, the
# products through the cost kernel), and the exact OT on a rotated cost
# (cold, an upper bound of the warm re-solve).  One thread; medians of 3.
#   Rscript bench/hotr_profile.R
Sys.setenv(HOTALIGN_BENCH_LIB = Sys.getenv("HOTALIGN_NEW_LIB", "/tmp/lib-rotation"))
local({
  args <- commandArgs(FALSE)
  file <- sub("^--file=", "", grep("^--file=", args, value = TRUE))
  here <- if (length(file)) dirname(normalizePath(file[1])) else normalizePath("bench")
  source(file.path(here, "common.R"))
  assign("here", here, globalenv())
}, envir = globalenv())
source(file.path(here, "..", "tests", "testthat", "helper-rotation.R"))
med <- function(f) stats::median(replicate(3, system.time(f())[["elapsed"]]))
shapes <- list(c(800, 384, 1024), c(800, 896, 3072), c(74, 1236, 2028))
rows <- list()
for (sh in shapes) {
  T <- sh[1]; n <- sh[2]; m <- sh[3]; r <- min(n, T)
  set.seed(n)
  Z <- matrix(stats::rnorm(T * 64), T, 64)
  Xs <- std_cols(Z %*% matrix(stats::rnorm(64 * n), 64) / 8 + matrix(stats::rnorm(T * n), T))
  Ys <- std_cols(Z %*% matrix(stats::rnorm(64 * m), 64) / 8 + matrix(stats::rnorm(T * m), T))
  A <- crossprod(Xs, Ys)
  R <- rand_orthogonal(n)
  G <- crossprod(Xs)
  M <- tcrossprod(A)
  W <- R[seq_len(r), , drop = FALSE]
  B0 <- A[seq_len(r), , drop = FALSE]
  K <- 0.5 * colSums((Xs %*% R)^2) + 0.5 - crossprod(R, A)
  rows[[length(rows) + 1]] <- data.frame(
    shape = sprintf("%d x %d, T %d", n, m, T), r = r,
    old_dgesdd_nxn = med(function() svd(M)),
    old_RtA_dgemm = med(function() crossprod(R, A)),
    old_GR_dgemm = med(function() G %*% R),
    new_dgesdd_rxn = med(function() svd(M[seq_len(r), , drop = FALSE])),
    new_WtB0_kernel = med(function() correlation_cost(W, B0)),
    exact_ot_rotated_cold = med(function() ot_exact(K)))
}
res <- do.call(rbind, rows)
md <- c("# One descent iteration's pieces (bench/hotr_profile.R), seconds, 1 thread", "",
        paste0("BLAS: ", machine_info()$blas, "; load: ", machine_info()$load), "",
        md_table(res))
writeLines(md, file.path(out_dir, paste0("hotr_profile_", blas_label(), ".md")))
cat(md, sep = "\n")
