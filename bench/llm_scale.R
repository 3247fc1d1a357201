# The LLM-scale problem: hot() on 24 x 28 layers, 896 / 3072 units, 1000
# stimuli (200 held out), time and peak memory.
#
#   Rscript bench/llm_scale.R [THREADS] [L_RUN]      default 2 24
#
# Source: 24 layers of 896 units (Qwen2.5-0.5B: 24 layers, hidden size 896);
# target: 28 layers of 3072 units (Llama-3.2-3B: 28 layers, hidden size 3072).
# Every one of the 672 pairs is a 896 x 3072 inner problem, the hardest mix of
# the two widths (alternating widths within each system would put a quarter
# of the pairs at 896 x 896 and a quarter at 3072 x 3072 instead).
#
# With L_RUN < 24 only the first L_RUN source layers are fitted (L_RUN x 28
# pairs, all of the same size) and the full time is extrapolated as
# time * 24 / L_RUN; the output says so. hot() runs once (n_perm = 0) in this
# process; its peak resident memory is read from /proc/self/status (VmHWM,
# reset through /proc/self/clear_refs just before the call), next to the
# resident memory of the inputs and the formula of ?hot (hot_memory_bytes).
# Output: bench/out/llm_<blas>_t<THREADS>_L<L_RUN>.json (and a line on stdout).
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))

args <- as.integer(commandArgs(TRUE))
threads <- if (length(args) >= 1) args[1] else 2L
L_run <- if (length(args) >= 2) args[2] else 24L
# HOT+R (issue 11): ROTATION = 1 fits hot(rotation = TRUE) on the first
# L_RUN source layers against the first M_RUN target layers only (L_RUN x
# M_RUN pairs; a descent per pair is minutes at this width) and extrapolates
# the 672-pair time as time * 672 / (L_RUN * M_RUN), labelled so:
#   Rscript bench/llm_scale.R THREADS L_RUN 1 M_RUN
rotation <- length(args) >= 3 && args[3] == 1L
L <- 24L; M <- 28L; wx <- 896L; wy <- 3072L; n_stimuli <- 1000L
M_run <- if (rotation && length(args) >= 4) args[4] else M
tag <- blas_label()
blas_threads <- Sys.getenv("OPENBLAS_NUM_THREADS")
if (tag == "openblas" && nzchar(blas_threads)) tag <- paste0(tag, "-bt", blas_threads)
run_name <- sprintf("llm_%s_t%d_L%d%s", tag, threads, L_run,
                    if (rotation) sprintf("_M%d_rotation", M_run) else "")
info <- write_machine(run_name)

status_kb <- function(field) {
  s <- grep(paste0("^", field, ":"), readLines("/proc/self/status"), value = TRUE)
  as.numeric(sub("^\\S+:\\s*(\\d+) kB", "\\1", s)) * 1024
}
basis <- latent_basis(n_stimuli, seed = 2024)
X <- latent_system(basis, rep(wx, L), "qwen")[seq_len(L_run)]
Y <- latent_system(basis, rep(wy, M), "llama")[seq_len(M_run)]
set.seed(11)
test <- sort(sample.int(n_stimuli, n_stimuli / 5))
invisible(gc(FALSE))
rss_inputs <- status_kb("VmRSS")
reset_ok <- tryCatch({
  writeLines("5", "/proc/self/clear_refs")
  TRUE
}, error = function(e) FALSE, warning = function(w) FALSE)
log_line(sprintf("hot(%s) on %d x %d layers (%d of %d source layers), %d / %d units, %d stimuli, %d threads, BLAS %s",
                 if (rotation) "rotation = TRUE" else "", L_run, M_run, L_run, L, wx, wy,
                 n_stimuli, threads, info$blas))
if (rotation) { # the plain fit of the same pairs first, for the ratio
  plain <- timed(hot(X, Y, test = test, n_perm = 0, threads = threads, progress = FALSE))
}
r <- timed(hot(X, Y, test = test, n_perm = 0, threads = threads, progress = FALSE,
               rotation = rotation))
peak <- status_kb("VmHWM")
formula_bytes <- hotalign:::hot_memory_bytes(rep(wx, L_run), rep(wy, M_run), n_stimuli,
                                             threads, rotation, 0L)
scale_up <- (L * M) / (L_run * M_run)
res <- list(
  blas = info$blas, blas_label = tag, openblas_threads = info$openblas_threads,
  threads = threads, L = L, M = M,
  L_run = L_run, pairs_run = L_run * M, pairs_full = L * M, wx = wx, wy = wy,
  n_stimuli = n_stimuli, wall = r$wall, cpu = r$cpu, busiest_thread_cpu = r$busiest_cpu,
  wall_full_extrapolated = r$wall * scale_up, extrapolated = scale_up > 1,
  rotation = rotation, M_run = M_run,
  plain_wall = if (rotation) plain$wall else NA_real_,
  iterations = if (rotation) r$value$rotation$iterations else NULL,
  converged = if (rotation) r$value$rotation$converged else NULL,
  objective = r$value$objective, score = r$value$score,
  rss_inputs_bytes = rss_inputs, peak_rss_bytes = peak, peak_reset = reset_ok,
  input_bytes = 8 * n_stimuli * (L_run * wx + M * wy),
  formula_bytes = formula_bytes, load = info$load)
writeLines(jsonlite::toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(out_dir, paste0(run_name, ".json")))
log_line(sprintf("wall %.1f s, cpu %.1f s%s; peak RSS %.2f GiB (inputs %.2f GiB, ?hot formula %.2f GiB)",
                 r$wall, r$cpu,
                 if (scale_up > 1) sprintf(" -> %.0f s extrapolated to %d x %d (x %.2f, EXTRAPOLATED)",
                                           r$wall * scale_up, L, M, scale_up) else "",
                 peak / 2^30, rss_inputs / 2^30, formula_bytes / 2^30))
if (rotation)
  log_line(sprintf("HOT+R: %d pairs, iterations %s (converged %d of %d), plain hot() on the same pairs %.1f s (ratio %.1f)",
                   L_run * M_run, paste(r$value$rotation$iterations, collapse = " "),
                   sum(r$value$rotation$converged), L_run * M_run, plain$wall,
                   r$wall / plain$wall))
