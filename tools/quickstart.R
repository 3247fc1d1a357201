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

source(file.path(dirname(script_file()), "setup.R"))
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
