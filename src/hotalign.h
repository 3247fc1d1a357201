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
 * dense pricing).  Call right after ot_init(); the optimum is the same. */
enum ot_pricing { OT_PRICE_AUTO = 0, OT_PRICE_DENSE = 1, OT_PRICE_NO_ROOM = 2,
                  OT_PRICE_SIMPLEX = 3 };
void ot_set_pricing(ot_problem *p, int mode);

/* Work so far: simplex pivots, plus the row scans (n arc prices each) of
 * the assignment solver on square uniform problems.  OT_PRICE_SIMPLEX (and
 * the two rules above) keep a square uniform problem on the simplex; under
 * OT_PRICE_AUTO it goes to ot_assign.c. */
double ot_pivots(const ot_problem *p);

/* Writes the optimal vertex: the arcs with positive flow (at most n + m - 1)
 * as 0-based (fi, fj, fx) with fx scaled by `mass_scale`, and the centred
 * duals u (n), v (m).  Returns the number of non-zeros; *cost receives
 * sum C * F (scaled). */
int ot_extract(const ot_problem *p, double mass_scale, int *fi, int *fj,
               double *fx, double *u, double *v, double *cost);

/* ----------------------------------------------------------------- ot_assign.c
 * The square uniform case (n x n, all masses equal) as a linear assignment
 * problem: shortest augmenting paths (Jonker-Volgenant), resumable, warm
 * restarts from the previous duals and assignment, optimality declared by a
 * pass over C.  Used by ot_simplex.c behind the ot_problem API. */
typedef struct ot_assign ot_assign;
#define OT_ASSIGN_GAVE_UP 16 /* round-off defeated the repairs: use the simplex */
size_t ot_assign_bytes(int n);
ot_assign *ot_assign_init(void *work, int n, const double *C);
int ot_assign_run(ot_assign *s, double budget);
void ot_assign_restart(ot_assign *s);
void ot_assign_refresh(ot_assign *s); /* added arcs take the new costs of C */
/* the arcs searched first (start: n + 1 offsets into adj_c / adj_a, the
 * columns and costs of each LAP row's arcs); NULL: every arc.  The
 * certificate always reads all of C.  Call after init and after a restart. */
void ot_assign_set_graph(ot_assign *s, const int *start, const int *adj_c,
                         const double *adj_a);
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

/* -------------------------------------------------------- correlation_cost.c
 * K (n x m) = 1 - Xs' Ys for standardised Xs (T x n), Ys (T x m). */
void correlation_cost(const double *Xs, const double *Ys, int T, int n, int m,
                      double *K);

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
 * sized for the largest pair (n source units, m target units, nm = max n*m,
 * lwork = the largest rotation_lwork() of the source widths). */
typedef struct {
  double *G, *R, *M, *U, *VT, *A, *S, *d, *u, *v, *fx, *work;
  int *iwork, *fi, *fj;
  int lwork;
} rotation_scratch;

/* dgesdd workspace (doubles) for an n x n SVD with jobz = "S"; -1 if the
 * query fails.  Call it on the main thread and pass the value on: the SVD's
 * result may depend on lwork, so it must be a function of n alone. */
int rotation_lwork(int n);
size_t rotation_scratch_doubles(int n, int m, R_xlen_t nm, int lwork);
size_t rotation_scratch_ints(int n, int m);
void rotation_scratch_init(rotation_scratch *ws, double *dbl, int *ints, int n,
                           int m, R_xlen_t nm, int lwork);

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

/* ----------------------------------------------------------------- threads.c */
int hot_threads_clamp(int requested);

#endif
