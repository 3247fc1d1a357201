/* One train/test split of hot() in one pass, as base R's dist() does its
 * work in one call: from the raw (checked) layers and the row indices,
 *   1. the training statistics of every column and the standardised
 *      training and held-out rows of every kept column, in one pass
 *      (standardise.c);
 *   2. the inner level: every layer pair's cost and exact OT plan, with the
 *      HOT+R descent when asked (pair_loop.c);
 *   3. the outer level: the exact OT of the L x M layer costs (ot_simplex.c);
 *   4. with rotation, the rotations the scores need (pair_rotations());
 *   5. the held-out scores of every weighting -- the HOT plan, pairwise best,
 *      single best and every row permutation of the perm-P null -- as one
 *      batch of (weighting, layer) tasks over the threads (reconstruct.c).
 * R keeps the argument checks, the splits, the aggregation over splits and
 * the "hot" class.  Nothing inside an OpenMP region allocates or calls the R
 * API; every task's result depends only on its inputs, so results are the
 * same bit for bit for any number of threads.
 *
 * The result's `status` says how far the split got (HOT_SPLIT_* below); R
 * raises the classed error of a status that is not HOT_SPLIT_OK from the
 * fields returned with it.
 */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <R.h>
#include <Rinternals.h>
#include "hotalign.h"

enum hot_split_status {
  HOT_SPLIT_OK = 0,
  HOT_SPLIT_CONSTANT = 1, /* constant training columns (see `constant_x/y`) */
  HOT_SPLIT_PAIR = 2,     /* a pair's solve failed (see `inner$status`) */
  HOT_SPLIT_OUTER = 3,    /* the outer OT failed (see `outer_status`) */
  HOT_SPLIT_RERUN = 4     /* a HOT+R rotation could not be recomputed */
};

/* The large buffers of one call (the standardised copies, the scoring
 * scratch) are taken with malloc() rather than R_alloc(): several MiB per
 * call on R's heap made R's garbage collector run every few calls, which
 * cost as much as the standardisation itself (1.5 ms of a 3.6 ms V1/V2
 * split).  ffi_hot_split() runs its body under R_ExecWithCleanup(), so they
 * are freed on return, on an error and on an interrupt alike. */
#define SPLIT_MEM_SLOTS 4
typedef struct {
  void *mem[SPLIT_MEM_SLOTS];
  int n_mem;
} split_memory;

static void *split_malloc(split_memory *sm, size_t bytes, const char *what) {
  if (sm->n_mem >= SPLIT_MEM_SLOTS) Rf_error("internal: too many buffers in one split");
  void *p = malloc(bytes > 0 ? bytes : 1);
  if (p == NULL)
    Rf_error("cannot allocate %.1f MiB for %s", (double) bytes / 1048576.0, what);
  sm->mem[sm->n_mem++] = p;
  return p;
}

static void split_memory_free(void *data) {
  split_memory *sm = (split_memory *) data;
  for (int k = 0; k < sm->n_mem; k++) free(sm->mem[k]);
  sm->n_mem = 0;
}

/* rows: 1-based integer indices in 1..T; returns them 0-based */
static int *rows_zero_based(SEXP rows, int T, const char *what) {
  if (!Rf_isInteger(rows)) Rf_error("`%s` must be an integer vector", what);
  int nr = Rf_length(rows), *r0 = (int *) R_alloc(nr > 0 ? nr : 1, sizeof(int));
  for (int r = 0; r < nr; r++) {
    int i = INTEGER(rows)[r];
    if (i == NA_INTEGER || i < 1 || i > T)
      Rf_error("`%s` has row index %d outside 1..%d", what, i, T);
    r0[r] = i - 1;
  }
  return r0;
}

/* The standardised rows of one system: per layer the kept columns, and the
 * training (n_train x n_keep) and held-out (n_test x n_keep) rows. */
typedef struct {
  int K;
  int *n_keep;
  int **keep;              /* 0-based kept columns */
  double **train, **test;  /* standardised rows */
} std_system;

/* Statistics of every layer of both systems on the training rows, written
 * into the R vectors of center, scale and constant of `out` (elements 1-6),
 * and the standardised training and held-out rows of the kept columns, by
 * standardise_layers() (standardise.c: tasks of 4 columns over the
 * threads, bit for bit col_train_stats() and standardise_rows()).  Every
 * column is standardised in the same pass as its statistics; the columns
 * found constant are then removed from the copies (moved down in place),
 * so that the copies hold the kept columns only, in order.  Returns whether
 * any column is constant. */
static int standardise_systems(SEXP X, SEXP Y, const int *train, int n_train,
                               const int *test, int n_test, SEXP out, int nth,
                               std_system *sx, std_system *sy, split_memory *sm) {
  const int L = Rf_length(X), M = Rf_length(Y), K = L + M;
  const double **x = (const double **) R_alloc(K, sizeof(double *));
  int *n = (int *) R_alloc(K, sizeof(int));
  double **c = (double **) R_alloc(K, sizeof(double *));
  double **sc = (double **) R_alloc(K, sizeof(double *));
  int **cst = (int **) R_alloc(K, sizeof(int *));
  double **ztr = (double **) R_alloc(K, sizeof(double *));
  double **zte = (double **) R_alloc(K, sizeof(double *));
  size_t total = 0;
  const size_t rows_te = n_test > 0 ? (size_t) n_test : 1;
  for (int k = 0; k < K; k++) {
    const int s = k >= L, l = s ? k - L : k;
    SEXP v = VECTOR_ELT(s ? Y : X, l);
    x[k] = REAL(v);
    n[k] = Rf_ncols(v);
    c[k] = REAL(VECTOR_ELT(VECTOR_ELT(out, 1 + 3 * s), l));
    sc[k] = REAL(VECTOR_ELT(VECTOR_ELT(out, 2 + 3 * s), l));
    cst[k] = LOGICAL(VECTOR_ELT(VECTOR_ELT(out, 3 + 3 * s), l));
    total += (size_t) n[k] * ((size_t) n_train + rows_te);
  }
  /* one block: the training rows of every layer, then the held-out rows */
  double *block = (double *) split_malloc(sm, sizeof(double) * total,
                                          "the standardised layers");
  advise_huge_pages(block, sizeof(double) * total);
  for (int k = 0; k < K; k++) {
    ztr[k] = block;
    block += (size_t) n[k] * n_train;
  }
  for (int k = 0; k < K; k++) {
    zte[k] = block;
    block += (size_t) n[k] * rows_te;
  }
  const R_xlen_t T = Rf_nrows(VECTOR_ELT(X, 0));
  standardise_layers(K, (const double *const *) x, T, n, train, n_train, test, n_test,
                     c, sc, cst, ztr, zte, nth, 1);
  int any_constant = 0;
  for (int s = 0; s < 2; s++) {
    std_system *o = s ? sy : sx;
    const int K1 = s ? M : L;
    o->K = K1;
    o->n_keep = (int *) R_alloc(K1, sizeof(int));
    o->keep = (int **) R_alloc(K1, sizeof(int *));
    o->train = (double **) R_alloc(K1, sizeof(double *));
    o->test = (double **) R_alloc(K1, sizeof(double *));
    for (int l = 0; l < K1; l++) {
      const int k = s ? L + l : l;
      int *keep = (int *) R_alloc(n[k], sizeof(int)), nk = 0;
      for (int j = 0; j < n[k]; j++) {
        if (cst[k][j]) {
          any_constant = 1;
          continue;
        }
        if (j != nk) { /* move column j down to nk (j > nk: in order, in place) */
          memmove(ztr[k] + (R_xlen_t) nk * n_train, ztr[k] + (R_xlen_t) j * n_train,
                  sizeof(double) * n_train);
          if (n_test > 0)
            memmove(zte[k] + (R_xlen_t) nk * n_test, zte[k] + (R_xlen_t) j * n_test,
                    sizeof(double) * n_test);
        }
        keep[nk++] = j;
      }
      o->keep[l] = keep;
      o->n_keep[l] = nk;
      o->train[l] = ztr[k];
      o->test[l] = zte[k];
    }
  }
  return any_constant;
}

/* The column statistics of every layer as the fit keeps them: per layer
 * list(center, scale, keep, dropped), center and scale named by the
 * layer's column names (if any), keep and dropped the 1-based kept and
 * constant columns; the list named by the layers.  (Built here: the same
 * in R was a twentieth of a small fit.) */
static SEXP standardisation_lists(SEXP layers, SEXP center, SEXP scale, SEXP constant) {
  const int K = Rf_length(layers);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, K));
  Rf_setAttrib(out, R_NamesSymbol, Rf_getAttrib(layers, R_NamesSymbol));
  const char *names[] = {"center", "scale", "keep", "dropped", ""};
  for (int k = 0; k < K; k++) {
    SEXP x = VECTOR_ELT(layers, k), dn = Rf_getAttrib(x, R_DimNamesSymbol);
    SEXP cn = Rf_isNull(dn) ? R_NilValue : VECTOR_ELT(dn, 1);
    SEXP ce = VECTOR_ELT(center, k), sc = VECTOR_ELT(scale, k);
    if (!Rf_isNull(cn)) {
      Rf_setAttrib(ce, R_NamesSymbol, cn);
      Rf_setAttrib(sc, R_NamesSymbol, cn);
    }
    const int n = Rf_length(ce), *co = LOGICAL(VECTOR_ELT(constant, k));
    int nd = 0;
    for (int j = 0; j < n; j++) nd += co[j] != 0;
    SEXP st = PROTECT(Rf_mkNamed(VECSXP, names));
    SET_VECTOR_ELT(st, 0, ce);
    SET_VECTOR_ELT(st, 1, sc);
    SEXP keep = Rf_allocVector(INTSXP, n - nd);
    SET_VECTOR_ELT(st, 2, keep);
    SEXP dropped = Rf_allocVector(INTSXP, nd);
    SET_VECTOR_ELT(st, 3, dropped);
    for (int j = 0, a = 0, b = 0; j < n; j++) {
      if (co[j]) INTEGER(dropped)[b++] = j + 1;
      else INTEGER(keep)[a++] = j + 1;
    }
    SET_VECTOR_ELT(out, k, st);
    UNPROTECT(1);
  }
  UNPROTECT(1);
  return out;
}

/* a list of K numeric (or logical) vectors of the layers' column counts */
static SEXP per_column(SEXP layers, SEXPTYPE type) {
  const int K = Rf_length(layers);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, K));
  for (int k = 0; k < K; k++)
    SET_VECTOR_ELT(out, k, Rf_allocVector(type, Rf_ncols(VECTOR_ELT(layers, k))));
  UNPROTECT(1);
  return out;
}

/* The outer level: exact OT over the L x M layer costs with the masses of
 * uniform_masses(); plan (dense L x M) and objective.  Returns the status. */
static int solve_outer(const double *cost, int L, int M, double *plan, double *objective) {
  double *a = (double *) R_alloc(L, sizeof(double));
  double *b = (double *) R_alloc(M, sizeof(double));
  const double scale = uniform_masses(L, M, a, b);
  void *work = R_alloc(ot_workspace_bytes(L, M), 1);
  ot_problem *p = ot_init(work, L, M, cost, a, b);
  int status;
  while ((status = ot_run(p, ot_slice_pivots(L, M))) == OT_RUNNING) R_CheckUserInterrupt();
  memset(plan, 0, sizeof(double) * (size_t) L * M);
  *objective = NA_REAL;
  if (status != OT_OPTIMAL) return status;
  int cap = L + M - 1;
  int *fi = (int *) R_alloc(cap, sizeof(int)), *fj = (int *) R_alloc(cap, sizeof(int));
  double *fx = (double *) R_alloc(cap, sizeof(double));
  double *u = (double *) R_alloc(L, sizeof(double)), *v = (double *) R_alloc(M, sizeof(double));
  int nnz = ot_extract(p, scale, fi, fj, fx, u, v, objective);
  for (int t = 0; t < nnz; t++) plan[fi[t] + (R_xlen_t) fj[t] * L] = fx[t];
  return status;
}

/* The weightings scored, L x M each, column-major, one after the other:
 * 0 the HOT plan; 1 pairwise best (the cheapest target of each source
 * layer, first on ties, as which.min); 2 single best (the target with most
 * of the row's mass, first on ties, as which.max); 2 + d for d = 1 .. L - 1
 * the plan with its rows shifted by d (row l takes plan row (l + d) mod L).
 * A layer's reconstruction reads only its own row of the weights, so the
 * score of layer l under any row permutation p is the score of layer l
 * under shift d = (p[l] - l) mod L (d = 0: the plan itself): the perm-P
 * null needs at most L^2 reconstructions, whatever n_perm. */
static double *weightings(const double *plan, const double *cost, int L, int M) {
  const R_xlen_t LM = (R_xlen_t) L * M;
  double *W = (double *) R_alloc((size_t) LM * (2 + L), sizeof(double));
  memcpy(W, plan, sizeof(double) * LM);
  double *pw = W + LM, *sb = W + 2 * LM;
  memset(pw, 0, sizeof(double) * 2 * LM);
  for (int l = 0; l < L; l++) {
    int lo = 0, hi = 0;
    for (int m = 1; m < M; m++) {
      if (cost[l + (R_xlen_t) m * L] < cost[l + (R_xlen_t) lo * L]) lo = m;
      if (plan[l + (R_xlen_t) m * L] > plan[l + (R_xlen_t) hi * L]) hi = m;
    }
    pw[l + (R_xlen_t) lo * L] = 1.0 / L;
    sb[l + (R_xlen_t) hi * L] = 1.0 / L;
  }
  for (int d = 1; d < L; d++) {
    double *Wd = W + (2 + (R_xlen_t) d) * LM;
    for (int l = 0; l < L; l++) {
      int from = (l + d) % L;
      for (int m = 0; m < M; m++) Wd[l + (R_xlen_t) m * L] = plan[from + (R_xlen_t) m * L];
    }
  }
  return W;
}

/* the weighting (index into weightings()) that layer l takes under perm q */
static int perm_weighting(const int *perms, int L, int l, int q) {
  int d = ((perms[l + (R_xlen_t) q * L] - 1 - l) % L + L) % L;
  return d == 0 ? 0 : 2 + d;
}

/* HOT+R: the rotation of every pair marked in `used` (L * M flags).  No
 * descent runs again: each R is recomputed from the plan its descent
 * recorded (job->rplan_*) by one Procrustes step, rotation_from_plan(), bit
 * for bit the descent's R.  Each is returned in the form the fit keeps:
 * dense (an n_l x n_l matrix in `rotations`) for a source that keeps its
 * rotations dense (rotation_keeps_dense(): n_l <= T, or the compact form
 * would not be smaller), otherwise compact (in `compact`: Householder
 * factors, 2 n_l r + 3 r doubles with r <= T_train, and numeric(0) for
 * R = I), so that no n_l^2 block of a source wider than about 2 T is ever
 * allocated.  `kernel_rot` and `kernel_r` receive what the scoring applies
 * (NULL where R = I, i.e. where the descent made no iteration; r = 0 for a
 * dense R, r for a compact one).  The pair loop's cost buffers and descent
 * workspaces are reused (job->K_buf, rot_buf) where they fit.  The pairs
 * are shared out over the threads
 * a batch at a time, with an interrupt check after each batch.  Returns 0,
 * or 1 when a recomputation failed (an SVD that converged in the descent
 * cannot fail on the same matrix: reported as an internal error). */
static int pair_rotations(const pair_job *job, const char *used, int nth,
                          SEXP rotations, SEXP compact, const double **kernel_rot,
                          int *kernel_r) {
  const int L = job->L, LM = L * job->M, T = job->T;
  int *todo = (int *) R_alloc(LM, sizeof(int)), ntodo = 0;
  int max_n = 0, max_m = 0, max_lwork = 0, dense_n = 0;
  R_xlen_t max_nm = 0;
  for (int k = 0; k < LM; k++) {
    kernel_rot[k] = NULL;
    kernel_r[k] = 0;
    if (!used[k]) continue;
    int n = job->nx[k % L], nm = job->ny[k / L];
    const int dense = rotation_keeps_dense(n, T);
    if (job->iterations[k] == 0 || job->rplan_nnz[k] < 0) { /* R = I */
      if (dense) {
        SEXP R = Rf_allocMatrix(REALSXP, n, n);
        SET_VECTOR_ELT(rotations, k, R);
        double *r = REAL(R);
        memset(r, 0, sizeof(double) * (size_t) n * n);
        for (int i = 0; i < n; i++) r[i + (R_xlen_t) i * n] = 1;
      } else {
        SET_VECTOR_ELT(compact, k, Rf_allocVector(REALSXP, 0));
      }
      continue;
    }
    if (dense) {
      SEXP R = Rf_allocMatrix(REALSXP, n, n);
      SET_VECTOR_ELT(rotations, k, R);
      kernel_rot[k] = REAL(R);
      if (n > T && n > dense_n) dense_n = n;
    }
    todo[ntodo++] = k;
    if (n > max_n) max_n = n;
    if (nm > max_m) max_m = nm;
    if ((R_xlen_t) n * nm > max_nm) max_nm = (R_xlen_t) n * nm;
    if (job->lwork[k % L] > max_lwork) max_lwork = job->lwork[k % L];
  }
  if (ntodo == 0) return 0;
  nth = hot_threads_for(nth, ntodo);
  /* the pair loop's buffers where they serve (they are sized for every
   * pair; its descent workspaces have no room for a dense R wider than T),
   * else new ones */
  const int reuse = job->n_buf >= nth && job->buf_nm >= max_nm;
  const int reuse_ws = reuse && job->rot_buf && dense_n == 0;
  rotation_scratch **ws = (rotation_scratch **) R_alloc(nth, sizeof(rotation_scratch *));
  double **K = (double **) R_alloc(nth, sizeof(double *));
  int *status = (int *) R_alloc(ntodo, sizeof(int));
  for (int t = 0; t < nth; t++) {
    K[t] = reuse ? job->K_buf[t] : (double *) R_alloc(max_nm, sizeof(double));
    if (reuse_ws) {
      ws[t] = job->rot_buf[t];
      continue;
    }
    ws[t] = (rotation_scratch *) R_alloc(1, sizeof(rotation_scratch));
    rotation_scratch_init(ws[t],
                          (double *) R_alloc(rotation_scratch_doubles(max_n, max_m, T,
                                                                      max_lwork, dense_n),
                                             sizeof(double)),
                          (int *) R_alloc(rotation_scratch_ints(max_n, max_m), sizeof(int)),
                          max_n, max_m, T, max_lwork, dense_n);
    ws[t]->kernel = job->kernel;
  }
  for (int t0 = 0; t0 < ntodo; t0 += nth) {
    const int t1 = t0 + nth < ntodo ? t0 + nth : ntodo;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nth) schedule(static, 1)
#endif
    for (int t = t0; t < t1; t++) {
      const int me = t - t0, k = todo[t], l = k % L, m = k / L;
      const int n = job->nx[l], nm = job->ny[m];
      const R_xlen_t at = job->cap_start[k];
      /* the dense R only where it is kept (saves 8 n^2 r flops) */
      ws[me]->form_R = kernel_rot[k] != NULL;
      status[t] = rotation_from_plan_basis(job->X[l], job->basis ? job->basis[l] : NULL,
                                           job->Y[m], T, n, nm, job->lwork[l],
                                           job->rplan_i + at, job->rplan_j + at,
                                           job->rplan_x + at, job->rplan_nnz[k], K[me],
                                           ws[me]);
      if (status[t] == OT_OPTIMAL && kernel_rot[k])
        memcpy((double *) kernel_rot[k], ws[me]->R, sizeof(double) * (size_t) n * n);
    }
    /* the compact forms, on the main thread, from the scratch that computed
     * them */
    for (int t = t0; t < t1; t++) {
      const rotation_scratch *w = ws[t - t0];
      const int k = todo[t];
      if (status[t] != OT_OPTIMAL || kernel_rot[k]) continue;
      const int n = job->nx[k % L];
      SEXP c = Rf_allocVector(REALSXP, (R_xlen_t) rotation_compact_doubles(n, w->r));
      SET_VECTOR_ELT(compact, k, c);
      rotation_compact_store(w, REAL(c));
      kernel_rot[k] = REAL(c);
      kernel_r[k] = w->r;
    }
    R_CheckUserInterrupt();
  }
  for (int t = 0; t < ntodo; t++)
    if (status[t] != OT_OPTIMAL) return 1;
  return 0;
}

/* Scores the (layer, weighting) tasks task_l[t], task_w[t] into out[t],
 * and the per-unit correlations of the HOT plan (weighting 0) into
 * units[l].  Tasks run in batches of a few per thread, with an interrupt
 * check after each batch. */
static void score_tasks(const score_job *sj, const double *W, const int *task_l,
                        const int *task_w, int ntask, int nth, double *out,
                        double **units, split_memory *sm) {
  const int L = sj->L;
  const R_xlen_t LM = (R_xlen_t) L * sj->M;
  int max_n = 0;
  for (int l = 0; l < L; l++) if (sj->nx[l] > max_n) max_n = sj->nx[l];
  /* the work: a reconstruction and the correlations of about T x n values
   * per task (more with rotations: leave those to hot_threads_for()) */
  const double work = sj->rot != NULL ? HUGE_VAL : (double) ntask * sj->T * max_n;
  nth = hot_threads_for_work(nth, ntask, work);
  int max_r = 0;
  if (sj->rot_r)
    for (R_xlen_t k = 0; k < LM; k++) if (sj->rot_r[k] > max_r) max_r = sj->rot_r[k];
  const size_t per = score_scratch_doubles(sj->T, max_n, sj->rot != NULL, max_r);
  double *scratch = (double *) split_malloc(sm, sizeof(double) * per * nth,
                                            "the scoring scratch");
  const int batch = 4 * nth;
  for (int t0 = 0; t0 < ntask; t0 += batch) {
    const int t1 = t0 + batch < ntask ? t0 + batch : ntask;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nth) schedule(dynamic, 1)
#endif
    for (int t = t0; t < t1; t++) {
      int me = 0;
#ifdef _OPENMP
      me = omp_get_thread_num();
#endif
      int l = task_l[t], w = task_w[t];
      out[t] = score_layer(sj, l, W + (R_xlen_t) w * LM, scratch + per * me,
                           w == 0 ? units[l] : NULL, NULL);
    }
    R_CheckUserInterrupt();
  }
}

/* The layer means of every weighting the scores report (L x (3 + n_perm):
 * the plan, pairwise best, single best, each permutation), from the
 * distinct (layer, weighting) reconstructions they need. */
static void score_all(const score_job *sj, const double *W, const int *perms,
                      int n_perm, int nth, double *means, double **units,
                      split_memory *sm) {
  const int L = sj->L, n_w = 2 + L;
  int *slot = (int *) R_alloc((size_t) L * n_w, sizeof(int));
  int *task_l = (int *) R_alloc((size_t) L * n_w, sizeof(int));
  int *task_w = (int *) R_alloc((size_t) L * n_w, sizeof(int));
  int ntask = 0;
  for (int e = 0; e < L * n_w; e++) slot[e] = -1;
#define NEED(l, w)                                                   \
  if (slot[(l) + (R_xlen_t) (w) * L] < 0) {                          \
    slot[(l) + (R_xlen_t) (w) * L] = ntask;                          \
    task_l[ntask] = (l);                                             \
    task_w[ntask++] = (w);                                           \
  }
  for (int l = 0; l < L; l++)
    for (int w = 0; w < 3; w++) NEED(l, w)
  for (int q = 0; q < n_perm; q++)
    for (int l = 0; l < L; l++) NEED(l, perm_weighting(perms, L, l, q))
#undef NEED
  double *out = (double *) R_alloc(ntask, sizeof(double));
  score_tasks(sj, W, task_l, task_w, ntask, nth, out, units, sm);
  for (int l = 0; l < L; l++) {
    for (int w = 0; w < 3; w++) means[l + (R_xlen_t) w * L] = out[slot[l + (R_xlen_t) w * L]];
    for (int q = 0; q < n_perm; q++)
      means[l + (3 + (R_xlen_t) q) * L] =
          out[slot[l + (R_xlen_t) perm_weighting(perms, L, l, q) * L]];
  }
}

static void check_split_args(SEXP X, SEXP Y, SEXP perms, SEXP max_iter, SEXP tol) {
  int T = check_layer_list(X, "X", -1);
  check_layer_list(Y, "Y", T);
  if ((double) XLENGTH(X) * (double) XLENGTH(Y) > 1e8) Rf_error("too many layer pairs");
  check_whole(max_iter, "max_iter", 0);
  double t = Rf_asReal(tol);
  if (!Rf_isNumeric(tol) || XLENGTH(tol) != 1 || !R_FINITE(t) || t < 0)
    Rf_error("`tol` must be a single finite number >= 0");
  const int L = Rf_length(X);
  if (!Rf_isInteger(perms) || !Rf_isMatrix(perms) || Rf_nrows(perms) != L)
    Rf_error("`perms` must be an integer matrix with %d rows", L);
  const int *p = INTEGER(perms);
  for (R_xlen_t e = 0; e < XLENGTH(perms); e++)
    if (p[e] == NA_INTEGER || p[e] < 1 || p[e] > L)
      Rf_error("`perms` has an entry outside 1..%d", L);
}

static SEXP hot_split_run(SEXP X, SEXP Y, SEXP train, SEXP test, SEXP perms, SEXP drop,
                          SEXP rotation, SEXP max_iter, SEXP tol, SEXP threads,
                          SEXP progress, SEXP kernel_mode, split_memory *sm) {
  check_split_args(X, Y, perms, max_iter, tol);
  const int L = Rf_length(X), M = Rf_length(Y), LM = L * M;
  const int T = Rf_nrows(VECTOR_ELT(X, 0));
  const int n_train = Rf_length(train), n_test = Rf_length(test);
  if (n_train < 2) Rf_error("`train` needs at least 2 rows");
  const int *tr = rows_zero_based(train, T, "train");
  const int *te = rows_zero_based(test, T, "test");
  const int nth = hot_threads_for(Rf_asInteger(threads), 0);
  const int kernel = cost_kernel_mode_arg(kernel_mode);
  const int rot = Rf_asLogical(rotation) == 1, show = Rf_asLogical(progress) == 1;
  const int n_perm = Rf_ncols(perms);

  const char *names[] = {"status", "center_x", "scale_x", "constant_x", "center_y",
                         "scale_y", "constant_y", "inner", "plan", "objective",
                         "outer_status", "rotations", "unit_scores", "layer_scores",
                         "descent_iterations", "rotations_compact", "standardise_x",
                         "standardise_y", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(out, 0, Rf_ScalarInteger(HOT_SPLIT_OK));
  for (int s = 0; s < 2; s++) {
    SEXP layers = s ? Y : X;
    SET_VECTOR_ELT(out, 1 + 3 * s, per_column(layers, REALSXP));
    SET_VECTOR_ELT(out, 2 + 3 * s, per_column(layers, REALSXP));
    SET_VECTOR_ELT(out, 3 + 3 * s, per_column(layers, LGLSXP));
  }
  /* 1. standardisation */
  std_system sx, sy;
  int constant = standardise_systems(X, Y, tr, n_train, te, n_test, out, nth, &sx, &sy, sm);
  int empty = 0;
  for (int l = 0; l < L; l++) empty |= sx.n_keep[l] == 0;
  for (int m = 0; m < M; m++) empty |= sy.n_keep[m] == 0;
  if (empty || (constant && Rf_asLogical(drop) != 1)) {
    SET_VECTOR_ELT(out, 0, Rf_ScalarInteger(HOT_SPLIT_CONSTANT));
    UNPROTECT(1);
    return out;
  }
  SET_VECTOR_ELT(out, 16, standardisation_lists(X, VECTOR_ELT(out, 1), VECTOR_ELT(out, 2),
                                                VECTOR_ELT(out, 3)));
  SET_VECTOR_ELT(out, 17, standardisation_lists(Y, VECTOR_ELT(out, 4), VECTOR_ELT(out, 5),
                                                VECTOR_ELT(out, 6)));

  /* 2. the inner level */
  pair_loop_descent_iterations(1);
  pair_job job;
  pair_job_setup(&job, L, M, n_train, (const double **) sx.train,
                 (const double **) sy.train, sx.n_keep, sy.n_keep, kernel, rot,
                 Rf_asInteger(max_iter), Rf_asReal(tol));
  int *todo = (int *) R_alloc(LM, sizeof(int));
  for (int k = 0; k < LM; k++) todo[k] = k;
  pair_job_run(&job, todo, LM, nth, show, rot ? "inner OT with rotation" : "inner OT");
  SET_VECTOR_ELT(out, 7, pair_job_plans(&job));
  SET_VECTOR_ELT(out, 14, Rf_ScalarReal(pair_loop_descent_iterations(0)));
  for (int k = 0; k < LM; k++)
    if (job.status[k] != OT_OPTIMAL) {
      SET_VECTOR_ELT(out, 0, Rf_ScalarInteger(HOT_SPLIT_PAIR));
      UNPROTECT(1);
      return out;
    }

  /* 3. the outer level */
  SEXP plan = Rf_allocMatrix(REALSXP, L, M);
  SET_VECTOR_ELT(out, 8, plan);
  double objective;
  int ost = solve_outer(job.cost, L, M, REAL(plan), &objective);
  SET_VECTOR_ELT(out, 9, Rf_ScalarReal(objective));
  SET_VECTOR_ELT(out, 10, Rf_ScalarInteger(ost));
  if (ost != OT_OPTIMAL) {
    SET_VECTOR_ELT(out, 0, Rf_ScalarInteger(HOT_SPLIT_OUTER));
    UNPROTECT(1);
    return out;
  }
  const double *W = weightings(REAL(plan), job.cost, L, M);
  const R_xlen_t LM2 = (R_xlen_t) LM;

  /* 4. HOT+R: the rotations of the pairs any weighting gives mass to */
  const double **kernel_rot = NULL;
  int *kernel_r = NULL;
  if (rot) {
    char *used = (char *) R_alloc(LM, 1);
    for (int k = 0; k < LM; k++) {
      used[k] = REAL(plan)[k] > 0;
      if (n_test > 0) used[k] |= W[LM2 + k] > 0 || W[2 * LM2 + k] > 0;
    }
    /* the pairs of the rows the permutations give each layer */
    if (n_test > 0)
      for (int q = 0; q < n_perm; q++)
        for (int l = 0; l < L; l++) {
          const double *Wq = W + perm_weighting(INTEGER(perms), L, l, q) * LM2;
          for (int m = 0; m < M; m++) used[l + m * L] |= Wq[l + (R_xlen_t) m * L] > 0;
        }
    SEXP rotations = Rf_allocVector(VECSXP, LM);
    SET_VECTOR_ELT(out, 11, rotations);
    kernel_rot = (const double **) R_alloc(LM, sizeof(double *));
    kernel_r = (int *) R_alloc(LM, sizeof(int));
    SEXP compact = Rf_allocVector(VECSXP, LM);
    SET_VECTOR_ELT(out, 15, compact);
    int failed = pair_rotations(&job, used, nth, rotations, compact, kernel_rot,
                                kernel_r);
    /* every descent iteration of the split, the pair loop's and any after */
    SET_VECTOR_ELT(out, 14, Rf_ScalarReal(pair_loop_descent_iterations(0)));
    if (failed) {
      SET_VECTOR_ELT(out, 0, Rf_ScalarInteger(HOT_SPLIT_RERUN));
      UNPROTECT(1);
      return out;
    }
  }
  if (n_test == 0) {
    UNPROTECT(1);
    return out;
  }

  /* 5. the held-out scores of every weighting */
  SEXP inner = VECTOR_ELT(out, 7);
  score_job sj;
  sj.L = L;
  sj.M = M;
  sj.T = n_test;
  sj.X = (const double **) sx.test;
  sj.Y = (const double **) sy.test;
  sj.nx = sx.n_keep;
  sj.ny = sy.n_keep;
  const double **yn = (const double **) R_alloc(M, sizeof(double *));
  for (int m = 0; m < M; m++) {
    double *norm = (double *) R_alloc(sy.n_keep[m], sizeof(double));
    column_norms(sy.test[m], n_test, sy.n_keep[m], norm);
    yn[m] = norm;
  }
  sj.ynorm = yn;
  sj.sp = plans_from_list(inner, 1); /* after `cost` */
  sj.rot = kernel_rot;
  sj.rot_r = kernel_r;
  SEXP units = Rf_allocVector(VECSXP, L);
  SET_VECTOR_ELT(out, 12, units);
  double **up = (double **) R_alloc(L, sizeof(double *));
  for (int l = 0; l < L; l++) {
    SET_VECTOR_ELT(units, l, Rf_allocVector(REALSXP, sx.n_keep[l]));
    up[l] = REAL(VECTOR_ELT(units, l));
  }
  SEXP means = Rf_allocMatrix(REALSXP, L, 3 + n_perm);
  SET_VECTOR_ELT(out, 13, means);
  score_all(&sj, W, INTEGER(perms), n_perm, nth, REAL(means), up, sm);
  UNPROTECT(1);
  return out;
}

typedef struct {
  SEXP args[12];
  split_memory sm;
} split_call;

static SEXP hot_split_body(void *data) {
  split_call *c = (split_call *) data;
  SEXP *a = c->args;
  return hot_split_run(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10],
                       a[11], &c->sm);
}

static void hot_split_cleanup(void *data) { split_memory_free(&((split_call *) data)->sm); }

SEXP ffi_hot_split(SEXP X, SEXP Y, SEXP train, SEXP test, SEXP perms, SEXP drop,
                   SEXP rotation, SEXP max_iter, SEXP tol, SEXP threads,
                   SEXP progress, SEXP kernel_mode) {
  split_call c = {{X, Y, train, test, perms, drop, rotation, max_iter, tol, threads,
                   progress, kernel_mode},
                  {{NULL, NULL, NULL, NULL}, 0}};
  return R_ExecWithCleanup(hot_split_body, &c, hot_split_cleanup, &c);
}
