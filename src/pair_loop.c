/* The inner level of HOT: for every layer pair (l, m), the correlation cost
 * K_lm and its exact OT plan Q_lm with uniform masses; with rotation, the
 * HOT+R descent of rotation.c on top of it.
 *
 * All pairs run in one OpenMP loop.  Each thread owns one cost buffer, one
 * solver workspace and (with rotation) one descent workspace, sized for the
 * largest pair and allocated on the main thread before the region, so
 * nothing inside the region allocates or touches the R API.  Each thread works
 * a slot; a free slot takes the next pair, and pairs advance in steps (a
 * block of cost columns, a budget of pivots; with rotation then the
 * descent's iterations, each a Procrustes step and a budgeted warm OT
 * re-solve, rotation_step()) until a quarter of a
 * second has passed; then the main thread checks for interrupts and updates
 * the progress bar, and the threads go on where they stopped.  A pair's
 * result depends only on its inputs, never on the thread that solved it nor
 * on how its work was cut, so results are bit-identical for any number of
 * threads.
 *
 * hot_split.c drives the loop for hot() (pair_job_setup, pair_job_run,
 * pair_job_plans).  Two entry points expose it to tests: ffi_inner_plans()
 * solves every pair and returns the costs and sparse plans;
 * ffi_rotation_pairs() reruns the (deterministic) descent on chosen pairs
 * and returns their rotations and objective traces.
 *
 * Per-thread scratch, for the largest source width n, target width n' and
 * pair size max(n_l * n'_m): pair_scratch_bytes() (the cost matrix, the
 * masses and duals, the solver's workspace and with rotation the descent's);
 * never more threads than pairs.  memory.c reports the same sizes to R.
 */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <R.h>
#include <Rinternals.h>
#include <cli/progress.h>
#include "hotalign.h"

typedef struct {
  double *K, *a, *b, *u, *v;
  void *work;
  rotation_scratch rot;
  double descent_its; /* Procrustes steps run by this thread's slot */
} pair_scratch;

/* the descent iterations run by pair_job_run() (main thread only) */
static double descent_iterations_run = 0;

double pair_loop_descent_iterations(int reset) {
  double its = descent_iterations_run;
  if (reset) descent_iterations_run = 0;
  return its;
}

/* keeps the plan the pair's final R came from (at most n + n' - 1 entries,
 * the capacity of its plan storage), so that the R can be recomputed by one
 * Procrustes step (rotation_from_plan) instead of a second descent */
static void record_rotation_plan(const pair_job *job, int k,
                                 const rotation_scratch *ws) {
  if (!job->rplan_nnz) return;
  R_xlen_t at = job->cap_start[k];
  int nnz = ws->it > 0 ? ws->pnnz : -1;
  job->rplan_nnz[k] = nnz;
  for (int t = 0; t < nnz; t++) {
    job->rplan_i[at + t] = ws->pfi[t];
    job->rplan_j[at + t] = ws->pfj[t];
    job->rplan_x[at + t] = ws->pfx[t];
  }
}


/* Threads work for SLICE_SECONDS between two interrupt checks, in steps of
 * STEP_WORK multiply-adds or arc prices (a few milliseconds); HOT+R pairs
 * too, a descent iteration's Procrustes step (one SVD) being the longest
 * indivisible piece.  Long slices keep the barrier at the end of each rare.
 * step_work is STEP_WORK except in tests (ffi_pair_step_work), which cut the
 * work differently to show that results do not depend on it. */
#define SLICE_SECONDS 0.25
#define STEP_WORK 4194304.0
#define MIN_COST_COLS 256
static double step_work = STEP_WORK;

SEXP ffi_pair_step_work(SEXP work) {
  double old = step_work, w = Rf_asReal(work);
  if (!(w >= 1 && w <= 1e15)) Rf_error("`work` must be a number in [1, 1e15]");
  step_work = w;
  return Rf_ScalarReal(old);
}

static double now_seconds(void) {
#ifdef _OPENMP
  return omp_get_wtime();
#else
  return (double) clock() / CLOCKS_PER_SEC;
#endif
}

/* A pair in progress, kept across slices: the cost matrix is built a block
 * of columns at a time, then the simplex pivots a budget at a time. */
typedef struct {
  int k;         /* pair index, or -1 when the slot is free */
  int cols;      /* columns of the cost matrix computed so far */
  ot_problem *p; /* the solver, once the cost matrix is complete */
  double scale;  /* mass scale of the pair's plan (see uniform_masses()) */
  ot_partial *q; /* the partial problem around p (unit_mass < 1), else NULL */
  int descending; /* HOT+R: the descent has begun on the solved plain problem */
} pair_slot;

/* HOT+R: the end of a pair's descent (status rst of its last step): the
 * results, the dense R when asked, the recorded plan and the final plan */
static void finish_descent(const pair_job *job, int k, ot_problem *p, int rst,
                           double scale, pair_scratch *s) {
  const int n = job->nx[k % job->L];
  double obj;
  int fst = rotation_finish(&s->rot, &obj, job->iterations + k, job->converged + k);
  int st = rst != OT_OPTIMAL ? rst : fst;
  job->status[k] = st;
  job->nnz[k] = 0;
  job->cost[k] = NA_REAL;
  if (st != OT_OPTIMAL) return;
  if (job->rot_out && job->rot_out[k])
    memcpy(job->rot_out[k], s->rot.R, sizeof(double) * (size_t) n * n);
  record_rotation_plan(job, k, &s->rot);
  R_xlen_t at = job->cap_start[k];
  job->nnz[k] = ot_extract(p, scale, job->fi + at, job->fj + at, job->fx + at,
                           s->u, s->v, job->cost + k);
}

static void finish_pair(const pair_job *job, int k, ot_problem *p, int st,
                        double scale, pair_scratch *s, const ot_partial *q) {
  job->status[k] = st;
  job->nnz[k] = 0;
  job->cost[k] = NA_REAL;
  job->iterations[k] = 0;
  job->converged[k] = NA_LOGICAL;
  if (st != OT_OPTIMAL) return;
  R_xlen_t at = job->cap_start[k];
  if (q) {
    double lambda, moved_cost, dummy;
    job->nnz[k] = ot_partial_extract(q, job->fi + at, job->fj + at, job->fx + at,
                                     s->u, s->v, &lambda, &moved_cost, &dummy);
    job->cost[k] = moved_cost / job->unit_mass;
    return;
  }
  job->nnz[k] = ot_extract(p, scale, job->fi + at, job->fj + at, job->fx + at,
                           s->u, s->v, job->cost + k);
}

/* Advances the slot's pair by about `work` units; returns the units spent
 * and sets *finished when the pair is done.  The result of a pair does not
 * depend on how its work was sliced: the simplex resumes exactly. */
static double advance_pair(const pair_job *job, pair_slot *slot, pair_scratch *s,
                           double work, int *finished) {
  const int k = slot->k, l = k % job->L, m = k / job->L;
  const int n = job->nx[l], nm = job->ny[m], T = job->T;
  *finished = 0;
  double spent = 0;
  double block = sqrt((double) n * nm);
  if (block < 10) block = 10;
  if (slot->descending) { /* HOT+R: one step of the descent, budgeted */
    double budget = work / block;
    if (budget < 1) budget = 1;
    const int it = s->rot.it, reused = s->rot.polar_reused;
    double before = ot_pivots(slot->p);
    int rst = rotation_step(slot->p, s->K, &s->rot, budget);
    if (s->rot.it > it) { /* an iteration began */
      s->descent_its += 1;
      if (s->rot.polar_reused == reused) { /* its Procrustes step and products */
        double r = s->rot.r;
        spent += r * n * ((double) n + nm + r);
      }
    }
    spent += (ot_pivots(slot->p) - before + 1) * block;
    if (rst == OT_RUNNING) return spent;
    finish_descent(job, k, slot->p, rst, slot->scale, s);
    *finished = 1;
    return spent;
  }
  if (slot->p == NULL) {
    /* dgemm repacks the source layer for every call: blocks of at least
     * MIN_COST_COLS columns keep that copy small against the multiply */
    double per_col = (double) n * (T > 0 ? T : 1);
    int c = (int) (work / per_col);
    if (c < MIN_COST_COLS) c = MIN_COST_COLS;
    if (c > nm - slot->cols) c = nm - slot->cols;
    correlation_cost(job->X[l], job->Y[m] + (R_xlen_t) slot->cols * T, T, n, c,
                     s->K + (R_xlen_t) slot->cols * n, job->kernel);
    slot->cols += c;
    spent += per_col * c;
    if (slot->cols < nm) return spent;
    if (job->unit_mass < 1) {
      /* partial: masses 1/n, 1/n' (the moved share is not an integer) */
      for (int i = 0; i < n; i++) s->a[i] = 1.0 / n;
      for (int j = 0; j < nm; j++) s->b[j] = 1.0 / nm;
      slot->scale = 1;
      slot->q = ot_partial_init(s->work, n, nm, s->K, s->a, s->b, job->unit_mass);
      slot->p = slot->q->ot;
    } else {
      slot->scale = uniform_masses(n, nm, s->a, s->b);
      slot->p = ot_init(s->work, n, nm, s->K, s->a, s->b);
    }
  }
  double budget = (work - spent) / block;
  if (budget < 1) budget = 1;
  double before = ot_pivots(slot->p);
  int st = ot_run(slot->p, budget);
  spent += (ot_pivots(slot->p) - before + 1) * block;
  if (st == OT_RUNNING) return spent;
  if (job->rotation) {
    /* HOT+R: the descent starts from the solved plain problem (R = I) */
    job->iterations[k] = 0;
    job->converged[k] = 0;
    double *trace = job->trace_out ? job->trace_out[k] : NULL;
    int rst = st;
    if (st == OT_OPTIMAL) {
      /* the dense R only where the caller keeps it (saves 8 n^2 r flops) */
      s->rot.form_R = job->rot_out && job->rot_out[k];
      if (job->basis && job->basis[l])
        rst = rotation_begin_basis(slot->p, job->basis[l], T, n, nm, job->max_iter,
                                   job->tol, job->lwork[l], s->K, &s->rot, trace);
      else
        rst = rotation_begin(slot->p, job->X[l], job->Y[m], T, n, nm, job->max_iter,
                             job->tol, job->lwork[l], s->K, &s->rot, trace);
      spent += (double) n * nm * (s->rot.r > 0 ? s->rot.r : 1);
    }
    if (rst == OT_OPTIMAL) {
      slot->descending = 1;
      return spent;
    }
    if (st == OT_OPTIMAL) { /* the basis failed: the descent's status */
      finish_descent(job, k, slot->p, rst, slot->scale, s);
    } else {
      job->status[k] = st;
      job->nnz[k] = 0;
      job->cost[k] = NA_REAL;
    }
    *finished = 1;
    return spent;
  }
  finish_pair(job, k, slot->p, st, slot->scale, s, slot->q);
  *finished = 1;
  return spent;
}

/* plan storage for all pairs and the result arrays; X, Y, nx, ny must stay
 * alive while the job runs */
void pair_job_setup(pair_job *job, int L, int M, int T, const double **X,
                    const double **Y, const int *nx, const int *ny, int kernel,
                    int rotation, int max_iter, double tol) {
  const int LM = L * M;
  job->kernel = kernel;
  job->L = L;
  job->M = M;
  job->T = T;
  job->X = X;
  job->Y = Y;
  job->nx = nx;
  job->ny = ny;
  job->rotation = rotation;
  job->max_iter = max_iter;
  job->tol = tol;
  job->lwork = NULL;

  /* room for the at most n + n' - 1 non-zeros of each pair */
  R_xlen_t *cap_start = (R_xlen_t *) R_alloc((size_t) LM + 1, sizeof(R_xlen_t));
  cap_start[0] = 0;
  for (int k = 0; k < LM; k++) cap_start[k + 1] = cap_start[k] + nx[k % L] + ny[k / L] - 1;
  job->cap_start = cap_start;
  job->fi = (int *) R_alloc(cap_start[LM], sizeof(int));
  job->fj = (int *) R_alloc(cap_start[LM], sizeof(int));
  job->fx = (double *) R_alloc(cap_start[LM], sizeof(double));
  job->nnz = (int *) R_alloc(LM, sizeof(int));
  job->status = (int *) R_alloc(LM, sizeof(int));
  job->iterations = (int *) R_alloc(LM, sizeof(int));
  job->converged = (int *) R_alloc(LM, sizeof(int));
  job->cost = (double *) R_alloc(LM, sizeof(double));
  job->rot_out = NULL;
  job->trace_out = NULL;
  job->unit_mass = 1;
  job->rplan_i = job->rplan_j = job->rplan_nnz = NULL;
  job->rplan_x = NULL;
  job->basis = NULL;
  job->n_buf = 0;
  job->buf_nm = 0;
  job->K_buf = NULL;
  job->rot_buf = NULL;
  if (rotation) {
    job->rplan_i = (int *) R_alloc(cap_start[LM], sizeof(int));
    job->rplan_j = (int *) R_alloc(cap_start[LM], sizeof(int));
    job->rplan_x = (double *) R_alloc(cap_start[LM], sizeof(double));
    job->rplan_nnz = (int *) R_alloc(LM, sizeof(int));
    for (int k = 0; k < LM; k++) job->rplan_nnz[k] = -1;
  }
}

void pair_job_set_unit_mass(pair_job *job, double s) {
  const int L = job->L, LM = L * job->M;
  R_xlen_t *cap_start = (R_xlen_t *) R_alloc((size_t) LM + 1, sizeof(R_xlen_t));
  cap_start[0] = 0;
  for (int k = 0; k < LM; k++)
    cap_start[k + 1] = cap_start[k] + job->nx[k % L] + job->ny[k / L] + 1;
  job->cap_start = cap_start;
  job->fi = (int *) R_alloc(cap_start[LM], sizeof(int));
  job->fj = (int *) R_alloc(cap_start[LM], sizeof(int));
  job->fx = (double *) R_alloc(cap_start[LM], sizeof(double));
  job->unit_mass = s;
}

/* the job of two checked lists of standardised layers, with the automatic
 * cost kernel (the entry points for tests: ffi_inner_plans,
 * ffi_rotation_pairs) */
static void setup_job(pair_job *job, SEXP Xs, SEXP Ys, int rotation, int max_iter,
                      double tol) {
  const int L = Rf_length(Xs), M = Rf_length(Ys);
  const double **X = (const double **) R_alloc(L, sizeof(double *));
  const double **Y = (const double **) R_alloc(M, sizeof(double *));
  int *nx = (int *) R_alloc(L, sizeof(int)), *ny = (int *) R_alloc(M, sizeof(int));
  for (int l = 0; l < L; l++) {
    X[l] = REAL(VECTOR_ELT(Xs, l));
    nx[l] = Rf_ncols(VECTOR_ELT(Xs, l));
  }
  for (int m = 0; m < M; m++) {
    Y[m] = REAL(VECTOR_ELT(Ys, m));
    ny[m] = Rf_ncols(VECTOR_ELT(Ys, m));
  }
  pair_job_setup(job, L, M, Rf_nrows(VECTOR_ELT(Xs, 0)), X, Y, nx, ny,
                 cost_kernel_resolve(COST_AUTO), rotation, max_iter, tol);
}

/* HOT+R: the basis of each source layer wider than T (its thin QR and a
 * T x T eigendecomposition, rotation_basis) computed once, before the pairs,
 * for the layers with at least two pairs to do; each of their pairs then
 * starts with rotation_begin_basis(), bit for bit the descent that
 * rotation_begin() would make.  Layers at most T wide need no shared basis
 * (V = I: only G = Xs'Xs, one product per pair).  The layers are shared out
 * over the threads a batch at a time, an interrupt check after each. */
static void shared_bases(pair_job *job, const int *todo, int ntodo, int nth,
                         pair_scratch *scratch) {
  const int L = job->L, T = job->T;
  int *pairs = (int *) R_alloc(L, sizeof(int)), *layers = (int *) R_alloc(L, sizeof(int));
  int nl = 0;
  for (int l = 0; l < L; l++) pairs[l] = 0;
  for (int t = 0; t < ntodo; t++) pairs[todo[t] % L]++;
  job->basis = (double **) R_alloc(L, sizeof(double *));
  for (int l = 0; l < L; l++) {
    job->basis[l] = NULL;
    if (pairs[l] < 2 || job->nx[l] <= T || T <= 0) continue;
    job->basis[l] = (double *) R_alloc(rotation_basis_doubles(job->nx[l], T),
                                       sizeof(double));
    layers[nl++] = l;
  }
  int *status = (int *) R_alloc(nl > 0 ? nl : 1, sizeof(int));
  for (int b0 = 0; b0 < nl; b0 += nth) {
    const int b1 = b0 + nth < nl ? b0 + nth : nl;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nth) schedule(static, 1)
#endif
    for (int b = b0; b < b1; b++) {
      const int l = layers[b];
      status[b] = rotation_basis(job->X[l], T, job->nx[l], job->lwork[l],
                                 &scratch[b - b0].rot, job->basis[l]);
    }
    R_CheckUserInterrupt();
  }
  /* a layer whose basis failed: its pairs compute their own and report */
  for (int b = 0; b < nl; b++)
    if (status[b] != OT_OPTIMAL) job->basis[layers[b]] = NULL;
}

/* Solves pairs todo[0 .. ntodo - 1] in one OpenMP loop: scratch sized for
 * the largest of them, allocated here on the main thread. */
void pair_job_run(pair_job *job, const int *todo, int ntodo, int nth, int show,
                  const char *label) {
  const int L = job->L;
  int max_n = 0, max_m = 0, max_lwork = 0;
  R_xlen_t max_nm = 0;
  int *lwork = job->rotation ? (int *) R_alloc(L, sizeof(int)) : NULL;
  if (lwork) for (int l = 0; l < L; l++) lwork[l] = 0;
  for (int t = 0; t < ntodo; t++) {
    int l = todo[t] % L, n = job->nx[l], nm = job->ny[todo[t] / L];
    if (n > max_n) max_n = n;
    if (nm > max_m) max_m = nm;
    if ((R_xlen_t) n * nm > max_nm) max_nm = (R_xlen_t) n * nm;
    if (lwork && lwork[l] == 0) {
      lwork[l] = rotation_lwork(n, job->T);
      if (lwork[l] < 0)
        Rf_error("the LAPACK dgesdd workspace query failed for %d source units", n);
      if (lwork[l] > max_lwork) max_lwork = lwork[l];
    }
  }
  job->lwork = lwork;
  if (ntodo == 0) return;

  /* one cost buffer and one solver workspace per thread (no more threads
   * than pairs), and with rotation one descent workspace; sizes:
   * pair_scratch_bytes() */
  if (nth > ntodo) nth = ntodo;
  pair_scratch *scratch = (pair_scratch *) R_alloc(nth, sizeof(pair_scratch));
  size_t work_bytes = ot_workspace_bytes(max_n, max_m);
  if (job->unit_mass < 1) work_bytes = ot_partial_workspace_bytes(max_n, max_m);
  for (int t = 0; t < nth; t++) {
    scratch[t].K = (double *) R_alloc(max_nm, sizeof(double));
    advise_huge_pages(scratch[t].K, sizeof(double) * (size_t) max_nm);
    scratch[t].a = (double *) R_alloc(max_n, sizeof(double));
    scratch[t].b = (double *) R_alloc(max_m, sizeof(double));
    scratch[t].u = (double *) R_alloc(max_n, sizeof(double));
    scratch[t].v = (double *) R_alloc(max_m, sizeof(double));
    scratch[t].work = R_alloc(work_bytes, 1);
    scratch[t].descent_its = 0;
    if (job->rotation) {
      /* room for the dense R only where the caller keeps one (rot_out) */
      const int dense_n = job->rot_out != NULL ? max_n : 0;
      double *dbl = (double *) R_alloc(
          rotation_scratch_doubles(max_n, max_m, job->T, max_lwork, dense_n),
          sizeof(double));
      int *ints = (int *) R_alloc(rotation_scratch_ints(max_n, max_m), sizeof(int));
      rotation_scratch_init(&scratch[t].rot, dbl, ints, max_n, max_m, job->T,
                            max_lwork, dense_n);
      scratch[t].rot.kernel = job->kernel;
    }
  }

  job->n_buf = nth;
  job->buf_nm = max_nm;
  job->K_buf = (double **) R_alloc(nth, sizeof(double *));
  job->rot_buf = job->rotation ? (rotation_scratch **) R_alloc(nth, sizeof(rotation_scratch *))
                               : NULL;
  for (int t = 0; t < nth; t++) {
    job->K_buf[t] = scratch[t].K;
    if (job->rot_buf) job->rot_buf[t] = &scratch[t].rot;
  }

  if (job->rotation) shared_bases(job, todo, ntodo, nth, scratch);

  SEXP bar = PROTECT(show ? cli_progress_bar(ntodo, NULL) : R_NilValue);
  if (show) cli_progress_set_name(bar, label);
  /* one slot per thread; slots take the next pair when free, and between
   * slices the main thread checks for interrupts and shows progress */
  pair_slot *slots = (pair_slot *) R_alloc(nth, sizeof(pair_slot));
  for (int t = 0; t < nth; t++) {
    slots[t].k = -1;
    slots[t].p = NULL;
    slots[t].q = NULL;
    slots[t].descending = 0;
  }
  int next = 0, done = 0;
  while (done < ntodo) {
    const double deadline = now_seconds() + SLICE_SECONDS;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nth) schedule(static, 1)
#endif
    for (int t = 0; t < nth; t++) {
      pair_slot *slot = slots + t;
      for (;;) {
        if (slot->k < 0) {
          int take;
#ifdef _OPENMP
#pragma omp atomic capture
#endif
          take = next++;
          if (take >= ntodo) break;
          slot->k = todo[take];
          slot->cols = 0;
          slot->p = NULL;
          slot->q = NULL;
          slot->descending = 0;
        }
        int finished;
        advance_pair(job, slot, scratch + t, step_work, &finished);
        if (finished) {
          slot->k = -1;
#ifdef _OPENMP
#pragma omp atomic
#endif
          done++;
        }
        if (now_seconds() >= deadline) break;
      }
    }
    R_CheckUserInterrupt();
    if (show && CLI_SHOULD_TICK) {
      if (job->rotation) { /* the descent's progress: its iterations so far */
        double its = 0;
        for (int t = 0; t < nth; t++) its += scratch[t].descent_its;
        char name[160];
        snprintf(name, sizeof name, "%s (%.0f descent iterations)", label, its);
        cli_progress_set_name(bar, name);
      }
      cli_progress_set(bar, done);
    }
  }
  if (show) cli_progress_done(bar);
  for (int t = 0; t < nth; t++) descent_iterations_run += scratch[t].descent_its;
  UNPROTECT(1);
}

/* list(cost, i, j, x, start, status, iterations, converged) of a job that
 * has run on every pair: the triplets compacted pair by pair, in pair
 * order, 1-based */
SEXP pair_job_plans(const pair_job *job) {
  const int L = job->L, M = job->M, LM = L * M;
  R_xlen_t total = 0;
  for (int k = 0; k < LM; k++) total += job->nnz[k];
  SEXP cost = PROTECT(Rf_allocMatrix(REALSXP, L, M));
  SEXP iterations = PROTECT(Rf_allocMatrix(INTSXP, L, M));
  SEXP converged = PROTECT(Rf_allocMatrix(LGLSXP, L, M));
  SEXP ri = PROTECT(Rf_allocVector(INTSXP, total));
  SEXP rj = PROTECT(Rf_allocVector(INTSXP, total));
  SEXP rx = PROTECT(Rf_allocVector(REALSXP, total));
  SEXP start = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t) LM + 1));
  SEXP status = PROTECT(Rf_allocVector(INTSXP, LM));
  R_xlen_t at = 0;
  REAL(start)[0] = 0;
  for (int k = 0; k < LM; k++) {
    R_xlen_t from = job->cap_start[k];
    for (int t = 0; t < job->nnz[k]; t++, at++) {
      INTEGER(ri)[at] = job->fi[from + t] + 1;
      INTEGER(rj)[at] = job->fj[from + t] + 1;
      REAL(rx)[at] = job->fx[from + t];
    }
    REAL(start)[k + 1] = (double) at;
    INTEGER(status)[k] = job->status[k];
    REAL(cost)[k] = job->cost[k];
    INTEGER(iterations)[k] = job->iterations[k];
    LOGICAL(converged)[k] = job->converged[k];
  }
  const char *names[] = {"cost", "i", "j", "x", "start", "status", "iterations",
                         "converged", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(out, 0, cost);
  SET_VECTOR_ELT(out, 1, ri);
  SET_VECTOR_ELT(out, 2, rj);
  SET_VECTOR_ELT(out, 3, rx);
  SET_VECTOR_ELT(out, 4, start);
  SET_VECTOR_ELT(out, 5, status);
  SET_VECTOR_ELT(out, 6, iterations);
  SET_VECTOR_ELT(out, 7, converged);
  UNPROTECT(9);
  return out;
}

/* R has checked everything; a direct .Call with anything else is refused
 * here rather than read out of bounds */
static void check_pair_args(SEXP Xs, SEXP Ys, SEXP max_iter, SEXP tol) {
  int T = check_layer_list(Xs, "Xs", -1);
  check_layer_list(Ys, "Ys", T);
  if ((double) XLENGTH(Xs) * (double) XLENGTH(Ys) > INT_MAX - 1)
    Rf_error("too many layer pairs");
  check_whole(max_iter, "max_iter", 0);
  double t = Rf_asReal(tol);
  if (!Rf_isNumeric(tol) || XLENGTH(tol) != 1 || !R_FINITE(t) || t < 0)
    Rf_error("`tol` must be a single finite number >= 0");
}

SEXP ffi_inner_plans(SEXP Xs, SEXP Ys, SEXP threads, SEXP progress, SEXP rotation,
                     SEXP max_iter, SEXP tol) {
  check_pair_args(Xs, Ys, max_iter, tol);
  const int L = Rf_length(Xs), M = Rf_length(Ys), LM = L * M;
  const int nth = hot_threads_for(Rf_asInteger(threads), 0);
  const int rot = Rf_asLogical(rotation) == 1;
  pair_job job;
  setup_job(&job, Xs, Ys, rot, Rf_asInteger(max_iter), Rf_asReal(tol));
  int *todo = (int *) R_alloc(LM, sizeof(int));
  for (int k = 0; k < LM; k++) todo[k] = k;
  pair_job_run(&job, todo, LM, nth, Rf_asLogical(progress) == 1,
            rot ? "inner OT with rotation" : "inner OT");

  return pair_job_plans(&job);
}

/* The inner problems of the partial path of hot() (R/hot_partial.R): the
 * result of ffi_inner_plans() without rotation, each pair moving the share
 * unit_mass in (0, 1] of its mass (plans sum to it, costs per unit of moved
 * mass; 1 is the balanced pair loop), with the cost kernel `kernel` (0 auto,
 * 1 BLAS, 2 internal: the option hotalign.cost_kernel). */
SEXP ffi_inner_plans_partial(SEXP Xs, SEXP Ys, SEXP threads, SEXP progress,
                             SEXP unit_mass, SEXP kernel) {
  int T = check_layer_list(Xs, "Xs", -1);
  check_layer_list(Ys, "Ys", T);
  if ((double) XLENGTH(Xs) * (double) XLENGTH(Ys) > INT_MAX - 1)
    Rf_error("too many layer pairs");
  double s = Rf_isReal(unit_mass) && XLENGTH(unit_mass) == 1 ? REAL(unit_mass)[0] : -1;
  if (!(s > 0 && s <= 1)) Rf_error("`unit_mass` must be a single double in (0, 1]");
  int mode = check_whole(kernel, "kernel", COST_AUTO);
  if (mode > COST_INTERNAL) Rf_error("`kernel` must be 0, 1 or 2");
  const int L = Rf_length(Xs), M = Rf_length(Ys), LM = L * M;
  const int nth = hot_threads_for(Rf_asInteger(threads), (double) LM);
  pair_job job;
  setup_job(&job, Xs, Ys, 0, 0, 0);
  job.kernel = cost_kernel_resolve(mode);
  if (s < 1) pair_job_set_unit_mass(&job, s);
  int *todo = (int *) R_alloc(LM, sizeof(int));
  for (int k = 0; k < LM; k++) todo[k] = k;
  pair_job_run(&job, todo, LM, nth, Rf_asLogical(progress) == 1,
               s < 1 ? "partial inner OT" : "inner OT");
  return pair_job_plans(&job);
}

/* The HOT+R descent rerun on pairs `pairs` (1-based k = l + (m - 1) L, no
 * duplicates): their rotations R (n_l x n_l), final objectives, iteration
 * counts, convergence flags, statuses and objective traces ((max_iter + 1) x
 * length(pairs), NA after the last iteration). */
SEXP ffi_rotation_pairs(SEXP Xs, SEXP Ys, SEXP pairs, SEXP max_iter, SEXP tol,
                        SEXP threads, SEXP progress) {
  check_pair_args(Xs, Ys, max_iter, tol);
  const int L = Rf_length(Xs), M = Rf_length(Ys), LM = L * M;
  if (!Rf_isInteger(pairs)) Rf_error("`pairs` must be an integer vector");
  const int np = Rf_length(pairs), iters = Rf_asInteger(max_iter);
  const int nth = hot_threads_for(Rf_asInteger(threads), 0);
  /* each pair at most once: two threads must never share a pair's output */
  char *seen = (char *) R_alloc(LM, 1);
  memset(seen, 0, LM);
  for (int t = 0; t < np; t++) {
    int k = INTEGER(pairs)[t];
    if (k == NA_INTEGER || k < 1 || k > LM)
      Rf_error("`pairs` has index %d outside 1..%d", k, LM);
    if (seen[k - 1]++) Rf_error("`pairs` has duplicated index %d", k);
  }
  pair_job job;
  setup_job(&job, Xs, Ys, 1, iters, Rf_asReal(tol));
  int *todo = (int *) R_alloc(np > 0 ? np : 1, sizeof(int));
  for (int t = 0; t < np; t++) todo[t] = INTEGER(pairs)[t] - 1;

  SEXP rots = PROTECT(Rf_allocVector(VECSXP, np));
  SEXP trace = PROTECT(Rf_allocMatrix(REALSXP, iters + 1, np));
  job.rot_out = (double **) R_alloc(LM, sizeof(double *));
  job.trace_out = (double **) R_alloc(LM, sizeof(double *));
  for (int k = 0; k < LM; k++) job.rot_out[k] = job.trace_out[k] = NULL;
  for (int t = 0; t < np; t++) {
    int k = todo[t], n = job.nx[k % L];
    SEXP R = Rf_allocMatrix(REALSXP, n, n);
    SET_VECTOR_ELT(rots, t, R);
    job.rot_out[k] = REAL(R);
    job.trace_out[k] = REAL(trace) + (R_xlen_t) t * (iters + 1);
    for (int i = 0; i <= iters; i++) job.trace_out[k][i] = NA_REAL;
  }
  pair_job_run(&job, todo, np, nth, Rf_asLogical(progress) == 1, "rotations");

  SEXP cost = PROTECT(Rf_allocVector(REALSXP, np));
  SEXP iterations = PROTECT(Rf_allocVector(INTSXP, np));
  SEXP converged = PROTECT(Rf_allocVector(LGLSXP, np));
  SEXP status = PROTECT(Rf_allocVector(INTSXP, np));
  for (int t = 0; t < np; t++) {
    int k = todo[t];
    REAL(cost)[t] = job.cost[k];
    INTEGER(iterations)[t] = job.iterations[k];
    LOGICAL(converged)[t] = job.converged[k];
    INTEGER(status)[t] = job.status[k];
    if (job.status[k] != OT_OPTIMAL) SET_VECTOR_ELT(rots, t, R_NilValue);
  }
  const char *names[] = {"rotations", "cost", "iterations", "converged",
                         "status", "trace", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(out, 0, rots);
  SET_VECTOR_ELT(out, 1, cost);
  SET_VECTOR_ELT(out, 2, iterations);
  SET_VECTOR_ELT(out, 3, converged);
  SET_VECTOR_ELT(out, 4, status);
  SET_VECTOR_ELT(out, 5, trace);
  UNPROTECT(7);
  return out;
}

size_t pair_scratch_bytes(int n, int m, R_xlen_t nm, int T, int rotation, int lwork) {
  size_t bytes = sizeof(double) * ((size_t) nm + 2 * (size_t) n + 2 * (size_t) m) +
                 ot_workspace_bytes(n, m);
  if (rotation)
    bytes += sizeof(double) * rotation_scratch_doubles(n, m, T, lwork, 0) +
             sizeof(int) * rotation_scratch_ints(n, m);
  return bytes;
}

double uniform_masses(int n, int m, double *a, double *b) {
  for (int i = 0; i < n; i++) a[i] = m;
  for (int j = 0; j < m; j++) b[j] = n;
  return 1.0 / ((double) n * m);
}
