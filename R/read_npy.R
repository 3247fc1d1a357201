#' Read a numpy .npy file
#'
#' Reads an array saved by numpy (`np.save()`, or `np.save(f, t.numpy())`
#' from PyTorch) straight from the file: the `.npy` format is a short text
#' header (a Python dict with `descr`, `fortran_order` and `shape`, format
#' versions 1, 2 and 3) followed by the raw values. Little- and big-endian
#' data, C and Fortran order, and the types `float16`, `float32`, `float64`,
#' `int8` to `int64`, `uint8` to `uint64` and `bool` are read; object
#' (pickled), complex, string, structured and date-time arrays are refused
#' with a clear error, as are malformed or truncated files.
#'
#' The array comes back with numpy's indexing: element `a[i, j, k]` of numpy
#' (0-based) is `x[i + 1, j + 1, k + 1]` in R, whatever the storage order of
#' the file. Values are returned as doubles (`bool` as 0/1; 64-bit integers
#' beyond `2^53` lose precision, with a warning).
#'
#' `rows` and `cols` select along the first two axes (stimuli and units for
#' activations) without reading the whole file into memory: in C order (the
#' numpy default) each selected row is one contiguous block, reached by a
#' seek; in Fortran order each selected column is. Either way the file is
#' read in blocks of at most about 8 MB beyond the result.
#'
#' @param path Path of a `.npy` file.
#' @param rows,cols `NULL` (all), or positive indices (or a logical vector)
#'   of the first and second axes to read, in the order wanted. `cols` needs
#'   an array of at least 2 dimensions.
#' @return A numeric vector (1-D array; length one for a 0-D array), matrix
#'   (2-D) or array (more dimensions), with numpy's dimensions.
#' @seealso [read_layers()] to read `.npy` / `.npz` files as the layers of a
#'   system.
#' @export
#' @examples
#' # write a 3 x 4 float64 array in C order, as np.save() does
#' path <- tempfile(fileext = ".npy")
#' con <- file(path, "wb")
#' header <- "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"
#' header <- formatC(header, width = 117, flag = "-")  # pad to 128 bytes
#' writeBin(c(as.raw(0x93), charToRaw("NUMPY"), as.raw(c(1, 0))), con)
#' writeBin(118L, con, size = 2, endian = "little")
#' writeBin(charToRaw(paste0(header, "\n")), con)
#' writeBin(as.double(0:11), con, size = 8, endian = "little")  # row by row
#' close(con)
#' read_npy(path)
#' read_npy(path, rows = c(3, 1))
read_npy <- function(path, rows = NULL, cols = NULL) {
  check_file(path, "path")
  con <- file(path, "rb")
  on.exit(close(con), add = TRUE)
  h <- npy_header(con, path)
  npy_read_data(con, h, path, rows, cols, flatten = FALSE)
}

# --- header ------------------------------------------------------------------

# A single existing file
check_file <- function(path, arg) {
  if (!is.character(path) || length(path) != 1L || is.na(path) ||
      !nzchar(path)) {
    abort("`", arg, "` must be a single file path, not ", describe(path),
          arg = arg)
  }
  if (!file.exists(path) || dir.exists(path)) {
    abort("`", arg, "`: file \"", path, "\" does not exist", arg = arg)
  }
  invisible(path)
}

npy_bad <- function(path, ...) {
  abort("\"", basename(path), "\" is not a valid .npy file: ", ...,
        arg = "path")
}

# Parses the header; returns list(dtype, shape, fortran, offset)
npy_header <- function(con, path) {
  size <- file.size(path)
  magic <- readBin(con, "raw", 8L)
  if (length(magic) < 8L ||
      !identical(magic[1:6], c(as.raw(0x93), charToRaw("NUMPY")))) {
    npy_bad(path, "it does not start with the magic string \\x93NUMPY")
  }
  major <- as.integer(magic[7L])
  if (!major %in% 1:3) {
    npy_bad(path, "format version ", major, ".", as.integer(magic[8L]),
            " is not 1, 2 or 3")
  }
  len_size <- if (major == 1L) 2L else 4L
  len_raw <- readBin(con, "raw", len_size)
  if (length(len_raw) < len_size) npy_bad(path, "the header is truncated")
  len <- sum(as.integer(len_raw) * 256^(seq_len(len_size) - 1L))
  offset <- 8 + len_size + len
  if (offset > size) {
    npy_bad(path, "the header length (", len, " bytes) runs past the end of ",
            "the file")
  }
  raw <- readBin(con, "raw", len)
  if (any(raw == as.raw(0))) npy_bad(path, "the header has NUL bytes")
  text <- rawToChar(raw)
  Encoding(text) <- if (major == 3L) "UTF-8" else "latin1"
  text <- trimws(text)
  if (!grepl("^\\{.*\\}$", text)) {
    npy_bad(path, "the header is not a Python dict")
  }
  field <- function(key, pattern) {
    m <- regmatches(text, regexec(paste0("['\"]", key, "['\"]\\s*:\\s*",
                                         pattern), text))[[1L]]
    if (!length(m)) return(NULL)
    m[2L]
  }
  if (grepl("['\"]descr['\"]\\s*:\\s*\\[", text)) {
    abort("\"", basename(path), "\" holds a structured (record) array, ",
          "which read_npy() does not read", arg = "path")
  }
  descr <- field("descr", "['\"]([^'\"]*)['\"]")
  fortran <- field("fortran_order", "(True|False)")
  shape <- field("shape", "\\(([^)]*)\\)")
  if (is.null(descr) || is.null(fortran) || is.null(shape)) {
    npy_bad(path, "the header lacks `descr`, `fortran_order` or `shape` ",
            "(header: ", text, ")")
  }
  shape <- trimws(strsplit(shape, ",", fixed = TRUE)[[1L]])
  shape <- sub("L$", "", shape[nzchar(shape)])
  if (!all(grepl("^[0-9]+$", shape))) {
    npy_bad(path, "the shape (", paste(shape, collapse = ", "),
            ") is not a tuple of whole numbers")
  }
  shape <- as.numeric(shape)
  dtype <- npy_dtype(descr, path)
  n <- prod(shape)
  need <- offset + n * dtype$size
  if (need > size) {
    npy_bad(path, "the data are truncated: shape (",
            paste(shape, collapse = ", "), ") of ", descr, " needs ",
            format(need, big.mark = ","), " bytes, the file has ",
            format(size, big.mark = ","))
  }
  list(dtype = dtype, shape = shape, fortran = fortran == "True",
       offset = offset, descr = descr)
}

# descr such as "<f8", ">i4", "|b1", "|u1"
npy_dtype <- function(descr, path) {
  m <- regmatches(descr, regexec("^([<>|=]?)([a-zA-Z])([0-9]*)$", descr))[[1L]]
  if (!length(m)) {
    npy_bad(path, "the dtype \"", descr, "\" is not understood")
  }
  order <- m[2L]
  kind <- m[3L]
  size <- if (nzchar(m[4L])) as.integer(m[4L]) else NA_integer_
  what <- switch(kind,
    f = "float", i = "int", u = "uint", b = "bool",
    c = "complex numbers", O = "Python objects (pickled)",
    U = "unicode strings", S = , a = "byte strings", V = "raw records",
    M = "dates", m = "time differences", "unknown")
  if (!what %in% c("float", "int", "uint", "bool")) {
    abort("\"", basename(path), "\" holds ", what, " (dtype \"", descr,
          "\"); read_npy() reads only real numbers and booleans",
          arg = "path")
  }
  ok <- switch(what, float = size %in% c(2L, 4L, 8L),
               int = , uint = size %in% c(1L, 2L, 4L, 8L),
               bool = identical(size, 1L))
  if (!isTRUE(ok)) {
    abort("\"", basename(path), "\" has dtype \"", descr, "\" (", what,
          " of ", size, " bytes), which read_npy() does not read",
          arg = "path")
  }
  endian <- if (order == ">") "big" else if (order == "<") "little" else
    .Platform$endian
  list(kind = what, size = size, endian = endian)
}

# --- data --------------------------------------------------------------------

# Decodes n values at the current position
npy_decode <- function(con, dtype, n) {
  s <- dtype$size
  e <- dtype$endian
  switch(dtype$kind,
    float = if (s == 2L) half_to_double(readBin(con, "integer", n, size = 2L,
                                                signed = FALSE, endian = e))
            else readBin(con, "double", n, size = s, endian = e),
    bool = as.double(readBin(con, "raw", n) != as.raw(0)),
    int = , uint = {
      if (s <= 2L) {
        as.double(readBin(con, "integer", n, size = s,
                          signed = dtype$kind == "int", endian = e))
      } else if (s == 4L) {
        v <- int32_as_double(readBin(con, "integer", n, size = 4L, endian = e))
        if (dtype$kind == "uint") v[v < 0] <- v[v < 0] + 2^32
        v
      } else {
        w <- int32_as_double(readBin(con, "integer", 2 * n, size = 4L,
                                     endian = e))
        odd <- seq.int(1L, length.out = n, by = 2L)
        lo <- if (e == "little") w[odd] else w[odd + 1L]
        hi <- if (e == "little") w[odd + 1L] else w[odd]
        lo[lo < 0] <- lo[lo < 0] + 2^32
        if (dtype$kind == "uint") hi[hi < 0] <- hi[hi < 0] + 2^32
        v <- hi * 2^32 + lo
        if (any(abs(v) > 2^53)) {
          warn("64-bit integers beyond 2^53 were rounded to the nearest double",
               class = "precision")
        }
        v
      }
    })
}

# readBin() reads INT_MIN as NA: numpy integers have no NA, so NA is -2^31
int32_as_double <- function(v) {
  v <- as.double(v)
  v[is.na(v)] <- -2^31
  v
}

half_to_double <- function(h) {
  sign <- ifelse(h >= 32768L, -1, 1)
  e <- (h %/% 1024L) %% 32L
  m <- h %% 1024L
  v <- ifelse(e == 0L, m * 2^-24,
              ifelse(e == 31L, ifelse(m == 0L, Inf, NaN),
                     (1 + m / 1024) * 2^(e - 15)))
  sign * v
}

# Selection along one axis of extent n: sorted unique indices to read and
# the positions that put them back in the order asked
npy_index <- function(idx, n, arg) {
  if (is.null(idx)) return(list(read = seq_len(n), back = NULL))
  if (is.logical(idx)) {
    if (length(idx) != n || anyNA(idx)) {
      abort("`", arg, "` as a logical vector must have length ", n,
            " and no NA", arg = arg)
    }
    idx <- which(idx)
  }
  if (!is.numeric(idx) || anyNA(idx) || any(idx != round(idx)) ||
      any(idx < 1) || any(idx > n)) {
    abort("`", arg, "` must hold whole numbers in 1..", n, arg = arg)
  }
  if (!length(idx)) abort("`", arg, "` selects nothing", arg = arg)
  read <- sort(unique(idx))
  back <- if (identical(as.numeric(read), as.numeric(idx))) NULL else
    match(idx, read)
  list(read = read, back = back)
}

# Runs of consecutive indices, split so that one run is at most `max_len`
index_runs <- function(idx, max_len) {
  brk <- c(TRUE, diff(idx) != 1)
  run <- cumsum(brk)
  starts <- idx[brk]
  lens <- tabulate(run)
  # split long runs
  pieces <- ceiling(lens / max_len)
  starts <- unlist(Map(function(s, l, p) s + (seq_len(p) - 1) * max_len,
                       starts, lens, pieces))
  lens <- unlist(Map(function(l, p) pmin(max_len, l - (seq_len(p) - 1) * max_len),
                     lens, pieces))
  list(start = starts, len = lens)
}

# Reads the selected rows/cols. flatten = TRUE returns a matrix rows x
# features, the features of every row in C order (numpy's reshape(n, -1));
# otherwise an array with numpy's dimensions.
npy_read_data <- function(con, h, path, rows, cols, flatten) {
  shape <- h$shape
  k <- length(shape)
  if (k == 0L) {
    if (!is.null(rows) || !is.null(cols)) {
      abort("`rows` and `cols` need an array of at least 1 dimension, ",
            "\"", basename(path), "\" holds a scalar", arg = "rows")
    }
    seek(con, h$offset)
    return(npy_decode(con, h$dtype, 1L))
  }
  if (k == 1L && !is.null(cols)) {
    abort("`cols` needs an array of at least 2 dimensions, \"",
          basename(path), "\" has 1", arg = "cols")
  }
  if (prod(shape) == 0 && is.null(rows) && is.null(cols)) {
    # an empty array (a legal extreme): its shape, no data
    if (flatten) return(matrix(numeric(0), shape[1L], prod(shape[-1L])))
    return(if (k == 1L) numeric(0) else array(numeric(0), shape))
  }
  n1 <- shape[1L]
  n2 <- if (k >= 2L) shape[2L] else 1
  rest <- if (k >= 3L) prod(shape[-(1:2)]) else 1
  ri <- npy_index(rows, n1, "rows")
  ci <- npy_index(cols, n2, "cols")
  I <- ri$read
  J <- ci$read
  nI <- length(I)
  nJ <- length(J)
  # the result, a copy while it is assembled, and the blocks read
  check_memory(2 * nI * nJ * rest * 8 + 2^24,
               paste0("reading \"", basename(path), "\""))
  size <- h$dtype$size
  block <- max(1, floor(2^20 / max(1, n2 * rest)))  # rows (C) per read
  if (!h$fortran) {
    # row i: elements i*n2*rest .. (i+1)*n2*rest - 1
    row_len <- n2 * rest
    runs <- index_runs(I, block)
    v <- numeric(nI * nJ * rest)
    at <- 0
    for (r in seq_along(runs$start)) {
      seek(con, h$offset + (runs$start[r] - 1) * row_len * size)
      chunk <- npy_decode(con, h$dtype, runs$len[r] * row_len)
      if (nJ < n2) {
        dim(chunk) <- c(rest, n2, runs$len[r])
        chunk <- chunk[, J, , drop = FALSE]
      }
      v[at + seq_along(chunk)] <- chunk
      at <- at + length(chunk)
    }
    # v is, in R's column-major order, array(rest, nJ, nI)
    m <- matrix(v, nrow = nI, byrow = TRUE)   # nI x (nJ * rest), C order
    if (!is.null(ri$back)) m <- m[ri$back, , drop = FALSE]
    if (!is.null(ci$back)) {
      m <- m[, as.vector(outer(seq_len(rest), (ci$back - 1) * rest, "+")),
             drop = FALSE]
      nJ <- length(ci$back)
    }
    if (flatten || k == 2L) return(m)
    if (k == 1L) return(as.vector(m))
    # C order features -> R array (rows, cols, shape[3], ..., shape[k])
    tail <- c(nJ, if (k >= 3L) shape[-(1:2)])
    a <- array(m, c(nrow(m), rev(tail)))
    return(aperm(a, c(1L, rev(seq_along(tail)) + 1L)))
  }
  # Fortran order: element (i, j, r) at i + j * n1 + r * n1 * n2; column
  # (j, r) is contiguous
  cblock <- max(1, floor(2^20 / max(1, n1)))
  runs <- index_runs(J, cblock)
  out <- vector("list", rest * length(runs$start))
  p <- 0L
  for (r in seq_len(rest) - 1) {
    for (q in seq_along(runs$start)) {
      seek(con, h$offset + ((runs$start[q] - 1) * n1 + r * n1 * n2) * size)
      v <- npy_decode(con, h$dtype, runs$len[q] * n1)
      if (nI < n1) {
        dim(v) <- c(n1, runs$len[q])
        v <- v[I, , drop = FALSE]
      }
      p <- p + 1L
      out[[p]] <- v
    }
  }
  a <- array(unlist(out, use.names = FALSE),
             c(nI, if (k >= 2L) nJ, if (k >= 3L) shape[-(1:2)]))
  if (!is.null(ri$back)) {
    a <- array(a, c(nI, length(a) / nI))[ri$back, , drop = FALSE]
    dim(a) <- c(length(ri$back), if (k >= 2L) nJ, if (k >= 3L) shape[-(1:2)])
  }
  if (!is.null(ci$back)) {
    n_rows <- dim(a)[1L]
    dim(a) <- c(n_rows, nJ, rest)
    a <- a[, ci$back, , drop = FALSE]
    nJ <- length(ci$back)
    dim(a) <- c(n_rows, nJ, if (k >= 3L) shape[-(1:2)])
  }
  if (flatten) {
    if (k <= 2L) return(matrix(a, nrow = dim(a)[1L]))
    a <- aperm(a, c(1L, k:2L))
    return(matrix(a, nrow = dim(a)[1L]))
  }
  if (k == 1L) return(as.vector(a))
  a
}
