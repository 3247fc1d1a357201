# ot_exact() against POT's ot.emd, transport::transport(method = "networkflow"),
# approxOT (networkflow) and clue::solve_LSAP (square sizes), side by side on
# the same dense correlation costs with uniform marginals.
#
#   Rscript bench/ot_exact.R [SIZES]         e.g. 1000x1000,896x3072
#
# Cost: K = 1 - cor(X, Y) of two random layers sharing a 64-dim latent
# structure (T = 1000 stimuli; see latent_layer() in bench/common.R).
# Repetitions are interleaved (rep 1 of every solver, then rep 2, ...) so that
# the machine's noise hits every solver alike; medians are reported, of wall
# time and of CPU time (user + system). Every solver's optimal cost is checked
# against ot_exact()'s to 1e-9 relative. A peer whose first run exceeds
# HOTALIGN_BENCH_PEER_MAX seconds (default 300) is not repeated, nor run at a
# larger size where its time, scaled by (arcs ratio)^1.5, would exceed it;
# HOTALIGN_BENCH_SKIP=name,name leaves peers out.
# Output: bench/out/ot_exact_<blas>.csv (one row per run) and
#         bench/out/ot_exact_<blas>.md (medians and ratios).
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))

args <- commandArgs(TRUE)
sizes <- if (length(args)) strsplit(args[1], ",")[[1]] else
  c("1000x1000", "896x3072", "2000x2000", "4000x4000")
sizes <- lapply(strsplit(sizes, "x"), as.integer)
reps <- bench_reps()
peer_max <- as.numeric(Sys.getenv("HOTALIGN_BENCH_PEER_MAX", "300"))
tag <- blas_label()
info <- write_machine(paste0("ot_exact_", tag))
n_stimuli <- 1000L

solvers <- list(
  hotalign = function(C, file) {
    r <- timed(ot_exact(C))
    c(r[c("wall", "cpu")], cost = r$value$cost, pivots = r$value$iterations)
  },
  `POT ot.emd` = function(C, file) {
    r <- run_python("pot_emd.py", c(file, nrow(C), ncol(C), "--reps", 1))
    list(wall = r$wall, cpu = r$cpu, cost = r$cost, pivots = NA)
  },
  `transport networkflow` = if (has_pkg("transport")) function(C, file) {
    a <- rep(1 / nrow(C), nrow(C))
    b <- rep(1 / ncol(C), ncol(C))
    r <- timed(transport::transport(a, b, costm = C, method = "networkflow",
                                    threads = 1))
    s <- r$value
    list(wall = r$wall, cpu = r$cpu,
         cost = sum(s$mass * C[cbind(s$from, s$to)]), pivots = NA)
  },
  `approxOT networkflow` = if (has_pkg("approxOT")) function(C, file) {
    a <- rep(1 / nrow(C), nrow(C))
    b <- rep(1 / ncol(C), ncol(C))
    r <- timed(approxOT::transport_plan_given_C(a, b, p = 1, cost = C,
                                                method = "networkflow"))
    tp <- if (!is.null(r$value$tplan)) r$value$tplan else r$value
    list(wall = r$wall, cpu = r$cpu,
         cost = sum(tp$mass * C[cbind(tp$from, tp$to)]), pivots = NA)
  },
  `clue solve_LSAP` = if (has_pkg("clue")) function(C, file) {
    if (nrow(C) != ncol(C)) return(NULL)
    r <- timed(clue::solve_LSAP(C))
    perm <- as.integer(r$value)
    list(wall = r$wall, cpu = r$cpu,
         cost = sum(C[cbind(seq_len(nrow(C)), perm)]) / nrow(C), pivots = NA)
  }
)
solvers <- Filter(Negate(is.null), solvers)
# warm-up (loads namespaces and methods, e.g. Matrix for ot_exact()'s sparse plan)
local({
  C0 <- correlation_cost(matrix(stats::rnorm(500), 50), matrix(stats::rnorm(500), 50))
  for (s in setdiff(names(solvers), "POT ot.emd")) invisible(solvers[[s]](C0, NULL))
})
log_line("solvers: ", paste(names(solvers), collapse = ", "), "; BLAS: ", info$blas)

rows <- list()
skip_env <- strsplit(Sys.getenv("HOTALIGN_BENCH_SKIP"), ",")[[1]]
prev <- NULL   # median wall per solver at the previous size, and its arcs
for (sz in sizes) {
  n <- sz[1]
  m <- sz[2]
  C <- bench_cost(n, m, n_stimuli)
  file <- file.path(tempdir(), sprintf("cost_%dx%d.bin", n, m))
  write_doubles(C, file)
  # a peer whose time at the previous size, scaled by (arcs ratio)^1.5, would
  # exceed peer_max is not run at this size (clue's Hungarian is O(n^3))
  skip <- intersect(skip_env, names(solvers))
  if (!is.null(prev)) {
    est <- prev$wall * (as.double(n) * m / prev$arcs)^1.5
    slow <- setdiff(names(est)[est > peer_max], "hotalign")
    for (s in slow) log_line(sprintf("%d x %d  %s skipped: about %.0f s expected", n, m, s, est[[s]]))
    skip <- union(skip, slow)
  }
  for (rep in seq_len(reps)) {
    for (s in names(solvers)) {
      if (s %in% skip) next
      r <- solvers[[s]](C, file)
      if (is.null(r)) next
      rows[[length(rows) + 1]] <- data.frame(
        size = sprintf("%d x %d", n, m), solver = s, rep = rep, wall = r$wall,
        cpu = r$cpu, cost = r$cost, pivots = r$pivots)
      log_line(sprintf("%d x %d  %-22s rep %d  wall %8.3f s  cpu %8.3f s  cost %.15g",
                       n, m, s, rep, r$wall, r$cpu, r$cost))
      if (rep == 1 && r$wall > peer_max && s != "hotalign") skip <- c(skip, s)
    }
  }
  unlink(file)
  runs <- do.call(rbind, rows)
  here <- runs[runs$size == sprintf("%d x %d", n, m), ]
  prev <- list(wall = tapply(here$wall, here$solver, stats::median),
               arcs = as.double(n) * m)
  utils::write.csv(runs, file.path(out_dir, paste0("ot_exact_", tag, ".csv")),
                   row.names = FALSE)
}

# medians and ratios against hotalign (ratio > 1: hotalign is faster)
summ <- do.call(rbind, lapply(split(runs, list(runs$size, runs$solver), drop = TRUE),
                              function(d) {
  ref <- runs[runs$size == d$size[1] & runs$solver == "hotalign", ]
  data.frame(size = d$size[1], solver = d$solver[1], runs = nrow(d),
             wall_s = stats::median(d$wall), cpu_s = stats::median(d$cpu),
             wall_ratio = stats::median(d$wall) / stats::median(ref$wall),
             cpu_ratio = stats::median(d$cpu) / stats::median(ref$cpu),
             cost_rel_diff = max(rel_diff(d$cost, ref$cost[1])),
             same_cost = all(rel_diff(d$cost, ref$cost[1]) <= 1e-9),
             pivots = stats::median(d$pivots))
}))
size_order <- vapply(sizes, function(s) sprintf("%d x %d", s[1], s[2]), "")
summ <- summ[order(match(summ$size, size_order), summ$solver != "hotalign",
                   summ$solver), ]
md <- c(sprintf("ot_exact() vs peers, BLAS: %s, %s, nproc %d, %s; %d interleaved reps",
                info$blas, info$cpu, info$nproc, info$r, reps),
        "", md_table(summ, digits = 4), "",
        "wall_ratio / cpu_ratio = peer median / hotalign median (> 1: hotalign faster).")
writeLines(md, file.path(out_dir, paste0("ot_exact_", tag, ".md")))
writeLines(md)
