# The solver's pricing rules (src/ot_simplex.c): on problems of 65536 arcs or
# more it searches a candidate list (the cheapest arcs of every row and
# column) before the whole matrix.  The rule changes the path, never the
# optimum: the automatic rule, dense block search alone, and a candidate list
# that cannot grow (which falls back to dense pricing mid-solve) must give
# the same optimal cost, each with a full optimality certificate.

solve_with <- function(C, a, b, pricing) {
  hotalign:::ot_exact_priced(C, a, b, pricing = pricing)
}

expect_same_optimum <- function(C, a = NULL, b = NULL, label) {
  rules <- c(auto = 0L, dense = 1L, no_room = 2L)
  res <- lapply(rules, function(r) solve_with(C, a, b, r))
  for (r in names(rules)) {
    check_ot_certificate(C, a, b, res[[r]])
    expect_lte(abs(res[[r]]$cost - res$dense$cost),
               1e-12 * max(abs(res$dense$cost), 1e-300))
  }
  invisible(res)
}

correlation_cost_of <- function(T, n, m, shared = 0.5) {
  A <- matrix(stats::rnorm(T * n), T, n)
  B <- matrix(stats::rnorm(T * m), T, m)
  k <- min(n, m)
  B[, seq_len(k)] <- B[, seq_len(k)] + shared * A[, seq_len(k)]
  1 - stats::cor(A, B)
}

test_that("square correlation costs: every rule gives the assignment optimum", {
  set.seed(7001)
  C <- correlation_cost_of(50, 400, 400)
  res <- expect_same_optimum(C, label = "400 x 400")
  skip_if_not_installed("clue")
  perm <- as.integer(clue::solve_LSAP(C))
  expect_lte(abs(res$auto$cost - sum(C[cbind(1:400, perm)]) / 400),
             1e-12 * res$auto$cost)
})

test_that("the candidate list takes fewer pivots than dense pricing", {
  set.seed(7002)
  C <- correlation_cost_of(50, 500, 700)
  res <- expect_same_optimum(C, label = "500 x 700")
  expect_lt(res$auto$iterations, 0.8 * res$dense$iterations)
})

test_that("wide and tall shapes with non-uniform masses and zeros", {
  set.seed(7003)
  for (sh in list(c(40, 3000), c(3000, 40), c(256, 1024), c(32, 2100),
                  c(31, 2200), c(2200, 31))) {
    n <- sh[1]
    m <- sh[2]
    C <- correlation_cost_of(30, n, m)
    a <- stats::runif(n, 0.1, 1)
    a[sample.int(n, n %/% 10)] <- 0
    b <- stats::runif(m, 0.1, 1)
    b[sample.int(m, m %/% 10)] <- 0
    expect_same_optimum(C, a / sum(a), b / sum(b), label = paste(n, "x", m))
    expect_same_optimum(C, label = paste(n, "x", m, "uniform"))
  }
})

test_that("integer costs with massive ties (degenerate) agree with an assignment solver", {
  set.seed(7004)
  C <- matrix(sample(0:3, 300 * 300, replace = TRUE), 300, 300)
  storage.mode(C) <- "double"
  res <- expect_same_optimum(C, label = "ties 300 x 300")
  skip_if_not_installed("clue")
  perm <- as.integer(clue::solve_LSAP(C))
  expect_equal(res$auto$cost, sum(C[cbind(1:300, perm)]) / 300, tolerance = 1e-14)
})

test_that("constant columns and rows of costs (ties across whole lines)", {
  set.seed(7005)
  C <- correlation_cost_of(30, 300, 400)
  C[, 1:50] <- 1
  C[1:20, ] <- 0.5
  expect_same_optimum(C, label = "constant lines")
})

test_that("huge and tiny cost scales", {
  set.seed(7006)
  C <- correlation_cost_of(30, 260, 260)
  for (s in c(1e-150, 1e150)) expect_same_optimum(C * s, label = paste("scale", s))
})

test_that("additive costs defeat the first candidates: full scans add arcs, a full list falls back", {
  # C = r_i + c_j + small noise: the cheapest arcs of every row lie in the
  # same few columns, so the optimum needs arcs the first list lacks
  set.seed(7007)
  C <- outer(stats::runif(300), stats::runif(400), "+") +
    0.01 * matrix(stats::runif(300 * 400), 300, 400)
  res <- expect_same_optimum(C, label = "additive")
  # the list that cannot grow switched to dense pricing on the way
  expect_false(res$no_room$iterations == res$auto$iterations)
})
