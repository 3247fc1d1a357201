/* Reconstruction of source layers from the target system and per-unit
 * Pearson scores on held-out stimuli:
 *   X^_l = sum_m (L W[l, m]) * Y~_m (n_l Q_lm)^T [ R_lm^T ]
 * where W is the outer plan P (or a baseline's weights), Q_lm the sparse
 * inner plans stored as triplets (i, j, x) with pair offsets `start`, and
 * R_lm the HOT+R rotations: a list of L * M (pair k = l + m L) with an
 * n_l x n_l matrix where a rotation applies and NULL where it does not
 * (plain HOT, or R = I); `rotations` itself may be NULL. */
#include <math.h>
#include <string.h>
#include <R.h>
#include <Rinternals.h>
#include "blas_lapack.h"
#include "hotalign.h"

typedef struct {
  const int *i, *j;
  const double *x, *start; /* start: L*M + 1 offsets (doubles: may exceed int) */
} sparse_plans;

/* R has checked everything; a direct .Call with anything else is refused
 * here rather than read out of bounds.  inner: list(i, j, x, start, ...) with
 * start L*M + 1 non-decreasing whole offsets into i, j, x, and pair k's
 * entries in 1..n_source[l] x 1..ncol(Ys[[m]]); W: L x M doubles; rotations:
 * NULL or a list of L*M entries, each NULL or an n_l x n_l double matrix. */
static void check_plans(SEXP Ys, SEXP inner, SEXP W, const int *n_source, int L,
                        SEXP rotations) {
  const int M = Rf_length(Ys);
  const R_xlen_t LM = (R_xlen_t) L * M;
  if (!Rf_isReal(W) || XLENGTH(W) != LM)
    Rf_error("`W` must be a double matrix with %d x %d entries", L, M);
  if (TYPEOF(inner) != VECSXP || XLENGTH(inner) < 4 ||
      !Rf_isInteger(VECTOR_ELT(inner, 0)) || !Rf_isInteger(VECTOR_ELT(inner, 1)) ||
      !Rf_isReal(VECTOR_ELT(inner, 2)) || !Rf_isReal(VECTOR_ELT(inner, 3)))
    Rf_error("`inner` must be list(i = integer, j = integer, x = double, "
             "start = double)");
  R_xlen_t nnz = XLENGTH(VECTOR_ELT(inner, 0));
  if (XLENGTH(VECTOR_ELT(inner, 1)) != nnz || XLENGTH(VECTOR_ELT(inner, 2)) != nnz ||
      XLENGTH(VECTOR_ELT(inner, 3)) != LM + 1)
    Rf_error("`inner`: `i`, `j`, `x` must have equal lengths and `start` %d + 1",
             (int) LM);
  const int *pi = INTEGER(VECTOR_ELT(inner, 0)), *pj = INTEGER(VECTOR_ELT(inner, 1));
  const double *start = REAL(VECTOR_ELT(inner, 3));
  if (!(start[0] == 0)) Rf_error("`inner$start` must begin at 0");
  for (R_xlen_t k = 0; k < LM; k++) {
    double s0 = start[k], s1 = start[k + 1];
    if (!(s1 >= s0) || s1 > (double) nnz || s1 != floor(s1))
      Rf_error("`inner$start` must be non-decreasing whole offsets <= %.0f",
               (double) nnz);
    int l = (int) (k % L), m = (int) (k / L), nm = Rf_ncols(VECTOR_ELT(Ys, m));
    for (R_xlen_t t = (R_xlen_t) s0; t < (R_xlen_t) s1; t++)
      if (pi[t] == NA_INTEGER || pi[t] < 1 || pi[t] > n_source[l] ||
          pj[t] == NA_INTEGER || pj[t] < 1 || pj[t] > nm)
        Rf_error("`inner` entry %.0f is outside the units of pair %d", (double) t + 1,
                 (int) k + 1);
  }
  if (Rf_isNull(rotations)) return;
  if (TYPEOF(rotations) != VECSXP || XLENGTH(rotations) != LM)
    Rf_error("`rotations` must be NULL or a list of %d entries", (int) LM);
  for (R_xlen_t k = 0; k < LM; k++) {
    SEXP R = VECTOR_ELT(rotations, k);
    int n = n_source[k % L];
    if (!Rf_isNull(R) && (!Rf_isReal(R) || !Rf_isMatrix(R) || Rf_nrows(R) != n ||
                          Rf_ncols(R) != n))
      Rf_error("`rotations[[%d]]` must be NULL or a %d x %d double matrix",
               (int) k + 1, n, n);
  }
}

static sparse_plans plans_from(SEXP inner) {
  sparse_plans sp;
  sp.i = INTEGER(VECTOR_ELT(inner, 0));
  sp.j = INTEGER(VECTOR_ELT(inner, 1));
  sp.x = REAL(VECTOR_ELT(inner, 2));
  sp.start = REAL(VECTOR_ELT(inner, 3));
  return sp;
}

/* Xhat (T x n_l), column-major.  rot: L * M pointers (NULL entries: no
 * rotation) or NULL; B: T x n_l scratch, used only for rotated pairs. */
static void reconstruct_layer(int l, int L, int M, int T, int n_l, const double *W,
                              const double **Y, const sparse_plans *sp,
                              const double **rot, double *B, double *Xhat) {
  memset(Xhat, 0, sizeof(double) * (size_t) T * n_l);
  for (int m = 0; m < M; m++) {
    double w = W[l + (R_xlen_t) m * L];
    if (w == 0) continue;
    R_xlen_t k = l + (R_xlen_t) m * L;
    const double *R = rot ? rot[k] : NULL;
    /* without rotation, accumulate straight into Xhat; with it, B = Y (n Q)'
     * first and then Xhat += L w B R' */
    double s = R ? (double) n_l : (double) L * w * n_l;
    double *dest = R ? B : Xhat;
    if (R) memset(B, 0, sizeof(double) * (size_t) T * n_l);
    for (R_xlen_t t = (R_xlen_t) sp->start[k]; t < (R_xlen_t) sp->start[k + 1]; t++) {
      double c = s * sp->x[t];
      double *out = dest + (R_xlen_t) (sp->i[t] - 1) * T;
      const double *y = Y[m] + (R_xlen_t) (sp->j[t] - 1) * T;
      for (int r = 0; r < T; r++) out[r] += c * y[r];
    }
    if (R && T > 0) {
      const double alpha = (double) L * w, one = 1.0;
      F77_CALL(dgemm)("N", "T", &T, &n_l, &n_l, &alpha, B, &T, R, &n_l, &one,
                      Xhat, &T FCONE FCONE);
    }
  }
}

static int is_constant(const double *x, int T) {
  for (int r = 1; r < T; r++)
    if (x[r] != x[0]) return 0;
  return 1;
}

/* Pearson correlation of two length-T vectors; NA when either is constant
 * (tested exactly: the centred sums of a constant vector are round-off) */
static double pearson(const double *x, const double *y, int T) {
  if (is_constant(x, T) || is_constant(y, T)) return NA_REAL;
  double mx = 0, my = 0;
  for (int r = 0; r < T; r++) {
    mx += x[r];
    my += y[r];
  }
  mx /= T;
  my /= T;
  double sxy = 0, sxx = 0, syy = 0;
  for (int r = 0; r < T; r++) {
    double dx = x[r] - mx, dy = y[r] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (!(sxx > 0) || !(syy > 0)) return NA_REAL;
  return sxy / sqrt(sxx * syy);
}

static const double **layer_pointers(SEXP layers) {
  int K = Rf_length(layers);
  const double **p = (const double **) R_alloc(K > 0 ? K : 1, sizeof(double *));
  for (int k = 0; k < K; k++) p[k] = REAL(VECTOR_ELT(layers, k));
  return p;
}

/* the rotation of each pair, NULL where none applies (or no list at all) */
static const double **rotation_pointers(SEXP rotations) {
  if (Rf_isNull(rotations)) return NULL;
  int K = Rf_length(rotations);
  const double **p = (const double **) R_alloc(K > 0 ? K : 1, sizeof(double *));
  for (int k = 0; k < K; k++) {
    SEXP R = VECTOR_ELT(rotations, k);
    p[k] = Rf_isNull(R) ? NULL : REAL(R);
  }
  return p;
}

/* per-unit held-out correlations of every source layer */
SEXP ffi_reconstruct_scores(SEXP Xs, SEXP Ys, SEXP inner, SEXP W, SEXP rotations) {
  int T0 = check_layer_list(Xs, "Xs", -1);
  check_layer_list(Ys, "Ys", T0);
  const int L = Rf_length(Xs), M = Rf_length(Ys);
  const int T = Rf_nrows(VECTOR_ELT(Xs, 0));
  int *n_source = (int *) R_alloc(L, sizeof(int));
  for (int l = 0; l < L; l++) n_source[l] = Rf_ncols(VECTOR_ELT(Xs, l));
  check_plans(Ys, inner, W, n_source, L, rotations);
  const double **Y = layer_pointers(Ys);
  const double **rot = rotation_pointers(rotations);
  sparse_plans sp = plans_from(inner);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, L));
  for (int l = 0; l < L; l++) {
    SEXP Xl = VECTOR_ELT(Xs, l);
    int n_l = Rf_ncols(Xl);
    double *Xhat = (double *) R_alloc((size_t) T * n_l, sizeof(double));
    double *B = rot ? (double *) R_alloc((size_t) T * n_l, sizeof(double)) : NULL;
    reconstruct_layer(l, L, M, T, n_l, REAL(W), Y, &sp, rot, B, Xhat);
    SEXP r = PROTECT(Rf_allocVector(REALSXP, n_l));
    for (int i = 0; i < n_l; i++)
      REAL(r)[i] = pearson(Xhat + (R_xlen_t) i * T, REAL(Xl) + (R_xlen_t) i * T, T);
    SET_VECTOR_ELT(out, l, r);
    UNPROTECT(1);
  }
  UNPROTECT(1);
  return out;
}

/* the reconstructions themselves (for predict) */
SEXP ffi_reconstruct(SEXP Ys, SEXP inner, SEXP W, SEXP n_source, SEXP rotations) {
  check_layer_list(Ys, "Ys", -1);
  if (!Rf_isInteger(n_source) || XLENGTH(n_source) < 1)
    Rf_error("`n_source` must be a non-empty integer vector");
  for (R_xlen_t l = 0; l < XLENGTH(n_source); l++)
    if (INTEGER(n_source)[l] == NA_INTEGER || INTEGER(n_source)[l] < 1)
      Rf_error("`n_source` must be whole numbers >= 1");
  const int M = Rf_length(Ys), L = Rf_length(n_source);
  const int T = Rf_nrows(VECTOR_ELT(Ys, 0));
  check_plans(Ys, inner, W, INTEGER(n_source), L, rotations);
  const double **Y = layer_pointers(Ys);
  const double **rot = rotation_pointers(rotations);
  sparse_plans sp = plans_from(inner);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, L));
  for (int l = 0; l < L; l++) {
    int n_l = INTEGER(n_source)[l];
    SEXP Xhat = PROTECT(Rf_allocMatrix(REALSXP, T, n_l));
    double *B = rot ? (double *) R_alloc((size_t) T * n_l, sizeof(double)) : NULL;
    reconstruct_layer(l, L, M, T, n_l, REAL(W), Y, &sp, rot, B, REAL(Xhat));
    SET_VECTOR_ELT(out, l, Xhat);
    UNPROTECT(1);
  }
  UNPROTECT(1);
  return out;
}
