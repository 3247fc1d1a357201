test_that("correlation_cost equals 1 - cor over shapes, with dimnames", {
  set.seed(1)
  for (shape in list(c(2, 1, 1), c(5, 3, 7), c(50, 40, 1), c(200, 30, 60))) {
    A <- matrix(rnorm(shape[1] * shape[2]), shape[1])
    B <- matrix(rnorm(shape[1] * shape[3]), shape[1])
    expect_equal(correlation_cost(A, B), 1 - cor(A, B), tolerance = 1e-13)
    expect_null(dimnames(correlation_cost(A, B)))
  }
  A <- matrix(rnorm(30), 10, dimnames = list(NULL, c("a", "b", "c")))
  expect_identical(rownames(correlation_cost(A, A)), c("a", "b", "c"))
  # far from the origin: centring is done in two passes
  expect_equal(correlation_cost(A + 1e8, A), 1 - cor(A, A), tolerance = 1e-7)
})

test_that("correlation_cost refuses constant columns, NA and mismatched rows", {
  A <- matrix(rnorm(30), 10)
  expect_error(correlation_cost(cbind(A, 1), A), "`A` has constant column 4")
  expect_error(correlation_cost(A, A[-1, ]), "`A` and `B` must have the same stimuli")
  A[3, 2] <- NaN
  expect_error(correlation_cost(A, A), "`A` has 1 NA/NaN/Inf value \\(first at row 3, column 2\\)")
  expect_error(correlation_cost(A[1, , drop = FALSE], A[1, , drop = FALSE]),
               "at least 2 stimuli")
})

test_that("soft_matching recovers a permutation and matches ot_exact", {
  set.seed(2)
  A <- matrix(rnorm(100 * 6), 100)
  p <- c(4, 6, 1, 2, 5, 3)
  B <- A[, p] + 0.05 * matrix(rnorm(600), 100)
  sm <- soft_matching(A, B)
  expect_equal(sm$correlation, 1 - sm$cost)
  P <- as.matrix(sm$plan)
  expect_equal(P, diag(6)[, p] / 6 * 1, tolerance = 1e-15, ignore_attr = TRUE)
  expect_equal(sm$cost, ot_exact(1 - cor(A, B))$cost, tolerance = 1e-13)
  # unequal widths: a soft assignment with the right marginals
  sm <- soft_matching(A, B[, 1:4])
  expect_equal(Matrix::rowSums(sm$plan), rep(1 / 6, 6), tolerance = 1e-15)
  expect_equal(Matrix::colSums(sm$plan), rep(1 / 4, 4), tolerance = 1e-15)
})

test_that("as.data.frame of an ot_plan lists the non-zeros with their labels", {
  C <- matrix(c(0, 1, 1, 0), 2, dimnames = list(c("a", "b"), c("x", "y")))
  df <- as.data.frame(ot_exact(C))
  expect_identical(df$row, c("a", "b"))
  expect_identical(df$column, c("x", "y"))
  expect_equal(df$mass, c(0.5, 0.5))
  expect_identical(as.data.frame(ot_exact(unname(C)))$row, 1:2)
})
