#!/usr/bin/env bash
# Memory and undefined-behaviour checks of hotalign's C code.  Run from the
# repository root, as root (Debian 12, R >= 4.2):   bash .ci/sanitizers.sh
#
#  1. asan+ubsan: installs the checkout into a private library with
#     AddressSanitizer + UndefinedBehaviorSanitizer (-O1 -g, private Makevars
#     through R_MAKEVARS_USER) and runs $ASAN_TESTS under it.  R itself is not
#     instrumented, so libasan is LD_PRELOADed into R.  Leak detection is off
#     (ASAN_OPTIONS=detect_leaks=0): R never frees its heap at exit, so LSan
#     would report thousands of R's own allocations (and ours that R owns
#     through the garbage collector); leaks of our code are valgrind's job
#     (step 2, "definitely lost").  Any "ERROR: AddressSanitizer" or
#     "runtime error:" (UBSan, -fno-sanitize-recover: the first one aborts), a
#     crash, or a failed test fails the script.
#  2. valgrind: installs the checkout, unsanitized, with -O0 -g into another
#     private library and runs $VALGRIND_TESTS under
#     R -d "valgrind --tool=memcheck --track-origins=yes --leak-check=full".
#     Every error block of the valgrind log (Invalid read/write/free,
#     uninitialised values, "definitely lost") whose stack -- or whose origin
#     stack -- has a frame in hotalign.so or in one of src/*.c fails the
#     script (checked by planting a heap overflow, an uninitialised read and a
#     leak in ffi_col_stats: both tools failed).  Blocks entirely in R,
#     BLAS/LAPACK, libgomp or ld.so are not ours: .ci/valgrind.supp suppresses
#     the known ones (none needed so far: R 4.2.2, OpenBLAS/ref BLAS and
#     libgomp of Debian 12 gave 0 such errors); any others are counted and
#     printed, not failed on.  Failed expectations under valgrind are printed,
#     not failed on (valgrind computes x87 long double in 64 bits, so R's
#     long-double sums differ in the last bits: test-kernels.R:34 fails by
#     1.7e-13 relative); a crash (no HOTALIGN-DONE line) fails.
#  3. prints one summary line per tool and the total runtime.
#
# Test subsets (tests/testthat, chosen so that every .Call entry point the R
# code uses runs: ffi_ot_exact, ffi_col_stats, ffi_standardise,
# ffi_correlation_cost, ffi_inner_plans, ffi_rotation_pairs,
# ffi_reconstruct_scores, ffi_threads_available, ffi_nonfinite,
# ffi_blas_threads, ffi_cost_kernel; test-pricing.R and test-cost_kernel.R
# cover the candidate pricing and the internal cost kernel in full):
#   asan+ubsan: test-ot_exact.R test-hot.R test-kernels.R test-rotation.R
#               test-inputs.R test-methods.R test-pricing.R test-cost_kernel.R
#               test-ot_sinkhorn.R (26 s under ASan; 335 s under memcheck, so
#               not there: 0 errors when tried) test-ot_partial.R
#               test-ot_assign.R test-hot_partial.R test-read_npy.R
#               test-rotation-polar.R (the eigendecomposition polar factor)
#               test-standardise_kernel.R (the AVX2 standardisation, 15 s)
#               test-symmetric-eigen.R (the own tridiagonal reduction)
#   valgrind:   test-kernels.R test-inputs.R test-hot.R (test-rotation.R, with
#               the sliced HOT+R tests, outgrew the 6-minute limit under
#               memcheck: it runs under ASan+UBSan, and test-hot.R has HOT+R fits)
#               (test-ot_exact.R takes ~15 s natively, far too long under
#               memcheck; the simplex is exercised through hot() here and in
#               full under ASan)
# Override with ASAN_TESTS="test-a.R test-b.R" / VALGRIND_TESTS=...; set
# HOTALIGN_SAN_KEEP=1 to keep the work directory (logs) for inspection.
# Runtime on 2 cores: 277 s measured (asan+ubsan 43 s, valgrind 219 s, builds 15 s).
set -euo pipefail

repo=$(pwd -P)
if [[ ! -f "$repo/DESCRIPTION" ]] || ! grep -q '^Package: hotalign$' "$repo/DESCRIPTION"; then
  echo "sanitizers: run this from the hotalign repository root" >&2
  exit 2
fi

ASAN_TESTS="${ASAN_TESTS:-test-ot_exact.R test-hot.R test-kernels.R test-rotation.R test-inputs.R test-methods.R test-pricing.R test-cost_kernel.R test-ot_sinkhorn.R test-ot_partial.R test-ot_assign.R test-hot_partial.R test-read_npy.R test-rotation-polar.R test-standardise_kernel.R test-symmetric-eigen.R}"
VALGRIND_TESTS="${VALGRIND_TESTS:-test-kernels.R test-inputs.R test-hot.R}"
limit="${HOTALIGN_SAN_TIMEOUT:-6m}"   # per tool's test run: a hang fails, not stalls

start=$SECONDS
step() { printf '\n== %s  [%ds]\n' "$*" $((SECONDS - start)); }

work=$(mktemp -d /tmp/hotalign-san.XXXXXX)
if [[ "${HOTALIGN_SAN_KEEP:-0}" == 1 ]]; then echo "sanitizers: work directory $work"; else trap 'rm -rf "$work"' EXIT; fi

export DEBIAN_FRONTEND=noninteractive
export MAKEFLAGS="${MAKEFLAGS:--j2}"
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-2}"   # as on CRAN; the parallel pair loop still runs
export NOT_CRAN=true
export R_LIBS_USER=/nonexistent                      # only the private libraries and the site ones

# ---- 0. tools --------------------------------------------------------------------
step "tools: gcc, valgrind, R packages testthat, cli, Matrix"
need=()
command -v gcc > /dev/null || need+=(r-base-dev)
command -v valgrind > /dev/null || need+=(valgrind)
for p in testthat cli Matrix; do
  Rscript -e "quit(status = !requireNamespace('$p', quietly = TRUE))" > /dev/null 2>&1 ||
    need+=("r-cran-$(tr 'A-Z' 'a-z' <<< "$p")")
done
if [[ ${#need[@]} -gt 0 ]]; then
  echo "apt-get install ${need[*]}"
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}"; } \
    > "$work/apt.log" 2>&1 < /dev/null || { tail -n 30 "$work/apt.log"; echo "sanitizers: apt-get failed" >&2; exit 1; }
fi
libasan=$(gcc -print-file-name=libasan.so)
if [[ ! -e "$libasan" ]]; then
  echo "sanitizers: gcc has no libasan.so ($libasan)" >&2
  exit 1
fi
supp="$repo/.ci/valgrind.supp"

# The checkout, copied: R CMD INSTALL on a directory compiles inside its src/.
mkdir -p "$work/pkg"
tar -C "$repo" --exclude=.git --exclude='src/*.o' --exclude='src/*.so' -cf - . | tar -C "$work/pkg" -xf -

# install <name> <CFLAGS> <LDFLAGS>: the checkout into $work/lib_<name>
install_pkg() {
  local name=$1
  mkdir -p "$work/lib_$name" "$work/build_$name"
  printf 'CFLAGS = %s\nLDFLAGS = %s\n' "$2" "$3" > "$work/Makevars_$name"
  rm -rf "$work/build_$name/pkg"
  cp -a "$work/pkg" "$work/build_$name/pkg"
  if ! R_MAKEVARS_USER="$work/Makevars_$name" R CMD INSTALL --no-docs --no-multiarch --no-test-load \
        --no-byte-compile -l "$work/lib_$name" "$work/build_$name/pkg" > "$work/install_$name.log" 2>&1; then
    tail -n 40 "$work/install_$name.log"
    echo "sanitizers: installing the $name build failed" >&2
    exit 1
  fi
  grep -E '^gcc .*-c ' "$work/install_$name.log" | head -n 1
}

# The test driver: all files of a tool in one R process (starting R and testthat
# under valgrind alone takes about a minute); prints one line per file and a
# last HOTALIGN-DONE line, so a crash (no such line) is told from failed tests;
# exits 1 if any expectation failed or errored.
cat > "$work/run_files.R" <<'EOF_R'
args <- commandArgs(TRUE)
lib <- args[1]; dir <- args[2]; files <- args[-(1:2)]
suppressPackageStartupMessages({
  library(testthat)
  library(hotalign, lib.loc = lib)
})
.libPaths(c(lib, .libPaths()))       # for tests that start child R processes
setwd(dir)
bad <- 0L
for (f in files) {
  t <- system.time(r <- as.data.frame(test_file(f, reporter = "check", package = "hotalign",
                                                load_package = "none", stop_on_failure = FALSE)))[["elapsed"]]
  nf <- sum(r$failed) + sum(r$error)
  bad <- bad + nf
  cat(sprintf("HOTALIGN-TESTFILE %s: %d expectations, %d failed, %d skipped, %.1fs\n",
              f, sum(r$nb), nf, sum(r$skipped), t))
}
cat(sprintf("HOTALIGN-DONE %d files, %d failed expectations\n", length(files), bad))
quit(save = "no", status = if (bad > 0L) 1L else 0L)
EOF_R

fails=()

# ---- 1. AddressSanitizer + UndefinedBehaviorSanitizer ---------------------------
step "asan+ubsan: install (-O1 -g -fsanitize=address,undefined)"
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
install_pkg asan "-g -O1 $san" "$san"
step "asan+ubsan: $ASAN_TESTS"
asan_start=$SECONDS
out="$work/asan.log"
set +e
# LD_PRELOAD: libasan must come first in the link order of the R process (R is
# not built with -fsanitize).  detect_leaks=0: see the header.  halt_on_error:
# the first report ends the run (exit status 86 / 87), and fails it.
LD_PRELOAD="$libasan" \
ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:exitcode=86:print_summary=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87" \
  timeout --kill-after=20s "$limit" Rscript --vanilla "$work/run_files.R" \
    "$work/lib_asan" "$work/pkg/tests/testthat" $ASAN_TESTS > "$out" 2>&1 < /dev/null
rc=$?
set -e
asan_reports=$(grep -cE 'ERROR: AddressSanitizer|runtime error:' "$out" || true)
grep '^HOTALIGN-TESTFILE' "$out" | sed 's/^HOTALIGN-TESTFILE /  /' || true
n_asan=$(grep -c '^HOTALIGN-TESTFILE' "$out" || true)
if [[ $asan_reports -gt 0 || $rc -ne 0 ]] || ! grep -q '^HOTALIGN-DONE' "$out"; then
  fails+=("asan+ubsan")
  [[ $rc -ne 124 && $rc -ne 137 ]] || echo "sanitizers: asan+ubsan tests timed out after $limit"
  if [[ $asan_reports -gt 0 ]]; then
    grep -B2 -A25 -E 'ERROR: AddressSanitizer|runtime error:' "$out" | head -n 100 || true
  else
    tail -n 60 "$out"
  fi
fi
asan_line="asan+ubsan: $n_asan test files, $asan_reports reports ($((SECONDS - asan_start))s, exit status $rc)"

# ---- 2. valgrind memcheck --------------------------------------------------------
step "valgrind: install (-O0 -g, no sanitizers)"
install_pkg vg "-g -O0" ""
step "valgrind: $VALGRIND_TESTS"
vg_start=$SECONDS
vg_opts="--tool=memcheck --track-origins=yes --leak-check=full --show-leak-kinds=definite"
vg_opts+=" --errors-for-leak-kinds=definite --num-callers=30"
[[ -f "$supp" ]] && vg_opts+=" --suppressions=$supp"
out="$work/vg.out"
set +e
timeout --kill-after=20s "$limit" R --vanilla --no-echo \
    -d "valgrind $vg_opts --log-file=$work/vg.%p.log" \
    -f "$work/run_files.R" --args "$work/lib_vg" "$work/pkg/tests/testthat" $VALGRIND_TESTS \
    > "$out" 2>&1 < /dev/null
rc=$?
set -e
# error blocks of the log(s) (processes started by R get logs of their own):
# split at the blank "==PID== " lines, keep the kinds we fail on, and call a
# block ours when a frame of it, its origin stack included, is in hotalign.so
# or in one of our src/*.c files ("by 0x...: ffi_col_stats (standardise.c:74)")
srcs=$(cd "$work/pkg/src" && ls *.c *.h 2> /dev/null | tr '\n' ' ')
counts=$(awk -v other_file="$work/vg.other" -v srcs="$srcs" '
  function is_ours(b,   k, f) {
    if (index(b, "hotalign.so")) return 1
    for (k = 1; k <= nf; k++) if (index(b, "(" f_[k] ":")) return 1
    return 0
  }
  BEGIN { nf = split(srcs, f_, " ") }
  function flush() {
    if (blk ~ /Invalid (read|write|free)|uninitialised|Mismatched free|definitely lost in|overlap/) {
      if (is_ours(blk)) { ours++; printf "%s\n", blk > "/dev/stderr" }
      else { other++; printf "%s\n", blk > other_file }
    }
    blk = ""
  }
  /^==[0-9]+== *$/ { flush(); next }
  { blk = blk $0 "\n" }
  END { flush(); printf "%d %d\n", ours + 0, other + 0 }
' "$work"/vg.*.log 2> "$work/vg.ours")
read -r vg_ours vg_other <<< "$counts"
if [[ $vg_other -gt 0 ]]; then
  echo "  valgrind errors outside hotalign (R, BLAS, libgomp; not failed on; the first one):"
  awk 'BEGIN { RS = "" } NR == 1' "$work/vg.other" | head -n 40
fi
grep '^HOTALIGN-TESTFILE' "$out" | sed 's/^HOTALIGN-TESTFILE /  /' || true
n_vg=$(grep -c '^HOTALIGN-TESTFILE' "$out" || true)
vg_failed=$(sed -n 's/^HOTALIGN-DONE [0-9]* files, \([0-9]*\) failed.*/\1/p' "$out")
if [[ $vg_ours -gt 0 ]] || ! grep -q '^HOTALIGN-DONE' "$out"; then
  fails+=("valgrind")
  [[ $rc -ne 124 && $rc -ne 137 ]] || echo "sanitizers: valgrind tests timed out after $limit"
  if [[ $vg_ours -gt 0 ]]; then grep -v -E 'by 0x[0-9A-F]+: (\?\?\?|Rf_|R_|do_).*libR\.so' "$work/vg.ours" | head -n 150; else tail -n 60 "$out"; fi
fi
if [[ -n "$vg_failed" && "$vg_failed" != 0 ]]; then
  # not failed on: valgrind emulates x87 long double in 64 bits, so R's own
  # long-double sums (mean, sum, cor) differ in the last bits; a real memory
  # error shows up as a valgrind error above
  echo "  (test failures under valgrind, not failed on -- valgrind's 64-bit long double:)"
  grep -A8 -E '^── (Failure|Error)' "$out" | head -n 40 || true
fi
vg_line="valgrind: $n_vg test files, $vg_ours errors in hotalign, $vg_other elsewhere (not ours), ${vg_failed:-?} failed expectations ($((SECONDS - vg_start))s, exit status $rc)"

# ---- 3. summary -------------------------------------------------------------------
printf '\n== done in %ds\n' $((SECONDS - start))
echo "$asan_line"
echo "$vg_line"
if [[ ${#fails[@]} -gt 0 ]]; then
  echo "sanitizers: FAILED: ${fails[*]}"
  exit 1
fi
echo "sanitizers: OK"
