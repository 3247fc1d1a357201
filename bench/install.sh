#!/usr/bin/env bash
# Installs what the benchmarks load into a private library (never into the
# checkout, never system-wide):
#   - hotalign itself, from a copy of the checkout, compiled with R's
#     optimisation flags;
#   - the R peers from CRAN: transport (needs RcppEigen >= 0.3.4, newer than
#     Debian 12's), T4transport, approxOT; clue comes from Debian (r-cran-clue).
# Python side: Debian's python3-pot (POT) and python3-scipy, for /usr/bin/python3.
#
#   bash bench/install.sh            library: $HOTALIGN_BENCH_LIB (default /tmp/hb4/lib)
#
# NB: roxygenise() compiles src/ through pkgload with -O0 (debug flags) in the
# copy; without --preclean, R CMD INSTALL would then reuse those unoptimised
# objects ("make: Nothing to be done") and every timing would be of a -O0
# build. --preclean rebuilds them with R's flags (-O2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
root=$(dirname "$here")
lib=${HOTALIGN_BENCH_LIB:-/tmp/hb4/lib}
copy=$(dirname "$lib")/pkg
mkdir -p "$lib"
rsync -a --delete --exclude .git --exclude bench/out "$root/" "$copy/"
(cd "$copy" && Rscript -e 'roxygen2::roxygenise(".")' >/dev/null &&
  R CMD INSTALL --preclean -l "$lib" . )
LIB="$lib" Rscript -e '
  lib <- Sys.getenv("LIB"); .libPaths(c(lib, .libPaths()))
  want <- c("transport", "T4transport", "approxOT")
  need <- want[!vapply(want, requireNamespace, NA, quietly = TRUE)]
  if ("transport" %in% need && (!requireNamespace("RcppEigen", quietly = TRUE) ||
      packageVersion("RcppEigen") < "0.3.4")) need <- c("RcppEigen", need)
  if (length(need)) install.packages(need, lib = lib, repos = "https://cloud.r-project.org")
  for (p in c(want, "clue")) cat(p, if (requireNamespace(p, quietly = TRUE))
    as.character(packageVersion(p)) else "MISSING", "\n")'
/usr/bin/python3 -c 'import ot, scipy; print("POT", ot.__version__, "scipy", scipy.__version__)'
