# hot_many(): every pair of systems, serially and through future.apply.

many_systems <- function() {
  sim <- simulate_hierarchy(n_stimuli = 50, source_layers = 2,
                            target_layers = 4, source_units = 6,
                            target_units = 5, seed = 11)
  list(A = sim$X, B = sim$Y, C = sim$Y[c(2, 4)])
}

test_that("ordered pairs: each cell is the hot() fit of that pair", {
  systems <- many_systems()
  res <- hot_many(systems, n_perm = 10, seed = 3, threads = 1,
                  progress = FALSE)
  expect_s3_class(res, "hot_many")
  expect_equal(dimnames(res$score), list(source = c("A", "B", "C"),
                                         target = c("A", "B", "C")))
  expect_equal(nrow(res$pairs), 6L)
  for (k in seq_len(nrow(res$pairs))) {
    i <- as.character(res$pairs$source[k])
    j <- as.character(res$pairs$target[k])
    fit <- hot(systems[[i]], systems[[j]], n_perm = 10, seed = 3,
               threads = 1, progress = FALSE)
    expect_equal(res$objective[i, j], fit$objective)
    expect_equal(res$score[i, j], fit$score)
    expect_equal(res$pairs$perm_p_value[k], fit$baselines$perm_p_value)
    expect_equal(res$plans[[paste(i, "->", j)]], fit$plan)
  }
  expect_equal(unname(diag(res$objective)), c(0, 0, 0))
  expect_true(all(is.na(diag(res$score))))
  # plain HOT's objective is symmetric; the score is not
  expect_equal(res$objective, t(res$objective), tolerance = 1e-10,
               ignore_attr = TRUE)
  expect_false(isTRUE(all.equal(res$score["A", "B"], res$score["B", "A"])))
  expect_null(res$fits)
  expect_equal(res$seed, 3)
})

test_that("unordered pairs fit each pair once, with the first system as source", {
  systems <- many_systems()
  ord <- hot_many(systems, n_perm = 0, seed = 3, threads = 1,
                  progress = FALSE)
  un <- hot_many(systems, n_perm = 0, seed = 3, pairs = "unordered",
                 threads = 1, progress = FALSE)
  expect_equal(nrow(un$pairs), 3L)
  expect_equal(un$score[upper.tri(un$score)], ord$score[upper.tri(ord$score)])
  expect_true(all(is.na(un$score[lower.tri(un$score)])))
  expect_equal(un$objective, t(un$objective), ignore_attr = TRUE)
  expect_equal(un$objective[upper.tri(un$objective)],
               ord$objective[upper.tri(ord$objective)])
})

test_that("extra arguments reach hot(), fits are kept on request, one seed is shared", {
  systems <- many_systems()[1:2]
  res <- hot_many(systems, splits = 2, n_perm = 0, keep_fits = TRUE,
                  seed = 5, threads = 1, progress = TRUE)
  expect_named(res$fits, c("A -> B", "B -> A"))
  expect_length(res$fits[[1]]$splits, 2L)
  expect_identical(res$fits[[1]]$test, res$fits[[2]]$test)
  expect_equal(deparse(res$fits[[2]]$call$X), "systems$B")
  expect_equal(deparse(res$fits[[2]]$call$Y), "systems$A")
  expect_false(is.na(res$score_se["A", "B"]))
  # seed = NULL draws one seed from the stream, reproducibly
  set.seed(9)
  a <- hot_many(systems, n_perm = 0, threads = 1, progress = FALSE)
  set.seed(9)
  b <- hot_many(systems, n_perm = 0, threads = 1, progress = FALSE)
  expect_equal(a$score, b$score)
  expect_equal(a$seed, b$seed)
})

test_that("a future plan gives identical results (future.apply)", {
  skip_if_not_installed("future.apply")
  skip_on_cran()
  systems <- many_systems()
  serial <- hot_many(systems, n_perm = 5, seed = 2, threads = 1,
                     progress = FALSE)
  expect_false(serial$parallel)
  old <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(old), add = TRUE)
  par <- suppressMessages(hot_many(systems, n_perm = 5, seed = 2,
                                   progress = TRUE))
  expect_true(par$parallel)
  expect_identical(par$score, serial$score)
  expect_identical(par$objective, serial$objective)
  expect_identical(par$pairs, serial$pairs)
  # errors in a worker still name the systems
  bad <- systems
  bad$C[[1]][, 1] <- 1
  expect_error(hot_many(bad, n_perm = 0, seed = 2, on_error = "stop",
                        progress = FALSE),
               "`systems\\$A` \\(source, `X`\\) against `systems\\$C`",
               class = "hotalign_error_input")
  # and by default the workers' failures are recorded, the rest kept
  expect_warning(par_bad <- hot_many(bad, n_perm = 0, seed = 2,
                                     progress = FALSE),
                            "hot\\(\\) failed on 4 of 6 pairs",
                            class = "hotalign_warning")
  expect_equal(nrow(par_bad$failures), 4L)
  expect_identical(par_bad$score["A", "B"], serial$score["A", "B"])
})

test_that("inputs are checked; errors name the system and layer", {
  systems <- many_systems()
  expect_error(hot_many(systems$A), "at least 2 systems|list of layers")
  expect_error(hot_many(systems["A"]), "at least 2 systems, not 1")
  expect_error(hot_many(matrix(1, 3, 3)), "`systems` must be a named list")
  bad <- systems
  bad$B <- bad$B[[1]]
  expect_error(hot_many(bad), "`systems\\$B` must be a list of layers")
  bad <- systems
  bad$C[[2]][4, 1] <- NaN
  expect_error(hot_many(bad), "layer `B4` of `systems\\$C` has 1 NA/NaN/Inf")
  bad <- systems
  bad$C <- lapply(bad$C, function(x) x[-1, ])
  expect_error(hot_many(bad), "`systems\\$A` has 50, `systems\\$C` has 49")
  expect_error(hot_many(systems, seed = 1, X = 1), "`X` cannot be given")
  expect_error(hot_many(systems, 0.3), "must be named")
  expect_error(hot_many(systems, holdot = 0.3), "`...` must hold arguments of hot\\(\\).*`holdot`")
  expect_error(hot_many(systems, pairs = "all"), "should be one of")
  bad <- systems
  bad$C[[1]][, 1] <- 1
  e <- expect_error(hot_many(bad, n_perm = 0, seed = 1, threads = 1,
                             on_error = "stop", progress = FALSE),
                    class = "hotalign_error_input")
  expect_identical(e$message, paste0("hot() of `systems$A` (source, `X`) ",
                                     "against `systems$C` (target, `Y`) failed"))
  expect_identical(e$pair, c("A", "C"))
  expect_identical(e$layer, "B2")
  expect_s3_class(e$parent, "hotalign_error_input")
  expect_match(e$parent$message, "^layer `B2` of `Y` has 1 column constant")
  expect_match(conditionMessage(e),
               "failed\nCaused by error: layer `B2` of `Y`", fixed = TRUE)
  unnamed <- unname(systems[1:2])
  res <- hot_many(unnamed, n_perm = 0, seed = 1, threads = 1,
                  progress = FALSE)
  expect_equal(rownames(res$score), c("S1", "S2"))
})

test_that("print, as.data.frame and the three plots", {
  res <- hot_many(many_systems(), n_perm = 0, seed = 1, threads = 1,
                  progress = FALSE)
  out <- capture.output(r <- print(res))
  expect_identical(r, res)
  expect_match(out[1], "HOT between 3 systems (6 ordered pairs", fixed = TRUE)
  df <- as.data.frame(res)
  expect_equal(names(df), c("source", "target", "objective", "score",
                            "score_se", "pairwise_best", "single_best",
                            "perm_p", "perm_p_value"))
  expect_equal(df$score, res$score[cbind(as.integer(df$source),
                                         as.integer(df$target))])
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_identical(plot(res), res)
  expect_identical(plot(res, type = "objective"), res)
  pts <- plot(res, type = "mds")
  expect_equal(dim(pts), c(3L, 2L))
  # the MDS distances approximate the symmetrised objective
  d <- (res$objective + t(res$objective)) / 2
  expect_lt(max(abs(as.matrix(stats::dist(pts)) - d)), 0.1)
  two <- hot_many(many_systems()[1:2], n_perm = 0, seed = 1, threads = 1,
                  pairs = "unordered", progress = FALSE)
  expect_equal(dim(plot(two, type = "mds")), c(2L, 2L))
})

test_that("a failing fit is recorded, the others kept; on_error = 'stop' stops", {
  systems <- many_systems()
  ok <- hot_many(systems, n_perm = 5, seed = 4, threads = 1, progress = FALSE)
  expect_equal(nrow(ok$failures), 0L)
  expect_named(ok$failures, c("source", "target", "message", "condition"))
  bad <- systems
  bad$C[[1]][, 1] <- 1 # a constant column: every fit with C fails
  expect_warning(
    res <- hot_many(bad, n_perm = 5, seed = 4, threads = 1, progress = FALSE),
    "hot\\(\\) failed on 4 of 6 pairs \\(their results are NA\\), first on `A` -> `C`: layer `B2` of `Y` has 1 column constant",
    class = "hotalign_warning_failure")
  expect_equal(as.character(res$failures$source), c("A", "B", "C", "C"))
  expect_equal(as.character(res$failures$target), c("C", "C", "A", "B"))
  cond <- res$failures$condition[[1]]
  expect_s3_class(cond, "hotalign_error_input")
  expect_equal(cond$pair, c("A", "C"))
  expect_s3_class(cond$parent, "hotalign_error")
  expect_identical(cond$message, paste0("hot() of `systems$A` (source, `X`) ",
                                        "against `systems$C` (target, `Y`) failed"))
  expect_match(res$failures$message[1],
               "failed\nCaused by error: layer `B2` of `Y`", fixed = TRUE)
  # finished fits are kept, exactly as in a run without the bad system
  expect_identical(res$score["A", "B"], ok$score["A", "B"])
  expect_identical(res$plans[["B -> A"]], ok$plans[["B -> A"]])
  expect_true(is.na(res$score["A", "C"]) && is.na(res$objective["C", "B"]))
  expect_true(all(is.na(res$pairs[res$pairs$target == "C", "score"])))
  out <- capture.output(print(res))
  expect_true(any(grepl("^4 pairs failed \\(NA above; see `\\$failures`\\):", out)))
  expect_true(any(grepl("^  A -> C: hot\\(\\) of `systems\\$A`", out)))
  expect_error(hot_many(bad, n_perm = 5, seed = 4, threads = 1,
                        on_error = "stop", progress = FALSE),
               "hot\\(\\) of `systems\\$A` \\(source, `X`\\) against `systems\\$C`",
               class = "hotalign_error_input")
  expect_error(hot_many(systems, on_error = "skip"), "should be one of")
})
