#!/bin/sh
# Reproduces the prototype's figures of bench/RESULTS.md (issue 11, branch
# transport18): dump the bench's costs, build the standalone prototype,
# run both starts on each cost.  Usage (from the package root):
#   LIB=<library with hotalign> sh bench/transport18/run.sh
set -e
out=${OUT:-/tmp/transport18}
mkdir -p "$out/m"
export LIB=${LIB:?set LIB} OUT="$out"
Rscript bench/transport18/dump_costs.R 896x3072 tuned16,bench,tuned64,lowrank16,tuned256
Rscript bench/transport18/dump_costs.R 500x2000,1500x2500 tuned16
gcc -O2 -o "$out/drv" bench/transport18/driver.c bench/transport18/ot_transport.c -lm
for f in "$out"/m/*[0-9].bin; do
  sz=$(basename "$f" .bin | sed 's/.*_//'); n=${sz%x*}; m=${sz#*x}
  "$out/drv" "$f" "$n" "$m" 3
  EPS0=0.2 EPSMIN=1e-3 EPSFAC=5 VERB=1 "$out/drv" "$f" "$n" "$m" 3
done
LIB="$LIB" DRV="$out/drv" Rscript bench/transport18/check_small.R
