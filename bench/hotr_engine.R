# HOT+R in the engine (issue 11, engine integration): hot(rotation = TRUE)
# with n_perm = 0 and n_perm = 100 against plain hot(), for main's build and
# this branch's, each fit in its own R process (bench/hotr_worker.R), on the
# systems of bench/hotr_scale.R (tuned units, each layer a random rotation).
# Quick settings: the 4 x 8 system (384 / 1024 units, 1000 stimuli) and the
# 10 x 10 system (16-2028 units, 92 stimuli); the DINOv2 12 x 24 figure is
# extrapolated from 2 of its 12 source layers.  Results are appended to
# bench/out/hotr_engine.md as each run ends (the machine is shared).
#   HOTALIGN_OLD_LIB=... HOTALIGN_NEW_LIB=... Rscript bench/hotr_engine.R [parts]
#   parts: new old dinov2 (default: all, in that order)
old_lib <- Sys.getenv("HOTALIGN_OLD_LIB", "/tmp/lib-rot2-base")
new_lib <- Sys.getenv("HOTALIGN_NEW_LIB", "/tmp/lib-rot2-bench")
here <- local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file)) dirname(normalizePath(file[1])) else normalizePath("bench")
})
source(file.path(here, "..", "tests", "testthat", "helper-rotation.R"))
Sys.setenv(HOTALIGN_BENCH_LIB = new_lib)
source(file.path(here, "common.R")) # tuned_system()
parts <- commandArgs(TRUE)
if (!length(parts)) parts <- c("new", "old", "dinov2")
out_dir <- file.path(here, "out")
dir.create(out_dir, showWarnings = FALSE)
md_file <- file.path(out_dir, "hotr_engine.md")
tmp <- tempfile("hotre")
dir.create(tmp)
say <- function(...) {
  line <- paste0(...)
  cat(line, "\n", sep = "")
  cat(line, "\n", sep = "", file = md_file, append = TRUE)
}
say("")
say("# bench/hotr_engine.R ", format(Sys.time(), tz = "UTC"), " UTC, load ",
    paste(readLines("/proc/loadavg"), collapse = ""), ", BLAS ",
    basename(extSoftVersion()[["BLAS"]]))
worker <- function(lib, data, threads = 2L) {
  inp <- tempfile("in", tmp, ".rds")
  out <- tempfile("out", tmp, ".rds")
  saveRDS(data, inp)
  st <- system2(file.path(R.home("bin"), "Rscript"),
                c(file.path(here, "hotr_worker.R"), lib, "hot", inp, out, threads))
  if (st != 0) stop("worker failed on ", lib)
  readRDS(out)
}
# the same systems as bench/hotr_scale.R (same seeds)
set.seed(11)
s <- matrix(stats::rnorm(1000 * 2), 1000, 2)
sysA <- list(X = tuned_system(s, rep(384, 4), "x"), Y = tuned_system(s, rep(1024, 8), "y"))
set.seed(12)
s92 <- matrix(stats::rnorm(92 * 2), 92, 2)
widths <- round(exp(seq(log(16), log(2028), length.out = 10)))
sysB <- list(X = tuned_system(s92, widths, "x"), Y = tuned_system(s92, rev(widths), "y"))
row <- function(label, build, n_perm, r) {
  say(sprintf("| %s | %s | %d | %.2f | %.2f | %.1f | %.3f / %.3f | %.1f | %s | %s |",
              label, build, n_perm, r$plain_wall, r$rot_wall, r$rot_wall / r$plain_wall,
              r$plain_score, r$rot_score, mean(r$iterations),
              if (all(r$converged)) "yes" else "no",
              format(Sys.time(), "%H:%M:%S", tz = "UTC")))
  r
}
say("")
say("| workload | build | n_perm | plain s | HOT+R s | ratio | score plain / HOT+R | mean iterations | all converged | at |")
say("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
res <- list()
# old and new interleaved per workload (the machine is shared: the load
# drifts), plain hot() run before and after each HOT+R fit
builds <- intersect(parts, c("new", "old"))
for (w in list(list("4 x 8, 384 / 1024, 1000 stimuli", sysA, "A"),
               list("10 x 10, 16-2028, 92 stimuli", sysB, "B"))) {
  if (!is.null(only <- Sys.getenv("HOTALIGN_HOTR_ONLY", "")) && nzchar(only) &&
      !w[[3]] %in% strsplit(only, ",")[[1]]) next
  for (np in c(0L, 100L)) {
    for (b in builds) {
      lib <- if (b == "new") new_lib else old_lib
      r <- row(w[[1]], b, np, worker(lib, c(w[[2]], list(n_perm = np, plain_twice = TRUE))))
      res[[paste(b, w[[3]], np)]] <- r
      saveRDS(res, file.path(out_dir, "hotr_engine.rds"))
    }
  }
}
# same fits, new vs old: the HOT+R costs, plans and scores
rel <- function(a, b) max(abs(a - b) / pmax(abs(b), 1e-300))
for (w in c("A", "B")) for (np in c(0L, 100L)) {
  o <- res[[paste("old", w, np)]]
  n <- res[[paste("new", w, np)]]
  if (!is.null(o) && !is.null(n))
    say(sprintf("%s, n_perm %d: HOT+R costs old/new max rel. diff %.1e, plans identical: %s, score diff %.1e, layer scores max diff %.1e",
                w, np, rel(n$rot_cost, o$rot_cost), identical(o$rot_plan, n$rot_plan),
                abs(n$rot_score - o$rot_score),
                max(abs(n$rot_layer_scores - o$rot_layer_scores))))
}
if ("dinov2" %in% parts) {
  set.seed(13)
  s <- matrix(stats::rnorm(1000 * 2), 1000, 2)
  sysD <- list(X = tuned_system(s, rep(384, 12), "s"), Y = tuned_system(s, rep(1024, 24), "l"))
  nD <- worker(new_lib, c(sysD, list(rows = c(1L, 7L), n_perm = 0L)))
  say(sprintf("DINOv2 shape, new: HOT+R on 2 x 24 pairs (sources 1, 7) %.1f s (plain on the same 48 pairs %.2f s, ratio %.1f), mean %.1f iterations; 12 x 24 extrapolated x 6: %.0f s",
              nD$rot_wall, nD$plain_wall, nD$rot_wall / nD$plain_wall,
              mean(nD$iterations), 6 * nD$rot_wall))
}
