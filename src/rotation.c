/* Rotation-invariant HOT (HOT+R) for one layer pair.
 *
 * For standardised training data Xs (T x n) and Ys (T x n'; m = n' below)
 * the pair cost is
 *
 *   C = min_{R in O(n), Q in U(1/n, 1/m)} sum_ij Q_ij 1/2 ||(Xs R)_i - ys_j||^2
 *
 * solved by block-coordinate descent from R = I, so that the first step is
 * the plain HOT solve the caller has already made:
 *   (b) Q fixed: orthogonal Procrustes, R = polar factor of M = A (n Q)',
 *       A = Xs' Ys;
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
 * to max_iter.  An iteration whose plan is the one the current W came from
 * (the plan has stopped moving: usually the last) keeps W and K_R instead of
 * recomputing them, bit for bit the full step (canonical_plan, rotation_step).
 *
 * ---- The subspace form (what is computed) -------------------------------
 * Let V (n x r) have orthonormal columns spanning a space that contains the
 * row space of Xs, with V' G V = diag(lam):
 *   n <= T:  r = n, V = I: then W = R and lam is replaced by G itself
 *            (kept in ws->V; ws->lam = diag(G)): diag(R'GR) costs one n^3
 *            product per iteration, cheaper than a dsyevr of G per pair;
 *   n >  T:  r = T, Xs' = Q1 Rq (Householder QR), Rq Rq' = P diag(lam) P'
 *            (dsyevr, T x T), V = Q1 P: then V'GV = P'Rq Rq'P = diag(lam).
 * Invariants: (I1) Xs = Xs V V' (the rows of Xs lie in span V), hence
 * (I2) A = V V' A and G = V diag(lam) V'.  With W = V'R (r x n; W W' = I_r)
 * and B0 = V'A (r x m):
 *   (R'GR)_ii = (W' diag(lam) W)_ii = sum_k lam_k W_ki^2,   R'A = W' B0,
 * so K_R depends on R only through W:
 *   K_R[i, j] = 1/2 sum_k lam_k W_ki^2 + 1/2 - (W' B0)[i, j].          (1)
 * Procrustes: tr(R'M) with M = A (nQ)' = V B, B = B0 (nQ)' (r x n), and
 * tr(R'M) = tr(W'B).  Every R in O(n) gives a W with orthonormal rows and
 * every such W is V'R for some R, so maximising tr(R'M) over R is
 * maximising tr(W'B) over W with W W' = I_r: W = Ub Vb' for the thin SVD
 * B = Ub Sb Vb' (unique when B has full row rank r: then W = (BB')^(-1/2) B).
 * The full-space maximiser R* = polar(M) has V'R* = W (M = (V Ub) Sb Vb' is
 * an SVD of M, so R* = V Ub Vb' + (any map of the complements)), so by (1)
 * both give the same K_R, the same exact OT, the same Q: the iterates (Q and
 * W = V'R) and the objective trace are those of the full-space descent.  An
 * iteration costs O(r n m + r^2 n) instead of O(n^2 m + n^3).
 * Rank and ties: no direction is truncated on a threshold of lam alone.  A
 * direction with lam_k = 0 (the centring when T <= n) has round-off rows of
 * B0 too, and by (1) its row of W cannot change K_R; such directions are
 * dropped only when their certified effect on every cost entry sums to at
 * most 1e-12 (drop_null_directions), so (I1) holds to that bound.  When B
 * itself has deficient row rank below the numerical rank of Xs (e.g. fewer
 * targets m than r), the maximiser W is not unique, in the full space no
 * more than here: both descents are valid and monotone but may part;
 * ws->rank_deficient records it.  Ties of the exact OT are broken by the
 * deterministic simplex, so reruns are bit-identical.
 *
 * The final R (n x n) is formed once: V = I, R = W; r < n, R = H_V D H_W'
 * from the Householder QRs V = H_V [Dv; 0], W' = H_W [Dw; 0] (Dv, Dw = diag
 * of +-1) and D = Dv Dw on the first r coordinates, the identity elsewhere:
 * then R is orthogonal and R W' = V, so V'R = W (a deterministic choice of
 * the free complement).  The compact form keeps only H_V, H_W, D: O(n r).
 * Memory: with r < n every block of the descent holds an n x r, r x n or
 * r x r matrix, so a scratch is O(n min(n, T)) doubles
 * (rotation_scratch_doubles); the dense R (n^2) is formed only where the
 * caller made room for it (dense = 1), otherwise only its compact form.
 *
 * Products go through kernel_product() / kernel_gram() (correlation_cost.c:
 * the internal blocked kernel under the reference BLAS, dgemm under an
 * optimised one), each entry an ordinary floating-point sum.
 *
 * Pure C on caller-provided workspace: runs inside the OpenMP region of
 * pair_loop.c.  Its result depends only on its inputs and on `lwork`, which
 * the callers compute from n and T alone (rotation_lwork), so it is the same for
 * any thread and any number of threads, and a rerun of a pair reproduces R.
 */
#include <float.h>
#include <math.h>
#include <string.h>
#include "blas_lapack.h"
#include "hotalign.h"

#define ROT_NOISE (1024 * DBL_EPSILON)
/* absolute margin of the lower bound for round-off (see rotation_lower_bound) */
#define ROT_BOUND_MARGIN 1e-9
/* dormqr blocking of rotation_compact_apply: nb <= 64 plus its T matrix */
#define ROT_ORM_NB 64
#define ROT_ORM_TSIZE 4160

static size_t dense_kernel_doubles(int n, int r);

/* the largest of LAPACK's optimal workspaces (queries: only work[0] and
 * iwork[0] are written) of the calls a pair of a source of n units with r
 * basis directions makes; 0 when a query fails */
static double dgesdd_query(int a, int b) {
  double dummy = 0, size = 0;
  int idummy = 0, info = 0, query = -1, mn = a < b ? a : b;
  F77_CALL(dgesdd)("S", &a, &b, &dummy, &a, &dummy, &dummy, &a, &dummy, &mn,
                   &size, &query, &idummy, &info FCONE);
  return info == 0 && size >= 1 ? size : 0;
}

static double lapack_queries(int n, int r) {
  double dummy = 0, size = 0, best = 1;
  int idummy = 0, info = 0, query = -1, nfound = 0, il = 1;
  double vl = 0, abstol = 0;
  /* the Procrustes fallback: dgesdd of B (r x n).  Its optimal workspace
   * grows with r on each of its two paths (n >= 11 r / 6 takes the thin
   * one), so r and the largest r of the thin path cover every r' <= r. */
  double q = dgesdd_query(r, n);
  if (!(q > 0)) return 0;
  if (q > best) best = q;
  int thin = r;
  while (r < n && thin > 1 && (int) (thin * 11.0 / 6.0) > n) thin--;
  if (thin < r) {
    q = dgesdd_query(thin, n);
    if (!(q > 0)) return 0;
    if (q > best) best = q;
  }
  F77_CALL(dsyevr)("V", "A", "U", &r, &dummy, &r, &vl, &vl, &il, &il, &abstol,
                   &nfound, &dummy, &dummy, &r, &idummy, &size, &query, &idummy,
                   &query, &info FCONE FCONE FCONE);
  if (info != 0 || !(size >= 1) || idummy > 10 * r) return 0;
  if (size > best) best = size;
  F77_CALL(dgeqrf)(&n, &r, &dummy, &n, &dummy, &size, &query, &info);
  if (info != 0) return 0;
  if (size > best) best = size;
  F77_CALL(dorgqr)(&n, &r, &r, &dummy, &n, &dummy, &size, &query, &info);
  if (info != 0) return 0;
  if (size > best) best = size;
  F77_CALL(dormqr)("L", "T", &n, &n, &r, &dummy, &n, &dummy, &dummy, &n, &size,
                   &query, &info FCONE FCONE);
  if (info != 0) return 0;
  if (size > best) best = size;
  /* the eigendecomposition of the polar step by its fastest route */
  if ((double) eigen_kernel_lwork(r) > best) best = (double) eigen_kernel_lwork(r);
  return best;
}

/* r = min(n, T) basis directions at most (see the top): the workspace of a
 * source wider than its training rows is O(n T), not O(n^2) */
int rotation_lwork(int n, int T) {
  const int r = T >= 1 && T < n ? T : n;
  double best = lapack_queries(n, r);
  if (!(best > 0)) return -1;
  if (r < n) { /* the dense R's kernel route (dense_rotation) */
    const int rk = 2 * r <= n ? r : n / 2;
    if (rk >= 1 && (double) dense_kernel_doubles(n, rk) > best)
      best = (double) dense_kernel_doubles(n, rk);
  }
  if (best > 2147483647.0) return -1;
  return (int) ceil(best);
}

/* the doubles of each n x n block of the descent: n r with r = min(n, T)
 * (every block holds an n x r, r x n or r x r matrix when r < n) */
static size_t r_cap(int n, int T);
static size_t block_doubles(int n, int T) {
  return (size_t) n * r_cap(n, T);
}

/* ws->R: a block, or the dense R of a source of dense_n units */
static size_t r_doubles(int n, int T, int dense_n) {
  size_t b = block_doubles(n, T), d = (size_t) dense_n * (size_t) dense_n;
  return d > b ? d : b;
}

/* r_cap = min(n, T): the most basis directions */
static size_t r_cap(int n, int T) {
  return T >= 1 && T < n ? (size_t) T : (size_t) n;
}

size_t rotation_scratch_doubles(int n, int m, int T, int lwork, int dense_n) {
  const size_t rc = r_cap(n, T);
  return 6 * block_doubles(n, T)          /* G, M, U, VT, V, W */
         + r_doubles(n, T, dense_n)       /* R */
         + rc * rc + rc * (size_t) m      /* A (E, r x r), B0 (r x n') */
         + 3 * (size_t) n + (size_t) m    /* S, d, u (n); v (n') */
         + 3 * ((size_t) n + (size_t) m)  /* fx, pfx, tx (n + n' - 1, rounded up) */
         + 4 * (size_t) n                 /* lam, tau (2 n), sgn */
         + (size_t) lwork;                /* LAPACK work */
}

size_t rotation_scratch_ints(int n, int m) {
  return 10 * (size_t) n                  /* dgesdd (8 n) / dsyevr (10 n) iwork */
         + 7 * ((size_t) n + (size_t) m) + 1 /* fi, fj, pfi, pfj, ti, tj, cnt */
         + 2 * (size_t) n;                /* isuppz */
}

void rotation_scratch_init(rotation_scratch *ws, double *dbl, int *ints, int n,
                           int m, int T, int lwork, int dense_n) {
  const size_t rc = r_cap(n, T);
  size_t nn = block_doubles(n, T);
  ws->G = dbl;
  ws->R = ws->G + nn;
  ws->R_cap = r_doubles(n, T, dense_n);
  ws->M = ws->R + ws->R_cap;
  ws->U = ws->M + nn;
  ws->VT = ws->U + nn;
  ws->V = ws->VT + nn;
  ws->W = ws->V + nn;
  ws->A = ws->W + nn;
  ws->B0 = ws->A + rc * rc;
  ws->S = ws->B0 + rc * (size_t) m;
  ws->d = ws->S + n;
  ws->u = ws->d + n;
  ws->v = ws->u + n;
  ws->fx = ws->v + m;
  ws->pfx = ws->fx + n + m;
  ws->tx = ws->pfx + n + m;
  ws->lam = ws->tx + n + m;
  ws->tau = ws->lam + n;
  ws->sgn = ws->tau + 2 * (size_t) n;
  ws->work = ws->sgn + n;
  ws->lwork = lwork;
  ws->iwork = ints;
  ws->fi = ws->iwork + 10 * (size_t) n;
  ws->fj = ws->fi + n + m;
  ws->pfi = ws->fj + n + m;
  ws->pfj = ws->pfi + n + m;
  ws->ti = ws->pfj + n + m;
  ws->tj = ws->ti + n + m;
  ws->cnt = ws->tj + n + m;
  ws->isuppz = ws->cnt + n + m + 1;
  ws->r = 0;
  ws->ident = 0;
  ws->form_R = 1;
  ws->pnnz = -1;
  ws->rank_deficient = 0;
  ws->dropped_bound = 0;
  ws->polar_mode = 1;
  ws->reuse_plan = 1;
  ws->polar_fast = ws->polar_fallback = ws->polar_reused = 0;
  ws->n = ws->m = ws->T = ws->nnz = ws->it = ws->max_iter = ws->phase = 0;
  ws->conv = 0;
  ws->status = OT_OPTIMAL;
  ws->lw = lwork;
  ws->obj = ws->tol = 0;
  ws->trace = NULL;
  ws->kernel = cost_kernel_resolve(COST_AUTO);
}

static int eigen_sym(rotation_scratch *ws, int k, double *H, double *Z) {
  int nfound = 0, il = 1, info = 0, lw = ws->lw, liw = 10 * (k > 0 ? k : 1);
  double vl = 0, abstol = 0;
  F77_CALL(dsyevr)("V", "A", "U", &k, H, &k, &vl, &vl, &il, &il, &abstol,
                   &nfound, ws->lam, Z, &k, ws->isuppz, ws->work, &lw, ws->iwork,
                   &liw, &info FCONE FCONE FCONE);
  if (info != 0 || nfound != k) return info < 0 ? ROT_SVD_ARGUMENT : ROT_SVD_NO_CONVERGENCE;
  return OT_OPTIMAL;
}

/* Drops the basis directions k that are round-off on both counts (the
 * centring direction when T < n, exactly collinear units): by (1) direction
 * k changes any entry of K_R by at most e_k = 1/2 |lam_k| + max_j |B0[k, j]|
 * (|W_ki| <= 1), hence the objective of any plan by at most e_k.  Directions
 * are dropped, smallest lam first, while the sum of their e_k stays at most
 * ROT_DROP_BOUND (absolute; the costs are O(1)), so the descent's costs are
 * those of the full space to within ROT_DROP_BOUND; the sum is kept in
 * ws->dropped_bound.  Without the rows, B has full row rank whenever the
 * data allow. */
#define ROT_DROP_BOUND 1e-12
static void drop_null_directions(rotation_scratch *ws, int n, int m) {
  const int r = ws->r;
  ws->dropped_bound = 0;
  if (r <= 1) return;
  /* lam is ascending (dsyevr): candidates are the first directions */
  double total = 0;
  int drop = 0;
  for (int k = 0; k < r - 1; k++) {
    double e = 0.5 * fabs(ws->lam[k]);
    for (int j = 0; j < m; j++) {
      double b = fabs(ws->B0[k + (R_xlen_t) j * r]);
      if (b > e - 0.5 * fabs(ws->lam[k])) e = 0.5 * fabs(ws->lam[k]) + b;
    }
    if (!(total + e <= ROT_DROP_BOUND)) break;
    total += e;
    drop++;
  }
  if (drop == 0) return;
  const int keep = r - drop;
  memmove(ws->V, ws->V + (size_t) n * drop, sizeof(double) * (size_t) n * keep);
  memmove(ws->lam, ws->lam + drop, sizeof(double) * keep);
  for (int j = 0; j < m; j++)
    for (int k = 0; k < keep; k++)
      ws->B0[k + (R_xlen_t) j * keep] = ws->B0[drop + k + (R_xlen_t) j * r];
  ws->r = keep;
  ws->dropped_bound = total;
}

/* The basis V, lam and B0 = V'A of the pair (see the top of the file).
 * On entry K = 1 - Xs'Ys. */
/* the source layer's part: ident, r, V (or G), lam */
static int layer_basis(const double *Xs, int T, int n, rotation_scratch *ws) {
  int st;
  ws->ident = n <= T;
  if (ws->ident) { /* V = I: G into ws->V */
    ws->r = n;
    kernel_gram(Xs, T, n, ws->V, ws->kernel);
    for (int k = 0; k < n; k++) ws->lam[k] = ws->V[k + (R_xlen_t) k * n];
  } else {
    ws->r = T;
    int info = 0, lw = ws->lw;
    double *Q1 = ws->G, *H = ws->U, *P = ws->VT;
    mat_transpose(Xs, T, n, Q1); /* n x T */
    F77_CALL(dgeqrf)(&n, &T, Q1, &n, ws->tau, ws->work, &lw, &info);
    if (info != 0) return ROT_SVD_ARGUMENT;
    /* H = Rq Rq' (T x T), Rq upper triangular in Q1[0:T, 0:T] */
    for (int b = 0; b < T; b++) {
      for (int a = 0; a <= b; a++) {
        double s = 0;
        for (int k = b; k < T; k++)
          s += Q1[a + (R_xlen_t) k * n] * Q1[b + (R_xlen_t) k * n];
        H[a + (R_xlen_t) b * T] = s;
        H[b + (R_xlen_t) a * T] = s;
      }
    }
    F77_CALL(dorgqr)(&n, &T, &T, Q1, &n, ws->tau, ws->work, &lw, &info);
    if (info != 0) return ROT_SVD_ARGUMENT;
    st = eigen_sym(ws, T, H, P);
    if (st != OT_OPTIMAL) return st;
    /* V = Q1 P through the kernel: V = (Q1')' P */
    mat_transpose(Q1, n, T, ws->M); /* T x n */
    kernel_product(ws->M, P, T, n, T, ws->V, ws->kernel);
  }
  return OT_OPTIMAL;
}

/* the pair's part: B0 = V'A (= A when V = I) for A = 1 - K, the drops.
 * With V != I, A is formed in K itself (K is rewritten with the rotated
 * cost before it is read again), so that no n x n' block is needed. */
static void pair_basis(rotation_scratch *ws, int n, int m, double *K) {
  R_xlen_t nm = (R_xlen_t) n * m;
  ws->dropped_bound = 0;
  if (ws->ident) {
    for (R_xlen_t e = 0; e < nm; e++) ws->B0[e] = 1.0 - K[e];
    return;
  }
  for (R_xlen_t e = 0; e < nm; e++) K[e] = 1.0 - K[e];
  kernel_product(ws->V, K, n, ws->r, m, ws->B0, ws->kernel);
  drop_null_directions(ws, n, m);
}

/* The source's basis shared by all its pairs (V, then lam, as the engine
 * stores it) instead of one factored per pair */
static void shared_basis(const double *basis, int T, int n, int m,
                         double *K, rotation_scratch *ws) {
  ws->ident = n <= T;
  ws->r = ws->ident ? n : T;
  size_t nr = (size_t) n * ws->r;
  memcpy(ws->V, basis, sizeof(double) * nr);
  memcpy(ws->lam, basis + nr, sizeof(double) * ws->r);
  pair_basis(ws, n, m, K);
}

static int setup_basis(const double *Xs, int T, int n, int m, double *K,
                       rotation_scratch *ws) {
  int st = layer_basis(Xs, T, n, ws);
  if (st != OT_OPTIMAL) return st;
  pair_basis(ws, n, m, K);
  return OT_OPTIMAL;
}

/* The basis depends on the source layer only: computed once per layer and
 * passed to rotation_begin_basis(), it gives every pair of that source bit
 * for bit what rotation_begin() computes itself.  Layout: V (or G when
 * n <= T: n x n) then lam; r = min(n, T) columns. */
size_t rotation_basis_doubles(int n, int T) {
  size_t r = (size_t) (n <= T ? n : (T > 0 ? T : 0));
  return (size_t) n * r + r;
}

int rotation_basis(const double *Xs, int T, int n, int lwork, rotation_scratch *ws,
                   double *basis) {
  if (T <= 0) return OT_OPTIMAL;
  ws->lw = lwork;
  int st = layer_basis(Xs, T, n, ws);
  if (st != OT_OPTIMAL) return st;
  size_t nr = (size_t) n * ws->r;
  memcpy(basis, ws->V, sizeof(double) * nr);
  memcpy(basis + nr, ws->lam, sizeof(double) * ws->r);
  return OT_OPTIMAL;
}

/* B = B0 (nQ)' (r x n) from the plan (fi, fj, fx) */
static void procrustes_matrix(rotation_scratch *ws, int n, const int *fi,
                              const int *fj, const double *fx, int nnz, double *B) {
  const int r = ws->r;
  memset(B, 0, sizeof(double) * (size_t) r * (size_t) n);
  for (int t = 0; t < nnz; t++) {
    double c = (double) n * fx[t];
    double *col = B + (R_xlen_t) fi[t] * r;
    const double *b0 = ws->B0 + (R_xlen_t) fj[t] * r;
    for (int k = 0; k < r; k++) col[k] += c * b0[k];
  }
}

/* ---- the polar factor without an SVD -----------------------------------
 * W = polar(B) for B (r x n, r <= n) of full row rank: the unique W with
 * orthonormal rows and B W' symmetric positive definite, W = P^(-1) B with
 * P = (B B')^(1/2).  dgesdd spends most of its time in the reference BLAS;
 * here the work is one symmetric eigendecomposition (r x r) and products
 * through the cost kernel:
 *   1. B B' = Z diag(lam) Z' (eigen_kernel(): dsyevr's algorithm with its
 *      back-transformation through the kernel), sig = sqrt(lam); Z is
 *      orthogonal to O(r eps) only (dstemr's vectors): E = Z'Z - I is
 *      measured and carried into the conditions of step 3;
 *   2. in the basis Z: Bz = Z'B and X0 = diag(1/sig) Bz, i.e. Z X0 =
 *      P^(-1) B, exact up to the error of lam (eps cond(B)^2 relative, the
 *      reason this alone does not meet 1e-9 at cond 1e4);
 *   3. corrections: for the current X let N = X X' - I + E (symmetric;
 *      W W' = Z X X' Z' = I iff X X' = (I + E)^-1) and C = (I - E) Bz X'
 *      (to first order the congruence Z^-1 (B W') Z^-T, which is symmetric
 *      positive definite iff B W' is), taken as Bz X' - E diag(d).  The
 *      exact polar factor in the basis Z is (I + F) X with,
 *      to first order in the error, sym(F) = -N/2 (orthonormal rows) and
 *      skew(F) = K solving skew(C (I + F')) = 0 with C ~ diag(d):
 *        K_ij = [(C_ij - C_ji) - (d_i - d_j) N_ij / 2] / (d_i + d_j);
 *      X := (I + F) X; the error after a correction is second order;
 *   4. the certificate: the correction F computed from the current X (its
 *      N and C measured, not predicted: for X0 from the product Bz Bz',
 *      exact up to the rounding of that product, so a well-conditioned B
 *      is certified before any correction) has ||F||_F <= POLAR_TOL, and d > 0:
 *      X is then the polar factor to first order in ||F|| (W W' = I to
 *      ||sym F||, B W' symmetric positive definite to ||skew F||); that
 *      last F is applied too, leaving an error of second order in it, below
 *      the eps cond(B) of dgesdd's own, unless ||F|| <= POLAR_SKIP = 1e-13
 *      (then X is already that close, and the product is saved); W = Z X.
 * Any failure (dsyevr, lam_min <= lam_max / POLAR_COND_MAX^2: nearly
 * singular or rank-deficient B, whose polar factor is not unique; no
 * certificate after POLAR_PASSES corrections) returns 0 and the caller
 * computes W by dgesdd.  B is scaled by a power of two first (exact; the
 * polar factor is scale-free) so that max |B| ~ 1 and B B' cannot
 * overflow.
 * Deterministic: the same B gives the same W on any thread.
 * Buffers: B in ws->M (overwritten), ws->G, ws->R, ws->U (Z), ws->VT, ws->d
 * (sig), ws->A (E), result in
 * ws->W. */
#define POLAR_COND_MAX 1e7
#define POLAR_TOL 1e-11
#define POLAR_SKIP 1e-13
#define POLAR_PASSES 3

/* The correction F from N (in H) and C (in Cm), both r x r; F' into H (the
 * layout the product F X = kernel_product(F', X) takes).  Returns ||F||_F, or
 * -1 when some d_i = C_ii is not positive. */
static double polar_correction(double *H, const double *Cm, int r) {
  double fro = 0;
  for (int i = 0; i < r; i++)
    if (!(Cm[i + (R_xlen_t) i * r] > 0)) return -1;
  for (int i = 0; i < r; i++) {
    const double di = Cm[i + (R_xlen_t) i * r];
    for (int j = i + 1; j < r; j++) {
      const double dj = Cm[j + (R_xlen_t) j * r];
      const double nij = 0.5 * (H[i + (R_xlen_t) j * r] + H[j + (R_xlen_t) i * r]);
      const double cij = Cm[i + (R_xlen_t) j * r], cji = Cm[j + (R_xlen_t) i * r];
      const double k = ((cij - cji) - 0.5 * (di - dj) * nij) / (di + dj);
      const double fij = -0.5 * nij + k, fji = -0.5 * nij - k;
      H[j + (R_xlen_t) i * r] = fij; /* (F')[j, i] = F[i, j] */
      H[i + (R_xlen_t) j * r] = fji;
      fro += fij * fij + fji * fji;
    }
    const double fii = -0.5 * H[i + (R_xlen_t) i * r];
    H[i + (R_xlen_t) i * r] = fii;
    fro += fii * fii;
  }
  return sqrt(fro);
}

static int polar_eig(rotation_scratch *ws, int n) {
  const int r = ws->r;
  const R_xlen_t rn = (R_xlen_t) r * n;
  double *B = ws->M, *T = ws->G, *H = ws->R, *Z = ws->U, *Bz = ws->VT, *X = ws->W,
         *sig = ws->d;
  double bmax = 0;
  for (R_xlen_t e = 0; e < rn; e++) {
    double a = fabs(B[e]);
    if (a > bmax) bmax = a;
  }
  if (!(bmax > 0) || !R_FINITE(bmax)) return 0;
  int ex = 0;
  (void) frexp(bmax, &ex);
  const double sc = ldexp(1.0, -ex);
  for (R_xlen_t e = 0; e < rn; e++) B[e] *= sc;
  /* 1. B B' = Z diag(lam) Z' */
  mat_transpose(B, r, n, T);
  kernel_gram(T, n, r, H, ws->kernel);
  /* G (B') is free from here on: the scratch C of eigen_kernel() */
  if (eigen_kernel_fits(r, ws->lw)) {
    if (!eigen_kernel(H, r, ws->S, Z, ws->isuppz, ws->iwork, 10 * n, T, ws->work, ws->lw,
                      ws->kernel))
      return 0;
  } else { /* small r: dsyevr itself */
    int nfound = 0, il = 1, info = 0, lw = ws->lw, liw = 10 * n;
    double vl = 0, abstol = 0;
    F77_CALL(dsyevr)("V", "A", "U", &r, H, &r, &vl, &vl, &il, &il, &abstol, &nfound,
                     ws->S, Z, &r, ws->isuppz, ws->work, &lw, ws->iwork, &liw,
                     &info FCONE FCONE FCONE);
    if (info != 0 || nfound != r) return 0;
  }
  const double lmax = ws->S[r - 1];
  if (!(lmax > 0) || !(ws->S[0] > lmax / (POLAR_COND_MAX * POLAR_COND_MAX)))
    return 0;
  for (int k = 0; k < r; k++) sig[k] = sqrt(ws->S[k]);
  /* Z is orthonormal to O(r eps) only: E = Z'Z - I (in ws->A, free
   * r x r) enters the corrections below, so that
   * W = Z X comes out as orthogonal as if Z were */
  double *E = ws->A;
  kernel_gram(Z, r, r, E, ws->kernel);
  for (int i = 0; i < r; i++) E[i + (R_xlen_t) i * r] -= 1.0;
  /* 2. Bz = Z'B; Bz' into ws->M (B is not needed any more); X0 */
  kernel_product(Z, B, r, r, n, Bz, ws->kernel);
  mat_transpose(Bz, r, n, B);
  for (int c = 0; c < n; c++) {
    const double *restrict bz = Bz + (R_xlen_t) c * r;
    double *restrict x = X + (R_xlen_t) c * r;
    for (int k = 0; k < r; k++) x[k] = bz[k] / sig[k];
  }
  /* N and C of X0 from H = Bz Bz': N = S^-1 H S^-1 - I, C = H S^-1 */
  kernel_gram(B, n, r, H, ws->kernel);
  double *Cm = Bz; /* Bz itself is not needed once X0 is formed */
  for (int j = 0; j < r; j++) {
    double *restrict hj = H + (R_xlen_t) j * r, *restrict cj = Cm + (R_xlen_t) j * r;
    const double sj = sig[j];
    for (int i = 0; i < r; i++) {
      const double h = hj[i];
      cj[i] = h / sj;
      hj[i] = h / sj / sig[i];
    }
    hj[j] -= 1.0;
  }
  /* 3. corrections, 4. the certificate */
  int ok = 0;
  for (int pass = 0; pass <= POLAR_PASSES; pass++) {
    /* the conditions in the basis Z with Z'Z = I + E, to first order:
     * W W' = I iff X X' = (I + E)^-1, i.e. N + E = 0; B W' symmetric
     * iff Z^-1 B W' Z^-T = (I - E) C is, C - E diag(d) to first order */
    for (int j = 0; j < r; j++) {
      const double dj = Cm[j + (R_xlen_t) j * r];
      double *restrict hj = H + (R_xlen_t) j * r, *restrict cj = Cm + (R_xlen_t) j * r;
      const double *restrict ej = E + (R_xlen_t) j * r;
      for (int i = 0; i < r; i++) {
        hj[i] += ej[i];
        cj[i] -= ej[i] * dj;
      }
    }
    double fro = polar_correction(H, Cm, r);
    if (!(fro >= 0)) return 0;
    ok = fro <= POLAR_TOL;
    if (!ok && pass == POLAR_PASSES) break;
    /* a certified F of at most POLAR_SKIP is left unapplied: X is then
     * within about ||F|| of the polar factor, below the eps cond(B) of
     * dgesdd's own for cond(B) >= ~500 and far below what the descent
     * needs (its costs move by O(||F||)) */
    if (ok && fro <= POLAR_SKIP) break;
    /* X := X + F X (F X into Cm, r x n); a larger certified F is applied
     * too, so that what remains is second order in it */
    kernel_product(H, X, r, r, n, Cm, ws->kernel);
    for (R_xlen_t e = 0; e < rn; e++) X[e] += Cm[e];
    if (ok) break;
    /* N = X X' - I into H, C = Bz X' into Cm */
    mat_transpose(X, r, n, T);
    kernel_gram(T, n, r, H, ws->kernel);
    for (int i = 0; i < r; i++) H[i + (R_xlen_t) i * r] -= 1.0;
    kernel_product(B, T, n, r, r, Cm, ws->kernel);
  }
  if (!ok) return 0;
  /* W = Z X */
  mat_transpose(Z, r, r, T);
  kernel_product(T, X, r, r, n, Cm, ws->kernel);
  memcpy(X, Cm, sizeof(double) * (size_t) rn);
  return 1;
}

/* (b) Procrustes from the plan (fi, fj, fx): W = polar(B0 (nQ)') */
static int procrustes(rotation_scratch *ws, int n, const int *fi, const int *fj,
                      const double *fx, int nnz) {
  const int r = ws->r;
  double *B = ws->M;
  procrustes_matrix(ws, n, fi, fj, fx, nnz, B);
  /* with fewer targets than r, rank(B) <= m < r: straight to dgesdd */
  if (ws->polar_mode && ws->m >= r) {
    if (polar_eig(ws, n)) {
      ws->polar_fast++;
      /* full row rank (cond(B) <= POLAR_COND_MAX): the polar factor is unique */
      ws->rank_deficient = 0;
      return OT_OPTIMAL;
    }
    procrustes_matrix(ws, n, fi, fj, fx, nnz, B);
  }
  if (ws->polar_mode) ws->polar_fallback++;
  int info = 0, lw = ws->lw;
  F77_CALL(dgesdd)("S", &r, &n, B, &r, ws->S, ws->U, &r, ws->VT, &r, ws->work,
                   &lw, ws->iwork, &info FCONE);
  if (info < 0) return ROT_SVD_ARGUMENT;
  if (info > 0) return ROT_SVD_NO_CONVERGENCE;
  /* rank(B) below the numerical rank of Xs: the polar factor is not unique
   * on directions that do change K_R (the lam_k = 0 ones never do) */
  int rank_x = 0, rank_b = 0;
  double lam_max = 0;
  for (int k = 0; k < r; k++) if (ws->lam[k] > lam_max) lam_max = ws->lam[k];
  for (int k = 0; k < r; k++) rank_x += ws->lam[k] > 16.0 * n * DBL_EPSILON * lam_max;
  for (int k = 0; k < r; k++) rank_b += ws->S[k] > 16.0 * r * DBL_EPSILON * ws->S[0];
  ws->rank_deficient = rank_b < rank_x;
  /* W = Ub Vb' = (Ub')' Vb' */
  mat_transpose(ws->U, r, r, ws->G);
  kernel_product(ws->G, ws->VT, r, r, n, ws->W, ws->kernel);
  return OT_OPTIMAL;
}

/* (a) the rotated cost (1) into K */
static void rotated_cost(rotation_scratch *ws, int n, int m, double *K) {
  const int r = ws->r;
  if (ws->ident) { /* (R'GR)_ii = sum_k R_ki (G R)_ki, G R into ws->U */
    kernel_product(ws->V, ws->W, n, n, n, ws->U, ws->kernel);
    for (int i = 0; i < n; i++) {
      const double *w = ws->W + (R_xlen_t) i * n, *gw = ws->U + (R_xlen_t) i * n;
      double s = 0;
      for (int k = 0; k < n; k++) s += w[k] * gw[k];
      ws->d[i] = 0.5 * s - 0.5;
    }
  } else for (int i = 0; i < n; i++) {
    const double *w = ws->W + (R_xlen_t) i * r;
    double s = 0;
    for (int k = 0; k < r; k++) s += ws->lam[k] * w[k] * w[k];
    ws->d[i] = 0.5 * s - 0.5;
  }
  correlation_cost(ws->W, ws->B0, r, n, m, K, ws->kernel); /* 1 - W'B0 */
  for (int j = 0; j < m; j++) {
    double *kj = K + (R_xlen_t) j * n;
    for (int i = 0; i < n; i++) kj[i] += ws->d[i];
  }
}

/* ---- the dense R of the compact factors ---------------------------------
 * R = Q_V D Q_W' with Q_V = H_1 .. H_r the Householder product of the QR of
 * V (Hv, tauV; likewise Q_W of W'), D = diag(sgn) on the first r
 * coordinates.  In WY form (dlarft) Q = I - Y T Y' (Y n x r unit lower
 * trapezoidal, T r x r upper triangular), so
 *   R = D - (D Yw Tw') Yw' - Yv (Tv Yv' D - M2 Yw'),  M2 = Tv (Yv' D Yw) Tw',
 * one product with inner dimension 2r of [Tw Yw' D; Yv'] and
 * [Yw'; Tv Yv' D - M2 Yw'] plus O(n r^2) through the internal kernel: the
 * 8 n^2 r flops of the two dormqr calls (in the reference BLAS) become
 * 4 n^2 r in the kernel.  Used for r <= n / 2 (rotation_lwork() covers its
 * workspace), dormqr otherwise; the choice depends on n and r only, the
 * internal kernel is used whatever the BLAS, and dormqr is given at least
 * its optimal workspace (its blocking then does not depend on how much
 * more it gets), so that rotation_compact_expand() reproduces the
 * descent's R bit for bit. */
static size_t dense_kernel_doubles(int n, int r) {
  return 9 * (size_t) r * n + 5 * (size_t) r * r;
}

/* explicit unit lower trapezoidal Y (n x r) of the reflectors in H */
static void reflectors(const double *H, int n, int r, double *Y) {
  for (int k = 0; k < r; k++) {
    double *y = Y + (R_xlen_t) k * n;
    const double *h = H + (R_xlen_t) k * n;
    for (int i = 0; i < k; i++) y[i] = 0.0;
    y[k] = 1.0;
    for (int i = k + 1; i < n; i++) y[i] = h[i];
  }
}

static int dense_rotation(const double *Hv, const double *Hw, const double *tauV,
                          const double *tauW, const double *sgn, int n, int r,
                          double *R, double *work, int lwork) {
  int info = 0;
  if (r >= 1 && 2 * r <= n) {
    if (dense_kernel_doubles(n, r) > (size_t) lwork) return ROT_SVD_ARGUMENT;
    const int kern = COST_INTERNAL;
    const size_t rr = (size_t) r * r, rn = (size_t) r * n;
    double *Tv = work, *Tw = Tv + rr, *G2 = Tw + rr, *M2 = G2 + rr, *C1 = M2 + rr,
           *Yv = C1 + rr, *Yw = Yv + rn, *E1 = Yw + rn, *E2 = E1 + rn, *E3 = E2 + rn,
           *Xst = E3 + rn, *Yst = Xst + 2 * rn;
    memset(Tv, 0, sizeof(double) * 2 * rr);
    F77_CALL(dlarft)("F", "C", &n, &r, (double *) Hv, &n, tauV, Tv, &r FCONE FCONE);
    F77_CALL(dlarft)("F", "C", &n, &r, (double *) Hw, &n, tauW, Tw, &r FCONE FCONE);
    reflectors(Hv, n, r, Yv);
    reflectors(Hw, n, r, Yw);
    /* G2 = (D Yv)' Yw */
    memcpy(E1, Yv, sizeof(double) * rn);
    for (int k = 0; k < r; k++)
      for (int i = 0; i < r; i++) E1[i + (R_xlen_t) k * n] *= sgn[i];
    kernel_product(E1, Yw, n, r, r, G2, kern);
    /* M2 = Tv (G2 Tw'): C1 = G2 Tw' = (G2')' Tw', M2 = (Tv')' C1 */
    mat_transpose(G2, r, r, M2);
    mat_transpose(Tw, r, r, E1);
    kernel_product(M2, E1, r, r, r, C1, kern);
    mat_transpose(Tv, r, r, E1);
    kernel_product(E1, C1, r, r, r, M2, kern);
    /* E1 = Yw' (r x n), E2 = Yw' D, E3 = Tw E2 = (Tw')' E2 */
    mat_transpose(Yw, n, r, E1);
    memcpy(E2, E1, sizeof(double) * rn);
    for (int i = 0; i < r; i++)
      for (int k = 0; k < r; k++) E2[k + (R_xlen_t) i * r] *= sgn[i];
    mat_transpose(Tw, r, r, C1);
    kernel_product(C1, E2, r, r, n, E3, kern);
    /* the stacks, 2r x n each: Xst = [E3; Yv'], Yst = [Yw'; Tv Yv'D - M2 Yw'] */
    const R_xlen_t ld = 2 * (R_xlen_t) r;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < r; k++) {
        Xst[k + i * ld] = E3[k + (R_xlen_t) i * r];
        Xst[r + k + i * ld] = Yv[i + (R_xlen_t) k * n];
        Yst[k + i * ld] = E1[k + (R_xlen_t) i * r];
      }
    /* E2 = Yv' D; E3 = Tv E2; E2 = M2 Yw' = (M2')' E1 */
    mat_transpose(Yv, n, r, E2);
    for (int i = 0; i < r; i++)
      for (int k = 0; k < r; k++) E2[k + (R_xlen_t) i * r] *= sgn[i];
    mat_transpose(Tv, r, r, C1);
    kernel_product(C1, E2, r, r, n, E3, kern);
    mat_transpose(M2, r, r, C1);
    kernel_product(C1, E1, r, r, n, E2, kern);
    for (int i = 0; i < n; i++)
      for (int k = 0; k < r; k++)
        Yst[r + k + i * ld] = E3[k + (R_xlen_t) i * r] - E2[k + (R_xlen_t) i * r];
    /* R = D - Xst' Yst */
    kernel_product(Xst, Yst, 2 * r, n, n, R, kern);
    const R_xlen_t nn = (R_xlen_t) n * n;
    for (R_xlen_t e = 0; e < nn; e++) R[e] = -R[e];
    for (int i = 0; i < n; i++) R[i + (R_xlen_t) i * n] += i < r ? sgn[i] : 1.0;
    return OT_OPTIMAL;
  }
  memset(R, 0, sizeof(double) * (size_t) n * n);
  for (int i = 0; i < n; i++) R[i + (R_xlen_t) i * n] = 1.0;
  F77_CALL(dormqr)("L", "T", &n, &n, &r, (double *) Hw, &n, tauW, R, &n, work, &lwork,
                   &info FCONE FCONE);
  if (info != 0) return ROT_SVD_ARGUMENT;
  for (int c = 0; c < n; c++)
    for (int k = 0; k < r; k++) R[k + (R_xlen_t) c * n] *= sgn[k];
  F77_CALL(dormqr)("L", "N", &n, &n, &r, (double *) Hv, &n, tauV, R, &n, work, &lwork,
                   &info FCONE FCONE);
  if (info != 0) return ROT_SVD_ARGUMENT;
  return OT_OPTIMAL;
}

/* R (n x n) from V and W, and the compact factors (see the top) */
static int form_rotation(rotation_scratch *ws, int n) {
  const int r = ws->r;
  double *R = ws->R;
  if (ws->ident) {
    memcpy(R, ws->W, sizeof(double) * (size_t) n * n);
    return OT_OPTIMAL;
  }
  /* not V = I: n > T >= r */
  int info = 0, lw = ws->lw;
  double *Hv = ws->G, *Hw = ws->M, *tauV = ws->tau, *tauW = ws->tau + n;
  memcpy(Hv, ws->V, sizeof(double) * (size_t) n * r);
  mat_transpose(ws->W, r, n, Hw); /* W' (n x r) */
  F77_CALL(dgeqrf)(&n, &r, Hv, &n, tauV, ws->work, &lw, &info);
  if (info != 0) return ROT_SVD_ARGUMENT;
  F77_CALL(dgeqrf)(&n, &r, Hw, &n, tauW, ws->work, &lw, &info);
  if (info != 0) return ROT_SVD_ARGUMENT;
  for (int k = 0; k < r; k++) {
    double dv = Hv[k + (R_xlen_t) k * n] < 0 ? -1.0 : 1.0;
    double dw = Hw[k + (R_xlen_t) k * n] < 0 ? -1.0 : 1.0;
    ws->sgn[k] = dv * dw;
  }
  /* the compact form only */
  if (!ws->form_R || (size_t) n * n > ws->R_cap) return OT_OPTIMAL;
  return dense_rotation(Hv, Hw, tauV, tauW, ws->sgn, n, r, R, ws->work, lw);
}

/* ---- the plan in canonical order -----------------------------------------
 * ot_extract() lists the plan's entries in the order of the simplex's basis
 * tree, which differs between two bases of the same plan (a degenerate
 * pivot, a restart).  procrustes_matrix() sums each column of B in list
 * order, so the entries are sorted by (fi, fj) first (two stable counting
 * sorts, O(n + m)): B, hence W, is then a function of the plan alone, and a
 * plan equal to the one W came from gives W back bit for bit (rotation_step
 * uses this).  The plan itself is unchanged. */
static void counting_sort(const int *key, const int *other, const double *x, int nnz,
                          int range, int *cnt, int *key_out, int *other_out,
                          double *x_out) {
  memset(cnt, 0, sizeof(int) * ((size_t) range + 1));
  for (int t = 0; t < nnz; t++) cnt[key[t] + 1]++;
  for (int k = 0; k < range; k++) cnt[k + 1] += cnt[k];
  for (int t = 0; t < nnz; t++) {
    const int at = cnt[key[t]]++;
    key_out[at] = key[t];
    other_out[at] = other[t];
    x_out[at] = x[t];
  }
}

static void canonical_plan(rotation_scratch *ws) {
  const int nnz = ws->nnz;
  if (nnz <= 1) return;
  /* by fj into (tj, ti, tx), then stably by fi back into (fi, fj, fx) */
  counting_sort(ws->fj, ws->fi, ws->fx, nnz, ws->m, ws->cnt, ws->tj, ws->ti, ws->tx);
  counting_sort(ws->ti, ws->tj, ws->tx, nnz, ws->n, ws->cnt, ws->fi, ws->fj, ws->fx);
}

/* the problem's plan into ws (fi, fj, fx, nnz), in canonical order; its
 * objective into *obj */
static void extract_plan(const ot_problem *p, rotation_scratch *ws, double *obj) {
  ws->nnz = ot_extract(p, 1.0 / ((double) ws->n * ws->m), ws->fi, ws->fj, ws->fx,
                       ws->u, ws->v, obj);
  canonical_plan(ws);
}

/* 1 when the current plan is the one W was computed from, entry for entry */
static int plan_is_recorded(const rotation_scratch *ws) {
  const size_t nz = ws->nnz > 0 ? (size_t) ws->nnz : 0;
  return ws->pnnz == ws->nnz && !memcmp(ws->pfi, ws->fi, sizeof(int) * nz) &&
         !memcmp(ws->pfj, ws->fj, sizeof(int) * nz) &&
         !memcmp(ws->pfx, ws->fx, sizeof(double) * nz);
}

/* R = I, where ws->R has room for it (the dense R of a source wider than
 * its training rows is formed only in a scratch made for it: elsewhere
 * it == 0 alone says R = I) */
static void set_identity(rotation_scratch *ws, int n) {
  if ((size_t) n * n > ws->R_cap) return;
  memset(ws->R, 0, sizeof(double) * (size_t) n * n);
  for (int i = 0; i < n; i++) ws->R[i + (R_xlen_t) i * n] = 1.0;
}

/* rotation_begin() with the basis from Xs, or (Xs NULL) copied from `basis` */
static int begin_common(ot_problem *p, const double *Xs, const double *basis,
                        int T, int n, int m, int max_iter, double tol, int lwork,
                        double *K, rotation_scratch *ws, double *trace) {
  ws->n = n;
  ws->m = m;
  ws->T = T;
  ws->lw = lwork;
  ws->max_iter = max_iter;
  ws->tol = tol;
  ws->trace = trace;
  ws->it = 0;
  ws->phase = 0;
  ws->conv = 0;
  ws->status = OT_OPTIMAL;
  ws->pnnz = -1;
  ws->rank_deficient = 0;
  ws->dropped_bound = 0;
  ws->polar_fast = ws->polar_fallback = ws->polar_reused = 0;
  ws->r = 0;
  ws->ident = 0;
  double obj;
  extract_plan(p, ws, &obj);
  ws->obj = obj;
  if (trace) trace[0] = obj;
  if (max_iter <= 0 || T <= 0) {
    ws->max_iter = 0;
    return OT_OPTIMAL;
  }
  if (Xs) {
    ws->status = setup_basis(Xs, T, n, m, K, ws);
    return ws->status;
  }
  shared_basis(basis, T, n, m, K, ws);
  return ws->status = OT_OPTIMAL;
}

int rotation_begin(ot_problem *p, const double *Xs, const double *Ys, int T,
                   int n, int m, int max_iter, double tol, int lwork, double *K,
                   rotation_scratch *ws, double *trace) {
  (void) Ys; /* A = Xs'Ys comes from K = 1 - Xs'Ys */
  return begin_common(p, Xs, NULL, T, n, m, max_iter, tol, lwork, K, ws, trace);
}

int rotation_begin_basis(ot_problem *p, const double *basis, int T, int n, int m,
                         int max_iter, double tol, int lwork, double *K,
                         rotation_scratch *ws, double *trace) {
  return begin_common(p, NULL, basis, T, n, m, max_iter, tol, lwork, K, ws, trace);
}

int rotation_step(ot_problem *p, double *K, rotation_scratch *ws, double budget) {
  const int n = ws->n, m = ws->m;
  if (ws->status != OT_OPTIMAL) return ws->status;
  if (ws->conv || ws->it >= ws->max_iter) return OT_OPTIMAL;
  if (ws->phase == 0) {
    ws->it++;
    if (ws->reuse_plan && plan_is_recorded(ws)) {
      /* the plan W came from: the Procrustes step would give W again bit
       * for bit (the plan is in canonical order, what follows is
       * deterministic) and the rotated cost the K already in place (the
       * simplex only reads it), so both are skipped; the OT is restarted
       * and run as the full step would (usually the descent's last
       * iteration, which confirms that nothing moves) */
      ws->polar_reused++;
    } else {
      /* record the plan this iteration's rotation comes from */
      memcpy(ws->pfi, ws->fi, sizeof(int) * (size_t) ws->nnz);
      memcpy(ws->pfj, ws->fj, sizeof(int) * (size_t) ws->nnz);
      memcpy(ws->pfx, ws->fx, sizeof(double) * (size_t) ws->nnz);
      ws->pnnz = ws->nnz;
      int st = procrustes(ws, n, ws->fi, ws->fj, ws->fx, ws->nnz);
      if (st != OT_OPTIMAL) return ws->status = st;
      rotated_cost(ws, n, m, K);
    }
    ot_restart(p);
    ws->phase = 1;
  }
  int st = ot_run(p, budget);
  if (st == OT_RUNNING) return OT_RUNNING;
  ws->phase = 0;
  if (st != OT_OPTIMAL) return ws->status = st;
  double next;
  extract_plan(p, ws, &next);
  if (ws->trace) ws->trace[ws->it] = next;
  double decrease = ws->obj - next, prev = ws->obj;
  ws->obj = next;
  if (!(decrease > ws->tol * fabs(prev) + ROT_NOISE)) {
    ws->conv = 1;
    return OT_OPTIMAL;
  }
  return ws->it >= ws->max_iter ? OT_OPTIMAL : OT_RUNNING;
}

int rotation_finish(rotation_scratch *ws, double *objective, int *iterations,
                    int *converged) {
  *objective = ws->obj;
  *iterations = ws->it;
  *converged = ws->conv;
  if (ws->status != OT_OPTIMAL) return ws->status;
  if (ws->it == 0) {
    set_identity(ws, ws->n);
    return OT_OPTIMAL;
  }
  return ws->status = form_rotation(ws, ws->n);
}

int rotation_descent(ot_problem *p, const double *Xs, const double *Ys, int T,
                     int n, int m, int max_iter, double tol, int lwork,
                     double *K, rotation_scratch *ws, double *objective,
                     double *trace, int *iterations, int *converged) {
  int st = rotation_begin(p, Xs, Ys, T, n, m, max_iter, tol, lwork, K, ws, trace);
  while (st == OT_OPTIMAL || st == OT_RUNNING) {
    st = rotation_step(p, K, ws, 0);
    if (st == OT_OPTIMAL) break;
  }
  int fst = rotation_finish(ws, objective, iterations, converged);
  return st != OT_OPTIMAL ? st : fst;
}

int rotation_from_plan(const double *Xs, const double *Ys, int T, int n, int m,
                       int lwork, const int *fi, const int *fj, const double *fx,
                       int nnz, double *K, rotation_scratch *ws) {
  return rotation_from_plan_basis(Xs, NULL, Ys, T, n, m, lwork, fi, fj, fx, nnz, K, ws);
}

/* rotation_from_plan() with the source's basis computed once
 * (rotation_basis()) instead of per pair; basis NULL: from Xs.  Bit for bit
 * the same R: the basis is the one layer_basis() computes from Xs. */
int rotation_from_plan_basis(const double *Xs, const double *basis, const double *Ys,
                             int T, int n, int m, int lwork, const int *fi,
                             const int *fj, const double *fx, int nnz, double *K,
                             rotation_scratch *ws) {
  ws->n = n;
  ws->m = m;
  ws->T = T;
  ws->lw = lwork;
  ws->status = OT_OPTIMAL;
  if (nnz < 0 || T <= 0) { /* no Procrustes step was made: R = I */
    ws->r = 0;
    ws->it = 0;
    set_identity(ws, n);
    return OT_OPTIMAL;
  }
  correlation_cost(Xs, Ys, T, n, m, K, ws->kernel);
  int st = OT_OPTIMAL;
  if (basis) {
    shared_basis(basis, T, n, m, K, ws);
  } else {
    st = setup_basis(Xs, T, n, m, K, ws);
  }
  if (st != OT_OPTIMAL) return ws->status = st;
  st = procrustes(ws, n, fi, fj, fx, nnz);
  if (st != OT_OPTIMAL) return ws->status = st;
  ws->it = 1;
  return ws->status = form_rotation(ws, n);
}

/* ---- the compact form ------------------------------------------------- */

size_t rotation_compact_doubles(int n, int r) {
  if (r <= 0 || r >= n) return (size_t) n * n;
  return 2 * (size_t) n * r + 3 * (size_t) r;
}

void rotation_compact_store(const rotation_scratch *ws, double *out) {
  const int n = ws->n, r = ws->r;
  if (ws->it == 0) { /* R = I (ws->R may have no room for it) */
    memset(out, 0, sizeof(double) * (size_t) n * n);
    for (int i = 0; i < n; i++) out[i + (R_xlen_t) i * n] = 1.0;
    return;
  }
  if (r <= 0 || r >= n) {
    memcpy(out, ws->R, sizeof(double) * (size_t) n * n);
    return;
  }
  size_t nr = (size_t) n * r;
  memcpy(out, ws->G, sizeof(double) * nr);
  memcpy(out + nr, ws->M, sizeof(double) * nr);
  memcpy(out + 2 * nr, ws->tau, sizeof(double) * r);
  memcpy(out + 2 * nr + r, ws->tau + n, sizeof(double) * r);
  memcpy(out + 2 * nr + 2 * r, ws->sgn, sizeof(double) * r);
}

/* Whether a source of n units and T training rows keeps its rotations
 * dense: n <= T (R = W, n^2 <= n T), or the compact form would not be
 * smaller (2 n T + 3 T >= n^2, i.e. n up to about 2 T) */
int rotation_keeps_dense(int n, int T) {
  return n <= T || rotation_compact_doubles(n, T) >= (size_t) n * (size_t) n;
}

/* The workspace of rotation_compact_expand() for 1 <= r < n: that of
 * dense_rotation()'s route (the kernel's, or dormqr's optimal one, which
 * the descent's rotation_lwork() also covers); -1 if the query fails. */
int rotation_expand_lwork(int n, int r) {
  if (2 * r <= n) {
    size_t d = dense_kernel_doubles(n, r);
    return d > 2147483647u ? -1 : (int) d;
  }
  double dummy = 0, size = 0;
  int info = 0, query = -1;
  F77_CALL(dormqr)("L", "T", &n, &n, &r, &dummy, &n, &dummy, &dummy, &n, &size,
                   &query, &info FCONE FCONE);
  if (info != 0 || !(size >= 1) || size > 2147483647.0) return -1;
  return (int) ceil(size);
}

/* The dense R (n x n) of a compact form with r < n, formed exactly as
 * form_rotation() forms it (dense_rotation(): the same route and blocking
 * for any lwork >= rotation_expand_lwork(n, r)): bit for bit the R of the
 * descent.  work: lwork doubles. */
int rotation_compact_expand(const double *compact, int n, int r, double *R,
                            double *work, int lwork) {
  if (r <= 0 || r >= n) {
    memcpy(R, compact, sizeof(double) * (size_t) n * n);
    return OT_OPTIMAL;
  }
  size_t nr = (size_t) n * r;
  const double *Hv = compact, *Hw = compact + nr, *tauV = compact + 2 * nr,
               *tauW = tauV + r, *sgn = tauW + r;
  return dense_rotation(Hv, Hw, tauV, tauW, sgn, n, r, R, work, lwork);
}

/* ffi_rotation_expand(compact, n, r): the dense R of a stored compact form
 * (fit$rotation, see R/hot_rotation.R) */
SEXP ffi_rotation_expand(SEXP compact, SEXP n_, SEXP r_) {
  const int n = Rf_asInteger(n_), r = Rf_asInteger(r_);
  if (n == NA_INTEGER || r == NA_INTEGER || n < 1 || r < 1 || r >= n)
    Rf_error("`n` and `r` must be whole numbers with 1 <= r < n");
  if (!Rf_isReal(compact) || (size_t) XLENGTH(compact) != rotation_compact_doubles(n, r))
    Rf_error("`compact` must be a double vector of %.0f entries",
             (double) rotation_compact_doubles(n, r));
  int lwork = rotation_expand_lwork(n, r);
  if (lwork < 0) Rf_error("the LAPACK workspace query failed for %d units", n);
  double *work = (double *) R_alloc(lwork, sizeof(double));
  SEXP R = PROTECT(Rf_allocMatrix(REALSXP, n, n));
  if (rotation_compact_expand(REAL(compact), n, r, REAL(R), work, lwork) != OT_OPTIMAL)
    Rf_error("LAPACK dormqr rejected an argument expanding a rotation");
  UNPROTECT(1);
  return R;
}

size_t rotation_compact_work(int n, int r, int k) {
  if (r <= 0 || r >= n) return (size_t) k * n;
  return (size_t) n * r + (size_t) ROT_ORM_NB * k + ROT_ORM_TSIZE;
}

int rotation_compact_apply(const double *compact, int n, int r, double *Z, int k,
                           double *work) {
  if (k <= 0) return OT_OPTIMAL;
  if (r <= 0 || r >= n) { /* dense R: Z := Z R' */
    const double one = 1.0, zero = 0.0;
    F77_CALL(dgemm)("N", "T", &k, &n, &n, &one, Z, &k, compact, &n, &zero, work,
                    &k FCONE FCONE);
    memcpy(Z, work, sizeof(double) * (size_t) k * n);
    return OT_OPTIMAL;
  }
  size_t nr = (size_t) n * r;
  const double *Hv = compact, *Hw = compact + nr, *tauV = compact + 2 * nr,
               *tauW = tauV + r, *sgn = tauW + r;
  /* dormqr is handed a private copy of each factor: its unblocked path
   * (dorm2r, r <= its block size) sets the diagonal of A to 1 while it
   * works and restores it after, so threads applying the same stored
   * rotation at once would see, and restore, each other's 1s */
  double *H = work, *w = work + nr;
  int info = 0, lw = ROT_ORM_NB * k + ROT_ORM_TSIZE;
  /* R' = H_W D H_V':  Z R' = ((Z H_W) D) H_V' */
  memcpy(H, Hw, sizeof(double) * nr);
  F77_CALL(dormqr)("R", "N", &k, &n, &r, H, &n, tauW, Z, &k, w, &lw,
                   &info FCONE FCONE);
  if (info != 0) return ROT_SVD_ARGUMENT;
  for (int c = 0; c < r; c++) {
    double *z = Z + (R_xlen_t) c * k;
    for (int t = 0; t < k; t++) z[t] *= sgn[c];
  }
  memcpy(H, Hv, sizeof(double) * nr);
  F77_CALL(dormqr)("R", "T", &k, &n, &r, H, &n, tauV, Z, &k, w, &lw,
                   &info FCONE FCONE);
  if (info != 0) return ROT_SVD_ARGUMENT;
  return OT_OPTIMAL;
}

/* ---- the lower bound ----------------------------------------------------
 * For any R in O(n) and Q in U(1/n, 1/m):
 *   <K_R, Q> = 1/2 sum_i (1/n) (R'GR)_ii + 1/2 - tr(R' A Q')
 *            = tr(G) / (2n) + 1/2 - tr(R' A Q'),
 * and tr(R' A Q') <= ||A Q'||_* <= ||A||_* ||Q||_2 (von Neumann), with
 * ||Q||_2 <= sqrt(||Q||_1 ||Q||_inf) = sqrt((1/m)(1/n)).  Hence
 *   C >= tr(G) / (2n) + 1/2 - ||A||_* / sqrt(n m),
 * which does not depend on R (rotation-invariant) and bounds the descent's
 * objective, which is <K_R, Q> at a feasible (R, Q).  ||A||_* = ||B0||_*
 * (A = V B0 up to the dropped directions, V orthonormal), from the
 * singular values of B0 (r x m, dgesdd values only, backward stable: each
 * within O(max(r, m) eps s_max), over-estimated by that much);
 * ROT_BOUND_MARGIN covers the O(n eps) errors of V, B0, tr(G), the dropped
 * directions (<= ROT_DROP_BOUND) and the descent's own objective. */
double rotation_lower_bound(rotation_scratch *ws, double *copy) {
  const int n = ws->n, m = ws->m, r = ws->r;
  if (r <= 0) return R_NegInf;
  double trG = 0;
  for (int k = 0; k < r; k++) trG += ws->lam[k];
  /* singular values of B0 (r x m, copied into `copy`), values only */
  const int mn = r < m ? r : m, mx = r < m ? m : r;
  double size = 0, dummy = 0;
  int info = 0, query = -1, lw = ws->lw, one = 1;
  F77_CALL(dgesdd)("N", &r, &m, &dummy, &r, &dummy, &dummy, &one, &dummy, &one,
                   &size, &query, ws->iwork, &info FCONE);
  if (info != 0 || !(size <= lw) || 8 * (size_t) mn > 10 * (size_t) n)
    return R_NegInf;
  memcpy(copy, ws->B0, sizeof(double) * (size_t) r * m);
  F77_CALL(dgesdd)("N", &r, &m, copy, &r, ws->S, &dummy, &one, &dummy, &one,
                   ws->work, &lw, ws->iwork, &info FCONE);
  if (info != 0) return R_NegInf;
  double nuc = 0;
  for (int k = 0; k < mn; k++) nuc += ws->S[k];
  /* each computed singular value is within c mx eps s_max of the exact one */
  nuc += 8.0 * mn * mx * DBL_EPSILON * ws->S[0];
  return trG / (2.0 * n) + 0.5 - nuc / sqrt((double) n * m) - ROT_BOUND_MARGIN;
}

/* ---- test entry point ---------------------------------------------------
 * ffi_rotation_parts(Xs, Ys, max_iter, tol, budget, Z): one pair through the
 * resumable form with `budget` pivots per step; returns the trace, R, the
 * basis and W, the recorded plan, R recomputed from it, the lower bound and
 * Z R' through the compact form; form_dense = FALSE: the compact form only
 * (R is then NULL when r < n); shared_basis = TRUE: the basis computed
 * first in another scratch (rotation_basis) and passed on
 * (rotation_begin_basis); polar = FALSE: every Procrustes step by dgesdd
 * (the straightforward descent), TRUE: the eigendecomposition route with its
 * dgesdd fallback (what the engine runs); reuse = FALSE: a step whose plan is
 * the recorded one recomputes W and K instead of keeping them. */
SEXP ffi_rotation_parts(SEXP Xs, SEXP Ys, SEXP max_iter, SEXP tol, SEXP budget,
                        SEXP Z, SEXP form_dense, SEXP shared_basis, SEXP polar,
                        SEXP reuse) {
  if (!Rf_isReal(Xs) || !Rf_isMatrix(Xs) || !Rf_isReal(Ys) || !Rf_isMatrix(Ys) ||
      Rf_nrows(Xs) != Rf_nrows(Ys) || !Rf_isReal(Z) || !Rf_isMatrix(Z) ||
      Rf_ncols(Z) != Rf_ncols(Xs))
    Rf_error("ffi_rotation_parts: expected double matrices Xs, Ys (equal rows) and Z (ncol(Xs) columns)");
  const int T = Rf_nrows(Xs), n = Rf_ncols(Xs), m = Rf_ncols(Ys), k = Rf_nrows(Z);
  const int iters = Rf_asInteger(max_iter);
  const double tl = Rf_asReal(tol), bud = Rf_asReal(budget);
  const R_xlen_t nm = (R_xlen_t) n * m;
  int lwork = rotation_lwork(n, T);
  if (lwork < 0) Rf_error("ffi_rotation_parts: LAPACK workspace query failed");
  const int want_dense = Rf_asLogical(form_dense) != 0;
  double *K = (double *) R_alloc(nm, sizeof(double));
  double *a = (double *) R_alloc(n, sizeof(double));
  double *b = (double *) R_alloc(m, sizeof(double));
  void *work = R_alloc(ot_workspace_bytes(n, m), 1);
  rotation_scratch ws;
  rotation_scratch_init(&ws, (double *) R_alloc(rotation_scratch_doubles(
                                                    n, m, T, lwork, want_dense ? n : 0),
                                                sizeof(double)),
                        (int *) R_alloc(rotation_scratch_ints(n, m), sizeof(int)),
                        n, m, T, lwork, want_dense ? n : 0);
  ws.form_R = want_dense;
  ws.polar_mode = Rf_asLogical(polar) == 1;
  ws.reuse_plan = Rf_asLogical(reuse) == 1;
  SEXP trace = PROTECT(Rf_allocVector(REALSXP, (iters > 0 ? iters : 0) + 1));
  for (R_xlen_t e = 0; e < XLENGTH(trace); e++) REAL(trace)[e] = NA_REAL;
  correlation_cost(REAL(Xs), REAL(Ys), T, n, m, K, ws.kernel);
  for (int i = 0; i < n; i++) a[i] = m;
  for (int j = 0; j < m; j++) b[j] = n;
  ot_problem *p = ot_init(work, n, m, K, a, b);
  int st = ot_run(p, 0), steps = 0;
  double obj = NA_REAL, bound = NA_REAL;
  int its = 0, conv = 0;
  if (st == OT_OPTIMAL) {
    if (Rf_asLogical(shared_basis) == 1) {
      rotation_scratch wb;
      rotation_scratch_init(&wb, (double *) R_alloc(rotation_scratch_doubles(
                                                        n, m, T, lwork, 0),
                                                    sizeof(double)),
                            (int *) R_alloc(rotation_scratch_ints(n, m), sizeof(int)),
                            n, m, T, lwork, 0);
      double *basis = (double *) R_alloc(rotation_basis_doubles(n, T), sizeof(double));
      st = rotation_basis(REAL(Xs), T, n, lwork, &wb, basis);
      if (st == OT_OPTIMAL)
        st = rotation_begin_basis(p, basis, T, n, m, iters, tl, lwork, K, &ws,
                                  REAL(trace));
    } else {
      st = rotation_begin(p, REAL(Xs), REAL(Ys), T, n, m, iters, tl, lwork, K, &ws,
                          REAL(trace));
    }
    if (st == OT_OPTIMAL && ws.r > 0)
      bound = rotation_lower_bound(&ws, (double *) R_alloc(nm, sizeof(double)));
    while (st == OT_OPTIMAL || st == OT_RUNNING) {
      st = rotation_step(p, K, &ws, bud);
      steps++;
      if (st == OT_OPTIMAL) break;
    }
    int fst = rotation_finish(&ws, &obj, &its, &conv);
    if (st == OT_OPTIMAL) st = fst;
  }
  const int r = ws.r;
  /* the dense R where the scratch formed it (R = I after no iteration) */
  const int dense = (size_t) n * n <= ws.R_cap && (ws.form_R || ws.ident || ws.it == 0);
  SEXP R = PROTECT(dense || ws.it == 0 ? Rf_allocMatrix(REALSXP, n, n) : R_NilValue);
  if (dense) {
    memcpy(REAL(R), ws.R, sizeof(double) * (size_t) n * n);
  } else if (ws.it == 0) {
    memset(REAL(R), 0, sizeof(double) * (size_t) n * n);
    for (int i = 0; i < n; i++) REAL(R)[i + (R_xlen_t) i * n] = 1.0;
  }
  SEXP W = PROTECT(Rf_allocMatrix(REALSXP, r, n));
  if (r > 0 && ws.it > 0) memcpy(REAL(W), ws.W, sizeof(double) * (size_t) r * n);
  else for (R_xlen_t e = 0; e < XLENGTH(W); e++) REAL(W)[e] = NA_REAL;
  SEXP V = PROTECT(Rf_allocMatrix(REALSXP, n, r));
  if (ws.ident) { /* V = I (ws.V holds G) */
    memset(REAL(V), 0, sizeof(double) * (size_t) n * r);
    for (int i = 0; i < n; i++) REAL(V)[i + (R_xlen_t) i * n] = 1.0;
  } else if (r > 0) {
    memcpy(REAL(V), ws.V, sizeof(double) * (size_t) n * r);
  }
  SEXP lam = PROTECT(Rf_allocVector(REALSXP, r));
  if (r > 0) memcpy(REAL(lam), ws.lam, sizeof(double) * r);
  const int pn = ws.pnnz > 0 ? ws.pnnz : 0;
  SEXP pi = PROTECT(Rf_allocVector(INTSXP, pn)), pj = PROTECT(Rf_allocVector(INTSXP, pn)),
       px = PROTECT(Rf_allocVector(REALSXP, pn));
  for (int t = 0; t < pn; t++) {
    INTEGER(pi)[t] = ws.pfi[t] + 1;
    INTEGER(pj)[t] = ws.pfj[t] + 1;
    REAL(px)[t] = ws.pfx[t];
  }
  /* Z R' through the compact form of the descent's R */
  SEXP applied = PROTECT(Rf_duplicate(Z));
  int cst = OT_OPTIMAL;
  if (st == OT_OPTIMAL) {
    size_t cd = rotation_compact_doubles(n, ws.it > 0 ? r : 0);
    double *compact = (double *) R_alloc(cd, sizeof(double));
    rotation_compact_store(&ws, compact);
    double *cw = (double *) R_alloc(rotation_compact_work(n, ws.it > 0 ? r : 0, k),
                                    sizeof(double));
    cst = rotation_compact_apply(compact, n, ws.it > 0 ? r : 0, REAL(applied), k, cw);
  }
  int rank_def = ws.rank_deficient;
  /* R again from the recorded plan, in a fresh scratch */
  SEXP R2 = PROTECT(Rf_allocMatrix(REALSXP, n, n));
  int fst2 = OT_OPTIMAL;
  if (st == OT_OPTIMAL) {
    rotation_scratch ws2;
    rotation_scratch_init(&ws2, (double *) R_alloc(rotation_scratch_doubles(
                                                       n, m, T, lwork, n),
                                                   sizeof(double)),
                          (int *) R_alloc(rotation_scratch_ints(n, m), sizeof(int)),
                          n, m, T, lwork, n);
    ws2.polar_mode = ws.polar_mode;
    fst2 = rotation_from_plan(REAL(Xs), REAL(Ys), T, n, m, lwork, ws.pfi, ws.pfj,
                              ws.pfx, ws.pnnz, K, &ws2);
    memcpy(REAL(R2), ws2.R, sizeof(double) * (size_t) n * n);
  }
  const char *names[] = {"trace", "iterations", "converged", "status", "cost",
                         "R", "W", "V", "lam", "r", "plan_i", "plan_j", "plan_x",
                         "R_from_plan", "from_plan_status", "lower_bound",
                         "applied", "apply_status", "rank_deficient", "steps",
                         "dropped_bound", "polar_fast", "polar_fallback",
                         "polar_reused", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(out, 0, trace);
  SET_VECTOR_ELT(out, 1, Rf_ScalarInteger(its));
  SET_VECTOR_ELT(out, 2, Rf_ScalarLogical(conv));
  SET_VECTOR_ELT(out, 3, Rf_ScalarInteger(st));
  SET_VECTOR_ELT(out, 4, Rf_ScalarReal(obj));
  SET_VECTOR_ELT(out, 5, R);
  SET_VECTOR_ELT(out, 6, W);
  SET_VECTOR_ELT(out, 7, V);
  SET_VECTOR_ELT(out, 8, lam);
  SET_VECTOR_ELT(out, 9, Rf_ScalarInteger(r));
  SET_VECTOR_ELT(out, 10, pi);
  SET_VECTOR_ELT(out, 11, pj);
  SET_VECTOR_ELT(out, 12, px);
  SET_VECTOR_ELT(out, 13, R2);
  SET_VECTOR_ELT(out, 14, Rf_ScalarInteger(fst2));
  SET_VECTOR_ELT(out, 15, Rf_ScalarReal(bound));
  SET_VECTOR_ELT(out, 16, applied);
  SET_VECTOR_ELT(out, 17, Rf_ScalarInteger(cst));
  SET_VECTOR_ELT(out, 18, Rf_ScalarLogical(rank_def));
  SET_VECTOR_ELT(out, 19, Rf_ScalarInteger(steps));
  SET_VECTOR_ELT(out, 20, Rf_ScalarReal(ws.dropped_bound));
  SET_VECTOR_ELT(out, 21, Rf_ScalarInteger(ws.polar_fast));
  SET_VECTOR_ELT(out, 22, Rf_ScalarInteger(ws.polar_fallback));
  SET_VECTOR_ELT(out, 23, Rf_ScalarInteger(ws.polar_reused));
  UNPROTECT(11);
  return out;
}
