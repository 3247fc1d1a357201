# The assignment solver of square uniform problems (src/ot_assign.c, behind
# the ot_problem API): shortest augmenting paths, on the whole matrix below
# 65536 arcs and on the candidate graph (grown by the certificate pass) above.
# It must give the same optimum as the network simplex (pricing 3 forces the
# simplex) and as the independent references, with a full certificate; warm
# restarts (ot_restart() after the costs change in place, as HOT+R does)
# must give the cold optimum; and any budget of work per ot_run() call must
# give bit-identical results.

# solves costs[[1]] cold, then restarts on each next cost in the same buffer
ot_seq <- function(costs, pricing = 0L, budget = 0, a = NULL, b = NULL) {
  n <- nrow(costs[[1]])
  m <- ncol(costs[[1]])
  if (is.null(a)) {
    a <- rep(as.double(m), n)
    b <- rep(as.double(n), m)
    scale <- 1 / (as.double(n) * m)
  } else {
    scale <- 1
  }
  .Call(hotalign:::C_ffi_ot_sequence, costs, a, b, scale, as.integer(pricing),
        as.double(budget))
}

# one solve of a sequence as an "ot_plan", for check_ot_certificate()
as_plan <- function(r, C) {
  structure(list(plan = hotalign:::plan_matrix(r$i, r$j, r$x, dim(C)),
                 cost = r$cost, u = r$u, v = r$v, iterations = r$pivots),
            class = "ot_plan")
}

expect_lap_optimum <- function(C, ref_cost = NULL) {
  res <- ot_seq(list(C), 0L)[[1]]
  sim <- ot_seq(list(C), 3L)[[1]]
  expect_identical(res$status, 0L)
  check_ot_certificate(C, NULL, NULL, as_plan(res, C))
  # a permutation plan: n entries of 1/n
  expect_identical(sort(res$i), seq_len(nrow(C)))
  expect_identical(sort(res$j), seq_len(ncol(C)))
  scale <- max(abs(res$cost), 1e-300)
  expect_lte(abs(res$cost - sim$cost), 1e-12 * scale)
  if (!is.null(ref_cost)) expect_lte(abs(res$cost - ref_cost), 1e-12 * scale)
  invisible(res)
}

corr_cost <- function(T, n, shared = 0.5) {
  A <- matrix(stats::rnorm(T * n), T, n)
  B <- matrix(stats::rnorm(T * n), T, n) + shared * A
  1 - stats::cor(A, B)
}

test_that("small square problems agree with brute force (dense search)", {
  set.seed(8101)
  for (n in 1:7) for (rep in 1:3) {
    C <- matrix(stats::runif(n * n), n, n)
    expect_lap_optimum(C, ref_assignment_bruteforce(C)$value)
    Ci <- matrix(as.double(sample(0:2, n * n, TRUE)), n, n)
    expect_lap_optimum(Ci, ref_assignment_bruteforce(Ci)$value)
  }
})

test_that("medium square problems agree with clue and lpSolve, dense and sparse search", {
  skip_if_not_installed("clue")
  set.seed(8102)
  for (n in c(40, 200, 300, 500)) { # 300 and 500: above 65536 arcs, sparse
    C <- corr_cost(40, n)
    perm <- as.integer(clue::solve_LSAP(C))
    expect_lap_optimum(C, sum(C[cbind(seq_len(n), perm)]) / n)
  }
  skip_if_not_installed("lpSolve")
  C <- corr_cost(20, 30)
  lp <- lpSolve::lp.transport(C, "min", rep("==", 30), rep(1, 30), rep("==", 30),
                              rep(1, 30))
  expect_lap_optimum(C, lp$objval / 30)
})

test_that("degenerate costs: integer ties, all equal, constant lines", {
  skip_if_not_installed("clue")
  set.seed(8103)
  for (n in c(60, 300)) {
    C <- matrix(as.double(sample(0:3, n * n, TRUE)), n, n)
    perm <- as.integer(clue::solve_LSAP(C))
    expect_lap_optimum(C, sum(C[cbind(seq_len(n), perm)]) / n)
    expect_lap_optimum(matrix(1, n, n), 1)
    C2 <- corr_cost(30, n)
    C2[, 1:20] <- 1
    C2[1:10, ] <- 0.5
    perm <- as.integer(clue::solve_LSAP(C2))
    expect_lap_optimum(C2, sum(C2[cbind(seq_len(n), perm)]) / n)
  }
})

test_that("additive costs (the graph lacks the optimum's arcs) grow the graph", {
  skip_if_not_installed("clue")
  set.seed(8104)
  n <- 300
  C <- outer(stats::runif(n), stats::runif(n), "+") +
    0.01 * matrix(stats::runif(n * n), n, n)
  perm <- as.integer(clue::solve_LSAP(C))
  expect_lap_optimum(C, sum(C[cbind(seq_len(n), perm)]) / n)
  # pure additive: every permutation is optimal
  C0 <- outer(stats::runif(n), stats::runif(n), "+")
  expect_lap_optimum(C0, mean(C0) * 1)
})

test_that("huge, tiny and negative cost scales", {
  set.seed(8105)
  for (n in c(50, 260)) {
    C <- corr_cost(30, n)
    ref <- expect_lap_optimum(C)$cost
    for (s in c(1e-150, 1e150, -1)) {
      r <- expect_lap_optimum(C * s)
      if (s < 0) next
      expect_lte(abs(r$cost - ref * s), 1e-12 * abs(ref * s))
    }
  }
})

test_that("non-uniform or non-square problems stay on the simplex", {
  set.seed(8106)
  C <- corr_cost(30, 300)
  a <- stats::runif(300)
  a <- a / sum(a)
  b <- rep(1 / 300, 300)
  auto <- ot_seq(list(C), 0L, a = a, b = b)[[1]]
  sim <- ot_seq(list(C), 3L, a = a, b = b)[[1]]
  fields <- c("i", "j", "x", "u", "v", "cost", "pivots", "status")
  expect_identical(auto[fields], sim[fields])
  C2 <- corr_cost(30, 300)[, 1:280]
  expect_identical(ot_seq(list(C2), 0L)[[1]][fields], ot_seq(list(C2), 3L)[[1]][fields])
})

test_that("warm restarts give the cold optimum (rotation-like, unrelated and equal costs)", {
  set.seed(8107)
  for (n in c(150, 400)) {
    T <- 40
    X <- matrix(stats::rnorm(T * n), T, n)
    Y <- X + matrix(stats::rnorm(T * n), T, n)
    K <- correlation_cost(X, Y)
    # a small rotation of the source units (as a HOT+R step)
    S <- matrix(stats::rnorm(n * n), n, n) * 0.02 / sqrt(n)
    R <- solve(diag(n) - (S - t(S)), diag(n) + (S - t(S)))
    K_R <- correlation_cost(X %*% R, Y)
    K_new <- corr_cost(T, n)
    costs <- list(K, K_R, K_new, K_new, K)
    warm <- ot_seq(costs, 0L)
    for (k in seq_along(costs)) {
      cold <- ot_seq(costs[k], 0L)[[1]]
      simp <- ot_seq(costs[k], 3L)[[1]]
      expect_identical(warm[[k]]$status, 0L)
      check_ot_certificate(costs[[k]], NULL, NULL, as_plan(warm[[k]], costs[[k]]))
      expect_lte(abs(warm[[k]]$cost - cold$cost), 1e-12 * cold$cost)
      expect_lte(abs(warm[[k]]$cost - simp$cost), 1e-12 * cold$cost)
    }
    # restarting on unchanged costs is one certificate pass (n row scans)
    expect_lte(warm[[4]]$pivots, n + 1)
  }
})

test_that("any budget per call gives bit-identical results, cold and warm", {
  set.seed(8108)
  for (n in c(120, 350)) {
    K <- corr_cost(30, n)
    K2 <- K + 0.01 * corr_cost(30, n)
    ref <- ot_seq(list(K, K2), 0L, budget = 0)
    for (budget in c(1, 7, 250)) {
      got <- ot_seq(list(K, K2), 0L, budget = budget)
      for (k in 1:2) {
        expect_identical(got[[k]][c("i", "j", "x", "u", "v", "cost", "status")],
                         ref[[k]][c("i", "j", "x", "u", "v", "cost", "status")])
        expect_equal(got[[k]]$pivots, ref[[k]]$pivots, tolerance = 1e-12)
      }
    }
  }
})

test_that("the certificate rejects a perturbed answer of the assignment solver", {
  set.seed(8109)
  C <- corr_cost(30, 300)
  r <- ot_seq(list(C), 0L)[[1]]
  bad <- r
  bad$v[1] <- bad$v[1] + 0.1 # dual infeasible on column 1
  count_failures <- function(res) {
    n_failed <- 0L
    withCallingHandlers(
      check_ot_certificate(C, NULL, NULL, res),
      expectation = function(e) {
        if (!inherits(e, "expectation_success")) n_failed <<- n_failed + 1L
        invokeRestart("continue_test")
      }
    )
    n_failed
  }
  expect_identical(count_failures(as_plan(r, C)), 0L)
  expect_gt(count_failures(as_plan(bad, C)), 0L)
  swapped <- r
  swapped$i[1:2] <- swapped$i[2:1] # a worse permutation, same duals
  expect_gt(count_failures(as_plan(swapped, C)), 0L)
})

test_that("the pair loop solves square pairs in a workspace sized for other shapes", {
  # one workspace per thread for the largest widths (300 source, 260
  # target); the 260 x 260 pair goes to the assignment solver inside it
  set.seed(8110)
  T <- 60
  X <- list(A = matrix(stats::rnorm(T * 300), T), B = matrix(stats::rnorm(T * 260), T))
  Y <- list(C = matrix(stats::rnorm(T * 260), T), D = matrix(stats::rnorm(T * 200), T))
  test <- 1:12
  f1 <- hot(X, Y, test = test, n_perm = 0, threads = 1)
  f2 <- hot(X, Y, test = test, n_perm = 0, threads = 2)
  expect_identical(f1$cost, f2$cost)
  expect_true(all(is.finite(f1$cost)))
  # the square pair's inner cost is the assignment optimum of its cost matrix
  std <- function(M) {
    tr <- M[-test, , drop = FALSE]
    sweep(sweep(tr, 2, colMeans(tr)), 2, sqrt(colSums(sweep(tr, 2, colMeans(tr))^2)), "/")
  }
  K <- 1 - crossprod(std(X$B), std(Y$C))
  ref <- ot_seq(list(K), 3L)[[1]]$cost
  expect_lte(abs(f1$cost["B", "C"] - ref), 1e-9 * ref)
})

# correlation costs of n tuned units over k latents (n / k near-interchangeable
# units per latent), T stimuli, noise sd `noise`
tuned <- function(n, k, T, noise) {
  Z0 <- matrix(stats::rnorm(T * k), T, k)
  Z1 <- 0.8 * Z0 + 0.6 * matrix(stats::rnorm(T * k), T, k)
  X <- Z0[, sample.int(k, n, TRUE)] + noise * matrix(stats::rnorm(T * n), T, n)
  Y <- Z1[, sample.int(k, n, TRUE)] + noise * matrix(stats::rnorm(T * n), T, n)
  correlation_cost(X, Y)
}

test_that("near-tied clusters (tuned units, sparse search, repairs and quick passes) agree with clue", {
  # n / k near-interchangeable units per latent: many row optima outside
  # the first search graph, so the certificate frees rows and the verify
  # passes after the repairs are quick ones (bounds from each row's last
  # reading); a full pass still has to certify the end
  skip_if_not_installed("clue")
  set.seed(8111)
  n <- 400
  for (C in list(tuned(n, 8, 60, 0.5), tuned(n, 25, 120, 1))) {
    lsap <- function(M) sum(M[cbind(seq_len(n), as.integer(clue::solve_LSAP(M)))]) / n
    expect_lap_optimum(C, lsap(C))
    # integer costs with many exact ties, and extreme scales
    Ci <- round(C * 20)
    expect_lap_optimum(Ci, lsap(Ci))
    for (sc in c(1e-150, 1e150)) expect_lap_optimum(C * sc, lsap(C) * sc)
    # warm restart on a perturbed copy, and any budget gives the same answer
    C2 <- C + 0.02 * tuned(n, 8, 60, 0.5)
    ref <- ot_seq(list(C, C2), 0L)
    check_ot_certificate(C2, NULL, NULL, as_plan(ref[[2]], C2))
    expect_lte(abs(ref[[2]]$cost - lsap(C2)), 1e-12 * ref[[2]]$cost)
    for (budget in c(1, 7, 250)) {
      got <- ot_seq(list(C, C2), 0L, budget = budget)
      for (k in 1:2)
        expect_identical(got[[k]][c("i", "j", "x", "u", "v", "cost", "status")],
                         ref[[k]][c("i", "j", "x", "u", "v", "cost", "status")])
    }
  }
})

test_that("the solver's own graph: clusters smaller and larger than its degree agree with clue, any budget and thread count", {
  # the graph is each row's K cheapest arcs (K sized from the data: up to
  # 1.5x a row's near-tied arcs), built by the solver itself; clusters of
  # ~30 units (K sized to hold them) and ~100 units (more than any K holds:
  # searches exhaust the graph and escape it) and mixed latents (no ties)
  skip_if_not_installed("clue")
  set.seed(8112)
  n <- 600
  lsap <- function(M) sum(M[cbind(seq_len(n), as.integer(clue::solve_LSAP(M)))]) / n
  fields <- c("i", "j", "x", "u", "v", "cost", "status")
  for (C in list(tuned(n, 20, 200, 1), tuned(n, 6, 60, 0.3), corr_cost(50, n))) {
    ref <- expect_lap_optimum(C, lsap(C))
    for (budget in c(1, 13, 400))
      expect_identical(ot_seq(list(C), 0L, budget = budget)[[1]][fields], ref[fields])
    # ot_exact() (its R side) gives the same optimum
    p1 <- hotalign:::ot_exact_priced(C, NULL, NULL, pricing = 0L)
    expect_lte(abs(p1$cost - ref$cost), 1e-12 * ref$cost)
  }
  X <- list(A = matrix(stats::rnorm(40 * 300), 40), B = matrix(stats::rnorm(40 * 300), 40))
  Y <- list(C = X$A[, sample.int(300)] + 0.3 * matrix(stats::rnorm(40 * 300), 40),
            D = X$B[, rep(1:30, 10)] + 0.3 * matrix(stats::rnorm(40 * 300), 40))
  f1 <- hot(X, Y, test = 1:8, n_perm = 0, threads = 1)
  f2 <- hot(X, Y, test = 1:8, n_perm = 0, threads = 2)
  expect_identical(f1$cost, f2$cost)
  expect_identical(f1$plan, f2$plan)
})

test_that("tie-heavy clusters larger than any first degree: the bounds on the arcs outside the graph keep every search exact", {
  # tuned16-like costs (few stimuli, low noise: ~n / k near-interchangeable
  # units per latent) at and around the smallest sparse size (256 x 256;
  # 255 x 255 is searched densely): clusters of 16 to 20 units (the plain
  # graph) and of 80 and 300 (the graph with bounds: the searches cross
  # rows' bounds and expand them, for k = 2 beyond a row's room: dense
  # rows, made sparse again by the warm restart); the optimum is clue's and
  # the simplex's, certified, under any budget
  skip_if_not_installed("clue")
  set.seed(8116)
  fields <- c("i", "j", "x", "u", "v", "cost", "status")
  for (cfg in list(c(255, 16), c(256, 16), c(320, 16), c(320, 4), c(600, 2))) {
    n <- cfg[1]
    C <- tuned(n, cfg[2], 100, 0.3)
    lsap <- sum(C[cbind(seq_len(n), as.integer(clue::solve_LSAP(C)))]) / n
    ref <- expect_lap_optimum(C, lsap)
    for (budget in c(1, 9, 300))
      expect_identical(ot_seq(list(C), 0L, budget = budget)[[1]][fields], ref[fields])
    # exact ties on top (rounded costs) and a warm restart on a perturbed copy
    Ci <- round(C * 50)
    expect_lap_optimum(Ci, sum(Ci[cbind(seq_len(n), as.integer(clue::solve_LSAP(Ci)))]) / n)
    C2 <- C + 0.01 * tuned(n, cfg[2], 100, 0.3)
    w <- ot_seq(list(C, C2), 0L)[[2]]
    check_ot_certificate(C2, NULL, NULL, as_plan(w, C2))
    expect_lte(abs(w$cost - ot_seq(list(C2), 3L)[[1]]$cost), 1e-12 * w$cost)
  }
})

test_that("the auction pre-pass (clusters larger than the graph, surpluses between them) keeps the optimum exact", {
  # tuned units whose latents are drawn with different frequencies on the
  # two sides: every cluster of near-tied units (~50-100) is larger than
  # the graph holds (the graph with bounds, hence the auction before
  # augmenting row reduction), and the surplus of the over-full clusters
  # has to move to other clusters (the auction's price rises); the
  # optimum is clue's and the forced simplex's, certified, with a valid
  # permutation, at extreme scales and with exact ties (the auction stops
  # when its steps round away), under any budget; a NaN cost still hands
  # the problem to the simplex
  skip_if_not_installed("clue")
  set.seed(8117)
  fields <- c("i", "j", "x", "u", "v", "cost", "status")
  skewed <- function(n, k, T, noise, p1, p2) {
    Z0 <- matrix(stats::rnorm(T * k), T, k)
    Z1 <- 0.8 * Z0 + 0.6 * matrix(stats::rnorm(T * k), T, k)
    X <- Z0[, sample.int(k, n, TRUE, prob = p1)] + noise * matrix(stats::rnorm(T * n), T, n)
    Y <- Z1[, sample.int(k, n, TRUE, prob = p2)] + noise * matrix(stats::rnorm(T * n), T, n)
    correlation_cost(X, Y)
  }
  lsap <- function(M) sum(M[cbind(seq_len(nrow(M)), as.integer(clue::solve_LSAP(M)))]) / nrow(M)
  for (cfg in list(list(n = 400, k = 6, p1 = 1:6, p2 = 6:1),
                   list(n = 500, k = 8, p1 = rep(1, 8), p2 = c(4, 1, 1, 1, 1, 1, 1, 2)))) {
    n <- cfg$n
    C <- skewed(n, cfg$k, 100, 0.3, cfg$p1, cfg$p2)
    ref <- expect_lap_optimum(C, lsap(C))
    for (budget in c(1, 11, 500))
      expect_identical(ot_seq(list(C), 0L, budget = budget)[[1]][fields], ref[fields])
    for (sc in c(1e-150, 1e150)) expect_lap_optimum(C * sc, lsap(C) * sc)
    Ci <- round(C * 50)
    expect_lap_optimum(Ci, lsap(Ci))
    # a warm restart after the cold solve with the auction
    C2 <- C + 0.01 * skewed(n, cfg$k, 100, 0.3, cfg$p1, cfg$p2)
    w <- ot_seq(list(C, C2), 0L)[[2]]
    check_ot_certificate(C2, NULL, NULL, as_plan(w, C2))
    expect_lte(abs(w$cost - lsap(C2)), 1e-12 * w$cost)
    Cb <- C
    Cb[3, 9] <- NaN
    expect_identical(ot_seq(list(Cb), 0L)[[1]][fields], ot_seq(list(Cb), 3L)[[1]][fields])
  }
})

test_that("the graph with bounds reads rows the same through its AVX2 and generic selections", {
  skip_on_cran()
  # row_ksel() (a row's K least a - v as a set and the next value: the
  # graph's first arcs, every expansion) in AVX2 against its generic path
  # (row_kbest()), in two fresh processes, the second with
  # HOTALIGN_NO_VECTOR_PATHS: plans, duals and the work counted must be
  # identical, so every row read chose the same arcs and bound.  Costs with
  # bounds: clusters of ~150 and ~85 near-tied units (expansions, the
  # auction), exact ties (rounded costs: many equal a - v, a cut inside a
  # tie), constant costs (every entry tied: the selection's buffer fills and
  # is cut), three values, and a NaN (handed to the simplex); cold, warm
  # and sliced.  (Where the processor has no AVX2 both runs take the
  # generic path.)
  code <- c(
    "args <- commandArgs(TRUE)",
    "set.seed(8118)",
    "tuned <- function(n, k, T, noise) {",
    "  Z0 <- matrix(rnorm(T * k), T, k); Z1 <- 0.8 * Z0 + 0.6 * matrix(rnorm(T * k), T, k)",
    "  X <- Z0[, sample.int(k, n, TRUE)] + noise * matrix(rnorm(T * n), T, n)",
    "  Y <- Z1[, sample.int(k, n, TRUE)] + noise * matrix(rnorm(T * n), T, n)",
    "  correlation_cost(X, Y)",
    "}",
    "seqs <- function(costs, budget) { n <- nrow(costs[[1]])",
    "  lapply(.Call(hotalign:::C_ffi_ot_sequence, costs, rep(as.double(n), n),",
    "               rep(as.double(n), n), 1 / (as.double(n) * n), 0L, budget),",
    "         function(r) r[c('i', 'j', 'x', 'u', 'v', 'cost', 'pivots', 'status')]) }",
    "A <- tuned(600, 4, 100, 0.3); B <- tuned(700, 8, 100, 0.3)",
    "N <- A; N[7, 11] <- NaN",
    "costs <- list(A = A, B = B, Ai = round(A * 40), one = matrix(1, 300, 300),",
    "  three = matrix(as.double(sample(0:2, 400 * 400, TRUE)), 400, 400), N = N)",
    "res <- lapply(costs, function(C) list(seqs(list(C, C + 0.01 * C[, ncol(C):1]), 0),",
    "                                     seqs(list(C), 7)))",
    "saveRDS(res, args[1])")
  both <- vector_and_generic(code, timeout = 300)
  vector <- both$vector
  generic <- both$generic
  expect_named(vector, c("A", "B", "Ai", "one", "three", "N"))
  for (k in names(vector)) {
    expect_identical(vector[[k]], generic[[k]], label = k)
    # every solve optimal (the NaN one by the simplex)
    for (r in unlist(vector[[k]], recursive = FALSE)) expect_identical(r$status, 0L)
  }
})

test_that("a square uniform problem the assignment solver gives up on is solved by the simplex (its list built then)", {
  # a NaN cost defeats the certificate pass (not finite): the solver hands
  # the problem to the simplex, which builds its tree and candidate list
  # only then; the result is the forced simplex's, cold, after a warm
  # restart and under any budget
  set.seed(8113)
  n <- 300
  C <- corr_cost(40, n)
  Cb <- C
  Cb[5, 7] <- NaN
  fields <- c("i", "j", "x", "u", "v", "cost", "status")
  sim <- ot_seq(list(Cb), 3L)[[1]]
  expect_identical(ot_seq(list(Cb), 0L)[[1]][fields], sim[fields])
  expect_identical(ot_seq(list(C, Cb), 0L)[[2]][fields], sim[fields])
  for (budget in c(1, 50))
    expect_identical(ot_seq(list(Cb), 0L, budget = budget)[[1]][fields], sim[fields])
  # and back: a warm restart on finite costs after the simplex solved
  back <- ot_seq(list(Cb, C), 0L)[[2]]
  expect_identical(back$status, 0L)
  expect_lte(abs(back$cost - ot_seq(list(C), 3L)[[1]]$cost), 1e-12 * back$cost)
})
