#' Read the layers of a system from files
#'
#' Reads the files users have -- activations saved from numpy or PyTorch,
#' fMRI beta maps with an ROI atlas, HDF5 datasets -- into the named list of
#' stimuli x units layers that [hot()] takes. The format is chosen by the
#' file extension:
#'
#' * **`.npy`** (one array, see [read_npy()]): one layer, named by the file
#'   (or by `names(path)`); several `.npy` files give one layer each.
#' * **`.npz`** (`np.savez()` / `np.savez_compressed()`, a zip archive of
#'   `.npy` files, stored or deflated): one layer per array, named and ordered
#'   as in the archive. Each member is unpacked to a temporary file, read and
#'   removed, so at most one member is on disk at a time (with R's internal
#'   unzip: members must be under 4 GB).
#' * **`.nii`, `.nii.gz`** (NIfTI, read with the suggested package
#'   `RNifti`): one 4-D file of beta maps (x, y, z, stimulus), or one 3-D
#'   file per stimulus (`path` a vector, stimuli in its order), plus an
#'   `atlas`: one layer per ROI label.
#' * **`.h5`, `.hdf5`** (read with the suggested package `hdf5r`): with an
#'   `atlas`, one dataset of betas (`dataset`, by default the only dataset
#'   of the file or the one called `"betas"`) split into one layer per ROI
#'   label; without, every dataset (or those in `layers`) is a layer, as for
#'   `.npz`.
#'
#' @section Array layout:
#' Arrays saved from numpy have the stimuli on the first axis. Extra axes
#' (for example channels x height x width of a convolutional layer, saved as
#' an `N x C x H x W` array) are flattened as numpy's `a.reshape(N, -1)`
#' would, so unit `k` of the layer is the same unit in Python and in R (C
#' order: the last axis varies fastest), whatever the storage order of the
#' file. `pool = "mean"` instead averages over every axis after the second
#' (spatial average pooling of `N x C x H x W` activations: one unit per
#' channel); it applies to arrays of at least 3 dimensions.
#'
#' Values are returned as they are stored: data sets that store betas as
#' scaled integers (to save space) need their documented scale factor
#' applied after reading.
#'
#' HDF5 stores dimensions in C order, and `hdf5r` reports them reversed (in
#' R's column-major order) without moving the data: a dataset that `h5py`
#' shows as `(stimuli, voxels)` (as NSD distributes its betas) is seen in R
#' as `voxels x stimuli`, and one that `h5py` shows as `(stimuli, z, y, x)`
#' as `x, y, z, stimuli`. `read_layers()` therefore takes the **last**
#' dimension reported by `hdf5r` (the first in `h5py`) as the stimuli, and
#' the voxels in `hdf5r`'s column-major order (which is `h5py`'s C-order
#' flattening); `atlas` and `mask` index the voxels in that order.
#'
#' @section ROIs:
#' `atlas` gives one label per voxel: for NIfTI a label volume (a path or an
#' array with the spatial dimensions of the betas), for HDF5 a vector (or
#' array, or the path of a NIfTI label volume, on the grid of the dataset's
#' voxels in `hdf5r`'s order) with one label per voxel of the dataset, or
#' one per voxel kept by `mask`. Label 0 and `NA` are outside every ROI; labels must be whole
#' numbers. Each ROI label gives one layer, in increasing label order (or in
#' the order of `layers`), with its voxels in the order of
#' `which(atlas == label)` and the stimuli in file order; the layers are
#' built with [as_layers()]. `labels` names them: a data frame with the
#' label values in a column `label` (or `index`, `value`, or its first
#' numeric column) and the names in a column `name` (or its first character
#' column), a character vector named by the label values
#' (`c("1" = "V1", "2" = "V2")`), or a numeric vector of label values named
#' by the ROI (`c(V1 = 1, V2 = 2)`). Without `labels` the layers are named
#' by their label values. The columns of each layer are named by the voxel's
#' index in the volume (or dataset).
#'
#' Voxels with a non-finite value (NaN, typically outside the brain mask of
#' the GLM) are an error that names the ROI and counts them; `na = "drop"`
#' drops them (whole voxels: every stimulus).
#'
#' @param path Path of the file to read; for NIfTI one 4-D file or a vector
#'   (or list) of 3-D files (one per stimulus); for `.npy` one or more files (one layer
#'   each; names of `path` name the layers).
#' @param atlas NIfTI and HDF5: the ROI label of every voxel (see ROIs);
#'   `NULL` for HDF5 files whose datasets are the layers.
#' @param labels Names of the ROI labels (see ROIs), or `NULL`.
#' @param layers `NULL` (every layer), or the layers to read, in the order
#'   wanted: array or dataset names for `.npz` / HDF5 files, ROI names or
#'   label values for ROIs.
#' @param rows `NULL` (every stimulus), or the stimuli to read (positive
#'   indices or a logical vector), in the order wanted. Only these are read
#'   from the file where the format allows (`.npy` / `.npz` through seeks,
#'   NIfTI volumes through `RNifti`, HDF5 through a hyperslab selection).
#' @param pool `"none"` (flatten extra axes as numpy's `reshape(n, -1)`) or
#'   `"mean"` (average over every axis after the second); see Array layout.
#' @param na `"error"` (voxels or units with NaN/Inf values are an error) or
#'   `"drop"` (drop them).
#' @param dataset HDF5 with an `atlas`: the name of the dataset of betas.
#' @param mask HDF5 with an `atlas`: `NULL`, or the voxels to read, as a
#'   logical vector over the voxels of the dataset or positive voxel indices;
#'   `atlas` then has one label per voxel of the dataset or per kept voxel.
#' @return A named list of numeric matrices, stimuli in rows, for [hot()]
#'   and the other functions that take systems.
#' @seealso [read_npy()], [as_layers()]; `vignette("fmri-rois")`.
#' @export
#' @examples
#' # a system of two layers saved by np.savez(): here written from R
#' dir <- tempfile("npz")
#' dir.create(dir)
#' write_demo_npy <- function(a, file) {     # float64, C order
#'   shape <- paste0("(", paste(dim(a), collapse = ", "),
#'                   if (length(dim(a)) == 1) ",", ")")
#'   header <- paste0("{'descr': '<f8', 'fortran_order': False, 'shape': ",
#'                    shape, ", }")
#'   header <- formatC(header, width = 117, flag = "-")
#'   con <- file(file, "wb")
#'   writeBin(c(as.raw(0x93), charToRaw("NUMPY"), as.raw(c(1, 0))), con)
#'   writeBin(118L, con, size = 2, endian = "little")
#'   writeBin(charToRaw(paste0(header, "\n")), con)
#'   writeBin(as.vector(aperm(a, rev(seq_along(dim(a))))), con, size = 8,
#'            endian = "little")
#'   close(con)
#' }
#' write_demo_npy(array(rnorm(20 * 6), c(20, 6)), file.path(dir, "conv1.npy"))
#' write_demo_npy(array(rnorm(20 * 2 * 3 * 3), c(20, 2, 3, 3)),
#'                file.path(dir, "conv2.npy"))
#' layers <- read_layers(file.path(dir, c(conv1 = "conv1.npy",
#'                                        conv2 = "conv2.npy")))
#' vapply(layers, ncol, 1L)            # conv2: 2 * 3 * 3 = 18 units
#' pooled <- read_layers(file.path(dir, "conv2.npy"), pool = "mean")
#' dim(pooled[[1]])                    # one unit per channel
read_layers <- function(path, atlas = NULL, labels = NULL, layers = NULL,
                        rows = NULL, pool = c("none", "mean"),
                        na = c("error", "drop"), dataset = NULL,
                        mask = NULL) {
  pool <- match.arg(pool)
  na <- match.arg(na)
  if (is.list(path) && all(vapply(path, function(p) is.character(p) &&
                                    length(p) == 1L, TRUE))) {
    path <- unlist(path)
  }
  if (!is.character(path) || !length(path) || anyNA(path) ||
      !all(nzchar(path))) {
    abort("`path` must be a character vector of file paths, not ",
          describe(path), arg = "path")
  }
  format <- layer_file_format(path)
  if (length(unique(format)) > 1L) {
    abort("`path` mixes file formats (", paste(unique(format), collapse = ", "),
          "): read each format with its own call", arg = "path")
  }
  format <- format[1L]
  if (length(path) > 1L && !format %in% c("npy", "nifti")) {
    abort("`path` must be a single .", format, " file, not ", length(path),
          " files", arg = "path")
  }
  missing <- !file.exists(path) | dir.exists(path)
  if (any(missing)) {
    abort("`path`: file", if (sum(missing) > 1L) "s", " ",
          paste0("\"", path[missing], "\"", collapse = ", "),
          if (sum(missing) > 1L) " do" else " does", " not exist", arg = "path")
  }
  if (format %in% c("npy", "npz") && (!is.null(atlas) || !is.null(mask))) {
    abort("`atlas` and `mask` apply to NIfTI and HDF5 files, not .", format,
          arg = if (is.null(atlas)) "mask" else "atlas")
  }
  out <- switch(format,
    npy = read_layers_npy(path, rows, pool),
    npz = read_layers_npz(path, layers, rows, pool),
    nifti = read_layers_nifti(path, atlas, labels, layers, rows),
    hdf5 = read_layers_hdf5(path, atlas, labels, layers, rows, pool, dataset,
                            mask))
  if (format == "npy" && !is.null(layers)) out <- select_layers(out, layers)
  drop_nonfinite(out, na, roi = !is.null(atlas))
}

layer_file_format <- function(path) {
  p <- tolower(path)
  fmt <- ifelse(grepl("\\.npy$", p), "npy",
         ifelse(grepl("\\.npz$", p), "npz",
         ifelse(grepl("\\.nii(\\.gz)?$", p), "nifti",
         ifelse(grepl("\\.(h5|hdf5)$", p), "hdf5", NA_character_))))
  if (anyNA(fmt)) {
    bad <- path[is.na(fmt)][1L]
    abort("`path`: \"", basename(bad), "\" has an unsupported extension; ",
          "read_layers() reads .npy, .npz, .nii, .nii.gz, .h5 and .hdf5 files",
          arg = "path")
  }
  fmt
}

file_stem <- function(path) {
  sub("\\.(npy|npz|nii|nii\\.gz|h5|hdf5)$", "", basename(path),
      ignore.case = TRUE)
}

# One array (numpy dimensions) -> stimuli x units, flattened in C order or
# mean-pooled over axes 3...
array_to_layer <- function(a, pool, what) {
  d <- dim(a)
  if (is.null(d)) d <- length(a)
  if (length(d) == 1L) return(matrix(as.double(a), ncol = 1L))
  if (pool == "mean") {
    if (length(d) < 3L) {
      abort("`pool = \"mean\"` needs arrays of at least 3 dimensions; ", what,
            " has ", length(d), arg = "pool", layer = what)
    }
    dim(a) <- c(d[1:2], prod(d[-(1:2)]))
    return(rowMeans(a, dims = 2L))
  }
  if (length(d) == 2L) return(a)
  matrix(aperm(a, c(1L, length(d):2L)), nrow = d[1L])
}

# a .npy file -> one layer, reading only the rows wanted, flattened while
# reading when the file is in C order
read_npy_layer <- function(file, rows, pool, what) {
  con <- file(file, "rb")
  on.exit(close(con), add = TRUE)
  h <- npy_header(con, file)
  if (!length(h$shape)) {
    abort(what, " is a scalar, not an array of stimuli", arg = "path",
          layer = what)
  }
  if (pool == "none") {
    return(npy_read_data(con, h, file, rows, NULL, flatten = TRUE))
  }
  array_to_layer(npy_read_data(con, h, file, rows, NULL, flatten = FALSE),
                 pool, what)
}

read_layers_npy <- function(path, rows, pool) {
  nm <- names(path)
  if (is.null(nm)) nm <- file_stem(path)
  nm[is.na(nm) | !nzchar(nm)] <- file_stem(path)[is.na(nm) | !nzchar(nm)]
  if (anyDuplicated(nm)) {
    abort("`path` gives two layers the name \"", nm[anyDuplicated(nm)],
          "\": name them with `names(path)`", arg = "path")
  }
  out <- Map(function(f, n) read_npy_layer(f, rows, pool, paste0("`", n, "`")),
             path, nm)
  names(out) <- nm
  check_layer_rows(out)
}

read_layers_npz <- function(path, layers, rows, pool) {
  members <- tryCatch(utils::unzip(path, list = TRUE),
                      error = function(e) NULL, warning = function(w) NULL)
  if (is.null(members) || !nrow(members)) {
    abort("`path`: \"", basename(path), "\" is not a readable .npz (zip) ",
          "archive", arg = "path")
  }
  files <- members$Name[!grepl("/$", members$Name)]
  if (!all(grepl("\\.npy$", files))) {
    bad <- files[!grepl("\\.npy$", files)][1L]
    abort("`path`: \"", basename(path), "\" holds \"", bad, "\", which is ",
          "not a .npy array", arg = "path")
  }
  names(files) <- sub("\\.npy$", "", files)
  if (!is.null(layers)) files <- files[select_names(names(files), layers)]
  dir <- tempfile("hotalign_npz")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  out <- lapply(names(files), function(nm) {
    got <- utils::unzip(path, files = files[[nm]], exdir = dir)
    f <- file.path(dir, files[[nm]])
    if (!length(got) || !file.exists(f)) {
      abort("`path`: could not unpack \"", files[[nm]], "\" from \"",
            basename(path), "\"", arg = "path", layer = nm)
    }
    on.exit(unlink(f), add = TRUE)
    read_npy_layer(f, rows, pool, paste0("`", nm, "`"))
  })
  names(out) <- names(files)
  check_layer_rows(out)
}

# positions of `wanted` (names) in `available`, or an error listing both
select_names <- function(available, wanted, what = "layers") {
  if (!is.character(wanted) && !is.numeric(wanted)) {
    abort("`layers` must be a character vector of layer names", arg = "layers")
  }
  wanted <- as.character(wanted)
  bad <- setdiff(wanted, available)
  if (length(bad)) {
    abort("`layers`: unknown ", what, " ", paste0("\"", bad, "\"",
                                                  collapse = ", "),
          "; the file has ", paste0("\"", available, "\"", collapse = ", "),
          arg = "layers")
  }
  match(wanted, available)
}

select_layers <- function(x, layers) x[select_names(names(x), layers)]

check_layer_rows <- function(x) {
  n <- vapply(x, nrow, 1)
  if (length(unique(n)) > 1L) {
    abort("the layers have different numbers of stimuli (",
          paste(names(x), n, sep = ": ", collapse = ", "), ")", arg = "path")
  }
  x
}

# NaN/Inf units: an error naming the layer and the count, or dropped
drop_nonfinite <- function(x, na, roi) {
  unit <- if (roi) "voxel" else "unit"
  for (nm in names(x)) {
    bad <- colSums(!is.finite(x[[nm]])) > 0
    if (!any(bad)) next
    what <- if (roi) paste0("ROI `", nm, "`") else paste0("layer `", nm, "`")
    if (na == "error") {
      abort(what, " has ", sum(bad), " ", unit, if (sum(bad) > 1L) "s",
            " with NaN/Inf values (of ", length(bad), "); use `na = \"drop\"` ",
            "to drop them", arg = "na", layer = nm)
    }
    if (all(bad)) {
      abort(what, " has NaN/Inf values in every ", unit, " (", length(bad),
            "): nothing is left after `na = \"drop\"`", arg = "na", layer = nm)
    }
    x[[nm]] <- x[[nm]][, !bad, drop = FALSE]
  }
  x
}

# --- ROIs --------------------------------------------------------------------

need_package <- function(pkg, what) {
  if (!requireNamespace(pkg, quietly = TRUE)) {
    abort("reading ", what, " needs the package ", pkg, ": ",
          "install.packages(\"", pkg, "\")", class = "input", arg = "path")
  }
}

# label table -> named numeric vector: values = labels, names = ROI names
label_table <- function(labels) {
  if (is.null(labels)) return(NULL)
  if (is.data.frame(labels)) {
    nms <- tolower(names(labels))
    vcol <- match(c("label", "index", "value"), nms)
    vcol <- vcol[!is.na(vcol)][1L]
    if (is.na(vcol)) vcol <- which(vapply(labels, is.numeric, TRUE))[1L]
    ncol <- match("name", nms)
    if (is.na(ncol)) {
      ncol <- which(vapply(labels, function(v) is.character(v) || is.factor(v),
                           TRUE))[1L]
    }
    if (is.na(vcol) || is.na(ncol)) {
      abort("`labels` as a data frame needs a numeric column of label values ",
            "(`label`) and a column of names (`name`)", arg = "labels")
    }
    out <- as.numeric(labels[[vcol]])
    names(out) <- as.character(labels[[ncol]])
  } else if (is.character(labels) || is.factor(labels)) {
    if (is.null(names(labels))) {
      abort("`labels` as a character vector must be named by the label ",
            "values, e.g. c(\"1\" = \"V1\")", arg = "labels")
    }
    out <- suppressWarnings(as.numeric(names(labels)))
    if (anyNA(out)) {
      abort("`labels`: the names of a character vector must be label values ",
            "(numbers)", arg = "labels")
    }
    names(out) <- as.character(labels)
  } else if (is.numeric(labels)) {
    if (is.null(names(labels))) {
      abort("`labels` as a numeric vector must be named by the ROI names, ",
            "e.g. c(V1 = 1)", arg = "labels")
    }
    out <- labels
  } else {
    abort("`labels` must be a data frame or a named vector, not ",
          class(labels)[1L], arg = "labels")
  }
  if (anyNA(out) || anyNA(names(out)) || anyDuplicated(out) ||
      anyDuplicated(names(out))) {
    abort("`labels` must give distinct label values distinct, non-missing ",
          "names", arg = "labels")
  }
  out
}

# labels of the atlas -> the ROIs to read: named numeric (names = layer names)
atlas_rois <- function(atlas, labels, layers) {
  present <- sort(unique(as.vector(atlas[!is.na(atlas) & atlas != 0])))
  if (!length(present)) abort("`atlas` has no labelled voxels", arg = "atlas")
  table <- label_table(labels)
  if (is.null(layers)) {
    wanted <- present
  } else {
    by_name <- if (!is.null(table) && is.character(layers)) table[layers] else
      NULL
    wanted <- if (!is.null(by_name)) unname(by_name) else
      suppressWarnings(as.numeric(layers))
    bad <- is.na(wanted) | !wanted %in% present
    if (any(bad)) {
      avail <- if (is.null(table)) format(present) else
        paste0(names(table)[match(present, table)], " (", present, ")")
      abort("`layers`: unknown ROI", if (sum(bad) > 1L) "s", " ",
            paste0("\"", layers[bad], "\"", collapse = ", "), "; the atlas ",
            "has ", paste(avail, collapse = ", "), arg = "layers")
    }
  }
  if (is.null(table)) {
    names(wanted) <- format(wanted, trim = TRUE)
  } else {
    nm <- names(table)[match(wanted, table)]
    if (anyNA(nm)) {
      abort("`labels` has no name for atlas label",
            if (sum(is.na(nm)) > 1L) "s", " ",
            paste(wanted[is.na(nm)], collapse = ", "), arg = "labels")
    }
    names(wanted) <- nm
  }
  wanted
}

check_atlas_values <- function(atlas) {
  if (!is.numeric(atlas) && !is.logical(atlas)) {
    abort("`atlas` must hold numeric labels, not ", class(atlas)[1L],
          arg = "atlas")
  }
  v <- atlas[!is.na(atlas)]
  if (any(!is.finite(v)) || any(v != round(v))) {
    abort("`atlas` must hold whole-number labels (0 = outside every ROI); ",
          "is it a probability map?", arg = "atlas")
  }
  invisible(atlas)
}

# voxels x stimuli matrix `v` (one row per voxel of `atlas`) -> ROI layers
roi_layers <- function(v, atlas, labels, layers, voxel_index) {
  rois <- atlas_rois(atlas, labels, layers)
  a <- as.vector(atlas)
  keep <- which(!is.na(a) & a %in% rois)
  groups <- factor(a[keep], levels = rois, labels = names(rois))
  x <- t(v[keep, , drop = FALSE])
  colnames(x) <- as.character(voxel_index[keep])
  # NaN voxels are dealt with (named by ROI) after the split
  bad <- !is.finite(x)
  x[bad] <- 0
  out <- as_layers(x, groups)
  if (any(bad)) {
    for (nm in names(out)) {
      out[[nm]][bad[, groups == nm, drop = FALSE]] <- NaN
    }
  }
  out
}

read_layers_nifti <- function(path, atlas, labels, layers, rows) {
  need_package("RNifti", "NIfTI files")
  if (is.null(atlas)) {
    abort("`atlas` is needed to read NIfTI betas: a label volume (path or ",
          "array) giving the ROI of every voxel", arg = "atlas")
  }
  if (length(path) == 1L) {
    info <- RNifti::niftiHeader(path)
    d <- info$dim[seq_len(info$dim[1L]) + 1L]
    if (length(d) < 4L || prod(d[-(1:3)]) < 2) {
      abort("`path`: \"", basename(path), "\" is a ", length(d), "-D image ",
            "(", paste(d, collapse = " x "), "); give one 4-D file of betas ",
            "(x, y, z, stimulus) or one 3-D file per stimulus", arg = "path")
    }
    n <- prod(d[-(1:3)])
    ri <- npy_index(rows, n, "rows")
    vols <- if (is.null(rows)) NULL else ri$read
    b <- RNifti::readNifti(path, volumes = vols)
    space <- d[1:3]
    v <- array(as.double(b), c(prod(space), length(b) / prod(space)))
    if (!is.null(ri$back)) v <- v[, ri$back, drop = FALSE]
  } else {
    ri <- npy_index(rows, length(path), "rows")
    files <- path[ri$read]
    space <- NULL
    v <- NULL
    for (i in seq_along(files)) {
      b <- RNifti::readNifti(files[i])
      d <- dim(b)
      while (length(d) > 3L && d[length(d)] == 1L) d <- d[-length(d)]
      if (length(d) != 3L) {
        abort("`path`: \"", basename(files[i]), "\" is not a 3-D image (",
              paste(dim(b), collapse = " x "), "); with several files each ",
              "must hold one stimulus", arg = "path")
      }
      if (is.null(space)) {
        space <- d
        v <- matrix(0, prod(space), length(files))
      } else if (!identical(as.numeric(d), as.numeric(space))) {
        abort("`path`: \"", basename(files[i]), "\" is ",
              paste(d, collapse = " x "), ", the first file ",
              paste(space, collapse = " x "), arg = "path")
      }
      v[, i] <- as.double(b)
    }
    if (!is.null(ri$back)) v <- v[, ri$back, drop = FALSE]
  }
  if (is.character(atlas)) atlas <- read_atlas_file(atlas)
  ad <- dim(atlas)
  if (is.null(ad)) ad <- length(atlas)
  while (length(ad) > 3L && ad[length(ad)] == 1L) ad <- ad[-length(ad)]
  if (!identical(as.numeric(ad), as.numeric(space))) {
    abort("`atlas` is ", paste(ad, collapse = " x "), " but the betas are ",
          paste(space, collapse = " x "), " (x, y, z): they must be on the ",
          "same grid", arg = "atlas")
  }
  atlas <- array(as.vector(atlas), space)
  check_atlas_values(atlas)
  roi_layers(v, atlas, labels, layers, seq_len(prod(space)))
}

# an atlas given as the path of a NIfTI label volume
read_atlas_file <- function(atlas) {
  if (length(atlas) != 1L || is.na(atlas)) {
    abort("`atlas` must be one file path or an array", arg = "atlas")
  }
  if (!file.exists(atlas)) {
    abort("`atlas`: file \"", atlas, "\" does not exist", arg = "atlas")
  }
  if (!grepl("\\.nii(\\.gz)?$", tolower(atlas))) {
    abort("`atlas`: \"", basename(atlas), "\" is not a NIfTI file (.nii, ",
          ".nii.gz)", arg = "atlas")
  }
  need_package("RNifti", "a NIfTI atlas")
  RNifti::readNifti(atlas)
}

# --- HDF5 --------------------------------------------------------------------

read_layers_hdf5 <- function(path, atlas, labels, layers, rows, pool, dataset,
                             mask) {
  need_package("hdf5r", "HDF5 files")
  h5 <- tryCatch(hdf5r::H5File$new(path, mode = "r"),
                 error = function(e) {
                   abort("`path`: \"", basename(path), "\" is not a readable ",
                         "HDF5 file (", conditionMessage(e), ")", arg = "path")
                 })
  on.exit(h5$close_all(), add = TRUE)
  info <- h5$ls(recursive = TRUE)
  sets <- info$name[info$obj_type == "H5I_DATASET"]
  if (!length(sets)) {
    abort("`path`: \"", basename(path), "\" holds no datasets", arg = "path")
  }
  if (is.null(atlas)) {
    if (!is.null(mask)) {
      abort("`mask` applies with an `atlas` (one betas dataset split into ",
            "ROIs)", arg = "mask")
    }
    if (!is.null(dataset)) layers <- dataset
    if (!is.null(layers)) sets <- sets[select_names(sets, layers, "dataset")]
    out <- lapply(sets, function(s) {
      h5_read_stimuli(h5[[s]], rows, s, function(a) array_to_layer(a, pool,
        paste0("`", s, "`")))
    })
    names(out) <- sets
    return(check_layer_rows(out))
  }
  if (is.null(dataset)) {
    dataset <- if (length(sets) == 1L) sets else if ("betas" %in% sets)
      "betas" else {
      abort("`dataset`: \"", basename(path), "\" holds several datasets (",
            paste0("\"", sets, "\"", collapse = ", "), "); name the one of ",
            "the betas", arg = "dataset")
    }
  }
  if (!is.character(dataset) || length(dataset) != 1L ||
      !dataset %in% sets) {
    abort("`dataset` must name a dataset of \"", basename(path), "\" (",
          paste0("\"", sets, "\"", collapse = ", "), ")", arg = "dataset")
  }
  ds <- h5[[dataset]]
  d <- ds$dims
  if (length(d) < 2L) {
    abort("`dataset` \"", dataset, "\" has 1 dimension; the betas need ",
          "voxels and stimuli", arg = "dataset")
  }
  n_vox <- prod(d[-length(d)])
  keep <- if (is.null(mask)) seq_len(n_vox) else h5_mask(mask, n_vox)
  if (is.character(atlas)) atlas <- read_atlas_file(atlas)
  check_atlas_values(atlas)
  ad <- dim(atlas)
  while (length(ad) > 1L && ad[length(ad)] == 1L) ad <- ad[-length(ad)]
  if (length(ad) > 1L && length(atlas) == n_vox &&
      !identical(as.numeric(ad), as.numeric(d[-length(d)]))) {
    abort("`atlas` is ", paste(ad, collapse = " x "), " but the voxels of ",
          "the dataset \"", dataset, "\" are ",
          paste(d[-length(d)], collapse = " x "), " (in hdf5r's order)",
          arg = "atlas")
  }
  if (length(atlas) == n_vox && length(keep) < n_vox) {
    atlas <- as.vector(atlas)[keep]
  } else if (length(atlas) != length(keep)) {
    abort("`atlas` has ", length(atlas), " labels but the dataset \"", dataset,
          "\" has ", n_vox, " voxels (", paste(d[-length(d)], collapse = " x "),
          " in hdf5r's order)", if (!is.null(mask)) paste0(" and `mask` keeps ",
          length(keep)), arg = "atlas")
  }
  v <- h5_read_stimuli(ds, rows, dataset, function(a) a, voxels_first = TRUE)
  v <- v[keep, , drop = FALSE]
  roi_layers(v, as.vector(atlas), labels, layers, keep)
}

h5_mask <- function(mask, n_vox) {
  if (is.logical(mask)) {
    if (length(mask) != n_vox || anyNA(mask)) {
      abort("`mask` as a logical vector must have one value per voxel (",
            n_vox, ") and no NA", arg = "mask")
    }
    return(which(as.vector(mask)))
  }
  if (!is.numeric(mask) || anyNA(mask) || any(mask != round(mask)) ||
      any(mask < 1 | mask > n_vox) || anyDuplicated(mask)) {
    abort("`mask` must be a logical vector or distinct voxel indices in 1..",
          n_vox, arg = "mask")
  }
  as.integer(mask)
}

# Reads the stimuli (last hdf5r dimension) `rows` of a dataset. Returns
# f(array with numpy's dimensions, stimuli first), or with voxels_first a
# voxels x stimuli matrix (hdf5r's own order).
h5_read_stimuli <- function(ds, rows, name, f, voxels_first = FALSE) {
  d <- ds$dims
  k <- length(d)
  n <- d[k]
  ri <- npy_index(rows, n, "rows")
  if (is.null(rows)) {
    a <- ds$read()
  } else {
    args <- c(rep(list(quote(expr = )), k - 1L), list(ri$read))
    a <- ds$read(args = args)
  }
  if (!is.numeric(a) && !is.logical(a)) {
    abort("`path`: dataset \"", name, "\" is not numeric", arg = "path",
          layer = name)
  }
  a <- array(as.double(a), c(d[-k], length(ri$read)))
  if (!is.null(ri$back)) {
    a <- array(a, c(prod(d[-k]), length(ri$read)))[, ri$back, drop = FALSE]
    dim(a) <- c(d[-k], length(ri$back))
  }
  if (voxels_first) return(array(a, c(prod(d[-k]), dim(a)[k])))
  # hdf5r's reversed dimensions -> numpy's (stimuli first)
  f(if (k == 1L) a else aperm(a, k:1))
}
