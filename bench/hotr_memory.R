# HOT+R memory on layers wider than their stimuli (fMRI ROIs): the estimate of
# ?hot (hot_memory_bytes) and the measured peak resident memory (VmHWM of a
# fresh process per fit), plain and rotation, for two builds side by side:
# HOTALIGN_OLD_LIB (e.g. main) and HOTALIGN_NEW_LIB (this checkout).
# Shape: L x L regions of `voxels` voxels each, 92 stimuli (the 92-image
# set's size), voxels = tuned to 16 shared latents plus noise, each target
# region a dense random rotation of its source region plus noise (no
# privileged axes).
#   HOTALIGN_OLD_LIB=/tmp/lib-main HOTALIGN_NEW_LIB=/tmp/lib-mem \
#     Rscript bench/hotr_memory.R [voxels=5000] [regions=2]
# Writes bench/out/hotr_memory.md.
local({
  args <- commandArgs(FALSE)
  file <- sub("^--file=", "", grep("^--file=", args, value = TRUE))
  here <- if (length(file)) dirname(normalizePath(file[1])) else normalizePath("bench")
  assign("here", here, globalenv())
}, envir = globalenv())
argv <- commandArgs(TRUE)
voxels <- if (length(argv) >= 1) as.integer(argv[1]) else 5000L
regions <- if (length(argv) >= 2) as.integer(argv[2]) else 2L
out_dir <- Sys.getenv("HOTALIGN_BENCH_OUT", file.path(here, "out"))
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
libs <- c(old = Sys.getenv("HOTALIGN_OLD_LIB", ""), new = Sys.getenv("HOTALIGN_NEW_LIB", ""))
libs <- libs[nzchar(libs)]
if (!length(libs)) stop("set HOTALIGN_NEW_LIB (and HOTALIGN_OLD_LIB to compare)")

# one fit in a fresh R: prints estimate, peak RSS (kB), seconds, score
worker <- '
a <- commandArgs(TRUE)
.libPaths(c(a[1], .libPaths()))
suppressPackageStartupMessages(library(hotalign))
voxels <- as.integer(a[2]); regions <- as.integer(a[3]); rot <- a[4] == "rotation"
set.seed(7)
T <- 92L
Z <- matrix(stats::rnorm(T * 16), T, 16)
region <- function() Z %*% matrix(stats::rnorm(16 * voxels), 16) +
  matrix(stats::rnorm(T * voxels), T)
X <- stats::setNames(lapply(seq_len(regions), function(i) region()),
                     paste0("X", seq_len(regions)))
# a dense random rotation of the voxels: a product of 8 Householder
# reflections (O(T n) each, where a Haar rotation would take O(n^3))
rotate <- function(x) {
  for (k in 1:8) {
    v <- stats::rnorm(ncol(x))
    v <- v / sqrt(sum(v^2))
    x <- x - 2 * (x %*% v) %*% t(v)
  }
  x
}
Y <- lapply(X, function(x) rotate(x) + 0.5 * matrix(stats::rnorm(T * voxels), T))
names(Y) <- paste0("Y", seq_len(regions))
est <- getFromNamespace("hot_memory_bytes", "hotalign")(
  rep(voxels, regions), rep(voxels, regions), T, 2L, rot, 100L)
t0 <- proc.time()[["elapsed"]]
fit <- hot(X, Y, rotation = rot, seed = 1, n_perm = 100, threads = 2)
el <- proc.time()[["elapsed"]] - t0
hwm <- as.numeric(sub("[^0-9]*([0-9]+).*", "\\\\1",
                      grep("^VmHWM", readLines("/proc/self/status"), value = TRUE)))
kept <- as.numeric(utils::object.size(fit))
cat(sprintf("RESULT %.0f %.0f %.3f %.6f %.0f\\n", est, hwm, el, fit$score, kept))
'
wfile <- tempfile(fileext = ".R")
writeLines(worker, wfile)
rows <- list()
for (b in names(libs)) for (mode in c("plain", "rotation")) {
  out <- system2(file.path(R.home("bin"), "Rscript"),
                 c(wfile, libs[[b]], voxels, regions, mode), stdout = TRUE, stderr = TRUE)
  line <- grep("^RESULT", out, value = TRUE)
  if (!length(line)) {
    cat(out, sep = "\n")
    stop("the ", b, " ", mode, " fit failed")
  }
  v <- as.numeric(strsplit(line, " ")[[1]][-1])
  rows[[length(rows) + 1]] <- data.frame(
    build = b, fit = mode, estimate_MiB = round(v[1] / 2^20), peak_rss_MiB = round(v[2] / 1024),
    seconds = round(v[3], 2), score = signif(v[4], 6), fit_object_MiB = round(v[5] / 2^20, 1))
  cat(sprintf("%s %s: estimate %.0f MiB, peak RSS %.0f MiB, %.2f s, score %.6f\n", b, mode,
              v[1] / 2^20, v[2] / 1024, v[3], v[4]))
}
res <- do.call(rbind, rows)
md <- c(sprintf("# HOT+R memory: %d x %d regions of %d voxels, 92 stimuli, 2 threads, n_perm = 100",
                regions, regions, voxels), "",
        paste0(format(Sys.time(), tz = "UTC"), " UTC; builds: ",
               paste(sprintf("%s = %s", names(libs), libs), collapse = ", ")), "",
        "| build | fit | estimate MiB | peak RSS MiB | seconds | score | fit object MiB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        sprintf("| %s | %s | %s | %s | %s | %s | %s |", res$build, res$fit, res$estimate_MiB,
                res$peak_rss_MiB, res$seconds, res$score, res$fit_object_MiB))
writeLines(md, file.path(out_dir, "hotr_memory.md"))
cat(md, sep = "\n")
