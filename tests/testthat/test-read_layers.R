# read_layers(): .npy / .npz activations, NIfTI betas + atlas, HDF5. Every
# test writes its own small files.

# numpy's a.reshape(n, -1) of arange(prod(shape)).reshape(shape): row i holds
# i * w, ..., i * w + w - 1
reshaped_arange <- function(shape) {
  w <- prod(shape[-1])
  matrix(seq_len(prod(shape)) - 1, shape[1], w, byrow = TRUE)
}

zip_available <- function() {
  nzchar(Sys.getenv("R_ZIPCMD", "zip")) && nzchar(Sys.which("zip"))
}

# an .npz as np.savez (stored) or np.savez_compressed (deflated) writes it:
# members in the order given
write_test_npz <- function(path, arrays, compressed = FALSE, fortran = FALSE) {
  dir <- tempfile("npz")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  files <- paste0(names(arrays), ".npy")
  for (i in seq_along(arrays)) {
    write_test_npy(file.path(dir, files[i]), arrays[[i]], fortran = fortran)
  }
  old <- setwd(dir)
  on.exit(setwd(old), add = TRUE, after = FALSE)
  status <- utils::zip(file.path(normalizePath(dirname(path)), basename(path)),
                       files, flags = if (compressed) "-9 -q -X" else "-0 -q -X")
  if (status != 0) stop("zip failed")
  invisible(path)
}

test_that(".npy layers flatten extra axes exactly as numpy's reshape(n, -1)", {
  dir <- tempfile()
  dir.create(dir)
  for (fortran in c(FALSE, TRUE)) {
    shapes <- list(c(6, 5), c(6, 3, 2, 2), c(6, 2, 3))
    paths <- file.path(dir, c("fc.npy", "conv.npy", "seq.npy"))
    for (i in 1:3) {
      write_test_npy(paths[i], arange_array(shapes[[i]]), fortran = fortran)
    }
    layers <- read_layers(paths)
    expect_named(layers, c("fc", "conv", "seq"))
    for (i in 1:3) {
      expect_identical(layers[[i]], reshaped_arange(shapes[[i]]))
    }
    # a 1-D array is one unit
    write_test_npy(paths[1], arange_array(6), fortran = fortran)
    expect_identical(read_layers(c(v = paths[1]))$v, matrix(0:5 + 0, ncol = 1))
  }
})

test_that("rows of .npy layers read only those stimuli, in the order asked", {
  path <- tempfile(fileext = ".npy")
  for (fortran in c(FALSE, TRUE)) {
    write_test_npy(path, arange_array(c(8, 3, 2)), fortran = fortran)
    got <- read_layers(c(conv = path), rows = c(8, 1, 4))$conv
    expect_identical(got, reshaped_arange(c(8, 3, 2))[c(8, 1, 4), ])
  }
})

test_that("pool = \"mean\" averages over every axis after the second", {
  path <- tempfile(fileext = ".npy")
  set.seed(1)
  a <- array(rnorm(5 * 3 * 4 * 2), c(5, 3, 4, 2))
  for (fortran in c(FALSE, TRUE)) {
    write_test_npy(path, a, fortran = fortran)
    got <- read_layers(c(conv = path), pool = "mean")$conv
    expect_equal(got, apply(a, c(1, 2), mean), tolerance = 1e-14)
    got <- read_layers(c(conv = path), pool = "mean", rows = c(5, 2))$conv
    expect_equal(got, apply(a, c(1, 2), mean)[c(5, 2), ], tolerance = 1e-14)
  }
  write_test_npy(path, matrix(1, 3, 2))
  expect_error(read_layers(path, pool = "mean"), "at least 3 dimensions",
               class = "hotalign_error_input")
})

test_that(".npz: one layer per array, in the archive's order, stored or deflated", {
  skip_if_not(zip_available(), "no zip program")
  arrays <- list(zeta = arange_array(c(5, 4)),
                 alpha = arange_array(c(5, 2, 3, 2)),
                 mid = arange_array(c(5, 3)))
  for (compressed in c(FALSE, TRUE)) {
    path <- tempfile(fileext = ".npz")
    write_test_npz(path, arrays, compressed = compressed)
    layers <- read_layers(path)
    expect_named(layers, c("zeta", "alpha", "mid"))
    for (nm in names(arrays)) {
      expect_identical(layers[[nm]], reshaped_arange(dim(arrays[[nm]])))
    }
    got <- read_layers(path, layers = c("mid", "zeta"), rows = c(4, 2))
    expect_named(got, c("mid", "zeta"))
    expect_identical(got$zeta, reshaped_arange(c(5, 4))[c(4, 2), ])
    expect_error(read_layers(path, layers = "beta"),
                 "unknown layers \"beta\"; the file has \"zeta\", \"alpha\", \"mid\"",
                 class = "hotalign_error_input")
  }
  # Fortran-order members too
  path <- tempfile(fileext = ".npz")
  write_test_npz(path, arrays, compressed = TRUE, fortran = TRUE)
  expect_identical(read_layers(path)$alpha, reshaped_arange(c(5, 2, 3, 2)))
})

test_that(".npz files that are not archives of .npy arrays are refused", {
  skip_if_not(zip_available(), "no zip program")
  path <- tempfile(fileext = ".npz")
  writeLines("not a zip", path)
  expect_error(read_layers(path), "not a readable .npz",
               class = "hotalign_error_input")
  dir <- tempfile()
  dir.create(dir)
  writeLines("x", file.path(dir, "notes.txt"))
  path <- tempfile(fileext = ".npz")
  old <- setwd(dir)
  utils::zip(file.path(normalizePath(dirname(path)), basename(path)),
             "notes.txt", flags = "-q")
  setwd(old)
  expect_error(read_layers(path), "not a .npy array",
               class = "hotalign_error_input")
  path <- tempfile(fileext = ".npz")
  write_test_npz(path, list(a = matrix(1, 4, 2), b = matrix(1, 5, 2)))
  expect_error(read_layers(path), "different numbers of stimuli \\(a: 4, b: 5\\)",
               class = "hotalign_error_input")
})

test_that("NaN units are an error naming the layer and count, or dropped", {
  path <- tempfile(fileext = ".npy")
  m <- matrix(as.double(1:24), 6, 4)
  m[2, 3] <- NaN
  m[5, 1] <- Inf
  write_test_npy(path, m)
  err <- expect_error(read_layers(c(fc = path)),
                      "layer `fc` has 2 units with NaN/Inf values \\(of 4\\)",
                      class = "hotalign_error_input")
  expect_identical(err$layer, "fc")
  expect_identical(read_layers(c(fc = path), na = "drop")$fc, m[, c(2, 4)])
  write_test_npy(path, matrix(NaN, 3, 2))
  expect_error(read_layers(c(fc = path), na = "drop"), "nothing is left",
               class = "hotalign_error_input")
})

test_that("missing files, unknown extensions and bad paths are clear errors", {
  expect_error(read_layers(file.path(tempdir(), "nope.npy")), "does not exist",
               class = "hotalign_error_input")
  path <- tempfile(fileext = ".csv")
  writeLines("1,2", path)
  expect_error(read_layers(path), "unsupported extension",
               class = "hotalign_error_input")
  expect_error(read_layers(3), "character vector of file paths",
               class = "hotalign_error_input")
  a <- tempfile(fileext = ".npy")
  write_test_npy(a, matrix(0, 2, 2))
  expect_error(read_layers(c(a, sub("npy$", "npz", a))), "mixes file formats",
               class = "hotalign_error_input")
  expect_error(read_layers(c(a, a)), "two layers the name",
               class = "hotalign_error_input")
  expect_error(read_layers(a, atlas = 1), "apply to NIfTI and HDF5",
               class = "hotalign_error_input")
})

# --- NIfTI -------------------------------------------------------------------

nifti_fixture <- function(dir) {
  set.seed(2)
  betas <- array(round(rnorm(5 * 4 * 3 * 12), 3), c(5, 4, 3, 12))
  atlas <- array(sample(c(0, 0, 1, 2, 7), 60, replace = TRUE), c(5, 4, 3))
  RNifti::writeNifti(betas, file.path(dir, "betas.nii.gz"))
  RNifti::writeNifti(atlas, file.path(dir, "atlas.nii.gz"))
  files <- file.path(dir, sprintf("stim%02d.nii", 1:12))
  for (i in 1:12) RNifti::writeNifti(betas[, , , i], files[i])
  list(betas = betas, atlas = atlas, files = files,
       path = file.path(dir, "betas.nii.gz"),
       atlas_path = file.path(dir, "atlas.nii.gz"))
}

# stimuli x voxels of one label, by hand
roi_by_hand <- function(betas, atlas, label, stimuli = seq_len(dim(betas)[4])) {
  v <- matrix(betas, prod(dim(atlas)))
  x <- t(v[which(atlas == label), stimuli, drop = FALSE])
  colnames(x) <- which(atlas == label)
  x
}

test_that("NIfTI: a 4-D file + atlas gives one layer per label, in label order", {
  skip_if_not_installed("RNifti")
  dir <- tempfile()
  dir.create(dir)
  fx <- nifti_fixture(dir)
  tab <- data.frame(label = c(7, 1, 2), name = c("IT", "V1", "V2"))
  layers <- read_layers(fx$path, atlas = fx$atlas_path, labels = tab)
  expect_named(layers, c("V1", "V2", "IT"))
  for (k in 1:3) {
    expect_equal(layers[[k]], roi_by_hand(fx$betas, fx$atlas, c(1, 2, 7)[k]),
                 tolerance = 1e-6)
  }
  # the atlas as an array, names by a named vector, no names
  expect_identical(read_layers(fx$path, atlas = fx$atlas,
                               labels = c(V1 = 1, V2 = 2, IT = 7)), layers)
  expect_identical(read_layers(fx$path, atlas = fx$atlas,
                               labels = c("1" = "V1", "2" = "V2", "7" = "IT")),
                   layers)
  expect_named(read_layers(fx$path, atlas = fx$atlas), c("1", "2", "7"))
  # rows (volumes) and layers in the order asked
  got <- read_layers(fx$path, atlas = fx$atlas, labels = tab, rows = c(12, 3),
                     layers = c("IT", "V1"))
  expect_named(got, c("IT", "V1"))
  expect_equal(got$IT, roi_by_hand(fx$betas, fx$atlas, 7, c(12, 3)),
               tolerance = 1e-6)
  # with layers as label values, without a table
  expect_named(read_layers(fx$path, atlas = fx$atlas, layers = c(2, 7)),
               c("2", "7"))
})

test_that("NIfTI: one 3-D file per stimulus gives the same layers", {
  skip_if_not_installed("RNifti")
  dir <- tempfile()
  dir.create(dir)
  fx <- nifti_fixture(dir)
  four <- read_layers(fx$path, atlas = fx$atlas)
  expect_identical(read_layers(fx$files, atlas = fx$atlas), four)
  sub <- read_layers(fx$files, atlas = fx$atlas, rows = c(5, 1))
  expect_identical(sub[["7"]], four[["7"]][c(5, 1), ])
})

test_that("NIfTI: mismatched shapes, unknown ROIs, bad labels are clear errors", {
  skip_if_not_installed("RNifti")
  dir <- tempfile()
  dir.create(dir)
  fx <- nifti_fixture(dir)
  expect_error(read_layers(fx$path, atlas = fx$atlas[1:4, , ]),
               "`atlas` is 4 x 4 x 3 but the betas are 5 x 4 x 3",
               class = "hotalign_error_input")
  expect_error(read_layers(fx$path), "`atlas` is needed",
               class = "hotalign_error_input")
  expect_error(read_layers(fx$path, atlas = file.path(dir, "none.nii")),
               "does not exist", class = "hotalign_error_input")
  err <- expect_error(read_layers(fx$path, atlas = fx$atlas,
                                  labels = c(V1 = 1, V2 = 2, IT = 7),
                                  layers = c("V1", "MT")),
                      "unknown ROI \"MT\"; the atlas has V1 \\(1\\), V2 \\(2\\), IT \\(7\\)",
                      class = "hotalign_error_input")
  expect_identical(err$arg, "layers")
  expect_error(read_layers(fx$path, atlas = fx$atlas, layers = 3),
               "unknown ROI \"3\"", class = "hotalign_error_input")
  expect_error(read_layers(fx$path, atlas = fx$atlas, labels = c(V1 = 1)),
               "no name for atlas labels 2, 7", class = "hotalign_error_input")
  expect_error(read_layers(fx$path, atlas = fx$atlas + 0.5), "whole-number",
               class = "hotalign_error_input")
  expect_error(read_layers(fx$path, atlas = fx$atlas, labels = c("V1", "V2")),
               "named by the label values", class = "hotalign_error_input")
  expect_error(read_layers(fx$files[1], atlas = fx$atlas), "3-D image",
               class = "hotalign_error_input")
  RNifti::writeNifti(fx$betas[1:4, , , 1], fx$files[2])
  expect_error(read_layers(fx$files, atlas = fx$atlas),
               "stim02.nii\" is 4 x 4 x 3, the first file 5 x 4 x 3",
               class = "hotalign_error_input")
})

test_that("NIfTI: NaN voxels are an error naming the ROI and count, or dropped", {
  skip_if_not_installed("RNifti")
  dir <- tempfile()
  dir.create(dir)
  fx <- nifti_fixture(dir)
  it <- which(fx$atlas == 7)
  b <- fx$betas
  b[it[2] + 60 * 3] <- NaN           # stimulus 4
  b[it[c(3, 5)] + 60 * 6] <- NaN      # stimulus 7
  RNifti::writeNifti(b, fx$path)
  tab <- c(V1 = 1, V2 = 2, IT = 7)
  err <- expect_error(read_layers(fx$path, atlas = fx$atlas, labels = tab),
                      paste0("ROI `IT` has 3 voxels with NaN/Inf values \\(of ",
                             length(it), "\\)"),
                      class = "hotalign_error_input")
  expect_identical(err$layer, "IT")
  got <- read_layers(fx$path, atlas = fx$atlas, labels = tab, na = "drop")
  expect_identical(colnames(got$IT), as.character(it[-c(2, 3, 5)]))
  expect_equal(got$IT, roi_by_hand(fx$betas, fx$atlas, 7)[, -c(2, 3, 5)],
               tolerance = 1e-6)
  expect_identical(dim(got$V1), dim(roi_by_hand(fx$betas, fx$atlas, 1)))
})

# --- HDF5 --------------------------------------------------------------------

test_that("HDF5: stimuli x voxels betas (h5py order) + labels give ROI layers", {
  skip_if_not_installed("hdf5r")
  path <- tempfile(fileext = ".h5")
  set.seed(3)
  n_vox <- 30
  betas <- matrix(rnorm(9 * n_vox), 9, n_vox)     # stimuli x voxels
  roi <- sample(c(0, 1, 2, 3), n_vox, replace = TRUE)
  h5 <- hdf5r::H5File$new(path, mode = "w")
  # hdf5r writes R's dimensions reversed: h5py sees (9, 30)
  h5[["betas"]] <- t(betas)
  h5[["meta"]] <- 1:3
  h5$close_all()
  tab <- data.frame(index = 1:3, name = c("V1", "V2", "V4"))
  layers <- read_layers(path, atlas = roi, labels = tab)
  expect_named(layers, c("V1", "V2", "V4"))
  for (k in 1:3) {
    ref <- betas[, roi == k, drop = FALSE]
    colnames(ref) <- which(roi == k)
    expect_identical(layers[[k]], ref)
  }
  got <- read_layers(path, atlas = roi, labels = tab, rows = c(9, 2, 5),
                     layers = "V4")
  expect_identical(unname(got$V4), unname(betas[c(9, 2, 5), roi == 3]))
  # a mask with one label per kept voxel, or per voxel of the dataset
  keep <- roi > 0
  m1 <- read_layers(path, atlas = roi[keep], labels = tab, mask = keep)
  m2 <- read_layers(path, atlas = roi, labels = tab, mask = which(keep))
  expect_identical(m1, layers)
  expect_identical(m2, layers)
  expect_error(read_layers(path, atlas = roi[-1], labels = tab),
               "`atlas` has 29 labels but the dataset \"betas\" has 30 voxels",
               class = "hotalign_error_input")
  expect_error(read_layers(path, atlas = roi, dataset = "nope"),
               "`dataset` must name a dataset", class = "hotalign_error_input")
  expect_error(read_layers(path, atlas = roi, mask = 31),
               "`mask` must be", class = "hotalign_error_input")
})

test_that("HDF5: a 4-D (stimulus, z, y, x) dataset is split by a label volume", {
  skip_if_not_installed("hdf5r")
  path <- tempfile(fileext = ".hdf5")
  set.seed(4)
  vol <- array(rnorm(4 * 3 * 2 * 6), c(4, 3, 2, 6))   # x, y, z, stimulus
  atlas <- array(sample(0:2, 24, replace = TRUE), c(4, 3, 2))
  h5 <- hdf5r::H5File$new(path, mode = "w")
  h5[["betas"]] <- vol
  h5[["other"]] <- 1:2
  h5$close_all()
  layers <- read_layers(path, atlas = atlas)
  v <- matrix(vol, 24)
  expect_identical(unname(layers[["2"]]), t(v[which(atlas == 2), ]))
  # NaN voxels
  h5 <- hdf5r::H5File$new(path, mode = "r+")
  vol[which(atlas == 1)[1]] <- NaN
  h5$link_delete("betas")
  h5[["betas"]] <- vol
  h5$close_all()
  expect_error(read_layers(path, atlas = atlas), "ROI `1` has 1 voxel with",
               class = "hotalign_error_input")
  expect_identical(ncol(read_layers(path, atlas = atlas, na = "drop")[["1"]]),
                   sum(atlas == 1) - 1L)
})

test_that("HDF5 without an atlas: every dataset is a layer, as numpy sees it", {
  skip_if_not_installed("hdf5r")
  path <- tempfile(fileext = ".h5")
  h5 <- hdf5r::H5File$new(path, mode = "w")
  # h5py shapes (6, 3, 2, 2) and (6, 5): written reversed from R
  h5[["conv"]] <- aperm(arange_array(c(6, 3, 2, 2)), 4:1)
  h5[["fc"]] <- t(arange_array(c(6, 5)))
  h5$close_all()
  layers <- read_layers(path)
  expect_named(layers, c("conv", "fc"))
  expect_identical(layers$conv, reshaped_arange(c(6, 3, 2, 2)))
  expect_identical(layers$fc, reshaped_arange(c(6, 5)))
  got <- read_layers(path, layers = "conv", rows = c(6, 1), pool = "mean")
  expect_equal(got$conv, rowMeans(array(arange_array(c(6, 3, 2, 2)),
                                        c(6, 3, 4)), dims = 2)[c(6, 1), ])
  expect_error(read_layers(path, layers = "fc8"), "unknown dataset",
               class = "hotalign_error_input")
  expect_error(read_layers(path, atlas = 1:30), "holds several datasets",
               class = "hotalign_error_input")
})

test_that("read layers go straight into hot()", {
  path <- tempfile(fileext = ".npy")
  sim <- simulate_hierarchy(n_stimuli = 40, source_layers = 2,
                            target_layers = 2, source_units = 5,
                            target_units = 4, seed = 1)
  paths <- file.path(tempdir(), c("l1.npy", "l2.npy"))
  write_test_npy(paths[1], sim$X[[1]], descr = "<f4")
  write_test_npy(paths[2], sim$X[[2]], fortran = TRUE)
  X <- read_layers(c(a = paths[1], b = paths[2]))
  expect_equal(unname(X$a), unname(sim$X[[1]]), tolerance = 1e-6)
  expect_identical(unname(X$b), unname(sim$X[[2]]))
  fit <- hot(X, sim$Y, seed = 1, n_perm = 0, threads = 1, progress = FALSE)
  expect_s3_class(fit, "hot")
})

test_that("NIfTI: a list of 3-D files is read like a vector of them", {
  skip_if_not_installed("RNifti")
  dir <- tempfile()
  dir.create(dir)
  fx <- nifti_fixture(dir)
  expect_identical(read_layers(as.list(fx$files), atlas = fx$atlas),
                   read_layers(fx$files, atlas = fx$atlas))
})

test_that("HDF5: the atlas may be a NIfTI label volume on the voxel grid", {
  skip_if_not_installed("hdf5r")
  skip_if_not_installed("RNifti")
  path <- tempfile(fileext = ".h5")
  set.seed(5)
  vol <- array(rnorm(4 * 3 * 2 * 5), c(4, 3, 2, 5))
  atlas <- array(sample(0:2, 24, replace = TRUE), c(4, 3, 2))
  atlas_path <- tempfile(fileext = ".nii.gz")
  RNifti::writeNifti(atlas, atlas_path)
  h5 <- hdf5r::H5File$new(path, mode = "w")
  h5[["betas"]] <- vol
  h5$close_all()
  expect_identical(read_layers(path, atlas = atlas_path),
                   read_layers(path, atlas = atlas))
  expect_error(read_layers(path, atlas = aperm(atlas, c(2, 1, 3))),
               "`atlas` is 3 x 4 x 2 but the voxels of the dataset \"betas\" are 4 x 3 x 2",
               class = "hotalign_error_input")
  expect_error(read_layers(path, atlas = path), "not a NIfTI file",
               class = "hotalign_error_input")
})
