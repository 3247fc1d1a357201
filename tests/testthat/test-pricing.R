# The solver's pricing rules (src/ot_simplex.c): on problems of 65536 arcs or
# more it searches a candidate list (the cheapest arcs of every row and
# column) before the whole matrix, and starts from a crash basis built from
# that list.  The rule changes the path, never the optimum: the automatic
# rule, dense block search alone, a candidate list that cannot grow (which
# falls back to dense pricing mid-solve) and the automatic rule from the
# star tree (every node on its artificial arc) must give the same optimal
# cost, each with a full optimality certificate.

solve_with <- function(C, a, b, pricing) {
  hotalign:::ot_exact_priced(C, a, b, pricing = pricing)
}

expect_same_optimum <- function(C, a = NULL, b = NULL, label) {
  rules <- c(auto = 0L, dense = 1L, no_room = 2L, star = 4L)
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

# tuned units: every unit follows one of k latents (as bench/ot_families.R's
# tuned16), so each row has ~m/k near-tied columns and the optimum needs
# arcs between clusters that no row's or column's cheapest arcs include
tuned_cost_of <- function(T, n, m, k, noise) {
  Z0 <- matrix(stats::rnorm(T * k), T, k)
  Z1 <- 0.8 * Z0 + 0.6 * matrix(stats::rnorm(T * k), T, k)
  X <- Z0[, sample.int(k, n, TRUE)] + noise * matrix(stats::rnorm(T * n), T, n)
  Y <- Z1[, sample.int(k, m, TRUE)] + noise * matrix(stats::rnorm(T * m), T, m)
  1 - stats::cor(X, Y)
}

# cold solve of costs[[1]], then warm restarts on the next ones, uniform masses
# in integers as ot_exact() passes them
ot_seq_uniform <- function(costs, pricing, budget) {
  n <- nrow(costs[[1]])
  m <- ncol(costs[[1]])
  .Call(hotalign:::C_ffi_ot_sequence, costs, rep(as.double(m), n),
        rep(as.double(n), m), 1 / (as.double(n) * m), as.integer(pricing),
        as.double(budget))
}

test_that("clusters of near-ties on wide and tall shapes: every rule agrees with lpSolve", {
  set.seed(7008)
  for (sh in list(c(100, 700), c(700, 100), c(260, 260 * 3))) {
    C <- tuned_cost_of(40, sh[1], sh[2], 8, 0.3)
    res <- expect_same_optimum(C, label = paste(sh, collapse = " x "))
    # full scans found arcs the first list lacked (the clusters' crossings)
    expect_gt(res$auto$iterations, sh[1] + sh[2])
    if (prod(sh) <= 70000 && requireNamespace("lpSolve", quietly = TRUE)) {
      lp <- lpSolve::lp.transport(C, "min", rep("==", sh[1]), rep(sh[2], sh[1]),
                                  rep("==", sh[2]), rep(sh[1], sh[2]))
      expect_equal(lp$status, 0L)
      expect_lte(abs(res$auto$cost - lp$objval / prod(sh)), 1e-9 * res$auto$cost)
    }
  }
})

test_that("the list's search gives bit-identical results under any budget, cold and warm", {
  set.seed(7009)
  fields <- c("i", "j", "x", "u", "v", "cost", "status", "pivots")
  for (sh in list(c(120, 600), c(500, 300))) {
    K <- tuned_cost_of(40, sh[1], sh[2], 8, 0.3)
    K2 <- K + 0.02 * tuned_cost_of(40, sh[1], sh[2], 8, 0.3)
    for (pricing in c(0L, 2L)) {
      ref <- ot_seq_uniform(list(K, K2, K), pricing, 0)
      for (r in ref) expect_identical(r$status, 0L)
      for (budget in c(1, 7, 250)) {
        got <- ot_seq_uniform(list(K, K2, K), pricing, budget)
        for (k in seq_along(ref))
          expect_identical(got[[k]][fields], ref[[k]][fields])
      }
      # the warm restart back on K finds K's optimum
      expect_lte(abs(ref[[3]]$cost - ref[[1]]$cost), 1e-12 * ref[[1]]$cost)
    }
  }
})

test_that("a long run of warm restarts keeps or rebuilds the list and finds every cold optimum", {
  # each restart keeps the list's arcs with their new costs while half its
  # room is free (correlation costs: few arcs added), else rebuilds it
  # (near-tie clusters: many added); either way the optimum of the new costs
  set.seed(7010)
  fields <- c("i", "j", "x", "u", "v", "cost", "status", "pivots")
  for (kind in c("mixed", "tuned")) {
    K0 <- if (kind == "mixed") correlation_cost_of(40, 150, 520) else
      tuned_cost_of(40, 150, 520, 8, 0.3)
    costs <- lapply(0:9, function(t)
      if (t == 0) K0 else K0 + 0.03 * t * correlation_cost_of(40, 150, 520, shared = 0))
    seq0 <- ot_seq_uniform(costs, 0L, 0)
    seq7 <- ot_seq_uniform(costs, 0L, 7)
    for (t in seq_along(costs)) {
      expect_identical(seq0[[t]]$status, 0L)
      expect_identical(seq7[[t]][fields], seq0[[t]][fields])
      cold <- hotalign:::ot_exact_priced(costs[[t]], NULL, NULL, pricing = 0L)
      expect_lte(abs(seq0[[t]]$cost - cold$cost), 1e-12 * cold$cost)
      check_ot_certificate(costs[[t]], NULL, NULL, structure(list(
        plan = hotalign:::plan_matrix(seq0[[t]]$i, seq0[[t]]$j, seq0[[t]]$x, dim(costs[[t]])),
        cost = seq0[[t]]$cost, u = seq0[[t]]$u, v = seq0[[t]]$v,
        iterations = seq0[[t]]$pivots), class = "ot_plan"))
    }
  }
})

test_that("the simplex prices and builds its list the same through its AVX2 and generic kernels", {
  skip_on_cran()
  # The list's build (each column's cheapest, each row's heap), the list
  # search (only the lanes below the bound are offered), the full scans and
  # dense pricing in AVX2 against their generic paths, in two fresh
  # processes, the second with HOTALIGN_NO_VECTOR_PATHS: plans, duals and
  # pivots must be identical.  Non-square costs with lists (>= 65536 arcs):
  # clusters of near-ties, the same rounded (exact ties), three values and
  # a plain correlation cost; every pricing rule, cold, warm and sliced.
  # (Where the processor has no AVX2 both runs take the generic path.)
  code <- c(
    "args <- commandArgs(TRUE)",
    "set.seed(8119)",
    "tuned <- function(n, m, k, T, noise) {",
    "  Z0 <- matrix(rnorm(T * k), T, k); Z1 <- 0.8 * Z0 + 0.6 * matrix(rnorm(T * k), T, k)",
    "  X <- Z0[, sample.int(k, n, TRUE)] + noise * matrix(rnorm(T * n), T, n)",
    "  Y <- Z1[, sample.int(k, m, TRUE)] + noise * matrix(rnorm(T * m), T, m)",
    "  correlation_cost(X, Y)",
    "}",
    "seqs <- function(costs, pricing, budget) { n <- nrow(costs[[1]]); m <- ncol(costs[[1]])",
    "  lapply(.Call(hotalign:::C_ffi_ot_sequence, costs, rep(as.double(m), n),",
    "               rep(as.double(n), m), 1 / (as.double(n) * m), pricing, budget),",
    "         function(r) r[c('i', 'j', 'x', 'u', 'v', 'cost', 'pivots', 'status')]) }",
    "A <- tuned(260, 700, 6, 100, 0.3)",
    "costs <- list(A = A, Ai = round(A * 40), three = matrix(as.double(sample(0:2, 300 * 260, TRUE)), 300, 260),",
    "  corr = tuned(400, 230, 64, 200, 1))",
    "res <- lapply(costs, function(C) { W <- C + 0.01 * C[nrow(C):1, ]",
    "  list(auto = seqs(list(C, W), 0L, 0), dense = seqs(list(C, W), 1L, 0),",
    "       fixed = seqs(list(C), 2L, 0), sliced = seqs(list(C, W), 0L, 7)) })",
    "saveRDS(res, args[1])")
  both <- vector_and_generic(code, timeout = 300)
  vector <- both$vector
  generic <- both$generic
  expect_named(vector, c("A", "Ai", "three", "corr"))
  for (k in names(vector)) {
    expect_identical(vector[[k]], generic[[k]], label = k)
    for (r in unlist(vector[[k]], recursive = FALSE)) expect_identical(r$status, 0L)
    # the rules reach the same optimal cost
    costs <- vapply(vector[[k]], function(s) s[[1]]$cost, 0)
    expect_lte(diff(range(costs)), 1e-12 * max(1, abs(costs)))
  }
})

test_that("the crash basis: mass the list cannot place, ties, tiny and zero masses", {
  set.seed(7012)
  # each case leaves the list's pass at least 20% of the mass, so the crash
  # is built (its path differs from the star's)
  crashed <- function(res) expect_false(res$auto$iterations == res$star$iterations)
  # one column holds 30% of the mass: its 16 listed rows cannot fill it, so
  # the crash places the rest from C, and most rows' listed columns retire
  # early; the same with one heavy row
  C <- tuned_cost_of(40, 200, 700, 8, 0.3)
  b <- rep(0.7 / 699, 700)
  b[1] <- 0.3
  crashed(expect_same_optimum(C, rep(1 / 200, 200), b, label = "heavy column"))
  a <- rep(0.6 / 199, 200)
  a[200] <- 0.4
  crashed(expect_same_optimum(C, a, rep(1 / 700, 700), label = "heavy row"))
  # three cost values and masses 3 : 1 (exact ties: a degenerate crash)
  C3 <- matrix(as.double(sample(0:2, 300 * 900, TRUE)), 300, 900)
  crashed(expect_same_optimum(C3, label = "ties 300 x 900"))
  # masses of every size: tiny ones (below the crash's tie of 1e-13 of the
  # largest), zeros, and ones that differ in the last bits
  a <- stats::runif(300)
  a[1:5] <- 1e-16
  a[6:10] <- 0
  b <- stats::runif(900)
  b[1:5] <- 1e-16
  b[6:10] <- 0
  b[11:20] <- b[11] * (1 + (1:10) * .Machine$double.eps)
  crashed(expect_same_optimum(tuned_cost_of(40, 300, 900, 8, 0.3), a / sum(a), b / sum(b),
                              label = "tiny masses"))
})

test_that("the crash basis takes fewer pivots than the star on clustered costs", {
  set.seed(7013)
  for (sh in list(c(300, 1000), c(1000, 300))) {
    C <- tuned_cost_of(60, sh[1], sh[2], 8, 0.3)
    res <- expect_same_optimum(C, label = paste(sh, collapse = " x "))
    expect_lt(res$auto$iterations, 0.85 * res$star$iterations)
  }
  # where the list places more than 80% of the mass the star is kept: the
  # same path to the pivot
  C <- correlation_cost_of(50, 400, 900)
  res <- expect_same_optimum(C, label = "400 x 900, unclustered")
  expect_identical(res$auto$iterations, res$star$iterations)
})

test_that("the crash basis leaves unbalanced masses and NaN costs to the solver's checks", {
  set.seed(7014)
  C <- tuned_cost_of(40, 150, 600, 8, 0.3)
  a <- rep(1 / 150, 150)
  b <- rep(1.001 / 600, 600)
  for (pricing in c(0L, 4L)) {
    res <- .Call(hotalign:::C_ffi_ot_exact, C, a, b, 1, pricing)
    expect_identical(res$status, 2L) # OT_INFEASIBLE, as from the star
  }
  # a NaN cost is never placed (the simplex never enters it either)
  Cn <- C
  Cn[cbind(1:150, apply(C, 1, which.min))] <- NaN
  got <- lapply(c(0L, 4L), function(pr) ot_seq_uniform(list(Cn), pr, 0)[[1]])
  for (g in got) {
    expect_identical(g$status, 0L)
    expect_false(any(is.nan(Cn[cbind(g$i, g$j)])))
  }
  expect_lte(abs(got[[1]]$cost - got[[2]]$cost), 1e-12 * got[[2]]$cost)
})
