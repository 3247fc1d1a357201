# A/B of ot_exact() between two installed builds of hotalign (e.g. two
# commits), interleaved process by process on identical costs, with POT as the
# fixed yardstick.
#
#   Rscript bench/ab_solver.R LIB_A LIB_B [SIZES]     e.g. /tmp/hb4/lib_old /tmp/hb4/lib
#
# Each rep runs, in fresh processes, build A, build B, then POT on the same
# cost file; one warm-up solve precedes the timed one in the R processes.
# Output: bench/out/ab_solver.csv and .md (CPU and wall medians, pivots).
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))
args <- commandArgs(TRUE)
libs <- c(A = normalizePath(args[1]), B = normalizePath(args[2]))
sizes <- if (length(args) >= 3) strsplit(args[3], ",")[[1]] else
  c("1000x1000", "896x3072", "2000x2000", "4000x4000")
sizes <- lapply(strsplit(sizes, "x"), as.integer)
reps <- bench_reps()
one <- function(lib, file, n, m) {
  code <- sprintf(paste0(
    ".libPaths(c('%s', .libPaths())); suppressMessages(library(hotalign));",
    "C <- matrix(readBin('%s', 'double', %d), %d, %d); invisible(ot_exact(C[1:50, 1:50]));",
    "gc(FALSE); t0 <- proc.time(); r <- ot_exact(C); t <- proc.time() - t0;",
    "cat(t[['elapsed']], t[['user.self']] + t[['sys.self']], r$iterations, sprintf('%%.17g', r$cost),",
    "as.character(packageDescription('hotalign')$Packaged), '\\n')"),
    lib, file, n * m, n, m)
  out <- system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(code)),
                 stdout = TRUE)
  f <- strsplit(trimws(out[length(out)]), " ")[[1]]
  list(wall = as.numeric(f[1]), cpu = as.numeric(f[2]), pivots = as.numeric(f[3]),
       cost = as.numeric(f[4]))
}
rows <- list()
for (sz in sizes) {
  n <- sz[1]; m <- sz[2]
  basis <- latent_basis(1000L, seed = n + m)
  C <- correlation_cost(latent_layer(basis, 0.3, n), latent_layer(basis, 0.4, m))
  file <- file.path(tempdir(), sprintf("ab_%dx%d.bin", n, m))
  write_doubles(C, file)
  for (rep in seq_len(reps)) {
    for (k in names(libs)) {
      r <- one(libs[[k]], file, n, m)
      rows[[length(rows) + 1]] <- data.frame(size = sprintf("%d x %d", n, m),
        build = k, rep = rep, wall = r$wall, cpu = r$cpu, pivots = r$pivots, cost = r$cost)
      log_line(sprintf("%d x %d  build %s rep %d  wall %.3f  cpu %.3f  pivots %.0f", n, m,
                       k, rep, r$wall, r$cpu, r$pivots))
    }
    p <- run_python("pot_emd.py", c(file, n, m))
    rows[[length(rows) + 1]] <- data.frame(size = sprintf("%d x %d", n, m),
      build = "POT", rep = rep, wall = p$wall, cpu = p$cpu, pivots = NA, cost = p$cost)
    log_line(sprintf("%d x %d  POT     rep %d  wall %.3f  cpu %.3f", n, m, rep, p$wall, p$cpu))
  }
  unlink(file)
  runs <- do.call(rbind, rows)
  utils::write.csv(runs, file.path(out_dir, "ab_solver.csv"), row.names = FALSE)
}
summ <- do.call(rbind, lapply(split(runs, list(runs$size, runs$build), drop = TRUE), function(d) {
  pot <- runs[runs$size == d$size[1] & runs$build == "POT", ]
  data.frame(size = d$size[1], build = d$build[1], cpu_s = stats::median(d$cpu),
             wall_s = stats::median(d$wall),
             pot_over_this_cpu = stats::median(pot$cpu) / stats::median(d$cpu),
             pot_over_this_wall = stats::median(pot$wall) / stats::median(d$wall),
             pivots = stats::median(d$pivots),
             cost_rel_diff = max(rel_diff(d$cost, pot$cost[1])))
}))
md <- c(sprintf("A = %s, B = %s; %d interleaved reps, fresh processes", libs[["A"]], libs[["B"]], reps),
        "", md_table(summ, digits = 4))
writeLines(md, file.path(out_dir, "ab_solver.md"))
writeLines(md)
