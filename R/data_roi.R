#' Example data: simulated fMRI ROIs of four subjects and a network
#'
#' Simulated responses to the same 100 stimuli of four subjects' voxels in
#' four visual regions of interest (V1, V2, V4, IT) and of the six layers of
#' a network, with a known hierarchy behind them. It is the data of
#' `vignette("fmri-rois")` and `vignette("models-vs-brain")`, and is made by
#' `data-raw/make_roi_example.R` in the package sources (fixed seed).
#'
#' @section Simulation:
#' 1. **Stages.** A hierarchy of 4 processing stages, each with 8 latent
#'    features over the stimuli. Stage 1 is standard normal; stage `s`
#'    inherits part of stage `s - 1`,
#'    `S_s = sqrt(0.3) S_(s-1) W_s + sqrt(0.7) E_s`, with random unit-norm
#'    mixing weights `W_s` and fresh standard normal `E_s`; every feature is
#'    scaled to unit standard deviation.
#' 2. **Subjects.** In every subject, V1 reads out stage 1, V2 stage 2, V4
#'    stage 3 and IT stage 4. Each voxel pools its stage's 8 features with
#'    its own random unit-norm weights, plus measurement noise of standard
#'    deviation 0.6, 0.7, 0.8 and 0.9 for subjects 1 to 4. Subjects have
#'    different numbers of voxels per ROI (V1 28--34, V2 22--28, V4 14--18,
#'    IT 18--24), stored in a random ("mask") order.
#' 3. **Network.** Layers `conv1`, ..., `conv5`, `fc6` (24 units each) sit
#'    at depths 1, 1.6, 2.2, 2.8, 3.4 and 4 on the stage axis; a layer at
#'    depth `d` mixes the two stages around it in proportions
#'    `1 - (d - floor(d))` and `d - floor(d)` (of variance), plus noise of
#'    standard deviation 0.3, through a softplus `log(1 + exp(2 z)) / 2`.
#'
#' Responses are rounded to 2 decimals.
#'
#' @format A list with
#' \describe{
#'   \item{`responses`}{named list (`sub01` to `sub04`) of `100 x v`
#'     numeric matrices, stimuli in rows (`stim001`, ...), voxels in
#'     columns (`v001`, ...), `v` between 88 and 101.}
#'   \item{`voxels`}{the voxel table: a data frame with one row per voxel of
#'     every subject, columns `subject`, `voxel` (the column name in
#'     `responses[[subject]]`) and `roi` (a factor with levels `V1`, `V2`,
#'     `V4`, `IT`).}
#'   \item{`model`}{named list (`conv1`, ..., `conv5`, `fc6`) of `100 x 24`
#'     numeric matrices, the network's layers.}
#'   \item{`depth`}{named numeric vector: the depth on the stage axis of
#'     every ROI (1 to 4) and of every network layer, the ground truth.}
#' }
#' @source Simulated; see Simulation and `data-raw/make_roi_example.R`.
#' @seealso [as_layers()] to split a subject's voxels into ROIs;
#'   [hot_many()], [hot()].
#' @examples
#' v <- roi_example$voxels[roi_example$voxels$subject == "sub01", ]
#' x <- roi_example$responses$sub01
#' rois <- as_layers(x, v$roi[match(colnames(x), v$voxel)])
#' vapply(rois, ncol, 1L)
#' fit <- hot(rois, roi_example$model, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' round(fit$plan * 4, 2)
"roi_example"
