#' hotalign: hierarchical optimal transport for neural representations
#'
#' Compares two systems probed with the same stimuli (layers of deep networks,
#' fMRI regions of interest, recorded populations) with hierarchical optimal
#' transport (Shah and Khosla, 2025): an exact optimal transport between the
#' units of every pair of layers, and a second exact optimal transport between
#' the layers over the resulting costs. Start with [hot()]; the building blocks
#' are [ot_exact()], [correlation_cost()] and [soft_matching()].
#'
#' @references Shah, S. and Khosla, M. (2025). Representational alignment
#'   across model layers and brain regions with hierarchical optimal transport.
#'   \doi{10.48550/arXiv.2510.01706}
#' @keywords internal
#' @importFrom cli cli_progress_bar
#' @importFrom methods new
#' @useDynLib hotalign, .registration = TRUE, .fixes = "C_"
"_PACKAGE"
