/* The runtime policy of hotalign, in one place (as data.table's
 * openmp-utils.c): how many threads a region uses, which BLAS is loaded and
 * how to hold its threads, which kernel computes the correlation cost.
 *
 * Threads.  hot_threads_default() is what OpenMP offers, honouring
 * OMP_NUM_THREADS and OMP_THREAD_LIMIT (and at most 2 under R CMD check's
 * _R_CHECK_LIMIT_CORES_); R's hot_threads() puts the option
 * hotalign.threads in front of it.  Every region uses
 * num_threads(hot_threads_for(requested, tasks)): never more threads than
 * the machine allows nor than there are tasks, so no scratch is allocated
 * for a thread that would have nothing to do (hot_threads_for_work(): nor
 * more than one for a region too small to gain from a second).  omp_set_num_threads is never
 * called, so the user's global OpenMP state is left alone.
 *
 * BLAS.  Found once, at load time (runtime_init()): whether an optimised
 * BLAS is loaded in the process (a function only such a library exports)
 * and, if it has them, its functions to read and set its thread count.  The
 * pair loop calls dgemm from every one of its threads, and a multi-threaded
 * BLAS would start threads of its own on the same cores, which measured
 * slower than one BLAS thread per loop thread; R holds it at one thread
 * around the loop through ffi_blas_threads() (restored on exit, also after
 * an interrupt).
 *
 * Cost kernel.  cost_kernel_resolve() turns the option hotalign.cost_kernel
 * (0 auto, 1 blas, 2 internal, passed down from R with every call) into the
 * kernel used: auto is "blas" with an optimised BLAS, "internal" otherwise.
 * Nothing is held in global state between calls. */
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define HOT_HAVE_DLSYM 1
#endif
#include <stdlib.h>
#include <string.h>
#include <R.h>
#include <Rinternals.h>
#include "hotalign.h"

typedef int (*blas_get_fn)(void);
typedef void (*blas_set_fn)(int);

/* written once by runtime_init() at load time, read everywhere */
static struct {
  int optimised;   /* an optimised BLAS is loaded */
  blas_get_fn get; /* its thread count (NULL: no such control) */
  blas_set_fn set;
} blas = {0, NULL, NULL};

#ifdef HOT_HAVE_DLSYM
static void *symbol(void *self, const char *name) { return dlsym(self, name); }
#endif

void runtime_init(void) {
#ifdef HOT_HAVE_DLSYM
  static const char *optimised[] = {
      "openblas_get_num_threads",  /* OpenBLAS */
      "flexiblas_get_num_threads", /* FlexiBLAS (an optimised backend) */
      "MKL_Get_Max_Threads",       /* Intel MKL */
      "mkl_get_max_threads",
      "bli_info_get_version",      /* BLIS */
      "ATL_buildinfo",             /* ATLAS */
#ifdef __APPLE__
      "vDSP_dotprD",               /* Apple Accelerate (vecLib) */
#endif
  };
  static const char *controls[][2] = {
      {"openblas_get_num_threads", "openblas_set_num_threads"},
      {"flexiblas_get_num_threads", "flexiblas_set_num_threads"},
      {"MKL_Get_Max_Threads", "MKL_Set_Num_Threads"}};
  void *self = dlopen(NULL, RTLD_LAZY);
  if (self == NULL) return;
  for (size_t k = 0; k < sizeof(optimised) / sizeof(optimised[0]) && !blas.optimised; k++)
    blas.optimised = symbol(self, optimised[k]) != NULL;
  for (size_t k = 0; k < sizeof(controls) / sizeof(controls[0]); k++) {
    /* object to function pointer through a union: ISO C has no cast */
    union { void *obj; blas_get_fn fn; } g;
    union { void *obj; blas_set_fn fn; } s;
    g.obj = symbol(self, controls[k][0]);
    s.obj = symbol(self, controls[k][1]);
    if (g.obj != NULL && s.obj != NULL) {
      blas.get = g.fn;
      blas.set = s.fn;
      break;
    }
  }
  dlclose(self);
#endif
}

int blas_is_optimised(void) { return blas.optimised; }

int cost_kernel_resolve(int mode) {
  if (mode == COST_BLAS || mode == COST_INTERNAL) return mode;
  return blas.optimised ? COST_BLAS : COST_INTERNAL;
}

/* a positive whole number from the environment (the first of a
 * comma-separated list, as OMP_NUM_THREADS allows), or 0 */
static int env_count(const char *name) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0') return 0;
  char *end;
  long n = strtol(v, &end, 10);
  if (end == v || n < 1 || n > 1048576) return 0;
  return (int) n;
}

/* the most threads a region may use: processors, capped by OMP_THREAD_LIMIT */
static int threads_limit(void) {
#ifdef _OPENMP
  int procs = omp_get_num_procs(), limit = omp_get_thread_limit();
  if (limit > 0 && limit < procs) procs = limit;
  return procs > 0 ? procs : 1;
#else
  return 1;
#endif
}

int hot_threads_default(void) {
  int n = threads_limit(), want = env_count("OMP_NUM_THREADS");
  if (want > 0 && want < n) n = want;
  const char *check = getenv("_R_CHECK_LIMIT_CORES_");
  if (check != NULL && *check != '\0' && strcmp(check, "false") != 0 &&
      strcmp(check, "FALSE") != 0 && n > 2)
    n = 2;
  return n;
}

int hot_threads_for(int requested, double tasks) {
  if (hot_in_forked_child()) return 1; /* fork.c: no OpenMP pool in a child */
  int n = requested, limit = threads_limit();
  if (n < 1) n = 1;
  if (n > limit) n = limit;
  if (tasks >= 1 && tasks < n) n = (int) tasks;
  return n;
}

/* hot_threads_for() for a region of `values` values of work (a few
 * nanoseconds each): one thread below HOT_PARALLEL_MIN_VALUES, where waking
 * and joining a second thread costs more than it saves (and, on a loaded
 * machine, may wait for a time slice).  Results do not depend on it: every
 * task is computed by one thread in the same order either way. */
#define HOT_PARALLEL_MIN_VALUES 131072.0

int hot_threads_for_work(int requested, double tasks, double values) {
  if (values < HOT_PARALLEL_MIN_VALUES) return 1;
  return hot_threads_for(requested, tasks);
}

SEXP ffi_threads_available(void) { return Rf_ScalarInteger(hot_threads_default()); }

SEXP ffi_has_openmp(void) {
#ifdef _OPENMP
  return Rf_ScalarLogical(1);
#else
  return Rf_ScalarLogical(0);
#endif
}

/* n: NA to read only, else a count >= 1 to set; returns the count before,
 * or NA when the BLAS offers no such control */
SEXP ffi_blas_threads(SEXP n) {
  if (!Rf_isInteger(n) || XLENGTH(n) != 1) Rf_error("`n` must be a single integer");
  int want = INTEGER(n)[0];
  if (want != NA_INTEGER && want < 1) Rf_error("`n` must be NA or >= 1");
  if (blas.get == NULL) return Rf_ScalarInteger(NA_INTEGER);
  int old = blas.get();
  if (want != NA_INTEGER && want != old) blas.set(want);
  return Rf_ScalarInteger(old);
}

/* the cost kernel that `mode` (0 auto, 1 blas, 2 internal) resolves to */
int cost_kernel_mode_arg(SEXP mode) {
  if (TYPEOF(mode) != INTSXP || XLENGTH(mode) != 1 || Rf_inherits(mode, "factor"))
    Rf_error("`mode` must be a single integer: 0 (auto), 1 (blas) or 2 (internal)");
  int m = INTEGER(mode)[0];
  if (m != COST_AUTO && m != COST_BLAS && m != COST_INTERNAL)
    Rf_error("`mode` must be 0 (auto), 1 (blas) or 2 (internal), not %d", m);
  return cost_kernel_resolve(m);
}

SEXP ffi_cost_kernel(SEXP mode) {
  return Rf_mkString(cost_kernel_mode_arg(mode) == COST_INTERNAL ? "internal" : "blas");
}
