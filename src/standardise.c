/* Standardisation of columns on the training rows only:
 *   x~ = (x - mean_train(x)) / || x - mean_train(x) ||_train
 * The same statistics are applied to every row (training and held out). */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <math.h>
#include <limits.h>

#include <R.h>
#include <Rinternals.h>
#include "hotalign.h"

/* The statistics of one column (the reference arithmetic; col_train_stats
 * computes exactly these, four columns at a time). */
static void col_stats_one(const double *x, const int *rows, int n_rows,
                          double *center, double *scale, int *constant) {
  double lo = x[rows[0]], hi = lo, sum = 0;
  for (int r = 0; r < n_rows; r++) {
    double xi = x[rows[r]];
    sum += xi;
    if (xi < lo) lo = xi;
    if (xi > hi) hi = xi;
  }
  /* a sum beyond the double range (|x| near DBL_MAX): average x / n instead,
   * and keep the mean itself (times n_rows it would overflow again) */
  double mean = sum / n_rows, corr = 0;
  if (!R_FINITE(sum)) {
    mean = 0;
    for (int r = 0; r < n_rows; r++) mean += x[rows[r]] / n_rows;
  }
  /* two passes: the correction makes the centred sum vanish to round-off */
  for (int r = 0; r < n_rows; r++) corr += x[rows[r]] - mean;
  mean += corr / n_rows;
  double ss = 0, dmax = 0;
  for (int r = 0; r < n_rows; r++) {
    double d = x[rows[r]] - mean;
    ss += d * d;
    if (fabs(d) > dmax) dmax = fabs(d);
  }
  /* squares that overflow (spread above ~1e145) or underflow (below
   * ~1e-145): the norm of the deviations scaled by their largest */
  double norm = sqrt(ss);
  if (lo != hi && dmax > 0 && !(ss > 1e-290 && ss < 1e290)) {
    double sc = 0;
    for (int r = 0; r < n_rows; r++) {
      double d = (x[rows[r]] - mean) / dmax;
      sc += d * d;
    }
    norm = dmax * sqrt(sc);
  }
  /* exactly constant on the training rows: no correlation is defined */
  *constant = (lo == hi);
  *center = mean;
  *scale = *constant ? 0 : norm;
}

/* Four columns at once: the same operations in the same order for each
 * column as col_stats_one(), so the same bits, but four independent chains
 * of additions instead of one (a sum is bound by the latency of its adds).
 * Columns whose sum overflows or whose squares leave the double range take
 * col_stats_one(). */
static void col_stats_four(const double *const *x, const int *rows, int n_rows,
                           double *center, double *scale, int *constant) {
  double lo[4], hi[4], sum[4] = {0, 0, 0, 0};
  for (int c = 0; c < 4; c++) lo[c] = hi[c] = x[c][rows[0]];
  for (int r = 0; r < n_rows; r++) {
    const int i = rows[r];
    for (int c = 0; c < 4; c++) {
      double xi = x[c][i];
      sum[c] += xi;
      if (xi < lo[c]) lo[c] = xi;
      if (xi > hi[c]) hi[c] = xi;
    }
  }
  int odd = 0;
  for (int c = 0; c < 4; c++) odd |= !R_FINITE(sum[c]);
  if (odd) {
    for (int c = 0; c < 4; c++)
      col_stats_one(x[c], rows, n_rows, center + c, scale + c, constant + c);
    return;
  }
  double mean[4], corr[4] = {0, 0, 0, 0};
  for (int c = 0; c < 4; c++) mean[c] = sum[c] / n_rows;
  for (int r = 0; r < n_rows; r++) {
    const int i = rows[r];
    for (int c = 0; c < 4; c++) corr[c] += x[c][i] - mean[c];
  }
  for (int c = 0; c < 4; c++) mean[c] += corr[c] / n_rows;
  double ss[4] = {0, 0, 0, 0}, dmax[4] = {0, 0, 0, 0};
  for (int r = 0; r < n_rows; r++) {
    const int i = rows[r];
    for (int c = 0; c < 4; c++) {
      double d = x[c][i] - mean[c];
      ss[c] += d * d;
      if (fabs(d) > dmax[c]) dmax[c] = fabs(d);
    }
  }
  for (int c = 0; c < 4; c++) {
    if (lo[c] != hi[c] && dmax[c] > 0 && !(ss[c] > 1e-290 && ss[c] < 1e290)) {
      col_stats_one(x[c], rows, n_rows, center + c, scale + c, constant + c);
      continue;
    }
    constant[c] = (lo[c] == hi[c]);
    center[c] = mean[c];
    scale[c] = constant[c] ? 0 : sqrt(ss[c]);
  }
}

void col_train_stats(const double *X, R_xlen_t T, int n, const int *rows,
                     int n_rows, double *center, double *scale, int *constant) {
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const double *x[4];
    for (int c = 0; c < 4; c++) x[c] = X + (R_xlen_t) (j + c) * T;
    col_stats_four(x, rows, n_rows, center + j, scale + j, constant + j);
  }
  for (; j < n; j++)
    col_stats_one(X + (R_xlen_t) j * T, rows, n_rows, center + j, scale + j,
                  constant + j);
}

void standardise_rows(const double *X, R_xlen_t T, const int *rows, int n_rows,
                      const int *keep, int n_keep, const double *center,
                      const double *scale, double *Z) {
  for (int k = 0; k < n_keep; k++) {
    int j = keep[k];
    const double *x = X + (R_xlen_t) j * T;
    double *z = Z + (R_xlen_t) k * n_rows, c = center[j], s = scale[j];
    for (int r = 0; r < n_rows; r++) z[r] = (x[rows[r]] - c) / s;
  }
}

/* ------------------------------------------- statistics and rows at once
 * col_stats_standardise(): for w <= 8 columns of one layer, the statistics
 * of col_train_stats() and the standardised training and held-out rows of
 * standardise_rows(), in one pass over the training rows.
 *
 * Invariants (the reference is col_train_stats() + standardise_rows(); the
 * tests compare them bit for bit, test-kernels.R):
 *  - every column's statistics are the operations of col_stats_one() in the
 *    same order: one chain of additions over the training rows in their
 *    order for the sum, the correction and the squares (a multiplication
 *    then an addition, never a fused multiply-add: the vector path is
 *    compiled for AVX2 without FMA, so the compiler cannot contract them),
 *    min/max by the same comparisons; the same fallbacks (col_stats_one()
 *    itself) for sums that overflow and squares outside the double range;
 *  - every standardised value is (x - center) / scale, one correctly
 *    rounded subtraction and one correctly rounded division, as in
 *    standardise_rows();
 *  - the lanes of the vector path (two vectors of four) are eight columns
 *    (never several rows of one column), so vectorising changes no
 *    column's order of operations.
 * The training values are gathered once into `scratch` (8 x n_train,
 * row-interleaved), so that the second and third passes and the training
 * rows' standardisation read contiguous memory instead of gathering again.
 * Columns are written whether constant or not (a constant column's
 * scale is 0: its values are Inf/NaN and the caller drops the column). */

/* columns per task: two vectors of four lanes (two independent chains of
 * additions, all in registers) */
#define STD_GROUP 8

/* the generic path: the reference functions themselves */
static void group_generic(const double *const *x, int w, const int *train, int n_train,
                          const int *test, int n_test, double *center, double *scale,
                          int *constant, double *const *ztr, double *const *zte) {
  int c = 0;
  for (; c + 4 <= w; c += 4)
    col_stats_four(x + c, train, n_train, center + c, scale + c, constant + c);
  for (; c < w; c++)
    col_stats_one(x[c], train, n_train, center + c, scale + c, constant + c);
  const int zero = 0;
  for (c = 0; c < w; c++) {
    standardise_rows(x[c], 0, train, n_train, &zero, 1, center + c, scale + c, ztr[c]);
    if (n_test > 0)
      standardise_rows(x[c], 0, test, n_test, &zero, 1, center + c, scale + c, zte[c]);
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(HOTALIGN_NO_AVX2)
#define HOT_STD_AVX2 1
#include <immintrin.h>

/* four rows q[0..3] of four columns (lanes) to four columns of four rows,
 * stored at out[c] + r for the columns c < w */
__attribute__((target("avx2")))
static inline void store_transposed(__m256d q0, __m256d q1, __m256d q2, __m256d q3,
                                    double *const *out, int r, int w) {
  const __m256d t0 = _mm256_unpacklo_pd(q0, q1), t1 = _mm256_unpackhi_pd(q0, q1);
  const __m256d t2 = _mm256_unpacklo_pd(q2, q3), t3 = _mm256_unpackhi_pd(q2, q3);
  _mm256_storeu_pd(out[0] + r, _mm256_permute2f128_pd(t0, t2, 0x20));
  if (w > 1) _mm256_storeu_pd(out[1] + r, _mm256_permute2f128_pd(t1, t3, 0x20));
  if (w > 2) _mm256_storeu_pd(out[2] + r, _mm256_permute2f128_pd(t0, t2, 0x31));
  if (w > 3) _mm256_storeu_pd(out[3] + r, _mm256_permute2f128_pd(t1, t3, 0x31));
}

#define GATHER4(p0, p1, p2, p3, i) _mm256_set_pd((p3)[i], (p2)[i], (p1)[i], (p0)[i])

/* (v - c) / s of four columns (lanes): rows from the row-interleaved pk
 * (STD_GROUP a row, at offset `off`), or gathered from p0..p3 at `rows`
 * when pk is NULL; into z[c] for c < w */
__attribute__((target("avx2")))
static void standardise_four(const double *pk, int off, const double *p0, const double *p1,
                             const double *p2, const double *p3, const int *rows,
                             int n_rows, __m256d c, __m256d s, double *const *z, int w) {
  int r = 0;
  if (pk != NULL) {
    for (; r + 4 <= n_rows; r += 4) {
      const double *a = pk + (size_t) r * STD_GROUP + off;
      store_transposed(_mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(a), c), s),
                       _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(a + STD_GROUP), c), s),
                       _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(a + 2 * STD_GROUP), c), s),
                       _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(a + 3 * STD_GROUP), c), s),
                       z, r, w);
    }
  } else {
    for (; r + 4 <= n_rows; r += 4) {
      const int i0 = rows[r], i1 = rows[r + 1], i2 = rows[r + 2], i3 = rows[r + 3];
      store_transposed(_mm256_div_pd(_mm256_sub_pd(GATHER4(p0, p1, p2, p3, i0), c), s),
                       _mm256_div_pd(_mm256_sub_pd(GATHER4(p0, p1, p2, p3, i1), c), s),
                       _mm256_div_pd(_mm256_sub_pd(GATHER4(p0, p1, p2, p3, i2), c), s),
                       _mm256_div_pd(_mm256_sub_pd(GATHER4(p0, p1, p2, p3, i3), c), s),
                       z, r, w);
    }
  }
  for (; r < n_rows; r++) {
    const __m256d a = pk != NULL ? _mm256_loadu_pd(pk + (size_t) r * STD_GROUP + off)
                                 : GATHER4(p0, p1, p2, p3, rows[r]);
    double q[4];
    _mm256_storeu_pd(q, _mm256_div_pd(_mm256_sub_pd(a, c), s));
    for (int k = 0; k < w; k++) z[k][r] = q[k];
  }
}

/* the vector path: lanes 0..3 of vector A are the columns x[0..3], of
 * vector B x[4..7] (lanes past w repeat column 0 and are not written) */
__attribute__((target("avx2")))
static void group_avx2(const double *const *x, int w, const int *train, int n_train,
                       const int *test, int n_test, double *center, double *scale,
                       int *constant, double *const *ztr, double *const *zte,
                       double *pk) {
  const double *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
  const double *x4 = x[4], *x5 = x[5], *x6 = x[6], *x7 = x[7];
  int i = train[0];
  __m256d loA = GATHER4(x0, x1, x2, x3, i), hiA = loA, sumA = _mm256_setzero_pd();
  __m256d loB = GATHER4(x4, x5, x6, x7, i), hiB = loB, sumB = _mm256_setzero_pd();
  for (int r = 0; r < n_train; r++) {
    i = train[r];
    double *row = pk + (size_t) r * STD_GROUP;
    const __m256d a = GATHER4(x0, x1, x2, x3, i), b = GATHER4(x4, x5, x6, x7, i);
    _mm256_storeu_pd(row, a);
    _mm256_storeu_pd(row + 4, b);
    sumA = _mm256_add_pd(sumA, a);
    sumB = _mm256_add_pd(sumB, b);
    loA = _mm256_min_pd(a, loA); /* a < lo ? a : lo */
    loB = _mm256_min_pd(b, loB);
    hiA = _mm256_max_pd(a, hiA); /* a > hi ? a : hi */
    hiB = _mm256_max_pd(b, hiB);
  }
  double s8[8], lo8[8], hi8[8];
  _mm256_storeu_pd(s8, sumA);
  _mm256_storeu_pd(s8 + 4, sumB);
  _mm256_storeu_pd(lo8, loA);
  _mm256_storeu_pd(lo8 + 4, loB);
  _mm256_storeu_pd(hi8, hiA);
  _mm256_storeu_pd(hi8 + 4, hiB);
  int odd = 0;
  for (int c = 0; c < w; c++) odd |= !R_FINITE(s8[c]);
  if (odd) {
    for (int c = 0; c < w; c++)
      col_stats_one(x[c], train, n_train, center + c, scale + c, constant + c);
  } else {
    const __m256d nr = _mm256_set1_pd((double) n_train);
    __m256d meanA = _mm256_div_pd(sumA, nr), meanB = _mm256_div_pd(sumB, nr);
    __m256d accA = _mm256_setzero_pd(), accB = _mm256_setzero_pd();
    for (int r = 0; r < n_train; r++) {
      const double *row = pk + (size_t) r * STD_GROUP;
      accA = _mm256_add_pd(accA, _mm256_sub_pd(_mm256_loadu_pd(row), meanA));
      accB = _mm256_add_pd(accB, _mm256_sub_pd(_mm256_loadu_pd(row + 4), meanB));
    }
    meanA = _mm256_add_pd(meanA, _mm256_div_pd(accA, nr));
    meanB = _mm256_add_pd(meanB, _mm256_div_pd(accB, nr));
    const __m256d sign = _mm256_set1_pd(-0.0);
    __m256d ssA = _mm256_setzero_pd(), ssB = ssA, dmA = ssA, dmB = ssA;
    for (int r = 0; r < n_train; r++) {
      const double *row = pk + (size_t) r * STD_GROUP;
      const __m256d dA = _mm256_sub_pd(_mm256_loadu_pd(row), meanA);
      const __m256d dB = _mm256_sub_pd(_mm256_loadu_pd(row + 4), meanB);
      ssA = _mm256_add_pd(ssA, _mm256_mul_pd(dA, dA));
      ssB = _mm256_add_pd(ssB, _mm256_mul_pd(dB, dB));
      dmA = _mm256_max_pd(_mm256_andnot_pd(sign, dA), dmA); /* |d| > dmax ? |d| : dmax */
      dmB = _mm256_max_pd(_mm256_andnot_pd(sign, dB), dmB);
    }
    double m8[8], ss8[8], dm8[8];
    _mm256_storeu_pd(m8, meanA);
    _mm256_storeu_pd(m8 + 4, meanB);
    _mm256_storeu_pd(ss8, ssA);
    _mm256_storeu_pd(ss8 + 4, ssB);
    _mm256_storeu_pd(dm8, dmA);
    _mm256_storeu_pd(dm8 + 4, dmB);
    for (int c = 0; c < w; c++) {
      if (lo8[c] != hi8[c] && dm8[c] > 0 && !(ss8[c] > 1e-290 && ss8[c] < 1e290)) {
        col_stats_one(x[c], train, n_train, center + c, scale + c, constant + c);
        continue;
      }
      constant[c] = (lo8[c] == hi8[c]);
      center[c] = m8[c];
      scale[c] = constant[c] ? 0 : sqrt(ss8[c]);
    }
  }
  double cc[8], sc[8];
  for (int c = 0; c < 8; c++) {
    cc[c] = center[c < w ? c : 0];
    sc[c] = scale[c < w ? c : 0];
  }
  const __m256d cA = _mm256_loadu_pd(cc), sA = _mm256_loadu_pd(sc);
  const __m256d cB = _mm256_loadu_pd(cc + 4), sB = _mm256_loadu_pd(sc + 4);
  const int wA = w < 4 ? w : 4, wB = w - wA;
  standardise_four(pk, 0, x0, x1, x2, x3, train, n_train, cA, sA, ztr, wA);
  if (wB > 0) standardise_four(pk, 4, x4, x5, x6, x7, train, n_train, cB, sB, ztr + 4, wB);
  if (n_test > 0) {
    standardise_four(NULL, 0, x0, x1, x2, x3, test, n_test, cA, sA, zte, wA);
    if (wB > 0)
      standardise_four(NULL, 0, x4, x5, x6, x7, test, n_test, cB, sB, zte + 4, wB);
  }
}
#endif

/* 1 when the vector path can be used (the processor has AVX2, decided at
 * load time) */
static int std_use_simd(void) {
#ifdef HOT_STD_AVX2
  return cpu_has_avx2();
#else
  return 0;
#endif
}

size_t col_stats_standardise_scratch(int n_train) {
  return STD_GROUP * (size_t) (n_train > 0 ? n_train : 1);
}

void col_stats_standardise(const double *X, R_xlen_t T, int j0, int w, const int *train,
                           int n_train, const int *test, int n_test, double *center,
                           double *scale, int *constant, double *Ztrain, double *Ztest,
                           double *scratch, int simd) {
  const double *x[STD_GROUP];
  double *ztr[STD_GROUP], *zte[STD_GROUP];
  for (int c = 0; c < STD_GROUP; c++) {
    const int j = j0 + (c < w ? c : 0);
    x[c] = X + (R_xlen_t) j * T;
    ztr[c] = Ztrain + (R_xlen_t) j * n_train;
    zte[c] = Ztest + (R_xlen_t) j * n_test;
  }
#ifdef HOT_STD_AVX2
  if (simd) {
    group_avx2(x, w, train, n_train, test, n_test, center + j0, scale + j0, constant + j0,
               ztr, zte, scratch);
    return;
  }
#endif
  (void) scratch;
  (void) simd;
  group_generic(x, w, train, n_train, test, n_test, center + j0, scale + j0,
                constant + j0, ztr, zte);
}

/* Every column of K layers (n[k] columns each, T rows, column-major) by
 * col_stats_standardise(): tasks of 8 columns of one layer, shared out over
 * the threads in batches of about 2^22 values each, with an interrupt check
 * after each batch (on the main thread, outside the parallel region).  Each
 * task's values depend only on its columns, so the results are the same bit
 * for bit for any number of threads.  Ztest[k] may be any non-NULL pointer
 * when n_test is 0. */
void standardise_layers(int K, const double *const *X, R_xlen_t T, const int *n,
                        const int *train, int n_train, const int *test, int n_test,
                        double *const *center, double *const *scale, int *const *constant,
                        double *const *Ztrain, double *const *Ztest, int nth, int simd) {
  int *first = (int *) R_alloc(K + 1, sizeof(int));
  first[0] = 0;
  for (int k = 0; k < K; k++) first[k + 1] = first[k] + (n[k] + STD_GROUP - 1) / STD_GROUP;
  const int ntask = first[K];
  if (ntask == 0) return;
  double work = 0;
  for (int k = 0; k < K; k++) work += (double) n[k] * ((double) n_train + n_test);
  nth = hot_threads_for_work(nth, ntask, work);
  simd = simd && std_use_simd();
  const size_t per = col_stats_standardise_scratch(n_train);
  double *scratch = (double *) R_alloc(per * nth, sizeof(double));
  const double values = (double) STD_GROUP * ((double) n_train + n_test);
  int batch = (int) (4194304.0 * nth / (values > 1 ? values : 1));
  if (batch < nth) batch = nth;
  for (int t0 = 0; t0 < ntask; t0 += batch) {
    const int t1 = ntask - t0 < batch ? ntask : t0 + batch;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nth) schedule(static)
#endif
    for (int t = t0; t < t1; t++) {
      int me = 0;
#ifdef _OPENMP
      me = omp_get_thread_num();
#endif
      int k = 0;
      while (first[k + 1] <= t) k++;
      const int j0 = (t - first[k]) * STD_GROUP;
      const int w = n[k] - j0 < STD_GROUP ? n[k] - j0 : STD_GROUP;
      col_stats_standardise(X[k], T, j0, w, train, n_train, test, n_test, center[k],
                            scale[k], constant[k], Ztrain[k], Ztest[k],
                            scratch + per * me, simd);
    }
    if (t1 < ntask) R_CheckUserInterrupt();
  }
  (void) nth;
}

/* rows: 1-based integer row indices, checked against the row count */
static int *zero_based(SEXP rows, int T) {
  if (!Rf_isInteger(rows)) Rf_error("row indices must be integer");
  int nr = Rf_length(rows), *r0 = (int *) R_alloc(nr > 0 ? nr : 1, sizeof(int));
  for (int r = 0; r < nr; r++) {
    int i = INTEGER(rows)[r];
    if (i == NA_INTEGER || i < 1 || i > T) Rf_error("row index %d out of range", i);
    r0[r] = i - 1;
  }
  return r0;
}

static void check_double_matrix(SEXP X) {
  if (!Rf_isReal(X) || !Rf_isMatrix(X)) Rf_error("expected a double matrix");
}

int check_layer_list(SEXP layers, const char *what, int T) {
  if (TYPEOF(layers) != VECSXP || XLENGTH(layers) < 1)
    Rf_error("`%s` must be a non-empty list of double matrices", what);
  R_xlen_t K = XLENGTH(layers);
  for (R_xlen_t k = 0; k < K; k++) {
    SEXP x = VECTOR_ELT(layers, k);
    if (!Rf_isReal(x) || !Rf_isMatrix(x) || Rf_ncols(x) < 1)
      Rf_error("`%s[[%d]]` must be a double matrix with at least one column", what,
               (int) k + 1);
    if (T < 0) T = Rf_nrows(x);
    if (Rf_nrows(x) != T)
      Rf_error("`%s[[%d]]` has %d rows, not %d", what, (int) k + 1, Rf_nrows(x), T);
  }
  return T;
}

int check_whole(SEXP x, const char *what, int min) {
  if ((!Rf_isInteger(x) && !Rf_isReal(x)) || XLENGTH(x) != 1)
    Rf_error("`%s` must be a single whole number", what);
  double v = Rf_asReal(x);
  if (ISNAN(v) || v != floor(v) || v < min || v > INT_MAX)
    Rf_error("`%s` must be a whole number >= %d", what, min);
  return (int) v;
}

SEXP ffi_col_stats(SEXP X, SEXP rows) {
  check_double_matrix(X);
  int n = Rf_ncols(X), nr = Rf_length(rows);
  if (nr < 1) Rf_error("no training rows");
  SEXP center = PROTECT(Rf_allocVector(REALSXP, n));
  SEXP scale = PROTECT(Rf_allocVector(REALSXP, n));
  SEXP constant = PROTECT(Rf_allocVector(LGLSXP, n));
  if (n > 0)
    col_train_stats(REAL(X), Rf_nrows(X), n, zero_based(rows, Rf_nrows(X)), nr, REAL(center),
                    REAL(scale), LOGICAL(constant));
  const char *names[] = {"center", "scale", "constant", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(out, 0, center);
  SET_VECTOR_ELT(out, 1, scale);
  SET_VECTOR_ELT(out, 2, constant);
  UNPROTECT(4);
  return out;
}

/* keep: 1-based column indices; returns X[rows, keep] standardised.  The
 * columns are shared out among `threads` threads: each column is the same
 * for any count, and the first touch of the new matrix (page faults, which
 * cost as much as the arithmetic here) is shared too. */
SEXP ffi_standardise(SEXP X, SEXP rows, SEXP keep, SEXP center, SEXP scale,
                     SEXP threads) {
  check_double_matrix(X);
  int nr = Rf_length(rows), nk = Rf_length(keep), n = Rf_ncols(X);
  if (!Rf_isInteger(keep) || !Rf_isReal(center) || !Rf_isReal(scale) ||
      Rf_length(center) != n || Rf_length(scale) != n)
    Rf_error("standardise: `keep`, `center` and `scale` do not fit `X`");
  int *k0 = (int *) R_alloc(nk > 0 ? nk : 1, sizeof(int));
  for (int k = 0; k < nk; k++) {
    int j = INTEGER(keep)[k];
    if (j == NA_INTEGER || j < 1 || j > n) Rf_error("column index %d out of range", j);
    k0[k] = j - 1;
  }
  const int *r0 = zero_based(rows, Rf_nrows(X));
  SEXP Z = PROTECT(Rf_allocMatrix(REALSXP, nr, nk));
  const double *x = REAL(X), *c = REAL(center), *sc = REAL(scale);
  double *z = REAL(Z);
  advise_huge_pages(z, sizeof(double) * (size_t) nr * (size_t) nk);
  const R_xlen_t T = Rf_nrows(X);
  /* blocks of 64 columns: one per thread at a time */
  const int blocks = (nk + 63) / 64;
  const int nth = hot_threads_for(Rf_asInteger(threads), blocks);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nth) schedule(static)
#endif
  for (int b = 0; b < blocks; b++) {
    int k = b * 64, len = nk - k < 64 ? nk - k : 64;
    standardise_rows(x, T, r0, nr, k0 + k, len, c, sc, z + (R_xlen_t) k * nr);
  }
  (void) nth;
  UNPROTECT(1);
  return Z;
}

/* The number of NA/NaN/Inf values of a double vector, the 1-based index
 * of the first (0 when there is none) and, when every value is finite, the
 * largest magnitude max |v| (0 for an empty vector; NaN otherwise), in one
 * pass without allocating; for a list of double vectors (the layers of a
 * system, in one call), a 3 x K matrix of the same for each.  The largest
 * magnitude is what ot_exact() scales near-overflow costs by
 * (pow2_scale() in R/ot_exact.R): found here, it costs no second pass and
 * no n x m temporary (abs(cost) and is.finite(cost) in R were 40 % of an
 * ot_exact() call at 1000 x 1000).
 * Fast path: v * 0 is NaN exactly when v is NA, NaN or +-Inf, so sums of
 * v * 0 are all zero when every value is finite; the maximum of |v| is
 * exact in any order. */
static int all_finite_probe(const double *v, R_xlen_t n, double *big) {
  double probe[4] = {0, 0, 0, 0}, top[4] = {0, 0, 0, 0};
  R_xlen_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int c = 0; c < 4; c++) {
      const double a = fabs(v[i + c]);
      probe[c] += v[i + c] * 0.0;
      if (a > top[c]) top[c] = a;
    }
  for (; i < n; i++) {
    const double a = fabs(v[i]);
    probe[0] += v[i] * 0.0;
    if (a > top[0]) top[0] = a;
  }
  double t = top[0];
  for (int c = 1; c < 4; c++) if (top[c] > t) t = top[c];
  if (t > *big) *big = t;
  return probe[0] + probe[1] + probe[2] + probe[3] == 0;
}

#ifdef HOT_STD_AVX2
/* the same probe, sixteen lanes at a time (four independent vector sums:
 * the latency of the additions, not their count, bounds the scalar loop) */
__attribute__((target("avx2")))
static int all_finite_probe_avx2(const double *v, R_xlen_t n, double *big) {
  const __m256d zero = _mm256_setzero_pd(), sign = _mm256_set1_pd(-0.0);
  __m256d p0 = zero, p1 = zero, p2 = zero, p3 = zero;
  __m256d t0 = zero, t1 = zero, t2 = zero, t3 = zero;
  R_xlen_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256d x0 = _mm256_loadu_pd(v + i), x1 = _mm256_loadu_pd(v + i + 4),
                  x2 = _mm256_loadu_pd(v + i + 8), x3 = _mm256_loadu_pd(v + i + 12);
    p0 = _mm256_add_pd(p0, _mm256_mul_pd(x0, zero));
    p1 = _mm256_add_pd(p1, _mm256_mul_pd(x1, zero));
    p2 = _mm256_add_pd(p2, _mm256_mul_pd(x2, zero));
    p3 = _mm256_add_pd(p3, _mm256_mul_pd(x3, zero));
    /* |x| by clearing the sign bit; max_pd(|x|, t) keeps t on a NaN lane
     * (its second operand), as the scalar test a > top skips a NaN, so
     * *big is the largest non-NaN magnitude on both paths (the simplex's
     * max |C| relies on it) */
    t0 = _mm256_max_pd(_mm256_andnot_pd(sign, x0), t0);
    t1 = _mm256_max_pd(_mm256_andnot_pd(sign, x1), t1);
    t2 = _mm256_max_pd(_mm256_andnot_pd(sign, x2), t2);
    t3 = _mm256_max_pd(_mm256_andnot_pd(sign, x3), t3);
  }
  double q[4], t[4];
  _mm256_storeu_pd(q, _mm256_add_pd(_mm256_add_pd(p0, p1), _mm256_add_pd(p2, p3)));
  _mm256_storeu_pd(t, _mm256_max_pd(_mm256_max_pd(t0, t1), _mm256_max_pd(t2, t3)));
  for (int c = 0; c < 4; c++) if (t[c] > *big) *big = t[c];
  return q[0] + q[1] + q[2] + q[3] == 0 && all_finite_probe(v + i, n - i, big);
}
#endif

int values_finite(const double *v, R_xlen_t n, double *big) {
  *big = 0;
#ifdef HOT_STD_AVX2
  if (std_use_simd()) return all_finite_probe_avx2(v, n, big);
#endif
  return all_finite_probe(v, n, big);
}

static void count_nonfinite(SEXP x, double *out) {
  const double *v = REAL(x);
  R_xlen_t n = XLENGTH(x), count = 0, first = 0;
  double big = 0;
  if (values_finite(v, n, &big)) {
    out[0] = out[1] = 0;
    out[2] = big;
    return;
  }
  for (R_xlen_t i = 0; i < n; i++) {
    if (!R_FINITE(v[i])) {
      if (count++ == 0) first = i + 1;
    }
  }
  out[0] = (double) count;
  out[1] = (double) first;
  out[2] = R_NaN;
}

SEXP ffi_nonfinite(SEXP x) {
  if (TYPEOF(x) == VECSXP) {
    const int K = Rf_length(x);
    for (int k = 0; k < K; k++)
      if (!Rf_isReal(VECTOR_ELT(x, k)))
        Rf_error("expected a list of double vectors or matrices");
    SEXP out = PROTECT(Rf_allocMatrix(REALSXP, 3, K));
    for (int k = 0; k < K; k++) count_nonfinite(VECTOR_ELT(x, k), REAL(out) + 3 * (R_xlen_t) k);
    UNPROTECT(1);
    return out;
  }
  if (!Rf_isReal(x)) Rf_error("expected a double vector or matrix");
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 3));
  count_nonfinite(x, REAL(out));
  UNPROTECT(1);
  return out;
}

/* For the tests: col_stats_standardise() on every column of X (rows
 * `train` and `test`, 1-based) over `threads` threads, by the vector path
 * (simd = TRUE, where the processor has it) or the generic one; the result
 * is list(center, scale, constant, train, test) with the standardised rows
 * of every column (a constant column's are Inf/NaN). */
SEXP ffi_col_stats_standardise(SEXP X, SEXP train, SEXP test, SEXP simd, SEXP threads) {
  check_double_matrix(X);
  const int T = Rf_nrows(X), n = Rf_ncols(X), nr = Rf_length(train), nt = Rf_length(test);
  if (nr < 1) Rf_error("no training rows");
  const int *tr = zero_based(train, T), *te = zero_based(test, T);
  SEXP center = PROTECT(Rf_allocVector(REALSXP, n));
  SEXP scale = PROTECT(Rf_allocVector(REALSXP, n));
  SEXP constant = PROTECT(Rf_allocVector(LGLSXP, n));
  SEXP ztr = PROTECT(Rf_allocMatrix(REALSXP, nr, n));
  SEXP zte = PROTECT(Rf_allocMatrix(REALSXP, nt, n));
  const double *x = REAL(X);
  double *c = REAL(center), *s = REAL(scale), *z1 = REAL(ztr);
  double *z2 = nt > 0 ? REAL(zte) : z1;
  int *k = LOGICAL(constant);
  standardise_layers(1, &x, T, &n, tr, nr, te, nt, &c, &s, &k, &z1, &z2,
                     Rf_asInteger(threads), Rf_asLogical(simd) == 1);
  const char *names[] = {"center", "scale", "constant", "train", "test", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(out, 0, center);
  SET_VECTOR_ELT(out, 1, scale);
  SET_VECTOR_ELT(out, 2, constant);
  SET_VECTOR_ELT(out, 3, ztr);
  SET_VECTOR_ELT(out, 4, zte);
  UNPROTECT(6);
  return out;
}
