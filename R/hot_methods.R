# S3 methods for class "hot": print, summary, as.data.frame (predict and
# unit_plan are in hot_predict.R). The layout of the object is fixed in
# ARCHITECTURE.md.

#' Print a HOT fit
#'
#' A short account of a [hot()] fit: the two systems' depths, the transport
#' objective, the held-out HOT score and its baselines. Use [summary.hot()]
#' for the full report.
#'
#' @param x A `"hot"` object returned by [hot()].
#' @param digits Significant digits for the numbers shown.
#' @param ... Ignored.
#' @return `x`, invisibly.
#' @seealso [summary.hot()], [plot.hot()]
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' fit
print.hot <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  digits <- check_digits(digits)
  L <- nrow(x$plan)
  M <- ncol(x$plan)
  n_splits <- hot_n_splits(x)
  cat("<hot> ", if (is_hot_rotation(x)) "rotation-invariant HOT (HOT+R)"
      else "hierarchical optimal transport", ": ",
      L, " source layer", if (L != 1L) "s", " x ",
      M, " target layer", if (M != 1L) "s", "\n", sep = "")
  cat("  objective ", hot_fmt(x$objective, digits), ";  score ", sep = "")
  if (length(x$test) == 0L) {
    cat("NA (no held-out stimuli)\n")
    return(invisible(x))
  }
  cat(hot_fmt(x$score, digits), hot_se_text(x, digits),
      " on ", length(x$test), " held-out stimuli",
      if (n_splits > 1L) paste0(" x ", n_splits, " splits"), "\n", sep = "")
  cat(partial_text(partial_summary(x), digits), sep = "")
  b <- x$baselines
  if (!is.null(b)) {
    cat("  baselines: pairwise best ", hot_fmt(b$pairwise_best, digits),
        ", single best ", hot_fmt(b$single_best, digits),
        ", perm-P ", hot_fmt(b$perm_p, digits),
        " (p = ", hot_fmt(b$perm_p_value, digits), ")\n", sep = "")
  }
  invisible(x)
}

#' Summarise a HOT fit
#'
#' The full report of a [hot()] fit: per-layer held-out scores beside the
#' baselines', the layer plan with the dominant target of every source layer,
#' the baselines with the permutation p-value, the per-split results when
#' the score was averaged over several splits, and the columns and units
#' that were dropped or left undefined.
#'
#' @param object A `"hot"` object returned by [hot()].
#' @param x A `"summary.hot"` object.
#' @param digits Significant digits for the numbers shown.
#' @param ... Ignored.
#' @return `summary.hot()` returns an object of class `"summary.hot"`, a
#'   list with `call`, `rotation`, `descent` (HOT+R only: iterations and
#'   convergence of every pair), `dims` (numbers of layers), `sizes`
#'   (widths), `n_train`, `n_test`, `n_splits`, `objective`, `score`,
#'   `score_se`, `layers` (a data frame, one row per source layer: units,
#'   HOT score, dominant target, its share `L * plan[l, m]`, and the
#'   baseline layer scores), `plan`, `baselines`, `n_perm`, `splits` (a data
#'   frame, one row per split), `dropped` and `undefined`.
#'   `print.summary.hot()` returns `x` invisibly.
#' @seealso [print.hot()], [as.data.frame.hot()]
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' summary(fit)
summary.hot <- function(object, ...) {
  plan <- object$plan
  L <- nrow(plan)
  M <- ncol(plan)
  source_names <- rownames(plan)
  target_names <- colnames(plan)

  dominant <- apply(plan, 1L, which.max)
  layers <- data.frame(
    layer = source_names,
    units = hot_widths(object, "source", L),
    score = as.numeric(object$layer_scores),
    dominant = target_names[dominant],
    share = L * plan[cbind(seq_len(L), dominant)],
    stringsAsFactors = FALSE
  )
  bls <- object$baseline_layer_scores
  if (!is.null(bls)) {
    bls <- as.matrix(bls)
    for (k in seq_len(ncol(bls))) layers[[colnames(bls)[k]]] <- bls[, k]
  }
  rownames(layers) <- NULL

  splits <- NULL
  if (length(object$splits) > 0L) {
    splits <- data.frame(
      split = seq_along(object$splits),
      n_train = vapply(object$splits, function(s) length(s$train), 1L),
      n_test = vapply(object$splits, function(s) length(s$test), 1L),
      objective = vapply(object$splits, function(s) hot_num(s$objective), 1),
      score = vapply(object$splits, function(s) hot_num(s$score), 1),
      pairwise_best = vapply(object$splits, function(s)
        hot_num(s$baselines$pairwise_best), 1),
      perm_p = vapply(object$splits, function(s)
        hot_num(s$baselines$perm_p), 1)
    )
  }

  undefined <- object$undefined
  if (is.null(undefined)) {
    undefined <- data.frame(layer = character(0), unit = integer(0))
  }

  out <- list(
    call = object$call,
    rotation = is_hot_rotation(object),
    descent = if (is.list(object$rotation)) {
      object$rotation[c("iterations", "converged", "max_iter", "tol")]
    },
    dims = c(source = L, target = M),
    sizes = list(source = hot_widths(object, "source", L),
                 target = hot_widths(object, "target", M)),
    n_train = length(object$train),
    n_test = length(object$test),
    n_splits = hot_n_splits(object),
    objective = object$objective,
    score = object$score,
    score_se = if (is.null(object$score_se)) NA_real_ else object$score_se,
    layers = layers,
    plan = plan,
    baselines = object$baselines,
    n_perm = object$n_perm, perm_test = object$perm_test,
    splits = splits,
    dropped = object$dropped,
    undefined = undefined
  )
  out$partial <- partial_summary(object)
  names(out$sizes$source) <- source_names
  names(out$sizes$target) <- target_names
  class(out) <- "summary.hot"
  out
}

#' @rdname summary.hot
#' @export
print.summary.hot <- function(x, digits = max(3L, getOption("digits") - 3L),
                              ...) {
  digits <- check_digits(digits)
  cat(if (x$rotation) "Rotation-invariant hierarchical optimal transport (HOT+R)"
      else "Hierarchical optimal transport (HOT)", "\n", sep = "")
  if (!is.null(x$call)) {
    cat("Call: ", paste(deparse(x$call, width.cutoff = 70L),
                        collapse = "\n      "), "\n", sep = "")
  }
  cat("\nSource: ", x$dims[["source"]], " layers (units: ",
      hot_width_text(x$sizes$source), ")\n", sep = "")
  cat("Target: ", x$dims[["target"]], " layers (units: ",
      hot_width_text(x$sizes$target), ")\n", sep = "")
  cat("Stimuli: ", x$n_train, " training, ", x$n_test, " held out",
      if (x$n_splits > 1L) paste0(" (first of ", x$n_splits, " splits)"),
      "\n", sep = "")

  if (!is.null(x$descent)) {
    it <- x$descent$iterations
    cat("HOT+R descent: ", sum(x$descent$converged), " of ", length(it),
        " layer pairs converged (tol ", hot_fmt(x$descent$tol, digits),
        "), ", min(it), " to ", max(it), " iterations (max_iter ",
        x$descent$max_iter, ")\n", sep = "")
  }

  cat("\nObjective <C, P>: ", hot_fmt(x$objective, digits), "\n", sep = "")
  cat("HOT score:        ", hot_fmt(x$score, digits), sep = "")
  if (x$n_splits > 1L && !is.na(x$score_se)) {
    cat(" (SE ", hot_fmt(x$score_se, digits), " over ", x$n_splits,
        " splits)", sep = "")
  }
  cat("\n")
  cat(partial_text(x$partial, digits), sep = "")

  cat("\nPer source layer (held-out scores; dominant target and its share):\n")
  layers <- x$layers
  num <- vapply(layers, is.numeric, TRUE) & names(layers) != "units"
  layers[num] <- lapply(layers[num], signif, digits = digits)
  print(layers, row.names = FALSE)

  cat("\nLayer plan as shares of each source layer (L * plan; rows sum to ",
      if (!is.null(x$partial) && x$partial$layer_mass < 1) "at most ", "1):\n",
      sep = "")
  shares <- x$plan * nrow(x$plan)
  txt <- formatC(shares, digits = digits, format = "fg")
  txt[shares == 0] <- "."
  txt <- matrix(txt, nrow(shares), dimnames = dimnames(shares))
  print(noquote(txt), right = TRUE)

  b <- x$baselines
  if (!is.null(b)) {
    cat("\nBaselines (held-out scores):\n")
    tab <- c("HOT" = hot_num(x$score),
             "pairwise best" = hot_num(b$pairwise_best),
             "single best" = hot_num(b$single_best),
             "perm-P (mean)" = hot_num(b$perm_p))
    lines <- paste0("  ", formatC(names(tab), width = -14L),
                    hot_fmt(tab, digits))
    lines[4L] <- paste0(lines[4L], "  (p = ", hot_fmt(b$perm_p_value, digits),
                        if (!is.null(x$perm_test))
                          paste0(", ", if (x$perm_test$exact) "exact over all ",
                                 x$perm_test$n, " permutations")
                        else if (!is.null(x$n_perm))
                          paste0(", ", x$n_perm, " permutations"), ")")
    cat(lines, sep = "\n")
  }

  if (x$n_splits > 1L && !is.null(x$splits)) {
    cat("\nSplits:\n")
    splits <- x$splits
    num <- c("objective", "score", "pairwise_best", "perm_p")
    splits[num] <- lapply(splits[num], signif, digits = digits)
    print(splits, row.names = FALSE)
  }

  cat("\nDropped constant columns: ")
  dropped <- hot_dropped_text(x$dropped)
  if (length(dropped) == 0L) cat("none\n") else cat("\n", dropped, sep = "")

  cat("Units with undefined held-out correlation: ")
  if (NROW(x$undefined) == 0L) {
    cat("none\n")
  } else {
    cat(NROW(x$undefined), "\n")
    by_layer <- split(x$undefined$unit, factor(x$undefined$layer,
                                               levels = unique(x$undefined$layer)))
    for (l in names(by_layer)) {
      cat("  ", l, ": ", hot_index_text(by_layer[[l]]), "\n", sep = "")
    }
  }
  invisible(x)
}

#' Layer plan of a HOT fit as a data frame
#'
#' The layer-to-layer coupling in long form, one row per pair of layers.
#'
#' @param x A `"hot"` object returned by [hot()].
#' @param row.names,optional Ignored (present for compatibility with the
#'   generic).
#' @param ... Ignored.
#' @return A data frame with `L * M` rows and columns `source` and `target`
#'   (factors whose levels keep the layer order), `mass` (the plan entry,
#'   summing to 1 over all rows) and `cost` (the soft-matching cost of the
#'   pair, one minus its soft-matching correlation). Source layers vary
#'   fastest.
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' df <- as.data.frame(fit)
#' df[df$mass > 0, ]
as.data.frame.hot <- function(x, row.names = NULL, optional = FALSE, ...) {
  coupling_long_form(x$plan, cost = x$cost)
}

# --- helpers (private) -------------------------------------------------------

hot_fmt <- function(x, digits) {
  if (is.null(x) || length(x) == 0L) return("NA")
  out <- formatC(as.numeric(x), digits = digits, format = "g")
  out[is.na(x)] <- "NA"
  out
}

hot_num <- function(x) {
  if (is.null(x) || length(x) == 0L) NA_real_ else as.numeric(x)[1L]
}

hot_n_splits <- function(x) {
  max(1L, length(x$splits))
}

hot_se_text <- function(x, digits) {
  if (hot_n_splits(x) > 1L && !is.null(x$score_se) && !is.na(x$score_se)) {
    paste0(" (SE ", hot_fmt(x$score_se, digits), ")")
  } else {
    ""
  }
}

hot_widths <- function(x, side, n) {
  w <- x$sizes[[side]]
  if (is.null(w)) {
    w <- x$inner[[if (side == "source") "n_source" else "n_target"]]
  }
  if (is.null(w)) rep(NA_integer_, n) else as.integer(w)
}

hot_width_text <- function(w) {
  paste(paste(names(w), w), collapse = ", ")
}

hot_index_text <- function(i, max_shown = 20L) {
  i <- sort(unique(i))
  txt <- paste(utils::head(i, max_shown), collapse = ", ")
  if (length(i) > max_shown) {
    txt <- paste0(txt, ", ... (", length(i), " in all)")
  }
  txt
}

hot_dropped_text <- function(dropped) {
  out <- character(0)
  for (side in c("source", "target")) {
    d <- dropped[[side]]
    for (k in seq_along(d)) {
      if (length(d[[k]]) > 0L) {
        out <- c(out, paste0("  ", side, " `", names(d)[k], "`: column",
                             if (length(d[[k]]) > 1L) "s", " ",
                             hot_index_text(d[[k]]), "\n"))
      }
    }
  }
  out
}

# Long form of a coupling matrix and matrices of the same shape: one row per
# (source, target) cell, factors in matrix order. Shared by the "hot" and
# "hot_trajectory" methods.
coupling_long_form <- function(plan, ...) {
  source_names <- rownames(plan)
  target_names <- colnames(plan)
  cells <- data.frame(
    source = factor(rep(source_names, times = ncol(plan)), levels = source_names),
    target = factor(rep(target_names, each = nrow(plan)), levels = target_names),
    mass = as.vector(plan)
  )
  for (name in names(list(...))) cells[[name]] <- as.vector(list(...)[[name]])
  cells
}

# `digits` of the print methods: a whole number in 1..22 (what format() and
# signif() take), else a clear error instead of 50 digits and warnings
check_digits <- function(digits) {
  if (!is.numeric(digits) || length(digits) != 1L || !is.finite(digits) ||
      digits != round(digits) || digits < 1 || digits > 22) {
    abort("`digits` must be a whole number in [1, 22], not ", describe(digits),
          arg = "digits")
  }
  as.integer(digits)
}
