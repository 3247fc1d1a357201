# Argument checking and coercion. Everything the C side receives has been
# checked here: double matrices without non-finite values, 1-based indices in
# range, whole numbers where counts are expected. Messages name the argument
# (and the layer) in backquotes and carry no trailing period.

# A single TRUE or FALSE
check_flag <- function(x, arg) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    abort("`", arg, "` must be TRUE or FALSE", arg = arg)
  }
  x
}

# A single whole number >= min that fits an R integer (< 2^31)
check_count <- function(x, arg, min = 0) {
  ok <- is.numeric(x) && length(x) == 1L && is.finite(x) && x == round(x) &&
    x >= min && x <= .Machine$integer.max
  if (!ok) {
    abort("`", arg, "` must be a whole number >= ", min, " and <= ",
          .Machine$integer.max, ", not ", describe(x), arg = arg)
  }
  as.integer(x)
}

check_number <- function(x, arg, lower = -Inf, upper = Inf,
                         upper_open = FALSE) {
  ok <- is.numeric(x) && length(x) == 1L && is.finite(x) && x >= lower &&
    (if (upper_open) x < upper else x <= upper)
  if (!ok) {
    range <- if (upper_open) paste0("[", lower, ", ", upper, ")") else
      paste0("[", lower, ", ", upper, "]")
    abort("`", arg, "` must be a single number in ", range, ", not ",
          describe(x), arg = arg)
  }
  as.double(x)
}

describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (length(x) != 1L) return(paste0("a ", class(x)[1], " of length ", length(x)))
  if (is.character(x)) return(paste0('"', x, '"'))
  format(x)
}

# One layer: a numeric matrix (data frames, integer and logical matrices and
# plain vectors -- one unit -- are converted). `what` names it in messages;
# `finite = FALSE` leaves the scan for non-finite values to the caller
# (check_layers() scans all layers in one call).
check_layer <- function(x, what, finite = TRUE, arg = NULL, layer = NULL) {
  if (is.data.frame(x)) {
    bad <- !vapply(x, function(col) is.numeric(col) || is.logical(col), TRUE)
    if (any(bad)) {
      abort(what, " has non-numeric column `", names(x)[which(bad)[1]], "`",
            arg = arg, layer = layer)
    }
    x <- as.matrix(x)
  }
  if (is.null(dim(x)) && is.atomic(x) && !is.null(x) && !is.character(x) &&
      !is.factor(x) && !is.complex(x)) {
    x <- matrix(x, ncol = 1L)
  }
  if (!is.matrix(x) || !(is.numeric(x) || is.logical(x))) {
    # say what it is: "a character matrix", "a factor", "a complex vector"
    kind <- if (is.factor(x)) "a factor" else if (is.matrix(x))
      paste("a", typeof(x), "matrix") else if (is.atomic(x))
      paste("a", typeof(x), "vector") else paste("a", class(x)[1])
    abort(what, " must be a numeric matrix (stimuli x units), not ", kind,
          arg = arg, layer = layer)
  }
  if (ncol(x) == 0L) abort(what, " has no units (0 columns)", arg = arg, layer = layer)
  if (nrow(x) == 0L) abort(what, " has no stimuli (0 rows)", arg = arg, layer = layer)
  if (storage.mode(x) != "double") storage.mode(x) <- "double"
  if (finite) nonfinite_error(.Call(C_ffi_nonfinite, x), x, what, arg, layer)
  x
}

# A double matrix without NA/NaN/Inf (one pass in C, no copy), or an error
# that counts them and places the first. Returns the scan invisibly:
# c(0, 0, max |x|).
check_finite <- function(x, what, arg = NULL) {
  scan <- .Call(C_ffi_nonfinite, x)
  nonfinite_error(scan, x, what, arg)
  invisible(scan)
}

# `bad`: the count of non-finite values of `x` and the index of the first.
nonfinite_error <- function(bad, x, what, arg = NULL, layer = NULL) {
  if (bad[1] > 0) {
    rc <- arrayInd(bad[2], dim(x))
    abort(what, " has ", bad[1], " NA/NaN/Inf value",
          if (bad[1] > 1) "s", " (first at row ", rc[1], ", column ", rc[2], ")",
          arg = arg, layer = layer)
  }
}

# A system: a named list of layers with equal row counts.
check_layers <- function(x, arg) {
  if (is.data.frame(x) || is.matrix(x) || !is.list(x)) {
    abort("`", arg, "` must be a list of layers (numeric matrices, stimuli x ",
          "units), not a ", class(x)[1],
          if (is.matrix(x) || is.data.frame(x))
            "; wrap one layer as list(x), or split by ROI with as_layers()",
          arg = arg)
  }
  if (length(x) == 0L) {
    abort("`", arg, "` is an empty list: it needs at least one layer", arg = arg)
  }
  filled <- fill_names(names(x), length(x), arg)
  nm <- filled$names
  auto <- filled$auto
  if (anyDuplicated(nm) && anyDuplicated(nm[!auto]) == 0L) {
    clash <- nm[auto & nm %in% nm[!auto]][1]
    abort("`", arg, "` has an unnamed layer whose automatic name `", clash,
          "` is the name of another layer: name every layer, or none",
          arg = arg)
  }
  if (anyDuplicated(nm)) {
    abort("`", arg, "` has duplicated layer names: ",
          paste0("`", unique(nm[duplicated(nm)]), "`", collapse = ", "), arg = arg)
  }
  # the layers as messages name them (built only for a message or a
  # coercion)
  what <- function(k) paste0("layer `", nm[k], "` of `", arg, "`")
  # double matrices with rows and columns need no coercion (the common case,
  # checked in bulk); the others go through check_layer()
  plain <- vapply(x, function(l) {
    is.matrix(l) && is.double(l) && nrow(l) > 0L && ncol(l) > 0L
  }, TRUE)
  if (!all(plain)) {
    x[!plain] <- Map(check_layer, x[!plain], what(which(!plain)), finite = FALSE,
                     arg = arg, layer = nm[!plain])
  }
  names(x) <- nm
  bad <- .Call(C_ffi_nonfinite, unname(x))
  for (k in which(bad[1L, ] > 0)) {
    nonfinite_error(bad[, k], x[[k]], what(k), arg = arg, layer = nm[k])
  }
  rows <- vapply(x, nrow, 1L)
  if (any(rows != rows[1])) {
    k <- which(rows != rows[1])[1]
    abort("all layers of `", arg, "` must have the same stimuli (rows): layer `",
          nm[1], "` has ", rows[1], ", layer `", nm[k], "` has ", rows[k],
          arg = arg, layer = nm[k])
  }
  x
}

check_same_stimuli <- function(X, Y) {
  tx <- nrow(X[[1]])
  ty <- nrow(Y[[1]])
  if (tx != ty) {
    abort("`X` and `Y` must have the same stimuli (rows): layer `", names(X)[1],
          "` of `X` has ", tx, " rows, layer `", names(Y)[1], "` of `Y` has ",
          ty, arg = "Y", layer = names(Y)[1])
  }
  tx
}

check_threads <- function(threads, what = "`threads`", arg = "threads") {
  if (!is.numeric(threads) || length(threads) != 1L || !is.finite(threads) ||
      threads != round(threads) || threads < 1 || threads > max_threads()) {
    abort(what, " must be a positive whole number <= ", max_threads(),
          " (4 per processor), not ", describe(threads), arg = arg)
  }
  as.integer(threads)
}

# Train/test splits: a list of list(train, test) of sorted 1-based indices.
make_splits <- function(n_stimuli, test, holdout, splits) {
  if (is.list(test)) {
    # user-given folds: one held-out set per split
    if (splits != 1L) abort("give either `test` or `splits` > 1, not both", arg = "test")
    if (!length(test)) abort("`test` is an empty list of folds", arg = "test")
    folds <- lapply(seq_along(test), function(k) {
      check_test(test[[k]], n_stimuli, paste0("`test[[", k, "]]`"))
    })
  } else if (!is.null(test)) {
    if (splits != 1L) abort("give either `test` or `splits` > 1, not both", arg = "test")
    test <- check_test(test, n_stimuli)
    folds <- list(test)
  } else if (holdout == 0) {
    if (splits != 1L) abort("`splits` > 1 needs `holdout` > 0", arg = "splits")
    folds <- list(integer(0))
  } else {
    n_test <- max(1L, as.integer(round(holdout * n_stimuli)))
    # the folds (and per split, train and test indices) before they are built
    check_memory(as.double(splits) * (8 * as.double(n_stimuli) + 400),
                 paste0("`splits = ", splits, "`"))
    folds <- lapply(seq_len(splits), function(k) {
      sorted_indices(sample.int(n_stimuli, n_test), n_stimuli)
    })
  }
  lapply(folds, function(test) {
    train <- if (length(test)) seq_len(n_stimuli)[-test] else seq_len(n_stimuli)
    if (length(train) < 3L) {
      abort("at least 3 training stimuli are needed; the split leaves ",
            length(train), " of ", n_stimuli, arg = "test")
    }
    if (length(test) == 1L) {
      abort("a held-out set of 1 stimulus gives no correlation: hold out at ",
            "least 2 (or none, with `holdout = 0`)", arg = "test")
    }
    list(train = train, test = test)
  })
}

check_test <- function(test, n_stimuli, what = "`test`") {
  if (is.logical(test)) {
    if (length(test) != n_stimuli) {
      abort(what, " as a logical vector must have one value per ",
            "stimulus (", n_stimuli, "), not ", length(test), arg = "test")
    }
    if (anyNA(test)) {
      abort(what, " as a logical vector must have no NA, but has ",
            sum(is.na(test)), " (first at stimulus ", which(is.na(test))[1],
            ")")
    }
    return(which(test))
  }
  if (!is.numeric(test) || anyNA(test) || any(test != round(test))) {
    abort(what, " must be whole-number row indices or a logical vector", arg = "test")
  }
  if (length(test) == 0L) {
    abort(what, " is empty; use `holdout = 0` for no held-out stimuli", arg = "test")
  }
  bad <- test < 1 | test > n_stimuli
  if (any(bad)) {
    abort(what, " has indices outside 1..", n_stimuli, ": ",
          paste(utils::head(test[bad], 5), collapse = ", "), arg = "test")
  }
  if (anyDuplicated(test)) abort(what, " has duplicated indices", arg = "test")
  sorted_indices(test, n_stimuli)
}

# Distinct indices in 1..n, sorted through a mask: the same values as sort(),
# without its dispatch and radix set-up (a twentieth of a small fit)
sorted_indices <- function(idx, n) {
  held <- logical(n)
  held[idx] <- TRUE
  which(held)
}

# Marginals for ot_exact(): NULL means uniform. Uniform pairs are solved in
# integers (a = m, b = n, flows scaled by 1 / (n m)) so their plan is exact.
check_masses <- function(a, b, n, m) {
  if (is.null(a) && is.null(b)) {
    return(list(a = rep(as.double(m), n), b = rep(as.double(n), m),
                scale = 1 / (as.double(n) * m)))
  }
  a <- if (is.null(a)) NULL else check_mass(a, "a", n)
  b <- if (is.null(b)) NULL else check_mass(b, "b", m)
  if (is.null(a)) a <- rep(sum(b) / n, n)
  if (is.null(b)) b <- rep(sum(a) / m, m)
  sa <- sum(a)
  sb <- sum(b)
  if (abs(sa - sb) > 1e-9 * max(sa, sb)) {
    abort("`a` and `b` must have equal sums (the problem is infeasible ",
          "otherwise): sum(a) = ", format(sa, digits = 15), ", sum(b) = ",
          format(sb, digits = 15), arg = "b")
  }
  list(a = a, b = b * (sa / sb), scale = 1)
}

check_mass <- function(x, arg, len) {
  if (!is.numeric(x) || length(x) != len) {
    abort("`", arg, "` must be a numeric vector of length ", len,
          " (one mass per ", if (arg == "a") "row" else "column",
          " of `cost`), not ", describe(x), arg = arg)
  }
  if (any(!is.finite(x))) abort("`", arg, "` has NA/NaN/Inf masses", arg = arg)
  if (any(x < 0)) abort("`", arg, "` has negative masses", arg = arg)
  if (sum(x) <= 0) abort("`", arg, "` has no mass (all zero)", arg = arg)
  as.double(x)
}

# Refuse, before allocating, a problem whose working memory would not fit.
check_memory <- function(bytes, what) {
  cap <- getOption("hotalign.max_memory")
  # below 64 MiB, with no limit set, reading /proc/meminfo would cost more
  # than the small problems it guards
  if (is.null(cap) && bytes < 2^26) return(invisible(bytes))
  avail <- available_memory()
  if (!is.null(cap)) avail <- min(avail, cap, na.rm = TRUE)
  if (!is.na(avail) && bytes > avail) {
    abort(what, " needs about ", format_bytes(bytes), " of working memory ",
          "but only ", format_bytes(avail), " is available", class = "memory",
          data = list(bytes = bytes, available = avail))
  }
  invisible(bytes)
}

available_memory <- function() {
  if (!file.exists("/proc/meminfo")) return(NA_real_)
  info <- tryCatch(readLines("/proc/meminfo", n = 5L), error = function(e) "")
  line <- grep("^MemAvailable:", info, value = TRUE)
  if (!length(line)) return(NA_real_)
  as.double(gsub("[^0-9]", "", line)) * 1024
}

format_bytes <- function(x) {
  units <- c("B", "KiB", "MiB", "GiB", "TiB", "PiB")
  k <- max(1L, min(length(units), floor(log(max(x, 1), 1024)) + 1L))
  paste(format(signif(x / 1024^(k - 1), 3)), units[k])
}
