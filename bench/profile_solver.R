# The workload profiled by bench/profile_solver.sh: ot_exact() on one dense
# correlation cost (uniform marginals), solved REPS times; the cost is also
# written for bench/pot_emd.py --pivots (POT's pivot count).
#
#   Rscript bench/profile_solver.R N M REPS COST_FILE
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))
args <- commandArgs(TRUE)
n <- as.integer(args[1]); m <- as.integer(args[2]); reps <- as.integer(args[3])
basis <- latent_basis(1000L, seed = n + m)          # the same costs as bench/ot_exact.R
C <- correlation_cost(latent_layer(basis, 0.3, n), latent_layer(basis, 0.4, m))
write_doubles(C, args[4])
for (r in seq_len(reps)) {
  t <- timed(ot_exact(C))
  cat(sprintf("ot_exact %d x %d: cpu %.3f s, wall %.3f s, pivots %.0f, cost %.15g\n",
              n, m, t$cpu, t$wall, t$value$iterations, t$value$cost))
}
