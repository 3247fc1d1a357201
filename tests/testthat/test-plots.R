# Every figure, base and ggplot2, drawn to a file; the flow geometry; long
# layer names at publication size; the plot items of issue 12.

plot_systems <- function(long = FALSE) {
  sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 3,
                            target_layers = 4, source_units = 6,
                            target_units = 5, seed = 1)
  if (long) {
    names(sim$X) <- c("features.0.conv_block_with_a_really_long_layer_name",
                      "b", strrep("z", 60))
    names(sim$Y) <- paste0("visual_cortex_region_of_interest_number_", 1:4)
  }
  sim
}

plot_fit <- function(long = FALSE, ...) {
  sim <- plot_systems(long)
  hot(sim$X, sim$Y, seed = 1, n_perm = 10, threads = 1, progress = FALSE, ...)
}

# draws `expr` into a PNG of the given size (inches); returns the file size
draw_png <- function(expr, width = 6, height = 4.5) {
  file <- tempfile(fileext = ".png")
  on.exit(unlink(file))
  grDevices::png(file, width = width, height = height, units = "in",
                 res = 100)
  tryCatch(force(expr), finally = grDevices::dev.off())
  file.size(file)
}

# a blank 6 x 4.5 inch PNG at 100 dpi for comparison
blank_size <- function() draw_png(graphics::plot.new())

draw_gg <- function(p, width = 6, height = 4.5) {
  expect_s3_class(p, "ggplot")
  draw_png(print(p), width, height)
}

test_that("plot.hot() draws plan, cost, scores and flow, with short and long names", {
  blank <- blank_size()
  for (long in c(FALSE, TRUE)) {
    fit <- plot_fit(long)
    for (type in c("plan", "cost", "scores", "flow")) {
      size <- draw_png(expect_invisible(plot(fit, type = type)))
      expect_gt(size, blank + 5000)
    }
  }
})

test_that("60-character layer names fit small figures (no 'figure margins too large')", {
  fit <- plot_fit(long = TRUE)
  for (type in c("plan", "cost", "scores", "flow")) {
    # a single-column journal figure: 3.5 x 3 inches
    expect_no_error(draw_png(plot(fit, type = type), width = 3.5, height = 3))
  }
  sim <- plot_systems(long = TRUE)
  s <- layer_similarity(sim$X, sim$Y, metric = "cka")
  expect_no_error(draw_png(plot(s, plan = fit), width = 3.5, height = 3))
})

test_that("fit_labels() shrinks, then wraps, and the result fits", {
  file <- tempfile(fileext = ".png")
  grDevices::png(file, width = 5, height = 4, units = "in", res = 72)
  on.exit({
    grDevices::dev.off()
    unlink(file)
  })
  short <- fit_labels(c("V1", "V2"), 2)
  expect_identical(short$labels, c("V1", "V2"))
  expect_identical(short$cex, 1)
  long <- c("features.0.conv_block_with_a_really_long_layer_name",
            strrep("z", 60), "b")
  for (max_in in c(0.8, 1.5, 3)) {
    got <- fit_labels(long, max_in)
    expect_lte(got$width, max_in + 1e-9)
    expect_gte(got$cex, 0.6)
    expect_lte(got$lines, 3L)
    # wrapping keeps every character unless cut with "..."
    cut <- grepl("...", got$labels, fixed = TRUE)
    expect_identical(gsub("\n", "", got$labels[!cut]), long[!cut])
  }
  expect_identical(wrap_label("layer1.conv_a", 7), "layer1.\nconv_a")
  # cut in the middle, keeping the end, within the width
  expect_identical(wrap_label("abcdefghij", 4, lines = 2), "abcd\n...j")
  expect_identical(wrap_label("visual_cortex_number_1", 9, lines = 1),
                   "vis...r_1")
  expect_identical(wrap_label("visual_cortex_number_1", 9, lines = 2),
                   "visual_\n...mber_1")
})

test_that("flow_geometry(): ribbons carry the plan's mass between the right boxes", {
  fit <- plot_fit()
  geo <- flow_geometry(fit$plan)
  r <- geo$ribbons
  p <- fit$plan / sum(fit$plan)
  expect_equal(nrow(unique(r[c("source", "target")])), sum(p > 1e-12))
  n <- 40L
  for (k in unique(r$id)) {
    d <- r[r$id == k, ]
    l <- as.integer(d$source[1])
    m <- as.integer(d$target[1])
    expect_equal(d$mass[1], p[l, m])
    # the ribbon is as tall as its mass at both ends and everywhere between
    expect_equal(d$y[1:n] - rev(d$y[(n + 1):(2 * n)]), rep(p[l, m], n))
    sb <- geo$boxes[geo$boxes$side == "source", ][l, ]
    tb <- geo$boxes[geo$boxes$side == "target", ][m, ]
    expect_true(d$y[1] <= sb$ymax + 1e-12 && d$y[1] - p[l, m] >= sb$ymin - 1e-12)
    expect_true(d$y[n] <= tb$ymax + 1e-12 && d$y[n] - p[l, m] >= tb$ymin - 1e-12)
  }
  # boxes are as tall as the row and column masses
  b <- geo$boxes
  expect_equal(b$ymax - b$ymin, unname(c(rowSums(p), colSums(p))))
  # boxes of a side do not overlap, source 1 on top
  s <- b[b$side == "source", ]
  expect_true(all(diff(s$ymax) < 0) && all(s$ymin[-nrow(s)] > s$ymax[-1]))
  # a plan without mass is refused
  expect_error(flow_geometry(matrix(0, 2, 2)), "without mass",
               class = "hotalign_error_input")
})

test_that("the flow of a one-layer system and of partial mass is drawn", {
  sim <- plot_systems()
  fit1 <- hot(sim$X[1], sim$Y, seed = 1, n_perm = 0, threads = 1,
              progress = FALSE)
  expect_gt(draw_png(plot(fit1, type = "flow")), blank_size() + 3000)
  plan <- matrix(c(0.3, 0, 0.1, 0.2), 2, dimnames = list(c("a", "b"),
                                                        c("x", "y")))
  geo <- flow_geometry(plan)
  expect_equal(sum(geo$boxes$ymax - geo$boxes$ymin), 2)
})

test_that("plot(hot_many(holdout = 0), type = \"score\") says why it cannot draw", {
  sim <- plot_systems()
  res <- hot_many(list(A = sim$X, B = sim$Y), n_perm = 0, seed = 1,
                  threads = 1, holdout = 0)
  expect_error(draw_png(plot(res, type = "score")),
               "no held-out scores \\(fitted with `holdout = 0`\\)",
               class = "hotalign_error_input")
  expect_gt(draw_png(plot(res, type = "objective")), blank_size() + 3000)
})

test_that("the heatmap drawer shows an all-NA matrix with a note, not an error", {
  z <- matrix(NA_real_, 2, 3, dimnames = list(c("a", "b"), c("x", "y", "z")))
  expect_no_error(draw_png(hot_plot_heatmap(
    z, main = "all NA", col = grDevices::hcl.colors(8), numbers = TRUE,
    digits = 2, legend_title = "v", blank_zero = FALSE)))
})

test_that("plot.hot(type = \"scores\") of a fit without held-out stimuli says so", {
  sim <- plot_systems()
  fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 0, threads = 1,
             progress = FALSE, holdout = 0)
  expect_gt(draw_png(plot(fit, type = "scores")), blank_size() + 1000)
})

# --- ggplot2 -----------------------------------------------------------------

test_that("autoplot() draws every type of every result class", {
  skip_if_not_installed("ggplot2")
  autoplot <- ggplot2::autoplot
  blank <- blank_size()
  sim <- plot_systems()
  for (long in c(FALSE, TRUE)) {
    fit <- plot_fit(long)
    for (type in c("plan", "cost", "scores", "flow")) {
      expect_gt(draw_gg(autoplot(fit, type = type)), blank + 5000)
    }
  }
  fit <- plot_fit()
  res <- hot_many(list(A = sim$X, B = sim$Y, C = sim$Y[1:2]), n_perm = 0,
                  seed = 1, threads = 1)
  for (type in c("score", "objective", "mds")) {
    expect_gt(draw_gg(autoplot(res, type = type)), blank + 5000)
  }
  s <- layer_similarity(sim$X, sim$Y, metric = "cka")
  expect_gt(draw_gg(autoplot(s)), blank + 5000)
  expect_gt(draw_gg(autoplot(s, plan = fit)), blank + 5000)
  expect_error(autoplot(s, plan = matrix(1, 2, 2)), "`plan`",
               class = "hotalign_error_input")
  inf <- hot_inference(fit, sim$X, sim$Y, n_boot = 50, n_shuffle = 9,
                       seed = 1, threads = 1)
  expect_gt(draw_gg(autoplot(inf)), blank + 5000)
  expect_gt(draw_gg(autoplot(inf, type = "null")), blank + 3000)
  inf0 <- hot_inference(fit, sim$X, sim$Y, n_boot = 20, n_shuffle = 0,
                        seed = 1, threads = 1)
  expect_error(autoplot(inf0, type = "null"), "n_shuffle = 0",
               class = "hotalign_error_input")
})

test_that("autoplot() of a trajectory draws plan, cost and scores", {
  skip_if_not_installed("ggplot2")
  set.seed(1)
  drift <- function(x) sqrt(0.5) * (x + matrix(rnorm(length(x)), nrow(x)))
  run1 <- list(early = list(conv = matrix(rnorm(50 * 6), 50),
                            fc = matrix(rnorm(50 * 4), 50)))
  run1$late <- lapply(run1$early, drift)
  run2 <- lapply(run1, lapply, function(x) x + 0.3 * rnorm(length(x)))
  traj <- hot_trajectory(run1, run2, seed = 1, n_perm = 0, threads = 1,
                         progress = FALSE)
  blank <- blank_size()
  for (type in c("plan", "cost", "scores")) {
    expect_gt(draw_gg(ggplot2::autoplot(traj, type = type)), blank + 5000)
  }
  expect_error(ggplot2::autoplot(traj, diagonal = NA), "`diagonal`",
               class = "hotalign_error_input")
})

test_that("autoplot() figures are built from as.data.frame()", {
  skip_if_not_installed("ggplot2")
  fit <- plot_fit()
  p <- ggplot2::autoplot(fit)
  df <- as.data.frame(fit)
  expect_equal(p$data$mass, df$mass)
  expect_identical(levels(p$data$source), rownames(fit$plan))
  sim <- plot_systems()
  res <- hot_many(list(A = sim$X, B = sim$Y), n_perm = 0, seed = 1,
                  threads = 1, holdout = 0)
  expect_error(ggplot2::autoplot(res), "no held-out scores",
               class = "hotalign_error_input")
  expect_s3_class(ggplot2::autoplot(res, type = "objective"), "ggplot")
  # the flow's data are the base figure's geometry
  pf <- ggplot2::autoplot(fit, type = "flow")
  expect_equal(pf$layers[[1]]$data, flow_geometry(fit$plan)$ribbons)
})

test_that("graphical arguments of the caller reach the base plots", {
  fit <- plot_fit()
  for (type in c("plan", "cost", "scores")) {
    expect_no_error(draw_png(plot(fit, type = type, cex.main = 0.8,
                                  main = "a title")))
  }
  expect_no_error(draw_png(plot(fit, type = "flow", cex.main = 0.8)))
})

test_that("plot.layer_similarity() draws its best-match outlines and plan circles unclipped", {
  sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2, target_layers = 3,
                            source_units = 6, target_units = 6, seed = 1)
  s <- layer_similarity(sim$X, sim$Y, metric = "cka")
  fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 0, threads = 1, progress = FALSE)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  grDevices::dev.control("enable")
  plot(s, plan = fit)
  dl <- grDevices::recordPlot()[[1]]
  native <- vapply(dl, function(e) {
    a <- e[[2]]
    if (is.list(a) && length(a) && inherits(a[[1]], "NativeSymbolInfo")) a[[1]]$name else ""
  }, "")
  # the last rect() is the outlines (the heatmap's own come first), symbols()
  # the circles: both with xpd = NA, so edge cells are not cut at the border
  outline <- dl[[max(which(native == "C_rect"))]][[2]]
  circles <- dl[[which(native == "C_symbols")[1]]][[2]]
  expect_identical(outline[["xpd"]], NA)
  expect_identical(circles[["xpd"]], NA)
})
