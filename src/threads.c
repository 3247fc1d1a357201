/* All thread-count logic lives here.  Regions elsewhere use
 * num_threads(hot_threads_clamp(requested)); omp_set_num_threads is never
 * called, so the user's global OpenMP state is left alone.
 *
 * The BLAS's own threads: the pair loop calls dgemm from every one of its
 * threads, and a multi-threaded BLAS (OpenBLAS, FlexiBLAS, MKL) would then
 * start threads of its own on the same cores, which measured slower than
 * one BLAS thread per loop thread.  ffi_blas_threads() reads and sets the
 * BLAS's thread count through the library's own function, found by name at
 * run time, so that R can hold it at one thread around the loop and restore
 * it after (also on an interrupt).  With the reference BLAS, or a BLAS
 * without such a function, it does nothing and returns NA. */
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define HOT_HAVE_DLSYM 1
#endif
#include <R.h>
#include <Rinternals.h>
#include "hotalign.h"

/* what the machine offers: processors, capped by OMP_THREAD_LIMIT */
static int threads_available(void) {
#ifdef _OPENMP
  int procs = omp_get_num_procs(), limit = omp_get_thread_limit();
  if (limit > 0 && limit < procs) procs = limit;
  return procs > 0 ? procs : 1;
#else
  return 1;
#endif
}

int hot_threads_clamp(int requested) {
  if (hot_in_forked_child()) return 1; /* fork.c: no OpenMP pool in a child */
  int avail = threads_available();
  if (requested < 1) requested = 1;
  return requested < avail ? requested : avail;
}

SEXP ffi_threads_available(void) { return Rf_ScalarInteger(threads_available()); }

SEXP ffi_has_openmp(void) {
#ifdef _OPENMP
  return Rf_ScalarLogical(1);
#else
  return Rf_ScalarLogical(0);
#endif
}

typedef int (*blas_get_fn)(void);
typedef void (*blas_set_fn)(int);

/* the first BLAS whose get and set functions are both found */
static int find_blas_threads(blas_get_fn *get, blas_set_fn *set) {
#ifdef HOT_HAVE_DLSYM
  static const char *names[][2] = {
      {"openblas_get_num_threads", "openblas_set_num_threads"},
      {"flexiblas_get_num_threads", "flexiblas_set_num_threads"},
      {"MKL_Get_Max_Threads", "MKL_Set_Num_Threads"}};
  void *self = dlopen(NULL, RTLD_LAZY);
  if (self == NULL) return 0;
  for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
    /* object to function pointer through a union: ISO C has no cast */
    union { void *obj; blas_get_fn fn; } g;
    union { void *obj; blas_set_fn fn; } s;
    g.obj = dlsym(self, names[k][0]);
    s.obj = dlsym(self, names[k][1]);
    if (g.obj != NULL && s.obj != NULL) {
      *get = g.fn;
      *set = s.fn;
      dlclose(self);
      return 1;
    }
  }
  dlclose(self);
#endif
  return 0;
}

/* n: NA to read only, else a count >= 1 to set; returns the count before,
 * or NA when the BLAS offers no such control */
SEXP ffi_blas_threads(SEXP n) {
  if (!Rf_isInteger(n) || XLENGTH(n) != 1) Rf_error("`n` must be a single integer");
  int want = INTEGER(n)[0];
  if (want != NA_INTEGER && want < 1) Rf_error("`n` must be NA or >= 1");
  blas_get_fn get;
  blas_set_fn set;
  if (!find_blas_threads(&get, &set)) return Rf_ScalarInteger(NA_INTEGER);
  int old = get();
  if (want != NA_INTEGER && want != old) set(want);
  return Rf_ScalarInteger(old);
}
