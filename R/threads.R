#' Number of threads used by hotalign
#'
#' `hot_threads()` returns the number of threads that [hot()] uses by default:
#' the option `hotalign.threads` if set, else every processor OpenMP offers,
#' or `OMP_NUM_THREADS` when that is fewer (capped by `OMP_THREAD_LIMIT`,
#' and at 2 under `R CMD check`). A parallel step never uses more threads
#' than it has tasks (one layer pair, for instance, takes one thread and one
#' thread's memory whatever the count asked for).
#' `set_hot_threads()` sets the option. Results are identical, bit for bit,
#' for any number of threads.
#'
#' While `hot()` solves its layer pairs, each of its threads computes its own
#' cost matrices with BLAS `dgemm`; a multi-threaded BLAS (OpenBLAS,
#' FlexiBLAS, MKL) is held at one thread meanwhile, so that the two kinds of
#' threads do not compete for the same cores, and its thread count is restored
#' afterwards (also after an interrupt).
#'
#' @param n A positive whole number, at most 4 per processor (more threads
#'   than that would only oversubscribe the machine, and each thread has
#'   workspaces of its own), or `NULL` to return to the default.
#' @return `hot_threads()`: an integer. `set_hot_threads()`: the previous
#'   value of the option, invisibly.
#' @export
#' @examples
#' hot_threads()
#' old <- set_hot_threads(1)
#' hot_threads()
#' set_hot_threads(old)
hot_threads <- function() {
  n <- getOption("hotalign.threads")
  if (!is.null(n)) return(check_threads(n, "option `hotalign.threads`", arg = "hotalign.threads"))
  .Call(C_ffi_threads_available)
}

#' @rdname hot_threads
#' @export
set_hot_threads <- function(n) {
  if (!is.null(n)) n <- check_threads(n, "`n`", arg = "n")
  old <- options(hotalign.threads = n)
  invisible(old$hotalign.threads)
}

# Evaluates `code` with the BLAS at one thread, restored on exit (also on an
# interrupt): the pair loop calls dgemm from each of its own threads, and a
# multi-threaded BLAS (OpenBLAS, FlexiBLAS, MKL) would start more threads on
# the same cores. One BLAS thread also keeps the result the same for any
# number of loop threads. A no-op with the reference BLAS.
with_blas_single_thread <- function(code) {
  old <- .Call(C_ffi_blas_threads, 1L)
  if (!is.na(old) && old != 1L) on.exit(.Call(C_ffi_blas_threads, old), add = TRUE)
  code
}

# TRUE in a process forked (parallel::mclapply, future's multicore) after
# hotalign was loaded: OpenMP regions then run on one thread (src/fork.c).
in_forked_child <- function() .Call(C_ffi_in_forked_child)

# The largest thread count accepted anywhere: 4 threads per processor (more
# only oversubscribes, and the per-thread workspaces are sized by it)
max_threads <- function() 4L * max(1L, .Call(C_ffi_threads_available))
