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

/* Number of pivots so far. */
double ot_pivots(const ot_problem *p);

/* Writes the optimal vertex: the arcs with positive flow (at most n + m - 1)
 * as 0-based (fi, fj, fx) with fx scaled by `mass_scale`, and the centred
 * duals u (n), v (m).  Returns the number of non-zeros; *cost receives
 * sum C * F (scaled). */
int ot_extract(const ot_problem *p, double mass_scale, int *fi, int *fj,
               double *fx, double *u, double *v, double *cost);

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

/* ----------------------------------------------------------------- threads.c */
int hot_threads_clamp(int requested);

#endif
