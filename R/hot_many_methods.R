# The result of hot_many(), class "hot_many" (constructor, failures of the
# pairs) and its S3 methods; the driver is in hot_many.R, the checkpoint
# directories in checkpoint.R.

new_hot_many <- function(results, todo, nm, pair_type, seed, parallel,
                         keep_fits, call) {
  failed <- vapply(results, function(r) !is.null(r$error), TRUE)
  errors <- lapply(results[failed], `[[`, "error")
  results[failed] <- lapply(results[failed], failed_pair)
  failures <- data.frame(source = factor(nm[todo[failed, 1]], levels = nm),
                         target = factor(nm[todo[failed, 2]], levels = nm),
                         message = vapply(errors, conditionMessage, ""),
                         stringsAsFactors = FALSE)
  failures$condition <- errors
  rownames(failures) <- NULL
  N <- length(nm)
  dn <- list(source = nm, target = nm)
  objective <- matrix(NA_real_, N, N, dimnames = dn)
  score <- score_se <- objective
  diag(objective) <- 0
  for (k in seq_along(results)) {
    i <- todo[k, 1]
    j <- todo[k, 2]
    objective[i, j] <- results[[k]]$objective
    score[i, j] <- results[[k]]$score
    score_se[i, j] <- results[[k]]$score_se
    if (pair_type == "unordered") objective[j, i] <- results[[k]]$objective
  }
  labels <- paste(nm[todo[, 1]], "->", nm[todo[, 2]])
  base <- do.call(rbind, lapply(results, `[[`, "baselines"))
  pairs <- data.frame(
    source = factor(nm[todo[, 1]], levels = nm),
    target = factor(nm[todo[, 2]], levels = nm),
    objective = vapply(results, `[[`, 0, "objective"),
    score = vapply(results, `[[`, 0, "score"),
    score_se = vapply(results, `[[`, 0, "score_se"),
    pairwise_best = base[, "pairwise_best"],
    single_best = base[, "single_best"],
    perm_p = base[, "perm_p"],
    perm_p_value = base[, "perm_p_value"],
    stringsAsFactors = FALSE
  )
  rownames(pairs) <- NULL
  structure(list(
    objective = objective, score = score, score_se = score_se, pairs = pairs,
    plans = stats::setNames(lapply(results, `[[`, "plan"), labels),
    fits = if (keep_fits) stats::setNames(lapply(results, `[[`, "fit"), labels),
    failures = failures,
    pair_type = pair_type, seed = seed, parallel = parallel, call = call
  ), class = "hot_many")
}

#' @rdname hot_many
#' @param x A `"hot_many"` object.
#' @param digits Significant digits shown.
#' @export
print.hot_many <- function(x, digits = 3L, ...) {
  digits <- check_digits(digits)
  N <- nrow(x$score)
  cat("<hot_many> HOT between ", N, " systems (", nrow(x$pairs), " ",
      x$pair_type, " pair", if (nrow(x$pairs) != 1L) "s", " fitted",
      if (isTRUE(x$parallel)) " in parallel", "; seed ", format(x$seed),
      ")\n", sep = "")
  cat("Held-out score (row: source rebuilt from column: target):\n")
  print(signif(x$score, digits))
  cat("Objective <C, P>:\n")
  print(signif(x$objective, digits))
  nf <- NROW(x$failures)
  if (nf) {
    cat(nf, " pair", if (nf != 1L) "s", " failed (NA above; see `$failures`):\n",
        sep = "")
    show <- utils::head(x$failures, 5L)
    cat(paste0("  ", show$source, " -> ", show$target, ": ", show$message),
        sep = "\n")
    if (nf > 5L) cat("  ...\n")
  }
  invisible(x)
}

#' Results of hot_many() as a data frame
#'
#' @param x A `"hot_many"` object from [hot_many()].
#' @param row.names,optional Ignored.
#' @param ... Ignored.
#' @return A data frame with one row per fitted pair: `source` and `target`
#'   (factors in the order of the systems), `objective`, `score`,
#'   `score_se` and the baselines of [hot()] (`pairwise_best`,
#'   `single_best`, `perm_p`, `perm_p_value`).
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' res <- hot_many(list(A = sim$X, B = sim$Y), n_perm = 0, seed = 1,
#'                 threads = 1)
#' as.data.frame(res)
as.data.frame.hot_many <- function(x, row.names = NULL, optional = FALSE,
                                   ...) {
  x$pairs
}

#' Plot the results of hot_many()
#'
#' * `type = "score"` (the default): heatmap of the held-out HOT scores,
#'   source systems as rows (top to bottom), target systems as columns.
#' * `type = "objective"`: heatmap of the HOT objectives.
#' * `type = "mds"`: a map of the systems by classical multidimensional
#'   scaling ([stats::cmdscale()]) of the symmetrised objective
#'   `(O + t(O)) / 2`, used as a dissimilarity: systems close on the map are
#'   cheap to transport into each other.
#'
#' @param x A `"hot_many"` object from [hot_many()].
#' @param type What to draw.
#' @param main Title; a default says what is drawn.
#' @param col For the heatmaps a palette, for the map the colour of the
#'   points.
#' @param numbers Write the values in the heatmap cells? By default for at
#'   most 100 cells.
#' @param digits Significant digits of the values written.
#' @param ... Further graphical arguments to [graphics::image()] or
#'   [graphics::plot()].
#' @return `x`, invisibly; for `type = "mds"` the coordinates, invisibly.
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' systems <- list(A = sim$X, B = sim$Y, B_half = sim$Y[c(1, 3)])
#' res <- hot_many(systems, n_perm = 0, seed = 1, threads = 1)
#' plot(res)
#' plot(res, type = "mds")
plot.hot_many <- function(x, type = c("score", "objective", "mds"),
                          main = NULL, col = NULL, numbers = NULL,
                          digits = 2, ...) {
  type <- match.arg(type)
  if (type == "mds") return(invisible(plot_hot_many_mds(x, main, col, ...)))
  z <- if (type == "score") x$score else x$objective
  if (type == "score" && all(is.na(z))) {
    abort("`x` has no held-out scores (fitted with `holdout = 0`): use ",
          "`type = \"objective\"` or `\"mds\"`", arg = "type")
  }
  if (is.null(main)) {
    main <- if (type == "score") "HOT score (source rebuilt from target)" else
      "HOT objective"
  }
  if (is.null(col)) {
    col <- if (type == "score") grDevices::hcl.colors(64L, "YlOrRd", rev = TRUE)
           else grDevices::hcl.colors(64L, "YlGnBu")
  }
  if (is.null(numbers)) numbers <- length(z) <= 100L
  hot_plot_heatmap(z, main = main, col = col, numbers = numbers,
                   digits = digits, legend_title = type, blank_zero = FALSE,
                   xlab = "target system", ylab = "source system", top = 3.6, ...)
  invisible(x)
}

plot_hot_many_mds <- function(x, main, col, ...) {
  d <- symmetrised_objective(x)
  N <- nrow(d)
  k <- min(2L, N - 1L)
  mds <- suppressWarnings(stats::cmdscale(stats::as.dist(d), k = k, eig = TRUE))
  pts <- mds$points
  # fewer positive eigenvalues than k: pad with zeros
  if (ncol(pts) < 2L) pts <- cbind(pts, matrix(0, N, 2L - ncol(pts)))
  rownames(pts) <- rownames(d)
  if (is.null(main)) main <- "Systems by MDS of the HOT objective"
  if (is.null(col)) col <- "#2166AC"
  pos <- mds$eig[mds$eig > 0]
  share <- if (length(pos)) pmax(mds$eig[seq_len(2)], 0) / sum(pos) else c(0, 0)
  share[is.na(share)] <- 0
  xr <- range(pts[, 1]) + c(-0.15, 0.15) * max(diff(range(pts[, 1])), 1e-3)
  yr <- range(pts[, 2]) + c(-0.15, 0.15) * max(diff(range(pts[, 2])), 1e-3)
  graphics::plot(pts[, 1], pts[, 2], pch = 19, col = col, xlim = xr,
                 ylim = yr, asp = 1, main = main,
                 xlab = sprintf("MDS 1 (%.0f%%)", 100 * share[1]),
                 ylab = sprintf("MDS 2 (%.0f%%)", 100 * share[2]), ...)
  graphics::text(pts[, 1], pts[, 2], labels = rownames(pts), pos = 3,
                 cex = 0.85, xpd = NA)
  pts
}

symmetrised_objective <- function(x) {
  o <- x$objective
  # one direction missing (not fitted): use the other
  o[is.na(o)] <- t(o)[is.na(o)]
  d <- (o + t(o)) / 2
  d[is.na(d)] <- max(d, na.rm = TRUE)
  d
}
