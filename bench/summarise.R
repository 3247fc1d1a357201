# Gathers bench/out/ into one markdown file, bench/out/SUMMARY.md, from which
# the tables of bench/RESULTS.md are copied.
#
#   Rscript bench/summarise.R [DIR]          DIR defaults to bench/out
out_dir <- commandArgs(TRUE)[1]
if (is.na(out_dir)) out_dir <- Sys.getenv("HOTALIGN_BENCH_OUT", local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  file.path(if (length(f)) dirname(normalizePath(f[1])) else "bench", "out")
}))
lines <- c("# Benchmark outputs", "")
for (f in sort(list.files(out_dir, "^(ot_exact|hot_vs_pot|real_data)_.*\\.md$",
                          full.names = TRUE))) {
  lines <- c(lines, paste("##", basename(f)), "", readLines(f), "")
}
llm <- sort(list.files(out_dir, "^llm_.*\\.json$", full.names = TRUE))
if (length(llm)) {
  rows <- lapply(llm, function(f) {
    j <- jsonlite::fromJSON(f)
    data.frame(file = basename(f), blas = j$blas_label, threads = j$threads,
               pairs = sprintf("%d of %d", j$pairs_run, j$pairs_full),
               wall_s = round(j$wall, 1), cpu_s = round(j$cpu, 1),
               busiest_thread_cpu_s = round(if (is.null(j$busiest_thread_cpu)) NA else
                 j$busiest_thread_cpu, 1),
               full_wall_extrapolated_s = round(j$wall_full_extrapolated),
               full_busiest_cpu_extrapolated_s = round(if (is.null(j$busiest_thread_cpu)) NA else
                 j$busiest_thread_cpu * j$pairs_full / j$pairs_run),
               peak_rss_GiB = round(j$peak_rss_bytes / 2^30, 2),
               inputs_rss_GiB = round(j$rss_inputs_bytes / 2^30, 2),
               formula_GiB = round(j$formula_bytes / 2^30, 2))
  })
  df <- do.call(rbind, rows)
  lines <- c(lines, "## LLM scale (24 x 28 layers, 896 / 3072 units, 1000 stimuli)", "",
             paste("|", paste(names(df), collapse = " | "), "|"),
             paste("|", paste(rep("---", ncol(df)), collapse = " | "), "|"),
             apply(df, 1, function(r) paste("|", paste(r, collapse = " | "), "|")), "")
}
for (f in sort(list.files(out_dir, "^profile_.*\\.txt$", full.names = TRUE))) {
  lines <- c(lines, paste("##", basename(f)), "", "```", readLines(f), "```", "")
}
writeLines(lines, file.path(out_dir, "SUMMARY.md"))
cat(lines, sep = "\n")
