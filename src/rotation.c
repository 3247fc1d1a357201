/* Rotation-invariant HOT (HOT+R) for one layer pair.
 *
 * For standardised training data Xs (T x n) and Ys (T x n') the pair cost is
 *
 *   C = min_{R in O(n), Q in U(1/n, 1/n')} sum_ij Q_ij 1/2 ||(Xs R)_i - ys_j||^2
 *
 * solved by block-coordinate descent from R = I, so that the first step is
 * the plain HOT solve the caller has already made:
 *   (b) Q fixed: orthogonal Procrustes, U S V' = svd(M), M = A (n Q)',
 *       R = U V', where A = Xs' Ys;
 *   (a) R fixed: exact OT for Q on
 *       K_R[i, j] = 1/2 (R' G R)[i, i] + 1/2 - (R' A)[i, j],  G = Xs' Xs,
 *       warm-started from the previous basis (the cost buffer is overwritten
 *       in place and the simplex resumed with ot_restart()).
 * Each step minimises the objective over its block, so the objective never
 * increases (in exact arithmetic; a floating-point rise is round-off and
 * ends the descent).  It stops when the decrease is at most
 * tol * |previous objective| + ROT_NOISE, or after max_iter iterations (one
 * iteration = one Procrustes step and one OT).  ROT_NOISE = 2^10 DBL_EPSILON
 * is the round-off of the objective (the costs are O(1): 0 <= K_R <= 2), so
 * that an objective at zero (a perfect alignment) does not chase round-off
 * to max_iter.
 *
 * Pure C on caller-provided workspace: runs inside the OpenMP region of
 * pair_loop.c.  Its result depends only on its inputs and on `lwork`, which
 * the callers compute from n alone (rotation_lwork), so it is the same for
 * any thread and any number of threads, and a rerun of a pair reproduces R.
 */
#include <float.h>
#include <math.h>
#include <string.h>
#include "blas_lapack.h"
#include "hotalign.h"

#define ROT_NOISE (1024 * DBL_EPSILON)

int rotation_lwork(int n) {
  /* workspace query: only work[0] is written */
  double dummy = 0, size = 0;
  int idummy = 0, info = 0, query = -1;
  F77_CALL(dgesdd)("S", &n, &n, &dummy, &n, &dummy, &dummy, &n, &dummy, &n,
                   &size, &query, &idummy, &info FCONE);
  if (info != 0 || !(size >= 1) || size > 2147483647.0) return -1;
  return (int) ceil(size);
}

size_t rotation_scratch_doubles(int n, int m, R_xlen_t nm, int lwork) {
  size_t nn = (size_t) n * (size_t) n;
  return 5 * nn                           /* G, R, M, U, VT (n x n) */
         + (size_t) nm                    /* A (n x n') */
         + 3 * (size_t) n + (size_t) m    /* S, d, u (n); v (n') */
         + (size_t) n + (size_t) m        /* fx (n + n' - 1, rounded up) */
         + (size_t) lwork;                /* dgesdd work */
}

size_t rotation_scratch_ints(int n, int m) {
  return 8 * (size_t) n                   /* dgesdd iwork */
         + 2 * ((size_t) n + (size_t) m); /* fi, fj */
}

void rotation_scratch_init(rotation_scratch *ws, double *dbl, int *ints, int n,
                           int m, R_xlen_t nm, int lwork) {
  size_t nn = (size_t) n * (size_t) n;
  ws->G = dbl;
  ws->R = ws->G + nn;
  ws->M = ws->R + nn;
  ws->U = ws->M + nn;
  ws->VT = ws->U + nn;
  ws->A = ws->VT + nn;
  ws->S = ws->A + nm;
  ws->d = ws->S + n;
  ws->u = ws->d + n;
  ws->v = ws->u + n;
  ws->fx = ws->v + m;
  ws->work = ws->fx + n + m;
  ws->lwork = lwork;
  ws->iwork = ints;
  ws->fi = ws->iwork + 8 * (size_t) n;
  ws->fj = ws->fi + n + m;
}

int rotation_descent(ot_problem *p, const double *Xs, const double *Ys, int T,
                     int n, int m, int max_iter, double tol, int lwork,
                     double *K, rotation_scratch *ws, double *objective,
                     double *trace, int *iterations, int *converged) {
  const R_xlen_t nn = (R_xlen_t) n * n;
  const double mass_scale = 1.0 / ((double) n * m);
  const double one = 1.0, zero = 0.0, minus_one = -1.0;
  double *R = ws->R, *M = ws->M, *U = ws->U, *VT = ws->VT, *G = ws->G;
  double *A = ws->A;

  memset(R, 0, sizeof(double) * (size_t) nn);
  for (int i = 0; i < n; i++) R[i + (R_xlen_t) i * n] = 1.0;
  *iterations = 0;
  *converged = 0;
  double obj;
  int nnz = ot_extract(p, mass_scale, ws->fi, ws->fj, ws->fx, ws->u, ws->v, &obj);
  *objective = obj;
  if (trace) trace[0] = obj;
  if (max_iter <= 0) return OT_OPTIMAL;

  /* G = Xs' Xs (upper triangle), A = Xs' Ys: once per pair */
  F77_CALL(dsyrk)("U", "T", &n, &T, &one, Xs, &T, &zero, G, &n FCONE FCONE);
  F77_CALL(dgemm)("T", "N", &n, &m, &T, &one, Xs, &T, Ys, &T, &zero, A, &n
                  FCONE FCONE);

  for (int it = 1; it <= max_iter; it++) {
    /* (b) Procrustes: M = A (n Q)', column i gathers the targets of unit i */
    memset(M, 0, sizeof(double) * (size_t) nn);
    for (int t = 0; t < nnz; t++) {
      double c = (double) n * ws->fx[t];
      double *col = M + (R_xlen_t) ws->fi[t] * n;
      const double *a = A + (R_xlen_t) ws->fj[t] * n;
      for (int r = 0; r < n; r++) col[r] += c * a[r];
    }
    int info = 0;
    F77_CALL(dgesdd)("S", &n, &n, M, &n, ws->S, U, &n, VT, &n, ws->work, &lwork,
                     ws->iwork, &info FCONE);
    if (info < 0) return ROT_SVD_ARGUMENT;
    if (info > 0) return ROT_SVD_NO_CONVERGENCE;
    F77_CALL(dgemm)("N", "N", &n, &n, &n, &one, U, &n, VT, &n, &zero, R, &n
                    FCONE FCONE);

    /* (a) the rotated cost: d_i = (R' G R)[i, i] through U := G R */
    F77_CALL(dsymm)("L", "U", &n, &n, &one, G, &n, R, &n, &zero, U, &n
                    FCONE FCONE);
    for (int i = 0; i < n; i++) {
      const double *ri = R + (R_xlen_t) i * n, *gi = U + (R_xlen_t) i * n;
      double s = 0;
      for (int k = 0; k < n; k++) s += ri[k] * gi[k];
      ws->d[i] = 0.5 * s + 0.5;
    }
    for (int j = 0; j < m; j++) {
      double *kj = K + (R_xlen_t) j * n;
      for (int i = 0; i < n; i++) kj[i] = ws->d[i];
    }
    F77_CALL(dgemm)("T", "N", &n, &m, &n, &minus_one, R, &n, A, &n, &one, K, &n
                    FCONE FCONE);

    /* exact OT for Q, warm-started from the previous basis */
    ot_restart(p);
    int st = ot_run(p, 0);
    if (st != OT_OPTIMAL) return st;
    double next;
    nnz = ot_extract(p, mass_scale, ws->fi, ws->fj, ws->fx, ws->u, ws->v, &next);
    if (trace) trace[it] = next;
    *iterations = it;
    double decrease = obj - next;
    double prev = obj;
    obj = next;
    if (!(decrease > tol * fabs(prev) + ROT_NOISE)) {
      *converged = 1;
      break;
    }
  }
  *objective = obj;
  return OT_OPTIMAL;
}
