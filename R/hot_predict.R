# predict() and unit_plan() for "hot" fits: rebuilding source layers from
# new target data, and the inner plan of one layer pair as a sparse matrix.

#' Reconstruct the source layers from new target-system data
#'
#' Rebuilds every layer of system A from responses of system B to new
#' stimuli, through the fitted layer plan and inner unit plans (SPEC section
#' 2): with `Y~_m` the new target data standardised with the training
#' statistics of the fit,
#' `X^_l = sum_m (L * plan[l, m]) * Y~_m %*% t(n_l * Q_lm)`, and for a HOT+R
#' fit (`rotation = TRUE`) each term is multiplied on the right by `t(R_lm)`,
#' the pair's rotation.
#' Given the fit's own held-out rows, the column-wise correlations of the
#' reconstructions with the held-out source data are the fit's unit scores.
#'
#' @param object A `"hot"` object returned by [hot()].
#' @param newdata A list of the target layers, one numeric matrix (or data
#'   frame) per target layer of the fit, each with the columns it had at fit
#'   time (constant columns that were dropped included) and all with the same
#'   stimuli as rows. If named, the names must be the target layer names (in
#'   any order).
#' @param type `"standardised"` (the default) returns the reconstructions on
#'   the standardised scale of the fit (training-centred columns of unit
#'   norm); `"original"` maps them back to the units of the source data with
#'   each source column's training mean and norm.
#' @param ... Ignored.
#' @return A named list, one matrix per source layer, `nrow(newdata[[1]])`
#'   rows and one column per source unit used in the fit.
#' @seealso [unit_plan()]
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' test_y <- lapply(sim$Y, function(y) y[fit$test, ])
#' rebuilt <- predict(fit, test_y)
#' # held-out correlation of each unit of the first source layer
#' diag(cor(rebuilt$A1, sim$X$A1[fit$test, ]))
predict.hot <- function(object, newdata, type = c("standardised", "original"),
                        ...) {
  type <- match.arg(type)
  if (missing(newdata)) {
    abort("`newdata` is missing: give a list of target layers (new stimuli ",
         "as rows)", arg = "newdata")
  }
  if (is_hot_rotation(object) && !is.list(object$rotation$matrices)) {
    abort("`object` is a rotation-invariant fit without stored rotations; ",
         "predict() cannot rebuild its source layers", arg = "object")
  }
  ys <- hot_standardise_newdata(object, newdata)
  plan <- object$plan
  out <- hot_rebuild(object, unname(ys))
  for (l in seq_len(nrow(plan))) {
    acc <- partial_renormalise(object, l, out[[l]])  # R/hot_partial.R
    if (type == "original") {
      st <- hot_layer_stats(object, "source", l)
      acc <- sweep(sweep(acc, 2L, st$scale, "*"), 2L, st$center, "+")
    }
    dn <- list(rownames(ys[[1L]]), hot_unit_names(object, l))
    if (!all(vapply(dn, is.null, TRUE))) dimnames(acc) <- dn
    out[[l]] <- acc
  }
  names(out) <- rownames(plan)
  out
}

#' Inner (unit-level) transport plan of one pair of layers
#'
#' The exact optimal transport plan `Q_lm` between the units of source layer
#' `l` and target layer `m` of a fit, stored sparse.
#'
#' @param fit A fit, such as a `"hot"` object returned by [hot()].
#' @param l Source layer: an index or a layer name.
#' @param m Target layer: an index or a layer name.
#' @param ... Passed to methods.
#' @return A sparse `n_l x n'_m` [Matrix::sparseMatrix()] of the plan:
#'   non-negative, summing to 1, rows summing to `1 / n_l` and columns to
#'   `1 / n'_m`; rows and columns are the units used in the fit (constant
#'   columns dropped).
#' @seealso [predict.hot()]
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' q <- unit_plan(fit, "A1", "B1")
#' dim(q)
#' sum(q)
unit_plan <- function(fit, l, m, ...) {
  UseMethod("unit_plan")
}

#' @rdname unit_plan
#' @export
unit_plan.hot <- function(fit, l, m, ...) {
  l <- index_or_name(l, "l", rownames(fit$plan), "source layer")
  m <- index_or_name(m, "m", colnames(fit$plan), "target layer")
  q <- hot_pair_matrix(fit, l, m)
  src <- hot_unit_names(fit, l)
  tgt <- hot_unit_names(fit, m, "target")
  if (!is.null(src) && !is.null(tgt)) dimnames(q) <- list(src, tgt)
  q
}

#' @rdname unit_plan
#' @export
unit_plan.default <- function(fit, l, m, ...) {
  abort("`fit` must be a fit with inner plans, such as a \"hot\" object ",
       "from hot(), not an object of class ", class(fit)[1L], arg = "fit")
}

# --- helpers (private) -------------------------------------------------------

# the inner plan of pair (l, m) as a sparse n_l x n'_m Matrix
hot_pair_matrix <- function(x, l, m) {
  e <- hot_pair_entries(x, l, m)
  plan_matrix(e$i, e$j, e$x, c(x$inner$n_source[l], x$inner$n_target[m]))
}

# entries of the inner plan of pair (l, m) in the triplet store
hot_pair_entries <- function(x, l, m) {
  inner <- x$inner
  k <- l + (m - 1L) * length(inner$n_source)
  from <- inner$start[k] + 1
  to <- inner$start[k + 1L]
  idx <- if (to >= from) seq.int(from, to) else integer(0)
  list(i = as.integer(inner$i[idx]), j = as.integer(inner$j[idx]),
       x = as.numeric(inner$x[idx]))
}

# The reconstruction-and-correlation kernel (src/reconstruct.c) on a fit's
# plans: the source layers rebuilt from standardised target rows `ys` (an
# unnamed list), and with `xs` (standardised source rows) their scores:
# `units` and `layers`; with `weights` (rows x resamples) `layers` is
# L x resamples.
hot_rebuild <- function(fit, ys, xs = NULL, weights = NULL, rebuild = is.null(xs)) {
  inner <- fit$inner
  res <- .Call(C_ffi_reconstruct_scores, xs, ys,
               list(as.integer(inner$i), as.integer(inner$j), as.double(inner$x),
                    as.double(inner$start)),
               matrix(as.double(fit$plan), nrow(fit$plan)), hot_kernel_rotations(fit),
               rebuild, as.integer(inner$n_source), weights)
  if (is.null(xs)) res$rebuilt else res
}

# The rotations of a fit as the kernel takes them: NULL (plain HOT) or a list
# of L * M (pair k = l + (m - 1) L), NULL where none applies and where the
# descent made no iteration (R = I: exactly plain HOT there, as in hot()).
hot_kernel_rotations <- function(fit) {
  if (!is.list(fit$rotation)) return(NULL)
  rot <- fit$rotation$matrices
  out <- vector("list", length(rot))
  out[seq_along(rot)] <- lapply(rot, kernel_rotation)
  if (!is.null(fit$rotation$iterations)) {
    out[as.vector(fit$rotation$iterations) == 0L] <- list(NULL)
  }
  out
}

# Layers standardised with a fit's training statistics (`side` "source" or
# "target"), restricted to the columns the fit kept.
hot_standardise_rows <- function(fit, layers, side, rows) {
  lapply(seq_along(layers), function(k) {
    st <- hot_layer_stats(fit, side, k)
    y <- layers[[k]][rows, st$keep, drop = FALSE]
    sweep(sweep(y, 2L, st$center, "-"), 2L, st$scale, "/")
  })
}

# training statistics of one layer restricted to the columns used in the fit
hot_layer_stats <- function(x, side, k) {
  st <- x$standardise[[side]][[k]]
  keep <- as.integer(st$keep)
  width <- if (side == "source") x$inner$n_source[k] else x$inner$n_target[k]
  center <- st$center
  scale <- st$scale
  # statistics may be stored for every column or for the kept ones only
  if (length(center) != width) center <- center[keep]
  if (length(scale) != width) scale <- scale[keep]
  list(center = as.numeric(center), scale = as.numeric(scale), keep = keep,
       n_cols = length(keep) + length(x$dropped[[side]][[k]]))
}

# column names of the units used in the fit, when the fit kept them
hot_unit_names <- function(x, k, side = "source") {
  nm <- names(x$standardise[[side]][[k]]$center)
  width <- if (side == "source") x$inner$n_source[k] else x$inner$n_target[k]
  if (!is.null(nm) && length(nm) != width) {
    nm <- nm[as.integer(x$standardise[[side]][[k]]$keep)]
  }
  nm
}

# validate newdata and standardise it with the target training statistics
hot_standardise_newdata <- function(x, newdata) {
  target_names <- colnames(x$plan)
  M <- length(target_names)
  if (is.data.frame(newdata) || is.matrix(newdata) || !is.list(newdata)) {
    abort("`newdata` must be a list of target layers (one matrix per layer), ",
         "not a ", if (is.data.frame(newdata)) "data frame"
         else if (is.matrix(newdata)) "matrix" else class(newdata)[1L],
         arg = "newdata")
  }
  if (length(newdata) != M) {
    abort("`newdata` must have one element per target layer (", M, "), not ",
         length(newdata), arg = "newdata")
  }
  nm <- names(newdata)
  if (!is.null(nm)) {
    unknown <- setdiff(nm, target_names)
    if (length(unknown) > 0L || anyDuplicated(nm)) {
      bad <- if (length(unknown) > 0L) unknown[1L] else nm[anyDuplicated(nm)]
      abort("`newdata` names must be the target layer names (",
           paste0("`", target_names, "`", collapse = ", "), "); `", bad,
           "` is ", if (length(unknown) > 0L) "not one of them"
           else "duplicated", arg = "newdata")
    }
    newdata <- newdata[target_names]
  }
  n_rows <- NA_integer_
  out <- vector("list", M)
  for (m in seq_len(M)) {
    y <- newdata[[m]]
    layer <- target_names[m]
    if (is.data.frame(y)) {
      if (!all(vapply(y, is.numeric, TRUE))) {
        abort("`newdata` layer `", layer, "` has non-numeric columns",
             arg = "newdata", layer = layer)
      }
      y <- as.matrix(y)
    }
    if (!is.matrix(y) || !is.numeric(y)) {
      abort("`newdata` layer `", layer, "` must be a numeric matrix or data ",
           "frame", arg = "newdata", layer = layer)
    }
    if (is.na(n_rows)) {
      n_rows <- nrow(y)
      if (n_rows < 1L) {
        abort("`newdata` layer `", layer, "` has no rows", arg = "newdata",
              layer = layer)
      }
    } else if (nrow(y) != n_rows) {
      abort("`newdata` layer `", layer, "` has ", nrow(y), " rows, but layer `",
           target_names[1L], "` has ", n_rows, "; every layer needs the same ",
           "stimuli", arg = "newdata", layer = layer)
    }
    st <- hot_layer_stats(x, "target", m)
    if (ncol(y) != st$n_cols) {
      abort("`newdata` layer `", layer, "` has ", ncol(y), " columns, but ",
           st$n_cols, " at fit time", arg = "newdata", layer = layer)
    }
    if (any(!is.finite(y))) {
      abort("`newdata` layer `", layer, "` contains NA, NaN or infinite values",
           arg = "newdata", layer = layer)
    }
    y <- newdata_by_name(y, names(x$standardise$target[[m]]$center), st,
                         layer)
    storage.mode(y) <- "double"
    y <- y[, st$keep, drop = FALSE]
    y <- sweep(sweep(y, 2L, st$center, "-"), 2L, st$scale, "/")
    out[[m]] <- y
  }
  names(out) <- target_names
  out
}

# The columns of a newdata layer in the order of the fit, matched by name
# when both the fit and newdata have column names (then they must be the
# same names); by position otherwise. `fit_names` names every column or, when
# the fit stored the statistics of the kept columns only, those.
newdata_by_name <- function(y, fit_names, st, layer) {
  nm <- colnames(y)
  if (is.null(fit_names) || is.null(nm) || identical(nm, fit_names)) return(y)
  every <- length(fit_names) == ncol(y)
  missing <- setdiff(fit_names, nm)
  if (anyDuplicated(nm) || length(missing) ||
      (every && !setequal(nm, fit_names))) {
    abort("`newdata` layer `", layer, "` has other column names than at fit ",
          "time: ", paste0("`", utils::head(if (length(missing)) missing else
            setdiff(nm, fit_names), 3L), "`", collapse = ", "),
          if (length(missing)) " missing" else " unknown",
          if (anyDuplicated(nm)) " (or duplicated names)",
          "; columns are matched by name", arg = "newdata", layer = layer)
  }
  if (every) return(y[, fit_names, drop = FALSE])
  out <- y
  out[, st$keep] <- y[, match(fit_names, nm), drop = FALSE]
  out
}
