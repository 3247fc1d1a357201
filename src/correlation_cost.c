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
 * c (MR x NR, column j at c + j ldc, in/out) = s + A' B over kc steps of t,
 * the sums starting from s = c (zero = 0) or s = 0 (zero = 1), stored as
 * they are or (omx = 1) as 1 - sum; a = the packed source panel
 * (a[t * MR + ii]) and b = the packed target tile (b[t * NR + jj]): both
 * read contiguously.  The driver hands full tiles their place in the
 * result (ldc = its leading dimension) and edge tiles a local copy: the
 * same operations either way. */
typedef void (*micro_fn)(int kc, const double *restrict a,
                         const double *restrict b, double *restrict c,
                         R_xlen_t ldc, int zero, int omx);

#define MR_MAX 8
#define NR_MAX 6
#define KC 320 /* at most this many steps of t per block (the blocks are
                  balanced): the packed source panel, 20 KiB, in L1 */
#define NC 96  /* target columns per block (a multiple of 4 and 6), packed:
                  240 KiB, in L2 */

#define LOAD4(j) \
  double c##j##0 = zero ? 0.0 : c[j * ldc], c##j##1 = zero ? 0.0 : c[j * ldc + 1], \
         c##j##2 = zero ? 0.0 : c[j * ldc + 2], c##j##3 = zero ? 0.0 : c[j * ldc + 3];
#define STORE4(j) \
  if (omx) { \
    c[j * ldc] = 1.0 - c##j##0; c[j * ldc + 1] = 1.0 - c##j##1; \
    c[j * ldc + 2] = 1.0 - c##j##2; c[j * ldc + 3] = 1.0 - c##j##3; \
  } else { \
    c[j * ldc] = c##j##0; c[j * ldc + 1] = c##j##1; c[j * ldc + 2] = c##j##2; \
    c[j * ldc + 3] = c##j##3; \
  }
#define STEP4(j) \
  c##j##0 += a0 * b##j; c##j##1 += a1 * b##j; c##j##2 += a2 * b##j; \
  c##j##3 += a3 * b##j;

/* 4 x 4, SSE2 (or whatever the compiler makes of plain C).  Written as
 * scalars so that gcc -O2 keeps the accumulators in registers and pairs
 * them into SIMD instructions. */
static void micro_4x4(int kc, const double *restrict a, const double *restrict b,
                      double *restrict c, R_xlen_t ldc, int zero, int omx) {
  LOAD4(0) LOAD4(1) LOAD4(2) LOAD4(3)
  for (int t = 0; t < kc; t++, a += 4, b += 4) {
    const double a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    const double b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
    STEP4(0) STEP4(1) STEP4(2) STEP4(3)
  }
  STORE4(0) STORE4(1) STORE4(2) STORE4(3)
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(HOTALIGN_NO_AVX2)
#define HOT_HAVE_AVX2 1
#include <immintrin.h>
/* 8 x 6, AVX2 + FMA: 12 accumulators of 4 doubles.  _mm256_fmadd_pd
 * rounds once, as fma() does, whatever -ffp-contract says. */
#define ACC6(j) \
  __m256d c##j##a = zero ? _mm256_setzero_pd() : _mm256_loadu_pd(c + j * ldc), \
          c##j##b = zero ? _mm256_setzero_pd() : _mm256_loadu_pd(c + j * ldc + 4);
#define FMA6(j) { \
  const __m256d bj = _mm256_broadcast_sd(b + j); \
  c##j##a = _mm256_fmadd_pd(a0, bj, c##j##a); c##j##b = _mm256_fmadd_pd(a1, bj, c##j##b); }
#define STORE6(j) \
  _mm256_storeu_pd(c + j * ldc, omx ? _mm256_sub_pd(one, c##j##a) : c##j##a); \
  _mm256_storeu_pd(c + j * ldc + 4, omx ? _mm256_sub_pd(one, c##j##b) : c##j##b);
__attribute__((target("avx2,fma")))
static void micro_8x6_avx2(int kc, const double *restrict a, const double *restrict b,
                           double *restrict c, R_xlen_t ldc, int zero, int omx) {
  const __m256d one = _mm256_set1_pd(1.0);
  ACC6(0) ACC6(1) ACC6(2) ACC6(3) ACC6(4) ACC6(5)
  for (int t = 0; t < kc; t++, a += 8, b += 6) {
    const __m256d a0 = _mm256_loadu_pd(a), a1 = _mm256_loadu_pd(a + 4);
    FMA6(0) FMA6(1) FMA6(2) FMA6(3) FMA6(4) FMA6(5)
  }
  STORE6(0) STORE6(1) STORE6(2) STORE6(3) STORE6(4) STORE6(5)
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
    micro = micro_8x6_avx2;
    micro_mr = 8;
    micro_nr = 6;
  }
#endif
}

/* ----------------------------------------------------------------- drivers */

/* source columns i0 .. i0 + mr - 1, rows t0 .. t0 + kc - 1, into
 * ap[t * MR + ii]; the rows past mr (an edge panel) are zero */
static void pack_panel_generic(const double *Xs, R_xlen_t T, int i0, int mr, int t0,
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
/* pack_panel_generic() for a full panel of 8 columns, MR = 8: the same copies,
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

/* one source panel: the AVX2 copy for a full panel of 8, else the generic */
static void pack_panel(const double *Xs, R_xlen_t T, int i0, int mr, int t0, int kc,
                       int MR, double *ap) {
#ifdef HOT_HAVE_AVX2
  if (MR == 8 && mr == 8) {
    pack_panel8_avx2(Xs, T, i0, t0, kc, ap);
    return;
  }
#endif
  pack_panel_generic(Xs, T, i0, mr, t0, kc, MR, ap);
}

#ifdef HOT_HAVE_AVX2
/* pack_tile() of a full tile of 6 columns, rows 0 .. (kc & ~3) - 1: four
 * rows at a time, columns 0-3 through a 4 x 4 transpose, 4-5 in pairs */
__attribute__((target("avx2")))
static void pack_tile6_avx2(const double *const *y, int kc, double *bp) {
  for (int t = 0; t + 4 <= kc; t += 4, bp += 24) {
    const __m256d q0 = _mm256_loadu_pd(y[0] + t), q1 = _mm256_loadu_pd(y[1] + t);
    const __m256d q2 = _mm256_loadu_pd(y[2] + t), q3 = _mm256_loadu_pd(y[3] + t);
    const __m256d u0 = _mm256_unpacklo_pd(q0, q1), u1 = _mm256_unpackhi_pd(q0, q1);
    const __m256d u2 = _mm256_unpacklo_pd(q2, q3), u3 = _mm256_unpackhi_pd(q2, q3);
    _mm256_storeu_pd(bp, _mm256_permute2f128_pd(u0, u2, 0x20));
    _mm256_storeu_pd(bp + 6, _mm256_permute2f128_pd(u1, u3, 0x20));
    _mm256_storeu_pd(bp + 12, _mm256_permute2f128_pd(u0, u2, 0x31));
    _mm256_storeu_pd(bp + 18, _mm256_permute2f128_pd(u1, u3, 0x31));
    for (int h = 0; h < 2; h++) {
      const __m128d a = _mm_loadu_pd(y[4] + t + 2 * h), b = _mm_loadu_pd(y[5] + t + 2 * h);
      _mm_storeu_pd(bp + 12 * h + 4, _mm_unpacklo_pd(a, b));
      _mm_storeu_pd(bp + 12 * h + 10, _mm_unpackhi_pd(a, b));
    }
  }
}
#endif

/* the target columns j1 .. j1 + nr - 1, rows t0 .. t0 + kc - 1, into
 * bp[t * NR + jj]; the columns past nr (an edge tile) are zero.  Row by
 * row, so that the stores are contiguous. */
static void pack_tile(const double *Ys, R_xlen_t T, int j1, int nr, int t0, int kc,
                      int NR, double *bp) {
  const double *y[NR_MAX];
  for (int jj = 0; jj < nr; jj++) y[jj] = Ys + (R_xlen_t) (j1 + jj) * T + t0;
  if (nr == 6 && NR == 6) {
    const double *y0 = y[0], *y1 = y[1], *y2 = y[2], *y3 = y[3], *y4 = y[4], *y5 = y[5];
    int t = 0;
#ifdef HOT_HAVE_AVX2
    if (have_avx2) {
      pack_tile6_avx2(y, kc, bp);
      t = kc & ~3;
      bp += (size_t) 6 * t;
    }
#endif
    for (; t < kc; t++, bp += 6) {
      bp[0] = y0[t]; bp[1] = y1[t]; bp[2] = y2[t];
      bp[3] = y3[t]; bp[4] = y4[t]; bp[5] = y5[t];
    }
    return;
  }
  for (int t = 0; t < kc; t++, bp += NR)
    for (int jj = 0; jj < NR; jj++) bp[jj] = jj < nr ? y[jj][t] : 0.0;
}

/* K = 1 - Xs' Ys by the micro-kernel: T split into nb balanced blocks of
 * at most KC rows (the running sums kept in K between them); per block, all
 * panels of MR source columns packed once (each is used by every column
 * block), then NC target columns at a time packed tile by tile, and each
 * source panel by NR target columns.  The packed buffers are malloc'd once
 * per call; without them, each panel or tile is packed where it is used,
 * which is slower and gives the same bits. */
static void cost_internal(const double *Xs, const double *Ys, int T, int n,
                          int m, double *K, int plain, int lower) {
  const int MR = micro_mr, NR = micro_nr;
  const micro_fn kernel = micro;
  double a_one[KC * MR_MAX], tile[MR_MAX * NR_MAX], one_tile[KC * NR_MAX];
  if (T <= 0 || n <= 0 || m <= 0) return; /* the callers handle these */
  const int nb = (T + KC - 1) / KC;
  /* the packed block: kc_max x nc_max, small problems small (below
   * malloc's mmap threshold, no page faults per call) */
  const size_t kc_max = (size_t) ((T + nb - 1) / nb);
  const size_t nc_max = m < NC ? (size_t) ((m + NR - 1) / NR) * NR : (size_t) NC;
  double *bpack = (double *) malloc(sizeof(double) * kc_max * nc_max);
  /* the source panels of one block: ceil(n / MR) of kc_max x MR, where
   * there is more than one column block to use them and they are no larger
   * than the result itself (kc_max <= m), so that the call's memory stays
   * that of its output plus the fixed packed block */
  const size_t n_pad = (size_t) ((n + MR - 1) / MR) * MR;
  double *apack = m > NC && kc_max <= (size_t) m
                      ? (double *) malloc(sizeof(double) * kc_max * n_pad) : NULL;
  for (int b = 0; b < nb; b++) {
    const int t0 = (int) ((long long) T * b / nb);
    const int kc = (int) ((long long) T * (b + 1) / nb) - t0;
    const int first = b == 0, last = b == nb - 1;
    if (apack)
      for (int i0 = 0; i0 < n; i0 += MR) {
        const int mr = n - i0 < MR ? n - i0 : MR;
        pack_panel(Xs, T, i0, mr, t0, kc, MR, apack + (size_t) i0 * kc);
      }
    for (int j0 = 0; j0 < m; j0 += NC) {
      const int nc = m - j0 < NC ? m - j0 : NC;
      if (bpack)
        for (int j1 = j0; j1 < j0 + nc; j1 += NR) {
          const int nr = j0 + nc - j1 < NR ? j0 + nc - j1 : NR;
          pack_tile(Ys, T, j1, nr, t0, kc, NR, bpack + (size_t) (j1 - j0) * kc);
        }
      for (int i0 = 0; i0 < n; i0 += MR) {
        const int mr = n - i0 < MR ? n - i0 : MR;
        const double *ap = apack ? apack + (size_t) i0 * kc : a_one;
        if (!apack) pack_panel(Xs, T, i0, mr, t0, kc, MR, a_one);
        for (int j1 = j0; j1 < j0 + nc; j1 += NR) {
          const int nr = j0 + nc - j1 < NR ? j0 + nc - j1 : NR;
          /* lower: the tiles wholly above the diagonal are not computed */
          if (lower && i0 + mr - 1 < j1) break;
          const double *bp = bpack + (size_t) (j1 - j0) * kc;
          if (!bpack) {
            pack_tile(Ys, T, j1, nr, t0, kc, NR, one_tile);
            bp = one_tile;
          }
          double *kt = K + (R_xlen_t) j1 * n + i0;
          if (mr == MR && nr == NR) { /* a full tile: in place in K */
            kernel(kc, ap, bp, kt, n, first, last && !plain);
            continue;
          }
          /* an edge tile: through a zero-padded copy */
          for (int e = 0; e < MR * NR; e++) tile[e] = 0.0;
          if (!first) {
            for (int jj = 0; jj < nr; jj++) {
              const double *k = kt + (R_xlen_t) jj * n;
              for (int ii = 0; ii < mr; ii++) tile[jj * MR + ii] = k[ii];
            }
          }
          kernel(kc, ap, bp, tile, MR, 0, 0);
          for (int jj = 0; jj < nr; jj++) {
            double *k = kt + (R_xlen_t) jj * n;
            if (last && !plain) {
              for (int ii = 0; ii < mr; ii++) k[ii] = 1.0 - tile[jj * MR + ii];
            } else {
              for (int ii = 0; ii < mr; ii++) k[ii] = tile[jj * MR + ii];
            }
          }
        }
      }
    }
  }
  free(apack);
  free(bpack);
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
    cost_internal(Xs, Ys, T, n, m, K, 0, 0);
  } else {
    for (R_xlen_t e = 0; e < nm; e++) K[e] = 1.0;
    cost_blas(Xs, Ys, T, n, m, K);
  }
}

/* C (a x b) = X' Y for X (k x a), Y (k x b), columns contiguous: the
 * products of the rotation and eigen code, by the same kernels without the
 * 1 - (each entry an fma sum over k in order, or dgemm's).  lower = 1
 * (a = b): only the entries on and below the diagonal are defined (the
 * internal kernel skips the tiles above it). */
static void product(const double *X, const double *Y, int k, int a, int b, double *C,
                    int kernel, int lower) {
  R_xlen_t ab = (R_xlen_t) a * b;
  if (ab == 0) return;
  if (k == 0) {
    for (R_xlen_t e = 0; e < ab; e++) C[e] = 0.0;
    return;
  }
  if (kernel == COST_INTERNAL) {
    cost_internal(X, Y, k, a, b, C, 1, lower);
  } else {
    const double one = 1.0, zero = 0.0;
    F77_CALL(dgemm)("T", "N", &a, &b, &k, &one, X, &k, Y, &k, &zero, C, &a FCONE FCONE);
  }
}

void kernel_product(const double *X, const double *Y, int k, int a, int b, double *C,
                    int kernel) {
  product(X, Y, k, a, b, C, kernel, 0);
}

void kernel_product_lower(const double *X, const double *Y, int k, int a, double *C,
                          int kernel) {
  product(X, Y, k, a, a, C, kernel, 1);
}

/* C (a x a) = X' X: the lower triangle computed, the upper mirrored from
 * it, so C is exactly symmetric.  The internal kernel's C[j, i] would be the
 * same fma sum as its C[i, j] (products commute), so this is bit for bit
 * kernel_product(X, X) at about half the work; an optimised BLAS gets the
 * triangle from dsyrk, half of dgemm's work too. */
void kernel_gram(const double *X, int k, int a, double *C, int kernel) {
  if (kernel == COST_INTERNAL || a == 0 || k == 0) {
    product(X, X, k, a, a, C, kernel, kernel == COST_INTERNAL);
    if (kernel != COST_INTERNAL) return;
  } else {
    const double one = 1.0, zero = 0.0;
    F77_CALL(dsyrk)("L", "T", &a, &k, &one, X, &k, &zero, C, &a FCONE FCONE);
  }
  for (int j = 1; j < a; j++)
    for (int i = 0; i < j; i++) C[i + (R_xlen_t) j * a] = C[j + (R_xlen_t) i * a];
}

/* out (b x a) = in' for in (a x b), both columns contiguous: in blocks of
 * TR_B x TR_B so that the reads and the writes both stay in cache (the
 * plain double loop writes with stride b, a cache line per entry, on the
 * r x n matrices of the Procrustes step) */
#define TR_B 32
void mat_transpose(const double *restrict in, int a, int b, double *restrict out) {
  for (int j0 = 0; j0 < b; j0 += TR_B) {
    const int j1 = j0 + TR_B < b ? j0 + TR_B : b;
    for (int i0 = 0; i0 < a; i0 += TR_B) {
      const int i1 = i0 + TR_B < a ? i0 + TR_B : a;
      for (int j = j0; j < j1; j++) {
        const double *col = in + (R_xlen_t) j * a;
        for (int i = i0; i < i1; i++) out[j + (R_xlen_t) i * b] = col[i];
      }
    }
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

/* test entry point: what = 0 kernel_product(X, Y), 1 kernel_product_lower
 * (the upper triangle returned as NA), 2 kernel_gram(X); mode as above */
SEXP ffi_kernel_product(SEXP X, SEXP Y, SEXP what, SEXP mode) {
  if (!Rf_isReal(X) || !Rf_isMatrix(X) || !Rf_isReal(Y) || !Rf_isMatrix(Y) ||
      Rf_nrows(X) != Rf_nrows(Y))
    Rf_error("kernel_product: expected two double matrices with equal rows");
  const int kernel = cost_kernel_mode_arg(mode), w = Rf_asInteger(what);
  const int k = Rf_nrows(X), a = Rf_ncols(X), b = Rf_ncols(Y);
  if (w != 0 && a != b) Rf_error("kernel_product: lower and gram need square results");
  SEXP C = PROTECT(Rf_allocMatrix(REALSXP, a, b));
  double *c = REAL(C);
  if (w == 0) {
    kernel_product(REAL(X), REAL(Y), k, a, b, c, kernel);
  } else if (w == 1) {
    kernel_product_lower(REAL(X), REAL(Y), k, a, c, kernel);
    for (int j = 1; j < a; j++)
      for (int i = 0; i < j; i++) c[i + (R_xlen_t) j * a] = NA_REAL;
  } else {
    kernel_gram(REAL(X), k, a, c, kernel);
  }
  UNPROTECT(1);
  return C;
}
