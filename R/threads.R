#' Number of threads used by hotalign
#'
#' `hot_threads()` returns the number of threads that [hot()] uses by default:
#' the option `hotalign.threads` if set, else every processor OpenMP offers
#' (capped by `OMP_THREAD_LIMIT`, and at 2 under `R CMD check`).
#' `set_hot_threads()` sets the option. Results are identical, bit for bit,
#' for any number of threads.
#'
#' @param n A positive whole number, or `NULL` to return to the default.
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
  if (!is.null(n)) return(check_threads(n, "option `hotalign.threads`"))
  avail <- .Call(C_ffi_threads_available)
  limit <- tolower(Sys.getenv("_R_CHECK_LIMIT_CORES_", ""))
  if (nzchar(limit) && limit != "false") avail <- min(avail, 2L)
  avail
}

#' @rdname hot_threads
#' @export
set_hot_threads <- function(n) {
  if (!is.null(n)) n <- check_threads(n, "`n`")
  old <- options(hotalign.threads = n)
  invisible(old$hotalign.threads)
}
