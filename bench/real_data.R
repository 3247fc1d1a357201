# Real data: the V1 / V2 recordings of Semedo et al. (2019), from
# ../shared/data/semedo/sample_data.mat (HOTALIGN_SEMEDO to point elsewhere).
# Skipped cleanly (exit 0, a note in bench/out/) when the file is absent.
#
#   Rscript bench/real_data.R
#
# X (4000 x 79, V1 "source" population), Y_V1 (4000 x 31, V1 "target"),
# Y_V2 (4000 x 31, V2); rows are 400 trials x 10 time bins, trial-major, so
# 20% of the TRIALS (whole blocks of 10 rows) are held out (seed 1).
# Workloads, interleaved reps, medians of wall and CPU time:
#  1. hot(list(V1 = X), list(V1_target = Y_V1, V2 = Y_V2), test) against the
#     Python loop over POT (bench/hot_pot_loop.py) on the same held-out rows;
#     same objective to 1e-9;
#  2. ot_exact() against ot.emd on the 79 x 31 correlation cost of X and Y_V2
#     (100 solves per timed rep: one solve takes well under a millisecond).
# The data are read with R.matlab when installed, else converted by scipy
# into a temporary directory (never into the repository).
# Output: bench/out/real_data_<blas>.csv and .md
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))

mat <- Sys.getenv("HOTALIGN_SEMEDO",
                  file.path(bench_dir, "..", "..", "shared", "data", "semedo",
                            "sample_data.mat"))
tag <- blas_label()
note <- file.path(out_dir, paste0("real_data_", tag, ".md"))
skip <- function(why) {
  writeLines(paste("real-data benchmark skipped:", why), note)
  message("real-data benchmark skipped: ", why)
  quit(save = "no", status = 0)
}
if (!file.exists(mat)) skip(paste("no file", mat))

read_semedo <- function(path) {
  if (has_pkg("R.matlab")) {
    d <- R.matlab::readMat(path)
    return(list(X = d$X, Y_V1 = d$Y.V1, Y_V2 = d$Y.V2))
  }
  dir <- tempfile("semedo")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  code <- paste0(
    "import scipy.io, numpy, sys\n",
    "d = scipy.io.loadmat(sys.argv[1])\n",
    "for k in ('X', 'Y_V1', 'Y_V2'):\n",
    "    a = numpy.asarray(d[k], dtype=numpy.float64)\n",
    "    a.ravel(order='F').tofile(sys.argv[2] + '/' + k + '.bin')\n",
    "    print(k, a.shape[0], a.shape[1])\n")
  out <- tryCatch(system2(python, c("-c", shQuote(code), shQuote(path), shQuote(dir)),
                          stdout = TRUE, stderr = TRUE), error = function(e) NULL)
  if (is.null(out) || !is.null(attr(out, "status"))) {
    skip("neither R.matlab nor python3 with scipy could read the .mat file")
  }
  res <- list()
  for (line in out) {
    f <- strsplit(line, " ")[[1]]
    nr <- as.integer(f[2]); nc <- as.integer(f[3])
    res[[f[1]]] <- matrix(readBin(file.path(dir, paste0(f[1], ".bin")), "double",
                                  nr * nc), nr, nc)
  }
  res
}

d <- read_semedo(mat)
info <- write_machine(paste0("real_data_", tag))
reps <- max(5L, bench_reps())
set.seed(1)
n_trials <- nrow(d$X) / 10
test_trials <- sort(sample.int(n_trials, n_trials / 5))
test <- as.vector(outer(1:10, (test_trials - 1) * 10, "+"))
X <- list(V1 = d$X)
Y <- list(V1_target = d$Y_V1, V2 = d$Y_V2)
meta <- write_systems(X, Y, test, "semedo")
C <- correlation_cost(d$X, d$Y_V2)
cost_file <- file.path(tempdir(), "semedo_cost.bin")
write_doubles(C, cost_file)
log_line(sprintf("Semedo V1/V2: X %d x %d, Y_V1 %d, Y_V2 %d; %d held-out trials (%d rows); BLAS %s",
                 nrow(d$X), ncol(d$X), ncol(d$Y_V1), ncol(d$Y_V2), length(test_trials),
                 length(test), info$blas))

inner <- 100L
invisible(hot(X, Y, test = test, n_perm = 0, threads = 1, progress = FALSE))
invisible(ot_exact(C))
rows <- list()
add <- function(workload, solver, rep, wall, cpu, value) {
  rows[[length(rows) + 1]] <<- data.frame(workload = workload, solver = solver,
                                          rep = rep, wall = wall, cpu = cpu,
                                          value = value)
  log_line(sprintf("%-32s %-24s rep %d  wall %7.3f s  cpu %7.3f s  value %.15g",
                   workload, solver, rep, wall, cpu, value))
}
w1 <- "hot(): V1 (79) vs V1_target, V2 (31)"
w2 <- sprintf("ot_exact 79 x 31, %d solves", inner)
for (rep in seq_len(reps)) {
  for (th in c(1L, 2L)) {
    r <- timed(hot(X, Y, test = test, n_perm = 0, threads = th, progress = FALSE))
    add(w1, sprintf("hotalign, %d thread%s", th, if (th > 1) "s" else ""), rep,
        r$wall, r$cpu, r$value$objective)
  }
  p <- run_python("hot_pot_loop.py", meta)
  add(w1, "Python loop over POT", rep, p$wall, p$cpu, p$objective)
  r <- timed(for (k in seq_len(inner)) res <- ot_exact(C))
  add(w2, "hotalign", rep, r$wall, r$cpu, res$cost)
  p <- run_python("pot_emd.py", c(cost_file, nrow(C), ncol(C), "--inner", inner))
  add(w2, "POT ot.emd", rep, p$wall, p$cpu, p$cost)
}
runs <- do.call(rbind, rows)
utils::write.csv(runs, file.path(out_dir, paste0("real_data_", tag, ".csv")),
                 row.names = FALSE)
summ <- do.call(rbind, lapply(split(runs, list(runs$workload, runs$solver), drop = TRUE),
                              function(dd) {
  ref <- runs[runs$workload == dd$workload[1] &
                runs$solver %in% c("POT ot.emd", "Python loop over POT"), ]
  data.frame(workload = dd$workload[1], solver = dd$solver[1], runs = nrow(dd),
             wall_s = stats::median(dd$wall), cpu_s = stats::median(dd$cpu),
             pot_over_this_wall = stats::median(ref$wall) / stats::median(dd$wall),
             pot_over_this_cpu = stats::median(ref$cpu) / stats::median(dd$cpu),
             value_rel_diff = max(rel_diff(dd$value, ref$value[1])))
}))
summ <- summ[order(summ$workload, summ$solver), ]
md <- c(sprintf("Real data (Semedo et al. 2019, V1/V2), BLAS: %s; %s; nproc %d; %d interleaved reps",
                info$blas, info$cpu, info$nproc, reps),
        "", md_table(summ, digits = 4), "",
        "pot_over_this = POT median / this median (> 1: faster than POT); value = objective or optimal cost.")
writeLines(md, note)
writeLines(md)
