# The pair loop alone at 1 and at 2 threads: the inner OT of the LLM-scale
# layer pairs (896 / 3072 units, 800 training stimuli), without the serial
# set-up of hot() (input checks, standardisation, outer OT, scoring).
#
#   Rscript bench/pair_loop_scaling.R [L_RUN]      default 4 (4 x 28 = 112 pairs)
#
# The layers are standardised once; then the loop (the .Call that hot() makes,
# BLAS held at one thread as in hot()) runs at 1 and at 2 threads, interleaved,
# bench_reps() times each. The two runs must give identical costs and plans.
# Output: bench/out/pair_loop_<blas>_L<L_RUN>.csv and .md, and a line on stdout.
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))

args <- as.integer(commandArgs(TRUE))
L_run <- if (length(args) >= 1) args[1] else 4L
n_stimuli <- 1000L
tag <- blas_label()
info <- write_machine(sprintf("pair_loop_%s_L%d", tag, L_run))
basis <- latent_basis(n_stimuli, seed = 2024)
X <- latent_system(basis, rep(896L, 24), "qwen")[seq_len(L_run)]
Y <- latent_system(basis, rep(3072L, 28), "llama")
set.seed(11)
train <- setdiff(seq_len(n_stimuli), sample.int(n_stimuli, n_stimuli / 5))
prep <- function(layers, arg) {
  st <- hotalign:::layer_standardisation(layers, train, "error", arg)
  hotalign:::standardise_layers(layers, train, st)
}
Xs <- prep(X, "X")
Ys <- prep(Y, "Y")
rm(X, Y)
loop <- function(threads) {
  hotalign:::with_blas_single_thread(
    .Call(hotalign:::C_ffi_inner_plans, Xs, Ys, threads, FALSE, FALSE, 0L, 0))
}
log_line(sprintf("pair loop: %d x %d pairs of 896 x 3072, %d training stimuli, BLAS %s",
                 L_run, length(Ys), length(train), info$blas))
rows <- list()
first <- vector("list", 2)
for (rep in seq_len(bench_reps())) {
  for (th in 1:2) {
    r <- timed(loop(th))
    if (is.null(first[[th]])) first[[th]] <- r$value
    rows[[length(rows) + 1]] <- data.frame(threads = th, rep = rep, wall = r$wall,
                                           cpu = r$cpu, busiest_cpu = r$busiest_cpu)
    log_line(sprintf("threads %d rep %d: wall %.2f s, cpu %.2f s", th, rep, r$wall, r$cpu))
  }
}
stopifnot(identical(first[[1]], first[[2]]))
res <- do.call(rbind, rows)
med <- aggregate(cbind(wall, cpu, busiest_cpu) ~ threads, res, stats::median)
speedup <- med$wall[med$threads == 1] / med$wall[med$threads == 2]
summary <- data.frame(threads = med$threads, pairs = L_run * length(Ys),
                      median_wall = med$wall, median_cpu = med$cpu,
                      wall_per_pair = med$wall / (L_run * length(Ys)),
                      speedup_vs_1 = med$wall[1] / med$wall)
utils::write.csv(res, file.path(out_dir, sprintf("pair_loop_%s_L%d.csv", tag, L_run)),
                 row.names = FALSE)
writeLines(c(sprintf("Pair loop, %d pairs of 896 x 3072 (800 training stimuli), BLAS %s, load %s; medians of %d; results identical at 1 and 2 threads.",
                     L_run * length(Ys), tag, info$load, bench_reps()), "",
             md_table(summary)),
           file.path(out_dir, sprintf("pair_loop_%s_L%d.md", tag, L_run)))
log_line(sprintf("speed-up at 2 threads over 1: %.2fx (median wall %.2f s vs %.2f s)",
                 speedup, med$wall[2], med$wall[1]))
