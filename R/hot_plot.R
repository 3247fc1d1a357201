#' Plot a HOT fit
#'
#' Base-graphics views of a [hot()] fit:
#' * `type = "plan"` (the default): heatmap of the layer plan, source layers
#'   as rows from top to bottom, target layers as columns, with a colour
#'   legend; the values are written in the cells when the plan is small.
#' * `type = "cost"`: the same heatmap of the layer cost matrix (one minus
#'   the soft-matching correlation of every pair of layers).
#' * `type = "scores"`: bar chart of the held-out score of every source layer
#'   beside its baseline scores (pairwise best, single best, perm-P).
#' * `type = "flow"`: the layer flow -- source layers on the left, target
#'   layers on the right, joined by ribbons as wide as the mass
#'   `plan[l, m]` they carry, so that a depth mismatch (a source layer
#'   spread over several target layers, or several sent to one) reads at a
#'   glance. Ribbons are coloured by source layer (viridis, light to dark
#'   with depth).
#'
#' Long layer names are shrunk, then wrapped at `_`, `.`, `-`, `/` or
#' spaces, so that they fit the margins at publication size; the default
#' palettes are sequential palettes readable by colour-blind readers
#' ([grDevices::hcl.colors()]). For the same figures with ggplot2 see
#' [autoplot.hot()]; [as.data.frame.hot()] gives the data for figures of
#' your own.
#'
#' @param x A `"hot"` object returned by [hot()].
#' @param type What to draw: `"plan"`, `"cost"`, `"scores"` or `"flow"`.
#' @param main Title; a default that says what is drawn when `NULL`.
#' @param col Colours: for the heatmaps a palette (by default light to dark
#'   for growing mass, dark for low cost), for the scores one colour per bar
#'   of a group (HOT first), for the flow one colour per source layer.
#' @param numbers Write the values in the heatmap cells? By default when the
#'   matrix has at most 100 cells.
#' @param digits Significant digits of the values written in the cells.
#' @param ... Further graphical arguments passed to [graphics::image()]
#'   (heatmaps), [graphics::barplot()] (scores) or [graphics::plot.window()]
#'   (flow).
#' @return `x`, invisibly.
#' @seealso [print.hot()], [as.data.frame.hot()]
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' plot(fit)
#' plot(fit, type = "cost")
#' plot(fit, type = "scores")
#' plot(fit, type = "flow")
plot.hot <- function(x, type = c("plan", "cost", "scores", "flow"), main = NULL,
                     col = NULL, numbers = NULL, digits = 2, ...) {
  type <- match.arg(type)
  if (!is.null(numbers) &&
      (!is.logical(numbers) || length(numbers) != 1L || is.na(numbers))) {
    abort("`numbers` must be `NULL`, `TRUE` or `FALSE`", arg = "numbers")
  }
  if (type == "scores") {
    hot_plot_scores(x, main = main, col = col, ...)
  } else if (type == "flow") {
    plot_flow(x$plan, main = main, col = col, ...)
  } else {
    z <- if (type == "plan") x$plan else x$cost
    if (is.null(main)) {
      main <- if (type == "plan") "HOT layer plan" else "Layer cost (1 - soft-matching r)"
    }
    if (is.null(col)) {
      col <- if (type == "plan") grDevices::hcl.colors(64L, "YlOrRd", rev = TRUE)
             else grDevices::hcl.colors(64L, "YlGnBu")
    }
    if (is.null(numbers)) numbers <- length(z) <= 100L
    hot_plot_heatmap(z, main = main, col = col, numbers = numbers,
                     digits = digits, legend_title = if (type == "plan") "mass" else "cost",
                     blank_zero = type == "plan", ...)
  }
  invisible(x)
}

# heatmap of an L x M matrix: rows top to bottom, colour bar in the right
# margin; `top` is the top margin (lines). Returns, invisibly, list(y =
# function(row) its height) for overlays.
hot_plot_heatmap <- function(z, main, col, numbers, digits, legend_title,
                             blank_zero, xlab = "target layer",
                             ylab = "source layer", diagonal = FALSE,
                             top = 3.1, ...) {
  L <- nrow(z)
  M <- ncol(z)
  zlim <- if (any(is.finite(z))) range(z, finite = TRUE) else c(0, 1)
  if (zlim[1L] == zlim[2L]) zlim <- zlim + c(-0.5, 0.5) * max(abs(zlim[1L]), 1)

  row_labels <- rownames(z)
  col_labels <- colnames(z)
  if (is.null(row_labels)) row_labels <- as.character(seq_len(L))
  if (is.null(col_labels)) col_labels <- as.character(seq_len(M))
  # margins in inches from the label widths, capped so the figure always
  # fits the device: long names shrink, then wrap
  fin <- graphics::par("fin")
  csi <- graphics::par("csi")
  right <- 6.1
  plot_h <- fin[2L] - (top + 6) * csi
  # rows: as many lines per label as a row has room for
  row_lines <- floor(0.9 * max(plot_h, 0.2) / L / (csi * 0.8))
  rows <- fit_labels(row_labels, 0.3 * fin[1L], lines = row_lines)
  left <- max(4.1, rows$width / csi + 2.8)
  plot_w <- fin[1L] - (left + right) * csi
  cols <- fit_labels(col_labels, max(0.2, 0.9 * plot_w / M))
  rotate <- M > 12L || cols$cex < 1 || !identical(cols$labels, col_labels)
  if (rotate) {
    # turned labels: as many lines as a column is wide
    col_lines <- floor(0.9 * max(plot_w, 0.2) / M / (csi * 0.8))
    cols <- fit_labels(col_labels, 0.3 * fin[2L], lines = col_lines)
  }
  bottom <- if (rotate) max(4.1, cols$width / csi + 2.5) else
    max(4.1, cols$lines + 3.1)

  op <- graphics::par(mar = c(bottom, left, top, right))
  on.exit(graphics::par(op), add = TRUE)

  # rows top to bottom: row l sits at height L - l + 1
  dots <- with_title_cex(list(...), main)
  do.call(graphics::image, c(list(
    x = seq(0.5, M + 0.5), y = seq(0.5, L + 0.5),
    z = t(z[rev(seq_len(L)), , drop = FALSE]), zlim = zlim, col = col,
    axes = FALSE, xlab = "", ylab = "", main = main), dots))
  graphics::axis(1L, at = seq_len(M), labels = cols$labels,
                 las = if (rotate) 2L else 1L, tick = FALSE,
                 cex.axis = cols$cex, padj = if (rotate) 0.5 else NA)
  graphics::axis(2L, at = seq_len(L), labels = rev(rows$labels), las = 1L,
                 tick = FALSE, cex.axis = rows$cex)
  graphics::title(xlab = xlab, line = bottom - 1.5)
  graphics::title(ylab = ylab, line = left - 1.5)
  graphics::box()
  if (diagonal) {
    graphics::segments(0.5, L + 0.5, M + 0.5, 0.5, lty = 2L, col = "grey40")
  }

  if (!any(is.finite(z))) {
    graphics::text(mean(c(0.5, M + 0.5)), mean(c(0.5, L + 0.5)),
                   "no finite values to show", col = "grey30")
  }
  if (numbers && any(is.finite(z))) {
    k <- pmax(1L, pmin(length(col),
      1L + floor((as.vector(z) - zlim[1L]) / diff(zlim) * length(col))))
    rgb <- grDevices::col2rgb(col[ifelse(is.finite(k), k, 1L)])
    dark <- (0.299 * rgb[1L, ] + 0.587 * rgb[2L, ] + 0.114 * rgb[3L, ]) < 128
    lab <- formatC(signif(as.vector(z), digits), digits = digits,
                   format = "fg")
    show <- is.finite(as.vector(z))
    if (blank_zero) show <- show & as.vector(z) != 0
    # as large as the cells allow, up to 1; none when they would be unreadable
    pin <- graphics::par("pin")
    cell_w <- pin[1L] / M
    cell_h <- pin[2L] / L
    cex <- min(1, 0.85 * cell_w / max(graphics::strwidth(lab, "inches")),
               0.7 * cell_h / graphics::strheight("0", "inches"))
    if (cex < 0.4) show[] <- FALSE
    if (any(show)) graphics::text(x = rep(seq_len(M), each = L)[show],
                   y = rep(rev(seq_len(L)), times = M)[show],
                   labels = lab[show], cex = cex,
                   col = ifelse(dark, "white", "black")[show])
  }

  # colour bar in the right margin
  usr <- graphics::par("usr")
  per_inch <- diff(usr[1:2]) / graphics::par("pin")[1L]
  x0 <- usr[2L] + 0.2 * per_inch
  x1 <- x0 + 0.2 * per_inch
  n <- length(col)
  y <- seq(usr[3L], usr[4L], length.out = n + 1L)
  graphics::rect(x0, y[-(n + 1L)], x1, y[-1L], col = col, border = NA,
                 xpd = NA)
  graphics::rect(x0, usr[3L], x1, usr[4L], border = "grey30", xpd = NA)
  ticks <- pretty(zlim, n = 5L)
  ticks <- ticks[ticks >= zlim[1L] & ticks <= zlim[2L]]
  ty <- usr[3L] + (ticks - zlim[1L]) / diff(zlim) * (usr[4L] - usr[3L])
  graphics::segments(x1, ty, x1 + 0.05 * per_inch, ty, xpd = NA)
  graphics::text(x1 + 0.08 * per_inch, ty, labels = format(ticks), adj = 0,
                 cex = 0.8, xpd = NA)
  graphics::text((x0 + x1) / 2, usr[4L], labels = legend_title, pos = 3L,
                 cex = 0.8, xpd = NA)
  invisible(list(y = function(row) L - row + 1))
}

# grouped bars: HOT and baseline held-out score per source layer
hot_plot_scores <- function(x, main, col, ...) {
  scores <- rbind(HOT = as.numeric(x$layer_scores))
  bls <- x$baseline_layer_scores
  if (!is.null(bls)) {
    bls <- as.matrix(bls)
    labels <- c(pairwise_best = "pairwise best", single_best = "single best",
                perm_p = "perm-P")
    rn <- colnames(bls)
    rn <- ifelse(rn %in% names(labels), labels[rn], rn)
    scores <- rbind(scores, `rownames<-`(t(bls), rn))
  }
  layer_names <- rownames(x$plan)
  if (is.null(col)) {
    col <- c("#B2182B", "#4393C3", "#92C5DE", "grey75")
  }
  col <- rep_len(col, nrow(scores))
  if (is.null(main)) {
    main <- paste0("Held-out layer scores (HOT score ",
                   formatC(as.numeric(x$score), digits = 3L, format = "fg"),
                   ")")
  }
  # names under the groups: horizontal when they fit, else turned and
  # shrunk or wrapped
  fin <- graphics::par("fin")
  csi <- graphics::par("csi")
  group_w <- (fin[1L] - 6.2 * csi) / length(layer_names)
  names_fit <- fit_labels(layer_names, 0.95 * group_w)
  rotate <- names_fit$cex < 0.8 || names_fit$lines > 2L
  if (rotate) names_fit <- fit_labels(layer_names, 0.25 * fin[2L])
  bottom <- if (rotate) max(4.1, names_fit$width / csi + 3) else
    max(4.1, names_fit$lines + 3)
  op <- graphics::par(mar = c(bottom, 4.1, 5.1, 2.1))
  on.exit(graphics::par(op), add = TRUE)
  colnames(scores) <- names_fit$labels
  rng <- range(0, scores, na.rm = TRUE)
  ylim <- c(rng[1L], rng[2L] + 0.05 * max(diff(rng), 0.1))
  dots <- with_title_cex(list(...), main)
  do.call(graphics::barplot, c(list(
    scores, beside = TRUE, col = col, ylim = ylim, main = main,
    ylab = "mean held-out correlation", las = if (rotate) 2L else 1L,
    cex.names = names_fit$cex), dots))
  graphics::title(xlab = "source layer", line = bottom - 1.5)
  graphics::abline(h = 0, col = "grey40")
  if (all(is.na(scores))) {
    usr <- graphics::par("usr")
    graphics::text(mean(usr[1:2]), mean(usr[3:4]),
                   "no held-out scores (fitted without held-out stimuli)",
                   col = "grey30")
  }
  # the legend in one row between the title and the bars, shrunk to fit
  # (each entry: its text, a box and gaps of about 3 "m" widths)
  # (a horizontal legend gives every entry the width of the widest)
  leg_cex <- min(0.8, 0.95 * fin[1L] / (nrow(scores) * (max(
    graphics::strwidth(rownames(scores), "inches")) +
    3 * graphics::strwidth("m", "inches"))))
  usr <- graphics::par("usr")
  graphics::legend(mean(usr[1:2]), usr[4L], legend = rownames(scores),
                   fill = col, horiz = TRUE, bty = "n", cex = leg_cex,
                   xjust = 0.5, yjust = 0, xpd = NA)
}

# graphical arguments with a title size that fits, unless the caller set one
with_title_cex <- function(dots, main) {
  if (is.null(dots$cex.main)) dots$cex.main <- title_cex(main)
  dots
}

# cex of a bold title, centred on the plot region, that fits the figure (at
# most 1.2); call after the margins are set
title_cex <- function(main) {
  if (is.null(main) || !nzchar(main)) return(1.2)
  w <- graphics::strwidth(main, units = "inches", cex = 1.2, font = 2)
  room <- graphics::par("pin")[1L] + 2 * min(graphics::par("mai")[c(2L, 4L)])
  max(0.6, min(1.2, 1.2 * 0.95 * room / w))
}

# Fits axis labels into `max_in` inches: the labels as they are when they
# fit, else shrunk (down to cex 0.6), else wrapped at separators onto at
# most `lines` (<= 3) lines, else cut with "...". Returns list(labels, cex, width = the
# widest label in inches at that cex, lines = the most lines of a label).
fit_labels <- function(labels, max_in, cex = 1, min_cex = 0.6, lines = 3L) {
  lines <- max(1L, min(3L, as.integer(lines)))
  labels <- as.character(labels)
  labels[is.na(labels)] <- "NA"
  width <- function(lab, cex) {
    if (!length(lab)) return(0)
    max(graphics::strwidth(lab, units = "inches", cex = cex))
  }
  result <- function(lab, cex) {
    list(labels = lab, cex = cex, width = width(lab, cex),
         lines = max(1L, lengths(strsplit(lab, "\n", fixed = TRUE))))
  }
  w <- width(labels, cex)
  if (w <= max_in) return(result(labels, cex))
  if (cex * max_in / w >= 0.8 * cex) return(result(labels, cex * max_in / w))
  # wrap: the fewest characters per line that fit at a cex between
  chars <- max(nchar(labels))
  for (c_cex in c(0.8 * cex, min_cex)) {
    for (n_chars in seq(chars, 4L, by = -1L)) {
      wrapped <- vapply(labels, wrap_label, "", width = n_chars, lines = lines,
                        USE.NAMES = FALSE)
      if (width(wrapped, c_cex) <= max_in) return(result(wrapped, c_cex))
    }
  }
  wrapped <- vapply(labels, wrap_label, "", width = 4L, lines = lines,
                    USE.NAMES = FALSE)
  result(wrapped, min_cex)
}

# One label on lines of at most `width` characters, broken after `_`, `.`,
# `-`, `/`, `:` or at spaces where possible; more than `lines` lines are cut
# with "..." in the middle, keeping the end of the name
wrap_label <- function(label, width, lines = 3L) {
  if (nchar(label) <= width) return(label)
  parts <- regmatches(label, gregexpr("[^_./:[:space:]-]*[_./:[:space:]-]*",
                                      label))[[1L]]
  parts <- parts[nzchar(parts)]
  # parts longer than a line are cut into pieces
  parts <- unlist(lapply(parts, function(p) {
    if (nchar(p) <= width) return(p)
    substring(p, seq(1L, nchar(p), by = width),
              pmin(nchar(p), seq(width, nchar(p) + width - 1L, by = width)))
  }))
  out <- character(0)
  cur <- ""
  for (p in parts) {
    if (nchar(cur) + nchar(p) > width && nzchar(cur)) {
      out <- c(out, cur)
      cur <- p
    } else {
      cur <- paste0(cur, p)
    }
  }
  out <- trimws(c(out, cur), "right")
  if (length(out) > lines) {
    # cut in the middle, keeping the end, where names often differ
    # ("block_1", "block_2")
    n <- nchar(label)
    k <- max(1L, width - 3L)
    tail <- substring(label, n - k %/% 2L + 1L)
    if (lines == 1L) {
      out <- paste0(substr(label, 1L, k - k %/% 2L), "...", tail)
    } else {
      out <- c(out[seq_len(lines - 1L)],
               paste0("...", substring(label, n - k + 1L)))
    }
  }
  paste(out, collapse = "\n")
}
