#' Split one stimuli x voxels matrix into layers by ROI
#'
#' fMRI data often come as one matrix of voxel responses with an ROI label per
#' voxel. `as_layers()` turns it into the named list of layers that [hot()]
#' takes, one layer per ROI, in the order of the factor levels (or of first
#' appearance for other label types).
#'
#' @param x A numeric matrix or data frame, stimuli in rows, voxels in columns.
#' @param groups A vector with one label per column of `x` (ROI names).
#' @return A named list of numeric matrices.
#' @export
#' @examples
#' x <- matrix(rnorm(20 * 6), 20, 6)
#' layers <- as_layers(x, c("V1", "V1", "V2", "V2", "V2", "IT"))
#' vapply(layers, ncol, 1L)
as_layers <- function(x, groups) {
  x <- check_layer(x, "`x`")
  if (length(groups) != ncol(x)) {
    abort("`groups` must have one label per column of `x` (", ncol(x),
          "), not ", length(groups))
  }
  if (anyNA(groups)) abort("`groups` has NA labels")
  if (!is.factor(groups)) groups <- factor(groups, levels = unique(groups))
  groups <- droplevels(groups)
  lapply(split(seq_len(ncol(x)), groups), function(cols) {
    x[, cols, drop = FALSE]
  })
}
