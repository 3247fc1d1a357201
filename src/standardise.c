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

void col_train_stats(const double *X, R_xlen_t T, int n, const int *rows,
                     int n_rows, double *center, double *scale, int *constant) {
  for (int j = 0; j < n; j++) {
    const double *x = X + (R_xlen_t) j * T;
    double lo = x[rows[0]], hi = lo, sum = 0;
    for (int r = 0; r < n_rows; r++) {
      double xi = x[rows[r]];
      sum += xi;
      if (xi < lo) lo = xi;
      if (xi > hi) hi = xi;
    }
    /* a sum beyond the double range (|x| near DBL_MAX): average x / n instead */
    double mean = sum / n_rows, corr = 0;
    if (!R_FINITE(sum)) {
      /* the mean itself, never times n_rows (that overflows again) */
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
    constant[j] = (lo == hi);
    center[j] = mean;
    scale[j] = constant[j] ? 0 : norm;
  }
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
  const int nth = hot_threads_clamp(Rf_asInteger(threads));
  const int *r0 = zero_based(rows, Rf_nrows(X));
  SEXP Z = PROTECT(Rf_allocMatrix(REALSXP, nr, nk));
  const double *x = REAL(X), *c = REAL(center), *sc = REAL(scale);
  double *z = REAL(Z);
  advise_huge_pages(z, sizeof(double) * (size_t) nr * (size_t) nk);
  const R_xlen_t T = Rf_nrows(X);
  /* blocks of 64 columns: one per thread at a time */
  const int blocks = (nk + 63) / 64;
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
 * of the first (0 when there is none), in one pass without allocating. */
SEXP ffi_nonfinite(SEXP x) {
  if (!Rf_isReal(x)) Rf_error("expected a double vector or matrix");
  const double *v = REAL(x);
  R_xlen_t n = XLENGTH(x), count = 0, first = 0;
  for (R_xlen_t i = 0; i < n; i++) {
    if (!R_FINITE(v[i])) {
      if (count++ == 0) first = i + 1;
    }
  }
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
  REAL(out)[0] = (double) count;
  REAL(out)[1] = (double) first;
  UNPROTECT(1);
  return out;
}
