# A .npy writer for the tests, written from the format specification
# (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html),
# independent of the reader: `a` is an R array with numpy's dimensions
# (a[i, j, k] in R is a[i-1, j-1, k-1] in numpy). `data` (raw) replaces the
# encoded values, for dtypes the encoder does not write.
write_test_npy <- function(path, a, descr = "<f8", fortran = FALSE,
                           version = 1L, header_extra = "", data = NULL) {
  d <- dim(a)
  if (is.null(d)) d <- length(a)
  shape <- if (length(d) == 1L) paste0("(", d, ",)") else
    paste0("(", paste(d, collapse = ", "), ")")
  # a structured dtype (a list) is written as it is, others quoted
  quoted <- if (startsWith(descr, "[")) descr else paste0("'", descr, "'")
  dict <- paste0("{'descr': ", quoted, ", 'fortran_order': ",
                 if (fortran) "True" else "False", ", 'shape': ", shape,
                 ", ", header_extra, "}")
  len_size <- if (version == 1L) 2L else 4L
  # pad with spaces so that magic + version + length + header is a multiple
  # of 64 bytes, ending in a newline
  total <- 8L + len_size + nchar(dict) + 1L
  pad <- (64L - total %% 64L) %% 64L
  header <- paste0(dict, strrep(" ", pad), "\n")
  # C order: last axis fastest = R's order of the reversed array
  v <- if (fortran || length(d) == 1L) as.vector(a) else
    as.vector(aperm(a, rev(seq_along(d))))
  con <- file(path, "wb")
  on.exit(close(con))
  writeBin(c(as.raw(0x93), charToRaw("NUMPY"), as.raw(c(version, 0L))), con)
  writeBin(as.integer(nchar(header)), con, size = len_size, endian = "little")
  writeBin(charToRaw(header), con)
  writeBin(if (is.null(data)) encode_npy_values(v, descr) else data, con)
  invisible(path)
}

# raw bytes of the values in dtype `descr`
encode_npy_values <- function(v, descr) {
  endian <- if (substr(descr, 1, 1) == ">") "big" else "little"
  kind <- substr(descr, 2, 2)
  size <- as.integer(substring(descr, 3))
  con <- rawConnection(raw(0), "wb")
  on.exit(close(con))
  if (kind == "f" && size %in% c(4L, 8L)) {
    writeBin(as.double(v), con, size = size, endian = endian)
  } else if (kind == "f" && size == 2L) {
    writeBin(double_to_half(v), con, size = 2L, endian = endian)
  } else if (kind == "b") {
    writeBin(as.raw(as.logical(v)), con)
  } else if (kind %in% c("i", "u") && size <= 2L) {
    # two's complement bytes
    u <- ifelse(v < 0, v + 2^(8 * size), v)
    bytes <- vapply(seq_len(size) - 1L, function(b) (u %/% 256^b) %% 256,
                    numeric(length(u)))
    bytes <- matrix(bytes, ncol = size)
    if (endian == "big") bytes <- bytes[, size:1, drop = FALSE]
    writeBin(as.raw(t(bytes)), con)
  } else if (kind %in% c("i", "u")) {
    # byte by byte from exact doubles (|v| <= 2^53); a negative value is the
    # complement of the bytes of -v - 1 (two's complement without 2^64)
    neg <- v < 0
    u <- ifelse(neg, -v - 1, v)
    bytes <- matrix(0, length(u), size)
    for (b in seq_len(size)) {
      bytes[, b] <- u %% 256
      u <- (u - bytes[, b]) / 256
    }
    bytes[neg, ] <- 255 - bytes[neg, ]
    if (endian == "big") bytes <- bytes[, size:1, drop = FALSE]
    writeBin(as.raw(t(bytes)), con)
  } else {
    stop("encode_npy_values: unsupported ", descr)
  }
  rawConnectionValue(con)
}

# half-precision bits of values exactly representable in float16
double_to_half <- function(v) {
  vapply(v, function(x) {
    if (is.nan(x)) return(0x7E00L)
    s <- if (x < 0 || (x == 0 && 1 / x < 0)) 0x8000L else 0L
    x <- abs(x)
    if (is.infinite(x)) return(s + 0x7C00L)
    if (x == 0) return(s)
    e <- floor(log2(x))
    if (e < -14) return(as.integer(s + round(x / 2^-24)))       # subnormal
    m <- round((x / 2^e - 1) * 1024)
    as.integer(s + (e + 15) * 1024 + m)
  }, 1L)
}

# an R array with numpy's dimensions whose value at 0-based index (i, j, k,
# ...) is the C-order linear index: what np.arange(n).reshape(shape) gives
arange_array <- function(shape) {
  a <- array(seq_len(prod(shape)) - 1, rev(shape))
  if (length(shape) == 1L) return(as.vector(a))
  aperm(a, rev(seq_along(shape)))
}
