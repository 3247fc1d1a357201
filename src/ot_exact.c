/* .Call wrapper of the exact OT kernel for ot_exact().
 * R has already checked and coerced everything: `cost` is a finite double
 * matrix, `a` and `b` finite non-negative doubles with equal sums. */
#include <R.h>
#include <Rinternals.h>
#include <math.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "hotalign.h"

/* wall seconds (the timings of ffi_ot_sequence) */
static double seq_now(void) {
#ifdef _OPENMP
  return omp_get_wtime();
#else
  return (double) clock() / CLOCKS_PER_SEC;
#endif
}

/* pivots per slice between interrupt checks: about 2^24 arc prices */
double ot_slice_pivots(int n, int m) {
  double arcs = (double) n * (double) m, block = sqrt(arcs);
  double budget = 16777216.0 / (block < 10 ? 10 : block);
  return budget < 1000 ? 1000 : budget;
}

/* out[[0..2]] <- the 1-based triplets (i, j, x) of the nnz flows fi, fj, fx */
static void set_triplets(SEXP out, int nnz, const int *fi, const int *fj,
                         const double *fx) {
  SEXP ri = Rf_allocVector(INTSXP, nnz);
  SET_VECTOR_ELT(out, 0, ri);
  SEXP rj = Rf_allocVector(INTSXP, nnz);
  SET_VECTOR_ELT(out, 1, rj);
  SEXP rx = Rf_allocVector(REALSXP, nnz);
  SET_VECTOR_ELT(out, 2, rx);
  for (int k = 0; k < nnz; k++) {
    INTEGER(ri)[k] = fi[k] + 1;
    INTEGER(rj)[k] = fj[k] + 1;
    REAL(rx)[k] = fx[k];
  }
}

/* res[[0..7]] <- i, j, x, u, v, cost, pivots, status of the n x m problem p (ended
 * with `status`; the plan and duals empty / NA unless optimal); fi, fj, fx
 * are scratch of n + m - 1 flows */
static void set_solution(SEXP res, const ot_problem *p, int n, int m,
                         int status, double mass_scale, double pivots, int *fi,
                         int *fj, double *fx) {
  SEXP u = Rf_allocVector(REALSXP, n);
  SET_VECTOR_ELT(res, 3, u);
  SEXP v = Rf_allocVector(REALSXP, m);
  SET_VECTOR_ELT(res, 4, v);
  double obj = NA_REAL;
  int nnz = 0;
  if (status == OT_OPTIMAL) {
    nnz = ot_extract(p, mass_scale, fi, fj, fx, REAL(u), REAL(v), &obj);
  } else { /* no duals to report */
    for (int i = 0; i < n; i++) REAL(u)[i] = NA_REAL;
    for (int j = 0; j < m; j++) REAL(v)[j] = NA_REAL;
  }
  set_triplets(res, nnz, fi, fj, fx);
  SET_VECTOR_ELT(res, 5, Rf_ScalarReal(obj));
  SET_VECTOR_ELT(res, 6, Rf_ScalarReal(pivots));
  SET_VECTOR_ELT(res, 7, Rf_ScalarInteger(status));
}

/* 1 when every one of the len values is finite (nan_ok: or NaN): the
 * solvers assume finite costs and masses (art_cost, potentials), which R
 * checks before; the entry points refuse the rest themselves.  The test
 * entry point ffi_ot_sequence takes NaN costs, which defeat the assignment
 * solver's certificate and so exercise its hand-over to the simplex; an
 * infinite cost crashed the simplex. */
static int all_finite(const double *x, R_xlen_t len, int nan_ok) {
  double big;
  if (!nan_ok) return values_finite(x, len, &big); /* one vector pass */
  for (R_xlen_t e = 0; e < len; e++)
    if (!R_FINITE(x[e]) && !ISNAN(x[e])) return 0;
  return 1;
}

SEXP ffi_ot_exact(SEXP cost, SEXP a, SEXP b, SEXP mass_scale, SEXP pricing) {
  /* R has checked all of this; a direct .Call with anything else is refused
   * here rather than read out of bounds */
  if (!Rf_isReal(cost) || !Rf_isMatrix(cost) || !Rf_isReal(a) || !Rf_isReal(b) ||
      !Rf_isReal(mass_scale) || Rf_length(mass_scale) != 1 ||
      !Rf_isInteger(pricing) || Rf_length(pricing) != 1 ||
      INTEGER(pricing)[0] < OT_PRICE_AUTO || INTEGER(pricing)[0] > OT_PRICE_STAR)
    Rf_error("ffi_ot_exact: `cost` must be a double matrix, `a`, `b` doubles, "
             "`pricing` 0 to 4");
  int n = Rf_nrows(cost), m = Rf_ncols(cost);
  if (n < 1 || m < 1 || XLENGTH(a) != n || XLENGTH(b) != m)
    Rf_error("ffi_ot_exact: sizes of `cost` (%d x %d), `a` and `b` disagree", n, m);
  /* non-finite costs or masses are reported by status without solving (the
   * solvers assume finite values: the simplex crashed on a 300 x 300 cost
   * with a row of +Inf): OT_UNBOUNDED for the costs, OT_INFEASIBLE for the
   * masses */
  const int finite_cost = all_finite(REAL(cost), XLENGTH(cost), 0),
            finite_mass = all_finite(REAL(a), n, 0) && all_finite(REAL(b), m, 0);
  ot_problem *p = NULL;
  double pivots = 0;
  int status = !finite_cost ? OT_UNBOUNDED : OT_INFEASIBLE;
  if (finite_cost && finite_mass) {
    void *work = R_alloc(ot_workspace_bytes(n, m), 1);
    p = ot_init(work, n, m, REAL(cost), REAL(a), REAL(b));
    ot_set_pricing(p, INTEGER(pricing)[0]);
    double budget = ot_slice_pivots(n, m);
    while ((status = ot_run(p, budget)) == OT_RUNNING) R_CheckUserInterrupt();
    pivots = ot_pivots(p);
  }

  int cap = n + m - 1;
  int *fi = (int *) R_alloc(cap, sizeof(int)), *fj = (int *) R_alloc(cap, sizeof(int));
  double *fx = (double *) R_alloc(cap, sizeof(double));
  const char *names[] = {"i", "j", "x", "u", "v", "cost", "pivots", "status", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  set_solution(out, p, n, m, status, Rf_asReal(mass_scale), pivots, fi, fj, fx);
  UNPROTECT(1);
  return out;
}

/* ot_exact(mass = s): the partial problem through the kernel of
 * ot_partial.c.  R has checked 0 < s <= min(sum a, sum b). */
SEXP ffi_ot_partial(SEXP cost, SEXP a, SEXP b, SEXP mass) {
  if (!Rf_isReal(cost) || !Rf_isMatrix(cost) || !Rf_isReal(a) || !Rf_isReal(b) ||
      !Rf_isReal(mass) || Rf_length(mass) != 1 || !(REAL(mass)[0] > 0))
    Rf_error("ffi_ot_partial: `cost` must be a double matrix, `a`, `b` doubles, "
             "`mass` one positive double");
  int n = Rf_nrows(cost), m = Rf_ncols(cost);
  if (n < 1 || m < 1 || XLENGTH(a) != n || XLENGTH(b) != m)
    Rf_error("ffi_ot_partial: sizes of `cost` (%d x %d), `a` and `b` disagree", n, m);
  if (!all_finite(REAL(cost), XLENGTH(cost), 0) || !all_finite(REAL(a), n, 0) ||
      !all_finite(REAL(b), m, 0) || !R_FINITE(REAL(mass)[0]))
    Rf_error("ffi_ot_partial: `cost`, `a`, `b` and `mass` must be finite");
  void *work = R_alloc(ot_partial_workspace_bytes(n, m), 1);
  ot_partial *q = ot_partial_init(work, n, m, REAL(cost), REAL(a), REAL(b),
                                  REAL(mass)[0]);
  double budget = ot_slice_pivots(n + 1, m + 1);
  int status;
  while ((status = ot_run(q->ot, budget)) == OT_RUNNING) R_CheckUserInterrupt();

  int cap = n + m + 1;
  int *fi = (int *) R_alloc(cap, sizeof(int)), *fj = (int *) R_alloc(cap, sizeof(int));
  double *fx = (double *) R_alloc(cap, sizeof(double));
  const char *names[] = {"i", "j", "x", "u", "v", "lambda", "cost", "pivots",
                         "status", "dummy_flow", "big", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SEXP u = Rf_allocVector(REALSXP, n);
  SET_VECTOR_ELT(out, 3, u);
  SEXP v = Rf_allocVector(REALSXP, m);
  SET_VECTOR_ELT(out, 4, v);
  double obj = NA_REAL, lambda = NA_REAL, t = NA_REAL;
  int nnz = 0;
  if (status == OT_OPTIMAL)
    nnz = ot_partial_extract(q, fi, fj, fx, REAL(u), REAL(v), &lambda, &obj, &t);
  set_triplets(out, nnz, fi, fj, fx);
  SET_VECTOR_ELT(out, 5, Rf_ScalarReal(lambda));
  SET_VECTOR_ELT(out, 6, Rf_ScalarReal(obj));
  SET_VECTOR_ELT(out, 7, Rf_ScalarReal(ot_pivots(q->ot)));
  SET_VECTOR_ELT(out, 8, Rf_ScalarInteger(status));
  SET_VECTOR_ELT(out, 9, Rf_ScalarReal(t));
  SET_VECTOR_ELT(out, 10, Rf_ScalarReal(q->big));
  UNPROTECT(1);
  return out;
}

/* A sequence of problems on one buffer, as HOT+R solves them: costs[[1]]
 * cold, then each next cost copied into the same buffer and the solver
 * warm-started with ot_restart().  `budget` > 0 runs every solve in slices of
 * that many pivots (the result must not depend on it).  For the tests and
 * the benchmarks (hotalign:::C_ffi_ot_sequence); returns per solve the
 * plan triplets (1-based), duals, cost, pivots, status and the seconds of
 * ot_restart() + ot_run() (of ot_init() + ot_run() for the first). */
SEXP ffi_ot_sequence(SEXP costs, SEXP a, SEXP b, SEXP mass_scale, SEXP pricing,
                     SEXP budget) {
  if (!Rf_isNewList(costs) || Rf_length(costs) < 1 || !Rf_isReal(a) ||
      !Rf_isReal(b) || !Rf_isReal(mass_scale) || Rf_length(mass_scale) != 1 ||
      !Rf_isInteger(pricing) || Rf_length(pricing) != 1 ||
      INTEGER(pricing)[0] < OT_PRICE_AUTO || INTEGER(pricing)[0] > OT_PRICE_STAR ||
      !Rf_isReal(budget) || Rf_length(budget) != 1)
    Rf_error("ffi_ot_sequence: `costs` must be a list of double matrices, `a`, `b`, "
             "`budget` doubles, `pricing` 0 to 4");
  SEXP C0 = VECTOR_ELT(costs, 0);
  if (!Rf_isReal(C0) || !Rf_isMatrix(C0))
    Rf_error("ffi_ot_sequence: `costs` must be a list of double matrices");
  int n = Rf_nrows(C0), m = Rf_ncols(C0), K = Rf_length(costs);
  if (n < 1 || m < 1 || XLENGTH(a) != n || XLENGTH(b) != m)
    Rf_error("ffi_ot_sequence: sizes of `costs` (%d x %d), `a` and `b` disagree", n, m);
  for (int k = 0; k < K; k++) {
    SEXP Ck = VECTOR_ELT(costs, k);
    if (!Rf_isReal(Ck) || !Rf_isMatrix(Ck) || Rf_nrows(Ck) != n || Rf_ncols(Ck) != m)
      Rf_error("ffi_ot_sequence: every element of `costs` must be a %d x %d double "
               "matrix", n, m);
    if (!all_finite(REAL(Ck), XLENGTH(Ck), 1))
      Rf_error("ffi_ot_sequence: every element of `costs` must be finite (or NaN)");
  }
  if (!all_finite(REAL(a), n, 0) || !all_finite(REAL(b), m, 0))
    Rf_error("ffi_ot_sequence: `a` and `b` must be finite");
  const R_xlen_t E = (R_xlen_t) n * m;
  double *C = (double *) R_alloc((size_t) E, sizeof(double));
  void *work = R_alloc(ot_workspace_bytes(n, m), 1);
  double slice = REAL(budget)[0];
  int cap = n + m - 1;
  int *fi = (int *) R_alloc(cap, sizeof(int)), *fj = (int *) R_alloc(cap, sizeof(int));
  double *fx = (double *) R_alloc(cap, sizeof(double));
  SEXP out = PROTECT(Rf_allocVector(VECSXP, K));
  ot_problem *p = NULL;
  for (int k = 0; k < K; k++) {
    memcpy(C, REAL(VECTOR_ELT(costs, k)), sizeof(double) * (size_t) E);
    double before = p ? ot_pivots(p) : 0;
    double t0 = seq_now();
    if (k == 0) {
      p = ot_init(work, n, m, C, REAL(a), REAL(b));
      ot_set_pricing(p, INTEGER(pricing)[0]);
    } else {
      ot_restart(p);
    }
    int status;
    while ((status = ot_run(p, slice)) == OT_RUNNING) R_CheckUserInterrupt();
    double secs = seq_now() - t0;
    const char *names[] = {"i", "j", "x", "u", "v", "cost", "pivots", "status",
                           "seconds", ""};
    SEXP res = Rf_mkNamed(VECSXP, names);
    SET_VECTOR_ELT(out, k, res);
    set_solution(res, p, n, m, status, Rf_asReal(mass_scale),
                 ot_pivots(p) - before, fi, fj, fx);
    SET_VECTOR_ELT(res, 8, Rf_ScalarReal(secs));
    if (status != OT_OPTIMAL) break;
  }
  UNPROTECT(1);
  return out;
}
