# ot_sinkhorn() (entropic, APPROXIMATE) against ot_exact() on the dense
# correlation costs of bench/ot_exact.R, with uniform marginals: time and the
# relative error of the entropic plan's transport cost; POT's log-domain
# Sinkhorn (ot.sinkhorn(method = "sinkhorn_log")) on the same cost and
# epsilon when POT is importable.
#
#   Rscript bench/sinkhorn_vs_exact.R [SIZES] [EPSILONS]
#           e.g. 1000x1000,896x3072  0.1,0.03,0.01,0.003
#
# Cost: K = 1 - cor(X, Y) of two random layers sharing a 64-dim latent
# structure (T = 1000 stimuli; the same layers as bench/ot_exact.R). Its
# entries are about 1 +- 0.05 (range ~0.8-1.2), so epsilon (absolute, in
# cost units) from 0.1 (a nearly uniform plan) down to 0.003 (close to the
# exact plan, but slow: Sinkhorn's iterations grow like 1 / epsilon).
# Stopping: tol = 1e-6 on the L1 column-marginal violation (HOTALIGN_SK_TOL),
# at most 500 iterations (HOTALIGN_SK_MAX_ITER); the `converged` column says
# which runs stopped on the tolerance. Repetitions interleaved, medians.
# Output: bench/out/sinkhorn_vs_exact.csv (one row per run) and
#         bench/out/sinkhorn_vs_exact.md (medians).
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))

args <- commandArgs(TRUE)
sizes <- if (length(args) >= 1) strsplit(args[1], ",")[[1]] else
  c("1000x1000", "896x3072")
sizes <- lapply(strsplit(sizes, "x"), as.integer)
epsilons <- if (length(args) >= 2) as.numeric(strsplit(args[2], ",")[[1]]) else
  c(0.1, 0.03, 0.01, 0.003)
tol <- as.numeric(Sys.getenv("HOTALIGN_SK_TOL", "1e-6"))
max_iter <- as.integer(Sys.getenv("HOTALIGN_SK_MAX_ITER", "500"))
reps <- bench_reps()
info <- write_machine("sinkhorn_vs_exact")
n_stimuli <- 1000L
has_pot <- system2(python, c("-c", shQuote("import ot")), stdout = FALSE,
                   stderr = FALSE) == 0
log_line("POT: ", if (has_pot) "yes" else "no", "; tol ", tol, ", max_iter ",
         max_iter, "; BLAS: ", info$blas)
# warm-up
invisible(ot_exact(correlation_cost(matrix(stats::rnorm(500), 50), matrix(stats::rnorm(500), 50))))

rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(...)
for (sz in sizes) {
  n <- sz[1]
  m <- sz[2]
  size <- sprintf("%d x %d", n, m)
  C <- bench_cost(n, m, n_stimuli)
  file <- file.path(tempdir(), sprintf("cost_%dx%d.bin", n, m))
  if (has_pot) write_doubles(C, file)
  exact_cost <- NA
  for (rep in seq_len(reps)) {
    r <- timed(ot_exact(C))
    exact_cost <- r$value$cost
    add(size = size, solver = "ot_exact", epsilon = NA, rep = rep, wall = r$wall,
        cpu = r$cpu, cost = r$value$cost, marginal_error = 0,
        iterations = r$value$iterations, converged = TRUE)
    log_line(sprintf("%s  ot_exact            rep %d  wall %7.3f s  cost %.10g",
                     size, rep, r$wall, r$value$cost))
    for (eps in epsilons) {
      r <- timed(ot_sinkhorn(C, epsilon = eps, tol = tol, max_iter = max_iter))
      s <- r$value
      add(size = size, solver = "ot_sinkhorn", epsilon = eps, rep = rep,
          wall = r$wall, cpu = r$cpu, cost = s$cost,
          marginal_error = s$marginal_error, iterations = s$iterations,
          converged = s$converged)
      log_line(sprintf("%s  ot_sinkhorn %-7g rep %d  wall %7.3f s  cost %.10g  it %d%s",
                       size, eps, rep, r$wall, s$cost, s$iterations,
                       if (s$converged) "" else " (not converged)"))
      rm(r, s)
      if (has_pot) {
        p <- run_python("pot_sinkhorn.py", c(file, n, m, eps, "--tol", tol,
                                             "--max-iter", max_iter))
        add(size = size, solver = "POT sinkhorn_log", epsilon = eps, rep = rep,
            wall = p$wall, cpu = p$cpu, cost = p$cost,
            marginal_error = p$marginal_error, iterations = p$iterations,
            converged = NA)
        log_line(sprintf("%s  POT sinkhorn %-7g rep %d  wall %7.3f s  cost %.10g  it %d",
                         size, eps, rep, p$wall, p$cost, p$iterations))
      }
    }
  }
  unlink(file)
  runs <- do.call(rbind, rows)
  runs$rel_error <- NA_real_
  for (sz2 in unique(runs$size)) {
    k <- runs$size == sz2
    ref <- runs$cost[k & runs$solver == "ot_exact"][1]
    runs$rel_error[k] <- (runs$cost[k] - ref) / ref
  }
  utils::write.csv(runs, file.path(out_dir, "sinkhorn_vs_exact.csv"), row.names = FALSE)
}

summ <- do.call(rbind, lapply(split(runs, list(runs$size, runs$solver, runs$epsilon),
                                    drop = TRUE), function(d) {
  exact <- runs[runs$size == d$size[1] & runs$solver == "ot_exact", ]
  data.frame(size = d$size[1], solver = d$solver[1], epsilon = d$epsilon[1],
             runs = nrow(d), wall_s = stats::median(d$wall),
             cpu_s = stats::median(d$cpu),
             vs_exact_wall = stats::median(d$wall) / stats::median(exact$wall),
             rel_error = stats::median(d$rel_error),
             bound = d$epsilon[1] * log(min(as.integer(strsplit(d$size[1], " x ")[[1]]))) /
               exact$cost[1],
             marginal_error = stats::median(d$marginal_error),
             iterations = stats::median(d$iterations),
             converged = if (all(is.na(d$converged))) NA else all(d$converged))
}))
ex <- runs[runs$solver == "ot_exact", ]
ex <- do.call(rbind, lapply(split(ex, ex$size), function(d) data.frame(
  size = d$size[1], solver = "ot_exact", epsilon = NA, runs = nrow(d),
  wall_s = stats::median(d$wall), cpu_s = stats::median(d$cpu), vs_exact_wall = 1,
  rel_error = 0, bound = 0, marginal_error = 0,
  iterations = stats::median(d$iterations), converged = TRUE)))
summ <- rbind(ex, summ[summ$solver != "ot_exact", ])
size_order <- vapply(sizes, function(s) sprintf("%d x %d", s[1], s[2]), "")
summ <- summ[order(match(summ$size, size_order), summ$solver != "ot_exact",
                   summ$solver, -summ$epsilon), ]
md <- c(sprintf("ot_sinkhorn() (entropic, APPROXIMATE) vs ot_exact(), BLAS: %s, %s, nproc %d, %s; %d interleaved reps",
                info$blas, info$cpu, info$nproc, info$r, reps),
        sprintf("Sinkhorn stopping: tol = %g (L1 column marginal; POT: L2, checked every 10), max_iter = %d.",
                tol, max_iter),
        "", md_table(summ, digits = 4), "",
        paste("rel_error = (transport cost of the plan - exact optimum) / exact optimum;",
              "bound = epsilon * log(min(n, m)) / exact optimum, the documented",
              "bound for the exact entropic minimiser (non-converged runs may miss it);",
              "vs_exact_wall = median wall / ot_exact()'s median wall."))
writeLines(md, file.path(out_dir, "sinkhorn_vs_exact.md"))
writeLines(md)
