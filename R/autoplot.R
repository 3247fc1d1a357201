# ggplot2 figures of every result class. ggplot2 is suggested, not imported:
# the methods are registered for ggplot2::autoplot when ggplot2 is loaded
# (roxygen's @exportS3Method, delayed registration in R >= 3.6). Each method
# builds its figure from as.data.frame() of the object (and, for the flow,
# from the geometry that plot(type = "flow") draws), so the figures match
# the base ones and users can start from the same data for their own.

utils::globalVariables(".data")

#' ggplot2 figures of HOT results
#'
#' `autoplot()` methods (for [ggplot2::autoplot()]) that draw, with
#' ggplot2, the figures of the base `plot()` methods: for [hot()] fits the
#' layer plan, the layer costs, the layer scores and the layer flow; for
#' [hot_many()] the score and objective heatmaps and the MDS map; for
#' [hot_trajectory()] the checkpoint coupling, costs and scores; for
#' [layer_similarity()] the similarity heatmap with the greedy best match
#' outlined and, optionally, the HOT plan as circles; for [hot_inference()]
#' the bootstrap intervals and the null distribution of the stimulus-shuffle
#' test. They return a `ggplot` object, to be printed, saved with
#' [ggplot2::ggsave()] or modified with the usual `+` layers, themes and
#' scales (for example `+ ggplot2::scale_fill_viridis_c()`).
#'
#' Heatmaps use the palettes of the base plots (sequential
#' [grDevices::hcl.colors()] palettes that colour-blind readers can read);
#' the flow colours the source layers with viridis. Long layer names are
#' wrapped at `_`, `.`, `-`, `/` or spaces. The data of every figure are
#' those of `as.data.frame()`: start from them for a figure of your own.
#'
#' The package ggplot2 must be installed; load it (`library(ggplot2)`) to
#' call `autoplot()`.
#'
#' @param object A result: `"hot"`, `"hot_many"`, `"hot_trajectory"`,
#'   `"layer_similarity"` or `"hot_inference"`.
#' @param type What to draw: for `"hot"` `"plan"`, `"cost"`, `"scores"` or
#'   `"flow"`; for `"hot_many"` `"score"`, `"objective"` or `"mds"`; for
#'   `"hot_trajectory"` `"plan"`, `"cost"` or `"scores"`; for
#'   `"hot_inference"` `"intervals"` or `"null"`.
#' @param numbers Write the values in the heatmap cells? By default when
#'   there are at most 100 cells.
#' @param digits Significant digits of the values written in the cells.
#' @param plan For `"layer_similarity"`: `NULL`, a `"hot"` fit of the same
#'   systems or an `L x M` plan, drawn as circles whose area is the share
#'   `L * plan[l, m]`.
#' @param diagonal For `"hot_trajectory"`: draw the diagonal of the
#'   order-preserving coupling as a dashed line?
#' @param ... Ignored.
#' @return A `ggplot` object.
#' @seealso [plot.hot()], [plot.hot_many()], [plot.hot_trajectory()],
#'   [plot.layer_similarity()]; [as.data.frame.hot()] and the other
#'   `as.data.frame()` methods for the data.
#' @name autoplot.hot
#' @examples
#' if (requireNamespace("ggplot2", quietly = TRUE)) {
#'   library(ggplot2)
#'   sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                             target_layers = 4, source_units = 8,
#'                             target_units = 6, seed = 1)
#'   fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'              progress = FALSE)
#'   autoplot(fit)
#'   autoplot(fit, type = "flow")
#'   autoplot(fit, type = "scores") + theme(legend.position = "bottom")
#' }
NULL

#' @rdname autoplot.hot
#' @exportS3Method ggplot2::autoplot
autoplot.hot <- function(object, type = c("plan", "cost", "scores", "flow"),
                         numbers = NULL, digits = 2, ...) {
  need_ggplot2()
  type <- match.arg(type)
  switch(type,
    plan = , cost = {
      df <- as.data.frame(object)
      gg_heatmap(df, value = if (type == "plan") "mass" else "cost",
                 palette = if (type == "plan") plan_palette() else
                   cost_palette(),
                 title = if (type == "plan") "HOT layer plan" else
                   "Layer cost (1 - soft-matching r)",
                 numbers = numbers, digits = digits,
                 blank_zero = type == "plan")
    },
    scores = gg_scores(object),
    flow = gg_flow(object$plan))
}

#' @rdname autoplot.hot
#' @exportS3Method ggplot2::autoplot
autoplot.hot_many <- function(object, type = c("score", "objective", "mds"),
                              numbers = NULL, digits = 2, ...) {
  need_ggplot2()
  type <- match.arg(type)
  if (type == "mds") return(gg_hot_many_mds(object))
  pairs <- as.data.frame(object)
  if (type == "score" && all(is.na(pairs$score))) {
    abort("`object` has no held-out scores (fitted with `holdout = 0`): use ",
          "`type = \"objective\"` or `\"mds\"`", arg = "type")
  }
  systems <- levels(pairs$source)
  if (is.null(systems)) systems <- unique(c(pairs$source, pairs$target))
  grid <- expand.grid(source = factor(systems, levels = systems),
                      target = factor(systems, levels = systems))
  key <- paste(pairs$source, pairs$target)
  grid[[type]] <- pairs[[type]][match(paste(grid$source, grid$target), key)]
  gg_heatmap(grid, value = type,
             palette = if (type == "score") plan_palette() else cost_palette(),
             title = if (type == "score")
               "HOT score (source rebuilt from target)" else "HOT objective",
             numbers = numbers, digits = digits, blank_zero = FALSE,
             xlab = "target system", ylab = "source system")
}

#' @rdname autoplot.hot
#' @exportS3Method ggplot2::autoplot
autoplot.hot_trajectory <- function(object, type = c("plan", "cost", "scores"),
                                    numbers = NULL, digits = 2,
                                    diagonal = TRUE, ...) {
  need_ggplot2()
  type <- match.arg(type)
  diagonal <- check_flag(diagonal, "diagonal")
  df <- as.data.frame(object)
  value <- switch(type, plan = "mass", cost = "cost", scores = "score")
  if (type == "scores" && all(is.na(df$score))) {
    abort("`object` has no held-out scores (fitted without held-out ",
          "stimuli): use `type = \"plan\"` or `\"cost\"`", arg = "type")
  }
  p <- gg_heatmap(df, value = value,
                  palette = switch(type, plan = plan_palette(),
                                   cost = cost_palette(),
                                   scores = rev(cost_palette())),
                  title = switch(type, plan = "Checkpoint coupling (HOT plan)",
                                 cost = "Checkpoint cost (HOT objective)",
                                 scores = "Held-out HOT score"),
                  numbers = numbers, digits = digits,
                  blank_zero = type == "plan", xlab = "checkpoint of B",
                  ylab = "checkpoint of A")
  if (diagonal) {
    L <- nlevels(df$source)
    M <- nlevels(df$target)
    p <- p + ggplot2::annotate("segment", x = 0.5, y = L + 0.5, xend = M + 0.5,
                               yend = 0.5, linetype = 2, colour = "grey40")
  }
  p
}

#' @rdname autoplot.hot
#' @exportS3Method ggplot2::autoplot
autoplot.layer_similarity <- function(object, plan = NULL, numbers = NULL,
                                      digits = 2, ...) {
  need_ggplot2()
  df <- as.data.frame(object)
  m <- as.matrix(object)
  if (!is.null(plan)) plan <- check_plan_overlay(plan, m)
  if (is.null(numbers)) numbers <- nrow(df) <= 100L && is.null(plan)
  p <- gg_heatmap(df, value = "similarity",
                  palette = grDevices::hcl.colors(64L, "Blues 3", rev = TRUE),
                  title = metric_label(attr(object, "metric")),
                  numbers = numbers, digits = digits, blank_zero = FALSE)
  best <- df[df$best, , drop = FALSE]
  p <- p + ggplot2::geom_tile(data = best, fill = NA, colour = "#D7191C",
                              linewidth = 1.2, width = 0.96, height = 0.96)
  subtitle <- "outlined: greedy best match"
  if (!is.null(plan)) {
    share <- data.frame(source = df$source, target = df$target,
                        share = as.vector(plan) * nrow(plan))
    share <- share[share$share > 0, , drop = FALSE]
    p <- p + ggplot2::geom_point(
      data = share, ggplot2::aes(size = .data$share), shape = 21,
      fill = grDevices::adjustcolor("#FDAE61", alpha.f = 0.8),
      colour = "black") +
      ggplot2::scale_size_area(max_size = 12, name = "HOT share")
    subtitle <- paste0(subtitle, "; circles: HOT plan (area = share)")
  }
  p + ggplot2::labs(subtitle = subtitle)
}

#' @rdname autoplot.hot
#' @exportS3Method ggplot2::autoplot
autoplot.hot_inference <- function(object, type = c("intervals", "null"),
                                   ...) {
  need_ggplot2()
  type <- match.arg(type)
  if (type == "null") return(gg_shuffle_null(object))
  iv <- as.data.frame(object)
  if (all(is.na(iv$lower))) {
    abort("`object` has no bootstrap intervals (`n_boot = 0`)", arg = "type")
  }
  iv$label <- ifelse(iv$term == "score", "HOT score", as.character(iv$layer))
  iv$label <- factor(iv$label, levels = rev(unique(iv$label)))
  iv$term <- factor(ifelse(iv$term == "score", "score", "source layer"),
                    levels = c("score", "source layer"))
  lev <- format(100 * iv$level[1L])
  ggplot2::ggplot(iv, ggplot2::aes(x = .data$estimate, y = .data$label,
                                   xmin = .data$lower, xmax = .data$upper,
                                   colour = .data$term)) +
    ggplot2::geom_vline(xintercept = 0, colour = "grey60") +
    ggplot2::geom_pointrange(linewidth = 0.8) +
    ggplot2::scale_colour_manual(values = c(score = "#B2182B",
                                            `source layer` = "#2166AC"),
                                 name = NULL) +
    ggplot2::scale_y_discrete(labels = wrap_labels_gg) +
    ggplot2::labs(x = "held-out correlation", y = NULL,
                  title = paste0("Bootstrap ", lev, "% intervals (",
                                 object$interval, ", ", object$n_boot,
                                 " resamples)")) +
    ggplot2::theme_minimal(base_size = 12) +
    ggplot2::theme(legend.position = "bottom")
}

# --- helpers -----------------------------------------------------------------

need_ggplot2 <- function() {
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    abort("autoplot() needs the package ggplot2: install.packages(\"ggplot2\")")
  }
}

plan_palette <- function() grDevices::hcl.colors(64L, "YlOrRd", rev = TRUE)
cost_palette <- function() grDevices::hcl.colors(64L, "YlGnBu")

# layer names wrapped onto lines of at most 20 characters
wrap_labels_gg <- function(x) {
  vapply(as.character(x), wrap_label, "", width = 20L, lines = 3L,
         USE.NAMES = FALSE)
}

# Heatmap of a long data frame with factors `source` (rows, first on top)
# and `target` (columns) and a numeric column `value`; the cell text is
# white on dark cells, black on light ones, as in the base heatmaps.
gg_heatmap <- function(df, value, palette, title, numbers, digits, blank_zero,
                       xlab = "target layer", ylab = "source layer") {
  z <- df[[value]]
  if (is.null(numbers)) numbers <- length(z) <= 100L
  numbers <- check_flag(numbers, "numbers")
  zlim <- if (any(is.finite(z))) range(z, finite = TRUE) else c(0, 1)
  if (zlim[1L] == zlim[2L]) zlim <- zlim + c(-0.5, 0.5) * max(abs(zlim[1L]), 1)
  df$.value <- z
  rows <- levels(df$source)
  cols <- levels(df$target)
  p <- ggplot2::ggplot(df, ggplot2::aes(x = .data$target, y = .data$source)) +
    ggplot2::geom_tile(ggplot2::aes(fill = .data$.value)) +
    ggplot2::scale_fill_gradientn(colours = palette, limits = zlim,
                                  name = value, na.value = "grey92") +
    ggplot2::scale_x_discrete(limits = cols, labels = wrap_labels_gg,
                              expand = c(0, 0)) +
    ggplot2::scale_y_discrete(limits = rev(rows), labels = wrap_labels_gg,
                              expand = c(0, 0)) +
    ggplot2::labs(x = xlab, y = ylab, title = title) +
    ggplot2::theme_minimal(base_size = 12) +
    ggplot2::theme(panel.grid = ggplot2::element_blank(),
                   panel.border = ggplot2::element_rect(fill = NA,
                                                        colour = "grey30"))
  # column names turned when they would not fit side by side
  line_chars <- max(nchar(unlist(strsplit(wrap_labels_gg(cols), "\n",
                                          fixed = TRUE))))
  rotate <- length(cols) > 12L || line_chars * length(cols) > 60L
  if (rotate) {
    p <- p + ggplot2::theme(axis.text.x = ggplot2::element_text(
      angle = 90, hjust = 1, vjust = 0.5))
  }
  if (numbers) {
    show <- is.finite(z)
    if (blank_zero) show <- show & z != 0
    if (any(show)) {
      k <- pmax(1L, pmin(length(palette),
        1L + floor((z[show] - zlim[1L]) / diff(zlim) * length(palette))))
      rgb <- grDevices::col2rgb(palette[k])
      dark <- (0.299 * rgb[1L, ] + 0.587 * rgb[2L, ] + 0.114 * rgb[3L, ]) < 128
      txt <- df[show, , drop = FALSE]
      txt$.label <- formatC(signif(z[show], digits), digits = digits,
                            format = "fg")
      txt$.colour <- ifelse(dark, "white", "black")
      size <- 3.8 * min(1, 10 / max(length(rows), length(cols)))
      p <- p + ggplot2::geom_text(data = txt,
                                  ggplot2::aes(label = .data$.label,
                                               colour = .data$.colour),
                                  size = size) +
        ggplot2::scale_colour_identity()
    }
  }
  p
}

# grouped bars of the held-out layer scores and the baselines
gg_scores <- function(x) {
  layers <- rownames(x$plan)
  df <- data.frame(layer = layers, method = "HOT",
                   score = as.numeric(x$layer_scores),
                   stringsAsFactors = FALSE)
  bls <- x$baseline_layer_scores
  labels <- c(pairwise_best = "pairwise best", single_best = "single best",
              perm_p = "perm-P")
  if (!is.null(bls)) {
    bls <- as.matrix(bls)
    for (b in colnames(bls)) {
      df <- rbind(df, data.frame(layer = layers,
                                 method = if (b %in% names(labels))
                                   labels[[b]] else b,
                                 score = as.numeric(bls[, b]),
                                 stringsAsFactors = FALSE))
    }
  }
  df$layer <- factor(df$layer, levels = layers)
  df$method <- factor(df$method, levels = unique(df$method))
  col <- rep_len(c("#B2182B", "#4393C3", "#92C5DE", "grey75"),
                 nlevels(df$method))
  names(col) <- levels(df$method)
  none <- all(is.na(df$score))
  if (none) df$score <- 0
  p <- ggplot2::ggplot(df, ggplot2::aes(x = .data$layer, y = .data$score,
                                        fill = .data$method)) +
    ggplot2::geom_col(position = ggplot2::position_dodge(width = 0.85),
                      width = 0.8, colour = "grey20", linewidth = 0.2,
                      na.rm = TRUE) +
    ggplot2::geom_hline(yintercept = 0, colour = "grey40") +
    ggplot2::scale_fill_manual(values = col, name = NULL) +
    ggplot2::scale_x_discrete(labels = wrap_labels_gg) +
    ggplot2::labs(x = "source layer", y = "mean held-out correlation",
                  title = paste0("Held-out layer scores (HOT score ",
                                 formatC(as.numeric(x$score), digits = 3L,
                                         format = "fg"), ")")) +
    ggplot2::theme_minimal(base_size = 12) +
    ggplot2::theme(legend.position = "top",
                   panel.grid.major.x = ggplot2::element_blank())
  if (none) {
    p <- p + ggplot2::annotate("text", x = (nlevels(df$layer) + 1) / 2,
                               y = 0.5, colour = "grey30", label =
                               "no held-out scores (fitted without held-out stimuli)")
  }
  p
}

# the layer flow, from the geometry of plot(type = "flow")
gg_flow <- function(plan) {
  geo <- flow_geometry(plan)
  L <- length(geo$source)
  b <- geo$boxes
  b$label <- wrap_labels_gg(b$layer)
  b$mid <- (b$ymin + b$ymax) / 2
  b$fill <- c(flow_colours(L), rep("grey35", length(geo$target)))
  # names in the plot margins (clipping off), as wide as their longest line
  # (a character of the 3.6 mm font is about 6 points wide)
  widest <- function(lab) max(nchar(unlist(strsplit(lab, "\n", fixed = TRUE))))
  src <- b[b$side == "source", , drop = FALSE]
  tgt <- b[b$side == "target", , drop = FALSE]
  left <- 6.2 * widest(src$label) + 10
  right <- 6.2 * widest(tgt$label) + 10
  ggplot2::ggplot() +
    ggplot2::geom_polygon(data = geo$ribbons,
                          ggplot2::aes(x = .data$x, y = .data$y,
                                       group = .data$id, fill = .data$source,
                                       colour = .data$source),
                          alpha = 0.65, linewidth = 0.25) +
    ggplot2::scale_fill_manual(values = stats::setNames(flow_colours(L),
                                                        geo$source),
                               guide = "none", aesthetics = c("fill",
                                                              "colour")) +
    ggplot2::annotate("rect", xmin = b$xmin, xmax = b$xmax, ymin = b$ymin,
                      ymax = b$ymax, fill = b$fill, colour = "white") +
    ggplot2::annotate("text", x = -0.01, y = src$mid, label = src$label,
                      hjust = 1, size = 3.6, lineheight = 0.9) +
    ggplot2::annotate("text", x = 1.01, y = tgt$mid, label = tgt$label,
                      hjust = 0, size = 3.6, lineheight = 0.9) +
    ggplot2::annotate("text", x = c(0.03, 0.97), y = max(b$ymax) + 0.04,
                      label = c("source", "target"), fontface = "bold",
                      size = 3.8) +
    ggplot2::coord_cartesian(xlim = c(0, 1),
                             ylim = c(min(b$ymin) - 0.01, max(b$ymax) + 0.07),
                             expand = FALSE, clip = "off") +
    ggplot2::labs(title = "HOT layer flow",
                  caption = "ribbon width = layer mass P[l, m]") +
    ggplot2::theme_void(base_size = 12) +
    ggplot2::theme(plot.title = ggplot2::element_text(hjust = 0.5,
                                                      face = "bold"),
                   plot.caption = ggplot2::element_text(hjust = 0.5,
                                                        colour = "grey30"),
                   plot.margin = ggplot2::margin(8, right, 8, left))
}

# systems on the MDS map of the symmetrised objective, as plot(type = "mds")
gg_hot_many_mds <- function(x) {
  d <- symmetrised_objective(x)
  N <- nrow(d)
  mds <- suppressWarnings(stats::cmdscale(stats::as.dist(d), k = min(2L, N - 1L),
                                          eig = TRUE))
  pts <- mds$points
  if (ncol(pts) < 2L) pts <- cbind(pts, matrix(0, N, 2L - ncol(pts)))
  pos <- mds$eig[mds$eig > 0]
  share <- if (length(pos)) pmax(mds$eig[seq_len(2)], 0) / sum(pos) else c(0, 0)
  share[is.na(share)] <- 0
  df <- data.frame(system = rownames(d), x = pts[, 1], y = pts[, 2])
  ggplot2::ggplot(df, ggplot2::aes(x = .data$x, y = .data$y,
                                   label = .data$system)) +
    ggplot2::geom_point(colour = "#2166AC", size = 2.5) +
    ggplot2::geom_text(vjust = -0.9, size = 3.6) +
    ggplot2::scale_x_continuous(expand = ggplot2::expansion(mult = 0.15)) +
    ggplot2::scale_y_continuous(expand = ggplot2::expansion(mult = 0.15)) +
    ggplot2::coord_equal() +
    ggplot2::labs(x = sprintf("MDS 1 (%.0f%%)", 100 * share[1]),
                  y = sprintf("MDS 2 (%.0f%%)", 100 * share[2]),
                  title = "Systems by MDS of the HOT objective") +
    ggplot2::theme_minimal(base_size = 12)
}

# the null scores of the stimulus-shuffle test against the observed score
gg_shuffle_null <- function(x) {
  null <- x$shuffle_scores
  if (!length(null)) {
    abort("`object` has no stimulus-shuffle null (`n_shuffle = 0`)",
          arg = "type")
  }
  tests <- as.data.frame(x, what = "tests")
  row <- tests[tests$test == "stimulus_shuffle", , drop = FALSE]
  observed <- row$observed[1L]
  ggplot2::ggplot(data.frame(score = null), ggplot2::aes(x = .data$score)) +
    ggplot2::geom_histogram(bins = max(5L, min(30L, length(null) %/% 3L)),
                            fill = "grey70", colour = "white") +
    ggplot2::geom_vline(xintercept = observed, colour = "#B2182B",
                        linewidth = 1) +
    ggplot2::labs(x = "HOT score", y = "shuffles",
                  title = "Stimulus-shuffle null",
                  subtitle = sprintf("observed %.3g (red), p = %.3g, %d shuffles",
                                     observed, row$p_value[1L],
                                     length(null))) +
    ggplot2::theme_minimal(base_size = 12)
}
