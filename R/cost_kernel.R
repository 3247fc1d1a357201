#' Kernel used for the correlation cost
#'
#' `hot_cost_kernel()` returns the kernel that computes the unit cost
#' matrices \eqn{K = 1 - \tilde X^\top \tilde Y}{K = 1 - t(Xs) Ys} of every layer
#' pair in [hot()], [soft_matching()] and [correlation_cost()]: `"blas"`
#' (the matrix product `dgemm` of the BLAS R is linked to) or `"internal"`
#' (a register- and cache-blocked kernel of hotalign, with an AVX2 + FMA
#' variant chosen at run time on processors that have it).
#'
#' The choice follows the option `hotalign.cost_kernel`, read at every call
#' (no state is kept between calls):
#' * `"auto"` (the default): `"blas"` when an optimised BLAS is loaded in the
#'   R process (OpenBLAS, FlexiBLAS, Intel MKL, BLIS, ATLAS or Apple
#'   Accelerate, recognised by a function only they export), `"internal"`
#'   otherwise. R's default reference BLAS is a plain triple loop, several
#'   times slower than the internal kernel, which in turn is slower than an
#'   optimised BLAS on large layers.
#' * `"blas"` or `"internal"`: that kernel, whatever the BLAS.
#'
#' Both compute the same numbers up to rounding: for standardised columns
#' the two costs differ by at most about `1e-13`. With either kernel, a cost
#' depends only on its two columns, so results stay identical for any number
#' of threads; a fit made with one kernel may differ from one made with the
#' other in the last bits (and, for near-ties, in the optimal plan).
#'
#' @return `"blas"` or `"internal"`.
#' @seealso [hot_threads()] for the number of threads.
#' @export
#' @examples
#' hot_cost_kernel()
#' old <- options(hotalign.cost_kernel = "internal")
#' hot_cost_kernel()
#' options(old)
hot_cost_kernel <- function() {
  .Call(C_ffi_cost_kernel, cost_kernel_mode())
}

# The option `hotalign.cost_kernel` as the mode every cost computation is
# given (src/threads.c resolves it): 0 (auto), 1 (blas) or 2 (internal).
cost_kernel_mode <- function() {
  opt <- getOption("hotalign.cost_kernel", "auto")
  choices <- c("auto", "blas", "internal")
  if (!is.character(opt) || length(opt) != 1L || is.na(opt) ||
      !opt %in% choices) {
    abort("option `hotalign.cost_kernel` must be \"auto\", \"blas\" or ",
          "\"internal\"", arg = "hotalign.cost_kernel")
  }
  match(opt, choices) - 1L
}
