# Install hotalign from this checkout and run it on the bundled example data.
#
#   Rscript tools/quickstart.R
#
# 1. installs what is missing: on Debian/Ubuntu (as root) the compilers and
#    libraries R builds packages with (apt-get install r-base-dev), and the R
#    packages hotalign needs (DESCRIPTION Imports/LinkingTo) from CRAN;
# 2. installs hotalign from this checkout (R CMD INSTALL) into the first library
#    you can write to (.libPaths(); set R_LIBS to choose another one);
# 3. runs HOT on `hot_example` (two simulated systems, see ?hot_example), prints
#    the summary and writes the layer-to-layer plan to hot_example_plan.png in
#    the current directory.

cran <- "https://cloud.r-project.org"

script_file <- function() {
  arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(arg) == 0L) stop("run this script with `Rscript tools/quickstart.R`")
  normalizePath(sub("^--file=", "", arg[[1L]]), mustWork = TRUE)
}

root <- normalizePath(file.path(dirname(script_file()), ".."), mustWork = TRUE)
desc_file <- file.path(root, "DESCRIPTION")
if (!file.exists(desc_file) ||
    !identical(unname(read.dcf(desc_file, "Package")[1L, 1L]), "hotalign")) {
  stop("cannot find the hotalign checkout above ", dirname(script_file()))
}

# ---- R package dependencies -------------------------------------------------

# Packages named in DESCRIPTION fields, with their minimum versions (or NA).
desc_deps <- function(fields) {
  desc <- read.dcf(desc_file)
  txt <- unlist(lapply(intersect(fields, colnames(desc)), function(f) {
    strsplit(gsub("\\s+", " ", desc[1L, f]), ",", fixed = TRUE)[[1L]]
  }))
  txt <- trimws(txt)
  txt <- txt[nzchar(txt)]
  pkg <- trimws(sub("\\(.*$", "", txt))
  ver <- ifelse(grepl(">=", txt, fixed = TRUE),
                trimws(sub("^.*>=\\s*([^)]*)\\).*$", "\\1", txt)), NA_character_)
  keep <- !(pkg %in% c("R", rownames(installed.packages(priority = "base"))))
  data.frame(package = pkg[keep], version = ver[keep], stringsAsFactors = FALSE)
}

# The first library we may write to (the user library is created if needed).
writable_library <- function() {
  for (lib in .libPaths()) if (file.access(lib, 2L) == 0L) return(lib)
  lib <- path.expand(strsplit(Sys.getenv("R_LIBS_USER"), .Platform$path.sep)[[1L]][1L])
  dir.create(lib, recursive = TRUE, showWarnings = FALSE)
  .libPaths(c(lib, .libPaths()))
  lib
}

install_missing <- function(deps) {
  ok <- vapply(seq_len(nrow(deps)), function(i) {
    pkg <- deps$package[i]
    if (!requireNamespace(pkg, quietly = TRUE)) return(FALSE)
    is.na(deps$version[i]) ||
      utils::packageVersion(pkg) >= package_version(deps$version[i])
  }, logical(1))
  need <- unique(deps$package[!ok])
  if (length(need) == 0L) return(invisible(character()))
  lib <- writable_library()
  message("Installing from CRAN into ", lib, ": ", paste(need, collapse = ", "))
  utils::install.packages(need, lib = lib, repos = cran, quiet = TRUE)
  still <- need[!vapply(need, requireNamespace, logical(1), quietly = TRUE)]
  if (length(still)) stop("could not install: ", paste(still, collapse = ", "))
  invisible(need)
}

# The C compiler, make, and the BLAS/LAPACK/Fortran libraries R links packages
# against. On Debian/Ubuntu they are the package r-base-dev, installed here if
# missing (as root); elsewhere we can only say what is missing.
ensure_build_tools <- function() {
  deb_ok <- TRUE
  if (nzchar(Sys.which("dpkg-query"))) {
    st <- suppressWarnings(system2("dpkg-query", c("-W", "-f='${Status}'", "r-base-dev"),
                                   stdout = TRUE, stderr = FALSE))
    deb_ok <- any(grepl("install ok installed", st, fixed = TRUE))
  }
  cc <- strsplit(trimws(suppressWarnings(system2(file.path(R.home("bin"), "R"),
                 c("CMD", "config", "CC"), stdout = TRUE))), "[[:space:]]+")[[1L]][1L]
  tools_ok <- nzchar(Sys.which(cc)) && nzchar(Sys.which("make"))
  if (deb_ok && tools_ok) return(invisible(TRUE))
  root <- identical(unname(Sys.info()[["effective_user"]]), "root")
  if (nzchar(Sys.which("apt-get")) && root) {
    message("Installing the compilers and libraries R packages are built with (apt-get install r-base-dev)")
    ok <- system("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends r-base-dev > /dev/null") == 0L
    if (ok) return(invisible(TRUE))
  }
  if (tools_ok) return(invisible(FALSE))  # not Debian's r-base-dev, but a compiler: try
  stop("a C compiler (", cc, ") and make are needed to install hotalign; on Debian/Ubuntu: ",
       "sudo apt-get install r-base-dev", call. = FALSE)
}

# ---- install this checkout -------------------------------------------------

# Copy the package sources (minus .Rbuildignore'd paths and build debris) to a
# scratch directory, so that compiling never leaves files in the checkout.
copy_sources <- function(root) {
  files <- list.files(root, recursive = TRUE, all.files = TRUE, no.. = TRUE)
  ignore <- c("^\\.git(/|$)", "\\.Rcheck(/|$)", "\\.tar\\.gz$",
              "^src/.*\\.(o|so|dll)$", "(^|/)\\.Rhistory$", "(^|/)\\.RData$")
  rbi <- file.path(root, ".Rbuildignore")
  if (file.exists(rbi)) {
    pat <- trimws(readLines(rbi, warn = FALSE))
    ignore <- c(ignore, pat[nzchar(pat) & !startsWith(pat, "#")])
  }
  drop <- Reduce(`|`, lapply(ignore, grepl, x = files, perl = TRUE, ignore.case = TRUE),
                 logical(length(files)))
  files <- files[!drop]
  dest <- file.path(tempfile("hotalign-src-"), "hotalign")
  for (d in unique(file.path(dest, dirname(files)))) dir.create(d, recursive = TRUE, showWarnings = FALSE)
  ok <- file.copy(file.path(root, files), file.path(dest, files), copy.date = TRUE)
  if (!all(ok)) stop("could not copy the sources to ", dest)
  dest
}

install_checkout <- function(root, lib) {
  src <- copy_sources(root)
  on.exit(unlink(dirname(src), recursive = TRUE), add = TRUE)
  env <- if (nzchar(Sys.getenv("MAKEFLAGS"))) character() else "MAKEFLAGS=-j2"
  out <- suppressWarnings(system2(
    file.path(R.home("bin"), "R"),
    c("CMD", "INSTALL", "--no-multiarch", paste0("--library=", shQuote(lib)), shQuote(src)),
    stdout = TRUE, stderr = TRUE, env = env))
  status <- attr(out, "status")
  if (!is.null(status) && status != 0L) {
    writeLines(utils::tail(out, 60L))
    stop("R CMD INSTALL failed (status ", status, ")", call. = FALSE)
  }
  invisible(out)
}

# ---- run --------------------------------------------------------------------

ensure_build_tools()
install_missing(desc_deps(c("Depends", "Imports", "LinkingTo")))

lib <- writable_library()
version <- unname(read.dcf(desc_file, "Version")[1L, 1L])
cat(sprintf("Installing hotalign %s from %s into %s ...\n", version, root, lib))
t0 <- proc.time()[["elapsed"]]
install_checkout(root, lib)
cat(sprintf("  done (%.0f s)\n\n", proc.time()[["elapsed"]] - t0))

suppressPackageStartupMessages(library(hotalign, lib.loc = lib))

hot_example <- hotalign::hot_example
cat(sprintf("hot_example: %d stimuli; X has %d layers (%s units), Y has %d layers (%s units)\n",
            nrow(hot_example$X[[1L]]),
            length(hot_example$X), paste(vapply(hot_example$X, ncol, 1L), collapse = "/"),
            length(hot_example$Y), paste(vapply(hot_example$Y, ncol, 1L), collapse = "/")))
cat("> fit <- hot(hot_example$X, hot_example$Y, seed = 1, threads = 2)\n")
t0 <- proc.time()[["elapsed"]]
fit <- hot(hot_example$X, hot_example$Y, seed = 1, threads = 2)
elapsed <- proc.time()[["elapsed"]] - t0
cat(sprintf("  (%.2f s)\n> summary(fit)\n\n", elapsed))
print(summary(fit))

# the simulated systems come with the layer coupling HOT should find
if (!is.null(hot_example$truth)) {
  truth <- hot_example$truth / nrow(hot_example$truth)
  gap <- max(abs(fit$plan - truth))
  cat(sprintf("\nGround truth (hot_example$truth / %d) %s: largest difference %.3g\n",
              nrow(hot_example$truth),
              if (gap < 1e-8) "recovered exactly" else "not recovered exactly", gap))
}

png_file <- file.path(getwd(), "hot_example_plan.png")
grDevices::png(png_file, width = 1400, height = 1200, res = 200)
plot(fit)
invisible(grDevices::dev.off())
cat("\nPlan heatmap (plot(fit)) written to ", png_file, "\n", sep = "")
