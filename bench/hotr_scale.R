# HOT+R at the issue's scales (issue 11): main's build against this branch's,
# side by side in one run, each timed in its own R process
# (bench/hotr_worker.R), plus the Python loop (POT ot.emd + numpy SVD).
#
#   Rscript bench/hotr_scale.R [parts]     parts: pairs systems dinov2 python prune
#
# Libraries: HOTALIGN_OLD_LIB (default /tmp/lib-main-rot: R CMD INSTALL
# --preclean of main), HOTALIGN_NEW_LIB (default /tmp/lib-rotation).  Output:
# bench/out/hotr_scale_<blas>.md and .rds.  Keep it short: the machine is
# shared; wide old-build runs are capped in iterations (same cap for both
# builds, so that their objectives can be compared).
old_lib <- Sys.getenv("HOTALIGN_OLD_LIB", "/tmp/lib-main-rot")
new_lib <- Sys.getenv("HOTALIGN_NEW_LIB", "/tmp/lib-rotation")
Sys.setenv(HOTALIGN_BENCH_LIB = new_lib)
local({
  args <- commandArgs(FALSE)
  file <- sub("^--file=", "", grep("^--file=", args, value = TRUE))
  here <- if (length(file)) dirname(normalizePath(file[1])) else normalizePath("bench")
  source(file.path(here, "common.R"))
  assign("here", here, globalenv())
}, envir = globalenv())
source(file.path(here, "..", "tests", "testthat", "helper-rotation.R"))
parts <- commandArgs(TRUE)
if (!length(parts)) parts <- c("pairs", "systems", "dinov2", "python", "prune")
tag <- blas_label()
tmp <- tempfile("hotr")
dir.create(tmp)
results <- list(machine = machine_info())
md <- c("# HOT+R at scale (bench/hotr_scale.R)", "",
        paste0("BLAS: ", results$machine$blas, "; load: ", results$machine$load,
               "; ", results$machine$date), "")

worker <- function(lib, task, data, threads = 2L) {
  inp <- tempfile("in", tmp, ".rds")
  out <- tempfile("out", tmp, ".rds")
  saveRDS(data, inp)
  st <- system2(file.path(R.home("bin"), "Rscript"),
                c(file.path(here, "hotr_worker.R"), lib, task, inp, out, threads))
  if (st != 0) stop("worker failed: ", task, " on ", lib)
  readRDS(out)
}

# tuned_layer(), tuned_system(): bench/common.R
std_pair <- function(T, n, m, seed) {
  set.seed(seed)
  s <- matrix(stats::rnorm(T * 2), T, 2)
  list(Xs = std_cols(tuned_layer(s, n, 0.6)), Ys = std_cols(tuned_layer(s, m, 0.8)))
}

# ---- one pair of each issue shape, old vs new ---------------------------------
if ("pairs" %in% parts) {
  shapes <- list(list(T = 800, n = 384, m = 1024, max_iter = 100),
                 list(T = 800, n = 896, m = 3072, max_iter = 3),
                 list(T = 74, n = 1236, m = 2028, max_iter = 2))
  rows <- list()
  for (sh in shapes) {
    log_line("pair ", sh$n, " x ", sh$m, ", T = ", sh$T)
    d <- c(std_pair(sh$T, sh$n, sh$m, seed = sh$n), max_iter = sh$max_iter, tol = 1e-8)
    o <- worker(old_lib, "pair", d)
    nw <- worker(new_lib, "pair", d)
    rows[[length(rows) + 1]] <- data.frame(
      shape = sprintf("%d x %d, T %d", sh$n, sh$m, sh$T), max_iter = sh$max_iter,
      iterations_old = o$iterations, iterations_new = nw$iterations,
      old_s = o$wall, new_s = nw$wall, speedup = o$wall / nw$wall,
      old_s_per_iter = o$wall / max(1, o$iterations),
      new_s_per_iter = nw$wall / max(1, nw$iterations),
      max_rel_trace_diff = if (length(o$trace) == length(nw$trace))
        max(rel_diff(nw$trace, o$trace)) else NA)
    saveRDS(d, file.path(tmp, sprintf("pair_%d.rds", sh$n)))
  }
  results$pairs <- do.call(rbind, rows)
  md <- c(md, "## One pair, old (main) vs new, 1 thread", "", md_table(results$pairs), "")
}

hot_rows <- function(label, o, nw) {
  data.frame(
    workload = label, build = c("old", "new")[c(!is.null(o), TRUE)],
    plain_s = c(if (!is.null(o)) o$plain_wall, nw$plain_wall),
    rot_s = c(if (!is.null(o)) o$rot_wall, nw$rot_wall),
    ratio = c(if (!is.null(o)) o$rot_wall / o$plain_wall, nw$rot_wall / nw$plain_wall),
    score_plain = c(if (!is.null(o)) o$plain_score, nw$plain_score),
    score_rot = c(if (!is.null(o)) o$rot_score, nw$rot_score),
    mean_iter = c(if (!is.null(o)) mean(o$iterations), mean(nw$iterations)),
    all_converged = c(if (!is.null(o)) all(o$converged), all(nw$converged)))
}

# ---- systems: 4 x 8 at 384 / 1024 (1000 stimuli), 10 x 10 of 16-2028 (92) ----
if ("systems" %in% parts) {
  set.seed(11)
  s <- matrix(stats::rnorm(1000 * 2), 1000, 2)
  sysA <- list(X = tuned_system(s, rep(384, 4), "x"), Y = tuned_system(s, rep(1024, 8), "y"))
  log_line("4 x 8, 384 / 1024, 1000 stimuli: old")
  oA <- worker(old_lib, "hot", sysA)
  log_line("4 x 8: new")
  nA <- worker(new_lib, "hot", sysA)
  set.seed(12)
  s92 <- matrix(stats::rnorm(92 * 2), 92, 2)
  widths <- round(exp(seq(log(16), log(2028), length.out = 10)))
  sysB <- list(X = tuned_system(s92, widths, "x"), Y = tuned_system(s92, rev(widths), "y"))
  log_line("10 x 10, 16-2028 units, 92 stimuli: new (old: not run, see pairs)")
  nB <- worker(new_lib, "hot", sysB)
  results$systems <- rbind(hot_rows("4 x 8, 384 / 1024, 1000 stimuli", oA, nA),
                           hot_rows("10 x 10, 16-2028, 92 stimuli", NULL, nB))
  results$sys_costs <- list(A_old = oA$rot_cost, A_new = nA$rot_cost, B_new = nB$rot_cost)
  results$sysA_max_rel_cost_diff <- max(rel_diff(nA$rot_cost, oA$rot_cost))
  md <- c(md, "## hot(rotation = TRUE, n_perm = 0) vs plain hot(), 2 threads", "",
          md_table(results$systems), "",
          sprintf("4 x 8: max relative difference of the HOT+R costs, new vs old: %.2e",
                  results$sysA_max_rel_cost_diff), "")
  saveRDS(list(sysA = sysA, sysB = sysB, nA = nA, nB = nB), file.path(tmp, "systems.rds"))
}

# ---- DINOv2 shape: 12 x 24, 384 / 1024, 1000 stimuli --------------------------
# The whole system (all 288 pairs), plain and HOT+R, with n_perm = 0 (the
# issue's target) and with hot()'s default n_perm = 100.
if ("dinov2" %in% parts) {
  set.seed(13)
  s <- matrix(stats::rnorm(1000 * 2), 1000, 2)
  sysD <- list(X = tuned_system(s, rep(384, 12), "s"), Y = tuned_system(s, rep(1024, 24), "l"))
  log_line("12 x 24: plain and HOT+R, n_perm = 0 (new)")
  d0 <- worker(new_lib, "hot", c(sysD, list(rows = NULL)))
  log_line("12 x 24: HOT+R, n_perm = 100 (new)")
  d100 <- worker(new_lib, "hot", c(sysD, list(rows = NULL, n_perm = 100L)))
  results$dinov2 <- data.frame(
    measured = c("plain hot(), 12 x 24 (all 288 pairs), n_perm = 0",
                 "HOT+R, 12 x 24 (all 288 pairs), n_perm = 0",
                 "HOT+R, 12 x 24 (all 288 pairs), n_perm = 100"),
    seconds = c(d0$plain_wall, d0$rot_wall, d100$rot_wall),
    mean_iter = c(NA, mean(d0$iterations), mean(d100$iterations)),
    score = c(d0$plain_score, d0$rot_score, d100$rot_score))
  md <- c(md, "## DINOv2 shape, 12 x 24 layers of 384 / 1024 units, 2 threads", "",
          md_table(results$dinov2), "")
}

# ---- Python loop: POT ot.emd + numpy SVD, same descent ------------------------
if ("python" %in% parts) {
  f <- file.path(tmp, "pair_384.rds")
  d <- if (file.exists(f)) readRDS(f) else c(std_pair(800, 384, 1024, seed = 384),
                                             max_iter = 100, tol = 1e-8)
  nw <- worker(new_lib, "pair", d)
  xf <- write_doubles(d$Xs, file.path(tmp, "xs.bin"))
  yf <- write_doubles(d$Ys, file.path(tmp, "ys.bin"))
  log_line("python loop, 384 x 1024, T = 800")
  py <- run_python("hotr_pot_loop.py", c(xf, yf, nrow(d$Xs), ncol(d$Xs), ncol(d$Ys),
                                         d$max_iter, d$tol))
  results$python <- data.frame(
    pair = "384 x 1024, T 800", iterations_py = py$iterations,
    iterations_c = nw$iterations, python_s = py$seconds, hotalign_s = nw$wall,
    ratio = py$seconds / nw$wall,
    max_rel_trace_diff = if (length(py$trace) == length(nw$trace))
      max(rel_diff(nw$trace, py$trace)) else NA)
  md <- c(md, "## Python loop (POT ot.emd + numpy SVD), one pair, 1 thread", "",
          md_table(results$python), "", paste("numpy BLAS:", py$blas, "; POT", py$pot), "")
}

# ---- the lower bound: how many pairs could it prune? ---------------------------
if ("prune" %in% parts && file.exists(file.path(tmp, "systems.rds"))) {
  sy <- readRDS(file.path(tmp, "systems.rds"))
  prune_row <- function(label, sys, fit) {
    tr <- fit$train
    std <- function(L) lapply(L, function(x) std_cols(x[tr, , drop = FALSE]))
    b <- worker(new_lib, "bound", list(Xs = std(sys$X), Ys = std(sys$Y)))
    C <- fit$rot_cost
    o <- ot_exact(C)
    red <- outer(o$u, o$v, "+")
    supp <- as.matrix(o$plan) > 0
    # a pair off the support is certified unneeded when its bound already
    # exceeds f_l + g_m: the plan stays optimal with its cost replaced by the bound
    prunable <- !supp & (b$bound >= red + 1e-12)
    data.frame(workload = label, pairs = length(C), support = sum(supp),
               bound_below_cost = all(b$bound <= C + 1e-12),
               prunable = sum(prunable), share_prunable = mean(prunable),
               mean_gap = mean(C - b$bound), bound_s = b$wall)
  }
  results$prune <- rbind(prune_row("4 x 8, 384 / 1024", sy$sysA, sy$nA),
                         prune_row("10 x 10, 16-2028", sy$sysB, sy$nB))
  md <- c(md, "## Lower bound 1 - ||Xs'Ys||_* / sqrt(n n'): pairs it could prune", "",
          md_table(results$prune), "")
}

writeLines(md, file.path(out_dir, paste0("hotr_scale_", tag, ".md")))
saveRDS(results, file.path(out_dir, paste0("hotr_scale_", tag, ".rds")))
cat(md, sep = "\n")
