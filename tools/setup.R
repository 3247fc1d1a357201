# Shared by tools/quickstart.R and tools/run_tests.R (sourced after they
# define `cran` and `script_file()`): finds the checkout, installs missing
# system and R dependencies, and installs hotalign from the checkout.

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
