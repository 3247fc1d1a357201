/* All OpenMP thread-count logic lives here.  Regions elsewhere use
 * num_threads(hot_threads_clamp(requested)); omp_set_num_threads is never
 * called, so the user's global OpenMP state is left alone. */
#ifdef _OPENMP
#include <omp.h>
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
