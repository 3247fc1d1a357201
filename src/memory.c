/* Memory: advice for the large blocks that hotalign writes once and reads
 * often (standardised layers, per-thread cost matrices), and the working
 * memory of a fit as R checks it before anything is allocated. */
#include <math.h>
#include <stdint.h>
#include <stddef.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <R.h>
#include <Rinternals.h>
#include "hotalign.h"

/* Asks the kernel to back the whole 2 MiB pages of a fresh block with huge
 * pages (Linux with transparent huge pages in "madvise" mode): faulting a
 * standardised layer in 4 KiB pages cost more than the arithmetic that
 * writes it (10 layers of 1000 x 3072: 0.68 -> 0.12 s).  Advice only;
 * nothing changes where it is not honoured. */
void advise_huge_pages(void *ptr, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t) 1 << 21;
  uintptr_t lo = ((uintptr_t) ptr + huge - 1) & ~(huge - 1);
  uintptr_t hi = ((uintptr_t) ptr + bytes) & ~(huge - 1);
  if (hi > lo) (void) madvise((void *) lo, hi - lo, MADV_HUGEPAGE);
#else
  (void) ptr;
  (void) bytes;
#endif
}

/* ------------------------------------------------------------------------
 * Working memory of one split of hot(), in bytes, from the sizes of the C
 * workspaces themselves (R never retypes them):
 *  - the standardised training and held-out rows of every layer;
 *  - per thread of the pair loop (no more threads than pairs) the scratch of
 *    pair_scratch_bytes() for the largest pair;
 *  - the sparse inner plans, at most n_l + n'_m - 1 entries per pair, held
 *    twice (the loop's storage and the compacted result);
 *  - per scoring thread (no more than the L (L + 2) reconstructions) the
 *    scratch of score_scratch_doubles() for the widest source layer;
 *  - with rotation, the rotations held for scoring and returned, in the
 *    form the fit keeps (rotation_keeps_dense(): n_l^2 doubles, or compact,
 *    at most 2 n_l T + 3 T doubles): with n_perm > 0 possibly every pair's,
 *    otherwise those of at most 2 L + M - 1 pairs; each pair's recorded
 *    plan (as many triplets as its inner plan); the shared basis of every
 *    source wider than T (n_l T + T doubles); and, only where a source
 *    wider than T keeps dense rotations, per thread a second descent
 *    workspace with room for its dense R, for recomputing the rotations
 *    from the recorded plans (hot_split.c, pair_rotations, which otherwise
 *    reuses the pair loop's workspaces and cost buffers).
 *    Every workspace is O(n_l min(n_l, T)) (rotation_scratch_doubles).
 * widths_x, widths_y: the layers' unit counts; n_stimuli: all rows. */
SEXP ffi_hot_memory(SEXP widths_x, SEXP widths_y, SEXP n_stimuli, SEXP threads,
                    SEXP rotation, SEXP n_perm) {
  if (!Rf_isInteger(widths_x) || !Rf_isInteger(widths_y) || XLENGTH(widths_x) < 1 ||
      XLENGTH(widths_y) < 1)
    Rf_error("`widths_x` and `widths_y` must be non-empty integer vectors");
  const int L = Rf_length(widths_x), M = Rf_length(widths_y);
  const int *nx = INTEGER(widths_x), *ny = INTEGER(widths_y);
  for (int l = 0; l < L; l++)
    if (nx[l] == NA_INTEGER || nx[l] < 1) Rf_error("`widths_x` must be >= 1");
  for (int m = 0; m < M; m++)
    if (ny[m] == NA_INTEGER || ny[m] < 1) Rf_error("`widths_y` must be >= 1");
  const double T = Rf_asReal(n_stimuli);
  const int rot = Rf_asLogical(rotation) == 1, perms = Rf_asInteger(n_perm) > 0;
  int max_n = 0, max_m = 0, max_lwork = 0, dense_n = 0;
  double sum_x = 0, sum_y = 0;
  for (int l = 0; l < L; l++) {
    if (nx[l] > max_n) max_n = nx[l];
    sum_x += nx[l];
  }
  for (int m = 0; m < M; m++) {
    if (ny[m] > max_m) max_m = ny[m];
    sum_y += ny[m];
  }
  const int Ti = T >= 2147483647.0 ? 2147483647 : (int) T;
  if (rot)
    for (int l = 0; l < L; l++) {
      const int lw = rotation_lwork(nx[l], Ti);
      if (lw < 0)
        Rf_error("the LAPACK workspace query failed for %d source units", nx[l]);
      if (lw > max_lwork) max_lwork = lw;
      if (nx[l] > Ti && rotation_keeps_dense(nx[l], Ti) && nx[l] > dense_n)
        dense_n = nx[l];
    }
  const double pairs = (double) L * M;
  const int nth = hot_threads_for(Rf_asInteger(threads), pairs);
  const int nth_score = hot_threads_for(Rf_asInteger(threads), (double) L * (L + 2));
  double bytes = sizeof(double) * T * (sum_x + sum_y);
  bytes += (double) nth * (double) pair_scratch_bytes(
      max_n, max_m, (R_xlen_t) max_n * max_m, Ti, rot, max_lwork);
  bytes += 2.0 * (2 * sizeof(int) + sizeof(double)) *
           ((double) M * sum_x + (double) L * sum_y - pairs);
  bytes += (double) nth_score * sizeof(double) *
           (double) score_scratch_doubles((int) T, max_n, rot,
                                          max_n > Ti ? Ti : max_n - 1);
  if (rot) {
    double held_sum = 0, held_max = 0, bases = 0;
    for (int l = 0; l < L; l++) {
      const double nn = (double) nx[l] * nx[l];
      const double c = rotation_keeps_dense(nx[l], Ti) ? nn : 2.0 * nx[l] * T + 3.0 * T;
      held_sum += c;
      if (c > held_max) held_max = c;
      if (nx[l] > T) bases += (double) nx[l] * T + T;
    }
    double held = perms ? (double) M * held_sum : fmin(pairs, 2.0 * L + M - 1) * held_max;
    bytes += sizeof(double) * (held + bases);
    bytes += (2 * sizeof(int) + sizeof(double)) *
             ((double) M * sum_x + (double) L * sum_y - pairs);
    /* the recomputation reuses the pair loop's cost buffers, and its
     * descent workspaces unless a dense R wider than T needs room */
    if (dense_n > 0)
      bytes += (double) nth * (sizeof(double) * (double) rotation_scratch_doubles(
                                                    max_n, max_m, Ti, max_lwork, dense_n) +
                               sizeof(int) * (double) rotation_scratch_ints(max_n, max_m));
  }
  return Rf_ScalarReal(bytes);
}

/* Bytes of the exact OT solver's workspace for an n x m problem. */
SEXP ffi_ot_workspace(SEXP n, SEXP m) {
  const int a = Rf_asInteger(n), b = Rf_asInteger(m);
  if (a == NA_INTEGER || b == NA_INTEGER || a < 1 || b < 1)
    Rf_error("`n` and `m` must be whole numbers >= 1");
  return Rf_ScalarReal((double) ot_workspace_bytes(a, b));
}
