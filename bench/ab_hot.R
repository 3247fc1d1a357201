# A/B of hot() between two installed builds (e.g. two commits), interleaved in
# fresh processes on the same data (bench/hot_vs_pot_loop.R's 4 x 6 layers of
# 896 / 1536 units, 1000 stimuli, 200 held out), 1 and 2 threads.
#
#   Rscript bench/ab_hot.R LIB_A LIB_B [REPS]
#   (under bash bench/with_openblas.sh for OpenBLAS)
# Output: bench/out/ab_hot_<blas>.csv and .md (medians of wall, CPU, busiest thread).
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))
args <- commandArgs(TRUE)
libs <- c(A = normalizePath(args[1]), B = normalizePath(args[2]))
reps <- if (length(args) >= 3) as.integer(args[3]) else bench_reps()
tag <- blas_label()
basis <- latent_basis(1000L, seed = 42)
X <- latent_system(basis, rep(896L, 4), "A")
Y <- latent_system(basis, rep(1536L, 6), "B")
set.seed(7)
test <- sort(sample.int(1000L, 200L))
data_file <- file.path(tempdir(), "ab_hot.rds")
saveRDS(list(X = X, Y = Y, test = test), data_file)
one <- function(lib, th) {
  code <- sprintf(paste0(
    ".libPaths(c('%s', .libPaths())); source('%s'); .libPaths(c('%s', .libPaths()));",
    "d <- readRDS('%s'); invisible(hot(lapply(d$X, `[`, , 1:20), lapply(d$Y, `[`, , 1:20),",
    " test = d$test, n_perm = 0, threads = %d, progress = FALSE));",
    "r <- timed(hot(d$X, d$Y, test = d$test, n_perm = 0, threads = %d, progress = FALSE));",
    "cat(r$wall, r$cpu, r$busiest_cpu, sprintf('%%.17g', r$value$objective), '\\n')"),
    lib, file.path(bench_dir, "common.R"), lib, data_file, th, th)
  out <- system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(code)), stdout = TRUE,
                 env = paste0("HOTALIGN_BENCH_LIB=", lib))
  as.numeric(strsplit(trimws(out[length(out)]), " ")[[1]])
}
rows <- list()
for (rep in seq_len(reps)) for (th in 1:2) for (k in names(libs)) {
  v <- one(libs[[k]], th)
  rows[[length(rows) + 1]] <- data.frame(build = k, threads = th, rep = rep, wall = v[1],
                                         cpu = v[2], busiest_cpu = v[3], objective = v[4])
  log_line(sprintf("build %s  %d thread(s)  rep %d  wall %.2f  cpu %.2f  busiest %.2f",
                   k, th, rep, v[1], v[2], v[3]))
}
runs <- do.call(rbind, rows)
utils::write.csv(runs, file.path(out_dir, paste0("ab_hot_", tag, ".csv")), row.names = FALSE)
summ <- aggregate(cbind(wall, cpu, busiest_cpu) ~ build + threads, runs, stats::median)
md <- c(sprintf("hot() A/B, A = %s, B = %s, BLAS %s, %d interleaved reps (medians)",
                libs[["A"]], libs[["B"]], machine_info()$blas, reps), "", md_table(summ, 4),
        "", sprintf("objectives: %s", paste(unique(format(runs$objective, digits = 15)), collapse = ", ")))
writeLines(md, file.path(out_dir, paste0("ab_hot_", tag, ".md")))
writeLines(md)
