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
 * col_stats_standardise(): for w <= 4 columns of one layer, the statistics
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
 *  - the four lanes of the vector path are four columns (never four rows of
 *    one column), so vectorising changes no column's order of operations.
 * The training values are gathered once into `scratch` (4 x n_train,
 * row-interleaved), so that the second and third passes and the training
 * rows' standardisation read contiguous memory instead of gathering again.
 * Columns are written whether constant or not (a constant column's
 * scale is 0: its values are Inf/NaN and the caller drops the column). */

/* the generic path: the reference functions themselves */
static void group_generic(const double *const *x, int w, const int *train, int n_train,
                          const int *test, int n_test, double *center, double *scale,
                          int *constant, double *const *ztr, double *const *zte) {
  if (w == 4) {
    col_stats_four(x, train, n_train, center, scale, constant);
  } else {
    for (int c = 0; c < w; c++)
      col_stats_one(x[c], train, n_train, center + c, scale + c, constant + c);
  }
  const int zero = 0;
  for (int c = 0; c < w; c++) {
    standardise_rows(x[c], 0, train, n_train, &zero, 1, center + c, scale + c, ztr[c]);
    if (n_test > 0)
      standardise_rows(x[c], 0, test, n_test, &zero, 1, center + c, scale + c, zte[c]);
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(HOTALIGN_NO_AVX2)
#define HOT_STD_AVX2 1
#include <immintrin.h>

/* the vector path: lanes c = 0..3 are the columns x[c] (lanes past w repeat
 * column 0 and are not written) */
__attribute__((target("avx2")))
static void group_avx2(const double *const *x, int w, const int *train, int n_train,
                       const int *test, int n_test, double *center, double *scale,
                       int *constant, double *const *ztr, double *const *zte,
                       double *pk) {
  const double *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
  int i = train[0];
  __m256d lo = _mm256_set_pd(x3[i], x2[i], x1[i], x0[i]), hi = lo;
  __m256d sum = _mm256_setzero_pd();
  for (int r = 0; r < n_train; r++) {
    i = train[r];
    const __m256d v = _mm256_set_pd(x3[i], x2[i], x1[i], x0[i]);
    _mm256_storeu_pd(pk + 4 * (size_t) r, v);
    sum = _mm256_add_pd(sum, v);
    lo = _mm256_min_pd(v, lo); /* v < lo ? v : lo */
    hi = _mm256_max_pd(v, hi); /* v > hi ? v : hi */
  }
  double s4[4], lo4[4], hi4[4];
  _mm256_storeu_pd(s4, sum);
  _mm256_storeu_pd(lo4, lo);
  _mm256_storeu_pd(hi4, hi);
  int odd = 0;
  for (int c = 0; c < w; c++) odd |= !R_FINITE(s4[c]);
  if (odd) {
    for (int c = 0; c < w; c++)
      col_stats_one(x[c], train, n_train, center + c, scale + c, constant + c);
  } else {
    const __m256d nr = _mm256_set1_pd((double) n_train);
    __m256d mean = _mm256_div_pd(sum, nr), corr = _mm256_setzero_pd();
    for (int r = 0; r < n_train; r++)
      corr = _mm256_add_pd(corr, _mm256_sub_pd(_mm256_loadu_pd(pk + 4 * (size_t) r), mean));
    mean = _mm256_add_pd(mean, _mm256_div_pd(corr, nr));
    const __m256d sign = _mm256_set1_pd(-0.0);
    __m256d ss = _mm256_setzero_pd(), dmax = _mm256_setzero_pd();
    for (int r = 0; r < n_train; r++) {
      const __m256d d = _mm256_sub_pd(_mm256_loadu_pd(pk + 4 * (size_t) r), mean);
      ss = _mm256_add_pd(ss, _mm256_mul_pd(d, d));
      dmax = _mm256_max_pd(_mm256_andnot_pd(sign, d), dmax); /* |d| > dmax ? |d| : dmax */
    }
    double m4[4], ss4[4], dm4[4];
    _mm256_storeu_pd(m4, mean);
    _mm256_storeu_pd(ss4, ss);
    _mm256_storeu_pd(dm4, dmax);
    for (int c = 0; c < w; c++) {
      if (lo4[c] != hi4[c] && dm4[c] > 0 && !(ss4[c] > 1e-290 && ss4[c] < 1e290)) {
        col_stats_one(x[c], train, n_train, center + c, scale + c, constant + c);
        continue;
      }
      constant[c] = (lo4[c] == hi4[c]);
      center[c] = m4[c];
      scale[c] = constant[c] ? 0 : sqrt(ss4[c]);
    }
  }
  double cc[4], sc[4];
  for (int c = 0; c < 4; c++) {
    cc[c] = center[c < w ? c : 0];
    sc[c] = scale[c < w ? c : 0];
  }
  const __m256d c4 = _mm256_loadu_pd(cc), d4 = _mm256_loadu_pd(sc);
  double z[4];
  if (w == 4) {
    double *z0 = ztr[0], *z1 = ztr[1], *z2 = ztr[2], *z3 = ztr[3];
    for (int r = 0; r < n_train; r++) {
      _mm256_storeu_pd(z, _mm256_div_pd(
                              _mm256_sub_pd(_mm256_loadu_pd(pk + 4 * (size_t) r), c4), d4));
      z0[r] = z[0];
      z1[r] = z[1];
      z2[r] = z[2];
      z3[r] = z[3];
    }
    if (n_test > 0) {
      z0 = zte[0], z1 = zte[1], z2 = zte[2], z3 = zte[3];
      for (int r = 0; r < n_test; r++) {
        i = test[r];
        const __m256d v = _mm256_set_pd(x3[i], x2[i], x1[i], x0[i]);
        _mm256_storeu_pd(z, _mm256_div_pd(_mm256_sub_pd(v, c4), d4));
        z0[r] = z[0];
        z1[r] = z[1];
        z2[r] = z[2];
        z3[r] = z[3];
      }
    }
    return;
  }
  for (int r = 0; r < n_train; r++) {
    _mm256_storeu_pd(z, _mm256_div_pd(
                            _mm256_sub_pd(_mm256_loadu_pd(pk + 4 * (size_t) r), c4), d4));
    for (int c = 0; c < w; c++) ztr[c][r] = z[c];
  }
  for (int r = 0; r < n_test; r++) {
    i = test[r];
    const __m256d v = _mm256_set_pd(x3[i], x2[i], x1[i], x0[i]);
    _mm256_storeu_pd(z, _mm256_div_pd(_mm256_sub_pd(v, c4), d4));
    for (int c = 0; c < w; c++) zte[c][r] = z[c];
  }
}
#endif

/* 1 when the vector path can be used (the processor has AVX2), decided
 * once, on the main thread (standardise_layers()) */
static int std_simd = -1;

static int std_use_simd(void) {
  if (std_simd < 0) {
#ifdef HOT_STD_AVX2
    __builtin_cpu_init();
    std_simd = __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    std_simd = 0;
#endif
  }
  return std_simd;
}

size_t col_stats_standardise_scratch(int n_train) {
  return 4 * (size_t) (n_train > 0 ? n_train : 1);
}

void col_stats_standardise(const double *X, R_xlen_t T, int j0, int w, const int *train,
                           int n_train, const int *test, int n_test, double *center,
                           double *scale, int *constant, double *Ztrain, double *Ztest,
                           double *scratch, int simd) {
  const double *x[4];
  double *ztr[4], *zte[4];
  for (int c = 0; c < 4; c++) {
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
 * col_stats_standardise(): tasks of 4 columns of one layer, shared out over
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
  for (int k = 0; k < K; k++) first[k + 1] = first[k] + (n[k] + 3) / 4;
  const int ntask = first[K];
  if (ntask == 0) return;
  nth = hot_threads_for(nth, ntask);
  simd = simd && std_use_simd(); /* decided here, on the main thread */
  const size_t per = col_stats_standardise_scratch(n_train);
  double *scratch = (double *) R_alloc(per * nth, sizeof(double));
  const double values = 4.0 * ((double) n_train + n_test);
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
      const int j0 = (t - first[k]) * 4, w = n[k] - j0 < 4 ? n[k] - j0 : 4;
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

/* The number of NA/NaN/Inf values of a double vector and the 1-based index
 * of the first (0 when there is none), in one pass without allocating; for
 * a list of double vectors (the layers of a system, in one call), a 2 x K
 * matrix of the same for each. */
static void count_nonfinite(SEXP x, double *out) {
  const double *v = REAL(x);
  R_xlen_t n = XLENGTH(x), count = 0, first = 0;
  /* fast path: v * 0 is NaN exactly when v is NA, NaN or +-Inf, so four
   * independent sums of v * 0 are all zero when every value is finite */
  double probe[4] = {0, 0, 0, 0};
  R_xlen_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int c = 0; c < 4; c++) probe[c] += v[i + c] * 0.0;
  for (; i < n; i++) probe[0] += v[i] * 0.0;
  if (probe[0] + probe[1] + probe[2] + probe[3] == 0) {
    out[0] = out[1] = 0;
    return;
  }
  for (R_xlen_t i = 0; i < n; i++) {
    if (!R_FINITE(v[i])) {
      if (count++ == 0) first = i + 1;
    }
  }
  out[0] = (double) count;
  out[1] = (double) first;
}

SEXP ffi_nonfinite(SEXP x) {
  if (TYPEOF(x) == VECSXP) {
    const int K = Rf_length(x);
    for (int k = 0; k < K; k++)
      if (!Rf_isReal(VECTOR_ELT(x, k)))
        Rf_error("expected a list of double vectors or matrices");
    SEXP out = PROTECT(Rf_allocMatrix(REALSXP, 2, K));
    for (int k = 0; k < K; k++) count_nonfinite(VECTOR_ELT(x, k), REAL(out) + 2 * (R_xlen_t) k);
    UNPROTECT(1);
    return out;
  }
  if (!Rf_isReal(x)) Rf_error("expected a double vector or matrix");
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
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
