#!/usr/bin/env bash
# Runs one command with Debian's OpenBLAS (libopenblas0-pthread) as the BLAS
# of R and of numpy, for this process tree only:
#
#   bash bench/with_openblas.sh Rscript bench/llm_scale.R 2
#
# R's start-up script puts /usr/lib/x86_64-linux-gnu (whose libblas.so.3 is
# the system alternative) first on LD_LIBRARY_PATH unless R_LD_LIBRARY_PATH
# is set, so both are set here. Nothing system-wide changes: other users of
# the machine keep the reference BLAS. (The system-wide way is
#   update-alternatives --set libblas.so.3-x86_64-linux-gnu \
#     /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
# and back with .../blas/libblas.so.3; NB installing libopenblas0-pthread
# switches the alternatives in auto mode to OpenBLAS for everyone, so set them
# back to the reference BLAS right after installing it.)
set -euo pipefail
ob=/usr/lib/x86_64-linux-gnu/openblas-pthread
if [[ ! -e $ob/libblas.so.3 ]]; then
  echo "with_openblas: $ob/libblas.so.3 missing (apt-get install libopenblas0-pthread)" >&2
  exit 1
fi
export R_LD_LIBRARY_PATH="$ob:/usr/lib/R/lib:/usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="$ob${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$@"
