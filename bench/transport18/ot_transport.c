/* PROTOTYPE, measured and not landed (bench/RESULTS.md, "Issue 11: a
 * transportation solver for the uniform non-square case (branch
 * transport18)").  Not built with the package: compile with driver.c, see
 * run.sh.
 *
 * The uniform non-square case of exact OT (n x m, n != m, every row mass
 * equal and every column mass equal) as a transportation problem in
 * integer units, solved by successive shortest paths (SSP).
 *
 * Units.  With g = gcd(n, m), a row supplies S = m / g units and a column
 * demands D = n / g (n S = m D = n m / g); a unit carries a_i / S of mass.
 * Flows are integers (held in doubles, exact below 2^53): a b-matching.
 *
 * Layout.  C is n x m column-major: a column scan reads C in memory order.
 * Paths start at a column short of its demand and end at a row with supply
 * left: column j -> row i raises x(i, j) (length C(i, j) - u_i - v_j), row
 * i -> column j lowers x(i, j) > 0 (length 0 on a tight arc).  The support
 * (arcs with x > 0) is an arc pool with a list per row.
 *
 * Invariants (in exact arithmetic; the certificate below checks them on C):
 *  - dual feasibility: r(i, j) = C(i, j) - u_i - v_j >= 0 for every arc;
 *  - complementary slackness: r(i, j) = 0 where x(i, j) > 0;
 *  - x >= 0, row i sends S - rsur_i <= S, column j receives D - cdef_j.
 * Two starts establish them.  Default: column reduction (v_j = min_i C(i,
 * j), u = 0) and a greedy pass (each column takes what its arg min row has
 * left).  With EPS0, EPSMIN, EPSFAC set: a forward auction with eps
 * scaling on the units (auction(), invariants there) over a sparse graph
 * of AUC_K rows per column with a bound for the rest, then u_i = -(least
 * slot price of row i), v_j = min_i C(i, j) - u_i (a pass over C: dual
 * feasible on all of C), and only the units on tight arcs are kept.  Each
 * augmentation is then one Dijkstra from a column j0 with cdef > 0, dense
 * over the rows (a popped row's flow arcs lead at zero length to columns,
 * which are scanned whole: every arc of C is priced, so the searches need
 * no graph and no bound).  It stops at the first popped row with supply
 * left (distance D*); popped rows get u_i += d_i - D*, scanned columns v_j
 * += D* - d_j, which keeps r >= 0 and makes the path tight; then min(cdef,
 * the end row's supply, the flows the path lowers) units move along it.
 * Columns are served in index order, each until its demand is met.
 * Optimality is declared only by a pass over all of C with the final
 * duals: every r >= -tol and every support arc |r| <= tol, with tol = 64
 * DBL_EPSILON max(|C|, |u|, |v|) (the simplex's rule for a negative reduced
 * cost); a failing pass returns OT_TRANSPORT_GAVE_UP.
 *
 * Basic solution.  SSP may leave cycles in the support (ties).
 * canonicalise() removes them: the support arcs are added one by one to a
 * forest (union-find says when an arc may close a cycle, a search of the
 * forest says whether it does); a cycle's flow is shifted around it (every
 * arc of it is tight, so cost and duals do not change) until one of its
 * arcs is empty.  The plan then has at most n + m - 1 non-zeros.  It runs
 * at the end and whenever the pool fills.
 *
 * Resumable between augmentations (budget in column scans and row pops);
 * no allocation inside (workspace from ot_transport_bytes()).
 */
#include <float.h>
#include <math.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdio.h>
#include "ot_transport.h"

struct ot_transport {
  int n, m;
  const double *C;
  double S, D;          /* units per row, per column */
  double *u, *v;        /* duals: r = C - u - v */
  double *w;            /* u, or -HUGE_VAL for the rows a search popped */
  double *rsur, *cdef;  /* supply left per row, demand left per column */
  /* the support: an arc pool, a singly linked list per row */
  int cap, n_arc, n_live;
  int *arow, *acol, *anext, *rhead;
  double *aflow;
  /* one search */
  double *d;            /* tentative distance of each row (HUGE_VAL once popped) */
  double *drow;         /* final distance of popped rows */
  int *predc;           /* column a row was reached from */
  double *dcol;         /* distance of scanned columns */
  int *cpred;           /* arc a scanned column was reached by */
  int *cstamp, stamp;
  int *done_rows, *scan_cols;
  /* canonicalise(): union-find, forest lists, search */
  int *uf, *fnext_r, *fnext_c, *fhead, *bfs_q, *bfs_arc, *bfs_mark, bfs_stamp;
  /* the auction: unit slots of the rows (row i: slots i S .. i S + S - 1)
   * with their prices and holders (a column, or -1), each row's least and
   * second least slot price and the slot of the least; per column its K
   * graph rows and the bound beta; the queue of columns with units free */
  int K, n_units;
  double *price, *min1, *min2, *beta, *hv, *gc;
  int *holder, *arg1, *grow, *queue, *hi;
  double bids, expansions;
  int phase, next_col, cycles;
  double work;
};

/* statistics for the driver (one process, one solve at a time) */
double naug, npop, nscan;

static size_t align16(size_t x) { return (x + 15) & ~(size_t) 15; }

static int gcd_int(int a, int b) {
  while (b) { int t = a % b; a = b; b = t; }
  return a;
}

/* the pool: a forest (n + m - 1) plus room for one augmentation's new
 * arcs (at most one per row) and slack, so canonicalise() runs rarely */
static int pool_cap(int n, int m) { return 3 * (n + m) + n; }

#define AUC_K 96          /* graph rows per column */
#define AUC_UNIT_ROOM 8   /* the auction runs when n m / gcd <= 8 (n + m) */
static int auc_k(int n) { return n - 1 < AUC_K ? n - 1 : AUC_K; }

/* whether the auction's unit slots fit (callers fall back to the simplex
 * otherwise) */
int ot_transport_fits(int n, int m) {
  if (n < 2 || m < 2) return 0;
  double units = (double) n * (double) (m / gcd_int(n, m));
  return units <= (double) AUC_UNIT_ROOM * (n + m);
}

size_t ot_transport_bytes(int n, int m) {
  size_t N = (size_t) n + (size_t) m, cap = (size_t) pool_cap(n, m);
  size_t b = align16(sizeof(ot_transport));
  b += 3 * align16((size_t) n * sizeof(double)) + 2 * align16((size_t) m * sizeof(double)); /* u w rsur, v cdef */
  b += 2 * align16((size_t) n * sizeof(double)) + align16((size_t) m * sizeof(double));     /* d drow, dcol */
  b += 2 * align16((size_t) n * sizeof(int)) + 3 * align16((size_t) m * sizeof(int));       /* predc done rhead?, cpred cstamp scan */
  b += 4 * align16(cap * sizeof(int)) + align16(cap * sizeof(double));                      /* pool */
  b += 2 * align16(cap * sizeof(int));                                                      /* forest links */
  b += 5 * align16(N * sizeof(int));                                                        /* uf fhead q arc mark */
  size_t U = (size_t) AUC_UNIT_ROOM * N, K = AUC_K;
  b += align16(U * sizeof(double)) + align16(U * sizeof(int));          /* price holder */
  b += 2 * align16((size_t) n * sizeof(double)) + align16((size_t) n * sizeof(int)); /* min1 min2 arg1 */
  b += align16((size_t) m * K * sizeof(int)) + align16((size_t) m * sizeof(double)); /* graph, beta */
  b += align16((size_t) m * K * sizeof(double));                        /* graph costs */
  b += align16(((size_t) m + 1) * sizeof(int));                         /* queue */
  b += align16((K + 1) * sizeof(double)) + align16((K + 1) * sizeof(int));
  return b;
}

static void *carve(char **cur, size_t bytes) {
  void *p = *cur;
  *cur += align16(bytes);
  return p;
}

ot_transport *ot_transport_init(void *work, int n, int m, const double *C) {
  char *cur = (char *) work;
  ot_transport *s = carve(&cur, sizeof(ot_transport));
  size_t N = (size_t) n + (size_t) m;
  int cap = pool_cap(n, m);
  s->n = n;
  s->m = m;
  s->C = C;
  int g = gcd_int(n, m);
  s->S = (double) (m / g);
  s->D = (double) (n / g);
  s->u = carve(&cur, (size_t) n * sizeof(double));
  s->w = carve(&cur, (size_t) n * sizeof(double));
  s->rsur = carve(&cur, (size_t) n * sizeof(double));
  s->v = carve(&cur, (size_t) m * sizeof(double));
  s->cdef = carve(&cur, (size_t) m * sizeof(double));
  s->d = carve(&cur, (size_t) n * sizeof(double));
  s->drow = carve(&cur, (size_t) n * sizeof(double));
  s->dcol = carve(&cur, (size_t) m * sizeof(double));
  s->predc = carve(&cur, (size_t) n * sizeof(int));
  s->done_rows = carve(&cur, (size_t) n * sizeof(int));
  s->cpred = carve(&cur, (size_t) m * sizeof(int));
  s->cstamp = carve(&cur, (size_t) m * sizeof(int));
  s->scan_cols = carve(&cur, (size_t) m * sizeof(int));
  s->cap = cap;
  s->arow = carve(&cur, (size_t) cap * sizeof(int));
  s->acol = carve(&cur, (size_t) cap * sizeof(int));
  s->anext = carve(&cur, (size_t) cap * sizeof(int));
  s->rhead = carve(&cur, (size_t) cap * sizeof(int)); /* n used */
  s->aflow = carve(&cur, (size_t) cap * sizeof(double));
  s->fnext_r = carve(&cur, (size_t) cap * sizeof(int));
  s->fnext_c = carve(&cur, (size_t) cap * sizeof(int));
  s->uf = carve(&cur, N * sizeof(int));
  s->fhead = carve(&cur, N * sizeof(int));
  s->bfs_q = carve(&cur, N * sizeof(int));
  s->bfs_arc = carve(&cur, N * sizeof(int));
  s->bfs_mark = carve(&cur, N * sizeof(int));
  size_t U = (size_t) AUC_UNIT_ROOM * N;
  s->K = auc_k(n);
  s->n_units = (int) ((size_t) n * (size_t) (m / g));
  s->price = carve(&cur, U * sizeof(double));
  s->holder = carve(&cur, U * sizeof(int));
  s->min1 = carve(&cur, (size_t) n * sizeof(double));
  s->min2 = carve(&cur, (size_t) n * sizeof(double));
  s->arg1 = carve(&cur, (size_t) n * sizeof(int));
  s->grow = carve(&cur, (size_t) m * AUC_K * sizeof(int));
  s->beta = carve(&cur, (size_t) m * sizeof(double));
  s->gc = carve(&cur, (size_t) m * AUC_K * sizeof(double));
  s->queue = carve(&cur, ((size_t) m + 1) * sizeof(int));
  s->hv = carve(&cur, (AUC_K + 1) * sizeof(double));
  s->hi = carve(&cur, (AUC_K + 1) * sizeof(int));
  s->bids = 0;
  s->expansions = 0;
  s->phase = 0;
  s->work = 0;
  s->cycles = 0;
  return s;
}

double ot_transport_work(const ot_transport *s) { return s->work; }
double ot_transport_unit(const ot_transport *s) { return s->S; }

/* x(i, j) += q > 0 on the support (a new arc if (i, j) carries nothing) */
static void arc_add(ot_transport *s, int i, int j, double q) {
  for (int a = s->rhead[i]; a >= 0; a = s->anext[a])
    if (s->acol[a] == j) { s->aflow[a] += q; return; }
  int a = s->n_arc++;
  s->arow[a] = i;
  s->acol[a] = j;
  s->aflow[a] = q;
  s->anext[a] = s->rhead[i];
  s->rhead[i] = a;
  s->n_live++;
}

/* rebuild the row lists from the arcs with flow, compacting the pool (in
 * pool order: deterministic) */
static void compact(ot_transport *s) {
  int k = 0;
  for (int i = 0; i < s->n; i++) s->rhead[i] = -1;
  for (int a = 0; a < s->n_arc; a++) {
    if (!(s->aflow[a] > 0)) continue;
    s->arow[k] = s->arow[a];
    s->acol[k] = s->acol[a];
    s->aflow[k] = s->aflow[a];
    k++;
  }
  s->n_arc = k;
  s->n_live = k;
  /* lists in pool order (head = last added; walk order is fixed) */
  for (int a = k - 1; a >= 0; a--) {
    int i = s->arow[a];
    s->anext[a] = s->rhead[i];
    s->rhead[i] = a;
  }
}

static int uf_find(int *uf, int x) {
  while (uf[x] != x) {
    uf[x] = uf[uf[x]];
    x = uf[x];
  }
  return x;
}

/* forest lists: node x < n a row, n + j a column; an arc is on the list of
 * its row (fnext_r) and of its column (fnext_c) */
static void forest_link(ot_transport *s, int a) {
  int i = s->arow[a], c = s->n + s->acol[a];
  s->fnext_r[a] = s->fhead[i];
  s->fhead[i] = a;
  s->fnext_c[a] = s->fhead[c];
  s->fhead[c] = a;
}

/* the path in the forest (live arcs) from row i to column node t; returns
 * 1 and leaves bfs_arc[] (the arc by which each node was reached) set, or 0 */
static int forest_path(ot_transport *s, int i, int t) {
  const int n = s->n;
  int mark = ++s->bfs_stamp, head = 0, tail = 0;
  s->bfs_q[tail++] = i;
  s->bfs_mark[i] = mark;
  s->bfs_arc[i] = -1;
  while (head < tail) {
    int x = s->bfs_q[head++];
    int rowside = x < n;
    for (int a = s->fhead[x]; a >= 0; a = rowside ? s->fnext_r[a] : s->fnext_c[a]) {
      if (!(s->aflow[a] > 0)) continue;
      int y = rowside ? n + s->acol[a] : s->arow[a];
      if (s->bfs_mark[y] == mark) continue;
      s->bfs_mark[y] = mark;
      s->bfs_arc[y] = a;
      if (y == t) return 1;
      s->bfs_q[tail++] = y;
    }
  }
  return 0;
}

/* Removes every cycle of the support (see the header); the support is then
 * a forest.  Flows stay integral, rows and columns keep their totals. */
static void canonicalise(ot_transport *s) {
  const int n = s->n, N = s->n + s->m;
  for (int x = 0; x < N; x++) {
    s->uf[x] = x;
    s->fhead[x] = -1;
    s->bfs_mark[x] = 0;
  }
  s->bfs_stamp = 0;
  for (int a = 0; a < s->n_arc; a++) {
    if (!(s->aflow[a] > 0)) continue;
    int i = s->arow[a], c = n + s->acol[a];
    int ri = uf_find(s->uf, i), rc = uf_find(s->uf, c);
    if (ri != rc) {
      s->uf[ri] = rc;
      forest_link(s, a);
      continue;
    }
    if (!forest_path(s, i, c)) {
      forest_link(s, a);
      continue;
    }
    /* the cycle: a (i -> c), then the path back from c to i; walking from
     * c, the path's arcs alternate: odd ones (1st, 3rd, ...) would lose
     * flow if a gained */
    s->cycles++;
    double odd = HUGE_VAL, even = HUGE_VAL;
    int k = 0;
    for (int x = c; x != i; k++) {
      int b = s->bfs_arc[x];
      double f = s->aflow[b];
      if (k % 2 == 0) { if (f < odd) odd = f; }
      else if (f < even) even = f;
      x = x < n ? n + s->acol[b] : s->arow[b];
    }
    double fa = s->aflow[a];
    double delta, sign;
    if (fa <= even) { delta = fa; sign = -1; }  /* a empties, the forest stays */
    else { delta = odd; sign = 1; }             /* odd arcs empty, a joins */
    k = 0;
    for (int x = c; x != i; k++) {
      int b = s->bfs_arc[x];
      double ch = (k % 2 == 0) ? -sign * delta : sign * delta;
      s->aflow[b] += ch;
      if (s->aflow[b] < 0.5) s->aflow[b] = 0;  /* integral flows */
      x = x < n ? n + s->acol[b] : s->arow[b];
    }
    s->aflow[a] += sign * delta;
    if (s->aflow[a] < 0.5) s->aflow[a] = 0;
    if (s->aflow[a] > 0) forest_link(s, a);
  }
  compact(s);
}

/* column j scanned at distance dj: rows not yet popped get their labels
 * lowered through it */
static void scan_column(ot_transport *s, int j, double dj) {
  const int n = s->n;
  const double *c = s->C + (R_xlen_t) j * n, *w = s->w;
  double *d = s->d;
  int *predc = s->predc;
  const double off = dj - s->v[j];
  for (int i = 0; i < n; i++) {
    double t = (c[i] - w[i]) + off;
    if (t < d[i]) {
      d[i] = t;
      predc[i] = j;
    }
  }
}

static int argmin_row(const double *d, int n) {
  int best = 0;
  double bv = d[0];
  for (int i = 1; i < n; i++)
    if (d[i] < bv) { bv = d[i]; best = i; }
  return best;
}

/* one shortest path from column j0 and the units moved along it */
static void augment(ot_transport *s, int j0) {
  const int n = s->n;
  double *d = s->d, *w = s->w;
  int stamp = ++s->stamp, nd = 0, nc = 0, end = -1;
  double dstar = 0;
  for (int i = 0; i < n; i++) d[i] = HUGE_VAL;
  s->cstamp[j0] = stamp;
  s->dcol[j0] = 0;
  s->cpred[j0] = -1;
  s->scan_cols[nc++] = j0;
  scan_column(s, j0, 0);
  for (;;) {
    int i = argmin_row(d, n);
    double di = d[i];
    s->done_rows[nd++] = i;
    s->drow[i] = di;
    d[i] = HUGE_VAL;
    w[i] = -HUGE_VAL;
    if (s->rsur[i] > 0) { end = i; dstar = di; break; }
    for (int a = s->rhead[i]; a >= 0; a = s->anext[a]) {
      int j = s->acol[a];
      if (s->cstamp[j] == stamp) continue;
      s->cstamp[j] = stamp;
      s->dcol[j] = di;
      s->cpred[j] = a;
      s->scan_cols[nc++] = j;
      scan_column(s, j, di);
    }
  }
  s->work += nd + nc; naug++; npop += nd; nscan += nc;
  /* duals: r stays >= 0 and the path becomes tight */
  for (int k = 0; k < nd; k++) {
    int i = s->done_rows[k];
    s->u[i] += s->drow[i] - dstar;
    w[i] = s->u[i];
  }
  for (int k = 0; k < nc; k++) {
    int j = s->scan_cols[k];
    s->v[j] += dstar - s->dcol[j];
  }
  /* the bottleneck, then the units along the path end <- ... <- j0 */
  double q = s->cdef[j0] < s->rsur[end] ? s->cdef[j0] : s->rsur[end];
  for (int i = end;;) {
    int j = s->predc[i];
    if (j == j0) break;
    int a = s->cpred[j];
    if (s->aflow[a] < q) q = s->aflow[a];
    i = s->arow[a];
  }
  s->rsur[end] -= q;
  s->cdef[j0] -= q;
  for (int i = end;;) {
    int j = s->predc[i];
    arc_add(s, i, j, q);
    if (j == j0) break;
    int a = s->cpred[j];
    s->aflow[a] -= q;
    i = s->arow[a];
    if (!(s->aflow[a] > 0)) {
      /* unlink the emptied arc from row i's list */
      int *pp = &s->rhead[i];
      while (*pp != a) pp = &s->anext[*pp];
      *pp = s->anext[a];
      s->aflow[a] = 0;
      s->n_live--;
    }
  }
}



/* ------------------------------------------------------------ the auction */

/* column j's graph: the K rows of least C(i, j) + min1_i and beta_j, the
 * (K + 1)-th least, a lower bound on C(i, j) + min1_i over the other rows
 * for as long as prices only rise */
static void build_col(ot_transport *s, int j) {
  const int n = s->n, K = s->K, K1 = K + 1;
  const double *c = s->C + (R_xlen_t) j * n, *p = s->min1;
  double *hv = s->hv;
  int *hi = s->hi, k = 0;
  for (int i = 0; i < n; i++) {
    double t = c[i] + p[i];
    if (k < K1) {
      int x = k++;
      while (x > 0) { /* sift up in the max-heap */
        int up = (x - 1) / 2;
        if (hv[up] >= t) break;
        hv[x] = hv[up];
        hi[x] = hi[up];
        x = up;
      }
      hv[x] = t;
      hi[x] = i;
    } else if (t < hv[0]) {
      int x = 0;
      for (;;) {
        int ch = 2 * x + 1;
        if (ch >= K1) break;
        if (ch + 1 < K1 && hv[ch + 1] > hv[ch]) ch++;
        if (hv[ch] <= t) break;
        hv[x] = hv[ch];
        hi[x] = hi[ch];
        x = ch;
      }
      hv[x] = t;
      hi[x] = i;
    }
  }
  s->beta[j] = hv[0];
  memcpy(s->grow + (size_t) j * K, hi + 1, sizeof(int) * (size_t) K);
  for (int x = 0; x < K; x++) s->gc[(size_t) j * K + x] = c[hi[x + 1]];
  s->work += 1;
}

/* the least and second least C(i, j) + min1_i of column j (exact least:
 * the graph is rebuilt when its least is above beta; the second is at
 * least beta's lower bound) */
static double col_best(ot_transport *s, int j, int *i1_out, double *t2_out) {
  const int K = s->K;
  const double *p = s->min1;
  for (int pass = 0;; pass++) {
    const int *rows = s->grow + (size_t) j * K;
    const double *gcj = s->gc + (size_t) j * K;
    double t1 = HUGE_VAL, t2 = HUGE_VAL;
    int i1 = -1;
    for (int x = 0; x < K; x++) {
      int i = rows[x];
      double t = gcj[x] + p[i];
      if (t < t2) {
        if (t < t1) { t2 = t1; t1 = t; i1 = i; }
        else t2 = t;
      }
    }
    if (t1 > s->beta[j] && pass == 0) {
      build_col(s, j);
      s->expansions += 1;
      continue;
    }
    if (t2 > s->beta[j]) t2 = s->beta[j];
    *i1_out = i1;
    *t2_out = t2;
    return t1;
  }
}

static void row_mins(ot_transport *s, int i) {
  const int S = (int) s->S;
  const double *pr = s->price + (size_t) i * S;
  double a1 = HUGE_VAL, a2 = HUGE_VAL;
  int ak = 0;
  for (int x = 0; x < S; x++) {
    double q = pr[x];
    if (q < a2) {
      if (q < a1) { a2 = a1; a1 = q; ak = x; }
      else a2 = q;
    }
  }
  s->min1[i] = a1;
  s->min2[i] = S > 1 ? a2 : HUGE_VAL;
  s->arg1[i] = i * S + ak;
}

/* Forward auction with eps scaling (Bertsekas) on the units: a column
 * with free units bids, one unit at a time, for the least-priced slot of
 * its best row (least C(i, j) + price), raising that slot's price by the
 * gap to the second best plus eps and evicting the slot's holder.  Prices
 * only rise.  Each phase first frees the units more than eps above their
 * column's best.  Ends with eps = eps_min; the SSP then starts from the
 * duals u_i = -min1_i, v_j = min_i C(i, j) - u_i (dual feasible on all of
 * C) and keeps the units on tight arcs. */
static void auction(ot_transport *s, double eps0, double eps_min, double fac) {
  const int n = s->n, m = s->m, S = (int) s->S, U = s->n_units;
  double *price = s->price;
  int *holder = s->holder, *queue = s->queue;
  for (int k = 0; k < U; k++) { price[k] = 0; holder[k] = -1; }
  for (int i = 0; i < n; i++) { s->min1[i] = 0; s->min2[i] = S > 1 ? 0 : HUGE_VAL; s->arg1[i] = i * S; }
  for (int j = 0; j < m; j++) { s->cdef[j] = s->D; build_col(s, j); }
  double eps = eps0;
  for (int ph = 0;; ph++) {
    if (ph > 0) {
      for (int j = 0; j < m; j++) {
        int i1;
        double t2;
        s->v[j] = col_best(s, j, &i1, &t2);
      }
      for (int k = 0; k < U; k++) {
        int j = holder[k];
        if (j < 0) continue;
        if (s->C[k / S + (R_xlen_t) j * n] + price[k] > s->v[j] + eps) {
          holder[k] = -1;
          s->cdef[j] += 1;
        }
      }
    }
    int qh = 0, qt = 0;
    for (int j = 0; j < m; j++) if (s->cdef[j] > 0) queue[qt++] = j;
    while (qh != qt) {
      int j = queue[qh];
      qh = qh == m ? 0 : qh + 1;
      const double *c = s->C + (R_xlen_t) j * n;
      while (s->cdef[j] > 0) {
        int i1;
        double t2, t1 = col_best(s, j, &i1, &t2);
        double alt = c[i1] + s->min2[i1];
        if (alt < t2) t2 = alt;
        s->bids += 1;
        int k = s->arg1[i1], old = holder[k];
        price[k] = s->min1[i1] + (t2 - t1) + eps;
        holder[k] = j;
        s->cdef[j] -= 1;
        if (old >= 0) {
          s->cdef[old] += 1;
          if (s->cdef[old] == 1) { queue[qt] = old; qt = qt == m ? 0 : qt + 1; }
        }
        row_mins(s, i1);
      }
    }
    if (eps <= eps_min) break;
    eps /= fac;
    if (eps < eps_min) eps = eps_min;
  }
  s->work += s->bids * s->K / n;
}

/* the SSP's start from the auction: duals, and the units on tight arcs */
static void start_from_auction(ot_transport *s) {
  const int n = s->n, m = s->m, S = (int) s->S, U = s->n_units;
  for (int i = 0; i < n; i++) {
    s->u[i] = -s->min1[i];
    s->w[i] = s->u[i];
    s->rsur[i] = s->S;
    s->rhead[i] = -1;
  }
  s->n_arc = 0;
  s->n_live = 0;
  for (int j = 0; j < m; j++) {
    const double *c = s->C + (R_xlen_t) j * n;
    double best = HUGE_VAL;
    for (int i = 0; i < n; i++) {
      double t = c[i] - s->u[i];
      if (t < best) best = t;
    }
    s->v[j] = best;
    s->cdef[j] = s->D;
    s->cstamp[j] = 0;
  }
  s->work += m;
  for (int k = 0; k < U; k++) {
    int j = s->holder[k];
    if (j < 0) continue;
    int i = k / S;
    double c = s->C[i + (R_xlen_t) j * n], r = c - s->u[i] - s->v[j];
    double sc = fabs(c);
    if (fabs(s->u[i]) > sc) sc = fabs(s->u[i]);
    if (fabs(s->v[j]) > sc) sc = fabs(s->v[j]);
    if (r <= 64 * DBL_EPSILON * sc) {
      arc_add(s, i, j, 1);
      s->rsur[i] -= 1;
      s->cdef[j] -= 1;
    }
  }
  s->stamp = 0;
  s->next_col = 0;
}

/* column reduction and the greedy start */
static void start(ot_transport *s) {
  const int n = s->n, m = s->m;
  for (int i = 0; i < n; i++) {
    s->u[i] = 0;
    s->w[i] = 0;
    s->rsur[i] = s->S;
    s->rhead[i] = -1;
  }
  s->n_arc = 0;
  s->n_live = 0;
  for (int j = 0; j < m; j++) {
    const double *c = s->C + (R_xlen_t) j * n;
    int bi = argmin_row(c, n);
    s->v[j] = c[bi];
    s->cdef[j] = s->D;
    s->cstamp[j] = 0;
    double q = s->rsur[bi] < s->D ? s->rsur[bi] : s->D;
    if (q > 0) {
      arc_add(s, bi, j, q);
      s->rsur[bi] -= q;
      s->cdef[j] -= q;
    }
  }
  s->stamp = 0;
  s->work += m;
  s->next_col = 0;
}

/* the certificate on all of C: 0 when it holds */
static int certify(ot_transport *s) {
  const int n = s->n, m = s->m;
  const double *u = s->u;
  int bad = 0;
  for (int j = 0; j < m && !bad; j++) {
    const double *c = s->C + (R_xlen_t) j * n;
    const double vj = s->v[j];
    for (int i = 0; i < n; i++) {
      double r = c[i] - u[i] - vj;
      if (r < 0) {
        double sc = fabs(c[i]);
        if (fabs(u[i]) > sc) sc = fabs(u[i]);
        if (fabs(vj) > sc) sc = fabs(vj);
        if (r < -64 * DBL_EPSILON * sc) { bad = 1; break; }
      }
    }
  }
  for (int a = 0; a < s->n_arc && !bad; a++) {
    int i = s->arow[a], j = s->acol[a];
    double c = s->C[i + (R_xlen_t) j * n], r = c - u[i] - s->v[j];
    double sc = fabs(c);
    if (fabs(u[i]) > sc) sc = fabs(u[i]);
    if (fabs(s->v[j]) > sc) sc = fabs(s->v[j]);
    if (fabs(r) > 64 * DBL_EPSILON * sc) bad = 1;
  }
  s->work += m;
  return bad;
}

int ot_transport_run(ot_transport *s, double budget) {
  double before = s->work;
  if (s->phase == 2) return OT_OPTIMAL;
  if (s->phase == 3) return OT_TRANSPORT_GAVE_UP;
  if (s->phase == 0) {
    /* the auction start when asked for and its unit slots fit */
    if (getenv("EPS0") && getenv("EPSMIN") && getenv("EPSFAC") && ot_transport_fits(s->n, s->m)) {
      auction(s, atof(getenv("EPS0")), atof(getenv("EPSMIN")), atof(getenv("EPSFAC")));
      start_from_auction(s);
      if (getenv("VERB")) fprintf(stderr, "bids %.0f expansions %.0f\n", s->bids, s->expansions);
    } else {
      start(s);
    }
    s->phase = 1;
  }
  const int m = s->m;
  while (s->next_col < m) {
    int j = s->next_col;
    if (!(s->cdef[j] > 0)) { s->next_col++; continue; }
    if (s->n_arc + s->n + 1 > s->cap) canonicalise(s);
    augment(s, j);
    if (budget > 0 && s->work - before >= budget) return OT_RUNNING;
  }
  canonicalise(s);
  if (certify(s)) {
    s->phase = 3;
    return OT_TRANSPORT_GAVE_UP;
  }
  s->phase = 2;
  return OT_OPTIMAL;
}

/* the plan (at most n + m - 1 arcs, pool order) in units, and the duals */
int ot_transport_solution(const ot_transport *s, int *fi, int *fj, double *fx,
                          double *u, double *v) {
  for (int a = 0; a < s->n_arc; a++) {
    fi[a] = s->arow[a];
    fj[a] = s->acol[a];
    fx[a] = s->aflow[a];
  }
  memcpy(u, s->u, sizeof(double) * (size_t) s->n);
  memcpy(v, s->v, sizeof(double) * (size_t) s->m);
  return s->n_arc;
}

double ot_transport_cycles(const ot_transport *s) { return s->cycles; }
