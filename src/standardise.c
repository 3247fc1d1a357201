/* Standardisation of columns on the training rows only:
 *   x~ = (x - mean_train(x)) / || x - mean_train(x) ||_train
 * The same statistics are applied to every row (training and held out). */
#include <math.h>
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
    /* two passes: the correction makes the centred sum vanish to round-off */
    double mean = sum / n_rows, corr = 0;
    for (int r = 0; r < n_rows; r++) corr += x[rows[r]] - mean;
    mean += corr / n_rows;
    double ss = 0;
    for (int r = 0; r < n_rows; r++) {
      double d = x[rows[r]] - mean;
      ss += d * d;
    }
    /* exactly constant on the training rows: no correlation is defined */
    constant[j] = (lo == hi);
    center[j] = mean;
    scale[j] = constant[j] ? 0 : sqrt(ss);
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

/* rows: 1-based integer row indices */
static int *zero_based(SEXP rows) {
  int nr = Rf_length(rows), *r0 = (int *) R_alloc(nr, sizeof(int));
  for (int r = 0; r < nr; r++) r0[r] = INTEGER(rows)[r] - 1;
  return r0;
}

SEXP ffi_col_stats(SEXP X, SEXP rows) {
  int n = Rf_ncols(X), nr = Rf_length(rows);
  SEXP center = PROTECT(Rf_allocVector(REALSXP, n));
  SEXP scale = PROTECT(Rf_allocVector(REALSXP, n));
  SEXP constant = PROTECT(Rf_allocVector(LGLSXP, n));
  if (n > 0)
    col_train_stats(REAL(X), Rf_nrows(X), n, zero_based(rows), nr, REAL(center),
                    REAL(scale), LOGICAL(constant));
  const char *names[] = {"center", "scale", "constant", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(out, 0, center);
  SET_VECTOR_ELT(out, 1, scale);
  SET_VECTOR_ELT(out, 2, constant);
  UNPROTECT(4);
  return out;
}

/* keep: 1-based column indices; returns X[rows, keep] standardised */
SEXP ffi_standardise(SEXP X, SEXP rows, SEXP keep, SEXP center, SEXP scale) {
  int nr = Rf_length(rows), nk = Rf_length(keep);
  int *k0 = (int *) R_alloc(nk > 0 ? nk : 1, sizeof(int));
  for (int k = 0; k < nk; k++) k0[k] = INTEGER(keep)[k] - 1;
  SEXP Z = PROTECT(Rf_allocMatrix(REALSXP, nr, nk));
  standardise_rows(REAL(X), Rf_nrows(X), zero_based(rows), nr, k0, nk,
                   REAL(center), REAL(scale), REAL(Z));
  UNPROTECT(1);
  return Z;
}
