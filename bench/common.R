# Helpers shared by the benchmark scripts (sourced, never run alone).
#
# The package and the peers are loaded from a private library
# (HOTALIGN_BENCH_LIB, default /tmp/hb4/lib; see bench/README.md), never from
# the checkout. Outputs go to bench/out/ (git-ignored).

bench_dir <- local({
  args <- commandArgs(FALSE)
  file <- sub("^--file=", "", grep("^--file=", args, value = TRUE))
  if (length(file)) dirname(normalizePath(file[1])) else normalizePath("bench")
})
out_dir <- Sys.getenv("HOTALIGN_BENCH_OUT", file.path(bench_dir, "out"))
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
bench_lib <- Sys.getenv("HOTALIGN_BENCH_LIB", "/tmp/hb4/lib")
.libPaths(c(bench_lib, .libPaths()))
python <- Sys.getenv("HOTALIGN_BENCH_PYTHON", "/usr/bin/python3")
suppressPackageStartupMessages(library(hotalign))

has_pkg <- function(p) requireNamespace(p, quietly = TRUE)

# Repetitions: at least 3 (medians of 3 are what RESULTS.md reports).
bench_reps <- function() max(3L, as.integer(Sys.getenv("HOTALIGN_BENCH_REPS", "3")))

# CPU seconds (user + system) of each thread of this process, by thread id.
clk_tck <- suppressWarnings(as.numeric(system("getconf CLK_TCK", intern = TRUE)))
if (!length(clk_tck) || is.na(clk_tck)) clk_tck <- 100
task_cpu <- function() {
  tids <- list.files("/proc/self/task")
  vapply(tids, function(t) {
    s <- tryCatch(readLines(file.path("/proc/self/task", t, "stat"), warn = FALSE),
                  error = function(e) NA_character_)
    if (is.na(s)) return(NA_real_)
    f <- strsplit(sub("^.*\\) ", "", s), " ")[[1]]
    (as.numeric(f[12]) + as.numeric(f[13])) / clk_tck
  }, 0)
}

# Wall-clock and CPU seconds (user + system of this process, all threads),
# and the CPU seconds of its busiest thread: on a loaded machine
# cpu / busiest_cpu estimates what the threads would gain on idle cores.
timed <- function(expr) {
  gc(FALSE)
  before <- task_cpu()
  t0 <- proc.time()
  value <- force(expr)
  t1 <- proc.time() - t0
  after <- task_cpu()
  d <- after - ifelse(is.na(before[names(after)]), 0, before[names(after)])
  list(value = value, wall = unname(t1[["elapsed"]]),
       cpu = unname(t1[["user.self"]] + t1[["sys.self"]]),
       busiest_cpu = max(d, na.rm = TRUE))
}

# Units whose responses share a latent structure that drifts with depth:
# layer at depth d in [0, 1] has latent cos(pi d / 2) Z0 + sin(pi d / 2) Z1
# (Z0, Z1: n_stimuli x k standard normal), units are random mixtures of
# its k latent signals plus independent noise of sd `noise`.
latent_basis <- function(n_stimuli, k = 64, seed = 1) {
  set.seed(seed)
  list(Z0 = matrix(stats::rnorm(n_stimuli * k), n_stimuli, k),
       Z1 = matrix(stats::rnorm(n_stimuli * k), n_stimuli, k))
}
latent_layer <- function(basis, depth, units, noise = 2) {
  lat <- cos(pi * depth / 2) * basis$Z0 + sin(pi * depth / 2) * basis$Z1
  k <- ncol(lat)
  W <- matrix(stats::rnorm(k * units), k, units) / sqrt(k)
  lat %*% W + noise * matrix(stats::rnorm(nrow(lat) * units), nrow(lat), units)
}
# The dense cost of the solver benchmarks (ot_exact.R, sinkhorn_vs_exact.R):
# 1 - cor of two random layers of n and m units sharing a latent structure.
bench_cost <- function(n, m, n_stimuli = 1000L) {
  basis <- latent_basis(n_stimuli, seed = n + m)
  correlation_cost(latent_layer(basis, 0.3, n), latent_layer(basis, 0.4, m))
}

latent_system <- function(basis, widths, prefix) {
  L <- length(widths)
  depth <- if (L == 1) 0.5 else (seq_len(L) - 1) / (L - 1)
  layers <- lapply(seq_len(L), function(l) latent_layer(basis, depth[l], widths[l]))
  stats::setNames(layers, paste0(prefix, seq_len(L)))
}

# Column-major doubles, read by the Python drivers with numpy.fromfile.
write_doubles <- function(x, path) {
  con <- file(path, "wb")
  on.exit(close(con))
  writeBin(as.double(x), con)
  invisible(path)
}

# Runs a Python driver; its last stdout line is JSON, returned as a list.
run_python <- function(script, args) {
  out <- system2(python, c(shQuote(file.path(bench_dir, script)), args),
                 stdout = TRUE, stderr = "")
  status <- attr(out, "status")
  if (!is.null(status) && status != 0) stop(script, " failed with status ", status)
  jsonlite_parse(out[length(out)])
}

# Minimal JSON reader for the flat objects the drivers print (numbers,
# strings, null, arrays of numbers); avoids a dependency on jsonlite.
jsonlite_parse <- function(txt) {
  if (has_pkg("jsonlite")) return(jsonlite::fromJSON(txt))
  body <- sub("^\\s*\\{(.*)\\}\\s*$", "\\1", txt)
  parts <- regmatches(body, gregexpr('"[^"]+"\\s*:\\s*(\\[[^]]*\\]|"[^"]*"|[^,]+)', body))[[1]]
  res <- list()
  for (p in parts) {
    key <- sub('^"([^"]+)".*$', "\\1", p)
    val <- trimws(sub('^"[^"]+"\\s*:\\s*', "", p))
    res[[key]] <- if (grepl("^\\[", val)) {
      as.numeric(strsplit(gsub("[][ ]", "", val), ",")[[1]])
    } else if (grepl('^"', val)) gsub('"', "", val) else if (val == "null") NA else
      as.numeric(val)
  }
  res
}

rel_diff <- function(x, ref) abs(x - ref) / abs(ref)

machine_info <- function() {
  cpu <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)[1]
  si <- utils::sessionInfo()
  blas <- if (!is.null(si$BLAS)) si$BLAS else extSoftVersion()[["BLAS"]]
  list(nproc = as.integer(system("nproc", intern = TRUE)),
       cpu = trimws(sub("^model name\\s*:", "", cpu)),
       r = R.version.string, blas = blas, lapack = si$LAPACK,
       hotalign = as.character(utils::packageVersion("hotalign")),
       omp_thread_limit = Sys.getenv("OMP_THREAD_LIMIT", "(unset)"),
       openblas_threads = Sys.getenv("OPENBLAS_NUM_THREADS", "(unset)"),
       date = format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"),
       load = tryCatch(readLines("/proc/loadavg"), error = function(e) NA))
}

# Which BLAS R uses now (short label for file names and tables).
blas_label <- function() {
  b <- machine_info()$blas
  if (grepl("openblas", b, ignore.case = TRUE)) "openblas" else "refblas"
}

write_machine <- function(tag) {
  info <- machine_info()
  lines <- paste0(names(info), ": ", vapply(info, paste, "", collapse = " "))
  writeLines(lines, file.path(out_dir, paste0("machine_", tag, ".txt")))
  invisible(info)
}

md_table <- function(df, digits = 3) {
  num <- function(x) {
    if (is.na(x)) return("NA")
    if (x == round(x) && abs(x) < 1e9) return(format(x, big.mark = ""))
    if (x != 0 && abs(x) < 1e-3) return(formatC(x, digits = 1, format = "e"))
    formatC(x, digits = digits, format = "fg")
  }
  fmt <- vapply(df, function(col) {
    if (is.numeric(col)) vapply(col, num, "") else as.character(col)
  }, character(nrow(df)))
  fmt <- matrix(fmt, nrow = nrow(df))
  c(paste("|", paste(names(df), collapse = " | "), "|"),
    paste("|", paste(rep("---", ncol(df)), collapse = " | "), "|"),
    apply(fmt, 1, function(r) paste("|", paste(r, collapse = " | "), "|")))
}

log_line <- function(...) {
  cat(format(Sys.time(), "[%H:%M:%S] "), ..., "\n", sep = "")
  utils::flush.console()
}

# Writes two systems (lists of layers) and the held-out rows for
# bench/hot_pot_loop.py; returns the path of the JSON description.
write_systems <- function(X, Y, test, stem, dir = tempdir()) {
  xf <- file.path(dir, paste0(stem, "_X.bin"))
  yf <- file.path(dir, paste0(stem, "_Y.bin"))
  write_doubles(do.call(cbind, X), xf)
  write_doubles(do.call(cbind, Y), yf)
  meta <- list(n_stimuli = nrow(X[[1]]), x_file = xf, y_file = yf,
               widths_x = I(unname(vapply(X, ncol, 1L))),
               widths_y = I(unname(vapply(Y, ncol, 1L))), test = as.integer(test))
  path <- file.path(dir, paste0(stem, ".json"))
  writeLines(jsonlite::toJSON(meta, auto_unbox = TRUE, digits = NA), path)
  path
}

# HOT+R benchmarks (hotr_scale.R, hotr_engine.R): tuned units -- stimuli at
# latent points s (T x 2), unit i tuned to a centre c_i with width w (Gaussian
# bump), plus noise -- then a random rotation of the units (rand_orthogonal()
# of tests/testthat/helper-rotation.R), so no axis is privileged.
tuned_layer <- function(s, units, width, noise = 0.2) {
  C <- matrix(stats::runif(2 * units, -2, 2), units, 2)
  d2 <- outer(rowSums(s^2), rowSums(C^2), "+") - 2 * s %*% t(C)
  x <- exp(-d2 / (2 * width^2))
  x <- x + noise * matrix(stats::rnorm(length(x)), nrow(x))
  x %*% rand_orthogonal(units)
}
tuned_system <- function(s, widths, prefix, width_range = c(0.4, 1.2)) {
  w <- seq(width_range[1], width_range[2], length.out = length(widths))
  stats::setNames(lapply(seq_along(widths), function(l) tuned_layer(s, widths[l], w[l])),
                  paste0(prefix, seq_along(widths)))
}
