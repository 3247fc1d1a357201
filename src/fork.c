/* Fork safety of the OpenMP thread pool.
 *
 * libgomp keeps its worker threads after a parallel region; fork() copies
 * only the calling thread, so a forked child (parallel::mclapply,
 * future::plan(multicore)) that enters a parallel region waits forever for
 * workers that do not exist in it.  As data.table does, a pthread_atfork
 * child handler records the fork, and hot_threads_for() (threads.c) then
 * returns 1 in the child: every region runs on the calling thread alone,
 * which libgomp handles without its pool.  Results do not depend on the
 * number of threads, so a child computes the same as its parent. */
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define HOT_HAVE_ATFORK 1
#endif
#include <R.h>
#include <Rinternals.h>
#include "hotalign.h"

static volatile int forked_child = 0;

#ifdef HOT_HAVE_ATFORK
static void hot_atfork_child(void) { forked_child = 1; }
#endif

int hot_in_forked_child(void) { return forked_child; }

void hot_fork_init(void) {
#ifdef HOT_HAVE_ATFORK
  pthread_atfork(NULL, NULL, hot_atfork_child);
#endif
}

/* for tests: TRUE in a process forked from one that loaded hotalign */
SEXP ffi_in_forked_child(void) { return Rf_ScalarLogical(forked_child); }
