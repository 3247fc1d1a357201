/* Shared declarations of the pure-C kernels of hotalign.
 *
 * Kernels take plain pointers, sizes and workspaces (never SEXP) so that they
 * can run inside OpenMP regions and be tested on their own.  Everything that
 * multiplies two dimensions is R_xlen_t / size_t.
 */
#ifndef HOTALIGN_H
#define HOTALIGN_H

#include <stddef.h>
#include <R_ext/Arith.h>   /* R_xlen_t via Rinternals in the wrappers */
#include <Rinternals.h>

/* ---------------------------------------------------------------- ot_simplex.c
 * Exact optimal transport on the complete bipartite graph by the network
 * simplex method:  min <C, F>  s.t.  F >= 0, F 1 = a, F' 1 = b.
 * C is n x m, column-major.  a and b are non-negative with equal sums.
 * The solver is resumable: ot_run() performs at most `budget` pivots and
 * says whether it is done, so that callers can check for interrupts between
 * slices of work.
 */
typedef struct ot_problem ot_problem;

enum ot_status {
  OT_OPTIMAL = 0,    /* optimal, certificate recomputed and checked */
  OT_RUNNING = 1,    /* budget exhausted: call ot_run() again */
  OT_INFEASIBLE = 2, /* artificial flow remains (masses do not balance) */
  OT_UNBOUNDED = 3   /* cannot happen for finite costs; reported, not assumed */
};

/* Bytes of workspace for an n x m problem (one block, any alignment of 16). */
size_t ot_workspace_bytes(int n, int m);

/* Sets up the problem in `work`.  C, a and b must stay alive until
 * ot_extract() returns.  Never fails. */
ot_problem *ot_init(void *work, int n, int m, const double *C,
                    const double *a, const double *b);

/* Pivots until optimal or `budget` pivots are spent (budget <= 0: no limit). */
int ot_run(ot_problem *p, double budget);

/* Warm start after the costs C (same buffer, same size) have changed: keeps
 * the current basis, which stays feasible, and resumes pivoting from it. */
void ot_restart(ot_problem *p);

/* Pricing, for tests: OT_PRICE_AUTO (the default of ot_init), OT_PRICE_DENSE
 * (block search over every arc only), OT_PRICE_NO_ROOM (a candidate list
 * that cannot grow, so the first full scan that finds an arc switches to
 * dense pricing), OT_PRICE_STAR (OT_PRICE_AUTO's pricing from the star
 * tree, every node on its artificial arc, instead of the crash basis built
 * from the candidate list).  Call right after ot_init(); the optimum is the
 * same. */
enum ot_pricing { OT_PRICE_AUTO = 0, OT_PRICE_DENSE = 1, OT_PRICE_NO_ROOM = 2,
                  OT_PRICE_SIMPLEX = 3, OT_PRICE_STAR = 4 };
void ot_set_pricing(ot_problem *p, int mode);

/* Work so far: simplex pivots, plus the row scans (n arc prices each) of
 * the assignment solver on square uniform problems.  OT_PRICE_SIMPLEX (and
 * the other rules) keep a square uniform problem on the simplex; under
 * OT_PRICE_AUTO it goes to ot_assign.c. */
double ot_pivots(const ot_problem *p);

/* Writes the optimal vertex: the arcs with positive flow (at most n + m - 1)
 * as 0-based (fi, fj, fx) with fx scaled by `mass_scale`, and the centred
 * duals u (n), v (m).  Returns the number of non-zeros; *cost receives
 * sum C * F (scaled). */
int ot_extract(const ot_problem *p, double mass_scale, int *fi, int *fj,
               double *fx, double *u, double *v, double *cost);

/* ------------------------------------------------------------------ ot_exact.c
 * Pivots per ot_run() slice between two interrupt checks (about 2^24 arc
 * prices) for an n x m problem. */
double ot_slice_pivots(int n, int m);
/* ----------------------------------------------------------------- ot_assign.c
 * The square uniform case (n x n, all masses equal) as a linear assignment
 * problem: shortest augmenting paths (Jonker-Volgenant), resumable, warm
 * restarts from the previous duals and assignment, optimality declared by a
 * pass over C.  Used by ot_simplex.c behind the ot_problem API. */
typedef struct ot_assign ot_assign;
/* problems of fewer arcs are searched densely (and have no graph room) */
#define OT_ASSIGN_GRAPH_MIN_ARCS 65536
#define OT_ASSIGN_GAVE_UP 16 /* round-off defeated the repairs: use the simplex */
size_t ot_assign_bytes(int n);
ot_assign *ot_assign_init(void *work, int n, const double *C);
int ot_assign_run(ot_assign *s, double budget);
void ot_assign_restart(ot_assign *s);
void ot_assign_refresh(ot_assign *s); /* added arcs take the new costs of C */
/* the arcs searched first: every arc (the default of ot_assign_init()), or
 * a graph the solver builds itself, from C, in column reduction (for
 * problems large enough to search sparsely).  The certificate always reads
 * all of C.  Call after init. */
void ot_assign_dense_graph(ot_assign *s);
void ot_assign_own_graph(ot_assign *s);
double ot_assign_work(const ot_assign *s);
void ot_assign_solution(const ot_assign *s, int *perm, double *ui, double *vj);

/* ------------------------------------------------------------------ memory.c
 * Advice to back the whole 2 MiB pages of [ptr, ptr + bytes) with huge pages
 * (Linux); a no-op elsewhere. */
void advise_huge_pages(void *ptr, size_t bytes);

/* -------------------------------------------------------------- standardise.c
 * Column statistics on the training rows and their application to rows. */
/* center/scale of each column of the T x n matrix X over rows `rows`
 * (0-based, n_rows of them).  constant[j] = 1 when the column is exactly
 * constant on those rows (scale is then 0). */
void col_train_stats(const double *X, R_xlen_t T, int n, const int *rows,
                     int n_rows, double *center, double *scale, int *constant);
/* Z (n_rows x n_keep) = (X[rows, keep] - center) / scale */
void standardise_rows(const double *X, R_xlen_t T, const int *rows, int n_rows,
                      const int *keep, int n_keep, const double *center,
                      const double *scale, double *Z);
/* The statistics of col_train_stats() and the rows of standardise_rows()
 * at once, bit for bit theirs, for columns j0 .. j0 + w - 1 (w <= 8) of the
 * T x n matrix X: center/scale/constant indexed by column, Ztrain (n_train
 * x n) and Ztest (n_test x n) written in those columns; `scratch` holds
 * col_stats_standardise_scratch(n_train) doubles; simd = 1 takes the
 * AVX2 path (the caller has checked the processor), 0 the generic one.  standardise_layers() does every column of K layers over
 * nth threads (see standardise.c). */
size_t col_stats_standardise_scratch(int n_train);
void col_stats_standardise(const double *X, R_xlen_t T, int j0, int w, const int *train,
                           int n_train, const int *test, int n_test, double *center,
                           double *scale, int *constant, double *Ztrain, double *Ztest,
                           double *scratch, int simd);
void standardise_layers(int K, const double *const *X, R_xlen_t T, const int *n,
                        const int *train, int n_train, const int *test, int n_test,
                        double *const *center, double *const *scale, int *const *constant,
                        double *const *Ztrain, double *const *Ztest, int nth, int simd);

/* 1 when every one of the n values of v is finite (no NA, NaN, +-Inf), and
 * then max |v| (0 for n = 0) into *big: one pass, AVX2 where the processor
 * has it.  The scan of the input checks (ffi_nonfinite) and the entry
 * points' own refusal of non-finite costs (ot_exact.c). */
int values_finite(const double *v, R_xlen_t n, double *big);

/* -------------------------------------------------------- correlation_cost.c
 * K (n x m) = 1 - Xs' Ys for standardised Xs (T x n), Ys (T x m), by the
 * kernel COST_BLAS or COST_INTERNAL (see cost_kernel_resolve()). */
void cost_kernel_init(void);
/* 1 when the processor has AVX2 (decided at load time by cost_kernel_init) */
int cpu_has_avx2(void);
void correlation_cost(const double *Xs, const double *Ys, int T, int n, int m,
                      double *K, int kernel);
/* C (a x b) = X' Y for X (k x a), Y (k x b): the same kernels, no 1 -;
 * _lower (a = b): only the lower triangle defined; kernel_gram: C = X' X
 * (bit for bit kernel_product(X, X), half the work) */
void kernel_product(const double *X, const double *Y, int k, int a, int b, double *C,
                    int kernel);
void kernel_product_lower(const double *X, const double *Y, int k, int a, double *C,
                          int kernel);
void kernel_gram(const double *X, int k, int a, double *C, int kernel);
/* out (b x a) = in' for in (a x b) (correlation_cost.c, blocked) */
void mat_transpose(const double *in, int a, int b, double *out);

/* ---------------------------------------------------------- symmetric_eigen.c
 * H = Z diag(lam) Z' (ascending) of the symmetric H (r x r, overwritten) by
 * dsyevr's algorithm with its level-2/3 parts through the internal kernel;
 * scratch C (r^2) and work (lw); iwork of liwork ints, isuppz of 2 r.
 * Returns 1, or 0 when LAPACK fails.  kernel: the cost kernel in use
 * (COST_BLAS: LAPACK's own tridiagonal reduction).  eigen_kernel_fits():
 * whether lw is enough (otherwise call dsyevr). */
int eigen_kernel_fits(int r, int lw);
size_t eigen_kernel_lwork(int r);
int eigen_kernel(double *H, int r, double *lam, double *Z, int *isuppz, int *iwork,
                 int liwork, double *C, double *work, int lw, int kernel);

/* ---------------------------------------------------------------- rotation.c
 * Rotation-invariant HOT (HOT+R) of one layer pair: block-coordinate descent
 * over R in O(n) (orthogonal Procrustes, LAPACK dgesdd) and the inner plan Q
 * (exact OT, warm-started).  Statuses beyond the ot_status values: */
enum rotation_status {
  ROT_SVD_NO_CONVERGENCE = 4, /* dgesdd info > 0 */
  ROT_SVD_ARGUMENT = 5        /* dgesdd info < 0: a bug, reported */
};

/* Per-thread workspace of the descent, carved from one block of
 * rotation_scratch_doubles() doubles and one of rotation_scratch_ints() ints
 * sized for the largest pair (n source units, m target units, T training
 * rows, lwork = the largest rotation_lwork() of the source widths):
 * O(n min(n, T) + min(n, T) m) doubles, no n x m block. */
typedef struct {
  double *G, *R, *M, *U, *VT, *A, *S, *d, *u, *v, *fx, *work;
  int *iwork, *fi, *fj;
  int lwork;
  /* the subspace form (see the top of rotation.c): basis V (n x r) with
   * V'GV = diag(lam), B0 = V'A (r x m), W = V'R (r x n), r <= min(n, T);
   * ident = 1 (n <= T): V = I, ws->V holds G and lam = diag(G) */
  double *V, *lam, *B0, *W, *tau, *sgn;
  int *isuppz;
  int r, ident;
  /* 1 (the default of rotation_scratch_init): rotation_finish() and
   * rotation_from_plan() form the dense ws->R; 0: with r < n only the compact
   * factors (ws->R is then left as it was), saving 8 n^2 r flops per pair
   * when the caller keeps no dense rotation */
  int form_R;
  /* doubles of ws->R: n^2 in a scratch made for the dense R
   * (rotation_scratch_init(dense_n = n)), else n min(n, T); a dense R that
   * does not fit is not formed (the compact form is) */
  size_t R_cap;
  /* the plan from which W (and R) was computed: pnnz entries, -1 if none.
   * Plans are kept in canonical order, sorted by (fi, fj) (canonical_plan
   * of rotation.c), with sorting scratch ti, tj, tx, cnt */
  double *pfx, *tx;
  int *pfi, *pfj, *ti, *tj, *cnt;
  int pnnz;
  /* 1 when the last Procrustes matrix had numerically deficient row rank
   * (its polar factor, hence the next iterate, is then not unique) */
  int rank_deficient;
  /* bound on the change of any cost entry from the dropped directions */
  double dropped_bound;
  /* the Procrustes step's polar factor: 1 (the default of
   * rotation_scratch_init) = from a symmetric eigendecomposition with a
   * certified correction, dgesdd where the certificate fails; 0 = dgesdd
   * always.  polar_fast / polar_fallback count the steps of each kind,
   * polar_reused the steps whose plan was the one W came from (W kept). */
  int polar_mode, polar_fast, polar_fallback, polar_reused;
  /* 1 (the default): a step whose plan is the recorded one keeps W and K
   * (rotation_step); 0: it recomputes them (the reference the tests hold
   * the shortcut to, bit for bit) */
  int reuse_plan;
  /* state of the resumable descent (rotation_begin / _step / _finish) */
  int n, m, T, nnz, it, max_iter, phase, conv, status, lw;
  double obj, tol;
  double *trace;
  /* COST_BLAS or COST_INTERNAL: the products go through correlation_cost();
   * rotation_scratch_init() sets the automatic choice, callers may override */
  int kernel;
} rotation_scratch;

/* The LAPACK workspace (doubles) of the descent for a source of n units and
 * T training rows (the optimal one of every call it makes; O(n T) when
 * n > T); -1 if a query fails.  Call it on the main thread and pass the
 * value on: LAPACK's results may depend on lwork, so it must be a function
 * of n and T alone. */
int rotation_lwork(int n, int T);
/* the scratch for sources of at most n units with T training rows:
 * O(n min(n, T)) doubles, with room in ws->R for the dense R of sources of
 * up to dense_n units (0: none wider than T; the compact form is formed) */
size_t rotation_scratch_doubles(int n, int m, int T, int lwork, int dense_n);
size_t rotation_scratch_ints(int n, int m);
void rotation_scratch_init(rotation_scratch *ws, double *dbl, int *ints, int n,
                           int m, int T, int lwork, int dense_n);

/* The descent for one pair.  On entry p is the solved plain problem on K
 * (K = 1 - Xs' Ys, R = I); on exit ws->R is the final R (n x n), K its cost
 * K_R, p optimal on it, *objective = <K_R, Q>.  trace (max_iter + 1 doubles,
 * or NULL) receives the objective before the first and after every
 * iteration.  Returns OT_OPTIMAL or a failure status (ot_status or
 * rotation_status).  max_iter = 0 leaves K, p untouched and R = I. */
int rotation_descent(ot_problem *p, const double *Xs, const double *Ys, int T,
                     int n, int m, int max_iter, double tol, int lwork,
                     double *K, rotation_scratch *ws, double *objective,
                     double *trace, int *iterations, int *converged);

/* ---------------------------------------------------------------- pair_loop.c
 * The inner level: every layer pair (l, m) of standardised layers, its cost
 * K_lm and exact OT plan Q_lm (and with rotation the HOT+R descent), in one
 * OpenMP loop that checks for interrupts every quarter of a second. */
typedef struct {
  int L, M, T;
  const double **X, **Y;
  const int *nx, *ny;
  int kernel; /* COST_BLAS or COST_INTERNAL */
  /* HOT+R: flag, iteration limit, tolerance, dgesdd workspace per source */
  int rotation, max_iter;
  double tol;
  const int *lwork;
  /* per pair k (L * M): plan storage and results */
  const R_xlen_t *cap_start;
  int *fi, *fj, *nnz, *status, *iterations, *converged;
  double *fx, *cost;
  /* optional per-pair outputs (NULL, or NULL entries): R (n_l x n_l) and the
   * objective trace (max_iter + 1) */
  double **rot_out, **trace_out;
  /* share of each pair's mass to move: 1 (balanced, set by pair_job_setup)
   * or < 1, the exact partial OT of ot_partial.c (pair_job_set_unit_mass();
   * costs are then per unit of moved mass, plans sum to unit_mass) */
  double unit_mass;
  /* HOT+R: per pair k, the plan the final R was computed from (the
   * recorded ws->pfi, pfj, pfx, pnnz of rotation.c), at cap_start[k];
   * rplan_nnz[k] = -1 when no Procrustes step was made (R = I) */
  int *rplan_i, *rplan_j, *rplan_nnz;
  double *rplan_x;
  /* HOT+R, set by pair_job_run(): per source layer, its basis
   * (rotation_basis) when it is wider than T and has several pairs to do,
   * shared by all its pairs; NULL entries elsewhere */
  double **basis;
  /* set by pair_job_run(): its per-thread cost buffers (n_buf of buf_nm
   * doubles) and, with rotation, descent workspaces (sized for the largest
   * pair, no room for a dense R wider than T), still allocated until the
   * .Call returns, for pair_rotations() to reuse */
  int n_buf;
  R_xlen_t buf_nm;
  double **K_buf;
  rotation_scratch **rot_buf;
} pair_job;

/* The masses of an n x m problem: uniform 1/n, 1/m, held as the integers
 * a = m, b = n so that the simplex is exact; returns the scale 1 / (n m)
 * that turns the integer flows into the plan.  Both levels of HOT (the
 * unit pairs and the layer coupling) take their masses from here: partial
 * transport will pass other masses in this one place. */
double uniform_masses(int n, int m, double *a, double *b);
void pair_job_setup(pair_job *job, int L, int M, int T, const double **X,
                    const double **Y, const int *nx, const int *ny, int kernel,
                    int rotation, int max_iter, double tol);
/* bytes of one thread's scratch for pairs of at most n x m units (nm the
 * largest n_l * n'_m; T training rows; lwork the largest rotation_lwork(),
 * with rotation) */
size_t pair_scratch_bytes(int n, int m, R_xlen_t nm, int T, int rotation, int lwork);
/* solves pairs todo[0 .. ntodo - 1] (0-based, distinct) with nth threads;
 * show: a progress bar named `label` */
void pair_job_run(pair_job *job, const int *todo, int ntodo, int nth, int show,
                  const char *label);
SEXP pair_job_plans(const pair_job *job);
/* HOT+R descent iterations (Procrustes steps) run by pair_job_run() since
 * the last reset (reset = 1 returns the count and sets it to 0): lets a
 * test see that no descent runs twice */
double pair_loop_descent_iterations(int reset);
/* partial inner problems (0 < s < 1; not with rotation): call after
 * pair_job_setup(), before pair_job_run(); reallocates the plan storage for
 * the at most n + n' + 1 non-zeros of a partial vertex */
void pair_job_set_unit_mass(pair_job *job, double s);

/* -------------------------------------------------------------- reconstruct.c
 * The one reconstruction-and-correlation kernel (see the top of the file for
 * the rule of an undefined correlation). */
typedef struct {
  const int *i, *j;        /* 1-based units of the triplets */
  const double *x, *start; /* start: L*M + 1 offsets (doubles: may exceed int) */
} sparse_plans;

typedef struct {
  int L, M, T;              /* T: rows scored */
  const double **X, **Y;    /* standardised rows of every layer, T x nx[l], T x ny[m] */
  const double **ynorm;     /* per target layer, the norm of each unit's column */
  const int *nx, *ny;
  sparse_plans sp;
  const double **rot;       /* L * M rotations (NULL entries: none) or NULL */
  const int *rot_r;         /* NULL, or per pair 0 (rot[k] dense n_l x n_l) or
                             * r >= 1 (rot[k] compact, rotation_compact_*) */
} score_job;

/* the plans of a list whose elements first .. first + 3 are i, j, x, start */
sparse_plans plans_from_list(SEXP list, int first);
/* doubles of scratch that score_layer() needs for a layer of n units
 * (rotated: with rotations, compact ones of rank at most max_r) */
size_t score_scratch_doubles(int T, int n, int rotated, int max_r);
/* Rebuilds layer l from weights W (L x M) and scores it: r (n_l) receives
 * the correlation of each unit (NA_REAL where undefined), Xhat (T x n_l,
 * or NULL) the reconstruction; returns the mean of the defined r (as R's
 * mean(), in long double), NA_REAL when none is. */
double score_layer(const score_job *job, int l, const double *W, double *scratch,
                   double *r, double *Xhat);
/* the norm of each column of a T x n matrix */
void column_norms(const double *Y, int T, int n, double *norm);
/* The same descent, resumable, so that a caller can check for interrupts
 * between slices of work: rotation_begin() takes the arguments of
 * rotation_descent(); rotation_step() does at most one iteration, with at
 * most `budget` simplex pivots (budget <= 0: no limit), and returns
 * OT_RUNNING while the descent goes on, OT_OPTIMAL once it has stopped, or a
 * failure status; rotation_finish() forms ws->R and the results.  The three
 * give bit for bit the result of rotation_descent(), for any budgets. */
int rotation_begin(ot_problem *p, const double *Xs, const double *Ys, int T,
                   int n, int m, int max_iter, double tol, int lwork, double *K,
                   rotation_scratch *ws, double *trace);
int rotation_step(ot_problem *p, double *K, rotation_scratch *ws, double budget);
/* The source layer's basis once per layer (rotation_basis_doubles(n, T)
 * doubles; ws: any scratch sized for n), then rotation_begin_basis() in place
 * of rotation_begin() for each of its pairs: bit for bit the same descent,
 * without the per-pair QR / eigendecomposition of the source. */
size_t rotation_basis_doubles(int n, int T);
int rotation_basis(const double *Xs, int T, int n, int lwork, rotation_scratch *ws,
                   double *basis);
int rotation_begin_basis(ot_problem *p, const double *basis, int T, int n, int m,
                         int max_iter, double tol, int lwork, double *K,
                         rotation_scratch *ws, double *trace);
int rotation_finish(rotation_scratch *ws, double *objective, int *iterations,
                    int *converged);

/* Recomputes R (ws->R, and its compact form) from a recorded plan (fi, fj,
 * fx: the ws->pfi, pfj, pfx, pnnz the descent left) by one Procrustes step:
 * bit-identical to the descent's R, so that no descent runs twice.  K is
 * n x m workspace (overwritten). */
int rotation_from_plan(const double *Xs, const double *Ys, int T, int n, int m,
                       int lwork, const int *fi, const int *fj, const double *fx,
                       int nnz, double *K, rotation_scratch *ws);
/* the same with the source's basis from rotation_basis() (NULL: from Xs) */
int rotation_from_plan_basis(const double *Xs, const double *basis, const double *Ys,
                             int T, int n, int m, int lwork, const int *fi,
                             const int *fj, const double *fx, int nnz, double *K,
                             rotation_scratch *ws);

/* Compact R after rotation_finish() / rotation_from_plan(): r = n, R itself
 * (n x n); r < n, the Householder factors of V and W' (2 n r + 3 r doubles),
 * O(n T) per pair.  rotation_compact_apply() computes Z (k x n) := Z R'
 * (the reconstruction Y (nQ)' R'), work: rotation_compact_work(n, r, k);
 * it only reads `compact`, so threads may apply one stored rotation at
 * once. */
size_t rotation_compact_doubles(int n, int r);
void rotation_compact_store(const rotation_scratch *ws, double *out);
size_t rotation_compact_work(int n, int r, int k);
int rotation_compact_apply(const double *compact, int n, int r, double *Z, int k,
                           double *work);
/* the dense R of a compact form, bit for bit the R that rotation_finish() /
 * rotation_from_plan() form (work: lwork >= rotation_expand_lwork(n, r)
 * doubles) */
int rotation_expand_lwork(int n, int r);
/* whether the rotations of a source of n units with T training rows are
 * kept dense (n^2 doubles) rather than compact (see rotation.c) */
int rotation_keeps_dense(int n, int T);
int rotation_compact_expand(const double *compact, int n, int r, double *R,
                            double *work, int lwork);

/* A rotation-invariant lower bound of the pair's HOT+R objective, from the
 * basis set up by rotation_begin():  tr(G)/(2n) + 1/2 - ||Xs'Ys||_* / sqrt(n m),
 * with a certified round-off margin (see rotation.c); -Inf when it cannot
 * be computed in the scratch.  copy: r m doubles; overwrites ws->S. */
double rotation_lower_bound(rotation_scratch *ws, double *copy);

/* ------------------------------------------------------------------ memory.c
 * Advice to back the whole 2 MiB pages of [ptr, ptr + bytes) with huge pages
 * (Linux); a no-op elsewhere. */
void advise_huge_pages(void *ptr, size_t bytes);

/* -------------------------------------------------------------- standardise.c
 * Argument checks of the .Call wrappers (R has checked everything; a direct
 * .Call with anything else is refused with an R error, never read out of
 * bounds).  check_layer_list: `layers` is a non-empty list of double
 * matrices with at least one column each and T rows (T < 0: the rows of the
 * first); returns T.  check_whole: a single non-NA integer or whole double
 * >= min. */
int check_layer_list(SEXP layers, const char *what, int T);
int check_whole(SEXP x, const char *what, int min);

/* ----------------------------------------------------------------- threads.c
 * The runtime policy (see the top of threads.c). */
enum cost_kernel { COST_AUTO = 0, COST_BLAS = 1, COST_INTERNAL = 2 };
void runtime_init(void);
int blas_is_optimised(void);
/* COST_BLAS or COST_INTERNAL for a mode of the option hotalign.cost_kernel */
int cost_kernel_resolve(int mode);
/* the same from an R integer, checked */
int cost_kernel_mode_arg(SEXP mode);
/* threads by default: OpenMP's, honouring OMP_NUM_THREADS, OMP_THREAD_LIMIT */
int hot_threads_default(void);
/* threads for a region of `tasks` independent tasks (tasks < 1: no cap) */
int hot_threads_for(int requested, double tasks);
/* hot_threads_for(), but 1 for a region of fewer than 2^17 values of work */
int hot_threads_for_work(int requested, double tasks, double values);

/* ---------------------------------------------------------------- ot_partial.c
 * Exact partial OT:  min <C, Q>  s.t.  Q >= 0, Q 1 <= a, Q' 1 <= b,
 * sum Q = mass  (0 < mass <= min(sum a, sum b), checked by the caller), by
 * the balanced problem with one dummy row and column (see ot_partial.c for
 * the reduction and its invariants).  Usage: q = ot_partial_init(work, ...);
 * while (ot_run(q->ot, budget) == OT_RUNNING) ...; ot_partial_extract(q, ...).
 * No R API: safe inside OpenMP regions. */
typedef struct ot_partial {
  int n, m;          /* real sizes; the solver sees (n + 1) x (m + 1) */
  double mass, big;  /* mass to move; cost of the dummy-dummy cell */
  double tiny;       /* flows at or below it are round-off zeros */
  double *C, *a, *b; /* augmented cost (column-major, leading dim n + 1), masses */
  int *fi, *fj;      /* extraction scratch (n + m + 2 each) */
  double *fx, *duals;
  ot_problem *ot;    /* the balanced solver on the augmented problem */
} ot_partial;

size_t ot_partial_workspace_bytes(int n, int m);
ot_partial *ot_partial_init(void *work, int n, int m, const double *C,
                            const double *a, const double *b, double mass);
/* Writes the real arcs with positive flow (at most n + m + 1: capacity of
 * fi, fj, fx) 0-based, the duals alpha (n, <= 0), beta (m, <= 0) and lambda
 * (of the total mass), *cost = <C, Q> and *dummy_flow the dummy-dummy flow
 * (0 at an exact optimum).  Returns the number of real non-zeros. */
int ot_partial_extract(const ot_partial *q, int *fi, int *fj, double *fx,
                       double *alpha, double *beta, double *lambda,
                       double *cost, double *dummy_flow);
/* fork.c: 1 in a process forked after hotalign was loaded (OpenMP unsafe) */
int hot_in_forked_child(void);

/* Insert (h, id) into the k-best list val[0..*kept) (ascending; idx its
 * ids), which holds at most K entries: a full list drops its largest. The
 * caller has already skipped an h that would not enter a full list. Ties
 * keep the earlier entry first. Used by the solvers' candidate lists
 * (ot_simplex.c, ot_assign.c). */
static inline void kbest_insert(double *val, int *idx, int *kept, int K,
                                double h, int id) {
  int x = *kept < K ? (*kept)++ : K - 1;
  while (x > 0 && val[x - 1] > h) {
    val[x] = val[x - 1];
    idx[x] = idx[x - 1];
    x--;
  }
  val[x] = h;
  idx[x] = id;
}

#endif
