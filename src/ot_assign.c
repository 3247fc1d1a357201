/* The square uniform case of exact OT (n x n, every mass equal) as a linear
 * assignment problem, solved by shortest augmenting paths (Jonker and
 * Volgenant 1987: column reduction, reduction transfer, augmenting row
 * reduction, then Dijkstra augmentations), behind the ot_problem API of
 * ot_simplex.c.
 *
 * Layout.  The LAP "rows" r are the columns of C and the LAP "columns" c its
 * rows, so that a(r, c) = C[c + r n] and every row scan reads C in memory
 * order.  y[c] is the LAP row assigned to column c, x[r] the column of row
 * r (-1: free); v[c] are the column duals, u[r] the row duals.
 *
 * Invariants:
 *  - dual feasibility is implicit: u[r] = min_c (a(r, c) - v[c]);
 *  - every assigned row r attains its minimum at x[r], up to the tolerance
 *    tol(r) = 64 DBL_EPSILON max(|a(r, x[r])|, |v[x[r]]|, |u[r]|) (the rule
 *    the simplex uses to call a reduced cost negative);
 *  - the assignment is a partial permutation (x and y inverse).
 * Column reduction, reduction transfer, augmenting row reduction and the
 * Dijkstra price updates keep these (in exact arithmetic); each augmentation
 * assigns one more row.  Optimality is declared only by the "reduce" pass,
 * which recomputes u[r] from C and v for every row, frees every assigned
 * row whose arc is more than tol(r) above its row minimum, and passes only
 * when it frees none: then u[r] := a(r, x[r]) - v[x[r]] gives exact
 * complementary slackness and every reduced cost a(r, c) - u[r] - v[c] is
 * >= -tol(r): the certificate, from C itself, of the permutation.  A
 * failing pass sends the freed rows back to augmentation; after
 * ASSIGN_MAX_REPAIRS failures the caller falls back to the simplex.
 *
 * Search graph.  From 65536 arcs on the solver builds it itself
 * (ot_assign_own_graph(), what ot_simplex.c asks for), in one of two modes
 * chosen from the near-ties of sampled rows (own_degree()).  Plain (a row's
 * near-ties fit in ASSIGN_OWN_DEGMAX / 1.5 arcs): column reduction keeps
 * each row's K cheapest arcs (K from the data) with the column minima, no
 * bounds are known (ob = -HUGE_VAL) and the graph alone guides the
 * searches, as after a warm restart below.  With bounds (larger clusters
 * of near-ties): after the column minima, each LAP row is read once more,
 * with those duals, for its K = ASSIGN_OWN_DEGMAX least reduced costs a - v
 * and the next one, ob[r]: a lower bound on a(r, c) - v[c] over every
 * column c outside row r's graph.  In both modes every column's arg min row
 * also gains the column (so every column has an arc).  Since v only decreases from then on (and a - v
 * rounds monotonically), ob[r] stays a lower bound, and adding arcs keeps
 * it one.  Reduction transfer, augmenting row reduction and the
 * augmentations (Dijkstra with a 4-ary heap) read only the graph, and use
 * the bounds to stay exact on all of C: transfer lowers a dual by at most
 * ob[r]; augmenting row reduction takes a row's best graph arc only when it
 * is at most ob[r] (else the row gains its ASSIGN_EXPAND least arcs outside
 * the graph, ob[r] becoming the next, and is read again) and counts ob[r]
 * as a second best; a search that scans row i at offset h (its arcs give
 * distances a - v - h) files the event ob[i] - h in a second heap, and
 * when no unreached column is nearer than the least event, that row gains
 * its ASSIGN_EXPAND next arcs outside the graph (relaxed at its offset)
 * before the search goes on.  So every search is a shortest path on all of
 * C and the duals stay feasible on all of C (up to round-off): the first
 * reduce pass has next to nothing to free, where the graph alone left the
 * duals of the columns no search reached far off (95% of the rows of a
 * 1000 x 1000 tuned16 cost freed).  With bounds, an auction with epsilon
 * scaling runs between reduction transfer and augmenting row reduction
 * (auction(), invariants there): it raises the duals of whole clusters of
 * near-ties together, which the augmentations did one long search at a
 * time; the rows it leaves above their minima go on free.  A row with no room left (ROWCAP arcs;
 * ASSIGN_PLAIN_CAP in the plain mode) is searched densely.  In the plain
 * mode, and after a warm restart (C changed: ob = -HUGE_VAL, and rows
 * with bounds are trimmed back to their first K arcs), the graph alone
 * guides the searches, as follows.  The
 * reduce pass still reads every arc: a row it frees gains its ASSIGN_GROW
 * best arcs (least a - v) that it lacks.  A search that exhausts the graph
 * reachable from its source without a free column (a closed cluster of
 * near-tied units, rows without a bound) gives the source and every row
 * it scanned their ASSIGN_GROW best arcs out of the reached set, and starts
 * again.  Smaller problems are searched densely (the LAPJV column lists).
 * The graph and its bounds only decide where the search looks: optimality
 * is still declared by the pass over all of C.
 *
 * Quick passes.  After a full pass, augmenting row reduction and the
 * Dijkstra price updates only lower column duals, so a(r, c) - v[c] can
 * only grow: the row minimum read at the last full reading of row r
 * (rmin[r]) stays a lower bound on all of row r.  The verify passes after
 * repairs therefore read only the rows whose arc is above that bound by
 * more than tol (the premise, v[c] <= v at the last pass, is checked in
 * O(n) before each quick pass).  A quick pass that frees nothing is
 * followed by a full pass, which alone declares optimality.
 *
 * Warm restart after C changed in place: keep v, the assignment and the
 * search graph (its arcs take their new costs; a graph with bounds keeps
 * every row's first deg arcs and its assigned arc, every row sparse
 * again), and run the reduce pass on
 * the new costs (rows whose arc is no longer minimal are freed and gain
 * arcs), then augmenting row reduction and augmentations on them.
 *
 * Work is counted in row scans (n arc prices, about the cost of a simplex
 * pivot's pricing on an n x n problem: sqrt(n n) arcs); the solver stops
 * after `budget` of them and resumes exactly where it stopped, so the result
 * does not depend on how the work was sliced.  Ties go to the lowest index.
 */
#include <float.h>
#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "hotalign.h"

/* verify passes that may fail (round-off) before giving up on the LAP */
#define ASSIGN_MAX_REPAIRS 8
/* row scans of augmenting row reduction, per row: beyond, augment */
#ifndef ASSIGN_ARR_SCANS
#define ASSIGN_ARR_SCANS 2
#endif
#ifndef ASSIGN_ARR_PASSES
#define ASSIGN_ARR_PASSES 2
#endif
/* arcs a row may gain from the reduce pass before it is searched densely,
 * and how many (its best) it gains at a time */
#ifndef ASSIGN_EXTRA
#define ASSIGN_EXTRA 192
#endif
#ifndef ASSIGN_ARR_AFTER_REDUCE
#define ASSIGN_ARR_AFTER_REDUCE 1
#endif
/* the room of a row of the search graph for its first arcs (then
 * ASSIGN_EXTRA more that the expansions, the reduce pass and the escapes
 * add: 1000 x 1000 tuned16 costs, clusters of ~62 near-tied units, need
 * most of a cluster in the rows the searches cross) */
#ifndef ASSIGN_DEGMAX
#define ASSIGN_DEGMAX 64
#endif
#ifndef ASSIGN_GROW
#define ASSIGN_GROW 4
#endif
/* arcs per row of the graph the solver builds itself (ot_assign_own_graph):
 * each row's K cheapest (plain mode, read with the column minima) or K
 * least a - v (with bounds, read after them).  K is sized from the data
 * (own_degree()): 1.5 times the typical number of near-tied arcs of a row
 * (within ASSIGN_TIE_SPREAD of the way from its minimum to its mean),
 * clamped to ASSIGN_OWN_DEG .. ASSIGN_OWN_DEGMAX; from ASSIGN_BOUNDS_MIN
 * on (clusters that do not fit) the graph has bounds */
#ifndef ASSIGN_OWN_DEG
#define ASSIGN_OWN_DEG 24
#endif
#ifndef ASSIGN_OWN_DEGMAX
#define ASSIGN_OWN_DEGMAX 48
#endif
#ifndef ASSIGN_TIE_SPREAD
#define ASSIGN_TIE_SPREAD 0.2
#endif
#define ASSIGN_SAMPLE_ROWS 16
/* the room of a row of the plain graph (no bounds: clusters of near-ties
 * that fit in ASSIGN_OWN_DEGMAX arcs, or none), as before the bounds: there
 * the reduce pass's and the escapes' arcs decide, and the bounds' second
 * reading of C and their expansions cost more than the repairs they save
 * (1000 x 1000 tuned256: 0.0146 s against 0.0124 s, 685 expansions where
 * the plain graph freed 14 rows; with bounds from 8 near-ties on, 2000 x
 * 2000 bench costs took 0.035-0.043 s against 0.028-0.032 s plain) */
#define ASSIGN_PLAIN_CAP (ASSIGN_DEGMAX + 24)
#ifndef ASSIGN_BOUNDS_MIN
#define ASSIGN_BOUNDS_MIN (ASSIGN_OWN_DEGMAX + 1)
#endif
/* arcs a sparse row gains when a search or augmenting row reduction
 * reaches its bound ob[r] */
#ifndef ASSIGN_EXPAND
#define ASSIGN_EXPAND 32
#endif
/* the longest selection of row_kbest() */
#define ASSIGN_KBEST_MAX                                                       \
  ((ASSIGN_OWN_DEGMAX > ASSIGN_EXPAND ? ASSIGN_OWN_DEGMAX : ASSIGN_EXPAND) + 1)
#if ASSIGN_OWN_DEGMAX > ASSIGN_DEGMAX || ASSIGN_OWN_DEG > ASSIGN_OWN_DEGMAX
#error "need ASSIGN_OWN_DEG <= ASSIGN_OWN_DEGMAX <= ASSIGN_DEGMAX (the room of a row)"
#endif

#ifdef ASSIGN_STATS
#include <R_ext/Print.h>
static long st_pass, st_freed, st_aug, st_scan, st_arr, st_dense, st_expand, st_relax, st_impr, st_pops;
#define STAT(x) (x)
#else
#define STAT(x) ((void) 0)
#endif

enum {
  PH_COLRED = 0,  /* column minima, one row at a time */
  PH_TRANSFER,    /* reduction transfer, one row at a time */
  PH_ARR,         /* augmenting row reduction */
  PH_AUG_START,   /* Dijkstra from the next free row */
  PH_AUG_STEP,    /* one Dijkstra step */
  PH_REDUCE,      /* verify / warm-start pass, one row at a time */
  PH_CHECK,       /* quick pass: bounds from the last reading of each row */
  PH_DONE
};

/* an entry of the Dijkstra heap: the distance and the tie key inline (the
 * column, after every assigned one when free), so that comparisons read
 * no other array */
struct heap_entry {
  double d;
  int t, c;
};

/* an entry of the expansion heap of a sparse search: row i, scanned at
 * offset h, has no arc outside its graph shorter than key = ob[i] - h */
struct ev_entry {
  double key, h;
  int i;
};

struct ot_assign {
  int n;
  const double *C;
  int *x, *y, *pred, *col, *free_rows, *next_free;
  double *u, *v, *d, *df;  /* df[k]: final distance of col[k] (sparse) */
  int phase, r;          /* phase, and the row of row-wise phases */
  int n_free, f_at;      /* free rows (free_rows[0 .. n_free)), next one */
  int n_next;            /* rows freed for the next round */
  /* augmenting row reduction */
  int arr_pass, arr_k, arr_prev, arr_scans;
  /* Dijkstra */
  int src, low, up, last, end;
  double dmin;
  int repairs, reduce_freed, after_aug;
  /* the quick pass: rmin[r] = min_c (a(r, c) - v[c]) at the last reading
   * of row r, vchk the column duals at the end of the last pass; have_chk:
   * a full pass has run since the last cold start or restart */
  double *rmin, *vchk;
  int have_chk;
  double work;
  int sparse;            /* searches read the graph (else whole rows) */
  int deg;               /* arcs per row of that graph (own_degree()) */
  /* the graph's mode: with bounds (graph_row(), rows of up to ROWCAP
   * arcs) or without (colred_row_own(), rows of up to ASSIGN_PLAIN_CAP);
   * cap = that room, and the stride of the rows in g_c / g_a (the plain
   * graph's rows kept as close as before: with 256-arc strides two
   * ot_families.R runs gave 0.0109-0.0114 s on 1000 x 1000 bench costs
   * against main's 0.0097-0.0098; with 88, the harness 0.0079-0.0099 s
   * against main's 0.0088-0.0129 in the same rounds) */
  int bounds, cap;
  unsigned char *dense;
  struct heap_entry *heap;
  int *hpos, *touched;
  int n_heap, n_touched, n_done, n_densified;
  int nonfinite;         /* the reduce pass met a non-finite cost or dual */
  /* the search graph itself: row r's arcs g_c / g_a [r * cap + k] for
   * k < g_n[r] (cap = ROWCAP = ASSIGN_DEGMAX + ASSIGN_EXTRA, or ASSIGN_PLAIN_CAP): its deg cheapest
   * arcs (plain) or least a - v after column reduction (graph_row(), with
   * bounds), then the arcs graph_cover(),
   * the expansions, the reduce pass and the escapes add (dense when there
   * is no room); rows with dense[r] use all of C.  NULL below
   * OT_ASSIGN_GRAPH_MIN_ARCS (every row dense) */
  int *g_n, *g_c;
  double *g_a;
  /* ob[r]: a lower bound on a(r, c) - v[c] over the columns c that are not
   * arcs of sparse row r (-HUGE_VAL: none known, HUGE_VAL: no such arc);
   * the expansion heap of the search (n_ev entries), and a scratch mark
   * per column (0, or HUGE_VAL while a row's arcs are left out) */
  double *ob;
  struct ev_entry *ev;
  int n_ev;
  double *pen;
};

static size_t align16(size_t x) { return (x + 15) & ~(size_t) 15; }

/* the search graph and its bounds exist from OT_ASSIGN_GRAPH_MIN_ARCS arcs
 * on (smaller problems are searched densely) */
static int graph_room(int n) {
  return (size_t) n * (size_t) n >= OT_ASSIGN_GRAPH_MIN_ARCS;
}

size_t ot_assign_bytes(int n) {
  size_t N = (size_t) n;
  size_t b = align16(sizeof(ot_assign)) + 9 * align16(N * sizeof(int)) +
             align16(N * sizeof(struct heap_entry)) +
             5 * align16(N * sizeof(double)) + align16(N);
  if (graph_room(n))
    b += align16(N * sizeof(struct ev_entry)) + 3 * align16(N * sizeof(double)) +
         align16(N * (ASSIGN_DEGMAX + ASSIGN_EXTRA) * sizeof(int)) +
         align16(N * (ASSIGN_DEGMAX + ASSIGN_EXTRA) * sizeof(double));
  return b;
}

static void *carve(char **cursor, size_t bytes) {
  void *p = *cursor;
  *cursor += align16(bytes);
  return p;
}

/* a cold start: nothing assigned, column reduction next */
static void assign_reset(ot_assign *s) {
  const int n = s->n;
  for (int c = 0; c < n; c++) {
    s->v[c] = HUGE_VAL;
    s->col[c] = 0;   /* arg min of column c so far */
    s->x[c] = s->y[c] = -1;
  }
  s->phase = PH_COLRED;
  s->r = 0;
  s->n_free = s->f_at = s->n_next = 0;
  s->repairs = 0;
  s->after_aug = 0;
  for (int c = 0; c < n; c++) {
    s->hpos[c] = -1;
    s->d[c] = HUGE_VAL;
  }
  s->n_touched = s->n_heap = s->n_ev = 0;
  s->nonfinite = 0;
  s->have_chk = 0;
  if (s->ob)
    for (int r = 0; r < n; r++) s->ob[r] = -HUGE_VAL;
  /* an own graph is rebuilt by column reduction: no row stays dense from
   * an earlier run */
  if (s->sparse) memset(s->dense, 0, (size_t) n);
}

/* Every arc searched by the augmentations, augmenting row reduction and
 * reduction transfer (the LAPJV column lists; small problems). */
void ot_assign_dense_graph(ot_assign *s) {
  s->sparse = 0;
  memset(s->dense, 1, (size_t) s->n);
  memset(s->g_n, 0, sizeof(int) * (size_t) s->n);
}

/* The search graph built by the solver itself, from C: each row's K
 * cheapest arcs with the column minima (colred_row_own(), plain mode) or,
 * with bounds, its K least a - v and the bound ob[r] on the rest after them
 * (graph_row(), in the reduction transfer pass); then every column's arg
 * min row gains the column (graph_cover).  For problems large enough for a
 * sparse search (the caller decides; below OT_ASSIGN_GRAPH_MIN_ARCS there
 * is no room for one and the search stays dense).  Rows are made dense
 * when they have no room left for the arcs the expansions, the reduce pass
 * or an escape add. */
void ot_assign_own_graph(ot_assign *s) {
  if (!s->g_c) { /* too small to have one */
    ot_assign_dense_graph(s);
    return;
  }
  s->sparse = 1;
  s->deg = ASSIGN_OWN_DEG;
  s->bounds = 0;
  s->cap = ASSIGN_PLAIN_CAP;
  memset(s->dense, 0, (size_t) s->n);
  memset(s->g_n, 0, sizeof(int) * (size_t) s->n);
}

/* the arcs of sparse row r */
#define ROWCAP (ASSIGN_DEGMAX + ASSIGN_EXTRA)
#define FOR_ARCS(s_, r_, c_, a_, body)                                         \
  do {                                                                         \
    const int *gc_ = (s_)->g_c + (size_t) (r_) * (s_)->cap;                     \
    const double *ga_ = (s_)->g_a + (size_t) (r_) * (s_)->cap;                  \
    for (int k_ = 0, e_ = (s_)->g_n[r_]; k_ < e_; k_++) {                      \
      int c_ = gc_[k_];                                                        \
      double a_ = ga_[k_];                                                     \
      body;                                                                    \
    }                                                                          \
  } while (0)

ot_assign *ot_assign_init(void *work, int n, const double *C) {
  char *cur = (char *) work;
  ot_assign *s = carve(&cur, sizeof(ot_assign));
  size_t N = (size_t) n;
  s->n = n;
  s->C = C;
  s->x = carve(&cur, N * sizeof(int));
  s->y = carve(&cur, N * sizeof(int));
  s->pred = carve(&cur, N * sizeof(int));
  s->col = carve(&cur, N * sizeof(int));
  s->free_rows = carve(&cur, N * sizeof(int));
  s->next_free = carve(&cur, N * sizeof(int));
  s->u = carve(&cur, N * sizeof(double));
  s->v = carve(&cur, N * sizeof(double));
  s->d = carve(&cur, N * sizeof(double));
  s->rmin = carve(&cur, N * sizeof(double));
  s->vchk = carve(&cur, N * sizeof(double));
  s->heap = carve(&cur, N * sizeof(struct heap_entry));
  s->hpos = carve(&cur, N * sizeof(int));
  s->touched = carve(&cur, N * sizeof(int));
  s->dense = carve(&cur, N);
  s->g_n = carve(&cur, N * sizeof(int));
  s->g_c = NULL;
  s->g_a = s->ob = s->pen = s->df = NULL;
  s->ev = NULL;
  if (graph_room(n)) {
    s->g_c = carve(&cur, N * ROWCAP * sizeof(int));
    s->g_a = carve(&cur, N * ROWCAP * sizeof(double));
    s->ob = carve(&cur, N * sizeof(double));
    s->ev = carve(&cur, N * sizeof(struct ev_entry));
    s->pen = carve(&cur, N * sizeof(double));
    s->df = carve(&cur, N * sizeof(double));
    for (int c = 0; c < n; c++) s->pen[c] = 0;
  }
  s->n_ev = 0;
  s->work = 0;
  ot_assign_dense_graph(s);
  assign_reset(s);
  return s;
}

void ot_assign_restart(ot_assign *s) {
  /* v and the assignment stay; the reduce pass frees what no longer fits */
  if (s->phase != PH_DONE) { /* stopped mid-run: nothing to keep */
    assign_reset(s);
    return;
  }
  s->phase = PH_REDUCE;
  s->r = 0;
  s->n_next = 0;
  s->n_densified = 0;
  s->repairs = 0;
  s->after_aug = 0;
  s->nonfinite = 0;
  s->have_chk = 0;
  /* C changed: no bound on the arcs outside the graph is known */
  if (s->ob)
    for (int r = 0; r < s->n; r++) s->ob[r] = -HUGE_VAL;
}

/* after C changed in place: the arcs take their new costs; with bounds,
 * each sparse row keeps only its first deg arcs (its least a - v at the
 * cold start) and its assigned arc, and is sparse again.  The cold searches' expansions leave rows of
 * up to ROWCAP arcs (or dense), which the warm searches, without bounds,
 * would all relax: 2000 x 2000 tuned16 restarts took 0.078-0.083 s kept
 * whole, 0.048-0.059 s trimmed (main, ROWCAP 88: 0.056-0.059 s). */
void ot_assign_refresh(ot_assign *s) {
  const int n = s->n;
  if (!s->sparse) return;
  for (int r = 0; r < n; r++) {
    const double *row = s->C + (R_xlen_t) r * n;
    int *gc = s->g_c + (size_t) r * s->cap;
    double *ga = s->g_a + (size_t) r * s->cap;
    if (s->bounds) {
      if (s->g_n[r] > s->deg) {
        int c = s->x[r], found = 0;
        s->g_n[r] = s->deg;
        for (int k = 0; k < s->g_n[r]; k++) found |= gc[k] == c;
        if (!found && c >= 0) gc[s->g_n[r]++] = c;
      }
      s->dense[r] = 0;
    }
    for (int k = 0; k < s->g_n[r]; k++) ga[k] = row[gc[k]];
  }
}

double ot_assign_work(const ot_assign *s) { return s->work; }

static inline double tol_of(double a, double v, double u) {
  double t = fabs(a);
  if (fabs(v) > t) t = fabs(v);
  if (fabs(u) > t) t = fabs(u);
  return 64 * DBL_EPSILON * t;
}

/* min over c of row[c] - v[c], four running minima kept in registers; *bad
 * becomes non-zero when an entry (or dual) is not finite (NaN or Inf
 * spreads through the sum of h * 0) */
static inline double row_min(const double *row, const double *v, int n, int *bad) {
  double l0 = HUGE_VAL, l1 = HUGE_VAL, l2 = HUGE_VAL, l3 = HUGE_VAL, z = 0;
  int c = 0;
#if defined(__SSE2__)
  /* the same minimum (min is exact, whatever the order), two lanes at a
   * time; _mm_min_pd(h, l) is h < l ? h : l as below */
  {
    __m128d m0 = _mm_set1_pd(HUGE_VAL), m1 = m0, z0 = _mm_setzero_pd(), z1 = z0;
    const __m128d zero = _mm_setzero_pd();
    for (; c + 4 <= n; c += 4) {
      __m128d h0 = _mm_sub_pd(_mm_loadu_pd(row + c), _mm_loadu_pd(v + c));
      __m128d h1 = _mm_sub_pd(_mm_loadu_pd(row + c + 2), _mm_loadu_pd(v + c + 2));
      z0 = _mm_add_pd(z0, _mm_mul_pd(h0, zero));
      z1 = _mm_add_pd(z1, _mm_mul_pd(h1, zero));
      m0 = _mm_min_pd(h0, m0);
      m1 = _mm_min_pd(h1, m1);
    }
    double t[4], w[4];
    _mm_storeu_pd(t, m0);
    _mm_storeu_pd(t + 2, m1);
    _mm_storeu_pd(w, _mm_add_pd(z0, z1));
    l0 = t[0];
    l1 = t[1];
    l2 = t[2];
    l3 = t[3];
    z = w[0] + w[1];
  }
#endif
  for (; c + 4 <= n; c += 4) {
    double h0 = row[c] - v[c], h1 = row[c + 1] - v[c + 1];
    double h2 = row[c + 2] - v[c + 2], h3 = row[c + 3] - v[c + 3];
    z += (h0 + h1 + h2 + h3) * 0.0;
    l0 = h0 < l0 ? h0 : l0;
    l1 = h1 < l1 ? h1 : l1;
    l2 = h2 < l2 ? h2 : l2;
    l3 = h3 < l3 ? h3 : l3;
  }
  for (; c < n; c++) {
    double h = row[c] - v[c];
    z += h * 0.0;
    l0 = h < l0 ? h : l0;
  }
  double a = l0 < l1 ? l0 : l1, b = l2 < l3 ? l2 : l3;
  if (z != 0) *bad = 1; /* z is 0 or NaN */
  return b < a ? b : a;
}

/* column reduction on columns lo .. hi of row r; returns their least cost */
static inline double colred_block(const double *row, double *v, int *arg, int r,
                                  int lo, int hi) {
  int c = lo;
  double mn = HUGE_VAL;
#if defined(__SSE2__)
  __m128d m = _mm_set1_pd(HUGE_VAL);
  for (; c + 2 <= hi; c += 2) {
    __m128d a = _mm_loadu_pd(row + c), b = _mm_loadu_pd(v + c);
    int lower = _mm_movemask_pd(_mm_cmplt_pd(a, b));
    if (lower) {
      _mm_storeu_pd(v + c, _mm_min_pd(a, b));
      if (lower & 1) arg[c] = r;
      if (lower & 2) arg[c + 1] = r;
    }
    m = _mm_min_pd(a, m);
  }
  double t[2];
  _mm_storeu_pd(t, m);
  mn = t[0] < t[1] ? t[0] : t[1];
#endif
  for (; c < hi; c++) {
    if (row[c] < v[c]) {
      v[c] = row[c];
      arg[c] = r;
    }
    if (row[c] < mn) mn = row[c];
  }
  return mn;
}

/* column reduction: v[c] = min_r a(r, c) over the rows read so far, col[c]
 * its first arg min (the whole row as one block) */
static void colred_row(ot_assign *s, int r) {
  (void) colred_block(s->C + (R_xlen_t) r * s->n, s->v, s->col, r, 0, s->n);
}

/* The own graph's arcs per row, from ASSIGN_SAMPLE_ROWS rows spread over
 * the problem: the median number of arcs within ASSIGN_TIE_SPREAD of the
 * way from the row's minimum to its mean.  Tuned-unit costs have clusters
 * of near-tied units well below the rest (16 latents: ~n/16 per row), mixed
 * latents a continuous spread (a handful).  A graph that holds the whole
 * cluster paid on 2000 x 2000 tuned64 costs (~31 per cluster: 40 arcs,
 * 331 M instructions, against 485 M with 24).  Clusters larger than
 * ASSIGN_OWN_DEGMAX / 1.5 get ASSIGN_OWN_DEGMAX arcs, bounds and the
 * searches' expansions for the rest (tuned16 2000 x 2000 with the bounds:
 * 0.104 s against 0.113 s with 24 arcs; before the bounds, when the
 * escapes crossed the clusters, 24 arcs paid: 729 M instructions against
 * 958 M with 64).  Returns 1.5 times the median, unclamped.  Deterministic
 * (C alone).  Non-finite entries give no ties (the reduce pass reports
 * them). */
static int own_degree(const ot_assign *s) {
  const int n = s->n, S = ASSIGN_SAMPLE_ROWS;
  int cnt[ASSIGN_SAMPLE_ROWS];
  for (int t = 0; t < S; t++) {
    const double *row = s->C + (R_xlen_t) ((R_xlen_t) t * n / S) * n;
    double mn = HUGE_VAL, sum = 0;
    for (int c = 0; c < n; c++) {
      sum += row[c];
      mn = row[c] < mn ? row[c] : mn;
    }
    double lim = mn + ASSIGN_TIE_SPREAD * (sum / n - mn);
    int k = 0;
    for (int c = 0; c < n; c++) k += row[c] <= lim;
    /* insertion into the sorted counts */
    int x = t;
    while (x > 0 && cnt[x - 1] > k) {
      cnt[x] = cnt[x - 1];
      x--;
    }
    cnt[x] = k;
  }
  int med = (cnt[S / 2 - 1] + cnt[S / 2]) / 2, K = (3 * med + 1) / 2;
  return K;
}

/* column reduction on row r that also keeps the row's K
 * cheapest arcs (the same set, in the same order, as kbest_insert over
 * c = 0 .. n-1: ties to the lower column) as its arcs of the search graph.
 * The row is reduced in K blocks; the largest block minimum
 * bounds the K-th least cost from above (K entries are at or below it), so
 * only the entries at or below it are offered to the selection, in column
 * order (about K ln K of them on random costs instead of every new
 * running minimum). */
static void colred_row_own(ot_assign *s, int r) {
  const int n = s->n, K = s->deg;
  const double *row = s->C + (R_xlen_t) r * n;
  double *v = s->v;
  int *arg = s->col;
  double bv[ASSIGN_OWN_DEGMAX], bound = -HUGE_VAL;
  int bc[ASSIGN_OWN_DEGMAX], nb = 0, c = 0;
  for (int b = 0; b < K; b++) {
    int lo = (int) ((R_xlen_t) b * n / K), hi = (int) ((R_xlen_t) (b + 1) * n / K);
    double mn = colred_block(row, v, arg, r, lo, hi);
    if (mn > bound) bound = mn;
  }
#define OWN_ARC(c_)                                                            \
  do {                                                                         \
    double a_ = row[c_];                                                       \
    if (a_ <= bound && (nb < K || a_ < bv[K - 1]))                             \
      kbest_insert(bv, bc, &nb, K, a_, c_);                                    \
  } while (0)
#if defined(__SSE2__)
  for (; c + 2 <= n; c += 2) {
    __m128d a = _mm_loadu_pd(row + c);
    __m128d t = _mm_set1_pd(nb < K ? bound : bv[K - 1]);
    if (_mm_movemask_pd(_mm_cmple_pd(a, t))) {
      OWN_ARC(c);
      OWN_ARC(c + 1);
    }
  }
#endif
  for (; c < n; c++) OWN_ARC(c);
#undef OWN_ARC
  int *gc = s->g_c + (size_t) r * s->cap;
  double *ga = s->g_a + (size_t) r * s->cap;
  for (int t = 0; t < nb; t++) {
    gc[t] = bc[t];
    ga[t] = bv[t];
  }
  s->g_n[r] = nb;
}

/* the k-th least (0-based) of x[0 .. m) (reordered in place), k < m */
static double kth_least(double *x, int m, int k) {
  int lo = 0, hi = m - 1;
  while (lo < hi) {
    double p = x[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (x[i] < p) i++;
      while (p < x[j]) j--;
      if (i <= j) {
        double t = x[i];
        x[i++] = x[j];
        x[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return x[k];
}

/* The K1 least h = row[c] - v[c] + pen[c] (ties to the lower column) into
 * bv / bc, pen NULL or 0 / +Inf per column (+Inf: skip it); returns how
 * many (fewer when fewer are finite: a NaN is never kept).  The row is cut
 * into M = 2 K1 blocks; the K1-th least block minimum bounds the K1-th
 * least h from above (K1 blocks hold an entry at or below it), so only the
 * entries at or below it (then below the largest kept) are offered to the
 * selection, two at a time (SSE2).  The result is that of offering every
 * column in order.  (K1 blocks and their largest minimum offered ~110
 * pairs of a 1000-column tuned16 row, 7-9 us of insertions a row: a block
 * without a unit of the row's cluster sets the bound.) */
static inline double kb_h(const double *row, const double *v, const double *pen, int c) {
  return pen ? row[c] - v[c] + pen[c] : row[c] - v[c];
}
static int row_kbest(const double *row, const double *v, const double *pen, int n,
                     int K1, double *bv, int *bc) {
  double bound, bm[2 * ASSIGN_KBEST_MAX];
  int nb = 0, c = 0;
  if (K1 > n) K1 = n;
  const int M = 2 * K1 <= n ? 2 * K1 : n;
  for (int b = 0; b < M; b++) {
    int lo = (int) ((R_xlen_t) b * n / M), hi = (int) ((R_xlen_t) (b + 1) * n / M), k = lo;
    double mn = HUGE_VAL;
#if defined(__SSE2__)
    __m128d m = _mm_set1_pd(HUGE_VAL);
    if (pen)
      for (; k + 2 <= hi; k += 2)
        m = _mm_min_pd(_mm_add_pd(_mm_sub_pd(_mm_loadu_pd(row + k), _mm_loadu_pd(v + k)),
                                  _mm_loadu_pd(pen + k)), m);
    else
      for (; k + 2 <= hi; k += 2)
        m = _mm_min_pd(_mm_sub_pd(_mm_loadu_pd(row + k), _mm_loadu_pd(v + k)), m);
    double t[2];
    _mm_storeu_pd(t, m);
    mn = t[0] < t[1] ? t[0] : t[1];
#endif
    for (; k < hi; k++) {
      double h = kb_h(row, v, pen, k);
      if (h < mn) mn = h;
    }
    bm[b] = mn;
  }
  bound = kth_least(bm, M, K1 - 1);
#define KB_ARC(c_)                                                             \
  do {                                                                         \
    double h_ = kb_h(row, v, pen, c_);                                         \
    if (h_ <= bound && (nb < K1 || h_ < bv[K1 - 1]))                           \
      kbest_insert(bv, bc, &nb, K1, h_, c_);                                   \
  } while (0)
#if defined(__SSE2__)
  for (; c + 2 <= n; c += 2) {
    __m128d h = _mm_sub_pd(_mm_loadu_pd(row + c), _mm_loadu_pd(v + c));
    if (pen) h = _mm_add_pd(h, _mm_loadu_pd(pen + c));
    __m128d t = _mm_set1_pd(nb < K1 ? bound : bv[K1 - 1]);
    if (_mm_movemask_pd(_mm_cmple_pd(h, t))) {
      KB_ARC(c);
      KB_ARC(c + 1);
    }
  }
#endif
  for (; c < n; c++) KB_ARC(c);
#undef KB_ARC
  return nb;
}

/* ---- row_ksel(): a row's K least h = row[c] - v[c] + pen[c] (pen as in
 * row_kbest()) and the next one, for the graph with bounds.
 *
 * Result: the K least h in the order (h, c) (ties to the lower column; a NaN
 * is never kept), as columns in that order in bc[0 .. k), k = min(K,
 * #non-NaN), and *next = the (K+1)-th least h (HUGE_VAL when there is
 * none): the first K of row_kbest(K + 1) and its bv[K], which is what the
 * scalar path computes.  Defined by the row alone, so the AVX2 path below
 * gives the same result (tests compare the two through
 * HOTALIGN_NO_VECTOR_PATHS).  (In column order instead, the arcs changed
 * the ties of the searches and warm restarts read their rows' arcs in an
 * order that cost ~3% on 2000 x 2000 tuned16 restarts; the sort of the K
 * kept, below, costs far less than the reading.)
 *
 * Why: row_kbest() spent most of its cycles in the insertion of ~60 offers
 * into a sorted list of up to 49 (and in the quickselect of its bound),
 * not in reading the row (a 2000-column row: ~20 000 cycles against ~3 500
 * for the read); selecting the set first and sorting only the K kept
 * (step 4) gives the same result for a fraction of that.
 *
 * The AVX2 path (n >= 2 M):
 *  1. the minima of M = 2 (K + 1) (rounded up to 4) strided blocks (block
 *     j = the columns c with c mod M = j), four lanes at a time;
 *  2. a bound t with at least K + 1 block minima <= t (bisection between
 *     their least and largest; non-finite: kth_least()): K + 1 columns
 *     have h <= t, so every one of the K + 1 least is <= t;
 *  3. one pass collects the columns with h <= t, in column order, into a
 *     buffer of KS_CAP (a full buffer is cut to its K + 1 least, and t
 *     becomes the (K + 1)-th, strictly: a later column with the same h
 *     comes after it in the order);
 *  4. each entry's rank in the order (h, position) by counting
 *     (ks_ranks(), S <= KS_RANK_MAX: nearly always, 51-71 entries on
 *     tuned16 rows): the K of rank < K are placed in that order and the one
 *     of rank K is the next; a longer buffer is cut to its K least by
 *     bisection on counts (ks_order(), ks_cut()) and those sorted by h
 *     (insertion, stable).
 * Every step keeps the buffer in column order, so a tie is decided by
 * position, as (h, c) decides it.  No allocation (stack buffers).
 * (Timed on 1000-column tuned16 rows read from L3, rdtsc: the cut and the
 * insertion sort of step 4 took ~1 500 and ~2 950 of a row's ~8 700
 * cycles; the ranks take ~1 230 of ~3 400-4 700.) */
#define KS_CAP 256
#define KS_MMAX (4 * ((2 * ASSIGN_KBEST_MAX + 3) / 4))
#ifndef KS_BISECT
#define KS_BISECT 8
#endif
static int row_ksel_scalar(const double *row, const double *v, const double *pen, int n,
                           int K, int *bc, double *next) {
  double bv[ASSIGN_KBEST_MAX];
  int bk[ASSIGN_KBEST_MAX];
  int nb = row_kbest(row, v, pen, n, K + 1, bv, bk), k = nb < K ? nb : K;
  memcpy(bc, bk, sizeof(int) * (size_t) k);
  *next = nb > K ? bv[K] : HUGE_VAL;
  return k;
}
#if defined(__x86_64__) && defined(__GNUC__) && !defined(HOTALIGN_NO_AVX2)
#define HOT_ASSIGN_AVX2 1
#include <immintrin.h>
__attribute__((target("avx2")))
static inline int ks_lanes(__m256i cnt) {
  __m128i c2 = _mm_add_epi64(_mm256_castsi256_si128(cnt), _mm256_extracti128_si256(cnt, 1));
  return (int) (_mm_cvtsi128_si64(c2) + _mm_extract_epi64(c2, 1));
}
/* #{x[j] <= t} (strict = 0) or #{x[j] < t} (strict = 1), x[0 .. m), m a
 * multiple of 4 (NaN padding never counts) */
__attribute__((target("avx2")))
static inline int ks_count(const double *x, int m, double t, int strict) {
  const __m256d tt = _mm256_set1_pd(t);
  __m256i cnt = _mm256_setzero_si256();
  for (int j = 0; j < m; j += 4) {
    const __m256d y = _mm256_load_pd(x + j);
    const __m256d hit = strict ? _mm256_cmp_pd(y, tt, _CMP_LT_OQ) : _mm256_cmp_pd(y, tt, _CMP_LE_OQ);
    cnt = _mm256_sub_epi64(cnt, _mm256_castpd_si256(hit));
  }
  return ks_lanes(cnt);
}
#define ks_count_le(x, m, t) ks_count(x, m, t, 0)
#define ks_count_lt(x, m, t) ks_count(x, m, t, 1)
/* the least and largest of the non-NaN x[0 .. m) (m a multiple of 4;
 * HUGE_VAL / -HUGE_VAL when all are NaN) */
__attribute__((target("avx2")))
static inline void ks_range(const double *x, int m, double *lo, double *hi) {
  __m256d mn = _mm256_set1_pd(HUGE_VAL), mx = _mm256_set1_pd(-HUGE_VAL);
  for (int j = 0; j < m; j += 4) {
    const __m256d b = _mm256_load_pd(x + j);
    mn = _mm256_min_pd(b, mn); /* (b NaN: the second operand) */
    mx = _mm256_max_pd(b, mx);
  }
  double a[4], b[4];
  _mm256_storeu_pd(a, mn);
  _mm256_storeu_pd(b, mx);
  double l = a[0], h = b[0];
  for (int k = 1; k < 4; k++) {
    l = a[k] < l ? a[k] : l;
    h = b[k] > h ? b[k] : h;
  }
  *lo = l;
  *hi = h;
}
/* The K-th and (K + 1)-th least (1-based) of x[0 .. m) (m a multiple of 4,
 * more than K non-NaN entries, NaN padding): *tK, *tK1.  Invariant of the
 * bisection: #{x <= L} = cL <= K and #{x <= H} = cH >= K + 1, so the
 * (K + 1)-th least lies in (L, H], and the K-th too unless cL = K (then it
 * is the largest x <= L, the (K + 1)-th the least x > L).  When (L, H]
 * holds few entries (or the midpoint no longer moves: non-finite entries,
 * adjacent doubles), they are sorted. */
__attribute__((target("avx2")))
static void ks_order(const double *x, int m, int S, int K, double *tK, double *tK1) {
  double L, H;
  ks_range(x, m, &L, &H);
  int cL = ks_count_le(x, m, L), cH = S;
  if (cL >= K + 1) {
    *tK = *tK1 = L;
    return;
  }
  while (cL < K && cH - cL > 16) {
    const double mid = L + 0.5 * (H - L);
    if (!(mid > L && mid < H)) break;
    const int c = ks_count_le(x, m, mid);
    if (c >= K + 1) {
      H = mid;
      cH = c;
    } else {
      L = mid;
      cL = c;
    }
  }
  if (cL == K) { /* split at L */
    const __m256d t = _mm256_set1_pd(L);
    __m256d a = _mm256_set1_pd(-HUGE_VAL), b = _mm256_set1_pd(HUGE_VAL);
    for (int j = 0; j < m; j += 4) {
      const __m256d y = _mm256_load_pd(x + j);
      a = _mm256_max_pd(a, _mm256_blendv_pd(a, y, _mm256_cmp_pd(y, t, _CMP_LE_OQ)));
      b = _mm256_min_pd(b, _mm256_blendv_pd(b, y, _mm256_cmp_pd(y, t, _CMP_GT_OQ)));
    }
    double aa[4], bb[4];
    _mm256_storeu_pd(aa, a);
    _mm256_storeu_pd(bb, b);
    double ra = aa[0], rb = bb[0];
    for (int k = 1; k < 4; k++) {
      ra = aa[k] > ra ? aa[k] : ra;
      rb = bb[k] < rb ? bb[k] : rb;
    }
    *tK = ra;
    *tK1 = rb;
    return;
  }
  /* cL < K: the entries in (L, H], sorted */
  double w[KS_CAP + 4];
  int nw = 0;
  const __m256d tl = _mm256_set1_pd(L), th = _mm256_set1_pd(H);
  for (int j = 0; j < m; j += 4) {
    const __m256d y = _mm256_load_pd(x + j);
    unsigned msk = (unsigned) _mm256_movemask_pd(
        _mm256_and_pd(_mm256_cmp_pd(y, tl, _CMP_GT_OQ), _mm256_cmp_pd(y, th, _CMP_LE_OQ)));
    while (msk) {
      double e = x[j + __builtin_ctz(msk)];
      int k = nw++;
      for (; k > 0 && w[k - 1] > e; k--) w[k] = w[k - 1];
      w[k] = e;
      msk &= msk - 1;
    }
  }
  *tK = w[K - 1 - cL];
  *tK1 = w[K - cL];
}
/* the buffer hb / cb [0 .. S) (column order, more than K non-NaN entries)
 * cut in place to its K least (ties by position), in column order; returns
 * the (K + 1)-th least, *kth the K-th */
__attribute__((target("avx2")))
static double ks_cut(double *hb, int *cb, int S, int K, double *kth) {
  const int m = (S + 3) & ~3;
  for (int j = S; j < m; j++) hb[j] = NAN;
  double tK, tK1;
  ks_order(hb, m, S, K, &tK, &tK1);
  *kth = tK;
  int o = 0;
  if (ks_count_le(hb, m, tK) == K) { /* no tie across the cut: every h <= tK */
    const __m256d t = _mm256_set1_pd(tK);
    for (int j = 0; j < m; j += 4) {
      unsigned msk = (unsigned) _mm256_movemask_pd(_mm256_cmp_pd(_mm256_load_pd(hb + j), t, _CMP_LE_OQ));
      while (msk) {
        const int k = j + __builtin_ctz(msk);
        hb[o] = hb[k];
        cb[o++] = cb[k];
        msk &= msk - 1;
      }
    }
  } else { /* the entries below tK and the first of those equal to it */
    int eq = K - ks_count_lt(hb, m, tK);
    for (int j = 0; j < S; j++)
      if (hb[j] < tK || (hb[j] == tK && eq-- > 0)) {
        hb[o] = hb[j];
        cb[o++] = cb[j];
      }
  }
  return tK1;
}
/* The ranks of hb[0 .. S) in the order (h, position), S <= KS_RANK_MAX:
 * rk[i] = #{j : hb[j] < hb[i]} + #{j < i : hb[j] == hb[i]}, a permutation
 * of 0 .. S - 1 (no NaN in hb: none is ever collected).  hb is padded to a
 * multiple of 8 (the padding is read, its ranks not used).  Eight i at a
 * time against every j broadcast: for j below the block the test is
 * h_j <= h_i, above it h_j < h_i, inside it <= for the lanes i > j. */
#define KS_RANK_MAX 128
__attribute__((target("avx2")))
static void ks_ranks(const double *hb, int S, long long *rk) {
  const __m256d four = _mm256_set1_pd(4.0);
  for (int i0 = 0; i0 < S; i0 += 8) {
    const __m256d h0 = _mm256_load_pd(hb + i0), h1 = _mm256_load_pd(hb + i0 + 4);
    __m256i c0 = _mm256_setzero_si256(), c1 = _mm256_setzero_si256();
    int j = 0;
    for (; j < i0; j++) {
      const __m256d b = _mm256_broadcast_sd(hb + j);
      c0 = _mm256_sub_epi64(c0, _mm256_castpd_si256(_mm256_cmp_pd(b, h0, _CMP_LE_OQ)));
      c1 = _mm256_sub_epi64(c1, _mm256_castpd_si256(_mm256_cmp_pd(b, h1, _CMP_LE_OQ)));
    }
    const __m256d i_0 = _mm256_add_pd(_mm256_set1_pd((double) i0), _mm256_set_pd(3, 2, 1, 0)),
                  i_1 = _mm256_add_pd(i_0, four);
    const int e = i0 + 8 < S ? i0 + 8 : S;
    for (; j < e; j++) {
      const __m256d b = _mm256_broadcast_sd(hb + j), jj = _mm256_set1_pd((double) j);
      const __m256d m0 = _mm256_blendv_pd(_mm256_cmp_pd(b, h0, _CMP_LT_OQ), _mm256_cmp_pd(b, h0, _CMP_LE_OQ),
                                          _mm256_cmp_pd(i_0, jj, _CMP_GT_OQ));
      const __m256d m1 = _mm256_blendv_pd(_mm256_cmp_pd(b, h1, _CMP_LT_OQ), _mm256_cmp_pd(b, h1, _CMP_LE_OQ),
                                          _mm256_cmp_pd(i_1, jj, _CMP_GT_OQ));
      c0 = _mm256_sub_epi64(c0, _mm256_castpd_si256(m0));
      c1 = _mm256_sub_epi64(c1, _mm256_castpd_si256(m1));
    }
    for (; j < S; j++) {
      const __m256d b = _mm256_broadcast_sd(hb + j);
      c0 = _mm256_sub_epi64(c0, _mm256_castpd_si256(_mm256_cmp_pd(b, h0, _CMP_LT_OQ)));
      c1 = _mm256_sub_epi64(c1, _mm256_castpd_si256(_mm256_cmp_pd(b, h1, _CMP_LT_OQ)));
    }
    _mm256_storeu_si256((__m256i *) (rk + i0), c0);
    _mm256_storeu_si256((__m256i *) (rk + i0 + 4), c1);
  }
}
__attribute__((target("avx2")))
static int row_ksel_avx2(const double *row, const double *v, const double *pen, int n,
                         int K, int *bc, double *next) {
  const int K1 = K + 1, M = 4 * ((2 * K1 + 3) / 4);
  double bm[KS_MMAX] __attribute__((aligned(32)));
  /* 1. strided block minima (a NaN h leaves a minimum as it is) */
  for (int j = 0; j < M; j += 4) _mm256_store_pd(bm + j, _mm256_set1_pd(HUGE_VAL));
  int base = 0;
  if (pen)
    for (; base + M <= n; base += M)
      for (int j = 0; j < M; j += 4) {
        const int c = base + j;
        const __m256d h = _mm256_add_pd(
            _mm256_sub_pd(_mm256_loadu_pd(row + c), _mm256_loadu_pd(v + c)), _mm256_loadu_pd(pen + c));
        _mm256_store_pd(bm + j, _mm256_min_pd(h, _mm256_load_pd(bm + j)));
      }
  else
    for (; base + M <= n; base += M)
      for (int j = 0; j < M; j += 4) {
        const int c = base + j;
        const __m256d h = _mm256_sub_pd(_mm256_loadu_pd(row + c), _mm256_loadu_pd(v + c));
        _mm256_store_pd(bm + j, _mm256_min_pd(h, _mm256_load_pd(bm + j)));
      }
  for (int c = base; c < n; c++) {
    const double h = kb_h(row, v, pen, c);
    if (h < bm[c - base]) bm[c - base] = h;
  }
  /* 2. the bound */
  double lo, hi, bound;
  ks_range(bm, M, &lo, &hi);
  if (!(hi < HUGE_VAL) || !(lo > -HUGE_VAL)) bound = kth_least(bm, M, K1 - 1);
  else {
    for (int it = 0; it < KS_BISECT; it++) {
      const double mid = lo + 0.5 * (hi - lo);
      if (!(mid > lo && mid < hi)) break;
      if (ks_count_le(bm, M, mid) >= K1) hi = mid;
      else lo = mid;
    }
    bound = hi;
  }
  /* 3. the columns with h <= bound (< tb once the buffer was cut) */
  double hb[KS_CAP + 8] __attribute__((aligned(32)));
  int cb[KS_CAP + 8], S = 0, c = 0, strict = 0;
  double tb = bound;
  __m256d t = _mm256_set1_pd(bound);
#define KS_TAKE(c_, h_)                                                        \
  do {                                                                         \
    if (strict ? (h_) < tb : (h_) <= tb) {                                     \
      hb[S] = (h_);                                                            \
      cb[S++] = (c_);                                                          \
    }                                                                          \
  } while (0)
#define KS_FULL()                                                              \
  do {                                                                         \
    if (S > KS_CAP - 8) {                                                      \
      (void) ks_cut(hb, cb, S, K1, &tb);                                       \
      S = K1;                                                                  \
      strict = 1;                                                              \
      t = _mm256_set1_pd(tb);                                                  \
    }                                                                          \
  } while (0)
  for (; c + 8 <= n; c += 8) {
    __m256d h0 = _mm256_sub_pd(_mm256_loadu_pd(row + c), _mm256_loadu_pd(v + c));
    __m256d h1 = _mm256_sub_pd(_mm256_loadu_pd(row + c + 4), _mm256_loadu_pd(v + c + 4));
    if (pen) {
      h0 = _mm256_add_pd(h0, _mm256_loadu_pd(pen + c));
      h1 = _mm256_add_pd(h1, _mm256_loadu_pd(pen + c + 4));
    }
    unsigned msk = (unsigned) _mm256_movemask_pd(_mm256_cmp_pd(h0, t, _CMP_LE_OQ)) |
                   ((unsigned) _mm256_movemask_pd(_mm256_cmp_pd(h1, t, _CMP_LE_OQ)) << 4);
    if (msk) {
      double hh[8];
      _mm256_storeu_pd(hh, h0);
      _mm256_storeu_pd(hh + 4, h1);
      do {
        const int k = __builtin_ctz(msk);
        KS_TAKE(c + k, hh[k]);
        msk &= msk - 1;
      } while (msk);
      KS_FULL();
    }
  }
  for (; c < n; c++) {
    const double h = kb_h(row, v, pen, c);
    KS_TAKE(c, h);
    KS_FULL();
  }
#undef KS_TAKE
#undef KS_FULL
  /* 4. the K least of the buffer, in the order (h, c): placed by their
   * ranks when the buffer is short (as it nearly always is: 51-71 entries
   * on tuned16 rows), else cut and sorted */
  if (S <= KS_RANK_MAX) {
    long long rk[KS_RANK_MAX];
    for (int j = S; j < ((S + 7) & ~7); j++) hb[j] = NAN;
    ks_ranks(hb, S, rk);
    *next = HUGE_VAL;
    for (int i = 0; i < S; i++) {
      const int r = (int) rk[i];
      if (r < K) bc[r] = cb[i];
      else if (r == K) *next = hb[i];
    }
    return S < K ? S : K;
  }
  if (S <= K) {
    *next = HUGE_VAL;
  } else {
    double kth;
    *next = ks_cut(hb, cb, S, K, &kth);
    S = K;
  }
  /* into the order (h, c): stable, the buffer being in column order */
  for (int i = 0; i < S; i++) {
    const double h = hb[i];
    const int c = cb[i];
    int j = i;
    for (; j > 0 && hb[j - 1] > h; j--) {
      hb[j] = hb[j - 1];
      cb[j] = cb[j - 1];
    }
    hb[j] = h;
    cb[j] = c;
  }
  memcpy(bc, cb, sizeof(int) * (size_t) S);
  return S;
}
#endif

static int row_ksel(const double *row, const double *v, const double *pen, int n, int K,
                    int *bc, double *next) {
#ifdef HOT_ASSIGN_AVX2
  if (cpu_has_avx2() && n >= 2 * KS_MMAX) return row_ksel_avx2(row, v, pen, n, K, bc, next);
#endif
  return row_ksel_scalar(row, v, pen, n, K, bc, next);
}

/* Sparse row r's arcs from its reading with the column duals of column
 * reduction: its K = deg least a(r, c) - v[c] (row_ksel(): ties to the
 * lower column, in the order (h, c)), and ob[r] = the next one (the least
 * outside; HUGE_VAL when there is none) */
static void graph_row(ot_assign *s, int r) {
  const int n = s->n, K = s->deg;
  const double *row = s->C + (R_xlen_t) r * n;
  int *gc = s->g_c + (size_t) r * s->cap;
  double *ga = s->g_a + (size_t) r * s->cap;
  int k = row_ksel(row, s->v, NULL, n, K, gc, &s->ob[r]);
  for (int t = 0; t < k; t++) ga[t] = row[gc[t]];
  s->g_n[r] = k;
}

/* Sparse row r (its bound ob[r] known) gains its ASSIGN_EXPAND least
 * a - v outside its graph (row_ksel(), in the order (h, c)), and ob[r] becomes
 * the next one; a row without room goes dense.  The new arcs are at
 * g_c[r * cap + *first .. g_n[r]).  Returns 0, or 1 when the row went
 * dense. */
static int expand_row(ot_assign *s, int r, int *first) {
  const int n = s->n, G = ASSIGN_EXPAND;
  const double *row = s->C + (R_xlen_t) r * n;
  int *gc = s->g_c + (size_t) r * s->cap;
  double *ga = s->g_a + (size_t) r * s->cap;
  *first = s->g_n[r];
  if (s->g_n[r] + G > s->cap) {
    s->dense[r] = 1;
    return 1;
  }
  int bc[ASSIGN_EXPAND];
  const int g = s->g_n[r];
  for (int k = 0; k < g; k++) s->pen[gc[k]] = HUGE_VAL;
  int nb = row_ksel(row, s->v, s->pen, n, G, bc, &s->ob[r]);
  /* (an arc of the graph can only come back with an infinite h) */
  int k = 0;
  for (int t = 0; t < nb; t++)
    if (s->pen[bc[t]] == 0) {
      gc[g + k] = bc[t];
      ga[g + k++] = row[bc[t]];
    }
  for (int t = 0; t < g; t++) s->pen[gc[t]] = 0;
  s->g_n[r] = g + k;
  return 0;
}

/* after column reduction and the rows' cheapest arcs: each column's arg
 * min row gains the column if it lacks it and has room, so that every
 * column has an arc */
static void graph_cover(ot_assign *s) {
  const int n = s->n;
  for (int c = 0; c < n; c++) {
    int r = s->col[c], found = 0;
    FOR_ARCS(s, r, cc, a, { (void) a; found |= cc == c; });
    if (found || s->g_n[r] >= s->cap) continue;
    s->g_c[(size_t) r * s->cap + s->g_n[r]] = c;
    s->g_a[(size_t) r * s->cap + s->g_n[r]] = s->C[(R_xlen_t) r * n + c];
    s->g_n[r]++;
  }
}

/* after the column minima: assign each column to its arg min row, in
 * reverse column order, a row keeping the column with the smallest minimum
 * (Jonker-Volgenant); `pred` counts the columns each row is the arg min of */
static void colred_assign(ot_assign *s) {
  const int n = s->n;
  int *x = s->x, *y = s->y, *matches = s->pred;
  for (int r = 0; r < n; r++) matches[r] = 0;
  for (int c = n - 1; c >= 0; c--) {
    int r = s->col[c];
    if (++matches[r] == 1) {
      x[r] = c;
      y[c] = r;
    } else if (s->v[c] < s->v[x[r]]) {
      y[x[r]] = -1;
      x[r] = c;
      y[c] = r;
    } else {
      y[c] = -1;
    }
  }
}

/* reduction transfer for row r: a row that is the arg min of exactly one
 * column lowers that column's dual to its second-best reduced cost */
static void transfer_row(ot_assign *s, int r) {
  const int n = s->n;
  if (s->pred[r] == 0) {
    s->free_rows[s->n_free++] = r;
    return;
  }
  if (s->pred[r] != 1 || n == 1) return;
  const int c1 = s->x[r];
  double mn = HUGE_VAL;
  if (s->dense[r]) {
    const double *row = s->C + (R_xlen_t) r * n;
    for (int c = 0; c < n; c++) {
      if (c == c1) continue;
      double h = row[c] - s->v[c];
      if (h < mn) mn = h;
    }
  } else {
    FOR_ARCS(s, r, c, a, {
      double h = a - s->v[c];
      if (c != c1 && h < mn) mn = h;
    });
    /* no further than the bound on the arcs outside the graph (when known) */
    if (s->ob[r] > -HUGE_VAL && s->ob[r] < mn) mn = s->ob[r];
  }
  if (mn > -HUGE_VAL && mn < HUGE_VAL) s->v[c1] -= mn;
}

/* The least (u1, at column j1) and second least (u2, at j2) a - v of row i
 * over its graph, or over the whole row when it is dense.  With a bound on
 * the arcs outside the graph (ob[i] > -Inf) the least must lie within it,
 * else the row gains arcs (expand_row) and is read again, and the second
 * least is at most the bound (j2 = -1 when the bound is it).  *expansions
 * counts the rows' growths; returns the work in row scans (a dense row 1,
 * a graph pass its share of n, a growth 1).  Augmenting row reduction and
 * the auction's bids both choose by it. */
static double row_best_two(ot_assign *s, int i, double *u1, double *u2, int *j1out,
                           int *j2out, double *expansions) {
  const int n = s->n;
  const double *v = s->v;
  double umin = HUGE_VAL, usub = HUGE_VAL, w = 0;
  int j1 = -1, j2 = -1;
#define BEST_ARC(c_, a_)                                                        \
  do {                                                                         \
    double h = (a_) - v[c_];                                                   \
    if (h < usub) {                                                            \
      if (h >= umin) {                                                         \
        usub = h;                                                              \
        j2 = (c_);                                                             \
      } else {                                                                 \
        usub = umin;                                                           \
        umin = h;                                                              \
        j2 = j1;                                                               \
        j1 = (c_);                                                             \
      }                                                                        \
    }                                                                          \
  } while (0)
  for (;;) {
    if (s->dense[i]) {
      const double *row = s->C + (R_xlen_t) i * n;
      for (int c = 0; c < n; c++) BEST_ARC(c, row[c]);
      w += 1;
      break;
    }
    FOR_ARCS(s, i, c, a, BEST_ARC(c, a));
    w += (double) s->g_n[i] / n;
    const double ob = s->ob[i];
    if (ob == -HUGE_VAL) break;
    if (umin > ob) {
      int first;
      expand_row(s, i, &first);
      umin = usub = HUGE_VAL;
      j1 = j2 = -1;
      *expansions += 1;
      w += 1;
      continue;
    }
    if (ob < usub) {
      usub = ob;
      j2 = -1;
    }
    break;
  }
#undef BEST_ARC
  *u1 = umin;
  *u2 = usub;
  *j1out = j1;
  *j2out = j2;
  return w;
}

/* one step of augmenting row reduction on free row i: it takes its best
 * column, whose dual drops so that the second best ties; the row that held
 * the column is freed (processed next when the dual dropped, else later).
 * Returns the freed row or -1, and *again = 1 when it goes next. */
static int arr_step(ot_assign *s, int i, int *again, double *extra) {
  double *v = s->v;
  int *x = s->x, *y = s->y;
  double umin, usub;
  int j1, j2;
  STAT(st_arr++);
  (void) row_best_two(s, i, &umin, &usub, &j1, &j2, extra);
  *again = 0;
  if (j1 < 0) return i; /* no arcs: stays free (augmentation goes dense) */
  int i0 = y[j1];
  if (umin < usub) {
    v[j1] -= usub - umin;
    *again = 1;
  } else if (i0 >= 0 && j2 >= 0) {
    j1 = j2;
    i0 = y[j2];
  }
  if (i0 >= 0) x[i0] = -1;
  y[j1] = i;
  x[i] = j1;
  return i0;
}

/* ---- the auction pre-pass (the graph with bounds only: clusters of
 * near-ties larger than the graph holds).
 *
 * On such costs (tuned16) most of the work of shortest augmenting paths
 * was in the last few dozen searches, each crossing most of the rows to
 * move a surplus from one cluster of near-tied units to another (the
 * column duals of whole clusters have to rise together).  A forward
 * auction with epsilon scaling (Bertsekas) moves them cheaply: a free row
 * i bids for its best column j1 (least a - v over its graph, second best
 * u2 from the graph or the bound ob[i]), v[j1] drops by u2 - u1 + eps and
 * i takes j1 from its holder, who bids next.  Phases with eps = E0, E0 /
 * THETA, ... (E0 = ASSIGN_AUC_EPS0 times the median width ob - u1 of
 * sampled rows' windows); each phase frees the rows more than eps above their
 * minimum and ends when every row is assigned, or after ASSIGN_AUC_BIDS n
 * bids (the rest stay free).  Invariants:
 *  - v only decreases (every bid lowers one dual by at least eps > 0; a
 *    non-finite increment is never applied, and a bid whose decrease
 *    rounds away ends the auction), so every bound ob[r] stays a
 *    lower bound on the arcs outside row r's graph and the quick passes'
 *    premise holds;
 *  - x and y stay a partial permutation, inverse of each other;
 *  - a bid reads only the graph and the bound: a row whose best graph arc
 *    is beyond its bound gains its next arcs first (expand_row), so u1 is
 *    the row's minimum over all of C once it is at or below the bound.
 * The hand-over (auction_handover) frees every row whose arc is more than
 * tol(r) above that minimum: the JV invariant (every assigned row at its
 * minimum up to tol) holds again, and augmenting row reduction, the
 * augmentations and the reduce pass, which alone declares optimality,
 * carry on as after reduction transfer.  The auction is one step of
 * ot_assign_run() (its work counted in row scans), so budgets slice around
 * it and the result does not depend on them.  Measured on tuned16 costs
 * (bench/RESULTS.md, "Issue 11: an auction pre-pass"): after it augmenting
 * row reduction assigns all but ~30 rows, whose searches are short. */
#ifndef ASSIGN_AUC_PHASES
#define ASSIGN_AUC_PHASES 3
#endif
#ifndef ASSIGN_AUC_EPS0
#define ASSIGN_AUC_EPS0 1.0
#endif
#ifndef ASSIGN_AUC_THETA
#define ASSIGN_AUC_THETA 8.0
#endif
#ifndef ASSIGN_AUC_BIDS
#define ASSIGN_AUC_BIDS 20
#endif
/* best (u1, at column j1) and second best (u2) a - v of row i over its
 * graph, the bound counted as a second best; a sparse row with a bound
 * expands while its best is beyond it; returns the arcs read (row scans) */
static double auc_best(ot_assign *s, int i, double *u1, double *u2, int *j1out) {
  int j2;
  double grown = 0, w = row_best_two(s, i, u1, u2, j1out, &j2, &grown);
  STAT(st_expand += (long) grown);
  return w;
}

/* the auction's phases (see above); returns the work in row scans */
static double auction(ot_assign *s) {
  const int n = s->n;
  int *x = s->x, *y = s->y, *q = s->next_free;
  double *v = s->v, w = 0;
  /* the scale: the median width of sampled rows' windows (bound - least
   * arc; a mean was swayed by a few wide rows) */
  double ws[ASSIGN_SAMPLE_ROWS];
  int nw = 0;
  for (int k = 0; k < ASSIGN_SAMPLE_ROWS; k++) {
    double u1, u2;
    int j, r = (int) (((R_xlen_t) k * n) / ASSIGN_SAMPLE_ROWS);
    if (s->dense[r] || !(s->ob[r] < HUGE_VAL) || s->ob[r] == -HUGE_VAL) continue;
    w += auc_best(s, r, &u1, &u2, &j);
    double wd = s->ob[r] - u1;
    if (!isfinite(wd)) continue;
    int t = nw++;
    for (; t > 0 && ws[t - 1] > wd; t--) ws[t] = ws[t - 1];
    ws[t] = wd;
  }
  if (nw == 0 || !(ws[nw / 2] > 0)) return w;
  double eps = ASSIGN_AUC_EPS0 * ws[nw / 2];
  for (int ph = 0; ph < ASSIGN_AUC_PHASES; ph++, eps /= ASSIGN_AUC_THETA) {
    int head = 0, tail = 0, nq = 0;
    if (ph == 0) /* the rows reduction transfer left free (the others are at
                  * their minima, up to tol) */
      for (int k = 0; k < s->n_free; k++) {
        q[tail] = s->free_rows[k];
        tail = (tail + 1) % n;
        nq++;
      }
    for (int r = 0; r < n && ph > 0; r++) {
      if (x[r] >= 0) {
        double u1, u2;
        int j;
        w += auc_best(s, r, &u1, &u2, &j);
        const double *row = s->C + (R_xlen_t) r * n;
        double h = row[x[r]] - v[x[r]];
        if (!(h - u1 > eps)) continue;
        y[x[r]] = -1;
        x[r] = -1;
      }
      q[tail] = r;
      tail = (tail + 1) % n;
      nq++;
    }
    long bids = 0;
    while (nq > 0 && bids < (long) ASSIGN_AUC_BIDS * n) {
      int i = q[head];
      head = (head + 1) % n;
      nq--;
      double u1, u2;
      int j1;
      w += auc_best(s, i, &u1, &u2, &j1);
      bids++;
      if (j1 < 0 || !isfinite(u1)) continue; /* stays free: JV's */
      double inc = (u2 < HUGE_VAL ? u2 - u1 : 0) + eps, nv = v[j1] - inc;
      if (!isfinite(inc)) continue;
      if (!(nv < v[j1])) { /* eps below the dual's rounding: no progress */
        q[tail] = i;
        tail = (tail + 1) % n;
        nq++;
        return w;
      }
      v[j1] = nv;
      int i0 = y[j1];
      if (i0 >= 0) {
        x[i0] = -1;
        q[tail] = i0;
        tail = (tail + 1) % n;
        nq++;
      }
      y[j1] = i;
      x[i] = j1;
    }
    STAT(REprintf("auction phase %d eps %g bids %ld left %d expansions %ld\n", ph, eps, bids, nq, st_expand));
  }
  return w;
}
/* after the auction: every assigned row not within tol of its minimum
 * (over the graph and the bound) is freed; the free rows listed */
static double auction_handover(ot_assign *s) {
  const int n = s->n;
  int *x = s->x, *y = s->y;
  double w = 0;
  s->n_free = 0;
  for (int r = 0; r < n; r++) {
    if (x[r] >= 0) {
      double u1, u2;
      int j;
      w += auc_best(s, r, &u1, &u2, &j);
      const double *row = s->C + (R_xlen_t) r * n;
      double h = row[x[r]] - s->v[x[r]];
      if (h - u1 <= tol_of(row[x[r]], s->v[x[r]], u1)) continue;
      y[x[r]] = -1;
      x[r] = -1;
    }
    s->free_rows[s->n_free++] = r;
  }
  STAT(REprintf("auction handover: %d free\n", s->n_free));
  return w;
}

/* ---- sparse augmentation: Dijkstra with a 4-ary heap over the reached
 * columns, ordered by (d, free columns first, then index): a strict total
 * order, so the pops do not depend on the heap's shape; hpos[c] = heap
 * position, -1 unreached, -2 final. */
static inline int heap_less(struct heap_entry a, struct heap_entry b) {
  return a.d < b.d || (a.d == b.d && a.t < b.t);
}
/* entry e, at heap position k (or a new last one), moves up */
static inline void heap_up(ot_assign *s, int k, struct heap_entry e) {
  struct heap_entry *h = s->heap;
  int *pos = s->hpos;
  while (k > 0) {
    int par = (k - 1) >> 2;
    if (!heap_less(e, h[par])) break;
    h[k] = h[par];
    pos[h[k].c] = k;
    k = par;
  }
  h[k] = e;
  pos[e.c] = k;
}
static int heap_pop(ot_assign *s) {
  struct heap_entry *h = s->heap;
  int *pos = s->hpos, top = h[0].c, n = --s->n_heap, k = 0;
  struct heap_entry e = h[n];
  for (;;) {
    int ch = 4 * k + 1;
    if (ch >= n) break;
    int best = ch, lim = ch + 4 < n ? ch + 4 : n;
    for (int q = ch + 1; q < lim; q++)
      if (heap_less(h[q], h[best])) best = q;
    if (!heap_less(h[best], e)) break;
    h[k] = h[best];
    pos[h[k].c] = k;
    k = best;
  }
  if (n > 0) {
    h[k] = e;
    pos[e.c] = k;
  }
  pos[top] = -2;
  return top;
}
static inline void sp_relax(ot_assign *s, int i, int c, double nd) {
  /* (d[c] = -HUGE_VAL once c is final) */
  STAT(st_relax++);
  if (!(nd < s->d[c])) return;
  STAT(st_impr++);
  int hp = s->hpos[c];
  s->d[c] = nd;
  s->pred[c] = i;
  if (hp == -1) {
    s->touched[s->n_touched++] = c;
    hp = s->n_heap++;
  }
  struct heap_entry e = {nd, s->y[c] < 0 ? c : s->n + c, c};
  heap_up(s, hp, e);
}
/* the expansion heap (binary), ordered by (key, row) */
static inline int ev_less(struct ev_entry a, struct ev_entry b) {
  return a.key < b.key || (a.key == b.key && a.i < b.i);
}
static void ev_push(ot_assign *s, struct ev_entry e) {
  struct ev_entry *h = s->ev;
  int k = s->n_ev++;
  while (k > 0) {
    int par = (k - 1) >> 1;
    if (!ev_less(e, h[par])) break;
    h[k] = h[par];
    k = par;
  }
  h[k] = e;
}
static struct ev_entry ev_pop(ot_assign *s) {
  struct ev_entry *h = s->ev, top = h[0], e = h[--s->n_ev];
  int n = s->n_ev, k = 0;
  for (;;) {
    int ch = 2 * k + 1;
    if (ch >= n) break;
    if (ch + 1 < n && ev_less(h[ch + 1], h[ch])) ch++;
    if (!ev_less(h[ch], e)) break;
    h[k] = h[ch];
    k = ch;
  }
  if (n > 0) h[k] = e;
  return top;
}
/* sparse row i scanned at offset h with a bound known: no arc outside its
 * graph gives a distance below ob[i] - h */
static inline void sp_bound(ot_assign *s, int i, double h) {
  double ob = s->ob[i];
  if (s->dense[i] || ob == -HUGE_VAL || !(ob < HUGE_VAL)) return;
  struct ev_entry e = {ob - h, h, i};
  ev_push(s, e);
}
/* relax the arcs of row i at offset h (d = a - v - h); returns the arcs read */
static double sp_scan(ot_assign *s, int i, double h) {
  const int n = s->n;
  const double *v = s->v;
  if (s->dense[i]) {
    const double *row = s->C + (R_xlen_t) i * n;
    for (int c = 0; c < n; c++) sp_relax(s, i, c, row[c] - v[c] - h);
    return 1;
  }
  FOR_ARCS(s, i, c, a, sp_relax(s, i, c, a - v[c] - h));
  sp_bound(s, i, h);
  return (double) s->g_n[i] / n;
}
/* the search has reached row i's bound: the row gains its next arcs
 * outside the graph (or goes dense), which are relaxed at its offset */
static double sp_expand(ot_assign *s, struct ev_entry e) {
  const int n = s->n, i = e.i;
  const double *v = s->v;
  int first;
  STAT(st_expand++);
  if (expand_row(s, i, &first)) {
    const double *row = s->C + (R_xlen_t) i * n;
    for (int c = 0; c < n; c++) sp_relax(s, i, c, row[c] - v[c] - e.h);
    return 1;
  }
  const int *gc = s->g_c + (size_t) i * s->cap;
  const double *ga = s->g_a + (size_t) i * s->cap;
  for (int k = first; k < s->g_n[i]; k++) sp_relax(s, i, gc[k], ga[k] - v[gc[k]] - e.h);
  sp_bound(s, i, e.h);
  return 1;
}
static double sp_start(ot_assign *s, int f) {
  for (int t = 0; t < s->n_touched; t++) {
    s->hpos[s->touched[t]] = -1;
    s->d[s->touched[t]] = HUGE_VAL;
  }
  s->n_touched = s->n_heap = s->n_done = s->n_ev = 0;
  s->src = f;
  s->end = -1;
  STAT(st_aug++);
  return sp_scan(s, f, 0);
}
/* one step: returns 1 when a free column is final (s->end), -1 when the
 * reachable graph has none (its rows then gain arcs out of it), 0 otherwise;
 * *work receives the arcs read (in row scans) */
static int sp_step(ot_assign *s, double *work) {
  *work = 0;
  /* a bound at or below the next distance: that row's next arcs first */
  if (s->n_ev > 0 && (s->n_heap == 0 || !(s->heap[0].d < s->ev[0].key))) {
    *work = sp_expand(s, ev_pop(s));
    return 0;
  }
  if (s->n_heap == 0) return -1;
  int c = heap_pop(s);
  double D = s->d[c];
  if (s->y[c] < 0) {
    s->end = c;
    s->dmin = D;
    return 1;
  }
  s->df[s->n_done] = D;
  s->d[c] = -HUGE_VAL;
  s->col[s->n_done++] = c;
  int i = s->y[c];
  STAT((st_scan++, st_dense += s->dense[i]));
  double h = s->C[(R_xlen_t) i * s->n + c] - s->v[c] - D;
  *work = sp_scan(s, i, h);
  return 0;
}

/* A shortest augmenting path has reached free column s->end: the
 * alternating path back to the source row s->src flips (flip_only), after
 * the prices of the n_scanned columns listed first in s->col move by
 * d - dmin (flip_path). */
static void flip_only(ot_assign *s) {
  int *x = s->x, *y = s->y;
  int j = s->end, i;
  do {
    i = s->pred[j];
    y[j] = i;
    int k = x[i];
    x[i] = j;
    j = k;
  } while (i != s->src);
}
static void flip_path(ot_assign *s, int n_scanned) {
  const double mn = s->dmin;
  for (int k = 0; k < n_scanned; k++) {
    int j = s->col[k];
    s->v[j] += s->d[j] - mn;
  }
  flip_only(s);
}

/* after the sparse search reaches a free column: the scanned columns' prices
 * (as aug_finish() updates them) */
static void sp_finish(ot_assign *s) {
  const double mn = s->dmin;
  for (int k = 0; k < s->n_done; k++) s->v[s->col[k]] += s->df[k] - mn;
  flip_only(s);
}

/* Dijkstra start from free row f: d[c] = reduced distance, all columns
 * unscanned */
static void aug_start(ot_assign *s, int f) {
  const int n = s->n;
  const double *row = s->C + (R_xlen_t) f * n;
  for (int c = 0; c < n; c++) {
    s->d[c] = row[c] - s->v[c];
    s->pred[c] = f;
    s->col[c] = c;
  }
  s->src = f;
  s->low = s->up = 0;
  s->end = -1;
}

/* One Dijkstra step.  col[0 .. low) are scanned (final distances),
 * col[low .. up) are at the current minimum distance dmin, waiting, and
 * col[up .. n) are the rest.  Returns 1 when a free column is reached
 * (s->end). */
static int aug_step(ot_assign *s) {
  const int n = s->n;
  int *col = s->col, *y = s->y, *pred = s->pred;
  double *d = s->d;
  const double *v = s->v;
  if (s->up == s->low) {
    /* the next layer: every unscanned column at the minimum distance */
    s->last = s->low - 1;
    int up = s->up, low = s->low;
    double mn = d[col[up++]];
    for (int k = up; k < n; k++) {
      int j = col[k];
      double h = d[j];
      if (h <= mn) {
        if (h < mn) {
          up = low;
          mn = h;
        }
        col[k] = col[up];
        col[up++] = j;
      }
    }
    s->up = up;
    s->dmin = mn;
    for (int k = low; k < up; k++) {
      if (y[col[k]] < 0) {
        s->end = col[k];
        return 1;
      }
    }
  }
  /* scan the row assigned to the next waiting column */
  const int j1 = col[s->low++], i = y[j1];
  const double *row = s->C + (R_xlen_t) i * n;
  const double mn = s->dmin, h = row[j1] - v[j1] - mn;
  int up = s->up;
  for (int k = up; k < n; k++) {
    int j = col[k];
    double v2 = row[j] - v[j] - h;
    if (v2 < d[j]) {
      pred[j] = i;
      if (v2 == mn) {
        if (y[j] < 0) {
          d[j] = v2;
          s->end = j;
          s->up = up;
          return 1;
        }
        col[k] = col[up];
        col[up++] = j;
      }
      d[j] = v2;
    }
  }
  s->up = up;
  return 0;
}

/* after a free column is reached: prices of the scanned columns, then the
 * alternating path flips */
static void aug_finish(ot_assign *s) { flip_path(s, s->last + 1); }

/* The ASSIGN_GROW least row[c] - v[c] over the columns c with
 * hpos[c] == -1 (every column when hpos is NULL), ties to the lower column,
 * into bv / bc; returns how many.  Once ASSIGN_GROW are kept, four columns
 * at a time are tested against the largest kept (SSE2) and only those below
 * it are offered (the same result as offering every column; a NaN entry,
 * which the reduce pass reports as non-finite, is not kept). */
static int row_best(const double *row, const double *v, const int *hpos, int n,
                    double *bv, int *bc) {
  const int K = ASSIGN_GROW;
  int nb = 0, c = 0;
#define BEST_ARC(c_)                                                           \
  do {                                                                         \
    if (hpos && hpos[c_] != -1) break;                                         \
    double h_ = row[c_] - v[c_];                                               \
    if (nb == K && !(h_ < bv[K - 1])) break;                                   \
    kbest_insert(bv, bc, &nb, K, h_, c_);                                      \
  } while (0)
  for (; c < n && nb < K; c++) BEST_ARC(c);
#if defined(__SSE2__)
  {
    __m128d t = _mm_set1_pd(bv[K - 1]);
    for (; c + 4 <= n; c += 4) {
      __m128d h0 = _mm_sub_pd(_mm_loadu_pd(row + c), _mm_loadu_pd(v + c));
      __m128d h1 = _mm_sub_pd(_mm_loadu_pd(row + c + 2), _mm_loadu_pd(v + c + 2));
      if (_mm_movemask_pd(_mm_or_pd(_mm_cmplt_pd(h0, t), _mm_cmplt_pd(h1, t)))) {
        BEST_ARC(c);
        BEST_ARC(c + 1);
        BEST_ARC(c + 2);
        BEST_ARC(c + 3);
        t = _mm_set1_pd(bv[K - 1]);
      }
    }
  }
#endif
  for (; c < n; c++) BEST_ARC(c);
#undef BEST_ARC
  return nb;
}

/* Sparse row r gains its ASSIGN_GROW best arcs (least a - v) that it
 * lacks; when it has no room left it goes dense.  Returns 1 if it changed. */
static int grow_row(ot_assign *s, int r) {
  const int n = s->n;
  const double *row = s->C + (R_xlen_t) r * n;
  double bv[ASSIGN_GROW];
  int bc[ASSIGN_GROW], nb = row_best(row, s->v, NULL, n, bv, bc);
  int changed = 0;
  for (int t = 0; t < nb; t++) {
    int found = 0;
    FOR_ARCS(s, r, c, a, { (void) a; found |= c == bc[t]; });
    if (found) continue;
    if (s->g_n[r] >= s->cap) {
      s->dense[r] = 1;
      return 1;
    }
    s->g_c[(size_t) r * s->cap + s->g_n[r]] = bc[t];
    s->g_a[(size_t) r * s->cap + s->g_n[r]] = row[bc[t]];
    s->g_n[r]++;
    changed = 1;
  }
  return changed;
}

/* After a search from row r exhausted the graph reachable from it (every
 * reached column final, hpos -2): r gains its ASSIGN_GROW best arcs (least
 * a - v) to unreached columns, or goes dense when it has no room. */
static void escape_row(ot_assign *s, int r) {
  const int n = s->n;
  const double *row = s->C + (R_xlen_t) r * n;
  double bv[ASSIGN_GROW];
  int bc[ASSIGN_GROW], nb = row_best(row, s->v, s->hpos, n, bv, bc);
  if (s->g_n[r] + nb > s->cap || nb == 0) {
    s->dense[r] = 1;
    return;
  }
  for (int t = 0; t < nb; t++) {
    s->g_c[(size_t) r * s->cap + s->g_n[r]] = bc[t];
    s->g_a[(size_t) r * s->cap + s->g_n[r]] = row[bc[t]];
    s->g_n[r]++;
  }
}

/* the reduce pass on row r: its dual from C and v; an assigned row more
 * than tol above its minimum is freed (a sparse one gains its best arcs) */
static void reduce_row(ot_assign *s, int r) {
  const int n = s->n;
  const double *row = s->C + (R_xlen_t) r * n;
  double mn = row_min(row, s->v, n, &s->nonfinite);
  int c = s->x[r];
  s->rmin[r] = mn;
  if (c < 0) {
    if (!s->dense[r]) grow_row(s, r);
    s->u[r] = mn;
    s->next_free[s->n_next++] = r;
    return;
  }
  double h = row[c] - s->v[c];
  if (h - mn > tol_of(row[c], s->v[c], mn)) {
    s->x[r] = -1;
    s->y[c] = -1;
    s->u[r] = mn;
    s->next_free[s->n_next++] = r;
    if (!s->dense[r] && grow_row(s, r)) s->n_densified++;
    return;
  }
  s->u[r] = h; /* exact complementary slackness on the assigned arc */
}

/* The quick pass on row r.  Since row r was last read (rmin[r] = its least
 * a(r, c) - v[c] then) every v[c] has only decreased (pass_start checks
 * it), and a - v rounds monotonically, so a(r, c) - v[c] >= rmin[r] for
 * every c: when the row's arc is within tol of rmin[r] the row passes
 * without being read.  Otherwise it is read (reduce_row).  The quick pass
 * only finds rows to free sooner: optimality is still declared by a full
 * pass (a quick pass that frees nothing is followed by one). */
static double check_row(ot_assign *s, int r) {
  int c = s->x[r];
  if (c >= 0) {
    double a = s->C[(R_xlen_t) r * s->n + c], h = a - s->v[c];
    if (h - s->rmin[r] <= tol_of(a, s->v[c], s->rmin[r])) {
      s->u[r] = h;
      return 1.0 / 64;
    }
  }
  reduce_row(s, r);
  return 1;
}

/* the next verify pass: quick when a full pass has read every row since
 * the last (re)start */
static void pass_start(ot_assign *s) {
  s->phase = s->have_chk ? PH_CHECK : PH_REDUCE;
  s->r = 0;
  s->n_next = 0;
  s->n_densified = 0;
}

/* every column dual at most what it was at the end of the last pass (the
 * quick pass's premise; true by construction: augmenting row reduction and
 * the Dijkstra price updates only lower v) */
static int v_decreased(const ot_assign *s) {
  for (int c = 0; c < s->n; c++)
    if (!(s->v[c] <= s->vchk[c])) return 0;
  return 1;
}

int ot_assign_run(ot_assign *s, double budget) {
  const int n = s->n;
  double spent = 0;
  while (s->phase != PH_DONE) {
    if (budget > 0 && spent >= budget) {
      s->work += spent;
      return OT_RUNNING;
    }
    switch (s->phase) {
    case PH_COLRED:
      if (s->sparse && s->r == 0) {
        /* clusters of near-ties larger than any degree: the graph with
         * bounds; else the plain graph (see ASSIGN_PLAIN_CAP) */
        int K = own_degree(s);
#ifdef ASSIGN_DEBUG
        REprintf("own_degree K %d\n", K);
#endif
        s->bounds = K >= ASSIGN_BOUNDS_MIN;
        s->cap = s->bounds ? ROWCAP : ASSIGN_PLAIN_CAP;
        s->deg = K < ASSIGN_OWN_DEG ? ASSIGN_OWN_DEG : K > ASSIGN_OWN_DEGMAX ? ASSIGN_OWN_DEGMAX : K;
        spent += 2 * ASSIGN_SAMPLE_ROWS;
      }
      if (s->sparse && !s->bounds) colred_row_own(s, s->r++);
      else colred_row(s, s->r++);
      spent += 1;
      if (s->r == n) {
        if (s->sparse && !s->bounds) graph_cover(s);
        colred_assign(s);
        s->r = 0;
        s->n_free = 0;
        s->phase = PH_TRANSFER;
      }
      break;
    case PH_TRANSFER:
      /* a sparse row's arcs from its reading with the column minima, then
       * its reduction transfer */
      if (s->sparse && s->bounds) {
        graph_row(s, s->r);
        spent += 1;
      }
      transfer_row(s, s->r++);
      spent += 1;
      if (s->r == n) {
        if (s->sparse && s->bounds) graph_cover(s);
        /* with bounds (clusters larger than the graph): the auction,
         * then the rows it leaves above their minima go on free */
        if (s->sparse && s->bounds) {
          spent += auction(s);
          spent += auction_handover(s);
        }
        s->arr_pass = 0;
        s->arr_k = 0;
        s->arr_prev = s->n_free;
        s->arr_scans = 0;
        s->n_next = 0;
        s->phase = s->n_free > 0 ? PH_ARR : PH_REDUCE;
        s->r = 0;
      }
      break;
    case PH_ARR: {
      /* two passes over the free rows; a pass reads free_rows[arr_k ..
       * arr_prev) and writes the rows it frees for the next pass at
       * free_rows[0 .. n_next) (never ahead of arr_k) */
      if (s->arr_k < s->arr_prev && s->arr_scans < ASSIGN_ARR_SCANS * n) {
        int i = s->free_rows[s->arr_k++], again;
        double extra = 0;
        int i0 = arr_step(s, i, &again, &extra);
        spent += 1 + extra;
        s->arr_scans++;
        if (i0 >= 0) {
          if (again) s->free_rows[--s->arr_k] = i0;
          else s->free_rows[s->n_next++] = i0;
        }
        break;
      }
      /* pass over (or scans used up: the rest stays free) */
      while (s->arr_k < s->arr_prev) s->free_rows[s->n_next++] = s->free_rows[s->arr_k++];
      s->arr_pass++;
      s->n_free = s->n_next;
      s->n_next = 0;
      s->arr_k = 0;
      s->arr_prev = s->n_free;
      if (s->arr_pass >= ASSIGN_ARR_PASSES || s->n_free == 0 || s->arr_scans >= ASSIGN_ARR_SCANS * n) {
        s->f_at = 0;
        if (s->n_free > 0) s->phase = PH_AUG_START;
        else pass_start(s);
      }
      break;
    }
    case PH_AUG_START:
      if (s->f_at == s->n_free) {
        pass_start(s);
        s->after_aug = 1;
        break;
      }
      if (s->sparse) spent += sp_start(s, s->free_rows[s->f_at++]);
      else {
        aug_start(s, s->free_rows[s->f_at++]);
        spent += 1;
      }
      s->phase = PH_AUG_STEP;
      break;
    case PH_AUG_STEP:
      if (s->sparse) {
        double w;
        int st = sp_step(s, &w);
        spent += w + 1.0 / 64;
        if (st == 1) {
          sp_finish(s);
          s->phase = PH_AUG_START;
        } else if (st < 0) {
          /* no free column reachable (a closed cluster of near-tied
           * units): the source and every row the search scanned gain
           * their best arcs out of the reached set (dense when a row has
           * no room), and the search starts again.  Making only the source
           * dense for good cost 308 M instructions on 1000 x 1000 tuned16
           * costs (thousands of dense rescans), this 202 M.  When the
           * source and every scanned row were searched densely already,
           * every arc out of the reached set is infinite or NaN (finite
           * costs always reach a free column): the simplex reports it
           * (searching again looped for ever on a row of +Inf costs) */
          int stuck = s->dense[s->src];
          for (int k = 0; k < s->n_done; k++) stuck &= s->dense[s->y[s->col[k]]];
          if (stuck) {
            s->work += spent;
            return OT_ASSIGN_GAVE_UP;
          }
          escape_row(s, s->src);
          spent += 1;
          for (int k = 0; k < s->n_done; k++) {
            int i = s->y[s->col[k]];
            if (!s->dense[i]) {
              escape_row(s, i);
              spent += 1;
            }
          }
          spent += sp_start(s, s->src);
        }
        break;
      }
      spent += 1;
      if (aug_step(s)) {
        aug_finish(s);
        s->phase = PH_AUG_START;
      }
      break;
    case PH_CHECK:
    case PH_REDUCE:
      if (s->phase == PH_CHECK) {
        if (s->r == 0 && !v_decreased(s)) {
          s->phase = PH_REDUCE; /* (not reached) read every row instead */
          spent += 1;
          break;
        }
        spent += check_row(s, s->r++);
      } else {
        reduce_row(s, s->r++);
        spent += 1;
      }
      if (s->r == n) {
        STAT((st_pass++, st_freed += s->n_next, REprintf("pass %ld%s freed %d densified %d\n", st_pass, s->phase == PH_CHECK ? " quick" : "", s->n_next, s->n_densified)));
        if (s->nonfinite) { /* not a finite problem: the simplex reports it */
          s->work += spent;
          return OT_ASSIGN_GAVE_UP;
        }
        memcpy(s->vchk, s->v, sizeof(double) * (size_t) n);
        if (s->n_next == 0 && s->phase == PH_CHECK) {
          /* every row within its bound: the full pass that certifies */
          s->phase = PH_REDUCE;
          s->r = 0;
          s->n_densified = 0;
          break;
        }
        if (s->phase == PH_REDUCE) s->have_chk = 1;
        if (s->n_next == 0) {
          s->phase = PH_DONE;
          STAT((REprintf("done: passes %ld freed %ld aug %ld scans %ld arr %ld dense %ld\n", st_pass, st_freed, st_aug, st_scan, st_arr, st_dense), REprintf("expansions %ld relax %ld impr %ld\n", st_expand, st_relax, st_impr), st_pass = st_freed = st_aug = st_scan = st_arr = st_dense = st_expand = st_relax = st_impr = 0));
          break;
        }
        if (s->after_aug && s->n_densified == 0 && ++s->repairs > ASSIGN_MAX_REPAIRS) {
          s->work += spent;
          return OT_ASSIGN_GAVE_UP;
        }
        memcpy(s->free_rows, s->next_free, sizeof(int) * (size_t) s->n_next);
        s->n_free = s->n_next;
        s->n_next = 0;
        s->f_at = 0;
#if ASSIGN_ARR_AFTER_REDUCE
        /* the freed rows first try augmenting row reduction (cheap, and
         * most settle there after a warm restart) */
        s->arr_pass = 0;
        s->arr_k = 0;
        s->arr_prev = s->n_free;
        s->arr_scans = 0;
        s->phase = PH_ARR;
#else
        s->phase = PH_AUG_START;
#endif
      }
      break;
    }
  }
  s->work += spent;
  return OT_OPTIMAL;
}

/* The solution, in the orientation of C: rows i = LAP columns, columns j =
 * LAP rows.  perm[j] = row assigned to column j; ui[i] = v[i], vj[j] = u[j]
 * (reduced cost C[i, j] - ui[i] - vj[j]). */
void ot_assign_solution(const ot_assign *s, int *perm, double *ui, double *vj) {
  for (int j = 0; j < s->n; j++) {
    perm[j] = s->x[j];
    vj[j] = s->u[j];
  }
  for (int i = 0; i < s->n; i++) ui[i] = s->v[i];
}
