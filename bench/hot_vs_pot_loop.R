# hot() against the obvious implementation of HOT today, a plain Python loop
# over POT's ot.emd (bench/hot_pot_loop.py), on the same data and the same
# held-out rows.
#
#   Rscript bench/hot_vs_pot_loop.R [L M WIDTH_X WIDTH_Y]   default 4 6 896 1536
#
# Data: L source layers of WIDTH_X units and M target layers of WIDTH_Y units
# (the widths of Qwen2.5-0.5B and Qwen2.5-1.5B), 1000 stimuli, sharing a
# latent structure that drifts with depth (bench/common.R); 200 held-out rows.
# hot() runs with n_perm = 0 (the Python loop has no permutation baseline;
# hot() still computes its pairwise-best and single-best baselines), with 1
# and with 2 threads. Reps are interleaved; medians of wall and CPU time.
# The objectives must agree to 1e-9 relative (the scores are compared too).
# Output: bench/out/hot_vs_pot_<blas>.csv and .md
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))

args <- as.integer(commandArgs(TRUE))
if (length(args) < 4) args <- c(4L, 6L, 896L, 1536L)
L <- args[1]; M <- args[2]; wx <- args[3]; wy <- args[4]
n_stimuli <- 1000L
reps <- bench_reps()
tag <- blas_label()
info <- write_machine(paste0("hot_vs_pot_", tag))

basis <- latent_basis(n_stimuli, seed = 42)
X <- latent_system(basis, rep(wx, L), "A")
Y <- latent_system(basis, rep(wy, M), "B")
set.seed(7)
test <- sort(sample.int(n_stimuli, n_stimuli / 5))
meta <- write_systems(X, Y, test, sprintf("hot_%dx%d", L, M))
log_line(sprintf("%d x %d layers, %d / %d units, %d stimuli (%d held out); BLAS %s",
                 L, M, wx, wy, n_stimuli, length(test), info$blas))

# warm-up (namespaces, OpenMP thread pool)
invisible(hot(lapply(X, `[`, , 1:20), lapply(Y, `[`, , 1:20), test = test, n_perm = 0,
              threads = 2, progress = FALSE))
rows <- list()
add <- function(solver, rep, wall, cpu, busiest, objective, score) {
  rows[[length(rows) + 1]] <<- data.frame(solver = solver, rep = rep, wall = wall,
                                          cpu = cpu, busiest_cpu = busiest,
                                          objective = objective, score = score)
  log_line(sprintf("%-28s rep %d  wall %8.3f s  cpu %8.3f s (busiest thread %8.3f s)  objective %.15g  score %.15g",
                   solver, rep, wall, cpu, busiest, objective, score))
}
for (rep in seq_len(reps)) {
  for (th in c(1L, 2L)) {
    r <- timed(hot(X, Y, test = test, n_perm = 0, threads = th, progress = FALSE))
    add(sprintf("hotalign hot(), %d thread%s", th, if (th > 1) "s" else ""), rep,
        r$wall, r$cpu, r$busiest_cpu, r$value$objective, r$value$score)
  }
  p <- run_python("hot_pot_loop.py", meta)
  add("Python loop over POT", rep, p$wall, p$cpu, p$cpu, p$objective, p$score)
}
runs <- do.call(rbind, rows)
utils::write.csv(runs, file.path(out_dir, paste0("hot_vs_pot_", tag, ".csv")),
                 row.names = FALSE)

ref <- runs[runs$solver == "Python loop over POT", ]
h1 <- runs[runs$solver == "hotalign hot(), 1 thread", ]
summ <- do.call(rbind, lapply(unique(runs$solver), function(s) {
  d <- runs[runs$solver == s, ]
  data.frame(solver = s, runs = nrow(d), wall_s = stats::median(d$wall),
             cpu_s = stats::median(d$cpu), busiest_thread_cpu_s = stats::median(d$busiest_cpu),
             pot_over_this_wall = stats::median(ref$wall) / stats::median(d$wall),
             pot_over_this_cpu = stats::median(ref$cpu) / stats::median(d$cpu),
             objective_rel_diff = max(rel_diff(d$objective, ref$objective[1])),
             score_abs_diff = max(abs(d$score - ref$score[1])))
}))
h2 <- runs[runs$solver == "hotalign hot(), 2 threads", ]
speedup <- stats::median(h1$wall) / stats::median(h2$wall)
speedup_cpu <- stats::median(h1$cpu) / stats::median(h2$busiest_cpu)
md <- c(sprintf("hot() vs a Python loop over POT: %d x %d layers of %d / %d units, %d stimuli; BLAS: %s; %s; nproc %d; %d interleaved reps",
                L, M, wx, wy, n_stimuli, info$blas, info$cpu, info$nproc, reps),
        "", md_table(summ, digits = 4), "",
        sprintf("hot() speed-up at 2 threads over 1: %.2fx in wall time (loaded machine); %.2fx as CPU(1 thread) / CPU of the busiest thread (2 threads), what idle cores would give at most",
                speedup, speedup_cpu),
        "pot_over_this = POT loop median / this median (> 1: faster than the POT loop).")
writeLines(md, file.path(out_dir, paste0("hot_vs_pot_", tag, ".md")))
writeLines(md)
