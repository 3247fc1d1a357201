/* The correlation-distance cost of one layer pair:
 *   K[i, j] = 1/2 || x~_i - y~_j ||^2 = 1 - <x~_i, y~_j>
 * for columns standardised to zero mean and unit norm.
 *
 * Two kernels compute it:
 *  - "blas": BLAS dgemm("T", "N"), best with an optimised BLAS;
 *  - "internal": a register- and cache-blocked kernel of this file, several
 *    times faster than the reference BLAS (R's default, a naive triple loop).
 * The caller passes the kernel (COST_BLAS or COST_INTERNAL), resolved from
 * the option hotalign.cost_kernel by cost_kernel_resolve() in threads.c:
 * auto takes dgemm when an optimised BLAS is loaded, the internal kernel
 * otherwise.
 *
 * Determinism of the internal kernel: every K[i, j] is
 *   s = 0; for t = 0 .. T - 1: s = s + x[t, i] * y[t, j]  (or s = fma(..., s));
 *   K[i, j] = 1 - s
 * in exactly this order, whatever the tile, edge or column block the pair
 * falls in: edge tiles are padded (zero source rows, repeated target
 * columns) and computed by the same micro-kernel, and the blocking over t
 * stores and reloads the running sum as a double.  So a column's result does
 * not depend on how the target columns are sliced nor on the threads.  The
 * micro-kernel (SSE2 plain C, or AVX2 + FMA where the processor has it) is
 * chosen once per process at load time; the two differ only by rounding.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <R.h>
#include <Rinternals.h>
#include "blas_lapack.h"
#include "hotalign.h"

/* ----------------------------------------------------------- micro-kernels
 * c (MR x NR, column-major, in/out) += A' B over kc steps of t, where
 * a = the packed source panel (a[t * MR + ii]) and b[jj] points at target
 * column jj (b[jj][t]).  Written as scalars so that gcc -O2 keeps the
 * accumulators in registers and pairs them into SIMD instructions. */
typedef void (*micro_fn)(int kc, const double *restrict a,
                         const double *const *b, double *restrict c);

#define MR_MAX 8
#define NR_MAX 4
#define KC 256 /* steps of t per block: the packed panel, 16 KiB, in L1 */
#define NC 64  /* target columns per block: 128 KiB of them in L2 */

#define LOAD4(j) \
  double c##j##0 = c[4 * j], c##j##1 = c[4 * j + 1], c##j##2 = c[4 * j + 2], \
         c##j##3 = c[4 * j + 3];
#define STORE4(j) \
  c[4 * j] = c##j##0; c[4 * j + 1] = c##j##1; c[4 * j + 2] = c##j##2; \
  c[4 * j + 3] = c##j##3;
#define STEP4(j) \
  c##j##0 += a0 * b##j; c##j##1 += a1 * b##j; c##j##2 += a2 * b##j; \
  c##j##3 += a3 * b##j;

/* 4 x 4, SSE2 (or whatever the compiler makes of plain C) */
static void micro_4x4(int kc, const double *restrict a, const double *const *b,
                      double *restrict c) {
  const double *restrict y0 = b[0], *restrict y1 = b[1], *restrict y2 = b[2],
                         *restrict y3 = b[3];
  LOAD4(0) LOAD4(1) LOAD4(2) LOAD4(3)
  for (int t = 0; t < kc; t++, a += 4) {
    const double a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    const double b0 = y0[t], b1 = y1[t], b2 = y2[t], b3 = y3[t];
    STEP4(0) STEP4(1) STEP4(2) STEP4(3)
  }
  STORE4(0) STORE4(1) STORE4(2) STORE4(3)
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(HOTALIGN_NO_AVX2)
#define HOT_HAVE_AVX2 1
#include <immintrin.h>
#define LOAD8(j) \
  double c##j##0 = c[8 * j], c##j##1 = c[8 * j + 1], c##j##2 = c[8 * j + 2], \
         c##j##3 = c[8 * j + 3], c##j##4 = c[8 * j + 4], \
         c##j##5 = c[8 * j + 5], c##j##6 = c[8 * j + 6], c##j##7 = c[8 * j + 7];
#define STORE8(j) \
  c[8 * j] = c##j##0; c[8 * j + 1] = c##j##1; c[8 * j + 2] = c##j##2; \
  c[8 * j + 3] = c##j##3; c[8 * j + 4] = c##j##4; c[8 * j + 5] = c##j##5; \
  c[8 * j + 6] = c##j##6; c[8 * j + 7] = c##j##7;
/* explicit fma(): the same rounding whatever -ffp-contract says */
#define FSTEP8(j) \
  c##j##0 = fma(a0, b##j, c##j##0); c##j##1 = fma(a1, b##j, c##j##1); \
  c##j##2 = fma(a2, b##j, c##j##2); c##j##3 = fma(a3, b##j, c##j##3); \
  c##j##4 = fma(a4, b##j, c##j##4); c##j##5 = fma(a5, b##j, c##j##5); \
  c##j##6 = fma(a6, b##j, c##j##6); c##j##7 = fma(a7, b##j, c##j##7);

/* 8 x 4, AVX2 + FMA: 8 accumulators of 4 doubles */
__attribute__((target("avx2,fma")))
static void micro_8x4_avx2(int kc, const double *restrict a,
                           const double *const *b, double *restrict c) {
  const double *restrict y0 = b[0], *restrict y1 = b[1], *restrict y2 = b[2],
                         *restrict y3 = b[3];
  LOAD8(0) LOAD8(1) LOAD8(2) LOAD8(3)
  for (int t = 0; t < kc; t++, a += 8) {
    const double a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4],
                 a5 = a[5], a6 = a[6], a7 = a[7];
    const double b0 = y0[t], b1 = y1[t], b2 = y2[t], b3 = y3[t];
    FSTEP8(0) FSTEP8(1) FSTEP8(2) FSTEP8(3)
  }
  STORE8(0) STORE8(1) STORE8(2) STORE8(3)
}
#endif

/* ------------------------------------------------- the micro-kernel in use
 * Chosen once by cost_kernel_init() at load time from the processor's
 * features; read everywhere. */
static micro_fn micro = micro_4x4;
static int micro_mr = 4, micro_nr = 4;

/* whether the processor has AVX2 (with or without FMA), for the other
 * kernels' vector paths (standardise.c, reconstruct.c), which give the bits
 * of their generic paths: set at load time, read only afterwards.  The
 * environment variable HOTALIGN_NO_VECTOR_PATHS (set before the package is
 * loaded) turns them off, so that the tests can compare the two. */
static int have_avx2 = 0;

int cpu_has_avx2(void) { return have_avx2; }

void cost_kernel_init(void) {
#ifdef HOT_HAVE_AVX2
  __builtin_cpu_init();
  {
    const char *off = getenv("HOTALIGN_NO_VECTOR_PATHS");
    have_avx2 = __builtin_cpu_supports("avx2") != 0 && (off == NULL || *off == '\0');
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    micro = micro_8x4_avx2;
    micro_mr = 8;
    micro_nr = 4;
  }
#endif
}

/* ----------------------------------------------------------------- drivers */

/* source columns i0 .. i0 + mr - 1, rows t0 .. t0 + kc - 1, into
 * ap[t * MR + ii]; the rows past mr (an edge panel) are zero */
static void pack_panel(const double *Xs, R_xlen_t T, int i0, int mr, int t0,
                       int kc, int MR, double *ap) {
  for (int ii = 0; ii < MR; ii++) {
    if (ii < mr) {
      const double *x = Xs + (R_xlen_t) (i0 + ii) * T + t0;
      for (int t = 0; t < kc; t++) ap[(size_t) t * MR + ii] = x[t];
    } else {
      for (int t = 0; t < kc; t++) ap[(size_t) t * MR + ii] = 0.0;
    }
  }
}

#ifdef HOT_HAVE_AVX2
/* pack_panel() for a full panel of 8 columns, MR = 8: the same copies,
 * four rows of four columns at a time through a 4 x 4 transpose (the
 * scalar copy was bound by one load and one strided store per value) */
__attribute__((target("avx2")))
static void pack_panel8_avx2(const double *Xs, R_xlen_t T, int i0, int t0, int kc,
                             double *ap) {
  const double *x[8];
  for (int ii = 0; ii < 8; ii++) x[ii] = Xs + (R_xlen_t) (i0 + ii) * T + t0;
  int t = 0;
  for (; t + 4 <= kc; t += 4) {
    for (int g = 0; g < 2; g++) {
      const __m256d q0 = _mm256_loadu_pd(x[4 * g] + t), q1 = _mm256_loadu_pd(x[4 * g + 1] + t);
      const __m256d q2 = _mm256_loadu_pd(x[4 * g + 2] + t), q3 = _mm256_loadu_pd(x[4 * g + 3] + t);
      const __m256d u0 = _mm256_unpacklo_pd(q0, q1), u1 = _mm256_unpackhi_pd(q0, q1);
      const __m256d u2 = _mm256_unpacklo_pd(q2, q3), u3 = _mm256_unpackhi_pd(q2, q3);
      double *a = ap + (size_t) t * 8 + 4 * g;
      _mm256_storeu_pd(a, _mm256_permute2f128_pd(u0, u2, 0x20));
      _mm256_storeu_pd(a + 8, _mm256_permute2f128_pd(u1, u3, 0x20));
      _mm256_storeu_pd(a + 16, _mm256_permute2f128_pd(u0, u2, 0x31));
      _mm256_storeu_pd(a + 24, _mm256_permute2f128_pd(u1, u3, 0x31));
    }
  }
  for (; t < kc; t++)
    for (int ii = 0; ii < 8; ii++) ap[(size_t) t * 8 + ii] = x[ii][t];
}
#endif

/* K = 1 - Xs' Ys by the micro-kernel: blocks of KC rows (the running sums
 * kept in K between them), of NC target columns, panels of MR source
 * columns (packed, in L1) by NR target columns. */
static void cost_internal(const double *Xs, const double *Ys, int T, int n,
                          int m, double *K) {
  const int MR = micro_mr, NR = micro_nr;
  const micro_fn kernel = micro;
  double ap[KC * MR_MAX], tile[MR_MAX * NR_MAX];
  const double *bp[NR_MAX];
  for (int t0 = 0; t0 < T; t0 += KC) {
    const int kc = T - t0 < KC ? T - t0 : KC;
    const int first = t0 == 0, last = t0 + kc == T;
    for (int j0 = 0; j0 < m; j0 += NC) {
      const int nc = m - j0 < NC ? m - j0 : NC;
      for (int i0 = 0; i0 < n; i0 += MR) {
        const int mr = n - i0 < MR ? n - i0 : MR;
#ifdef HOT_HAVE_AVX2
        if (MR == 8 && mr == 8) {
          pack_panel8_avx2(Xs, T, i0, t0, kc, ap);
        } else
#endif
          pack_panel(Xs, T, i0, mr, t0, kc, MR, ap);
        for (int j1 = j0; j1 < j0 + nc; j1 += NR) {
          const int nr = j0 + nc - j1 < NR ? j0 + nc - j1 : NR;
          /* an edge tile repeats its first column; the copies are dropped */
          for (int jj = 0; jj < NR; jj++)
            bp[jj] = Ys + (R_xlen_t) (j1 + (jj < nr ? jj : 0)) * T + t0;
          for (int e = 0; e < MR * NR; e++) tile[e] = 0.0;
          if (!first) {
            for (int jj = 0; jj < nr; jj++) {
              const double *k = K + (R_xlen_t) (j1 + jj) * n + i0;
              for (int ii = 0; ii < mr; ii++) tile[jj * MR + ii] = k[ii];
            }
          }
          kernel(kc, ap, bp, tile);
          for (int jj = 0; jj < nr; jj++) {
            double *k = K + (R_xlen_t) (j1 + jj) * n + i0;
            if (last) {
              for (int ii = 0; ii < mr; ii++) k[ii] = 1.0 - tile[jj * MR + ii];
            } else {
              for (int ii = 0; ii < mr; ii++) k[ii] = tile[jj * MR + ii];
            }
          }
        }
      }
    }
  }
}

static void cost_blas(const double *Xs, const double *Ys, int T, int n, int m,
                      double *K) {
  const double minus_one = -1.0, one = 1.0;
  F77_CALL(dgemm)("T", "N", &n, &m, &T, &minus_one, Xs, &T, Ys, &T, &one, K,
                  &n FCONE FCONE);
}

void correlation_cost(const double *Xs, const double *Ys, int T, int n, int m,
                      double *K, int kernel) {
  R_xlen_t nm = (R_xlen_t) n * m;
  if (nm == 0) return;
  if (T == 0) {
    for (R_xlen_t e = 0; e < nm; e++) K[e] = 1.0;
    return;
  }
  if (kernel == COST_INTERNAL) {
    cost_internal(Xs, Ys, T, n, m, K);
  } else {
    for (R_xlen_t e = 0; e < nm; e++) K[e] = 1.0;
    cost_blas(Xs, Ys, T, n, m, K);
  }
}

/* mode: the option hotalign.cost_kernel, 0 (auto), 1 (blas), 2 (internal) */
SEXP ffi_correlation_cost(SEXP Xs, SEXP Ys, SEXP mode) {
  if (!Rf_isReal(Xs) || !Rf_isMatrix(Xs) || !Rf_isReal(Ys) || !Rf_isMatrix(Ys) ||
      Rf_nrows(Xs) != Rf_nrows(Ys))
    Rf_error("correlation_cost: expected two double matrices with equal rows");
  const int kernel = cost_kernel_mode_arg(mode);
  int T = Rf_nrows(Xs), n = Rf_ncols(Xs), m = Rf_ncols(Ys);
  SEXP K = PROTECT(Rf_allocMatrix(REALSXP, n, m));
  correlation_cost(REAL(Xs), REAL(Ys), T, n, m, REAL(K), kernel);
  UNPROTECT(1);
  return K;
}
