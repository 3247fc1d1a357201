/* Exact optimal transport by the primal network simplex method.
 *
 * The transportation problem  min <C, F>, F >= 0, F 1 = a, F' 1 = b  is a
 * minimum-cost flow on the complete bipartite graph: nodes 0..n-1 are the
 * rows (supplies a), nodes n..n+m-1 the columns (demands b) and node n+m is
 * an artificial root.  Real arc e = i + j*n goes from row i to column j and
 * costs C[e] (the column-major layout of C, so that pricing reads C in
 * memory order).  Artificial arc E + v joins node v and the root.
 *
 * Invariants (checked by the tests through ot_exact()):
 *  - the basis is a spanning tree of the n + m + 1 nodes; a real arc carries
 *    flow only if it is a tree arc, so a solution has at most n + m - 1
 *    non-zeros (the root keeps at least one artificial arc);
 *  - the tree is strongly feasible: every tree arc with zero flow points
 *    towards the root.  The leaving arc is the last blocking arc met when the
 *    pivot cycle is walked from its apex in the direction of the entering
 *    arc (Cunningham 1976), which keeps the property and rules out cycling on
 *    degenerate problems (integer costs, ties, uniform masses);
 *  - node potentials pi give reduced costs rc(i, j) = C[i,j] + pi[i] - pi[n+j],
 *    zero on tree arcs; at the end pi and the tree flows are recomputed from
 *    the tree alone and pricing is run again, so the reported certificate does
 *    not rest on round-off accumulated over the pivots.
 *
 * The tree is stored with parent / pred arc / direction, and a preorder
 * thread with its reverse, subtree sizes and the last node of each subtree,
 * so that a pivot costs O(cycle + moved subtree) besides pricing.  Pricing is
 * block search (a block of about sqrt(arcs) arcs, the most negative arc of
 * the first block that has one).  On large problems it searches a candidate
 * list first (the few cheapest arcs of every row and column) and prices the
 * whole matrix only when no candidate prices out; that scan adds the
 * CAND_PUSH most negative arcs of every column to the list.  The list is
 * searched by LEMON's "altering candidate list" rule (cand_entering): a few
 * of the most negative arcs seen by the last search stay hot and are priced
 * again first, so the arc that enters is close to the most negative of the
 * list (Dantzig's rule) at the cost of about one block.  Optimality is
 * always declared by a scan of every arc.  On 896 x 3072 correlation costs
 * (bench/ot_families.R, branch simplex17) this took 7.9k pivots on `bench`
 * and 41k on `tuned16` (clusters of near-ties, whose optimum needs many arcs
 * between clusters that the first list lacks), against 12.7k and 72k for
 * plain block search over the list with one arc added per column.  Where
 * the list cannot place a fifth of the mass (such clusters), the first tree
 * is a crash basis (crash_tree(): the matrix-minimum rule, a forest of real
 * arcs carrying all the mass) instead of the star of artificial arcs:
 * tuned16 then takes 23k pivots.  A pivot shifts the potentials of
 * whichever side of the moved subtree is smaller.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "hotalign.h"
#if defined(__x86_64__) && defined(__GNUC__) && !defined(HOTALIGN_NO_AVX2)
#define HOT_SIMPLEX_AVX2 1
#include <immintrin.h>
#endif

struct ot_problem {
  int n, m, N;          /* rows, columns, N = n + m real nodes; root = N */
  R_xlen_t E;           /* real arcs n*m */
  const double *C, *a, *b;
  double art_cost;      /* cost of artificial root -> column arcs */
  double pivots;
  R_xlen_t next_arc;    /* where block search resumes */
  R_xlen_t block;
  int done;
  /* per node (N + 1) */
  int *parent, *thread, *rev, *size, *last;
  R_xlen_t *pred;       /* arc joining the node to its parent */
  unsigned char *up;    /* 1 when pred arc points node -> parent */
  unsigned char *art_up;/* direction of the node's artificial arc */
  double *pi, *flow;    /* potential; flow on pred arc */
  /* scratch for the path reversal (N + 1) */
  int *path, *p_rev, *p_last, *p_next, *p_size;
  /* per arc (E + N + 1): a bit, set when the arc is in the tree (tree_has();
   * a bit, not a byte, so that the 896 x 3072 set is 344 KB and stays in
   * L2: the list search's test of a negative arc was a cache miss into
   * 2.75 MB, ~30% of that search's time on tuned16) */
  uint64_t *in_tree;
  /* candidate list (large problems): arcs priced first, as row node, column
   * node and a copy of the cost; cand_cap == 0 when pricing is dense only */
  R_xlen_t cand_cap, n_cand, cand_next, cand_block;
  int *cand_s, *cand_t;
  double *cand_c;
  int use_cand;         /* 0: dense block search (small, or list full) */
  int cand_kr, cand_kc; /* arcs per row / column in the list */
  /* scratch of the build: per row a max-heap of the CAND_PER_ROW cheapest
   * costs and their columns, and its top; per column its CAND_PER_COL
   * cheapest rows; the row picks grouped by column */
  double *heap_v, *heap_top;
  int *heap_j, *col_best, *row_pick_start, *row_pick;
  double *col_best_c;   /* the costs of col_best (the list's copies: read
                         * from C again they were cache misses) */
  /* the hot list of cand_entering(): n_hot positions in the candidate list,
   * at most hot_len; hot_v / hot_x the scratch of a search (hot_len + 1) */
  int *hot, n_hot, hot_len;
  double *hot_v;
  int *hot_x;
  /* square uniform problems: the assignment solver (ot_assign.c) */
  ot_assign *lap;       /* NULL unless n == m */
  int use_lap;          /* 1: the problem is solved by lap */
  int tree_ready;       /* the simplex tree and candidates are built */
  double lap_work;      /* work of a lap that gave up */
};

static inline int tree_has(const uint64_t *t, R_xlen_t e) {
  return (int) ((t[e >> 6] >> (e & 63)) & 1u);
}
static inline void tree_set(uint64_t *t, R_xlen_t e) { t[e >> 6] |= (uint64_t) 1 << (e & 63); }
static inline void tree_clear(uint64_t *t, R_xlen_t e) { t[e >> 6] &= ~((uint64_t) 1 << (e & 63)); }
static size_t tree_words(R_xlen_t arcs) { return ((size_t) arcs + 63) / 64; }

#define NONE (-1)

static size_t align16(size_t x) { return (x + 15) & ~(size_t) 15; }

/* Candidate pricing.  On large problems the cheapest CAND_PER_ROW arcs of
 * every row and CAND_PER_COL arcs of every column are priced first; the
 * full matrix is priced only when no candidate has a negative reduced cost,
 * and the arcs that price out there join the list.  Optimality is still
 * declared by a scan of every arc, so the rule changes the path, not the
 * end: any entering arc with a negative reduced cost keeps the tree strongly
 * feasible. */
#define CAND_PER_ROW 4
#define CAND_PER_COL 16
#define CAND_EXTRA 16    /* room per node for arcs added by full scans */
#define CAND_PUSH 4      /* arcs per column a full scan adds (its most negative) */
#define CAND_MIN_ARCS 65536
/* The hot list of cand_entering(): HOT_DIV-th of a block, at least HOT_MIN */
#define HOT_DIV 20
#define HOT_MIN 3

static size_t cand_capacity(int n, int m, int kr, int kc) {
  size_t E = (size_t) n * (size_t) m;
  if (E < CAND_MIN_ARCS || n < 2 * kc || m < 2 * kr) return 0;
  return (size_t) n * kr + (size_t) m * kc + (size_t) (n + m) * CAND_EXTRA;
}

/* Room for the candidate list and its build (the assignment solver of
 * square uniform problems builds its own search graph and needs none;
 * the list is built only if it falls back to the simplex).  Monotone in n
 * and m, as is ot_workspace_bytes(): callers size one workspace for the
 * largest n and m and solve smaller problems of any shape in it. */
static size_t list_room(int n, int m) {
  size_t E = (size_t) n * (size_t) m;
  if (E < CAND_MIN_ARCS) return 0;
  return (size_t) n * CAND_PER_ROW + (size_t) m * CAND_PER_COL +
         (size_t) (n + m) * CAND_EXTRA;
}

/* the block of the list's search: about sqrt(arcs listed), at least 10 */
static R_xlen_t list_block(R_xlen_t listed) {
  double bs = sqrt((double) listed);
  return bs < 10 ? 10 : (R_xlen_t) bs;
}

/* arcs kept hot by cand_entering() for a block of `block` arcs */
static int hot_length(R_xlen_t block) {
  R_xlen_t h = block / HOT_DIV;
  return h < HOT_MIN ? HOT_MIN : (int) h;
}

size_t ot_workspace_bytes(int n, int m) {
  size_t N1 = (size_t) n + (size_t) m + 1;
  size_t E = (size_t) n * (size_t) m;
  size_t bytes = align16(sizeof(ot_problem));
  bytes += 10 * align16(N1 * sizeof(int));        /* 5 tree + 5 scratch */
  bytes += align16(N1 * sizeof(R_xlen_t));
  bytes += 2 * align16(N1);                       /* up, art_up */
  bytes += 2 * align16(N1 * sizeof(double));      /* pi, flow */
  bytes += align16(tree_words((R_xlen_t) (E + N1)) * sizeof(uint64_t)); /* in_tree */
  size_t cap = list_room(n, m);
  if (cap > 0) {
    bytes += 2 * align16(cap * sizeof(int)) + align16(cap * sizeof(double));
    /* scratch of the build: row heaps and tops, column picks, row picks */
    bytes += align16((size_t) n * CAND_PER_ROW * sizeof(double));
    bytes += 2 * align16((size_t) n * CAND_PER_ROW * sizeof(int));
    bytes += align16((size_t) n * sizeof(double));
    bytes += align16((size_t) m * CAND_PER_COL * sizeof(int));
    bytes += align16((size_t) m * CAND_PER_COL * sizeof(double));
    bytes += align16(((size_t) m + 1) * sizeof(int));
    /* the hot list and its scratch, for the longest list */
    size_t hot = (size_t) hot_length(list_block((R_xlen_t) cap)) + 1;
    bytes += 2 * align16(hot * sizeof(int)) + align16(hot * sizeof(double));
  }
  /* the assignment solver of any square problem that fits */
  bytes += align16(ot_assign_bytes(n < m ? n : m));
  return bytes;
}

static void *carve(char **cursor, size_t bytes) {
  void *p = *cursor;
  *cursor += align16(bytes);
  return p;
}

/* endpoints and cost of an arc */
static inline int arc_src(const ot_problem *p, R_xlen_t e) {
  if (e < p->E) return (int) (e % p->n);
  int v = (int) (e - p->E);
  return p->art_up[v] ? v : p->N;
}
static inline int arc_tgt(const ot_problem *p, R_xlen_t e) {
  if (e < p->E) return p->n + (int) (e / p->n);
  int v = (int) (e - p->E);
  return p->art_up[v] ? p->N : v;
}
static inline double arc_cost(const ot_problem *p, R_xlen_t e) {
  if (e < p->E) return p->C[e];
  return p->art_up[e - p->E] ? 0.0 : p->art_cost;
}

/* max |C| over the non-NaN costs: the magnitude of the input check's scan
 * (values_finite(), standardise.c, AVX2 where there is one) */
static double max_abs_cost(const double *C, R_xlen_t E) {
  double big = 0;
  (void) values_finite(C, E, &big);
  return big;
}

/* potentials from the tree alone, in preorder: rc = 0 on every tree arc */
static void tree_potentials(ot_problem *p) {
  const int N = p->N;
  p->pi[N] = 0;
  for (int x = p->thread[N]; x != N; x = p->thread[x]) {
    double c = arc_cost(p, p->pred[x]);
    int par = p->parent[x];
    p->pi[x] = p->up[x] ? p->pi[par] - c : p->pi[par] + c;
  }
}

/* tree flows from the masses alone: each pred arc carries the balance of
 * its subtree (reverse preorder) */
static void tree_flows(ot_problem *p) {
  const int N = p->N, n = p->n;
  double *bal = p->flow; /* reuse: flow[x] becomes the arc flow */
  for (int x = 0; x < N; x++) bal[x] = x < n ? p->a[x] : -p->b[x - n];
  bal[N] = 0;
  for (int x = p->rev[N]; x != N; x = p->rev[x]) {
    double excess = bal[x];
    bal[p->parent[x]] += excess;
    bal[x] = p->up[x] ? excess : -excess;
  }
}

/* The initial tree: every node hangs from the root by its artificial arc.
 * Nodes with supply >= 0 point up (cost 0), demand nodes are fed from the
 * root (cost art_cost); all zero-flow arcs point up: strongly feasible. */
static void build_initial_tree(ot_problem *p) {
  int N = p->N, n = p->n;
  double cmax = max_abs_cost(p->C, p->E);
  /* A unit routed row -> root -> column costs art_cost; any real path is
   * cheaper once art_cost exceeds the spread of C, so no artificial flow
   * survives at the optimum of a balanced problem. */
  p->art_cost = cmax > 0 ? 3 * cmax : 1;
  for (int v = 0; v < N; v++) {
    double supply = v < n ? p->a[v] : -p->b[v - n];
    p->parent[v] = N;
    p->pred[v] = p->E + v;
    p->size[v] = 1;
    p->last[v] = v;
    p->thread[v] = v + 1;
    p->rev[v] = v == 0 ? N : v - 1;
    if (supply >= 0) {
      p->art_up[v] = 1;
      p->up[v] = 1;
      p->flow[v] = supply;
      p->pi[v] = 0;
    } else {
      p->art_up[v] = 0;
      p->up[v] = 0;
      p->flow[v] = -supply;
      p->pi[v] = p->art_cost;
    }
  }
  p->parent[N] = NONE;
  p->pred[N] = NONE;
  p->size[N] = N + 1;
  p->last[N] = N - 1;
  p->thread[N] = 0;
  p->rev[N] = N - 1;
  p->thread[N - 1] = N;
  p->pi[N] = 0;
  p->flow[N] = 0;
  p->up[N] = 0;
  memset(p->in_tree, 0, tree_words(p->E + N + 1) * sizeof(uint64_t));
  for (int v = 0; v <= N; v++) tree_set(p->in_tree, p->E + v);
}

/* sift the new root of a max-heap of k (value, column) pairs down */
static void heap_down(double *hv, int *hj, int k) {
  int r = 0;
  for (;;) {
    int c = 2 * r + 1;
    if (c >= k) break;
    if (c + 1 < k && hv[c + 1] > hv[c]) c++;
    if (hv[c] <= hv[r]) break;
    double tv = hv[r]; hv[r] = hv[c]; hv[c] = tv;
    int tj = hj[r]; hj[r] = hj[c]; hj[c] = tj;
    r = c;
  }
}

static void cand_push_cost(ot_problem *p, int i, int j, double c) {
  R_xlen_t k = p->n_cand++;
  p->cand_s[k] = i;
  p->cand_t[k] = p->n + j;
  p->cand_c[k] = c;
}
static void cand_push(ot_problem *p, int i, int j) {
  cand_push_cost(p, i, j, p->C[(R_xlen_t) j * p->n + i]);
}

/* row r's heap of its KR cheapest (a max-heap, top[r] its largest) takes
 * cost c of column j in place of its largest */
static inline void row_heap_take(double *hv, int *hj, double *top, int KR, int r, int j,
                                 double c) {
  double *h = hv + (size_t) r * KR;
  h[0] = c;
  hj[(size_t) r * KR] = j;
  heap_down(h, hj + (size_t) r * KR, KR);
  top[r] = h[0];
}

/* column_cheapest()'s collection from entry i on: the entries at or below
 * the bound offered, in order, to the KC cheapest kept (colv, ci) */
static void column_collect(const double *c, int i, int n, double bound, double *colv,
                           int *ci, int *kept, const int KC) {
  for (; i < n; i++) {
    const double v = c[i];
    if (v > bound || (*kept == KC && v >= colv[KC - 1])) continue;
    kbest_insert(colv, ci, kept, KC, v, i);
  }
}

#ifdef HOT_SIMPLEX_AVX2
/* column_cheapest() and the row heaps' step of build_candidates() in AVX2,
 * with their results: a block minimum is a minimum whatever the order
 * (finite costs), and the scalar tests run, in order, on the lanes the
 * vector compare lets through, which are the only ones where they can
 * succeed (the bound of column_cheapest() is fixed; each row's top is its
 * own lane).  The build read C at ~1/5 of a full scan's speed (8% of a
 * tuned16 896 x 3072 solve). */
__attribute__((target("avx2")))
static void column_cheapest_avx2(const double *c, int n, int *ci, double *cv, const int KC) {
  double bound = -HUGE_VAL, colv[CAND_PER_COL];
  for (int b = 0; b < KC; b++) {
    int lo = (int) ((R_xlen_t) b * n / KC), hi = (int) ((R_xlen_t) (b + 1) * n / KC), i = lo;
    __m256d m = _mm256_set1_pd(HUGE_VAL);
    for (; i + 4 <= hi; i += 4) m = _mm256_min_pd(_mm256_loadu_pd(c + i), m);
    double t[4];
    _mm256_storeu_pd(t, m);
    double low = t[0];
    for (int k = 1; k < 4; k++) low = t[k] < low ? t[k] : low;
    for (; i < hi; i++) low = c[i] < low ? c[i] : low;
    if (low > bound) bound = low;
  }
  int kept = 0, i = 0;
  const __m256d tb = _mm256_set1_pd(bound);
  for (; i + 4 <= n; i += 4) {
    unsigned msk = (unsigned) _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(c + i), tb, _CMP_LE_OQ));
    while (msk) {
      const int r = i + __builtin_ctz(msk);
      msk &= msk - 1;
      column_collect(c, r, r + 1, bound, colv, ci, &kept, KC);
    }
  }
  column_collect(c, i, n, bound, colv, ci, &kept, KC);
  memcpy(cv, colv, sizeof(double) * (size_t) KC);
}
__attribute__((target("avx2")))
static void row_heaps_avx2(const double *c, int n, int j, int KR, double *top, double *hv,
                           int *hj) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    unsigned msk = (unsigned) _mm256_movemask_pd(
        _mm256_cmp_pd(_mm256_loadu_pd(c + i), _mm256_loadu_pd(top + i), _CMP_LT_OQ));
    while (msk) {
      const int r = i + __builtin_ctz(msk);
      msk &= msk - 1;
      row_heap_take(hv, hj, top, KR, r, j, c[r]);
    }
  }
  for (; i < n; i++)
    if (c[i] < top[i]) row_heap_take(hv, hj, top, KR, i, j, c[i]);
}
#endif

/* The CAND_PER_COL cheapest entries of a column c of length n >=
 * CAND_PER_COL, as rows in ci and their costs in cv, ties to the lower
 * row.  The largest of the minima of CAND_PER_COL blocks bounds the
 * CAND_PER_COL-th smallest from above, so only the few entries at or below
 * it are sorted (by insertion). */
static void column_cheapest(const double *c, int n, int *ci, double *cv, const int KC) {
  double bound = -HUGE_VAL, colv[CAND_PER_COL];
  for (int b = 0; b < KC; b++) {
    int lo = (int) ((R_xlen_t) b * n / KC), hi = (int) ((R_xlen_t) (b + 1) * n / KC);
    double l0 = HUGE_VAL, l1 = HUGE_VAL, l2 = HUGE_VAL, l3 = HUGE_VAL;
    int i = lo;
    for (; i + 4 <= hi; i += 4) {
      l0 = c[i] < l0 ? c[i] : l0;
      l1 = c[i + 1] < l1 ? c[i + 1] : l1;
      l2 = c[i + 2] < l2 ? c[i + 2] : l2;
      l3 = c[i + 3] < l3 ? c[i + 3] : l3;
    }
    for (; i < hi; i++) l0 = c[i] < l0 ? c[i] : l0;
    double low = l0 < l1 ? l0 : l1, low2 = l2 < l3 ? l2 : l3;
    if (low2 < low) low = low2;
    if (low > bound) bound = low;
  }
  int kept = 0;
  column_collect(c, 0, n, bound, colv, ci, &kept, KC);
  memcpy(cv, colv, sizeof(double) * (size_t) KC);
}

/* The candidate list, in column order: for each column its CAND_PER_COL
 * cheapest arcs, then the arcs of that column that are among the
 * CAND_PER_ROW cheapest of their row (a max-heap per row, filled while the
 * columns are read in memory order), each arc once.  Ties go to the lower
 * index, so the list depends on C alone. */
static void build_candidates(ot_problem *p) {
  p->n_cand = 0;
  p->cand_next = 0;
  p->use_cand = p->cand_cap > 0;
  if (!p->use_cand) return;
  const int n = p->n, m = p->m, KR = p->cand_kr, KC = p->cand_kc;
  double *hv = p->heap_v, *top = p->heap_top;
  int *hj = p->heap_j, *col_i = p->col_best;
  for (int i = 0; i < n; i++) {
    top[i] = HUGE_VAL;
    for (int x = 0; x < KR; x++) {
      hv[(size_t) i * KR + x] = HUGE_VAL;
      hj[(size_t) i * KR + x] = -1;
    }
  }
#ifdef HOT_SIMPLEX_AVX2
  if (cpu_has_avx2()) {
    for (int j = 0; j < m; j++) {
      const double *c = p->C + (R_xlen_t) j * n;
      row_heaps_avx2(c, n, j, KR, top, hv, hj);
      column_cheapest_avx2(c, n, col_i + (size_t) j * KC, p->col_best_c + (size_t) j * KC, KC);
    }
  } else
#endif
  for (int j = 0; j < m; j++) {
    const double *c = p->C + (R_xlen_t) j * n;
    for (int i = 0; i < n; i++)
      if (c[i] < top[i]) row_heap_take(hv, hj, top, KR, i, j, c[i]); /* its largest out */
    column_cheapest(c, n, col_i + (size_t) j * KC, p->col_best_c + (size_t) j * KC, KC);
  }
  /* the row picks grouped by column (counting sort), then the list */
  int *start = p->row_pick_start, *pick = p->row_pick;
  memset(start, 0, sizeof(int) * ((size_t) m + 1));
  for (size_t x = 0; x < (size_t) n * KR; x++) start[hj[x] + 1]++;
  for (int j = 0; j < m; j++) start[j + 1] += start[j];
  for (int i = 0; i < n; i++)
    for (int x = 0; x < KR; x++) pick[start[hj[(size_t) i * KR + x]]++] = i;
  for (int j = m; j > 0; j--) start[j] = start[j - 1];
  start[0] = 0;
  for (int j = 0; j < m; j++) {
    const int *ci = col_i + (size_t) j * KC;
    const double *cv = p->col_best_c + (size_t) j * KC;
    for (int x = 0; x < KC; x++) cand_push_cost(p, ci[x], j, cv[x]);
    for (int y = start[j]; y < start[j + 1]; y++) {
      int i = pick[y], dup = 0;
      for (int x = 0; x < KC; x++) dup |= ci[x] == i;
      if (!dup) cand_push(p, i, j);
    }
  }
  p->cand_block = list_block(p->n_cand);
  p->hot_len = hot_length(p->cand_block);
  p->n_hot = 0;
}

/* The crash basis of large problems.  The star of build_initial_tree()
 * starts all the mass on artificial arcs, and thousands of pivots do little
 * more than move it onto real arcs.  crash_tree() starts instead from a
 * feasible tree of real arcs, built by the matrix-minimum rule on the
 * candidate list: its arcs in increasing cost (CRASH_BUCKETS buckets of the
 * list's cost range, list order within a bucket), each sending the smaller
 * of its row's and its column's remaining mass, which retires that row or
 * column (both when the two agree to CRASH_TIE of the largest mass).  The
 * mass the list cannot place (no listed arc joins a row and a column that
 * both have mass left) is placed by the same rule from C.  On tuned16 896 x 3072 this
 * took the solve from 41.5k pivots to 23.0k (bench/RESULTS.md, branch
 * crash20).
 *
 * Invariants:
 *  - every arc retires an endpoint that takes no later arc, so the arcs are
 *    a forest (the first arc of a cycle would have retired a node that
 *    takes a later arc of it);
 *  - each component hangs from the root by the artificial arc of its first
 *    node, and the flows are the tree's own (tree_flows(), from the masses,
 *    as at the end of a solve), so the basis is exact whatever the greedy's
 *    round-off; the artificial arc carries the component's imbalance (zero
 *    when the masses balance) and points up unless the component lacks
 *    mass, which the root then feeds at art_cost;
 *  - the tree is strongly feasible: a real arc has positive flow or points
 *    up, else crash_tree() gives up;
 *  - nothing of cost NaN is placed (ffi_ot_sequence() passes NaN costs,
 *    which the simplex never enters).
 * It gives up, and the caller takes the star, in three cases:
 *  - when the list places more than 1 - CRASH_MIN_LEFT of the mass.  The
 *    list is then good enough for the star's pivots to find the optimum
 *    fast (about 2 (n + m) of them on bench's families at 896 x 3072),
 *    while the crash's tree, one deep component where the star keeps many
 *    shallow ones, made every pivot 2-3x dearer: 1.4-1.7x slower solves
 *    where the list left 2-9% of the mass, up to 1.2x at 19%; from 20% on
 *    (clusters of near-ties: tuned16 20-59%) it took fewer pivots on all
 *    13 costs tried and was faster on 12 (8% slower on one);
 *  - when mass is left over (the star's end reports an unbalanced problem
 *    as before);
 *  - when the pass over C would read more than CRASH_READS n m costs. */
#define CRASH_BUCKETS 4096
#define CRASH_TIE 1e-13
#define CRASH_READS 2 /* the pass over C reads at most 2 n m costs */
#define CRASH_KEEP 8  /* rows a column keeps in that pass */
#define CRASH_MIN_LEFT 0.2 /* the share of the mass the list must leave */

/* send from row i to column node jn the smaller of what the two have left */
static void crash_send(double *res, int i, int jn, double tie) {
  double ri = res[i], rj = res[jn];
  if (fabs(ri - rj) <= tie) {
    res[i] = res[jn] = 0;
  } else if (ri < rj) {
    res[i] = 0;
    res[jn] = rj - ri;
  } else {
    res[jn] = 0;
    res[i] = ri - rj;
  }
}

/* sift the top of a min-heap of column slots (keys key[slot], ties to the
 * lower slot) down */
static void crash_sift(int *heap, int nh, const double *key) {
  int x = 0, y = heap[0];
  for (;;) {
    int c = 2 * x + 1;
    if (c >= nh) break;
    if (c + 1 < nh && (key[heap[c + 1]] < key[heap[c]] ||
                       (key[heap[c + 1]] == key[heap[c]] && heap[c + 1] < heap[c])))
      c++;
    if (key[heap[c]] < key[y] || (key[heap[c]] == key[y] && heap[c] < y)) {
      heap[x] = heap[c];
      x = c;
    } else {
      break;
    }
  }
  heap[x] = y;
}

/* the bucket of cost c (NaN: the last) */
static inline int crash_bucket(double c, double lo, double scale) {
  double x = (c - lo) * scale;
  return x >= 0 && x < CRASH_BUCKETS ? (int) x : CRASH_BUCKETS - 1;
}

/* The scratch of crash_tree(), all of it free while the first tree is built:
 * the remaining masses in pi; the forest's arcs as row (path) and column
 * node (p_rev); the buckets' order and counts, the heap's columns and their
 * kept rows, then the forest's adjacency, in the free room of the list. */
typedef struct {
  double *res, tie;
  int *arc_i, *arc_j, n_arc;
  int *order, *count;
} crash_work;

static void crash_arc(crash_work *w, int i, int jn) {
  w->arc_i[w->n_arc] = i;
  w->arc_j[w->n_arc++] = jn;
  crash_send(w->res, i, jn, w->tie);
}

/* 1. the list's arcs in increasing cost, by bucket */
static void crash_list_pass(const ot_problem *p, crash_work *w) {
  const R_xlen_t L = p->n_cand;
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (R_xlen_t k = 0; k < L; k++) {
    double c = p->cand_c[k];
    if (c < lo) lo = c;
    if (c > hi) hi = c;
  }
  double scale = hi > lo ? (CRASH_BUCKETS - 1) / (hi - lo) : 0;
  if (!isfinite(scale)) scale = 0;
  int *count = w->count, *order = w->order;
  memset(count, 0, sizeof(int) * (CRASH_BUCKETS + 1));
  for (R_xlen_t k = 0; k < L; k++) count[1 + crash_bucket(p->cand_c[k], lo, scale)]++;
  for (int b = 0; b < CRASH_BUCKETS; b++) count[b + 1] += count[b];
  for (R_xlen_t k = 0; k < L; k++) order[count[crash_bucket(p->cand_c[k], lo, scale)]++] = (int) k;
  for (R_xlen_t x = 0; x < L; x++) {
    int k = order[x], i = p->cand_s[k], jn = p->cand_t[k];
    if (w->res[i] <= 0 || w->res[jn] <= 0 || isnan(p->cand_c[k])) continue;
    crash_arc(w, i, jn);
  }
}

/* 2. the matrix-minimum rule on the nr rows left_r and nc columns left_c
 * that still have mass: a heap of the columns by the cost of their
 * cheapest remaining row.  A column keeps its CRASH_KEEP cheapest remaining
 * rows, sorted, and reads C again only when all of them have retired (rows
 * retire, none come back, so the first kept row that has not is the
 * column's cheapest); a key is a lower bound of its column's cheapest until
 * it is refreshed at the top, so the top is the cheapest pair.  0 when it
 * would read more than CRASH_READS n m costs, or a column has only NaN
 * costs left. */
static int crash_rest_pass(ot_problem *p, crash_work *w, int *left_r, int nr,
                           const int *left_c, int nc) {
  const int n = p->n, K = CRASH_KEEP;
  const R_xlen_t L = p->n_cand;
  double *res = w->res;
  int *at = p->size; /* a row's place in left_r (size is set after) */
  for (int x = 0; x < nr; x++) at[left_r[x]] = x;
  int *heap = w->order, *kept = w->count, *head = kept + (size_t) K * nc, *len = head + nc;
  double *kept_c = p->cand_c + L, *key = kept_c + (size_t) K * nc;
  for (int y = 0; y < nc; y++) {
    head[y] = len[y] = 0;
    key[y] = -HUGE_VAL;
    heap[y] = y;
  }
  int nh = nc;
  double read = 0; /* costs read */
  while (nr > 0 && nh > 0) {
    int y = heap[0], jn = left_c[y];
    if (res[jn] <= 0) { /* retired: out of the heap */
      heap[0] = heap[--nh];
      crash_sift(heap, nh, key);
      continue;
    }
    int *ky = kept + (size_t) K * y;
    double *cy = kept_c + (size_t) K * y;
    while (head[y] < len[y] && res[ky[head[y]]] <= 0) head[y]++;
    if (head[y] == len[y]) {
      if ((read += nr) > CRASH_READS * (double) p->E) return 0;
      const double *c = p->C + (R_xlen_t) (jn - n) * n;
      int k = 0;
      for (int x = 0; x < nr; x++) {
        double cx = c[left_r[x]];
        if (isnan(cx) || (k == K && !(cx < cy[K - 1]))) continue;
        int z = k < K ? k++ : K - 1; /* insertion, ties to the earlier */
        for (; z > 0 && cx < cy[z - 1]; z--) {
          cy[z] = cy[z - 1];
          ky[z] = ky[z - 1];
        }
        cy[z] = cx;
        ky[z] = left_r[x];
      }
      if (k == 0) return 0;
      head[y] = 0;
      len[y] = k;
    }
    if (key[y] != cy[head[y]]) {
      key[y] = cy[head[y]];
      crash_sift(heap, nh, key);
      continue;
    }
    int i = ky[head[y]];
    crash_arc(w, i, jn);
    if (res[i] <= 0) { /* out of the rows left, by its place */
      int x = at[i];
      left_r[x] = left_r[--nr];
      at[left_r[x]] = x;
    }
  }
  return 1;
}

/* 3. the tree of the forest's arcs: each component hangs from the root by
 * the artificial arc of its first node, depth first (a node's subtree is
 * contiguous in the order of the pops: a preorder); sizes and subtree ends
 * in reverse preorder; the tree's flows, a component that lacks mass fed
 * from the root; potentials.  0 when a real arc would have zero flow
 * pointing down (not strongly feasible: round-off on a tiny mass). */
static int crash_hang(ot_problem *p, const crash_work *w) {
  const int n = p->n, N = p->N, n_arc = w->n_arc;
  const int *arc_i = w->arc_i, *arc_j = w->arc_j;
  /* the forest's adjacency (CSR: starts in p_last, arcs in the list's room) */
  int *start = p->p_last, *adj = w->count;
  memset(start, 0, sizeof(int) * ((size_t) N + 1));
  for (int k = 0; k < n_arc; k++) {
    start[arc_i[k] + 1]++;
    start[arc_j[k] + 1]++;
  }
  for (int v = 0; v < N; v++) start[v + 1] += start[v];
  for (int k = 0; k < n_arc; k++) {
    adj[start[arc_i[k]]++] = k;
    adj[start[arc_j[k]]++] = k;
  }
  for (int v = N; v > 0; v--) start[v] = start[v - 1];
  start[0] = 0;

  int *parent = p->parent, *stack = p->p_next, prev = N;
  for (int v = 0; v < N; v++) parent[v] = -2;
  for (int v0 = 0; v0 < N; v0++) {
    if (parent[v0] != -2) continue;
    parent[v0] = N;
    p->pred[v0] = p->E + v0;
    p->up[v0] = p->art_up[v0] = 1; /* until its component's balance is known */
    int top = 0;
    stack[top++] = v0;
    while (top > 0) {
      int v = stack[--top];
      p->thread[prev] = v;
      p->rev[v] = prev;
      prev = v;
      for (int x = start[v]; x < start[v + 1]; x++) {
        int k = adj[x], u = arc_i[k] == v ? arc_j[k] : arc_i[k];
        if (parent[u] != -2) continue;
        parent[u] = v;
        p->pred[u] = arc_i[k] + (R_xlen_t) (arc_j[k] - n) * n;
        p->up[u] = u < n; /* the arc points row -> column */
        stack[top++] = u;
      }
    }
  }
  p->thread[prev] = N;
  p->rev[N] = prev;
  parent[N] = NONE;
  p->pred[N] = NONE;
  p->up[N] = 0;

  for (int v = 0; v <= N; v++) {
    p->size[v] = 1;
    p->last[v] = v;
  }
  for (int x = p->rev[N]; x != N; x = p->rev[x]) {
    int par = parent[x];
    p->size[par] += p->size[x];
    if (p->last[par] == par) p->last[par] = p->last[x];
  }
  tree_flows(p);
  int fed = 0;
  for (int v = 0; v < N; v++) {
    if (parent[v] == N && p->flow[v] < 0) {
      p->up[v] = p->art_up[v] = 0;
      p->flow[v] = -p->flow[v];
      fed = 1;
    } else if (parent[v] != N && !(p->flow[v] > 0) && !(p->flow[v] == 0 && p->up[v])) {
      return 0;
    }
  }
  /* the star's artificial cost, needed only when an arc from the root is in
   * the tree (ot_restart() raises it to 3 max |C| before any later solve) */
  p->art_cost = 0;
  if (fed) {
    double cmax = max_abs_cost(p->C, p->E);
    p->art_cost = cmax > 0 ? 3 * cmax : 1;
  }
  tree_potentials(p);
  memset(p->in_tree, 0, tree_words(p->E + N + 1) * sizeof(uint64_t));
  for (int v = 0; v < N; v++) tree_set(p->in_tree, p->pred[v]);
  tree_set(p->in_tree, p->E + N);
  return 1;
}

static int crash_tree(ot_problem *p) {
  const int n = p->n, N = p->N;
  const R_xlen_t L = p->n_cand, room = p->cand_cap - p->n_cand;
  if (!p->use_cand || L == 0 || room < L || room < CRASH_BUCKETS + 1 ||
      room < 2 * (R_xlen_t) N || room < (CRASH_KEEP + 2) * (R_xlen_t) p->m)
    return 0;
  crash_work w = {p->pi, 0, p->path, p->p_rev, 0, p->cand_s + L, p->cand_t + L};
  double big = 0, mass = 0;
  for (int v = 0; v < N; v++) {
    w.res[v] = v < n ? p->a[v] : p->b[v - n];
    if (w.res[v] > big) big = w.res[v];
    if (v < n) mass += w.res[v];
  }
  w.tie = CRASH_TIE * big;
  crash_list_pass(p, &w);
  /* what the list left, if it is enough for the crash to pay */
  int *left_r = p->p_size, *left_c = p->p_next, nr = 0, nc = 0;
  double left = 0;
  for (int v = 0; v < N; v++) {
    if (!(w.res[v] > 0)) continue;
    if (v < n) {
      left_r[nr++] = v;
      left += w.res[v];
    } else {
      left_c[nc++] = v;
    }
  }
  if (!(left >= CRASH_MIN_LEFT * mass)) return 0;
  if (nr > 0 && nc > 0 && !crash_rest_pass(p, &w, left_r, nr, left_c, nc)) return 0;
  for (int v = 0; v < N; v++)
    if (w.res[v] > w.tie) return 0; /* unbalanced: the star reports it */
  return crash_hang(p, &w);
}

/* the first tree of the simplex: the crash basis where there is a list,
 * the star otherwise */
static void start_tree(ot_problem *p) {
  build_candidates(p);
  if (!crash_tree(p)) build_initial_tree(p);
}

/* The assignment solver searches a sparse graph first (it builds it
 * itself, from C, in its column reduction: no candidate list here) and
 * falls back to whole rows of C only where its certificate pass finds a
 * better arc outside; small problems are searched densely. */
static void lap_graph(ot_problem *p) {
  p->n_cand = 0;
  p->use_cand = 0;
  if ((size_t) p->n * (size_t) p->m < OT_ASSIGN_GRAPH_MIN_ARCS) ot_assign_dense_graph(p->lap);
  else ot_assign_own_graph(p->lap);
}

ot_problem *ot_init(void *work, int n, int m, const double *C, const double *a,
                    const double *b) {
  char *cur = (char *) work;
  ot_problem *p = carve(&cur, sizeof(ot_problem));
  size_t N1 = (size_t) n + (size_t) m + 1;
  p->n = n;
  p->m = m;
  p->N = n + m;
  p->E = (R_xlen_t) n * m;
  p->C = C;
  p->a = a;
  p->b = b;
  p->parent = carve(&cur, N1 * sizeof(int));
  p->thread = carve(&cur, N1 * sizeof(int));
  p->rev = carve(&cur, N1 * sizeof(int));
  p->size = carve(&cur, N1 * sizeof(int));
  p->last = carve(&cur, N1 * sizeof(int));
  p->path = carve(&cur, N1 * sizeof(int));
  p->p_rev = carve(&cur, N1 * sizeof(int));
  p->p_last = carve(&cur, N1 * sizeof(int));
  p->p_next = carve(&cur, N1 * sizeof(int));
  p->p_size = carve(&cur, N1 * sizeof(int));
  p->pred = carve(&cur, N1 * sizeof(R_xlen_t));
  p->up = carve(&cur, N1);
  p->art_up = carve(&cur, N1);
  p->pi = carve(&cur, N1 * sizeof(double));
  p->flow = carve(&cur, N1 * sizeof(double));
  p->in_tree = carve(&cur, tree_words(p->E + (R_xlen_t) N1) * sizeof(uint64_t));
  const int kr = CAND_PER_ROW, kc = CAND_PER_COL; /* the room of the build */
  p->cand_cap = (R_xlen_t) list_room(n, m);
  p->cand_kr = CAND_PER_ROW;
  p->cand_kc = CAND_PER_COL;
  if (p->cand_cap > 0) {
    p->cand_s = carve(&cur, (size_t) p->cand_cap * sizeof(int));
    p->cand_t = carve(&cur, (size_t) p->cand_cap * sizeof(int));
    p->cand_c = carve(&cur, (size_t) p->cand_cap * sizeof(double));
    p->heap_v = carve(&cur, (size_t) n * kr * sizeof(double));
    p->heap_j = carve(&cur, (size_t) n * kr * sizeof(int));
    p->heap_top = carve(&cur, (size_t) n * sizeof(double));
    p->col_best = carve(&cur, (size_t) m * kc * sizeof(int));
    p->col_best_c = carve(&cur, (size_t) m * kc * sizeof(double));
    p->row_pick_start = carve(&cur, ((size_t) m + 1) * sizeof(int));
    p->row_pick = carve(&cur, (size_t) n * kr * sizeof(int));
    size_t hot = (size_t) hot_length(list_block(p->cand_cap)) + 1;
    p->hot = carve(&cur, hot * sizeof(int));
    p->hot_x = carve(&cur, hot * sizeof(int));
    p->hot_v = carve(&cur, hot * sizeof(double));
  }
  p->n_hot = 0;
  p->hot_len = 0;

  p->pivots = 0;
  p->next_arc = 0;
  double bs = sqrt((double) p->E);
  p->block = bs < 10 ? 10 : (R_xlen_t) bs;
  if (p->block > p->E) p->block = p->E;
  p->done = 0;
  p->lap = NULL;
  p->use_lap = 0;
  p->lap_work = 0;
  p->tree_ready = 0;
  if (n == m) {
    p->lap = ot_assign_init(carve(&cur, ot_assign_bytes(n)), n, C);
    /* equal masses everywhere: the vertices are the permutations (times
     * the mass), and the assignment solver applies */
    int uniform = a[0] > 0;
    for (int i = 1; i < n && uniform; i++) uniform = a[i] == a[0];
    for (int j = 0; j < m && uniform; j++) uniform = b[j] == a[0];
    p->use_lap = uniform;
  }
  if (!p->use_lap) {
    p->cand_cap = (R_xlen_t) cand_capacity(n, m, CAND_PER_ROW, CAND_PER_COL);
    start_tree(p);
    p->tree_ready = 1;
  } else {
    /* the simplex's tree and list only if the solver falls back to it
     * (simplex_cold) */
    lap_graph(p);
  }
  return p;
}

double ot_pivots(const ot_problem *p) {
  return p->pivots + p->lap_work + (p->use_lap ? ot_assign_work(p->lap) : 0);
}

/* leave the assignment solver: the simplex from its initial tree */
static void simplex_cold(ot_problem *p) {
  if (p->use_lap) p->lap_work = ot_assign_work(p->lap);
  p->use_lap = 0;
  p->done = 0;
  p->next_arc = 0;
  p->cand_kr = CAND_PER_ROW;
  p->cand_kc = CAND_PER_COL;
  p->cand_cap = (R_xlen_t) cand_capacity(p->n, p->m, CAND_PER_ROW, CAND_PER_COL);
  start_tree(p);
  p->tree_ready = 1;
}

void ot_set_pricing(ot_problem *p, int mode) {
  if (mode != OT_PRICE_AUTO && !p->tree_ready) simplex_cold(p);
  if (mode == OT_PRICE_DENSE) p->use_cand = 0;
  if (mode == OT_PRICE_NO_ROOM) p->cand_cap = p->n_cand;
  if (mode == OT_PRICE_STAR) build_initial_tree(p);
}

/* Tolerance for calling a reduced cost negative: relative to the magnitudes
 * that were added to form it. */
static inline int is_negative(double rc, double c, double ps, double pt) {
  double s = fabs(c);
  if (fabs(ps) > s) s = fabs(ps);
  if (fabs(pt) > s) s = fabs(pt);
  return rc < -64 * DBL_EPSILON * s;
}

/* min over r < len of c[r] + pr[r], with four running minima kept in
 * registers (a single one, or an `omp simd` reduction, makes gcc -O2 store
 * and reload it on every arc, which measured 1.7x slower) */
static inline double segment_min(const double *c, const double *pr, int len) {
  double l0 = HUGE_VAL, l1 = HUGE_VAL, l2 = HUGE_VAL, l3 = HUGE_VAL;
  int r = 0;
  for (; r + 4 <= len; r += 4) {
    double v0 = c[r] + pr[r], v1 = c[r + 1] + pr[r + 1];
    double v2 = c[r + 2] + pr[r + 2], v3 = c[r + 3] + pr[r + 3];
    l0 = v0 < l0 ? v0 : l0;
    l1 = v1 < l1 ? v1 : l1;
    l2 = v2 < l2 ? v2 : l2;
    l3 = v3 < l3 ? v3 : l3;
  }
  for (; r < len; r++) {
    double v = c[r] + pr[r];
    l0 = v < l0 ? v : l0;
  }
  double low = l0 < l1 ? l0 : l1, low2 = l2 < l3 ? l2 : l3;
  return low2 < low ? low2 : low;
}

/* full_scan()'s test of arc r of a column (c, pr: the column's costs and the
 * row potentials, pj its potential): offer it to the column's CAND_PUSH most
 * negative kept so far (kv ascending, ki their rows; ties to the lower row) */
static inline void column_offer(const double *c, const double *pr, double pj, int r,
                                const uint64_t *in_tree, R_xlen_t e0, double *kv, int *ki,
                                int *kept) {
  const double rc = c[r] + pr[r] - pj;
  if (rc < 0 && (*kept < CAND_PUSH || rc < kv[CAND_PUSH - 1]) && !tree_has(in_tree, e0 + r) &&
      is_negative(rc, c[r], pr[r], pj))
    kbest_insert(kv, ki, kept, CAND_PUSH, rc, r);
}

/* cand_entering()'s test of list position x: offer the arc to the keep most
 * negative kept so far (bv ascending, bx their positions; ties to the one
 * offered first) when its reduced cost is below their bound (0 while fewer
 * than keep are kept), is_negative() holds and it is not a tree arc.
 * Returns 1 when the arc was kept.  list_take() is given the reduced cost
 * rc = cc[x] + ps - pt and the potentials ps, pt of the arc's ends (the
 * vector search forms them four at a time); list_offer() forms them. */
static inline int list_take(const double *cc, const int *cs, const int *ct,
                            const uint64_t *in_tree, int n, R_xlen_t x, double rc, double ps,
                            double pt, double *bv, int *bx, int *kept, int keep) {
  if (rc < 0 && (*kept < keep || rc < bv[keep - 1]) && is_negative(rc, cc[x], ps, pt) &&
      !tree_has(in_tree, (R_xlen_t) (ct[x] - n) * n + cs[x])) {
    kbest_insert(bv, bx, kept, keep, rc, (int) x);
    return 1;
  }
  return 0;
}
static inline int list_offer(const double *cc, const int *cs, const int *ct,
                             const double *pi, const uint64_t *in_tree, int n,
                             R_xlen_t x, double *bv, int *bx, int *kept, int keep) {
  const double ps = pi[cs[x]], pt = pi[ct[x]];
  return list_take(cc, cs, ct, in_tree, n, x, cc[x] + ps - pt, ps, pt, bv, bx, kept, keep);
}

#ifdef HOT_SIMPLEX_AVX2

/* The segment step of dense_entering() in AVX2, with the same result: the
 * scalar step scans the segment (arc by arc, in order, best_rc updated as
 * it goes) when min_r (c[r] + pr[r]) - pj < best_rc, i.e. (subtraction
 * being monotone in rounding) when some rc_r = (c[r] + pr[r]) - pj is below
 * best_rc.  Here each group of four arcs computes the same rc_r (an
 * addition then a subtraction, lane by lane) and is scanned by the scalar
 * code, in order, only when one of its rc_r is below the current best_rc:
 * a group skipped would have changed nothing in the scalar scan, so the
 * arc chosen (the first of the most negative) and hence every pivot are
 * the same. */
__attribute__((target("avx2")))
static void segment_scan_avx2(const double *c, const double *pr, double pj, int len,
                              const uint64_t *in_tree, R_xlen_t e0, double *best_rc,
                              R_xlen_t *best) {
  const __m256d vpj = _mm256_set1_pd(pj);
  double brc = *best_rc;
  R_xlen_t b = *best;
  int r = 0;
  for (; r + 4 <= len; r += 4) {
    const __m256d rc = _mm256_sub_pd(
        _mm256_add_pd(_mm256_loadu_pd(c + r), _mm256_loadu_pd(pr + r)), vpj);
    if (_mm256_movemask_pd(_mm256_cmp_pd(rc, _mm256_set1_pd(brc), _CMP_LT_OQ)) == 0)
      continue;
    for (int k = r; k < r + 4; k++) {
      const double v = c[k] + pr[k] - pj;
      if (v < brc && !tree_has(in_tree, e0 + k)) {
        brc = v;
        b = e0 + k;
      }
    }
  }
  for (; r < len; r++) {
    const double v = c[r] + pr[r] - pj;
    if (v < brc && !tree_has(in_tree, e0 + r)) {
      brc = v;
      b = e0 + r;
    }
  }
  *best_rc = brc;
  *best = b;
}

/* The column step of full_scan() in AVX2, with the same result as its
 * scalar loop: that loop offers arc r to the CAND_PUSH best (kbest_insert)
 * when rc_r = (c[r] + pr[r]) - pj is below the current bound (0 while fewer
 * than CAND_PUSH are kept, then the largest kept), it is not a tree arc and
 * is_negative() holds.  The bound only decreases, so a group of four arcs
 * none of whose rc_r is below the bound at its start would have offered
 * nothing; the other groups are run through the scalar test, in order.
 * Called with *kept == 0 (a fresh column). */
__attribute__((target("avx2")))
static void column_push_avx2(const double *c, const double *pr, double pj, int len,
                             const uint64_t *in_tree, R_xlen_t e0, double *kv, int *ki,
                             int *kept) {
  const __m256d vpj = _mm256_set1_pd(pj);
  __m256d bound = _mm256_setzero_pd(); /* *kept is 0 on entry */
  int r = 0;
  for (; r + 4 <= len; r += 4) {
    const __m256d rc = _mm256_sub_pd(
        _mm256_add_pd(_mm256_loadu_pd(c + r), _mm256_loadu_pd(pr + r)), vpj);
    if (_mm256_movemask_pd(_mm256_cmp_pd(rc, bound, _CMP_LT_OQ)) == 0) continue;
    for (int k = r; k < r + 4; k++) column_offer(c, pr, pj, k, in_tree, e0, kv, ki, kept);
    bound = _mm256_set1_pd(*kept < CAND_PUSH ? 0.0 : kv[CAND_PUSH - 1]);
  }
  for (; r < len; r++) column_offer(c, pr, pj, r, in_tree, e0, kv, ki, kept);
}

/* list_offer() over positions lo..hi-1 of the list in AVX2, with the same
 * result as offering them one by one: each group of four computes the same
 * reduced costs (cost plus the gathered row potential, minus the gathered
 * column potential, lane by lane) and is offered, in order, only when one
 * of them is below the bound at the group's start, which only decreases.
 * Returns the number of arcs kept. */
__attribute__((target("avx2")))
static int list_offer_avx2(const double *cc, const int *cs, const int *ct,
                           const double *pi, const uint64_t *in_tree, int n,
                           R_xlen_t lo, R_xlen_t hi, double *bv, int *bx, int *kept,
                           int keep) {
  int got = 0;
  R_xlen_t x = lo;
  __m256d bound = _mm256_set1_pd(*kept < keep ? 0.0 : bv[keep - 1]);
  for (; x + 4 <= hi; x += 4) {
    const __m256d ps = _mm256_i32gather_pd(pi, _mm_loadu_si128((const __m128i *) (cs + x)), 8);
    const __m256d pt = _mm256_i32gather_pd(pi, _mm_loadu_si128((const __m128i *) (ct + x)), 8);
    const __m256d rc = _mm256_sub_pd(_mm256_add_pd(_mm256_loadu_pd(cc + x), ps), pt);
    unsigned msk = (unsigned) _mm256_movemask_pd(_mm256_cmp_pd(rc, bound, _CMP_LT_OQ));
    if (msk == 0) continue;
    /* only the lanes below the bound: the others, at or above the bound at
     * the group's start (which only decreases), would not be kept; the
     * lanes' rc, ps and pt are the scalar code's, bit for bit */
    double r4[4], s4[4], t4[4];
    _mm256_storeu_pd(r4, rc);
    _mm256_storeu_pd(s4, ps);
    _mm256_storeu_pd(t4, pt);
    do {
      const int k = __builtin_ctz(msk);
      msk &= msk - 1;
      got += list_take(cc, cs, ct, in_tree, n, x + k, r4[k], s4[k], t4[k], bv, bx, kept, keep);
    } while (msk);
    bound = _mm256_set1_pd(*kept < keep ? 0.0 : bv[keep - 1]);
  }
  for (; x < hi; x++) got += list_offer(cc, cs, ct, pi, in_tree, n, x, bv, bx, kept, keep);
  return got;
}
#endif

/* Block search over the real arcs; returns NONE when none prices out.
 * Arcs are scanned in memory order from where the last search stopped, in
 * blocks; the most negative arc of the first block that has one enters.
 * Each column segment is first reduced to its minimum of C + pi
 * (segment_min); only a segment that could beat the best so far is
 * scanned again to find the arc, skipping tree arcs (whose reduced cost is
 * zero up to round-off).  The arc chosen is the same as a plain scan's. */
static R_xlen_t dense_entering(ot_problem *p) {
  const R_xlen_t E = p->E, block = p->block;
  const int n = p->n, m = p->m;
  const double *C = p->C, *pi = p->pi, *pi_col = p->pi + n;
  const uint64_t *in_tree = p->in_tree;
  R_xlen_t best = NONE, scanned = 0, in_block = 0;
  double best_rc = 0;
  int j = (int) (p->next_arc / n), i0 = (int) (p->next_arc % n);
#ifdef HOT_SIMPLEX_AVX2
  const int simd = cpu_has_avx2();
#endif
  while (scanned < E) {
    R_xlen_t room = block - in_block;
    if (room > E - scanned) room = E - scanned; /* the wrap ends where we began */
    int len = n - i0;
    if (len > room) len = (int) room;
    const R_xlen_t e0 = (R_xlen_t) j * n + i0;
    const double *c = C + e0, *pr = pi + i0, pj = pi_col[j];
#ifdef HOT_SIMPLEX_AVX2
    if (simd) {
      segment_scan_avx2(c, pr, pj, len, in_tree, e0, &best_rc, &best);
    } else
#endif
    if (segment_min(c, pr, len) - pj < best_rc) {
      for (int r = 0; r < len; r++) {
        double rc = c[r] + pr[r] - pj;
        if (rc < best_rc && !tree_has(in_tree, e0 + r)) {
          best_rc = rc;
          best = e0 + r;
        }
      }
    }
    scanned += len;
    in_block += len;
    i0 += len;
    if (i0 == n) {
      i0 = 0;
      if (++j == m) j = 0;
    }
    if (in_block == block || scanned == E) {
      in_block = 0;
      if (best != NONE) {
        int bi = (int) (best % n), bj = (int) (best / n);
        if (is_negative(best_rc, C[best], pi[bi], pi_col[bj])) {
          p->next_arc = (R_xlen_t) j * n + i0;
          return best;
        }
      }
    }
  }
  return NONE;
}

/* LEMON's "altering candidate list" over the candidate list.
 *
 * Invariants: p->hot holds p->n_hot <= p->hot_len positions of the list (a
 * position may repeat; each is re-priced, so a stale one costs a price and
 * nothing else).  A search prices the hot positions first, then the list
 * from cand_next in blocks of cand_block, wrapping, and stops after the
 * first block once more than hot_len negative arcs have been seen, or after
 * any later block once one has, or when the whole list has been priced.  An
 * arc counts only if it is not a tree arc and its reduced cost passes
 * is_negative().  Of the arcs counted it keeps the hot_len + 1 most
 * negative (kbest_insert: ties to the one priced first); the first enters
 * and the rest become the hot list.  NONE only when no arc of the list
 * prices out.  Everything the choice depends on is in p (cand_next, the hot
 * list), so the path does not depend on how ot_run() is sliced. */
static R_xlen_t cand_entering(ot_problem *p, double *cost) {
  const R_xlen_t K = p->n_cand, block = p->cand_block;
  const int n = p->n, head = p->hot_len, keep = head + 1;
  const double *pi = p->pi, *cc = p->cand_c;
  const int *cs = p->cand_s, *ct = p->cand_t;
  const uint64_t *in_tree = p->in_tree;
  double *bv = p->hot_v;
  int *bx = p->hot_x, kept = 0;
  R_xlen_t seen = 0;
  /* the hot list first (fewer than keep: each negative one is kept) */
  for (int h = 0; h < p->n_hot; h++)
    seen += list_offer(cc, cs, ct, pi, in_tree, n, p->hot[h], bv, bx, &kept, keep);
  R_xlen_t k = p->cand_next, scanned = 0, limit = head;
#ifdef HOT_SIMPLEX_AVX2
  const int simd = cpu_has_avx2();
#endif
  while (scanned < K) {
    R_xlen_t stop = k + block;
    if (stop > K) stop = K;
    if (stop - k > K - scanned) stop = k + (K - scanned);
    /* an arc that cannot be kept is not counted: it is met only once keep
     * > head arcs have been, so the stops are those of counting every
     * negative arc */
#ifdef HOT_SIMPLEX_AVX2
    if (simd) {
      seen += list_offer_avx2(cc, cs, ct, pi, in_tree, n, k, stop, bv, bx, &kept, keep);
    } else
#endif
    for (R_xlen_t x = k; x < stop; x++)
      seen += list_offer(cc, cs, ct, pi, in_tree, n, x, bv, bx, &kept, keep);
    scanned += stop - k;
    k = stop == K ? 0 : stop;
    if (seen > limit) break;
    limit = 0;
  }
  p->cand_next = k;
  p->n_hot = 0;
  if (kept == 0) return NONE;
  for (int h = 1; h < kept; h++) p->hot[p->n_hot++] = bx[h];
  *cost = cc[bx[0]];
  return (R_xlen_t) (ct[bx[0]] - n) * n + cs[bx[0]];
}

/* Every arc priced: the CAND_PUSH most negative arcs of each column join
 * the candidate list, and the most negative of all enters.  When the list
 * has no room left, pricing goes dense for the rest of the solve. */
static R_xlen_t full_scan(ot_problem *p) {
  const int n = p->n, m = p->m;
  const double *C = p->C, *pi = p->pi, *pi_col = p->pi + p->n;
  const uint64_t *in_tree = p->in_tree;
  R_xlen_t best = NONE;
  double best_rc = 0, col_v[CAND_PUSH];
  int col_i[CAND_PUSH];
#ifdef HOT_SIMPLEX_AVX2
  const int simd = cpu_has_avx2();
#endif
  for (int j = 0; j < m; j++) {
    const double *c = C + (R_xlen_t) j * n;
    const R_xlen_t e0 = (R_xlen_t) j * n;
    const double pj = pi_col[j];
    int kept = 0;
#ifdef HOT_SIMPLEX_AVX2
    if (simd) {
      column_push_avx2(c, pi, pj, n, in_tree, e0, col_v, col_i, &kept);
    } else
#endif
    if (segment_min(c, pi, n) - pj < 0) {
      for (int i = 0; i < n; i++) column_offer(c, pi, pj, i, in_tree, e0, col_v, col_i, &kept);
    }
    if (kept == 0) continue;
    for (int x = 0; x < kept && p->use_cand; x++) {
      if (p->n_cand < p->cand_cap) cand_push(p, col_i[x], j);
      else p->use_cand = 0;
    }
    if (col_v[0] < best_rc) {
      best_rc = col_v[0];
      best = (R_xlen_t) j * n + col_i[0];
    }
  }
  return best;
}

/* the entering arc and its cost: from the list's copy when the list gave it
 * (C[in] itself was a cache miss into all of C, ~9% of a tuned16 896 x 3072
 * solve), else from C */
static R_xlen_t find_entering(ot_problem *p, double *cost) {
  R_xlen_t in = p->use_cand ? cand_entering(p, cost) : NONE;
  if (in != NONE) return in;
  in = p->use_cand ? full_scan(p) : dense_entering(p);
  if (in != NONE) *cost = p->C[in];
  return in;
}

/* One pivot on entering arc `in` (a real arc with negative reduced cost).
 * Returns 0, or OT_UNBOUNDED if the cycle has no blocking arc. */
static int pivot(ot_problem *p, R_xlen_t in, double cost) {
  int *parent = p->parent, *thread = p->thread, *rev = p->rev;
  int *size = p->size, *last = p->last;
  unsigned char *up = p->up;
  double *flow = p->flow;
  const int s = arc_src(p, in), t = arc_tgt(p, in);
  const double sigma = cost + p->pi[s] - p->pi[t];

  /* apex of the cycle: subtree sizes grow towards the root */
  int u = s, v = t;
  while (u != v) {
    if (size[u] < size[v]) u = parent[u];
    else v = parent[v];
  }
  const int join = u;

  /* leaving arc: the last blocking arc from the apex along the orientation
   * join -> ... -> s -> t -> ... -> join (strict on the s side, ties to the
   * t side) */
  double delta = HUGE_VAL;
  int u_out = NONE, side = 0;
  for (u = s; u != join; u = parent[u]) {
    double d = up[u] ? flow[u] : HUGE_VAL;
    if (d < delta) {
      delta = d;
      u_out = u;
      side = 1;
    }
  }
  for (u = t; u != join; u = parent[u]) {
    double d = up[u] ? HUGE_VAL : flow[u];
    if (d <= delta) {
      delta = d;
      u_out = u;
      side = 2;
    }
  }
  if (u_out == NONE || delta == HUGE_VAL) return OT_UNBOUNDED;

  if (delta > 0) {
    for (u = s; u != join; u = parent[u]) flow[u] += up[u] ? -delta : delta;
    for (u = t; u != join; u = parent[u]) flow[u] += up[u] ? delta : -delta;
  }

  const int u_in = side == 1 ? s : t, v_in = side == 1 ? t : s;
  const R_xlen_t out = p->pred[u_out];
  const int moved = size[u_out];

  /* the path u_in = w0, w1, ..., wk = u_out, and what the old tree says of it */
  int *path = p->path, k = 0;
  path[0] = u_in;
  for (u = u_in; u != u_out; u = parent[u]) path[++k] = parent[u];
  for (int i = 0; i <= k; i++) {
    int w = path[i];
    p->p_rev[i] = rev[w];
    p->p_last[i] = last[w];
    p->p_next[i] = thread[last[w]];
    p->p_size[i] = size[w];
  }

  /* 1. cut the subtree of u_out out of the thread */
  const int old_parent = parent[u_out], s_last = last[u_out];
  {
    int before = rev[u_out], after = thread[s_last];
    thread[before] = after;
    rev[after] = before;
    for (int x = old_parent; x != join; x = parent[x]) size[x] -= moved;
    for (int x = old_parent; x != NONE && last[x] == s_last; x = parent[x])
      last[x] = before;
  }

  /* 2. its new preorder, rooted at u_in: for i = 0..k the part of w_i's old
   *    subtree that is not w_{i-1}'s, in old order */
  int tail = p->p_last[0];
  for (int i = 1; i <= k; i++) {
    int w = path[i];
    thread[tail] = w;
    rev[w] = tail;
    tail = p->p_rev[i - 1];
    if (p->p_last[i - 1] != p->p_last[i]) {
      int b_start = p->p_next[i - 1];
      thread[tail] = b_start;
      rev[b_start] = tail;
      tail = p->p_last[i];
    }
  }
  const int new_last = tail;

  /* 3. reverse the path: parents, pred arcs, directions, flows, sizes */
  for (int i = k; i >= 1; i--) {
    int w = path[i], below = path[i - 1];
    parent[w] = below;
    p->pred[w] = p->pred[below];
    up[w] = !up[below];
    flow[w] = flow[below];
    last[w] = new_last;
  }
  {
    int nsize = 0;
    for (int i = k; i >= 1; i--) {
      nsize += p->p_size[i] - p->p_size[i - 1];
      size[path[i]] = nsize;
    }
  }
  parent[u_in] = v_in;
  p->pred[u_in] = in;
  up[u_in] = (u_in == s);
  flow[u_in] = delta;
  size[u_in] = moved;
  last[u_in] = new_last;

  /* 4. hang the subtree under v_in, first in its preorder */
  {
    int after = thread[v_in];
    thread[v_in] = u_in;
    rev[u_in] = v_in;
    thread[new_last] = after;
    rev[after] = new_last;
    for (int x = v_in; x != join; x = parent[x]) size[x] += moved;
    for (int x = v_in; x != NONE && last[x] == v_in; x = parent[x])
      last[x] = new_last;
  }

  tree_clear(p->in_tree, out);
  tree_set(p->in_tree, in);

  /* 5. potentials: the moved subtree shifts so that rc(in) becomes 0.  Its
   * nodes are the thread from u_in to new_last; they are walked from both
   * ends at once (thread forward, rev backward), two independent chains of
   * loads where one was the whole cost (a chase of ~240 nodes a pivot on
   * tuned16 896 x 3072, ~20% of the solve) */
  {
    double shift = (u_in == t) ? sigma : -sigma;
    double *pi = p->pi;
    int x = u_in, y = new_last, walk = moved;
    if (2 * moved > p->N + 1) {
      /* the rest of the tree is smaller: it shifts the other way (the
       * root's potential with it; only differences of potentials are
       * used, and recompute_from_tree() pins the root at 0 again) */
      x = thread[new_last];
      y = rev[u_in];
      walk = p->N + 1 - moved;
      shift = -shift;
    }
    for (int c = 0, h = walk / 2; c < h; c++) {
      pi[x] += shift;
      pi[y] += shift;
      x = thread[x];
      y = rev[y];
    }
    if (walk & 1) pi[x] += shift;
  }
  p->pivots += 1;
  return 0;
}

/* Potentials and tree flows from the tree alone (preorder for potentials,
 * reverse preorder for the flows as subtree balances). */
static void recompute_from_tree(ot_problem *p) {
  tree_potentials(p);
  tree_flows(p);
}

void ot_restart(ot_problem *p) {
  if (p->use_lap) {
    /* the solver's graph keeps its arcs (a rotation step moves few optimal
     * arcs far; the certificate pass adds what is missing) with their new
     * costs; there is no candidate list to refresh (none is built for the
     * assignment solver) */
    ot_assign_refresh(p->lap);
    ot_assign_restart(p->lap);
    p->done = 0;
    return;
  }
  /* the tree and its flows stay primal feasible when only C changed: new
   * potentials from the tree, and pricing starts over */
  double cmax = max_abs_cost(p->C, p->E);
  if (3 * cmax > p->art_cost) p->art_cost = 3 * cmax;
  recompute_from_tree(p);
  p->next_arc = 0;
  p->done = 0;
  /* the list keeps its arcs (the cheapest of the old costs and those the
   * last solve's full scans added: a rotation step moves few optimal arcs
   * far) with their new costs while at least half its room is free, and is
   * built anew from C otherwise (and after pricing went dense) */
  if (p->use_cand && p->n_cand <= p->cand_cap / 2) {
    for (R_xlen_t k = 0; k < p->n_cand; k++)
      p->cand_c[k] = p->C[(R_xlen_t) (p->cand_t[k] - p->n) * p->n + p->cand_s[k]];
    p->cand_next = 0;
    p->n_hot = 0;
  } else {
    build_candidates(p);
  }
}

/* duals shifted by one constant (u - t, v + t) so that sum(a u) = sum(b v):
 * the optimum's duals up to that freedom, centred the same way by every
 * solver */
static void centre_duals(const ot_problem *p, double *u, double *v) {
  const int n = p->n, m = p->m;
  double sa = 0, sb = 0, au = 0, bv = 0;
  for (int i = 0; i < n; i++) {
    sa += p->a[i];
    au += p->a[i] * u[i];
  }
  for (int j = 0; j < m; j++) {
    sb += p->b[j];
    bv += p->b[j] * v[j];
  }
  double shift = (sa + sb) > 0 ? (au - bv) / (sa + sb) : 0;
  for (int i = 0; i < n; i++) u[i] -= shift;
  for (int j = 0; j < m; j++) v[j] += shift;
}

int ot_run(ot_problem *p, double budget) {
  if (p->done) return OT_OPTIMAL;
  double spent = 0;
  if (p->use_lap) {
    double before = ot_assign_work(p->lap);
    int st = ot_assign_run(p->lap, budget);
    if (st == OT_OPTIMAL) p->done = 1;
    if (st != OT_ASSIGN_GAVE_UP) return st;
    spent = ot_assign_work(p->lap) - before;
    simplex_cold(p);
    if (budget > 0 && spent >= budget) return OT_RUNNING;
  }
  int verified = 0;
  for (;;) {
    double cost = 0;
    R_xlen_t in = find_entering(p, &cost);
    if (in == NONE) {
      if (verified) break;
      /* candidate optimum: recompute the certificate from the tree and
       * price everything again with it */
      recompute_from_tree(p);
      p->next_arc = 0;
      verified = 1;
      continue;
    }
    verified = 0;
    if (pivot(p, in, cost) != 0) return OT_UNBOUNDED;
    spent += 1;
    if (budget > 0 && spent >= budget) return OT_RUNNING;
  }
  /* flows recomputed from the masses may carry round-off below zero on
   * degenerate arcs; a real shortfall means the masses do not balance */
  double total = 0;
  for (int i = 0; i < p->n; i++) total += p->a[i];
  double tol = 1e-12 * (total > 0 ? total : 1);
  for (int x = 0; x < p->N; x++) {
    if (p->flow[x] < -tol) return OT_INFEASIBLE;
    if (p->pred[x] >= p->E && p->flow[x] > tol) return OT_INFEASIBLE;
  }
  p->done = 1;
  return OT_OPTIMAL;
}

int ot_extract(const ot_problem *p, double mass_scale, int *fi, int *fj,
               double *fx, double *u, double *v, double *cost) {
  const int n = p->n, m = p->m, N = p->N;
  int nnz = 0;
  double obj = 0;
  if (p->use_lap) {
    /* the permutation, column by column, each arc carrying a row's mass */
    int *perm = p->path;
    ot_assign_solution(p->lap, perm, u, v);
    for (int j = 0; j < m; j++) {
      fi[j] = perm[j];
      fj[j] = j;
      fx[j] = p->a[perm[j]] * mass_scale;
      obj += p->C[perm[j] + (R_xlen_t) j * n] * fx[j];
    }
    centre_duals(p, u, v);
    *cost = obj;
    return m;
  }
  /* walk the tree in preorder: a deterministic order */
  for (int x = p->thread[N]; x != N; x = p->thread[x]) {
    R_xlen_t e = p->pred[x];
    if (e >= p->E || p->flow[x] <= 0) continue;
    fi[nnz] = (int) (e % n);
    fj[nnz] = (int) (e / n);
    fx[nnz] = p->flow[x] * mass_scale;
    obj += p->C[e] * fx[nnz];
    nnz++;
  }
  /* duals: rc = C - u - v, so u = -pi(row), v = pi(column); centred so that
   * sum(a u) = sum(b v) */
  for (int i = 0; i < n; i++) u[i] = -p->pi[i];
  for (int j = 0; j < m; j++) v[j] = p->pi[n + j];
  centre_duals(p, u, v);
  *cost = obj;
  return nnz;
}
