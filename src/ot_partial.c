/* Exact partial optimal transport by reduction to a balanced problem.
 *
 * Problem (P):  min <C, Q>  over  Q >= 0,  Q 1 <= a,  Q' 1 <= b,  1' Q 1 = s,
 * with C n x m (any sign), a, b >= 0 and 0 < s <= min(sum a, sum b).
 *
 * Reduction (Chapel et al. 2020, as in POT's partial_wasserstein): one dummy
 * row D and one dummy column D' are added,
 *
 *        a+ = (a, sum b - s),   b+ = (b, sum a - s),
 *        C+ = | C   0 |        (dummy arcs cost 0,
 *             | 0   M |         the dummy-dummy cell costs M),
 *
 * and the balanced problem min <C+, F> over F >= 0, F 1 = a+, F' 1 = b+ is
 * solved by the network simplex (ot_simplex.c).  Both totals are
 * sum a + sum b - s.  Write F = [Q r; c' t]: r = a - Q 1 is what row i
 * does not send, c = b - Q' 1 what column j does not receive, and t the
 * dummy-dummy flow.  The dummy column's balance gives sum r + t = sum a - s,
 * hence
 *
 *        1' Q 1 = s + t :
 *
 * the dummy-dummy cell must carry no mass, and the augmented problem equals
 * (P) exactly when every optimum has t = 0.  For t > 0 the real part is a
 * feasible plan of mass s + t, whose cost is at least f(s) + t min(C) (the
 * optimal value f of (P) as a function of s is convex with slopes in
 * [min C, max C]), so the augmented cost is at least f(s) + t (min C + M).
 * Any M > -min C makes t > 0 strictly worse.  The costs are NOT shifted
 * (C enters unchanged, whatever its sign); instead
 *
 *        M = 2 max|C|  (1 when C = 0),   so  M + min C >= max|C| > 0,
 *
 * a margin of max|C|, far above the solver's tolerance (2^10 eps max|C+|),
 * that at most doubles the largest cost the solver sees.  (Shifting C by
 * +c with dummy-dummy cost 0 is the same reduction with M = c; the shift
 * must be upwards, towards positive costs, since with negative real costs
 * moving more mass is cheaper and t would be pushed up, not down.)
 *
 * Duals.  The augmented duals (u+, v+) (ot_extract, centred) map to the
 * duals of (P): alpha_i = u+_i + v+_D' <= 0 (dual of Q 1 <= a),
 * beta_j = v+_j + u+_D <= 0 (of Q' 1 <= b), lambda = -(u+_D + v+_D') (of the
 * total mass).  They are invariant under the shift u+ + k, v+ - k, and
 *  - dual feasibility of the augmented LP is alpha <= 0, beta <= 0,
 *    alpha_i + beta_j + lambda <= C_ij and lambda >= -M;
 *  - complementary slackness: alpha_i + beta_j + lambda = C_ij where
 *    Q_ij > 0; alpha_i < 0 only for rows that send all of a_i, beta_j < 0
 *    only for columns that receive all of b_j;
 *  - strong duality: sum a alpha + sum b beta + s lambda = <C, Q>
 *    (the augmented dual objective, term by term).
 * lambda is the marginal cost of the last unit of mass moved.
 *
 * Round-off: the flows are subtree balances of masses of total
 * sum a + sum b - s, so real flows within 64 eps of that total (and below
 * 1e-9 s) are dropped as zeros (moved mass and marginals stay exact to that
 * absolute tolerance).
 *
 * The kernel is plain C on caller-provided workspace (no R API), so the
 * pair loop can call it from OpenMP threads: ot_partial_init() builds C+,
 * a+, b+ in the workspace and sets up the solver, ot_run() (on the returned
 * problem's `ot` field) pivots in slices, ot_partial_extract() maps the plan
 * and the duals back.
 */
#include <float.h>
#include <math.h>
#include <string.h>
#include "hotalign.h"

static size_t align16(size_t x) { return (x + 15) & ~(size_t) 15; }

size_t ot_partial_workspace_bytes(int n, int m) {
  size_t n1 = (size_t) n + 1, m1 = (size_t) m + 1;
  return align16(sizeof(ot_partial)) + align16(n1 * m1 * sizeof(double)) +
         align16(n1 * sizeof(double)) + align16(m1 * sizeof(double)) +
         /* extraction scratch: plan of the augmented vertex and its duals */
         2 * align16((n1 + m1) * sizeof(int)) +
         2 * align16((n1 + m1) * sizeof(double)) +
         ot_workspace_bytes(n + 1, m + 1);
}

/* Bytes of ot_partial_workspace_bytes(n, m), for R's memory checks */
SEXP ffi_ot_partial_workspace(SEXP n, SEXP m) {
  const int a = Rf_asInteger(n), b = Rf_asInteger(m);
  if (a == NA_INTEGER || b == NA_INTEGER || a < 1 || b < 1)
    Rf_error("`n` and `m` must be whole numbers >= 1");
  return Rf_ScalarReal((double) ot_partial_workspace_bytes(a, b));
}

static void *carve_p(char **cur, size_t bytes) {
  void *p = *cur;
  *cur += align16(bytes);
  return p;
}

ot_partial *ot_partial_init(void *work, int n, int m, const double *C,
                            const double *a, const double *b, double mass) {
  char *cur = (char *) work;
  ot_partial *q = carve_p(&cur, sizeof(ot_partial));
  const int n1 = n + 1, m1 = m + 1;
  q->n = n;
  q->m = m;
  q->mass = mass;
  q->C = carve_p(&cur, (size_t) n1 * (size_t) m1 * sizeof(double));
  q->a = carve_p(&cur, (size_t) n1 * sizeof(double));
  q->b = carve_p(&cur, (size_t) m1 * sizeof(double));
  q->fi = carve_p(&cur, (size_t) (n1 + m1) * sizeof(int));
  q->fj = carve_p(&cur, (size_t) (n1 + m1) * sizeof(int));
  q->fx = carve_p(&cur, (size_t) (n1 + m1) * sizeof(double));
  q->duals = carve_p(&cur, (size_t) (n1 + m1) * sizeof(double));

  double cmax = 0, sa = 0, sb = 0;
  for (int j = 0; j < m; j++) {
    const double *cj = C + (R_xlen_t) j * n;
    double *dj = q->C + (R_xlen_t) j * n1;
    for (int i = 0; i < n; i++) {
      double c = cj[i];
      dj[i] = c;
      if (fabs(c) > cmax) cmax = fabs(c);
    }
    dj[n] = 0; /* dummy row -> column j */
  }
  for (int i = 0; i < n; i++) {
    q->C[(R_xlen_t) m * n1 + i] = 0; /* row i -> dummy column */
    q->a[i] = a[i];
    sa += a[i];
  }
  for (int j = 0; j < m; j++) {
    q->b[j] = b[j];
    sb += b[j];
  }
  q->big = cmax > 0 ? 2 * cmax : 1;
  q->C[(R_xlen_t) m * n1 + n] = q->big;
  /* s <= min(sum a, sum b) is the caller's; round-off below zero clamped */
  q->a[n] = sb - mass > 0 ? sb - mass : 0;
  q->b[m] = sa - mass > 0 ? sa - mass : 0;
  /* the flows are balances of masses of total sa + sb - mass: a real flow
   * within a few ulps of that total is round-off (the balanced solver's
   * integer masses have none) */
  q->tiny = 64 * DBL_EPSILON * (sa + q->a[n]);
  if (q->tiny > 1e-9 * mass) q->tiny = 1e-9 * mass; /* never all of a tiny s */
  q->ot = ot_init(cur, n1, m1, q->C, q->a, q->b);
  return q;
}

int ot_partial_extract(const ot_partial *q, int *fi, int *fj, double *fx,
                       double *alpha, double *beta, double *lambda,
                       double *cost, double *dummy_flow) {
  const int n = q->n, m = q->m, n1 = n + 1;
  int *ai = q->fi, *aj = q->fj;
  double *u = q->duals, *v = q->duals + n1, obj_aug;
  int nnz_aug = ot_extract(q->ot, 1.0, ai, aj, q->fx, u, v, &obj_aug);
  int nnz = 0;
  double obj = 0, t = 0;
  for (int k = 0; k < nnz_aug; k++) {
    if (ai[k] < n && aj[k] < m) {
      if (q->fx[k] <= q->tiny) continue;
      fi[nnz] = ai[k];
      fj[nnz] = aj[k];
      fx[nnz] = q->fx[k];
      obj += q->C[(R_xlen_t) aj[k] * n1 + ai[k]] * q->fx[k];
      nnz++;
    } else if (ai[k] == n && aj[k] == m) {
      t += q->fx[k];
    }
  }
  for (int i = 0; i < n; i++) alpha[i] = u[i] + v[m];
  for (int j = 0; j < m; j++) beta[j] = v[j] + u[n];
  *lambda = -(u[n] + v[m]);
  *cost = obj;
  *dummy_flow = t;
  return nnz;
}
