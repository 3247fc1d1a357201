/* The correlation-distance cost of one layer pair through BLAS dgemm:
 *   K[i, j] = 1/2 || x~_i - y~_j ||^2 = 1 - <x~_i, y~_j>
 * for columns standardised to zero mean and unit norm. */
#include <R.h>
#include <Rinternals.h>
#include "blas_lapack.h"
#include "hotalign.h"

void correlation_cost(const double *Xs, const double *Ys, int T, int n, int m,
                      double *K) {
  R_xlen_t nm = (R_xlen_t) n * m;
  for (R_xlen_t e = 0; e < nm; e++) K[e] = 1.0;
  if (T == 0 || nm == 0) return;
  const double minus_one = -1.0, one = 1.0;
  F77_CALL(dgemm)("T", "N", &n, &m, &T, &minus_one, Xs, &T, Ys, &T, &one, K,
                  &n FCONE FCONE);
}

SEXP ffi_correlation_cost(SEXP Xs, SEXP Ys) {
  if (!Rf_isReal(Xs) || !Rf_isMatrix(Xs) || !Rf_isReal(Ys) || !Rf_isMatrix(Ys) ||
      Rf_nrows(Xs) != Rf_nrows(Ys))
    Rf_error("correlation_cost: expected two double matrices with equal rows");
  int T = Rf_nrows(Xs), n = Rf_ncols(Xs), m = Rf_ncols(Ys);
  SEXP K = PROTECT(Rf_allocMatrix(REALSXP, n, m));
  correlation_cost(REAL(Xs), REAL(Ys), T, n, m, REAL(K));
  UNPROTECT(1);
  return K;
}
