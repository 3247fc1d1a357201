/* The inner level of HOT: for every layer pair (l, m), the correlation cost
 * K_lm and its exact OT plan Q_lm with uniform masses.
 *
 * All L x M pairs run in one OpenMP loop.  Each thread owns one cost buffer
 * and one solver workspace, sized for the largest pair and allocated on the
 * main thread before the region, so nothing inside the region allocates or
 * touches the R API.  Pairs are handed out in chunks; between chunks the main
 * thread checks for interrupts and updates the progress bar.  A pair's result
 * depends only on its inputs, never on the thread that solved it, so results
 * are bit-identical for any number of threads.
 */
#ifdef _OPENMP
#include <omp.h>
#endif
#include <string.h>
#include <R.h>
#include <Rinternals.h>
#include <cli/progress.h>
#include "hotalign.h"

typedef struct {
  double *K, *a, *b, *u, *v;
  void *work;
} pair_scratch;

typedef struct {
  int L, M, T;
  const double **X, **Y;
  const int *nx, *ny;
  const R_xlen_t *cap_start;
  int *fi, *fj, *nnz, *status;
  double *fx, *cost, *pivots;
} pair_job;

/* one pair: cost matrix, exact OT with integer masses, sparse plan */
static void solve_pair(const pair_job *job, int k, pair_scratch *s) {
  int l = k % job->L, m = k / job->L, n = job->nx[l], nm = job->ny[m];
  correlation_cost(job->X[l], job->Y[m], job->T, n, nm, s->K);
  /* uniform masses 1/n, 1/nm solved exactly as integers nm, n */
  for (int i = 0; i < n; i++) s->a[i] = nm;
  for (int j = 0; j < nm; j++) s->b[j] = n;
  ot_problem *p = ot_init(s->work, n, nm, s->K, s->a, s->b);
  int st = ot_run(p, 0);
  job->status[k] = st;
  job->pivots[k] = ot_pivots(p);
  job->nnz[k] = 0;
  job->cost[k] = NA_REAL;
  if (st != OT_OPTIMAL) return;
  R_xlen_t at = job->cap_start[k];
  job->nnz[k] = ot_extract(p, 1.0 / ((double) n * nm), job->fi + at, job->fj + at,
                           job->fx + at, s->u, s->v, job->cost + k);
}

SEXP ffi_inner_plans(SEXP Xs, SEXP Ys, SEXP threads, SEXP progress) {
  const int L = Rf_length(Xs), M = Rf_length(Ys), LM = L * M;
  const int nth = hot_threads_clamp(Rf_asInteger(threads));
  const int show = Rf_asLogical(progress) == 1;
  pair_job job;
  job.L = L;
  job.M = M;
  job.T = Rf_nrows(VECTOR_ELT(Xs, 0));
  job.X = (const double **) R_alloc(L, sizeof(double *));
  job.Y = (const double **) R_alloc(M, sizeof(double *));
  int *nx = (int *) R_alloc(L, sizeof(int)), *ny = (int *) R_alloc(M, sizeof(int));
  int max_n = 0, max_m = 0;
  for (int l = 0; l < L; l++) {
    job.X[l] = REAL(VECTOR_ELT(Xs, l));
    nx[l] = Rf_ncols(VECTOR_ELT(Xs, l));
    if (nx[l] > max_n) max_n = nx[l];
  }
  for (int m = 0; m < M; m++) {
    job.Y[m] = REAL(VECTOR_ELT(Ys, m));
    ny[m] = Rf_ncols(VECTOR_ELT(Ys, m));
    if (ny[m] > max_m) max_m = ny[m];
  }
  job.nx = nx;
  job.ny = ny;

  /* room for the at most n + n' - 1 non-zeros of each pair */
  R_xlen_t *cap_start = (R_xlen_t *) R_alloc((size_t) LM + 1, sizeof(R_xlen_t));
  R_xlen_t max_nm = 0;
  cap_start[0] = 0;
  for (int k = 0; k < LM; k++) {
    int n = nx[k % L], nm = ny[k / L];
    cap_start[k + 1] = cap_start[k] + n + nm - 1;
    if ((R_xlen_t) n * nm > max_nm) max_nm = (R_xlen_t) n * nm;
  }
  job.cap_start = cap_start;
  job.fi = (int *) R_alloc(cap_start[LM], sizeof(int));
  job.fj = (int *) R_alloc(cap_start[LM], sizeof(int));
  job.fx = (double *) R_alloc(cap_start[LM], sizeof(double));
  job.nnz = (int *) R_alloc(LM, sizeof(int));
  job.status = (int *) R_alloc(LM, sizeof(int));

  SEXP cost = PROTECT(Rf_allocMatrix(REALSXP, L, M));
  SEXP pivots = PROTECT(Rf_allocMatrix(REALSXP, L, M));
  job.cost = REAL(cost);
  job.pivots = REAL(pivots);

  /* one cost buffer and one solver workspace per thread */
  pair_scratch *scratch = (pair_scratch *) R_alloc(nth, sizeof(pair_scratch));
  size_t work_bytes = ot_workspace_bytes(max_n, max_m);
  for (int t = 0; t < nth; t++) {
    scratch[t].K = (double *) R_alloc(max_nm, sizeof(double));
    scratch[t].a = (double *) R_alloc(max_n, sizeof(double));
    scratch[t].b = (double *) R_alloc(max_m, sizeof(double));
    scratch[t].u = (double *) R_alloc(max_n, sizeof(double));
    scratch[t].v = (double *) R_alloc(max_m, sizeof(double));
    scratch[t].work = R_alloc(work_bytes, 1);
  }

  SEXP bar = PROTECT(show ? cli_progress_bar(LM, NULL) : R_NilValue);
  if (show) cli_progress_set_name(bar, "inner OT");
  const int chunk = 2 * nth;
  for (int k0 = 0; k0 < LM; k0 += chunk) {
    const int k1 = k0 + chunk < LM ? k0 + chunk : LM;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nth) schedule(dynamic, 1)
#endif
    for (int k = k0; k < k1; k++) {
#ifdef _OPENMP
      int tid = omp_get_thread_num();
#else
      int tid = 0;
#endif
      solve_pair(&job, k, scratch + tid);
    }
    R_CheckUserInterrupt();
    if (show && CLI_SHOULD_TICK) cli_progress_set(bar, k1);
  }
  if (show) cli_progress_done(bar);

  /* compact the triplets pair by pair, in pair order */
  R_xlen_t total = 0;
  for (int k = 0; k < LM; k++) total += job.nnz[k];
  SEXP ri = PROTECT(Rf_allocVector(INTSXP, total));
  SEXP rj = PROTECT(Rf_allocVector(INTSXP, total));
  SEXP rx = PROTECT(Rf_allocVector(REALSXP, total));
  SEXP start = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t) LM + 1));
  SEXP status = PROTECT(Rf_allocVector(INTSXP, LM));
  R_xlen_t at = 0;
  REAL(start)[0] = 0;
  for (int k = 0; k < LM; k++) {
    R_xlen_t from = cap_start[k];
    for (int t = 0; t < job.nnz[k]; t++, at++) {
      INTEGER(ri)[at] = job.fi[from + t] + 1;
      INTEGER(rj)[at] = job.fj[from + t] + 1;
      REAL(rx)[at] = job.fx[from + t];
    }
    REAL(start)[k + 1] = (double) at;
    INTEGER(status)[k] = job.status[k];
  }
  const char *names[] = {"cost", "i", "j", "x", "start", "pivots", "status", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(out, 0, cost);
  SET_VECTOR_ELT(out, 1, ri);
  SET_VECTOR_ELT(out, 2, rj);
  SET_VECTOR_ELT(out, 3, rx);
  SET_VECTOR_ELT(out, 4, start);
  SET_VECTOR_ELT(out, 5, pivots);
  SET_VECTOR_ELT(out, 6, status);
  UNPROTECT(9);
  return out;
}
