# A/B of the one-pass engine (issue 10): hot() between two installed builds
# (e.g. the previous commit and this one), in fresh processes, interleaved,
# on the bundled example (hot_example, default settings) and on the V1/V2
# recordings of Semedo et al. (2019) (../shared/data/semedo/sample_data.mat;
# that workload is skipped when the file is absent).
#
#   HOTALIGN_BENCH_LIB=LIB_B [HOTALIGN_AB_INNER=20] Rscript bench/ab_engine.R LIB_A LIB_B [ROUNDS] [THREADS]
#
# THREADS: the `threads` of every fit, 1 by default; "default" leaves it to
# hot()'s default (hot_threads()); the output files get the suffix
# "_threads<THREADS>" when it is given.
#
# Each process times every workload `inner` times in a row (one fit takes
# milliseconds) after a warm-up; medians over rounds of the per-fit wall and
# CPU time (CPU is the steadier measure on a shared machine).
# Output: bench/out/ab_engine.csv and .md
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))
args <- commandArgs(TRUE)
libs <- c(A = normalizePath(args[1]), B = normalizePath(args[2]))
rounds <- if (length(args) >= 3) as.integer(args[3]) else 3L
threads_arg <- if (length(args) >= 4) args[4] else "1"
threads_code <- if (threads_arg == "default") "" else sprintf("threads = %d, ", as.integer(threads_arg))
suffix <- if (length(args) >= 4) paste0("_threads", threads_arg) else ""

data_file <- file.path(tempdir(), "ab_engine.rds")
mat <- file.path(bench_dir, "..", "..", "shared", "data", "semedo", "sample_data.mat")
semedo <- NULL
if (file.exists(mat)) {
  dir <- tempfile("semedo")
  dir.create(dir)
  code <- paste0("import scipy.io, numpy, sys\nd = scipy.io.loadmat(sys.argv[1])\n",
                 "for k in ('X', 'Y_V1', 'Y_V2'):\n",
                 "    a = numpy.asarray(d[k], dtype=numpy.float64)\n",
                 "    a.ravel(order='F').tofile(sys.argv[2] + '/' + k + '.bin')\n",
                 "    print(k, a.shape[0], a.shape[1])\n")
  out <- system2(python, c("-c", shQuote(code), shQuote(mat), shQuote(dir)),
                 stdout = TRUE)
  semedo <- list()
  for (line in out) {
    f <- strsplit(line, " ")[[1]]
    semedo[[f[1]]] <- matrix(readBin(file.path(dir, paste0(f[1], ".bin")), "double",
                                     as.integer(f[2]) * as.integer(f[3])),
                             as.integer(f[2]), as.integer(f[3]))
  }
  set.seed(1)  # 20% of the 400 trials (blocks of 10 rows) held out
  trials <- sort(sample.int(400L, 80L))
  semedo$test <- as.vector(outer(1:10, (trials - 1) * 10, "+"))
}
saveRDS(semedo, data_file)

workloads <- c(
  example = "hot(hot_example$X, hot_example$Y, seed = 1, THREADS progress = FALSE)",
  v1v2 = paste("hot(list(V1 = d$X), list(V1_target = d$Y_V1, V2 = d$Y_V2), test = d$test,",
               "THREADS progress = FALSE)"),
  v1v2_5splits = paste("hot(list(V1 = d$X), list(V1_target = d$Y_V1, V2 = d$Y_V2),",
                       "splits = 5, seed = 1, THREADS progress = FALSE)")
)
workloads <- sub("THREADS ", threads_code, workloads, fixed = TRUE)
if (is.null(semedo)) workloads <- workloads["example"]
inner <- as.integer(Sys.getenv("HOTALIGN_AB_INNER", "20"))  # fits per process and workload
one <- function(lib, w) {
  code <- sprintf(paste0(
    ".libPaths(c('%s', .libPaths())); suppressMessages(library(hotalign)); d <- readRDS('%s');",
    "f <- function() %s; invisible(f()); invisible(f());",
    "t <- system.time(for (i in 1:%d) fit <- f()) / %d;",
    "cat(t[['elapsed']], t[['user.self']] + t[['sys.self']], sprintf('%%.17g', fit$score), '\\n')"),
    lib, data_file, workloads[[w]], inner, inner)
  out <- system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(code)), stdout = TRUE)
  as.numeric(strsplit(trimws(out[length(out)]), " ")[[1]])
}
rows <- list()
for (r in seq_len(rounds)) for (w in names(workloads)) for (k in names(libs)) {
  v <- one(libs[[k]], w)
  rows[[length(rows) + 1]] <- data.frame(workload = w, build = k, round = r,
                                         seconds = v[1], cpu = v[2], score = v[3])
  log_line(sprintf("%s build %s round %d: %.4f s (CPU %.4f s) per fit", w, k, r,
                   v[1], v[2]))
}
runs <- do.call(rbind, rows)
utils::write.csv(runs, file.path(out_dir, paste0("ab_engine", suffix, ".csv")), row.names = FALSE)
summ <- aggregate(cbind(seconds, cpu) ~ workload + build, runs, stats::median)
wide <- reshape(summ, idvar = "workload", timevar = "build", direction = "wide")
wide$speedup_wall <- wide$seconds.A / wide$seconds.B
wide$speedup_cpu <- wide$cpu.A / wide$cpu.B
same <- vapply(split(runs, runs$workload), function(d) {
  length(unique(d$score)) == 1L
}, TRUE)
wide$same_score <- same[wide$workload]
md <- c(sprintf(paste("hot() A/B (issue 10), A = %s, B = %s, BLAS %s, threads %s,",
                      "%d rounds x %d fits (medians per fit)"),
                libs[["A"]], libs[["B"]], machine_info()$blas, threads_arg, rounds, inner), "",
        md_table(wide, 4))
writeLines(md, file.path(out_dir, paste0("ab_engine", suffix, ".md")))
writeLines(md)
