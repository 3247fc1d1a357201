# read_npy(): the .npy format read directly. The files are written by
# write_test_npy() (helper-npy.R, from the format specification) or byte by
# byte below.

test_that("a file written byte by byte as np.save() writes it is read", {
  # np.save(f, np.arange(6, dtype="<i4").reshape(2, 3)): version 1.0,
  # header padded to 128 bytes in total, data row by row
  dict <- "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }"
  header <- c(charToRaw(dict), rep(charToRaw(" "), 118 - 1 - nchar(dict)),
              charToRaw("\n"))
  bytes <- c(as.raw(c(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00,
                      0x76, 0x00)), header,
             as.raw(c(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
                      3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0)))
  expect_length(bytes, 128 + 24)
  path <- tempfile(fileext = ".npy")
  writeBin(bytes, path)
  expect_identical(read_npy(path), matrix(as.double(0:5), 2, byrow = TRUE))
  expect_identical(read_npy(path, rows = 2), matrix(c(3, 4, 5), 1))
  expect_identical(read_npy(path, cols = c(3, 1)),
                   matrix(c(2, 5, 0, 3), 2))
})

test_that("the test helper's arange_array() is numpy's arange().reshape()", {
  a <- arange_array(c(2, 3, 4))
  for (i in 0:1) for (j in 0:2) for (k in 0:3) {
    expect_equal(a[i + 1, j + 1, k + 1], i * 12 + j * 4 + k)
  }
})

test_that("C and Fortran order give numpy's indexing for 1 to 4 dimensions", {
  path <- tempfile(fileext = ".npy")
  for (fortran in c(FALSE, TRUE)) {
    for (shape in list(7, c(5, 3), c(4, 3, 2), c(3, 2, 2, 3), c(1, 1))) {
      a <- arange_array(shape)
      write_test_npy(path, a, fortran = fortran)
      got <- read_npy(path)
      if (length(shape) == 1L) {
        expect_identical(got, as.double(a))
      } else {
        expect_identical(dim(got), as.integer(shape))
        expect_identical(as.vector(got), as.vector(a))
      }
    }
  }
})

test_that("every numeric dtype, both byte orders and versions 1 to 3 are read", {
  path <- tempfile(fileext = ".npy")
  signed <- c(0, 1, -3, 100, 7, -128)
  for (descr in c("<f8", ">f8", "<f4", ">f4", "<f2", ">f2", "|i1", "<i2",
                  ">i2", "<i4", ">i4", "<i8", ">i8", "|u1", "<u2", ">u2",
                  "<u4", ">u4", "<u8", ">u8")) {
    v <- if (substr(descr, 2, 2) == "u") abs(signed) else signed
    for (version in 1:3) {
      write_test_npy(path, matrix(v, 2), descr = descr, version = version)
      expect_identical(read_npy(path), matrix(v, 2), info = descr)
    }
  }
})

test_that("integer extremes: INT_MIN, UINT_MAX, 2^53, bool, float16 specials", {
  path <- tempfile(fileext = ".npy")
  write_test_npy(path, c(-2^31, 2^31 - 1, -1), descr = "<i4")
  expect_identical(read_npy(path), c(-2^31, 2^31 - 1, -1))
  write_test_npy(path, c(2^32 - 1, 2^31, 0), descr = ">u4")
  expect_identical(read_npy(path), c(2^32 - 1, 2^31, 0))
  write_test_npy(path, c(-2^53, 2^53, -1, 2^31), descr = "<i8")
  expect_identical(read_npy(path), c(-2^53, 2^53, -1, 2^31))
  write_test_npy(path, c(2^53, 2^32, 2^32 - 1), descr = ">u8")
  expect_identical(read_npy(path), c(2^53, 2^32, 2^32 - 1))
  write_test_npy(path, c(-128, 127), descr = "|i1")
  expect_identical(read_npy(path), c(-128, 127))
  write_test_npy(path, c(65535, 32768), descr = "<u2")
  expect_identical(read_npy(path), c(65535, 32768))
  write_test_npy(path, c(TRUE, FALSE, TRUE), descr = "|b1")
  expect_identical(read_npy(path), c(1, 0, 1))
  write_test_npy(path, c(65504, -2^-24, 2^-14, 0.5, -Inf, NaN), descr = "<f2")
  expect_identical(read_npy(path), c(65504, -2^-24, 2^-14, 0.5, -Inf, NaN))
})

test_that("64-bit integers beyond 2^53 warn that they were rounded", {
  path <- tempfile(fileext = ".npy")
  # 2^62 + 1, little endian (not exactly a double)
  write_test_npy(path, 0, descr = "<i8",
                 data = as.raw(c(1, 0, 0, 0, 0, 0, 0, 0x40)))
  expect_warning(v <- read_npy(path), class = "hotalign_warning_precision")
  expect_identical(v, 2^62)
})

test_that("rows and cols read subsets, in the order asked, in C and Fortran order", {
  path <- tempfile(fileext = ".npy")
  for (fortran in c(FALSE, TRUE)) {
    a <- arange_array(c(9, 5, 2, 3))
    write_test_npy(path, a, fortran = fortran)
    got <- read_npy(path, rows = c(8, 2, 3, 2), cols = c(5, 1))
    expect_identical(got, a[c(8, 2, 3, 2), c(5, 1), , , drop = FALSE])
    expect_identical(read_npy(path, rows = c(TRUE, rep(FALSE, 8))),
                     a[1, , , , drop = FALSE])
    m <- arange_array(c(7, 4))
    write_test_npy(path, m, fortran = fortran)
    expect_identical(read_npy(path, rows = 7:5), m[7:5, ])
    expect_identical(read_npy(path, cols = 4), m[, 4, drop = FALSE])
    v <- arange_array(6)
    write_test_npy(path, v, fortran = fortran)
    expect_identical(read_npy(path, rows = c(6, 1)), c(5, 0))
  }
})

test_that("reading a few rows of a large file seeks past the rest", {
  path <- tempfile(fileext = ".npy")
  a <- matrix(as.double(seq_len(4e5 * 10)), 4e5, 10, byrow = TRUE)
  write_test_npy(path, a)
  # the rows asked for only; a whole read would fill the block buffers
  expect_identical(read_npy(path, rows = c(4e5, 1)), a[c(4e5, 1), ])
  t_rows <- system.time(for (i in 1:5) read_npy(path, rows = 2e5))[["elapsed"]]
  t_all <- system.time(read_npy(path))[["elapsed"]]
  expect_lt(t_rows, t_all)
})

test_that("an empty array is a legal extreme", {
  path <- tempfile(fileext = ".npy")
  write_test_npy(path, array(numeric(0), c(0, 3)))
  expect_identical(dim(read_npy(path)), c(0L, 3L))
  write_test_npy(path, 2.5)
  expect_identical(read_npy(path), 2.5)
})

test_that("object, complex, string and structured arrays are refused clearly", {
  path <- tempfile(fileext = ".npy")
  for (descr in c("|O", "<c16", "<U3", "|S4", "<M8")) {
    write_test_npy(path, 0, descr = descr, data = raw(16))
    expect_error(read_npy(path), "read_npy\\(\\) reads only real numbers",
                 class = "hotalign_error_input")
  }
  write_test_npy(path, 0, descr = "<M8[ns]", data = raw(8))
  expect_error(read_npy(path), "not understood", class = "hotalign_error_input")
  write_test_npy(path, 0, descr = "<f16", data = raw(16))
  expect_error(read_npy(path), "does not read", class = "hotalign_error_input")
  write_test_npy(path, 0, descr = "[('a', '<f8'), ('b', '<i4')]", data = raw(12))
  expect_error(read_npy(path), "structured", class = "hotalign_error_input")
})

test_that("malformed files get an error naming the file and the problem", {
  path <- tempfile(fileext = ".npy")
  writeBin(charToRaw("PK\003\004 this is a zip"), path)
  expect_error(read_npy(path), "magic string", class = "hotalign_error_input")
  write_test_npy(path, 1:3 + 0)
  bytes <- readBin(path, "raw", file.size(path))
  bytes[7] <- as.raw(4)
  writeBin(bytes, path)
  expect_error(read_npy(path), "format version 4.0 is not 1, 2 or 3",
               class = "hotalign_error_input")
  # truncated data
  write_test_npy(path, matrix(1, 4, 4))
  bytes <- readBin(path, "raw", file.size(path))
  writeBin(bytes[seq_len(length(bytes) - 9)], path)
  expect_error(read_npy(path), "truncated", class = "hotalign_error_input")
  # header length past the end of the file
  writeBin(c(bytes[1:8], as.raw(c(0xff, 0xff)), bytes[11:20]), path)
  expect_error(read_npy(path), "runs past the end",
               class = "hotalign_error_input")
  # header without shape
  writeBin(c(bytes[1:8], as.raw(c(20, 0)),
             charToRaw("{'descr': '<f8'}   \n")), path)
  expect_error(read_npy(path), "lacks", class = "hotalign_error_input")
  expect_error(read_npy(tempfile()), "does not exist",
               class = "hotalign_error_input")
  expect_error(read_npy(c("a", "b")), "single file path",
               class = "hotalign_error_input")
})

test_that("bad rows and cols are refused before reading", {
  path <- tempfile(fileext = ".npy")
  write_test_npy(path, matrix(0, 3, 2))
  expect_error(read_npy(path, rows = 4), "`rows` must hold whole numbers in 1..3",
               class = "hotalign_error_input")
  expect_error(read_npy(path, cols = 1.5), "`cols`",
               class = "hotalign_error_input")
  expect_error(read_npy(path, rows = c(TRUE, NA, FALSE)), "`rows`",
               class = "hotalign_error_input")
  expect_error(read_npy(path, rows = integer(0)), "selects nothing",
               class = "hotalign_error_input")
  write_test_npy(path, 1:3 + 0)
  expect_error(read_npy(path, cols = 1), "at least 2 dimensions",
               class = "hotalign_error_input")
})

# --- against numpy itself, when the system Python has it ----------------------

# runs a Python script with numpy in `dir`
run_numpy <- function(py, dir, script) {
  file <- file.path(dir, "make.py")
  writeLines(c("import numpy as np", "import numpy.lib.format as fmt",
               "import os", paste0("os.chdir(", shQuote(dir, "sh"), ")"),
               script), file)
  status <- system2(py, shQuote(file), stdout = TRUE, stderr = TRUE)
  if (!is.null(attr(status, "status"))) stop(paste(status, collapse = "\n"))
  invisible(status)
}

test_that("files written by numpy read as numpy sees them", {
  py <- python_with("numpy")
  skip_if(!nzchar(py), "no Python with numpy")
  dir <- tempfile("numpy")
  dir.create(dir)
  run_numpy(py, dir, c(
    "a = np.arange(5 * 3 * 2 * 4).reshape(5, 3, 2, 4) * 0.5 - 7",
    "np.save('c.npy', a)",
    "np.save('f.npy', np.asfortranarray(a))",
    "np.save('f4.npy', a.astype('<f4'))",
    "np.save('f2.npy', a.astype('>f2'))",
    "np.save('i8.npy', (a * 2).astype('>i8'))",
    "np.save('u1.npy', np.abs(a * 2).astype('u1'))",
    "np.save('b.npy', a > 0)",
    "np.save('vec.npy', np.arange(7.0))",
    "np.save('scalar.npy', np.float64(2.5))",
    "with open('v2.npy', 'wb') as f: fmt.write_array(f, a, version=(2, 0))",
    "with open('v3.npy', 'wb') as f: fmt.write_array(f, a, version=(3, 0))",
    # the reference: a.reshape(5, -1) in C order, float64 little endian
    "a.reshape(5, -1).astype('<f8').tofile('flat.bin')",
    "np.savez_compressed('z.npz', zeta=a.reshape(5, -1), alpha=a[:, :2])",
    "np.savez('s.npz', b=a, a=a[:, 0])",
    "np.save('obj.npy', np.array([1, 'a'], dtype=object), allow_pickle=True)",
    "np.save('cplx.npy', np.arange(3) * 1j)"))
  flat <- matrix(readBin(file.path(dir, "flat.bin"), "double", 5 * 24,
                         size = 8, endian = "little"), 5, byrow = TRUE)
  # the array with numpy's indexing: a[i, j, k, l] = ((i * 3 + j) * 2 + k) * 4 + l
  a <- array(0, c(5, 3, 2, 4))
  for (i in 0:4) for (j in 0:2) for (k in 0:1) for (l in 0:3) {
    a[i + 1, j + 1, k + 1, l + 1] <- (((i * 3 + j) * 2 + k) * 4 + l) * 0.5 - 7
  }
  for (f in c("c.npy", "f.npy", "v2.npy", "v3.npy", "f4.npy", "f2.npy")) {
    expect_identical(read_npy(file.path(dir, f)), a, info = f)
    expect_identical(read_layers(file.path(dir, f))[[1]], flat, info = f)
    expect_identical(read_npy(file.path(dir, f), rows = c(4, 1), cols = 3),
                     a[c(4, 1), 3, , , drop = FALSE], info = f)
  }
  expect_identical(read_npy(file.path(dir, "i8.npy")), trunc(a * 2))
  expect_identical(read_npy(file.path(dir, "u1.npy")),
                   array(as.double(as.integer(abs(a * 2)) %% 256), dim(a)))
  expect_identical(read_npy(file.path(dir, "b.npy")), (a > 0) + 0)
  expect_identical(read_npy(file.path(dir, "vec.npy")), as.double(0:6))
  expect_identical(read_npy(file.path(dir, "scalar.npy")), 2.5)
  z <- read_layers(file.path(dir, "z.npz"))
  expect_named(z, c("zeta", "alpha"))
  expect_identical(z$zeta, flat)
  expect_identical(z$alpha, flat[, 1:16])
  s <- read_layers(file.path(dir, "s.npz"))
  expect_named(s, c("b", "a"))
  expect_identical(s$a, flat[, 1:8])
  expect_error(read_npy(file.path(dir, "obj.npy")), "Python objects",
               class = "hotalign_error_input")
  expect_error(read_npy(file.path(dir, "cplx.npy")), "complex",
               class = "hotalign_error_input")
})

test_that("reads too large for the memory are refused before allocating", {
  path <- tempfile(fileext = ".npy")
  write_test_npy(path, matrix(0, 100, 100))
  old <- options(hotalign.max_memory = 1e4)
  on.exit(options(old))
  expect_error(read_npy(path), "needs about", class = "hotalign_error")
  # a header that promises more than the file holds is refused first
  write_test_npy(path, 0, data = raw(8))
  bytes <- readBin(path, "raw", file.size(path))
  txt <- sub("(1,)", "(100000, 100000)", rawToChar(bytes[11:(10 + 118)]),
             fixed = TRUE)
  writeBin(c(bytes[1:10], charToRaw(substr(txt, 1, 118)), raw(8)), path)
  expect_error(read_npy(path), "truncated", class = "hotalign_error_input")
})
