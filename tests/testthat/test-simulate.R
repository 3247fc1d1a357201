test_that("simulate_hierarchy() returns layers of the asked shapes and names", {
  sim <- simulate_hierarchy(n_stimuli = 50, source_layers = 3,
                            target_layers = 7, source_units = c(5, 9, 12),
                            target_units = 2:8, seed = 1)
  expect_named(sim, c("X", "Y", "truth", "block", "unit_source"))
  expect_named(sim$X, c("A1", "A2", "A3"))
  expect_named(sim$Y, paste0("B", 1:7))
  expect_equal(unname(vapply(sim$X, ncol, 1L)), c(5L, 9L, 12L))
  expect_equal(unname(vapply(sim$Y, ncol, 1L)), 2:8)
  expect_true(all(vapply(c(sim$X, sim$Y), nrow, 1L) == 50L))
  expect_true(all(vapply(c(sim$X, sim$Y), is.double, TRUE)))
  expect_true(all(vapply(c(sim$X, sim$Y), function(z) all(is.finite(z)),
                         TRUE)))
  expect_equal(colnames(sim$X$A2), paste0("A2_", 1:9))
  expect_equal(colnames(sim$Y$B7), paste0("B7_", 1:8))
  expect_equal(dimnames(sim$truth),
               list(source = c("A1", "A2", "A3"), target = paste0("B", 1:7)))
  expect_named(sim$unit_source, paste0("B", 1:7))
  expect_equal(unname(lengths(sim$unit_source)), 2:8)
})

test_that("simulate_hierarchy() truth rows sum to 1 and live in consecutive blocks", {
  sim <- simulate_hierarchy(n_stimuli = 30, source_layers = 3,
                            target_layers = 7, source_units = c(5, 9, 12),
                            target_units = 4, seed = 2)
  expect_equal(unname(rowSums(sim$truth)), rep(1, 3))
  expect_true(all(sim$truth >= 0))
  # every target layer re-encodes exactly one source layer, in order
  expect_equal(unname(colSums(sim$truth > 0)), rep(1L, 7))
  expect_equal(unname(apply(sim$truth, 2, which.max)), unname(sim$block))
  expect_false(is.unsorted(sim$block))
  expect_equal(unname(sim$block), c(1L, 1L, 2L, 2L, 3L, 3L, 3L))
  # shares are unit counts: A1's 5 units split 3 + 2 over B1, B2
  expect_equal(unname(sim$truth[1, 1:2]), c(3, 2) / 5)
  expect_equal(unname(sim$truth[3, 5:7]), c(4, 4, 4) / 12)
})

test_that("simulate_hierarchy() truth / L is a uniform coupling for even splits", {
  sim <- simulate_hierarchy(n_stimuli = 20, seed = 3)
  expect_equal(dim(sim$truth), c(4L, 8L))
  p <- sim$truth / 4
  expect_equal(unname(rowSums(p)), rep(1 / 4, 4))
  expect_equal(unname(colSums(p)), rep(1 / 8, 8))
  expect_equal(unname(sim$truth[cbind(c(1, 1, 2, 2, 3, 3, 4, 4), 1:8)]),
               rep(0.5, 8))
})

test_that("simulate_hierarchy() target units copy the source units they claim", {
  sim <- simulate_hierarchy(n_stimuli = 40, source_layers = 2,
                            target_layers = 5, source_units = c(6, 7),
                            target_units = c(4, 2, 3, 6, 9), noise = 0,
                            seed = 4)
  for (m in names(sim$Y)) {
    l <- sim$block[[m]]
    src <- sim$X[[l]][, sim$unit_source[[m]], drop = FALSE]
    expect_equal(unname(sim$Y[[m]]), unname(src))
  }
  # with enough units every unit of a target layer's share is copied, and
  # the shares of a block partition the source layer
  for (l in 1:2) {
    targets <- which(sim$block == l)
    copied <- unlist(sim$unit_source[targets])
    if (all(lengths(sim$unit_source[targets]) >=
            round(sim$truth[l, targets] * ncol(sim$X[[l]])))) {
      expect_setequal(copied, seq_len(ncol(sim$X[[l]])))
    }
  }
})

test_that("simulate_hierarchy() noise sets the copy correlation", {
  sim <- simulate_hierarchy(n_stimuli = 4000, source_layers = 1,
                            target_layers = 1, source_units = 3,
                            target_units = 3, noise = 0.5, seed = 5)
  i <- sim$unit_source$B1
  r <- diag(cor(sim$Y$B1, sim$X$A1[, i]))
  expect_equal(unname(r), rep(1 / (1 + 0.5^2), 3), tolerance = 0.05)
})

test_that("simulate_hierarchy() is reproducible with a seed and restores the random state", {
  a <- simulate_hierarchy(n_stimuli = 20, seed = 10)
  b <- simulate_hierarchy(n_stimuli = 20, seed = 10)
  expect_identical(a, b)
  expect_false(identical(a$X, simulate_hierarchy(n_stimuli = 20,
                                                   seed = 11)$X))
  set.seed(99)
  u1 <- stats::runif(3)
  set.seed(99)
  simulate_hierarchy(n_stimuli = 20, seed = 10)
  u2 <- stats::runif(3)
  expect_identical(u1, u2)
  # without a seed it draws from the session's stream
  set.seed(7)
  c1 <- simulate_hierarchy(n_stimuli = 20)
  set.seed(7)
  c2 <- simulate_hierarchy(n_stimuli = 20)
  expect_identical(c1, c2)
})

test_that("simulate_hierarchy() with equal depths gives a diagonal truth", {
  sim <- simulate_hierarchy(n_stimuli = 20, source_layers = 3,
                            target_layers = 3, seed = 1)
  expect_equal(unname(sim$truth), diag(3))
  sim0 <- simulate_hierarchy(n_stimuli = 20, source_layers = 3,
                             target_layers = 3, inheritance = 0, seed = 1)
  expect_equal(unname(sim0$truth), diag(3))
})

test_that("simulate_hierarchy() refuses bad arguments, naming them", {
  expect_error(simulate_hierarchy(n_stimuli = 1), "`n_stimuli`")
  expect_error(simulate_hierarchy(n_stimuli = 10.5), "`n_stimuli`")
  expect_error(simulate_hierarchy(n_stimuli = NA), "`n_stimuli`")
  expect_error(simulate_hierarchy(source_layers = 0), "`source_layers`")
  expect_error(simulate_hierarchy(target_layers = "8"), "`target_layers`")
  expect_error(simulate_hierarchy(source_layers = 4, target_layers = 3),
               "`target_layers`")
  expect_error(simulate_hierarchy(source_units = c(10, 20)), "`source_units`")
  expect_error(simulate_hierarchy(target_units = 0), "`target_units`")
  expect_error(simulate_hierarchy(noise = -1), "`noise`")
  expect_error(simulate_hierarchy(noise = c(1, 2)), "`noise`")
  expect_error(simulate_hierarchy(inheritance = 1), "`inheritance`")
  expect_error(simulate_hierarchy(seed = "a"), "`seed`")
  expect_error(simulate_hierarchy(source_layers = 2, target_layers = 8,
                                  source_units = c(3, 10)),
               "`source_units` of layer `A1`")
  # messages have no trailing period
  err <- tryCatch(simulate_hierarchy(noise = -1), error = identity)
  expect_false(grepl("\\.$", conditionMessage(err)))
})

test_that("hot_example is the documented simulation", {
  expect_named(hot_example, c("X", "Y", "truth", "block", "unit_source"))
  expect_equal(unname(vapply(hot_example$X, dim, integer(2))),
               matrix(c(200L, 30L), 2, 4))
  expect_equal(unname(vapply(hot_example$Y, dim, integer(2))),
               matrix(c(200L, 20L), 2, 8))
  expect_equal(unname(rowSums(hot_example$truth)), rep(1, 4))
  regenerated <- simulate_hierarchy(seed = 20251002)
  expect_equal(hot_example$truth, regenerated$truth)
  expect_equal(hot_example$X$A1, round(regenerated$X$A1, 2))
})

test_that("simulate_hierarchy() refuses a simulation too large for memory before drawing", {
  # 2^31 - 1 stimuli pass the whole-number check; the layers alone would need
  # 8 * (2^31 - 1) * 2 * (4 * 30 + 8 * 20) bytes (about 9 TiB)
  had <- exists(".Random.seed", envir = globalenv())
  old <- if (had) get(".Random.seed", envir = globalenv())
  e <- expect_error(simulate_hierarchy(n_stimuli = 2^31 - 1, seed = 1),
                    "simulate_hierarchy\\(\\) with `n_stimuli = 2147483647` needs about",
                    class = "hotalign_error_memory")
  expect_gt(e$bytes, 8 * (2^31 - 1) * 2 * (4 * 30 + 8 * 20) - 1)
  # nothing was drawn: the caller's stream is as it was
  expect_identical(exists(".Random.seed", envir = globalenv()), had)
  if (had) expect_identical(get(".Random.seed", envir = globalenv()), old)
  # repeats multiply the need
  e2 <- expect_error(simulate_hierarchy(n_stimuli = 2^31 - 1, repeats = 4),
                     class = "hotalign_error_memory")
  expect_gt(e2$bytes, e$bytes)
})
