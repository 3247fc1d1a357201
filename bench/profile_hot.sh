#!/usr/bin/env bash
# Where hot()'s time goes at LLM scale: perf profile of bench/llm_scale.R on
# L_RUN source layers x 28 target layers (896 x 3072 pairs), 1 thread,
# OpenBLAS (one BLAS thread) unless HOTALIGN_PROFILE_BLAS=ref.
#
#   bash bench/profile_hot.sh [L_RUN]          default 1 (28 pairs)
#
# Output: bench/out/profile_hot_<blas>.txt (shares by shared object and by
# symbol: find_entering = pricing, ot_run = pivots, dgemm kernels = costs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
out=${HOTALIGN_BENCH_OUT:-$here/out}
mkdir -p "$out"
L=${1:-1}
tmp=$(mktemp -d /tmp/hotalign-prof.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [[ "${HOTALIGN_PROFILE_BLAS:-openblas}" == ref ]]; then
  run=(); tag=refblas
else
  run=(bash "$here/with_openblas.sh"); tag=openblas
  export OPENBLAS_NUM_THREADS=1
fi
f="$out/profile_hot_${tag}.txt"
{
  echo "# hot() profile, $L x 28 layers of 896 / 3072 units, 1 thread, $tag, $(date -u +%FT%TZ), load: $(cat /proc/loadavg)"
  HOTALIGN_BENCH_OUT="$tmp" perf record -q -F 499 -o "$tmp/perf.data" -- \
    "${run[@]}" Rscript "$here/llm_scale.R" 1 "$L" 2>&1
  echo
  echo "## samples by shared object (whole process, data generation included)"
  perf report -i "$tmp/perf.data" --no-children --sort dso 2>/dev/null |
    grep -E '^\s+[0-9]' | head -8 || true
  echo
  echo "## top symbols"
  perf report -i "$tmp/perf.data" --no-children --sort dso,sym 2>/dev/null |
    grep -E '^\s+[0-9]' | head -15 || true
} > "$f" 2>&1
cat "$f"
