/* Entropic optimal transport by log-domain (stabilised) Sinkhorn, for
 * ot_sinkhorn():  min <C, P> - eps H(P)  s.t.  P 1 = a, P' 1 = b,
 * with H(P) = -sum P log P.  APPROXIMATE: the exact optimum is ot_exact().
 *
 * Dual potentials f (n), g (m); the plan is P_ij = exp((f_i + g_j - C_ij) / eps).
 * One iteration:
 *   row update     f_i = eps log a_i - eps LSE_j((g_j - C_ij) / eps)
 *   column check   r_j = sum_i P_ij;  err = sum_j |r_j - b_j|  (rows exact)
 *   stop if err <= tol or the iteration limit is reached; else
 *   column update  g_j = eps log b_j - eps LSE_i((f_i - C_ij) / eps)
 * Every log-sum-exp subtracts its maximum first, so nothing overflows and
 * every potential stays finite however small eps is (terms underflow to 0,
 * the maximal one is exactly 1).
 *
 * C is column-major n x m.  The column pass reads each column contiguously.
 * The row pass would read rows with stride n; instead it runs column by
 * column too, in two sweeps: one for the row maxima (no exp), one that
 * accumulates the row sums of exp() into a vector of n -- the same memory
 * order, no transposed copy (which would double the memory).
 *
 * R has checked everything: all masses are > 0 (zero-mass rows and columns
 * are removed in R, which gives them zero mass and finite potentials), the
 * cost is finite, eps > 0, tol >= 0, max_iter >= 1.  No allocation inside
 * the loops; single-threaded, so the result does not depend on threads. */
#include <R.h>
#include <Rinternals.h>
#include <math.h>

/* eps * log sum_i exp((f_i - C_ij) / eps) over column j (contiguous) */
static double column_lse(const double *Cj, const double *f, int n, double eps,
                         double inv_eps) {
  double mx = -INFINITY;
  for (int i = 0; i < n; i++) {
    double t = f[i] - Cj[i];
    if (t > mx) mx = t;
  }
  double s = 0.0;
  for (int i = 0; i < n; i++) s += exp((f[i] - Cj[i] - mx) * inv_eps);
  return mx + eps * log(s);
}

/* f_i = eps log a_i - eps LSE_j((g_j - C_ij) / eps), column-major sweeps;
 * rmax and rsum are workspaces of length n */
static void row_update(const double *C, const double *g, const double *log_a,
                       int n, int m, double eps, double inv_eps, double *f,
                       double *rmax, double *rsum) {
  for (int i = 0; i < n; i++) {
    rmax[i] = -INFINITY;
    rsum[i] = 0.0;
  }
  for (int j = 0; j < m; j++) {
    const double *Cj = C + (R_xlen_t) j * n;
    double gj = g[j];
    for (int i = 0; i < n; i++) {
      double t = gj - Cj[i];
      if (t > rmax[i]) rmax[i] = t;
    }
  }
  for (int j = 0; j < m; j++) {
    const double *Cj = C + (R_xlen_t) j * n;
    double gj = g[j];
    for (int i = 0; i < n; i++) rsum[i] += exp((gj - Cj[i] - rmax[i]) * inv_eps);
  }
  for (int i = 0; i < n; i++) f[i] = eps * log_a[i] - rmax[i] - eps * log(rsum[i]);
}

/* ffi_sinkhorn(cost, a, b, epsilon, tol, max_iter) ->
 * list(plan, cost, plogp, f, g, iterations, converged, row_error, col_error) */
/* Bytes ffi_sinkhorn() allocates for an n x m problem: the dense plan, the
 * potentials f and g, and the scratch vectors log_a, rmax, rsum (n each),
 * log_b and lse (m each) */
static double sinkhorn_workspace_bytes(int n, int m) {
  return sizeof(double) * ((double) n * (double) m + 4.0 * n + 3.0 * m);
}

/* sinkhorn_workspace_bytes(n, m), for R's memory check in ot_sinkhorn() */
SEXP ffi_sinkhorn_workspace(SEXP n, SEXP m) {
  const int a = Rf_asInteger(n), b = Rf_asInteger(m);
  if (a == NA_INTEGER || b == NA_INTEGER || a < 1 || b < 1)
    Rf_error("`n` and `m` must be whole numbers >= 1");
  return Rf_ScalarReal(sinkhorn_workspace_bytes(a, b));
}

SEXP ffi_sinkhorn(SEXP cost, SEXP a, SEXP b, SEXP epsilon, SEXP tol,
                  SEXP max_iter) {
  if (!Rf_isReal(cost) || !Rf_isMatrix(cost) || !Rf_isReal(a) || !Rf_isReal(b) ||
      !Rf_isReal(epsilon) || Rf_length(epsilon) != 1 ||
      !Rf_isReal(tol) || Rf_length(tol) != 1 ||
      !Rf_isInteger(max_iter) || Rf_length(max_iter) != 1)
    Rf_error("ffi_sinkhorn: `cost` must be a double matrix, `a`, `b`, "
             "`epsilon`, `tol` doubles, `max_iter` an integer");
  int n = Rf_nrows(cost), m = Rf_ncols(cost);
  if (n < 1 || m < 1 || XLENGTH(a) != n || XLENGTH(b) != m)
    Rf_error("ffi_sinkhorn: sizes of `cost` (%d x %d), `a` and `b` disagree", n, m);
  double eps = REAL(epsilon)[0], tl = REAL(tol)[0];
  int maxit = INTEGER(max_iter)[0];
  if (!R_FINITE(eps) || eps <= 0) Rf_error("ffi_sinkhorn: `epsilon` must be a single finite number > 0");
  if (!(tl >= 0)) Rf_error("ffi_sinkhorn: `tol` must be a single number >= 0");
  if (maxit == NA_INTEGER || maxit < 1) Rf_error("ffi_sinkhorn: `max_iter` must be a whole number >= 1");
  const double *C = REAL(cost), *pa = REAL(a), *pb = REAL(b);
  for (int i = 0; i < n; i++)
    if (!R_FINITE(pa[i]) || pa[i] <= 0) Rf_error("ffi_sinkhorn: `a` must be finite and > 0");
  for (int j = 0; j < m; j++)
    if (!R_FINITE(pb[j]) || pb[j] <= 0) Rf_error("ffi_sinkhorn: `b` must be finite and > 0");

  /* workspaces, allocated once */
  double *log_a = (double *) R_alloc(n, sizeof(double));
  double *log_b = (double *) R_alloc(m, sizeof(double));
  double *rmax = (double *) R_alloc(n, sizeof(double));
  double *rsum = (double *) R_alloc(n, sizeof(double));
  double *lse = (double *) R_alloc(m, sizeof(double));
  SEXP rf = PROTECT(Rf_allocVector(REALSXP, n));
  SEXP rg = PROTECT(Rf_allocVector(REALSXP, m));
  double *f = REAL(rf), *g = REAL(rg);
  for (int i = 0; i < n; i++) { log_a[i] = log(pa[i]); f[i] = 0.0; }
  for (int j = 0; j < m; j++) { log_b[j] = log(pb[j]); g[j] = 0.0; }
  double inv_eps = 1.0 / eps;

  /* iterations between interrupt checks: about 2^24 cost entries */
  double arcs = (double) n * (double) m;
  int check_every = arcs >= 16777216.0 ? 1 : (int) (16777216.0 / arcs);

  int iter = 0, converged = 0;
  double col_err = R_PosInf;
  for (;;) {
    iter++;
    row_update(C, g, log_a, n, m, eps, inv_eps, f, rmax, rsum);
    col_err = 0.0;
    for (int j = 0; j < m; j++) {
      lse[j] = column_lse(C + (R_xlen_t) j * n, f, n, eps, inv_eps);
      col_err += fabs(exp((g[j] + lse[j]) * inv_eps) - pb[j]);
    }
    if (col_err <= tl) { converged = 1; break; }
    if (iter >= maxit) break;
    for (int j = 0; j < m; j++) g[j] = eps * log_b[j] - lse[j];
    if (iter % check_every == 0) R_CheckUserInterrupt();
  }

  /* the plan of the final potentials, its cost, sum P log P and marginals */
  SEXP plan = PROTECT(Rf_allocMatrix(REALSXP, n, m));
  double *P = REAL(plan);
  for (int i = 0; i < n; i++) rsum[i] = 0.0;
  double tc = 0.0, plogp = 0.0;
  col_err = 0.0;
  for (int j = 0; j < m; j++) {
    const double *Cj = C + (R_xlen_t) j * n;
    double *Pj = P + (R_xlen_t) j * n;
    double cs = 0.0, gj = g[j];
    for (int i = 0; i < n; i++) {
      double t = (f[i] + gj - Cj[i]) * inv_eps;
      double p = exp(t);
      Pj[i] = p;
      cs += p;
      rsum[i] += p;
      tc += p * Cj[i];
      plogp += p * t;   /* p log p; 0 when p underflows */
    }
    col_err += fabs(cs - pb[j]);
  }
  double row_err = 0.0;
  for (int i = 0; i < n; i++) row_err += fabs(rsum[i] - pa[i]);

  const char *names[] = {"plan", "cost", "plogp", "f", "g", "iterations",
                         "converged", "row_error", "col_error", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(out, 0, plan);
  SET_VECTOR_ELT(out, 1, Rf_ScalarReal(tc));
  SET_VECTOR_ELT(out, 2, Rf_ScalarReal(plogp));
  SET_VECTOR_ELT(out, 3, rf);
  SET_VECTOR_ELT(out, 4, rg);
  SET_VECTOR_ELT(out, 5, Rf_ScalarInteger(iter));
  SET_VECTOR_ELT(out, 6, Rf_ScalarLogical(converged));
  SET_VECTOR_ELT(out, 7, Rf_ScalarReal(row_err));
  SET_VECTOR_ELT(out, 8, Rf_ScalarReal(col_err));
  UNPROTECT(4);
  return out;
}
