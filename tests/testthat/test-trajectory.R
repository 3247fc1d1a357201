# Three-level HOT over training trajectories: hot_trajectory() and its
# methods, on simulated runs whose checkpoint correspondence is known.

# A drifting training run: every checkpoint keeps part of the previous
# checkpoint's features and replaces the rest (share `drift` of the variance)
# with new ones, so consecutive checkpoints are related but distinguishable
# (unit correlation sqrt(1 - drift) between neighbours, falling with the lag).
drifting_run <- function(n_checkpoints = 4, n_stimuli = 80,
                         units = c(early = 10, middle = 8, late = 6),
                         drift = 0.5, seed = 1) {
  withr_seed(seed, {
    feats <- lapply(units, function(n) matrix(rnorm(n_stimuli * n), n_stimuli, n))
    run <- vector("list", n_checkpoints)
    for (k in seq_len(n_checkpoints)) {
      if (k > 1) {
        feats <- lapply(feats, function(f) {
          sqrt(1 - drift) * f + sqrt(drift) * matrix(rnorm(length(f)), nrow(f))
        })
      }
      run[[k]] <- feats
    }
    run
  })
}

# A second run that learned the same features: in every layer of every
# checkpoint the units are shuffled and independent noise is added.
shuffled_copy <- function(run, noise = 0.5, seed = 2) {
  withr_seed(seed, {
    lapply(run, function(ck) {
      lapply(ck, function(x) {
        x[, sample.int(ncol(x)), drop = FALSE] +
          noise * matrix(rnorm(length(x)), nrow(x))
      })
    })
  })
}

# evaluates `code` with a seed, restoring the random state (no withr needed)
withr_seed <- function(seed, code) {
  old <- if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv())
  on.exit(if (is.null(old)) rm(".Random.seed", envir = globalenv()) else
    assign(".Random.seed", old, envir = globalenv()))
  set.seed(seed)
  code
}

fit_trajectory <- function(A, B, ...) {
  hot_trajectory(A, B, seed = 1, n_perm = 0, threads = 1, progress = FALSE,
                 ...)
}

run_A <- drifting_run()
run_B <- shuffled_copy(run_A)
traj <- fit_trajectory(run_A, run_B)

test_that("a trajectory against its noisy, unit-shuffled copy gives a diagonal checkpoint coupling", {
  expect_s3_class(traj, "hot_trajectory")
  expect_equal(dim(traj$plan), c(4L, 4L))
  expect_equal(unname(traj$plan), diag(4) / 4, tolerance = 0)
  # the checkpoints are genuinely different: every matching checkpoint is
  # clearly cheaper than any other, also than its neighbours in training
  D <- traj$cost
  for (k in 1:4) {
    expect_lt(D[k, k] + 0.1, min(D[k, -k]))
    expect_lt(D[k, k] + 0.1, min(D[-k, k]))
  }
  # and the cost grows with the distance in training
  expect_lt(D[1, 2], D[1, 3])
  expect_lt(D[1, 3], D[1, 4])
  expect_equal(summary(traj)$diagonal_share, 1)
  expect_gt(traj$score, 0.8)
})

test_that("the checkpoint coupling recovers a shuffled checkpoint order", {
  order_B <- c(3, 1, 4, 2)
  shuffled <- fit_trajectory(run_A, run_B[order_B])
  expected <- matrix(0, 4, 4)
  expected[cbind(order_B, 1:4)] <- 1 / 4
  expect_equal(unname(shuffled$plan), expected, tolerance = 0)
  expect_lt(summary(shuffled)$diagonal_share, 1)
})

test_that("a run saved twice as often is coupled in training order (C_A != C_B)", {
  A <- run_A[1:3]
  B <- c(shuffled_copy(A, seed = 3), shuffled_copy(A, seed = 4))[c(1, 4, 2, 5, 3, 6)]
  tr <- fit_trajectory(A, B)
  expect_equal(dim(tr$plan), c(3L, 6L))
  expected <- matrix(0, 3, 6)
  expected[cbind(rep(1:3, each = 2), 1:6)] <- 1 / 6
  expect_equal(unname(tr$plan), expected, tolerance = 1e-15)
  expect_equal(summary(tr)$diagonal_share, 1, tolerance = 1e-12)
  expect_identical(summary(tr)$source$partner %in% colnames(tr$plan), rep(TRUE, 3))
})

test_that("plan marginals are 1/C_A and 1/C_B and the plan is the optimal coupling of the costs", {
  A <- drifting_run(3, units = c(a = 6, b = 5), seed = 11)
  B <- drifting_run(5, units = c(a = 7, b = 4, c = 5), drift = 0.3, seed = 12)
  tr <- fit_trajectory(A, B)
  expect_equal(dim(tr$plan), c(3L, 5L))
  expect_equal(unname(rowSums(tr$plan)), rep(1 / 3, 3), tolerance = 1e-12)
  expect_equal(unname(colSums(tr$plan)), rep(1 / 5, 5), tolerance = 1e-12)
  expect_true(all(tr$plan >= 0))
  expect_lte(sum(tr$plan > 0), 3 + 5 - 1)
  expect_equal(tr$objective, sum(tr$plan * tr$cost), tolerance = 0)
  expect_equal(tr$objective, ot_exact(tr$cost)$cost, tolerance = 1e-12)
  expect_equal(tr$score, sum(tr$plan * tr$scores), tolerance = 0)
})

test_that("cost[c, d] is the HOT objective of the pair fitted on the same split", {
  tr <- hot_trajectory(run_A[1:3], run_B[1:2], seed = 7, n_perm = 5,
                       threads = 1, progress = FALSE)
  for (i in 1:3) for (j in 1:2) {
    fit <- hot(run_A[[i]], run_B[[j]], test = tr$test, seed = 7, n_perm = 5,
               threads = 1, progress = FALSE)
    expect_equal(tr$cost[i, j], fit$objective, tolerance = 1e-12)
    expect_equal(tr$scores[i, j], fit$score, tolerance = 1e-12)
    expect_identical(tr$fits[[i, j]]$test, tr$test)
    expect_identical(tr$fits[[i, j]]$train, tr$train)
    expect_equal(tr$fits[[i, j]]$plan, fit$plan, tolerance = 1e-12)
    expect_equal(tr$fits[[i, j]]$baselines, fit$baselines, tolerance = 1e-12)
  }
  # the shared split is the one hot() itself draws from the seed
  expect_identical(tr$test, hot(run_A[[1]], run_B[[1]], seed = 7, n_perm = 0,
                                threads = 1, progress = FALSE)$test)
  expect_setequal(c(tr$train, tr$test), seq_len(nrow(run_A[[1]][[1]])))
  # the stored call of a fit reproduces it
  fit <- tr$fits[[3, 2]]
  expect_identical(deparse(fit$call[1:4]),
                   "hot(X = run_A[1:3][[3L]], Y = run_B[1:2][[2L]], test = test)")
  test <- tr$test
  expect_equal(eval(fit$call)$objective, tr$cost[3, 2], tolerance = 0)
  # named checkpoints are referred to by name, data inlined by do.call() is not
  named_A <- stats::setNames(run_A[1:2], c("e1", "e2"))
  tr2 <- do.call(hot_trajectory, list(named_A, run_B[1:2], seed = 7, n_perm = 0,
                                      threads = 1, progress = FALSE))
  expect_identical(deparse(tr2$fits[[2, 1]]$call[1:3]),
                   "hot(X = A[[\"e2\"]], Y = B[[1L]])")
  for (f in tr2$fits) expect_lt(length(serialize(f$call, NULL)), 2000)
})

test_that("`test` and `holdout` set the shared split", {
  tr <- fit_trajectory(run_A[1:2], run_B[1:2], test = c(40, 1:20))
  expect_identical(tr$test, c(1:20, 40L))
  for (f in tr$fits) expect_identical(f$test, c(1:20, 40L))
  logical_test <- seq_len(80) %in% c(1:20, 40)
  tr2 <- fit_trajectory(run_A[1:2], run_B[1:2], test = logical_test)
  expect_identical(tr2$cost, tr$cost)

  none <- fit_trajectory(run_A[1:2], run_B[1:2], holdout = 0)
  expect_length(none$test, 0L)
  expect_identical(none$train, 1:80)
  expect_true(all(is.na(none$scores)))
  expect_true(is.na(none$score))
  expect_equal(unname(none$plan), diag(2) / 2, tolerance = 0)
  expect_no_error(capture.output(print(none), print(summary(none))))
  png(tmp <- tempfile(fileext = ".png"))
  on.exit({ grDevices::dev.off(); unlink(tmp) })
  expect_no_error(plot(none))
  expect_error(plot(none, type = "scores"), "no held-out scores")
})

test_that("checkpoints and layers are named as documented; one checkpoint each works", {
  expect_identical(rownames(traj$plan), paste0("A", 1:4))
  expect_identical(colnames(traj$plan), paste0("B", 1:4))
  expect_identical(names(dimnames(traj$plan)), c("source", "target"))
  expect_identical(dimnames(traj$fits), dimnames(traj$plan))
  A <- lapply(run_A[1:2], unname)
  names(A) <- c("epoch1", "")
  one <- fit_trajectory(A, run_B[1])
  expect_identical(rownames(one$plan), c("epoch1", "A2"))
  expect_identical(rownames(one$fits[["A2", "B1"]]$plan), c("X1", "X2", "X3"))
  expect_identical(colnames(one$fits[["A2", "B1"]]$plan), c("early", "middle", "late"))
  expect_equal(unname(colSums(one$plan)), 1, tolerance = 1e-15)

  single <- fit_trajectory(run_A[1], run_B[2])
  expect_equal(unname(single$plan), matrix(1), tolerance = 0)
  expect_equal(single$objective, single$cost[1, 1], tolerance = 0)
})

test_that("bad input gets clear errors naming the argument and the checkpoint", {
  A <- run_A[1:2]
  B <- run_B[1:2]
  expect_error(fit_trajectory(list(), B), "`A` is an empty list: it needs at least one checkpoint")
  expect_error(fit_trajectory(A, list()), "`B` is an empty list")
  expect_error(fit_trajectory(A[[1]][[1]], B), "`A` must be a list of checkpoints")
  expect_error(fit_trajectory(A, "B"), "`B` must be a list of checkpoints")
  expect_error(fit_trajectory(A[[1]], B), "looks like a single checkpoint .*list\\(A\\)")
  bad <- A
  bad[[2]] <- A[[2]][[1]]
  expect_error(fit_trajectory(bad, B), "`A[[2]]` must be a list of layers", fixed = TRUE)
  names(bad) <- c("e1", "e2")
  expect_error(fit_trajectory(bad, B), "`A[[\"e2\"]]` must be a list of layers", fixed = TRUE)
  bad <- B
  bad[[2]] <- list()
  expect_error(fit_trajectory(A, bad), "`B[[2]]` is an empty list", fixed = TRUE)
  bad <- A
  bad[[1]]$middle[3, 2] <- NA
  expect_error(fit_trajectory(bad, B), "layer `middle` of `A[[1]]` has 1 NA/NaN/Inf value",
               fixed = TRUE)
  bad <- A
  bad[[2]] <- lapply(bad[[2]], function(x) x[1:70, ])
  expect_error(fit_trajectory(bad, B),
               "all checkpoints of `A` and `B` must have the same stimuli (rows): `A[[1]]` has 80, `A[[2]]` has 70",
               fixed = TRUE)
  bad <- B
  bad[[1]] <- lapply(bad[[1]], function(x) x[1:70, ])
  expect_error(fit_trajectory(A, bad), "`B[[1]]` has 70", fixed = TRUE)
  bad <- A
  bad[[2]]$late <- bad[[2]]$late[1:70, ]
  expect_error(fit_trajectory(bad, B), "all layers of `A[[2]]` must have the same stimuli",
               fixed = TRUE)
  expect_error(fit_trajectory(stats::setNames(A, c("x", "x")), B),
               "`A` has duplicated checkpoint names: `x`")
  # arguments passed on to hot()
  expect_error(hot_trajectory(A, B, 5), "arguments in `...` must be named")
  expect_error(fit_trajectory(A, B, nperm = 5), "`...` must hold arguments of hot\\(\\).*`nperm`")
  expect_error(fit_trajectory(A, B, X = A[[1]]),
               "`X` cannot be given in `...`: hot_trajectory() sets it", fixed = TRUE)
  expect_error(fit_trajectory(A, B, splits = 3), "`splits` is not available in hot_trajectory()",
               fixed = TRUE)
  expect_error(fit_trajectory(A, B, holdout = 1), "`holdout` must be a single number in [0, 1)",
               fixed = TRUE)
  expect_error(fit_trajectory(A, B, test = 0:3), "`test` has indices outside 1..80")
  expect_error(hot_trajectory(A, B, progress = NA), "`progress` must be TRUE or FALSE")
  expect_error(hot_trajectory(A, B, seed = "a"), "`seed` must be a single number")
  # errors raised by hot() name the checkpoint pair
  # (a short message of their own, the pair as a field, the original error
  # as `parent`, of the original kind; the printed message shows the cause)
  e <- expect_error(hot_trajectory(A, B, n_perm = -1, progress = FALSE),
                    class = "hotalign_error_input")
  expect_identical(e$message, "hot() failed on checkpoint pair (`A[[1]]`, `B[[1]]`)")
  expect_identical(e$pair, c("A[[1]]", "B[[1]]"))
  expect_identical(e$arg, "n_perm")
  expect_s3_class(e$parent, "hotalign_error_input")
  expect_match(e$parent$message, "^`n_perm` must be a whole number >= 0")
  expect_match(conditionMessage(e),
               "(`A[[1]]`, `B[[1]]`)\nCaused by error: `n_perm` must be a whole number >= 0",
               fixed = TRUE)
  expect_match(paste(capture.output(print(e)), collapse = "\n"),
               "Caused by error: `n_perm` must be", fixed = TRUE)
  bad <- A
  bad[[2]]$early[, 4] <- 1
  e <- expect_error(fit_trajectory(bad, B), class = "hotalign_error_input")
  expect_identical(e$pair, c("A[[2]]", "B[[1]]"))
  expect_identical(e$layer, "early")
  expect_match(conditionMessage(e),
               "hot() failed on checkpoint pair (`A[[2]]`, `B[[1]]`)\nCaused by error: layer `early` of `X` has 1 column constant",
               fixed = TRUE)
  expect_no_error(fit_trajectory(bad, B, constant = "drop"))
})

test_that("warnings of the fits are collected and reported once", {
  A <- run_A[1:2]
  A[[1]]$late[1:10, 1] <- 3   # constant on the held-out stimuli: undefined score
  expect_warning(tr <- fit_trajectory(A, run_B[1:3], test = 1:10),
                 "hot\\(\\) warned on 3 of 6 checkpoint pairs, first on \\(`A1`, `B1`\\)")
  expect_identical(unique(tr$warnings$source), "A1")
  expect_identical(tr$warnings$target, c("B1", "B2", "B3"))
  expect_match(capture.output(print(summary(tr))), "Warnings of the fits: 3", all = FALSE)
  expect_identical(nrow(traj$warnings), 0L)
})

test_that("print.hot_trajectory() is short and shows dims, objective, score, diagonal share", {
  out <- capture.output(res <- print(traj))
  expect_identical(res, traj)
  expect_lte(length(out), 4L)
  txt <- paste(out, collapse = "\n")
  expect_match(txt, "4 checkpoints of A x 4 checkpoints of B", fixed = TRUE)
  expect_match(txt, formatC(traj$objective, digits = 4, format = "fg"), fixed = TRUE)
  expect_match(txt, formatC(traj$score, digits = 4, format = "fg"), fixed = TRUE)
  expect_match(txt, "diagonal share 1", fixed = TRUE)
})

test_that("summary.hot_trajectory() reports the plan, dominant partners and diagonal share", {
  s <- summary(traj)
  expect_s3_class(s, "summary.hot_trajectory")
  expect_identical(s$plan, traj$plan)
  expect_identical(s$source$partner, paste0("B", 1:4))
  expect_identical(s$target$partner, paste0("A", 1:4))
  expect_equal(s$source$share, rep(1, 4))
  expect_equal(s$source$cost, unname(diag(traj$cost)))
  expect_equal(s$target$score, unname(diag(traj$scores)))
  expect_identical(s$source$layers, rep(3L, 4))
  out <- capture.output(res <- print(s))
  expect_identical(res, s)
  txt <- paste(out, collapse = "\n")
  for (pat in c("Diagonal share:", "Checkpoints of A", "Checkpoints of B",
                "Checkpoint plan", "Checkpoint costs", "the same split")) {
    expect_match(txt, pat, fixed = TRUE)
  }
  # diagonal share of a non-diagonal square plan is its trace
  shuffled <- fit_trajectory(run_A, run_B[c(2, 1, 3, 4)])
  expect_equal(summary(shuffled)$diagonal_share, sum(diag(shuffled$plan)))
  expect_equal(summary(shuffled)$diagonal_share, 0.5)
})

test_that("plot.hot_trajectory() draws plan, cost and scores heatmaps to a PNG", {
  tmp <- tempfile(fileext = ".png")
  png(tmp, width = 480, height = 400)
  on.exit(unlink(tmp))
  expect_identical(plot(traj), traj)
  expect_no_error(plot(traj, type = "cost", numbers = FALSE))
  expect_no_error(plot(traj, type = "scores", main = "scores", diagonal = FALSE))
  expect_error(plot(traj, type = "layers"), "should be one of")
  expect_error(plot(traj, numbers = "yes"), "`numbers` must be TRUE or FALSE")
  grDevices::dev.off()
  expect_gt(file.size(tmp), 1000)
})

test_that("as.data.frame.hot_trajectory() gives the coupling in long form", {
  df <- as.data.frame(traj)
  expect_identical(names(df), c("source", "target", "mass", "cost", "score"))
  expect_equal(nrow(df), 16L)
  expect_identical(levels(df$source), rownames(traj$plan))
  expect_identical(levels(df$target), colnames(traj$plan))
  expect_equal(sum(df$mass), 1)
  idx <- cbind(as.integer(df$source), as.integer(df$target))
  expect_identical(df$mass, unname(traj$plan[idx]))
  expect_identical(df$cost, unname(traj$cost[idx]))
  expect_identical(df$score, unname(traj$scores[idx]))
  expect_identical(as.character(df$source[df$mass > 0]),
                   sub("B", "A", as.character(df$target[df$mass > 0])))
})

test_that("trajectory_fit() returns a pair's fit by index or name", {
  expect_identical(trajectory_fit(traj, 2, 3), traj$fits[[2, 3]])
  expect_identical(trajectory_fit(traj, "A2", "B3"), traj$fits[["A2", "B3"]])
  expect_s3_class(trajectory_fit(traj, 4, "B1"), "hot")
  expect_error(trajectory_fit(traj, 5, 1), "`c` must be a checkpoint of `A`: an index in 1..4")
  expect_error(trajectory_fit(traj, 1, "A1"), "`d` must be a checkpoint of `B`: one of `B1`")
  expect_error(trajectory_fit(traj$fits[[1, 1]], 1, 1), "`x` must be a \"hot_trajectory\"")
  # the fits are ordinary "hot" objects: their methods work
  fit <- trajectory_fit(traj, 1, 1)
  q <- unit_plan(fit, "early", "early")
  expect_equal(sum(q), 1)
})

test_that("hot_trajectory() is reproducible, leaves the random state and does not depend on threads", {
  set.seed(99)
  before <- .Random.seed
  a <- fit_trajectory(run_A[1:2], run_B[1:3])
  expect_identical(.Random.seed, before)
  b <- hot_trajectory(run_A[1:2], run_B[1:3], seed = 1, n_perm = 0, threads = 2,
                      progress = FALSE)
  expect_identical(a$cost, b$cost)
  expect_identical(a$plan, b$plan)
  expect_identical(a$test, b$test)
})

test_that("progress = TRUE shows a bar over the checkpoint pairs and changes nothing", {
  old <- options(cli.progress_show_after = 0, cli.dynamic = FALSE)
  on.exit(options(old))
  expect_no_error(suppressMessages(
    tr <- hot_trajectory(run_A[1:2], run_B[1:2], seed = 1, n_perm = 0,
                         threads = 1, progress = TRUE)))
  ref <- fit_trajectory(run_A[1:2], run_B[1:2])
  expect_identical(tr$cost, ref$cost)
  expect_identical(tr$plan, ref$plan)
})

test_that("rotation is passed on to every checkpoint pair", {
  ok <- tryCatch({
    hot(run_A[[1]], run_B[[1]], rotation = TRUE, n_perm = 0, threads = 1,
        progress = FALSE)
    TRUE
  }, error = function(e) FALSE)
  skip_if_not(ok, "hot(rotation = TRUE) is not available")
  tr <- fit_trajectory(run_A[1:2], run_B[1:2], rotation = TRUE)
  expect_true(tr$rotation)
  for (f in tr$fits) expect_true(is.list(f$rotation))
  fit <- hot(run_A[[2]], run_B[[1]], rotation = TRUE, test = tr$test, seed = 1,
             n_perm = 0, threads = 1, progress = FALSE)
  expect_equal(tr$cost[2, 1], fit$objective, tolerance = 1e-12)
})

test_that("a list of folds as `test` is refused, not cut to its first fold", {
  A <- drifting_run(n_checkpoints = 2, n_stimuli = 40)
  B <- shuffled_copy(A)
  expect_error(hot_trajectory(A, B, test = list(1:10, 11:20), n_perm = 0,
                              progress = FALSE),
               "`test` must be one held-out set .*not a list of folds",
               class = "hotalign_error_input")
})

test_that("the order-preserving coupling is the north-west-corner rule", {
  # the slow obvious reference: north-west corner of the uniform masses
  nw_corner <- function(n, m) {
    P <- matrix(0, n, m)
    r <- rep(m, n)
    k <- rep(n, m)
    i <- j <- 1L
    while (i <= n && j <= m) {
      f <- min(r[i], k[j])
      P[i, j] <- f
      r[i] <- r[i] - f
      k[j] <- k[j] - f
      if (r[i] == 0) i <- i + 1L
      if (k[j] == 0) j <- j + 1L
    }
    P / (n * m)
  }
  set.seed(21)
  for (dims in list(c(1, 1), c(1, 5), c(4, 1), c(3, 3), c(4, 6), c(7, 3),
                    c(12, 17), c(30, 30))) {
    n <- dims[1]
    m <- dims[2]
    plan <- matrix(runif(n * m), n, m)
    plan <- plan / sum(plan)
    expect_identical(hotalign:::diagonal_share(plan),
                     sum(pmin(plan, nw_corner(n, m))), info = paste(n, m))
    expect_equal(hotalign:::diagonal_share(nw_corner(n, m)), 1,
                 tolerance = 1e-14)
  }
})
