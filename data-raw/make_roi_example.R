# Makes data/roi_example.rda: simulated fMRI responses of four subjects in
# four regions of interest, and a six-layer network, to the same 100 stimuli.
#
# Run from the package root:  Rscript data-raw/make_roi_example.R
#
# The simulation (documented in ?roi_example):
#
# 1. Stages. A visual hierarchy of 4 processing stages, each carrying
#    k = 8 latent features over the 100 stimuli. Stage 1 is standard normal;
#    stage s inherits part of stage s - 1,
#      S_s = sqrt(0.3) * S_(s-1) W_s + sqrt(0.7) * E_s,
#    with W_s random Gaussian mixing weights with unit-norm columns and E_s
#    fresh standard normal noise; each feature is then scaled to unit
#    standard deviation.
# 2. Subjects. Four subjects see the same stimuli. In every subject, ROI
#    V1 reads out stage 1, V2 stage 2, V4 stage 3 and IT stage 4. A voxel
#    pools its stage's features with its own random Gaussian weights (a
#    unit-norm vector over the 8 features) plus independent measurement
#    noise of standard deviation sigma_subject (0.6, 0.7, 0.8, 0.9: the
#    subjects differ in data quality). The number of voxels per ROI differs
#    between subjects (V1 28-34, V2 22-28, V4 14-18, IT 18-24). The voxels
#    of a subject are stored in a random order, as they come out of a brain
#    mask, with the ROI of each voxel in the voxel table.
# 3. Network. A six-layer network (conv1 ... conv5, fc6, 24 units each)
#    spans the same hierarchy: layer j sits at depth
#    d_j = 1 + 3 (j - 1) / 5 on the stage axis and mixes the two stages
#    around it, z = sqrt(1 - f) S_floor(d) w1 + sqrt(f) S_ceiling(d) w2
#    (f = d - floor(d); w1, w2 unit-norm random weights), plus noise of
#    standard deviation 0.3; unit responses are rectified smoothly,
#    log(1 + exp(2 z)) / 2 (a softplus), as in a network with rectifying
#    units.
#
# Responses are rounded to 2 decimals to keep the file small.

suppressWarnings(RNGkind("Mersenne-Twister", "Inversion", "Rejection"))
set.seed(20251003)

n_stimuli <- 100
k <- 8
inheritance <- 0.3
roi_names <- c("V1", "V2", "V4", "IT")
unit_sd <- function(s) {
  s <- sweep(s, 2, colMeans(s))
  sweep(s, 2, sqrt(colSums(s^2) / (nrow(s) - 1)), "/")
}
unit_norm_weights <- function(n_in, n_out) {
  w <- matrix(rnorm(n_in * n_out), n_in, n_out)
  sweep(w, 2, sqrt(colSums(w^2)), "/")
}

# 1. stages
stages <- vector("list", 4)
stages[[1]] <- unit_sd(matrix(rnorm(n_stimuli * k), n_stimuli, k))
for (s in 2:4) {
  stages[[s]] <- unit_sd(sqrt(inheritance) * stages[[s - 1]] %*%
                           unit_norm_weights(k, k) +
                           sqrt(1 - inheritance) *
                           matrix(rnorm(n_stimuli * k), n_stimuli, k))
}

# 2. subjects
subjects <- sprintf("sub%02d", 1:4)
sigma <- c(0.6, 0.7, 0.8, 0.9)
voxel_range <- list(V1 = 28:34, V2 = 22:28, V4 = 14:18, IT = 18:24)
responses <- list()
voxels <- list()
for (i in seq_along(subjects)) {
  counts <- vapply(voxel_range, function(r) r[sample.int(length(r), 1)], 1L)
  roi <- rep(roi_names, counts)
  stage <- match(roi, roi_names)
  resp <- vapply(seq_along(roi), function(v) {
    stages[[stage[v]]] %*% unit_norm_weights(k, 1) +
      sigma[i] * rnorm(n_stimuli)
  }, numeric(n_stimuli))
  order <- sample.int(length(roi))            # voxels in "mask" order
  resp <- round(resp[, order], 2)
  ids <- sprintf("v%03d", seq_along(order))
  colnames(resp) <- ids
  rownames(resp) <- sprintf("stim%03d", seq_len(n_stimuli))
  responses[[subjects[i]]] <- resp
  voxels[[i]] <- data.frame(subject = subjects[i], voxel = ids,
                            roi = factor(roi[order], levels = roi_names),
                            stringsAsFactors = FALSE)
}
voxels <- do.call(rbind, voxels)
rownames(voxels) <- NULL

# 3. network
layer_names <- c("conv1", "conv2", "conv3", "conv4", "conv5", "fc6")
depth <- 1 + 3 * (seq_along(layer_names) - 1) / 5
model <- lapply(depth, function(d) {
  lo <- floor(d)
  hi <- min(lo + 1, 4)
  f <- d - lo
  z <- sqrt(1 - f) * stages[[lo]] %*% unit_norm_weights(k, 24) +
    sqrt(f) * stages[[hi]] %*% unit_norm_weights(k, 24) +
    0.3 * matrix(rnorm(n_stimuli * 24), n_stimuli, 24)
  out <- round(log1p(exp(2 * z)) / 2, 2)
  dimnames(out) <- list(sprintf("stim%03d", seq_len(n_stimuli)),
                        sprintf("u%02d", 1:24))
  out
})
names(model) <- layer_names

roi_example <- list(
  responses = responses,
  voxels = voxels,
  model = model,
  depth = c(stats::setNames(seq_along(roi_names), roi_names),
            stats::setNames(depth, layer_names))
)

dir.create("data", showWarnings = FALSE)
save(roi_example, file = file.path("data", "roi_example.rda"),
     compress = "xz")
message("data/roi_example.rda: ",
        round(file.size(file.path("data", "roi_example.rda")) / 1024), " KB")
