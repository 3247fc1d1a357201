# The two kernels of the correlation cost K = 1 - Xs' Ys (src/correlation_cost.c):
# BLAS dgemm and the internal blocked kernel, chosen by the option
# `hotalign.cost_kernel`, passed with every call (no process-wide state).

C <- function(name) getFromNamespace(paste0("C_ffi_", name), "hotalign")
cost_kernel_mode <- getFromNamespace("cost_kernel_mode", "hotalign")

# columns centred (when T > 1) and scaled to unit norm, as the fits do
std_cols <- function(M) {
  if (nrow(M) > 1L) M <- sweep(M, 2, colMeans(M))
  sweep(M, 2, sqrt(colSums(M^2)), "/")
}
rand_std <- function(T, n) std_cols(matrix(stats::rnorm(T * n), T, n))

# K through ffi_correlation_cost with the given kernel, passed as hot() does
cost_with <- function(kernel, X, Y) {
  op <- options(hotalign.cost_kernel = kernel)
  on.exit(options(op))
  .Call(C("correlation_cost"), X, Y, cost_kernel_mode())
}

test_that("hot_cost_kernel() names a kernel and follows the option", {
  expect_true(hot_cost_kernel() %in% c("blas", "internal"))
  for (k in c("blas", "internal")) {
    op <- options(hotalign.cost_kernel = k)
    expect_identical(hot_cost_kernel(), k)
    options(op)
  }
  op <- options(hotalign.cost_kernel = NULL)
  expect_true(hot_cost_kernel() %in% c("blas", "internal"))
  options(op)
})

test_that("the internal kernel matches BLAS and 1 - crossprod() on many shapes", {
  set.seed(11)
  shapes <- expand.grid(T = c(1, 2, 3, 7, 800), n = 1:13, m = 1:13)
  shapes <- rbind(shapes[sample(nrow(shapes), 150), ],
                  data.frame(T = c(1, 3, 7, 800, 257, 513), n = c(13, 1, 9, 13, 5, 9),
                             m = c(1, 13, 9, 13, 7, 11)),
                  data.frame(T = c(800, 7, 300), n = c(37, 37, 300),
                             m = c(53, 53, 1000)))
  worst <- 0
  for (s in seq_len(nrow(shapes))) {
    T <- shapes$T[s]
    X <- rand_std(T, shapes$n[s])
    Y <- rand_std(T, shapes$m[s])
    ref <- 1 - crossprod(X, Y)
    Ki <- cost_with("internal", X, Y)
    Kb <- cost_with("blas", X, Y)
    what <- paste0("T = ", T, ", n = ", shapes$n[s], ", m = ", shapes$m[s])
    expect_identical(dim(Ki), dim(ref), label = what)
    expect_lte(max(abs(Ki - Kb)), 1e-13, label = what)
    expect_lte(max(abs(Ki - ref)), 1e-13, label = what)
    worst <- max(worst, abs(Ki - Kb))
  }
  expect_lte(worst, 1e-13)
})

test_that("the internal kernel: no stimuli gives K = 1, no units an empty K", {
  for (k in c("internal", "blas")) {
    expect_identical(cost_with(k, matrix(0, 0, 3), matrix(0, 0, 2)), matrix(1, 3, 2))
    expect_identical(cost_with(k, matrix(0, 4, 0), matrix(1, 4, 2)),
                     matrix(0, 0, 2))
    expect_identical(cost_with(k, matrix(1, 4, 2), matrix(0, 4, 0)),
                     matrix(0, 2, 0))
  }
})

test_that("the internal kernel gives bit-identical columns in any column block", {
  set.seed(12)
  for (T in c(3, 257, 800)) {
    X <- rand_std(T, 37)
    Y <- rand_std(T, 70)
    K <- cost_with("internal", X, Y)
    # target columns sliced as the pair loop slices them, source columns too
    for (cols in list(5:9, 1L, 70L, 2:3, 9:70, 1:65, 64:70)) {
      expect_identical(cost_with("internal", X, Y[, cols, drop = FALSE]),
                       K[, cols, drop = FALSE], label = paste("T", T, "cols", cols[1]))
    }
    for (rows in list(3:11, 1L, 37L, 30:37, 2:9)) {
      expect_identical(cost_with("internal", X[, rows, drop = FALSE], Y),
                       K[rows, , drop = FALSE], label = paste("T", T, "rows", rows[1]))
    }
    expect_identical(cost_with("internal", X[, 30:37], Y[, 5:9]), K[30:37, 5:9])
  }
})

test_that("hot() fits are identical for 1 and 2 threads with the internal kernel", {
  op <- options(hotalign.cost_kernel = "internal")
  on.exit(options(op), add = TRUE)
  # a wide target layer, so that its cost matrix is built in column blocks
  X <- make_system(n_stimuli = 60, widths = c(9, 300), seed = 4)
  Y <- make_system(n_stimuli = 60, widths = c(5, 700, 13), seed = 5)
  f1 <- hot(X, Y, seed = 3, n_perm = 0, threads = 1, progress = FALSE)
  f2 <- hot(X, Y, seed = 3, n_perm = 0, threads = 2, progress = FALSE)
  expect_identical(fit_content(f1), fit_content(f2))
  r1 <- hot(X[1], Y[c(1, 3)], rotation = TRUE, seed = 3, n_perm = 0,
            max_iter = 5, threads = 1, progress = FALSE)
  r2 <- hot(X[1], Y[c(1, 3)], rotation = TRUE, seed = 3, n_perm = 0,
            max_iter = 5, threads = 2, progress = FALSE)
  expect_identical(fit_content(r1), fit_content(r2))
  expect_identical(hot_cost_kernel(), "internal")
})

test_that("a bad option `hotalign.cost_kernel` is refused, naming the option", {
  for (bad in list("fast", NA_character_, c("blas", "internal"), 1L, TRUE)) {
    op <- options(hotalign.cost_kernel = bad)
    expect_error(hot_cost_kernel(), "option `hotalign.cost_kernel` must be",
                 class = "hotalign_error_input")
    expect_error(correlation_cost(diag(3), diag(3)),
                 "option `hotalign.cost_kernel` must be")
    err <- tryCatch(hot_cost_kernel(), error = identity)
    expect_identical(err$arg, "hotalign.cost_kernel")
    options(op)
  }
})

test_that("ffi_cost_kernel resolves modes without keeping state, and refuses bad ones", {
  auto <- .Call(C("cost_kernel"), 0L)
  expect_true(auto %in% c("blas", "internal"))
  expect_identical(.Call(C("cost_kernel"), 1L), "blas")
  expect_identical(.Call(C("cost_kernel"), 2L), "internal")
  # "auto" comes back after any other mode: nothing is pinned
  expect_identical(.Call(C("cost_kernel"), 0L), auto)
  op <- options(hotalign.cost_kernel = "blas")
  invisible(correlation_cost(diag(3), diag(3)))
  options(hotalign.cost_kernel = "auto")
  expect_identical(hot_cost_kernel(), auto)
  options(op)
  for (bad in list(3L, -1L, 1, 2.5, "internal", NULL, 1:2, integer(0), NA,
                   NA_integer_, factor("a"), list(1L))) {
    expect_error(.Call(C("cost_kernel"), bad), "^`mode` must")
  }
  expect_error(.Call(C("cost_kernel")), "arguments")
})

test_that("the plain product X'Y, its lower triangle and the Gram X'X (rotation code)", {
  set.seed(13)
  prod_with <- function(kernel, X, Y, what) {
    op <- options(hotalign.cost_kernel = kernel)
    on.exit(options(op))
    .Call(C("kernel_product"), X, Y, what, cost_kernel_mode())
  }
  for (T in c(1, 5, 319, 320, 321, 641)) {
    for (a in c(1, 7, 8, 13, 48, 97, 200)) {
      X <- matrix(stats::rnorm(T * a), T, a) * 4
      Y <- matrix(stats::rnorm(T * a), T, a)
      what <- paste("T", T, "a", a)
      ref <- crossprod(X, Y)
      full <- prod_with("internal", X, Y, 0L)
      expect_lte(max(abs(full - ref)), 1e-13 * max(1, abs(ref)) * T, label = what)
      expect_lte(max(abs(prod_with("blas", X, Y, 0L) - ref)), 1e-13 * max(1, abs(ref)) * T,
                 label = what)
      low <- prod_with("internal", X, Y, 1L)
      expect_identical(low[lower.tri(low, TRUE)], full[lower.tri(full, TRUE)], label = what)
      expect_true(all(is.na(low[upper.tri(low)])), label = what)
      # the Gram: bit for bit the full product of X with itself, symmetric
      G <- prod_with("internal", X, X, 2L)
      expect_identical(G, prod_with("internal", X, X, 0L), label = what)
      expect_identical(G, t(G), label = what)
      Gb <- prod_with("blas", X, X, 2L)
      expect_lte(max(abs(Gb - crossprod(X))), 1e-13 * max(1, abs(crossprod(X))) * T,
                 label = what)
      expect_identical(Gb, t(Gb), label = what)
    }
  }
  # a rectangular product, and the square-only forms refused
  X <- matrix(stats::rnorm(30 * 9), 30)
  Y <- matrix(stats::rnorm(30 * 14), 30)
  expect_lte(max(abs(prod_with("internal", X, Y, 0L) - crossprod(X, Y))), 1e-12)
  expect_error(prod_with("internal", X, Y, 1L), "square")
  expect_identical(prod_with("internal", matrix(0, 0, 3), matrix(0, 0, 2), 0L), matrix(0, 3, 2))
})
