# HOT+R (rotation-invariant HOT): the C descent (src/rotation.c) against a
# slow pure-R reference, its monotonicity, recovery of a hidden rotation,
# plain HOT as the special case max_iter = 0, and thread independence.

# ---- local helpers ------------------------------------------------------------

# Slow reference of the block-coordinate descent, written from SPEC section
# 2 with ot_exact() for Q and base svd() for R. Same stopping rule as the C
# kernel: stop when an iteration decreases the objective by at most
# tol * |objective| + 2^10 eps.
ref_descent <- function(Xs, Ys, max_iter, tol) {
  n <- ncol(Xs)
  G <- crossprod(Xs)
  A <- crossprod(Xs, Ys)
  R <- diag(n)
  cost_of <- function(R) {
    # 1/2 ||(Xs R)_i - y_j||^2 = 1/2 (R'GR)_ii + 1/2 - (R'A)_ij
    0.5 * diag(crossprod(R, G %*% R)) + 0.5 - crossprod(R, A)
  }
  K <- 1 - A
  Q <- as.matrix(ot_exact(K)$plan)
  obj <- sum(K * Q)
  trace <- obj
  converged <- FALSE
  for (it in seq_len(max_iter)) {
    s <- svd(A %*% t(n * Q))
    R <- s$u %*% t(s$v)
    K <- cost_of(R)
    Q <- as.matrix(ot_exact(K)$plan)
    new <- sum(K * Q)
    trace <- c(trace, new)
    decrease <- obj - new
    prev <- obj
    obj <- new
    if (!(decrease > tol * abs(prev) + 2^10 * .Machine$double.eps)) {
      converged <- TRUE
      break
    }
  }
  list(R = R, Q = Q, cost = obj, trace = trace, iterations = length(trace) - 1L,
       converged = converged)
}

# Source layers and targets that are rotations of them plus noise:
# Y_m = X_m %*% rot_m + noise * E, each unit of unit variance.
rotated_systems <- function(n_stimuli, widths, noise, seed) {
  set.seed(seed)
  X <- lapply(widths, function(w) matrix(stats::rnorm(n_stimuli * w), n_stimuli, w))
  rot <- lapply(widths, rand_orthogonal)
  Y <- Map(function(x, r) {
    x %*% r + noise * matrix(stats::rnorm(length(x)), nrow(x))
  }, X, rot)
  names(X) <- paste0("X", seq_along(X))
  names(Y) <- paste0("Y", seq_along(Y))
  list(X = X, Y = Y, rot = rot)
}

# ---- the kernel against the reference ----------------------------------------

test_that("C descent agrees with a slow pure-R reference (objective trace to 1e-9)", {
  set.seed(11)
  # 256 x 300 is large enough for the solver's candidate pricing, whose list
  # is rebuilt at every warm restart
  shapes <- list(c(6, 6), c(5, 8), c(9, 4), c(1, 3), c(7, 1), c(12, 10),
                 c(256, 300))
  for (sh in shapes) {
    n <- sh[1]
    m <- sh[2]
    T <- max(40, 2 * n)
    x <- matrix(stats::rnorm(T * n), T, n)
    # a target partly driven by a rotation of the source, so that the descent
    # has something to find
    mix <- matrix(stats::rnorm(n * m), n, m)
    y <- x %*% mix + matrix(stats::rnorm(T * m), T, m)
    Xs <- std_cols(x)
    Ys <- std_cols(y)
    iters <- if (n > 100) 4 else 50
    ref <- ref_descent(Xs, Ys, max_iter = iters, tol = 1e-10)
    got <- c_descent(Xs, Ys, max_iter = iters, tol = 1e-10)
    label <- paste0(n, " x ", m)
    expect_identical(got$status, 0L, label = label)
    expect_identical(got$iterations, ref$iterations, label = label)
    expect_identical(got$converged, ref$converged, label = label)
    expect_equal(got$trace, ref$trace, tolerance = 1e-9, label = label)
    expect_equal(got$cost, ref$cost, tolerance = 1e-9, label = label)
    # R is unique when the Procrustes matrix A (n Q)' has full rank, which
    # needs n <= n' (with n > n' the rank is at most n')
    if (n <= m) expect_equal(got$R, ref$R, tolerance = 1e-7, label = label)
    # R is orthogonal
    expect_equal(crossprod(got$R), diag(n), tolerance = 1e-12, label = label)
  }
})

test_that("objective never increases, at every iteration", {
  set.seed(12)
  for (rep in 1:8) {
    n <- sample(3:15, 1)
    m <- sample(3:15, 1)
    T <- sample(20:80, 1)
    x <- matrix(stats::rnorm(T * n), T, n)
    y <- x %*% matrix(stats::rnorm(n * m), n, m) + 2 * matrix(stats::rnorm(T * m), T, m)
    got <- c_descent(std_cols(x), std_cols(y), max_iter = 200, tol = 0)
    expect_gte(got$iterations, 1L)
    # round-off only: never up by more than 1e-14
    expect_true(all(diff(got$trace) <= 1e-14),
                label = paste("trace of", n, "x", m, "is non-increasing"))
    # and the first value is the plain soft-matching cost
    K <- 1 - crossprod(std_cols(x), std_cols(y))
    expect_equal(got$trace[1], ot_exact(K)$cost, tolerance = 1e-12)
  }
})

test_that("max_iter = 0 in the kernel is the plain OT with R = I", {
  set.seed(13)
  x <- matrix(stats::rnorm(30 * 5), 30, 5)
  y <- matrix(stats::rnorm(30 * 7), 30, 7)
  got <- c_descent(std_cols(x), std_cols(y), max_iter = 0, tol = 1e-8)
  expect_identical(got$R, diag(5))
  expect_identical(got$iterations, 0L)
  expect_false(got$converged)
  expect_length(got$trace, 1L)
})

# ---- hot(rotation = TRUE) -----------------------------------------------------

test_that("hidden rotation: HOT+R scores far above plain HOT, near the noise ceiling", {
  sys <- rotated_systems(n_stimuli = 400, widths = c(12, 16), noise = 0.3, seed = 21)
  plain <- hot(sys$X, sys$Y, seed = 1, n_perm = 10, threads = 1)
  rot <- hot(sys$X, sys$Y, rotation = TRUE, seed = 1, n_perm = 10, threads = 1)
  # the ceiling the noise allows: rebuild each X_l with the true rotation
  test <- rot$test
  train <- rot$train
  ceiling_l <- vapply(seq_along(sys$X), function(l) {
    x <- sys$X[[l]]
    y <- sys$Y[[l]]
    xhat <- y[test, ] %*% t(sys$rot[[l]])
    mean(diag(stats::cor(xhat, x[test, ])))
  }, 0)
  expect_s3_class(rot, "hot")
  expect_true(is.list(rot$rotation))
  expect_equal(unname(rot$plan), diag(2) / 2, tolerance = 1e-15)
  expect_gt(rot$score - plain$score, 0.4)
  expect_gt(rot$score, mean(ceiling_l) - 0.02)
  expect_lt(rot$objective, plain$objective)
  expect_true(all(rot$cost <= plain$cost + 1e-12))
  # the recovered map is the true rotation (up to the estimation error):
  # X R ~ Y (n Q)', so with Q a permutation / n, R (n Q) ~ rot
  for (l in 1:2) {
    R <- rot$rotation$matrices[[l, l]]
    n <- ncol(R)
    expect_equal(crossprod(R), diag(n), tolerance = 1e-12)
    nQ <- n * as.matrix(unit_plan(rot, l, l))
    expect_equal(unname(nQ %*% t(nQ)), diag(n), tolerance = 1e-12)
    expect_lt(max(abs(R %*% nQ - sys$rot[[l]])), 0.15)
  }
  # pairs without outer mass keep no rotation
  expect_null(rot$rotation$matrices[[1, 2]])
  expect_null(rot$rotation$matrices[[2, 1]])
  expect_true(all(rot$rotation$converged))
  expect_true(all(rot$rotation$iterations >= 1L & rot$rotation$iterations < 100L))
  expect_identical(dimnames(rot$rotation$iterations), dimnames(rot$plan))
  # baselines rebuild with rotations too: each layer's cheapest pair is its own
  expect_equal(rot$baselines$pairwise_best, rot$score, tolerance = 1e-12)
  expect_equal(rot$baselines$single_best, rot$score, tolerance = 1e-12)
  # (with two layers, half the permutations are the identity)
  expect_lt(rot$baselines$perm_p, rot$score - 0.2)
})

test_that("HOT+R layer scores match a slow R reconstruction with the rotations", {
  sys <- rotated_systems(n_stimuli = 150, widths = c(5, 7, 6), noise = 1, seed = 22)
  Y <- c(sys$Y, list(Y4 = matrix(stats::rnorm(150 * 4), 150, 4)))
  fit <- hot(sys$X, Y, rotation = TRUE, seed = 4, n_perm = 0, threads = 1)
  train <- fit$train
  test <- fit$test
  std <- function(x) std_train(x, train)
  L <- length(sys$X)
  ref <- vapply(seq_len(L), function(l) {
    Xt <- std(sys$X[[l]])[test, , drop = FALSE]
    Xhat <- 0
    for (m in seq_along(Y)) {
      if (fit$plan[l, m] == 0) next
      Yt <- std(Y[[m]])[test, , drop = FALSE]
      R <- fit$rotation$matrices[[l, m]]
      Q <- as.matrix(unit_plan(fit, l, m))
      Xhat <- Xhat + L * fit$plan[l, m] * Yt %*% t(ncol(Xt) * Q) %*% t(R)
    }
    mean(diag(stats::cor(Xhat, Xt)))
  }, 0)
  expect_equal(unname(fit$layer_scores), ref, tolerance = 1e-10)
  # every pair with outer mass has its rotation, and no other pair
  expect_identical(!vapply(fit$rotation$matrices, is.null, TRUE),
                   as.vector(fit$plan > 0))
  # predict() applies the rotations: it reproduces the unit scores
  rebuilt <- predict(fit, lapply(Y, function(y) y[test, , drop = FALSE]))
  for (l in seq_len(L)) {
    r <- diag(stats::cor(rebuilt[[l]], sys$X[[l]][test, ]))
    expect_equal(unname(r), unname(fit$unit_scores[[l]]), tolerance = 1e-10)
  }
  # each pair's cost is the descent's objective on the training rows
  for (l in seq_len(L)) for (m in seq_along(Y)) {
    Xs <- std(sys$X[[l]])[train, , drop = FALSE]
    Ys <- std(Y[[m]])[train, , drop = FALSE]
    ref_pair <- ref_descent(Xs, Ys, max_iter = 100, tol = 1e-8)
    expect_equal(fit$cost[l, m], ref_pair$cost, tolerance = 1e-9)
    expect_identical(fit$rotation$iterations[l, m], ref_pair$iterations)
  }
})

test_that("max_iter = 0 gives plain HOT exactly", {
  X <- make_system(widths = c(5, 7, 6), noise = 1, seed = 6)
  Y <- make_system(widths = c(6, 4, 8, 5), noise = 1, seed = 7)
  plain <- hot(X, Y, seed = 9, n_perm = 20, threads = 1, splits = 2)
  zero <- hot(X, Y, rotation = TRUE, max_iter = 0, seed = 9, n_perm = 20,
              threads = 1, splits = 2)
  expect_false(plain$rotation)
  strip <- function(f) f[setdiff(names(f), c("call", "rotation"))]
  expect_identical(strip(zero), strip(plain))
  expect_true(all(zero$rotation$iterations == 0L))
  expect_false(any(zero$rotation$converged))
  used <- which(zero$plan > 0)
  for (k in used) {
    n <- ncol(zero$rotation$matrices[[k]])
    expect_identical(zero$rotation$matrices[[k]], diag(n))
  }
  # and predict() too
  newy <- lapply(Y, function(y) y[1:10, ])
  expect_identical(predict(zero, newy), predict(plain, newy))
})

test_that("when no rotation helps, HOT+R stays at plain HOT", {
  # each target layer is its source layer with the units shuffled: on the
  # matching pairs plain HOT is already perfect (objective 0), and the
  # descent stops at R = I after one step (the other pairs do rotate)
  X <- make_system(widths = c(6, 9), noise = 0.5, seed = 8)
  set.seed(8)
  Y <- lapply(X, function(x) x[, sample.int(ncol(x))])
  names(Y) <- c("Y1", "Y2")
  plain <- hot(X, Y, seed = 2, n_perm = 5, threads = 1)
  rot <- hot(X, Y, rotation = TRUE, seed = 2, n_perm = 5, threads = 1)
  expect_identical(rot$plan, plain$plan)
  expect_equal(diag(rot$cost), diag(plain$cost), tolerance = 1e-12)
  expect_equal(rot$score, plain$score, tolerance = 1e-12)
  expect_equal(rot$layer_scores, plain$layer_scores, tolerance = 1e-12)
  expect_equal(rot$baselines$pairwise_best, plain$baselines$pairwise_best,
               tolerance = 1e-12)
  expect_identical(diag(rot$rotation$iterations), c(1L, 1L))
  expect_true(all(rot$rotation$converged))
  for (l in 1:2) {
    R <- rot$rotation$matrices[[l, l]]
    expect_equal(R, diag(ncol(R)), tolerance = 1e-10)
    expect_identical(as.matrix(unit_plan(rot, l, l)),
                     as.matrix(unit_plan(plain, l, l)))
  }
  # off the diagonal a rotation does lower the cost
  expect_true(all(rot$cost[row(rot$cost) != col(rot$cost)] <
                    plain$cost[row(plain$cost) != col(plain$cost)]))
})

test_that("HOT+R results are identical for 1 and 2 threads", {
  sys <- rotated_systems(n_stimuli = 120, widths = c(8, 11, 6), noise = 0.8, seed = 23)
  Y <- c(sys$Y, list(Y4 = matrix(stats::rnorm(120 * 9), 120, 9)))
  one <- hot(sys$X, Y, rotation = TRUE, seed = 5, n_perm = 10, threads = 1)
  two <- hot(sys$X, Y, rotation = TRUE, seed = 5, n_perm = 10, threads = 2)
  expect_identical(fit_content(one), fit_content(two))
})

test_that("the rerun reproduces the pair loop bit for bit", {
  sys <- rotated_systems(n_stimuli = 90, widths = c(7, 5), noise = 1, seed = 24)
  Xs <- lapply(sys$X, std_cols)
  Ys <- lapply(sys$Y, std_cols)
  inner <- .Call(hotalign:::C_ffi_inner_plans, Xs, Ys, 2L, FALSE, TRUE, 100L, 1e-8)
  expect_true(all(inner$status == 0L))
  rerun <- .Call(hotalign:::C_ffi_rotation_pairs, Xs, Ys, 4:1, 100L, 1e-8, 2L,
                 FALSE)
  expect_identical(rerun$cost, as.vector(inner$cost)[4:1])
  expect_identical(rerun$iterations, as.vector(inner$iterations)[4:1])
  expect_identical(rerun$converged, as.vector(inner$converged)[4:1])
  # plain HOT reports no descent
  plain <- .Call(hotalign:::C_ffi_inner_plans, Xs, Ys, 1L, FALSE, FALSE, 100L, 1e-8)
  expect_true(all(plain$iterations == 0L))
  expect_true(all(is.na(plain$converged)))
})

test_that("HOT+R arguments: max_iter and tol are checked", {
  X <- make_system(widths = c(3, 4), seed = 1)
  expect_error(hot(X, X, rotation = TRUE, max_iter = -1), "`max_iter`")
  expect_error(hot(X, X, rotation = TRUE, max_iter = 1.5), "`max_iter`")
  expect_error(hot(X, X, rotation = TRUE, tol = -1), "`tol`")
  expect_error(hot(X, X, rotation = TRUE, tol = NA), "`tol`")
})

test_that("HOT+R with one unit, one layer and no held-out stimuli", {
  set.seed(31)
  x <- matrix(stats::rnorm(50), 50, 1)
  y <- cbind(-x + 0.1 * stats::rnorm(50), stats::rnorm(50))
  fit <- hot(list(a = x), list(b = y), rotation = TRUE, holdout = 0,
             n_perm = 0, threads = 1)
  # O(1) = {1, -1}: the sign flip is found
  expect_equal(fit$rotation$matrices[[1, 1]], matrix(-1), tolerance = 1e-15)
  expect_true(is.na(fit$score))
  expect_lt(fit$objective, 0.6)
  print_out <- capture.output(print(fit))
  expect_match(print_out[1], "HOT\\+R")
})

# ---- the subspace form and the engine's parts (issue 11) -----------------------

# wide layers: more units than stimuli, targets partly rotated copies
wide_pair <- function(T, n, m, seed, k = 5) {
  set.seed(seed)
  Z <- matrix(stats::rnorm(T * k), T, k)
  x <- Z %*% matrix(stats::rnorm(k * n), k, n) + matrix(stats::rnorm(T * n), T, n)
  y <- Z %*% matrix(stats::rnorm(k * m), k, m) + matrix(stats::rnorm(T * m), T, m)
  list(Xs = std_cols(x), Ys = std_cols(y))
}

test_that("subspace descent (n > T) has the full-space reference's objective trace", {
  # the reference works in the full space (n x n SVD); the C descent in the
  # r <= T dimensional row space of Xs: same costs K_R, same plans, same trace
  for (sh in list(c(20, 60, 80), c(12, 40, 25), c(40, 150, 120), c(30, 31, 50))) {
    T <- sh[1]; n <- sh[2]; m <- sh[3]
    d <- wide_pair(T, n, m, seed = sum(sh))
    ref <- ref_descent(d$Xs, d$Ys, max_iter = 40, tol = 1e-10)
    got <- c_parts(d$Xs, d$Ys, max_iter = 40, tol = 1e-10)
    label <- paste0("T ", T, ", ", n, " x ", m)
    expect_identical(got$status, 0L, label = label)
    expect_lte(got$r, T)
    expect_false(got$rank_deficient, label = label)
    expect_identical(got$iterations, ref$iterations, label = label)
    expect_equal(got$trace, ref$trace, tolerance = 1e-9, label = label)
    expect_equal(got$cost, ref$cost, tolerance = 1e-9, label = label)
    # R itself is not unique (rank(A) < n) but Xs R is: Xs R = Xs V W
    expect_equal(d$Xs %*% got$R, d$Xs %*% ref$R, tolerance = 1e-7, label = label)
    # invariants: R orthogonal, V orthonormal, V'R = W, Xs = Xs V V'
    expect_equal(crossprod(got$R), diag(n), tolerance = 1e-12)
    expect_equal(crossprod(got$V), diag(got$r), tolerance = 1e-12)
    expect_equal(crossprod(got$V, got$R), got$W, tolerance = 1e-12)
    expect_equal(d$Xs %*% got$V %*% t(got$V), d$Xs, tolerance = 1e-12)
    expect_equal(got$lam, colSums((d$Xs %*% got$V)^2), tolerance = 1e-12)
    expect_lte(got$dropped_bound, 1e-12)
    # the final cost is exactly the OT of K_R for this R
    K <- 0.5 * colSums((d$Xs %*% got$R)^2) + 0.5 - crossprod(d$Xs %*% got$R, d$Ys)
    expect_equal(ot_exact(K)$cost, got$cost, tolerance = 1e-10, label = label)
  }
})

test_that("rank-deficient Procrustes matrices (fewer targets than r) stay valid descents", {
  d <- wide_pair(T = 30, n = 50, m = 6, seed = 21)
  got <- c_parts(d$Xs, d$Ys, max_iter = 50, tol = 0)
  expect_identical(got$status, 0L)
  expect_true(got$rank_deficient)
  expect_true(all(diff(got$trace) <= 1e-14))
  expect_lte(got$cost, got$trace[1])
  expect_equal(crossprod(got$R), diag(50), tolerance = 1e-12)
  # the cost is the exact OT of its R, whichever polar factor was chosen
  XR <- d$Xs %*% got$R
  K <- 0.5 * colSums(XR^2) + 0.5 - crossprod(XR, d$Ys)
  expect_equal(ot_exact(K)$cost, got$cost, tolerance = 1e-10)
})

test_that("the resumable descent is bit-identical for any pivot budget", {
  for (sh in list(c(40, 25, 30), c(20, 60, 45))) {
    d <- wide_pair(sh[1], sh[2], sh[3], seed = 31 + sh[2])
    whole <- c_parts(d$Xs, d$Ys, max_iter = 30, tol = 1e-12)
    for (budget in c(1, 7)) {
      sliced <- c_parts(d$Xs, d$Ys, max_iter = 30, tol = 1e-12, budget = budget)
      expect_gt(sliced$steps, whole$steps)
      expect_identical(sliced$trace, whole$trace)
      expect_identical(sliced$R, whole$R)
      expect_identical(sliced$plan_x, whole$plan_x)
    }
    # a basis computed once for the source layer gives the same descent
    shared <- c_parts(d$Xs, d$Ys, max_iter = 30, tol = 1e-12, shared_basis = TRUE)
    expect_identical(shared$trace, whole$trace)
    expect_identical(shared$R, whole$R)
    # and the resumable form is the pair loop's descent
    loop <- c_descent(d$Xs, d$Ys, max_iter = 30, tol = 1e-12)
    expect_identical(loop$trace, whole$trace)
    expect_identical(loop$R, whole$R)
  }
})

test_that("a step from the plan W came from keeps W and K, bit for bit the full step", {
  # the descent's last iteration usually starts from the plan the previous
  # Procrustes step used: it then keeps W and the rotated cost, and must be
  # exactly the step that recomputes them (reuse = FALSE)
  shapes <- list(c(40, 25, 30), c(20, 60, 45), c(15, 15, 4), c(65, 64, 64), c(30, 12, 200))
  fired <- 0L
  for (sh in shapes) {
    d <- wide_pair(sh[1], sh[2], sh[3], seed = 51 + sh[2])
    for (budget in c(0, 3)) {
      kept <- c_parts(d$Xs, d$Ys, max_iter = 30, tol = 1e-10, budget = budget)
      full <- c_parts(d$Xs, d$Ys, max_iter = 30, tol = 1e-10, budget = budget,
                      reuse = FALSE)
      label <- paste(c(sh, budget), collapse = " ")
      expect_identical(full$polar_reused, 0L, label = label)
      expect_identical(kept$polar_fast + kept$polar_fallback + kept$polar_reused,
                       kept$iterations, label = label)
      expect_identical(kept$trace, full$trace, label = label)
      expect_identical(kept$iterations, full$iterations, label = label)
      expect_identical(kept$converged, full$converged, label = label)
      expect_identical(kept$R, full$R, label = label)
      expect_identical(kept$W, full$W, label = label)
      expect_identical(kept$plan_i, full$plan_i, label = label)
      expect_identical(kept$plan_x, full$plan_x, label = label)
      expect_identical(kept$R_from_plan, full$R_from_plan, label = label)
      fired <- fired + kept$polar_reused
    }
  }
  # the shortcut is taken (else this test could not fail)
  expect_gt(fired, 0L)
  # a square pair whose rotated plan is the plain one (targets a noisy
  # rotation of the source): the second iteration keeps W, and the last two
  # objectives are equal to the bit
  set.seed(57)
  T <- 41L
  Xs <- std_cols(matrix(stats::rnorm(T * 40), T, 40))
  Ys <- std_cols(Xs %*% rand_orthogonal(40) + 0.3 * matrix(stats::rnorm(T * 40), T, 40) / sqrt(T))
  got <- c_parts(Xs, Ys, max_iter = 30, tol = 1e-10)
  expect_identical(got$polar_reused, 1L)
  expect_true(got$converged)
  expect_identical(got$trace[got$iterations + 1], got$trace[got$iterations])
})

test_that("rotation_from_plan recomputes the descent's R bit for bit", {
  for (sh in list(c(40, 25, 30), c(20, 60, 45), c(15, 15, 4))) {
    d <- wide_pair(sh[1], sh[2], sh[3], seed = 41 + sh[2])
    got <- c_parts(d$Xs, d$Ys, max_iter = 30, tol = 1e-10)
    expect_identical(got$from_plan_status, 0L)
    expect_identical(got$R_from_plan, got$R)
    # the recorded plan is a transport plan of the uniform marginals
    n <- ncol(d$Xs); m <- ncol(d$Ys)
    Q <- matrix(0, n, m)
    Q[cbind(got$plan_i, got$plan_j)] <- got$plan_x
    expect_equal(rowSums(Q), rep(1 / n, n), tolerance = 1e-14)
    expect_equal(colSums(Q), rep(1 / m, m), tolerance = 1e-14)
    # R is the Procrustes solution of that plan (unique: n <= T and n <= m)
    if (n <= sh[1] && n <= m) {
      s <- svd(crossprod(d$Xs, d$Ys) %*% t(n * Q))
      expect_equal(got$R, s$u %*% t(s$v), tolerance = 1e-9)
    }
  }
  # max_iter = 0: no plan recorded, R = I again
  d <- wide_pair(20, 8, 9, seed = 49)
  got <- c_parts(d$Xs, d$Ys, max_iter = 0, tol = 1e-8)
  expect_length(got$plan_i, 0)
  expect_identical(got$R_from_plan, diag(8))
})

test_that("the compact rotation applies Z R' as the dense R does", {
  for (sh in list(c(40, 25, 30), c(20, 60, 45), c(10, 200, 30))) {
    d <- wide_pair(sh[1], sh[2], sh[3], seed = 51 + sh[2])
    Z <- matrix(stats::rnorm(7 * sh[2]), 7)
    got <- c_parts(d$Xs, d$Ys, max_iter = 20, tol = 1e-10, Z = Z)
    expect_identical(got$apply_status, 0L)
    expect_equal(got$applied, Z %*% t(got$R), tolerance = 1e-12,
                 label = paste("Z R' at", paste(sh, collapse = " x ")))
    # without the dense R (form_R = 0) the compact form is the same
    compact <- c_parts(d$Xs, d$Ys, max_iter = 20, tol = 1e-10, Z = Z, form_dense = FALSE)
    expect_identical(compact$applied, got$applied)
    expect_identical(compact$trace, got$trace)
    if (sh[2] > sh[1]) expect_null(compact$R)
  }
})

test_that("the lower bound is the formula and never exceeds the descent's objective", {
  set.seed(61)
  for (rep in 1:12) {
    T <- sample(8:60, 1); n <- sample(2:70, 1); m <- sample(2:70, 1)
    d <- wide_pair(T, n, m, seed = 600 + rep, k = sample(1:6, 1))
    got <- c_parts(d$Xs, d$Ys, max_iter = 100, tol = 0)
    label <- paste0("T ", T, ", ", n, " x ", m)
    # the C bound is the formula lowered by its round-off margin (1e-9 + a
    # few eps): below the reference, by less than 1e-8
    gap <- ref_lower_bound(d$Xs, d$Ys) - got$lower_bound
    expect_gte(gap, 0, label = label)
    expect_lt(gap, 1e-8, label = label)
    expect_lte(got$lower_bound, got$cost)
  }
  # the tight case: a signed permutation of the source (exactly standardised)
  # has cost 0, and so does the bound, to its round-off margin
  d <- wide_pair(40, 10, 10, seed = 62)
  P0 <- diag(sample(c(-1, 1), 10, TRUE))[, sample(10)]
  got <- c_parts(d$Xs, d$Xs %*% P0, max_iter = 100, tol = 0)
  expect_lt(abs(got$cost), 1e-12)
  expect_lte(got$lower_bound, got$cost)
  expect_gt(got$lower_bound, -1e-8)
})

test_that("HOT+R on wide layers (more units than stimuli) is thread-independent", {
  set.seed(71)
  Z <- matrix(stats::rnorm(40 * 4), 40, 4)
  X <- list(a = Z %*% matrix(stats::rnorm(4 * 90), 4) + matrix(stats::rnorm(40 * 90), 40),
            b = matrix(stats::rnorm(40 * 30), 40))
  Y <- list(c = (X$a %*% rand_orthogonal(90))[, 1:70], d = Z %*% matrix(stats::rnorm(4 * 50), 4))
  one <- hot(X, Y, rotation = TRUE, seed = 7, n_perm = 5, threads = 1)
  two <- hot(X, Y, rotation = TRUE, seed = 7, n_perm = 5, threads = 2)
  expect_identical(one$cost, two$cost)
  expect_identical(one$plan, two$plan)
  expect_identical(one$layer_scores, two$layer_scores)
  expect_gt(one$score, hot(X, Y, seed = 7, n_perm = 5, threads = 1)$score)
})

test_that("with n_perm = 100 no pair's descent runs twice", {
  # widths on both sides of T_train = 48 (subspace and full-space descents)
  sys <- rotated_systems(n_stimuli = 60, widths = c(8, 70, 20), noise = 0.8, seed = 25)
  perms <- hotalign:::perm_p_permutations(3L, 100L)
  pm <- matrix(as.integer(unlist(perms)), nrow = 3L)
  res <- .Call(hotalign:::C_ffi_hot_split, sys$X, sys$Y, 1:48, 49:60, pm, TRUE,
               TRUE, 100L, 1e-8, 2L, FALSE, hotalign:::cost_kernel_mode())
  expect_identical(res$status, 0L)
  its <- sum(res$inner$iterations)
  expect_gt(its, 3)
  # rotations were recovered for more pairs than the plan's (the baselines
  # and the permutations need them), yet the descents ran once: the engine's
  # count of Procrustes steps is the sum of the pairs' iterations
  kept <- !vapply(res$rotations, is.null, NA)
  expect_gt(sum(kept), sum(res$plan > 0))
  expect_identical(res$descent_iterations, as.double(its))
  # the recovered rotations are the descent's: those of the rerun entry point
  Xs <- lapply(sys$X, function(x) {
    x <- x[1:48, ]
    x <- sweep(x, 2, colMeans(x))
    sweep(x, 2, sqrt(colSums(x^2)), "/")
  })
  Ys <- lapply(sys$Y, function(x) {
    x <- x[1:48, ]
    x <- sweep(x, 2, colMeans(x))
    sweep(x, 2, sqrt(colSums(x^2)), "/")
  })
  # (pairs with fewer targets than sources have a non-unique polar factor,
  # so the R-side standardisation's round-off may pick another maximiser)
  n_src <- c(8, 70, 20)[(seq_along(kept) - 1L) %% 3L + 1L]
  n_tgt <- c(8, 70, 20)[(seq_along(kept) - 1L) %/% 3L + 1L]
  ks <- which(kept & as.vector(res$inner$iterations) > 0 & n_src <= n_tgt)
  expect_gt(length(ks), 3)
  rerun <- .Call(hotalign:::C_ffi_rotation_pairs, Xs, Ys, as.integer(ks), 100L,
                 1e-8, 1L, FALSE)
  expect_identical(rerun$iterations, as.vector(res$inner$iterations)[ks])
  for (t in seq_along(ks)) {
    expect_equal(rerun$rotations[[t]], res$rotations[[ks[t]]], tolerance = 1e-12)
  }
})

test_that("HOT+R results do not depend on how the pair loop slices the descent", {
  sys <- rotated_systems(n_stimuli = 60, widths = c(8, 70, 20), noise = 0.8, seed = 26)
  ref <- hot(sys$X, sys$Y, rotation = TRUE, seed = 3, n_perm = 10, threads = 1)
  expect_gt(sum(ref$rotation$iterations), 6)
  default <- .Call(hotalign:::C_ffi_pair_step_work, 1)
  on.exit(.Call(hotalign:::C_ffi_pair_step_work, default), add = TRUE)
  for (work in c(1, 500, 1e12)) {
    .Call(hotalign:::C_ffi_pair_step_work, work)
    fits <- lapply(1:2, function(th) {
      hot(sys$X, sys$Y, rotation = TRUE, seed = 3, n_perm = 10, threads = th)
    })
    expect_identical(fit_content(fits[[1]]), fit_content(ref))
    expect_identical(fit_content(fits[[2]]), fit_content(ref))
  }
})

test_that("a wide source layer's shared basis gives each pair its own descent bit for bit", {
  # X1 (70 units) is wider than T_train = 48 and has three pairs: the pair
  # loop factors it once (rotation_basis); a fit with one target layer has
  # one pair per source and computes the basis in the pair
  sys <- rotated_systems(n_stimuli = 60, widths = c(70, 20, 55), noise = 0.8, seed = 27)
  all3 <- hot(sys$X[1], sys$Y, rotation = TRUE, seed = 4, n_perm = 0, threads = 2)
  expect_gt(sum(all3$rotation$iterations), 3)
  for (m in 1:3) {
    one <- hot(sys$X[1], sys$Y[m], rotation = TRUE, seed = 4, n_perm = 0, threads = 2)
    expect_identical(one$cost[1, 1], all3$cost[1, m])
    expect_identical(one$rotation$iterations[1, 1], all3$rotation$iterations[1, m])
    k <- m
    idx <- seq_len(all3$inner$start[k + 1] - all3$inner$start[k]) + all3$inner$start[k]
    expect_identical(one$inner$x, all3$inner$x[idx])
    expect_identical(one$inner$i, all3$inner$i[idx])
  }
})

test_that("rotations of wide sources are kept compactly and expand to the R the scores used", {
  # X1 has 120 units and 48 training rows: 2 n r + 3 r < n^2 = 14400
  sys <- rotated_systems(n_stimuli = 60, widths = c(120, 10), noise = 0.5, seed = 28)
  fit <- hot(sys$X, sys$Y, rotation = TRUE, seed = 6, n_perm = 0, threads = 2)
  expect_gt(fit$plan[1, 1], 0)
  stored <- fit$rotation$matrices[[1, 1]]
  expect_s3_class(stored, "hot_compact_rotation")
  # r: the numerical rank of the centred training rows (47 of 48)
  expect_identical(stored$r, 47L)
  expect_length(stored$factors, 2 * 120 * 47 + 3 * 47)
  expect_true(is.matrix(fit$rotation$matrices[[2, 2]])) # 10 units: dense
  R <- hot_pair_rotation(fit, 1, 1)
  expect_identical(dim(R), c(120L, 120L))
  expect_equal(crossprod(R), diag(120), tolerance = 1e-12)
  # the scores were computed by the engine with its dense R: rebuilding with
  # the expanded rotations reproduces them, and predict() does too
  std <- function(x) std_train(x, fit$train)
  test <- fit$test
  L <- length(sys$X)
  ref <- vapply(seq_len(L), function(l) {
    Xt <- std(sys$X[[l]])[test, , drop = FALSE]
    Xhat <- 0
    for (m in seq_along(sys$Y)) {
      if (fit$plan[l, m] == 0) next
      Yt <- std(sys$Y[[m]])[test, , drop = FALSE]
      Q <- as.matrix(unit_plan(fit, l, m))
      Xhat <- Xhat + L * fit$plan[l, m] * Yt %*% t(ncol(Xt) * Q) %*%
        t(hot_pair_rotation(fit, l, m))
    }
    mean(diag(stats::cor(Xhat, Xt)))
  }, 0)
  expect_equal(unname(fit$layer_scores), ref, tolerance = 1e-10)
  rebuilt <- predict(fit, lapply(sys$Y, function(y) y[test, , drop = FALSE]))
  r <- diag(stats::cor(rebuilt[[1]], sys$X[[1]][test, ]))
  expect_equal(unname(r), unname(fit$unit_scores[[1]]), tolerance = 1e-10)
  # the fit holds O(n T), not n^2, for the pair
  expect_lt(as.numeric(utils::object.size(stored)), 8 * 120^2)
})

test_that("the memory estimate of HOT+R counts the bases, recorded plans and compact rotations", {
  bytes <- getFromNamespace("hot_memory_bytes", "hotalign")
  plain <- bytes(c(2000L, 2000L), rep(1500L, 4), 90, 2L)
  rot0 <- bytes(c(2000L, 2000L), rep(1500L, 4), 90, 2L, TRUE, 0L)
  rot100 <- bytes(c(2000L, 2000L), rep(1500L, 4), 90, 2L, TRUE, 100L)
  # at least: a descent workspace per thread (seven 2000 x 90 blocks), the
  # two shared bases, the compact rotations held for scoring (2 n T each,
  # at most 2 L + M - 1 = 7 of them); the recomputation reuses the pair
  # loop's workspaces and cost buffers, and no workspace holds an n x n'
  # block (A and B0 were two per workspace, with two workspaces and a
  # second cost matrix per thread: ten 2000 x 1500 blocks in all)
  expect_gt(rot0 - plain, 8 * (2 * 7 * 2000 * 90 + 2 * 2000 * 90 + 7 * 2 * 2000 * 90))
  expect_lt(rot0 - plain, 8 * 4 * 2000 * 1500)
  # n_perm > 0: every pair's rotation (8 here) instead of at most 7
  expect_gt(rot100, rot0)
  # a source wider than its stimuli costs O(n T) per pair, not O(n^2): the
  # extra memory of HOT+R over plain HOT grows linearly in the width (it
  # doubled from 4000 to 8000 voxels; an n^2 term would quadruple it)
  extra <- vapply(c(4000L, 8000L), function(n) {
    bytes(c(n, n), c(50L, 50L), 92, 2L, TRUE, 100L) - bytes(c(n, n), c(50L, 50L), 92, 2L)
  }, 0)
  expect_lt(extra[2] / extra[1], 2.2)
  expect_lt(extra[2], 8 * 8000^2)
  # fMRI shape: 2 x 2 regions of 5000 voxels, 92 stimuli, 2 threads
  fmri <- c(bytes(rep(5000L, 2), rep(5000L, 2), 92, 2L),
            bytes(rep(5000L, 2), rep(5000L, 2), 92, 2L, TRUE, 100L))
  expect_lt(fmri[2] / fmri[1], 3)
  # sources no wider than their stimuli keep dense rotations (n^2 <= n T)
  narrow <- bytes(c(80L, 80L), c(60L, 60L), 200, 1L, TRUE, 0L) -
    bytes(c(80L, 80L), c(60L, 60L), 200, 1L)
  expect_gt(narrow, 8 * (2 * 7 * 80^2 + 5 * 80^2))
})

test_that("HOT+R on a source far wider than its stimuli allocates no n x n block", {
  # 3000 units, 40 stimuli (32 training rows): an n x n double block is
  # 72 MB; the descent's workspaces, the recomputation and the scores must
  # all stay in O(n T).  R_alloc()'d scratch is counted by gc()'s maximum.
  set.seed(41)
  T <- 40
  n <- 3000
  z <- matrix(stats::rnorm(T * 6), T, 6)
  X <- list(x = z %*% matrix(stats::rnorm(6 * n), 6, n) + matrix(stats::rnorm(T * n), T, n))
  Y <- list(y = z %*% matrix(stats::rnorm(6 * 200), 6, 200) +
              matrix(stats::rnorm(T * 200), T, 200))
  peak <- function(expr) {
    invisible(gc(reset = TRUE))
    force(expr)
    8 * gc()[2, 5] # Vcells "max used" (8 bytes each)
  }
  base <- peak(hot(X, Y, seed = 2, n_perm = 5, threads = 1))
  fit <- NULL
  top <- peak(fit <- hot(X, Y, rotation = TRUE, seed = 2, n_perm = 5, threads = 1))
  expect_gt(fit$rotation$iterations[1, 1], 0)
  stored <- fit$rotation$matrices[[1, 1]]
  expect_s3_class(stored, "hot_compact_rotation")
  expect_lt(top - base, 8 * n^2 / 2)
  # the compact rotation rebuilds the held-out rows without being expanded,
  # and as the dense R does
  yt <- lapply(Y, function(y) y[fit$test, , drop = FALSE])
  rebuilt <- predict(fit, yt)
  r <- diag(stats::cor(rebuilt[[1]], X[[1]][fit$test, ]))
  expect_equal(unname(r), unname(fit$unit_scores[[1]]), tolerance = 1e-10)
  R <- hot_pair_rotation(fit, 1, 1)
  expect_lt(max(abs(crossprod(R) - diag(n))), 1e-12)
  # what a user sees: as.matrix() is the same dense R, print() a summary
  expect_identical(as.matrix(stored), R)
  out <- capture.output(print(stored))
  expect_match(out[1], sprintf("3000 x 3000 orthogonal matrix, kept as Householder factors of rank %d",
                               stored$r), fixed = TRUE)
  expect_match(out[2], "as.matrix()", fixed = TRUE)
})

test_that("a wide source whose descent makes no iteration keeps R = I compactly", {
  sys <- rotated_systems(n_stimuli = 30, widths = c(90, 8), noise = 0.5, seed = 5)
  fit <- hot(sys$X, sys$Y, rotation = TRUE, max_iter = 0, seed = 6, n_perm = 0)
  plain <- hot(sys$X, sys$Y, seed = 6, n_perm = 0)
  expect_identical(fit$layer_scores, plain$layer_scores)
  k <- which(fit$plan > 0 & row(fit$plan) == 1)[1]
  stored <- fit$rotation$matrices[[k]]
  expect_s3_class(stored, "hot_compact_rotation")
  expect_identical(stored$r, 0L)
  expect_length(stored$factors, 0)
  expect_identical(hot_pair_rotation(fit, 1, col(fit$plan)[k]), diag(1, 90))
  expect_identical(as.matrix(stored), diag(1, 90))
  expect_match(capture.output(print(stored))[1], "90 x 90 orthogonal matrix, kept as the identity")
  yt <- lapply(sys$Y, function(y) y[fit$test, , drop = FALSE])
  expect_identical(predict(fit, yt), predict(plain, yt))
})

test_that("threads applying one compact rotation at once leave it intact (1 and 2 threads bit-identical)", {
  # one wide pair (200 units, 16 training rows: rank 15, below dormqr's
  # block size, where its unblocked path writes the factors' diagonal
  # while it works); the held-out scores apply the pair's rotation from
  # several threads at once
  set.seed(9)
  X <- list(x = matrix(stats::rnorm(20 * 200), 20, 200))
  Y <- list(y = matrix(stats::rnorm(20 * 150), 20, 150))
  fit <- function(th) hot(X, Y, rotation = TRUE, seed = 1, threads = th, n_perm = 0)
  one <- fit(1)
  stored <- one$rotation$matrices[[1, 1]]
  expect_s3_class(stored, "hot_compact_rotation")
  expect_lt(stored$r, 32)
  # the signs D are those of the factors' diagonals (as form_rotation()
  # computed them): a diagonal overwritten afterwards breaks this
  consistent <- function(s) {
    n <- s$n
    r <- s$r
    f <- s$factors
    dv <- f[(seq_len(r) - 1) * (n + 1) + 1]
    dw <- f[n * r + (seq_len(r) - 1) * (n + 1) + 1]
    identical(ifelse(dv < 0, -1, 1) * ifelse(dw < 0, -1, 1), f[2 * n * r + 2 * r + seq_len(r)])
  }
  expect_true(consistent(stored))
  keep <- c("score", "layer_scores", "unit_scores", "baselines", "rotation")
  for (rep in 1:40) { # the race hit 14-33 of 40 fits on 2 cores
    two <- fit(2)
    expect_true(consistent(two$rotation$matrices[[1, 1]]))
    expect_identical(two[keep], one[keep])
  }
})
