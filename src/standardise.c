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
