# Issue 13: what partial transport costs, as ratios measured in the same run.
#  1. ot_exact(mass = s) against the balanced ot_exact() on the same
#     correlation costs (n x n), s = 0.5, 0.9;
#  2. hot(unit_mass = 0.8) and hot(layer_mass = 0.75) against plain hot().
# Medians of bench_reps() runs; results in bench/out/partial.csv.
source(file.path(local({
  args <- commandArgs(FALSE)
  f <- sub("^--file=", "", grep("^--file=", args, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))

med_time <- function(f) {
  stats::median(vapply(seq_len(bench_reps()), function(r) {
    t0 <- proc.time()[["elapsed"]]
    f()
    proc.time()[["elapsed"]] - t0
  }, 0))
}

rows <- list()
set.seed(13)
for (n in c(300, 1000)) {
  A <- matrix(rnorm(500 * n), 500)
  B <- A[, sample.int(n)] + matrix(rnorm(500 * n), 500)
  K <- correlation_cost(A, B)
  t_bal <- med_time(function() ot_exact(K))
  for (s in c(0.5, 0.9)) {
    t_par <- med_time(function() ot_exact(K, mass = s))
    rows[[length(rows) + 1]] <- data.frame(what = sprintf("ot_exact %dx%d mass %.1f", n, n, s),
                                           seconds = t_par, baseline = t_bal,
                                           ratio = t_par / t_bal)
  }
}
sim <- simulate_hierarchy(n_stimuli = 500, source_layers = 4, target_layers = 8,
                          source_units = 300, target_units = 200, seed = 1)
t_plain <- med_time(function() hot(sim$X, sim$Y, seed = 1, n_perm = 100, threads = 2))
for (arg in list(list(unit_mass = 0.8), list(layer_mass = 0.75))) {
  t <- med_time(function() do.call(hot, c(list(sim$X, sim$Y, seed = 1, n_perm = 100,
                                               threads = 2), arg)))
  rows[[length(rows) + 1]] <- data.frame(
    what = paste0("hot 4x8 layers 300/200 units, ", names(arg), " = ", arg[[1]]),
    seconds = t, baseline = t_plain, ratio = t / t_plain)
}
res <- do.call(rbind, rows)
utils::write.csv(res, file.path(out_dir, "partial.csv"), row.names = FALSE)
print(res, digits = 3)
