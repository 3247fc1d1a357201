#!/usr/bin/env bash
# Where ot_exact()'s time goes: perf profile of the network simplex (pricing =
# find_entering; pivot / tree update = ot_run, into which pivot() is inlined;
# recompute_from_tree), and the pivot counts of hotalign and POT on the same
# cost (POT's by bisection on numItermax, bench/pot_emd.py --pivots).
#
#   bash bench/profile_solver.sh [SIZES]      default "1000x1000 2000x2000 896x3072"
#
# Needs perf (Debian linux-perf). Output: bench/out/profile_<size>.txt
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
out=${HOTALIGN_BENCH_OUT:-$here/out}
mkdir -p "$out"
sizes=${1:-"1000x1000 2000x2000 896x3072"}
tmp=$(mktemp -d /tmp/hotalign-prof.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for s in $sizes; do
  n=${s%x*}; m=${s#*x}
  f="$out/profile_${s}.txt"
  {
    echo "# ot_exact() profile, $n x $m, $(date -u +%FT%TZ), load: $(cat /proc/loadavg)"
    perf record -q -F 1999 -o "$tmp/perf.data" -- \
      Rscript "$here/profile_solver.R" "$n" "$m" 3 "$tmp/cost.bin" 2>&1
    echo
    echo "## samples in hotalign.so by function (share of the solver's own samples)"
    perf report -i "$tmp/perf.data" --no-children --dsos hotalign.so --sort sym \
      --percentage relative 2>/dev/null | grep -E '^\s+[0-9]' || true
    echo
    echo "## samples by shared object (whole process)"
    perf report -i "$tmp/perf.data" --no-children --sort dso 2>/dev/null |
      grep -E '^\s+[0-9]' | head -8 || true
    echo
    echo "## POT ot.emd on the same cost (pivots by bisection on numItermax)"
    /usr/bin/python3 "$here/pot_emd.py" "$tmp/cost.bin" "$n" "$m" --reps 3 --pivots
  } > "$f" 2>&1
  cat "$f"
done
