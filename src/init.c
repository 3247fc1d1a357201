/* Registration of every .Call entry point with its exact argument count. */
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>

SEXP ffi_ot_exact(SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP ffi_col_stats(SEXP, SEXP);
SEXP ffi_standardise(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP ffi_nonfinite(SEXP);
SEXP ffi_col_stats_standardise(SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP ffi_correlation_cost(SEXP, SEXP, SEXP);
SEXP ffi_inner_plans(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP ffi_rotation_pairs(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP ffi_reconstruct_scores(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP ffi_rotation_parts(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP ffi_symmetric_eigen(SEXP, SEXP);
SEXP ffi_kernel_product(SEXP, SEXP, SEXP, SEXP);
SEXP ffi_pair_step_work(SEXP);
SEXP ffi_rotation_expand(SEXP, SEXP, SEXP);
SEXP ffi_threads_available(void);
SEXP ffi_has_openmp(void);
SEXP ffi_blas_threads(SEXP);
SEXP ffi_cost_kernel(SEXP);
SEXP ffi_sinkhorn(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP ffi_hot_split(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP,
                   SEXP);
SEXP ffi_hot_memory(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP ffi_ot_workspace(SEXP, SEXP);
SEXP ffi_correlations(SEXP, SEXP, SEXP);
SEXP ffi_ot_partial(SEXP, SEXP, SEXP, SEXP);
SEXP ffi_inner_plans_partial(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP ffi_ot_sequence(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP ffi_ot_partial_workspace(SEXP, SEXP); /* ot_partial.c */
SEXP ffi_sinkhorn_workspace(SEXP, SEXP);   /* sinkhorn.c */
void cost_kernel_init(void); /* correlation_cost.c */
void runtime_init(void);     /* threads.c */
SEXP ffi_in_forked_child(void);
void hot_fork_init(void); /* fork.c */

static const R_CallMethodDef call_methods[] = {
  {"ffi_ot_exact", (DL_FUNC) &ffi_ot_exact, 5},
  {"ffi_col_stats", (DL_FUNC) &ffi_col_stats, 2},
  {"ffi_standardise", (DL_FUNC) &ffi_standardise, 6},
  {"ffi_nonfinite", (DL_FUNC) &ffi_nonfinite, 1},
  {"ffi_col_stats_standardise", (DL_FUNC) &ffi_col_stats_standardise, 5},
  {"ffi_correlation_cost", (DL_FUNC) &ffi_correlation_cost, 3},
  {"ffi_inner_plans", (DL_FUNC) &ffi_inner_plans, 7},
  {"ffi_rotation_pairs", (DL_FUNC) &ffi_rotation_pairs, 7},
  {"ffi_reconstruct_scores", (DL_FUNC) &ffi_reconstruct_scores, 8},
  {"ffi_rotation_parts", (DL_FUNC) &ffi_rotation_parts, 10},
  {"ffi_symmetric_eigen", (DL_FUNC) &ffi_symmetric_eigen, 2},
  {"ffi_kernel_product", (DL_FUNC) &ffi_kernel_product, 4},
  {"ffi_threads_available", (DL_FUNC) &ffi_threads_available, 0},
  {"ffi_has_openmp", (DL_FUNC) &ffi_has_openmp, 0},
  {"ffi_blas_threads", (DL_FUNC) &ffi_blas_threads, 1},
  {"ffi_cost_kernel", (DL_FUNC) &ffi_cost_kernel, 1},
  {"ffi_sinkhorn", (DL_FUNC) &ffi_sinkhorn, 6},
  {"ffi_hot_split", (DL_FUNC) &ffi_hot_split, 12},
  {"ffi_hot_memory", (DL_FUNC) &ffi_hot_memory, 6},
  {"ffi_ot_workspace", (DL_FUNC) &ffi_ot_workspace, 2},
  {"ffi_correlations", (DL_FUNC) &ffi_correlations, 3},
  {"ffi_ot_partial", (DL_FUNC) &ffi_ot_partial, 4},
  {"ffi_inner_plans_partial", (DL_FUNC) &ffi_inner_plans_partial, 6},
  {"ffi_in_forked_child", (DL_FUNC) &ffi_in_forked_child, 0},
  {"ffi_ot_sequence", (DL_FUNC) &ffi_ot_sequence, 6},
  {"ffi_ot_partial_workspace", (DL_FUNC) &ffi_ot_partial_workspace, 2},
  {"ffi_sinkhorn_workspace", (DL_FUNC) &ffi_sinkhorn_workspace, 2},
  {"ffi_pair_step_work", (DL_FUNC) &ffi_pair_step_work, 1},
  {"ffi_rotation_expand", (DL_FUNC) &ffi_rotation_expand, 3},
  {NULL, NULL, 0}
};

void attribute_visible R_init_hotalign(DllInfo *dll) {
  R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
  runtime_init();
  cost_kernel_init();
  hot_fork_init();
}
