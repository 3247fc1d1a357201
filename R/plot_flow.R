# The layer-flow figure of a layer plan: source layers stacked on the left,
# target layers on the right, one ribbon per pair (l, m) with mass, as wide
# as plan[l, m]. One geometry (flow_geometry) serves the base figure
# (plot_flow, for plot(fit, type = "flow")) and the ggplot2 one
# (autoplot(fit, type = "flow")).

# Geometry in the unit square. Each side is a stack of boxes from the top,
# box l as tall as its mass (row sum, column sum) with a gap between boxes;
# the ribbons of source box l leave it in target order (top to bottom) and
# enter target box m in source order, so that ribbons of neighbouring layers
# do not cross needlessly. Edges follow a smoothstep 3t^2 - 2t^3 from the
# left box (x = width) to the right one (x = 1 - width).
# Returns list(ribbons = data frame id, source, target, mass, x, y (polygon
# vertices, in order), boxes = data frame side, layer, mass, xmin, xmax,
# ymin, ymax, label_x).
flow_geometry <- function(plan, width = 0.06, gap = 0.03, n_points = 40L) {
  plan <- as.matrix(plan)
  L <- nrow(plan)
  M <- ncol(plan)
  src <- rownames(plan)
  tgt <- colnames(plan)
  if (is.null(src)) src <- as.character(seq_len(L))
  if (is.null(tgt)) tgt <- as.character(seq_len(M))
  plan[!is.finite(plan) | plan < 0] <- 0
  total <- sum(plan)
  if (total <= 0) abort("`x` has a plan without mass", arg = "x")
  p <- plan / total
  # relative gaps: the taller stack sets the scale
  g <- gap * max(L, M) / max(L - 1, M - 1, 1)
  stack <- function(mass) {
    n <- length(mass)
    h <- sum(mass) + g * (n - 1)
    top <- (1 + g * (max(L, M) - 1)) / 2 + h / 2 -
      c(0, cumsum(mass[-n] + g))
    list(top = top, bottom = top - mass)
  }
  left <- stack(rowSums(p))
  right <- stack(colSums(p))
  boxes <- rbind(
    data.frame(side = "source", layer = src, mass = rowSums(p), xmin = 0,
               xmax = width, ymin = left$bottom, ymax = left$top,
               stringsAsFactors = FALSE),
    data.frame(side = "target", layer = tgt, mass = colSums(p),
               xmin = 1 - width, xmax = 1, ymin = right$bottom,
               ymax = right$top, stringsAsFactors = FALSE))
  # where each ribbon leaves and enters
  out_top <- matrix(0, L, M)
  in_top <- matrix(0, L, M)
  for (l in seq_len(L)) {
    out_top[l, ] <- left$top[l] - c(0, cumsum(p[l, -M]))
  }
  for (m in seq_len(M)) {
    in_top[, m] <- right$top[m] - c(0, cumsum(p[-L, m]))
  }
  t <- seq(0, 1, length.out = n_points)
  s <- 3 * t^2 - 2 * t^3
  x <- width + (1 - 2 * width) * t
  keep <- which(p > 1e-12, arr.ind = TRUE)
  keep <- keep[order(keep[, 1L], keep[, 2L]), , drop = FALSE]
  ribbons <- lapply(seq_len(nrow(keep)), function(k) {
    l <- keep[k, 1L]
    m <- keep[k, 2L]
    top <- out_top[l, m] + (in_top[l, m] - out_top[l, m]) * s
    bottom <- top - p[l, m]
    data.frame(id = k, source = src[l], target = tgt[m], mass = p[l, m],
               x = c(x, rev(x)), y = c(top, rev(bottom)),
               stringsAsFactors = FALSE)
  })
  ribbons <- do.call(rbind, ribbons)
  ribbons$source <- factor(ribbons$source, levels = src)
  ribbons$target <- factor(ribbons$target, levels = tgt)
  list(ribbons = ribbons, boxes = boxes, source = src, target = tgt)
}

# Base-graphics flow figure of a plan
plot_flow <- function(plan, main = NULL, col = NULL, ...) {
  geo <- flow_geometry(plan)
  L <- length(geo$source)
  if (is.null(col)) col <- flow_colours(L)
  col <- rep_len(col, L)
  if (is.null(main)) main <- "HOT layer flow"
  fin <- graphics::par("fin")
  csi <- graphics::par("csi")
  # names beside the boxes; each side may take a quarter of the width
  src <- fit_labels(geo$source, 0.25 * fin[1L], cex = 0.9)
  tgt <- fit_labels(geo$target, 0.25 * fin[1L], cex = 0.9)
  op <- graphics::par(mar = c(2.1, src$width / csi + 1, 4.1,
                              tgt$width / csi + 1))
  on.exit(graphics::par(op), add = TRUE)
  yr <- range(geo$boxes$ymin, geo$boxes$ymax)
  graphics::plot.new()
  graphics::plot.window(xlim = c(0, 1), ylim = yr, xaxs = "i", ...)
  fill <- grDevices::adjustcolor(col, alpha.f = 0.65)
  r <- geo$ribbons
  for (k in unique(r$id)) {
    d <- r[r$id == k, ]
    graphics::polygon(d$x, d$y, col = fill[as.integer(d$source[1L])],
                      border = grDevices::adjustcolor(col[as.integer(
                        d$source[1L])], alpha.f = 0.9), lwd = 0.5)
  }
  b <- geo$boxes
  box_col <- c(col, rep("grey35", length(geo$target)))
  graphics::rect(b$xmin, b$ymin, b$xmax, b$ymax, col = box_col,
                 border = "white", lwd = 0.8)
  mid <- (b$ymin + b$ymax) / 2
  s <- b$side == "source"
  graphics::text(-0.01, mid[s], src$labels, adj = c(1, 0.5), cex = src$cex,
                 xpd = NA)
  graphics::text(1.01, mid[!s], tgt$labels, adj = c(0, 0.5), cex = tgt$cex,
                 xpd = NA)
  graphics::mtext(c("source", "target"), side = 3, at = c(0.03, 0.97),
                  line = 0.3, cex = 0.85, font = 2)
  graphics::title(main = main, line = 2.2,
                  cex.main = with_title_cex(list(...), main)$cex.main)
  graphics::mtext("ribbon width = layer mass P[l, m]", side = 1, line = 0.6,
                  cex = 0.75, col = "grey30")
  invisible(geo)
}

# one colour per source layer, in depth order (colour-blind safe)
flow_colours <- function(n) {
  if (n == 1L) return("#3B528B")
  grDevices::hcl.colors(n, "viridis")
}
