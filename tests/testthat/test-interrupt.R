# Ctrl-C: a long hot() in a child R process receives SIGINT; it must stop
# within a second (interrupts are checked between slices of work on the main
# thread), raise R's interrupt condition, and leave the session usable.

test_that("a long hot() stops within 1 s of SIGINT and the next call works", {
  skip_on_cran()
  skip_on_os("windows")
  # 64 pairs of 3000 x 3000 take about 10 s on 2 cores here (3 x 3 pairs of
  # 2000 units once did, before the solver and the cost kernel got faster)
  out <- interrupt_child(
    setup = c("set.seed(1)", "T <- 300",
              "X <- lapply(1:8, function(i) matrix(rnorm(T * 3000), T))",
              "Y <- lapply(1:8, function(i) matrix(rnorm(T * 3000), T))"),
    long = "hot(X, Y, n_perm = 0, threads = 2, seed = 1)",
    after = paste("hot(list(a = X[[1]][, 1:20]), list(b = Y[[1]][, 1:30]),",
                  "n_perm = 0, threads = 2, seed = 1)$objective"))
  expect_interrupted_within(out, 1)
  # the session goes on: the next fit gives what a fresh session gives
  set.seed(1)
  T <- 300
  X <- lapply(1:8, function(i) matrix(rnorm(T * 3000), T))
  Y <- lapply(1:8, function(i) matrix(rnorm(T * 3000), T))
  small <- hot(list(a = X[[1]][, 1:20]), list(b = Y[[1]][, 1:30]),
               n_perm = 0, threads = 2, seed = 1)
  expect_identical(as.numeric(out$result[2]), small$objective)
})

test_that("a long HOT+R descent stops within 1 s of SIGINT", {
  skip_on_cran()
  skip_on_os("windows")
  # one pair, 1236 x 2028 tuned units over 92 stimuli (a wide CNN layer):
  # about 100 descent iterations of ~0.05 s, 5 s here, which before the
  # descent was sliced ran whole between two interrupt checks
  out <- interrupt_child(
    setup = c("set.seed(1)", "T <- 92", "s <- matrix(rnorm(T * 2), T)",
              paste("hh <- function(x) { for (k in 1:40) { v <- rnorm(ncol(x));",
                    "v <- v / sqrt(sum(v^2)); x <- x - 2 * (x %*% v) %*% t(v) }; x }"),
              paste("tl <- function(n, w) { C <- matrix(runif(2 * n, -2, 2), n);",
                    "d2 <- outer(rowSums(s^2), rowSums(C^2), '+') - 2 * s %*% t(C);",
                    "hh(exp(-d2 / (2 * w^2)) + 0.2 * matrix(rnorm(T * n), T)) }"),
              "X <- list(a = tl(1236, 0.6))", "Y <- list(b = tl(2028, 0.8))"),
    long = paste("hot(X, Y, rotation = TRUE, n_perm = 0, threads = 2, seed = 1,",
                 "max_iter = 2000, tol = 0)"),
    after = paste("hot(list(a = X[[1]][, 1:20]), list(b = Y[[1]][, 1:30]),",
                  "rotation = TRUE, n_perm = 0, threads = 2, seed = 1)$objective"))
  expect_interrupted_within(out, 1)
  # the session goes on: the next HOT+R fit completes
  expect_true(is.finite(as.numeric(out$result[2])))
})
