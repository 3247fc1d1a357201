# Property / fuzz tests of every .Call entry point (src/init.c) and every
# exported function: random shapes, non-finite values, wrong types and sizes,
# infeasible marginals. The contract: never a crash; either a clear R error
# (matched by its message here) or a correct answer (checked here).
# Fixed seed, bounded number of cases.

C <- function(name) getFromNamespace(paste0("C_ffi_", name), "hotalign")

# A valid optimal plan of min <cost, F> with masses a, b: feasible, a vertex,
# and certified optimal by the returned potentials.
expect_certified_plan <- function(res, cost, a, b, scale = 1) {
  tol <- 1e-9 * max(1, abs(cost))
  F <- matrix(0, nrow(cost), ncol(cost))
  F[cbind(res$i, res$j)] <- res$x
  expect_true(all(res$x >= 0))
  expect_equal(rowSums(F), a * scale, tolerance = 1e-9)
  expect_equal(colSums(F), b * scale, tolerance = 1e-9)
  expect_lte(length(res$x), nrow(cost) + ncol(cost) - 1L)
  red <- cost - outer(res$u, res$v, "+")
  expect_gte(min(red), -tol)
  expect_lt(max(abs(red[cbind(res$i, res$j)])), tol)
  expect_equal(res$cost, sum(F * cost), tolerance = 1e-9)
}

# Bad values substituted for one argument of a valid .Call at a time.
bad_values <- list(
  null = NULL, chr = "a", chr_mat = matrix("a", 2, 2), list1 = list(1),
  int = 1L, int_mat = matrix(1L, 3, 2), lgl = NA, dbl_vec = c(1, 2, 3),
  dbl_na = NA_real_, empty = numeric(0), empty_mat = matrix(0, 0, 0),
  zero_col = matrix(0, 3, 0), fun = sum
)

# Every error a wrapper or R's own argument matching may give: the messages of
# the ffi_* checks (never R's internal "REAL() can only be applied ...").
wrapper_error <- paste(
  c("ffi_ot_exact", "ffi_sinkhorn", "expected a double (matrix|vector)", "row ind", "out of range",
    "no training rows", "do not fit", "correlation_cost: expected",
    "must be a non-empty list", "must be a double matrix", "has \\d+ rows",
    "must be a single", "must be a whole", "`pairs`", "`W` must",
    "`inner`", "`rotations", "`n_source`", "too many", "`(train|test|perms)`",
    "`mode` must", "`weights` must", "`Xs", "`a` and `b` must", "`bound` must"),
  collapse = "|")

# A valid set of arguments of every entry point, and a check of its answer.
set.seed(20261124)
Xs <- list(matrix(rnorm(12), 6, 2), matrix(rnorm(18), 6, 3))
Ys <- list(matrix(rnorm(24), 6, 4))
split_args <- list(Xs, Ys, 1:4, 5:6, matrix(1:2, 2, 2), FALSE, FALSE, 0L, 0, 1L,
                   FALSE, 0L)
valid_inner <- do.call(.Call, c(list(C("hot_split")), split_args))$inner
inner4 <- valid_inner[c("i", "j", "x", "start")]
W <- matrix(0.5, 2, 1)
entry_points <- list(
  ot_exact = list(args = list(matrix(runif(6), 2, 3), c(3, 3), c(2, 2, 2), 1 / 6, 0L),
                  ok = function(r) is.list(r) && r$status %in% 0:3),
  col_stats = list(args = list(matrix(rnorm(8), 4, 2), 1:4),
                   ok = function(r) is.list(r) &&
                     identical(names(r), c("center", "scale", "constant"))),
  standardise = list(args = list(matrix(rnorm(8), 4, 2), 1:4, 1:2, c(0, 0), c(1, 1), 2L),
                     ok = function(r) is.matrix(r)),
  nonfinite = list(args = list(matrix(c(1, NA, Inf, 2), 2, 2)),
                   # c(count, first, max |x|) per vector (a 3 x K matrix
                   # for a list of K): max |x| is NaN when a value is not finite
                   ok = function(r) is.double(r) && length(r) %% 3L == 0L &&
                     all(vapply(split(r, rep(seq_len(length(r) %/% 3L), each = 3L)),
                                function(q) all(q[1:2] >= 0) &&
                                  (q[1] == 0) == (q[2] == 0) &&
                                  is.nan(q[3]) == (q[1] > 0) &&
                                  (is.nan(q[3]) || q[3] >= 0), TRUE))),
  correlation_cost = list(args = list(matrix(rnorm(8), 4, 2), matrix(rnorm(12), 4, 3), 0L),
                          ok = function(r) is.matrix(r) && is.double(r)),
  inner_plans = list(args = list(Xs, Ys, 1L, FALSE, FALSE, 0L, 0),
                     ok = function(r) is.matrix(r$cost) && all(r$status == 0)),
  hot_split = list(args = split_args,
                   # status 1: constant training columns (duplicated rows)
                   ok = function(r) is.list(r) && (r$status == 1L ||
                     (r$status == 0L && all(r$inner$status == 0L)))),
  rotation_pairs = list(args = list(Xs, Ys, 1:2, 3L, 1e-8, 1L, FALSE),
                        ok = function(r) length(r$rotations) == length(r$status)),
  reconstruct_scores = list(args = list(Xs, Ys, inner4, W, NULL, FALSE, c(2L, 3L), NULL),
                            ok = function(r) is.list(r) && length(r) == 3),
  correlations = list(args = list(matrix(rnorm(8), 4, 2), matrix(rnorm(8), 4, 2), NULL),
                      ok = function(r) is.double(r) && length(r) == 2L),
  sinkhorn = list(args = list(matrix(runif(6), 2, 3), c(0.5, 0.5), rep(1 / 3, 3), 0.1,
                              1e-9, 100L),
                  ok = function(r) is.list(r) && is.matrix(r$plan) && all(is.finite(r$plan)))
)

test_that("every .Call entry point answers its valid arguments correctly", {
  for (nm in names(entry_points)) {
    ep <- entry_points[[nm]]
    expect_true(ep$ok(do.call(.Call, c(list(C(nm)), ep$args))), label = nm)
  }
  expect_true(.Call(C("threads_available")) >= 1L)
  expect_true(is.logical(.Call(C("has_openmp"))))
  expect_identical(.Call(C("nonfinite"), matrix(c(1, NA, Inf, 2), 2, 2)), c(2, 2, NaN))
  expect_identical(.Call(C("nonfinite"), c(1, 2, NaN)), c(1, 3, NaN))
  expect_identical(.Call(C("nonfinite"), numeric(0)), c(0, 0, 0))
  expect_error(.Call(C("threads_available"), 1), "arguments")
  expect_error(.Call(C("ot_exact"), matrix(1)), "arguments")
})

test_that("the non-finite scan reports max |x| exactly, at every position and length", {
  # the largest magnitude placed at each position of vectors of 1..40 values
  # (the 16-lane AVX2 loop and its scalar tail), with either sign, among
  # -0, subnormals and values of every size; and a large matrix
  set.seed(31)
  for (len in 1:40) for (pos in seq_len(len)) {
    x <- c(-0, 5e-324, -2.2e-308, 1, -3, 1e-300)[(seq_len(len) %% 6) + 1]
    x[pos] <- if (pos %% 2) -1e300 else 1e300
    expect_identical(.Call(C("nonfinite"), x), c(0, 0, 1e300),
                     label = paste(len, pos))
  }
  x <- matrix(rnorm(1003 * 7), 1003)
  expect_identical(.Call(C("nonfinite"), x), c(0, 0, max(abs(x))))
  expect_identical(.Call(C("nonfinite"), c(-0, -0)), c(0, 0, 0))
  expect_identical(.Call(C("nonfinite"), .Machine$double.xmax * c(1, -1)),
                   c(0, 0, .Machine$double.xmax))
  x[500, 3] <- -Inf
  expect_identical(.Call(C("nonfinite"), x), c(1, 500 + 2 * 1003, NaN))
  # a list of layers: one column per layer
  expect_identical(.Call(C("nonfinite"), list(c(2, -7), c(NA, 1))),
                   cbind(c(0, 0, 7), c(1, 1, NaN)))
})

test_that("ffi_blas_threads reads, sets and restores, and refuses bad counts", {
  old <- .Call(C("blas_threads"), NA_integer_)
  expect_true(is.integer(old) && length(old) == 1L && (is.na(old) || old >= 1L))
  if (!is.na(old)) {
    expect_identical(.Call(C("blas_threads"), 1L), old)
    expect_identical(.Call(C("blas_threads"), NA_integer_), 1L)
    .Call(C("blas_threads"), old)
    expect_identical(.Call(C("blas_threads"), NA_integer_), old)
  }
  for (bad in list(0L, -1L, 1.5, "a", NULL, 1:2)) {
    expect_error(.Call(C("blas_threads"), bad), "`n` must")
  }
  expect_identical(.Call(C("blas_threads"), NA_integer_), old)
  # hot() holds the BLAS at one thread around its pair loop and restores it
  set.seed(3)
  X <- list(matrix(stats::rnorm(60), 20, 3))
  hot(X, X, n_perm = 0, progress = FALSE)
  expect_identical(.Call(C("blas_threads"), NA_integer_), old)
})

test_that("every .Call entry point refuses a mistyped or mis-sized argument", {
  # one argument replaced at a time by each bad value: an error from the
  # wrapper's checks, or (arguments coerced by design: threads, progress,
  # flags) an answer that is still valid
  for (nm in names(entry_points)) {
    ep <- entry_points[[nm]]
    for (pos in seq_along(ep$args)) {
      for (bad in names(bad_values)) {
        args <- ep$args
        args[pos] <- list(bad_values[[bad]])
        # (coercions such as threads = "a" -> 1 warn; that is not the point)
        res <- tryCatch(suppressWarnings(do.call(.Call, c(list(C(nm)), args))),
                        error = function(e) e)
        what <- paste0(nm, " argument ", pos, " = ", bad)
        if (inherits(res, "error")) {
          expect_match(conditionMessage(res), wrapper_error, label = what)
        } else {
          expect_true(ep$ok(res), label = what)
        }
      }
    }
  }
})

test_that(".Call entry points refuse out-of-range indices and inconsistent plans", {
  expect_error(.Call(C("col_stats"), matrix(1, 2, 2), 3L), "out of range")
  expect_error(.Call(C("col_stats"), matrix(1, 2, 2), c(1L, NA)), "out of range")
  expect_error(.Call(C("standardise"), matrix(1, 2, 2), 1:2, c(1L, 3L), c(0, 0),
                     c(1, 1), 1L), "out of range")
  expect_error(.Call(C("standardise"), matrix(1, 2, 2), 0L, 1:2, c(0, 0),
                     c(1, 1), 1L), "out of range")
  expect_error(.Call(C("correlation_cost"), matrix(1, 2, 2), matrix(1, 3, 2), 0L),
               "equal rows")
  # layers with different row counts, empty lists, zero-width layers
  split <- function(pos, value) {
    args <- split_args
    args[pos] <- list(value)
    do.call(.Call, c(list(C("hot_split")), args))
  }
  expect_error(split(1, list(matrix(1, 5, 2))), "has 6 rows, not 5")
  expect_error(split(1, list()), "non-empty list")
  expect_error(split(2, list(matrix(0, 6, 0))), "at least one column")
  expect_error(split(8, NA_integer_), "max_iter")
  expect_error(split(9, NaN), "tol")
  expect_error(split(8, -1L), "max_iter")
  expect_error(split(3, c(1L, 7L)), "`train` has row index 7 outside 1..6")
  expect_error(split(4, c(0L, 2L)), "`test` has row index 0")
  expect_error(split(5, matrix(c(1L, 3L), 2, 1)), "`perms` has an entry outside")
  # rotation pairs: outside 1..L*M, NA, duplicated (two threads on one pair)
  for (p in list(0L, 3L, NA_integer_, c(1L, 1L), 1.5)) {
    expect_error(.Call(C("rotation_pairs"), Xs, Ys, p, 2L, 1e-8, 1L, FALSE),
                 "`pairs`")
  }
  res <- .Call(C("rotation_pairs"), Xs, Ys, integer(0), 2L, 1e-8, 1L, FALSE)
  expect_length(res$rotations, 0L)
  # inner plans whose entries point outside the layers or past the triplets
  bad_i <- inner4
  bad_i$i[1] <- 99L
  bad_j <- inner4
  bad_j$j[2] <- 0L
  bad_start <- inner4
  bad_start$start[3] <- bad_start$start[3] + 100
  short_start <- inner4
  short_start$start <- short_start$start[-1]
  dec_start <- inner4
  dec_start$start[2] <- -1
  for (inn in list(bad_i, bad_j, bad_start, short_start, dec_start,
                   inner4[1:3], unname(lapply(inner4, as.character)))) {
    expect_error(.Call(C("reconstruct_scores"), Xs, Ys, inn, W, NULL, FALSE,
                       c(2L, 3L), NULL), "`inner")
  }
  expect_error(.Call(C("reconstruct_scores"), NULL, Ys, inner4, W, NULL, FALSE,
                     c(2L, 1L), NULL), "outside the units")
  expect_error(.Call(C("reconstruct_scores"), Xs, Ys, inner4, W, NULL, FALSE,
                     c(2L, NA), NULL), "n_source")
  expect_error(.Call(C("reconstruct_scores"), Xs, Ys, inner4, W, NULL, FALSE,
                     c(2L, 2L), NULL), "`Xs\\[\\[2\\]\\]` must have 2 columns")
  expect_error(.Call(C("reconstruct_scores"), Xs, Ys, inner4, matrix(0.5, 1, 1),
                     NULL, FALSE, c(2L, 3L), NULL), "`W` must")
  expect_error(.Call(C("reconstruct_scores"), Xs, list(matrix(1, 4, 4)), inner4,
                     W, NULL, FALSE, c(2L, 3L), NULL), "has 6 rows, not 4")
  for (w in list(matrix(-1, 6, 2), matrix(1, 5, 2), matrix(NA_real_, 6, 1), "a")) {
    expect_error(.Call(C("reconstruct_scores"), Xs, Ys, inner4, W, NULL, FALSE,
                       c(2L, 3L), w), "`weights` must")
  }
  # rotations: wrong count, wrong size, wrong type
  for (rot in list(list(NULL), list(diag(3), NULL), list(NULL, diag(2)),
                   list(NULL, matrix(1L, 3, 3)), "a")) {
    expect_error(.Call(C("reconstruct_scores"), Xs, Ys, inner4, W, rot, FALSE,
                       c(2L, 3L), NULL), "`rotations")
  }
  ok <- .Call(C("reconstruct_scores"), Xs, Ys, inner4, W, list(diag(2), diag(3)), TRUE,
              c(2L, 3L), NULL)
  expect_equal(ok, .Call(C("reconstruct_scores"), Xs, Ys, inner4, W, NULL, TRUE,
                         c(2L, 3L), NULL))
})

test_that("ffi_ot_exact reports non-finite costs and infeasible masses by status", {
  run <- function(cost, a, b) .Call(C("ot_exact"), cost, a, b, 1, 0L)$status
  expect_false(run(matrix(NaN, 2, 2), c(1, 1), c(1, 1)) == 0L)
  expect_false(run(matrix(c(1, Inf, 2, 3), 2, 2), c(1, 1), c(1, 1)) == 0L)
  expect_false(run(matrix(1, 2, 2), c(NaN, 1), c(1, 1)) == 0L)
  expect_false(run(matrix(1, 2, 2), c(-1, 3), c(1, 1)) == 0L)
  expect_equal(run(matrix(1, 2, 2), c(1, 1), c(5, 1)), 2L)
  expect_false(run(matrix(1, 2, 2), c(Inf, 1), c(Inf, 1)) == 0L)
  expect_error(.Call(C("ot_exact"), matrix(1, 2, 2), c(1, 1), c(1, 1), "a", 0L),
               "ffi_ot_exact")
  expect_error(.Call(C("ot_exact"), matrix(1, 2, 2), c(1, 1), c(1, 1), 1, 5L),
               "ffi_ot_exact")
  # square uniform problems (the assignment solver) and pricing 3 (the simplex)
  expect_false(run(matrix(NaN, 3, 3), rep(1, 3), rep(1, 3)) == 0L)
  expect_false(run(matrix(c(1, Inf, 2, 3), 2, 2), c(2, 2), c(2, 2)) == 0L)
  expect_false(.Call(C("ot_exact"), matrix(NaN, 2, 2), c(1, 1), c(1, 1), 1, 3L)$status == 0L)
  # one bad value anywhere in a larger cost (the vector loop of the scan,
  # not only its tail), square and not
  set.seed(5)
  for (dims in list(c(40L, 40L), c(37L, 53L))) {
    ok <- matrix(runif(prod(dims)), dims[1])
    expect_identical(run(ok, rep(1, dims[1]), rep(dims[1] / dims[2], dims[2])), 0L)
    for (pos in c(1L, 17L, 333L, prod(dims))) for (bad in c(NA, NaN, Inf, -Inf)) {
      cost <- ok
      cost[pos] <- bad
      expect_false(run(cost, rep(1, dims[1]), rep(dims[1] / dims[2], dims[2])) == 0L,
                   label = paste(dims[1], pos, bad))
    }
  }
})

test_that("ot_exact: random feasible problems give certified optimal vertices", {
  set.seed(1)
  for (case in 1:40) {
    n <- sample(c(1, 1, 2, 3, 5, 8), 1)
    m <- sample(c(1, 2, 3, 5, 8), 1)
    cost <- matrix(switch(case %% 3 + 1, rnorm(n * m),
                          sample(0:2, n * m, TRUE),  # ties
                          runif(n * m) * 10^sample(-3:3, 1)), n, m)
    if (case %% 2) {
      res <- ot_exact(cost)
      a <- rep(1 / n, n)
      b <- rep(1 / m, m)
    } else {
      a <- runif(n) * (runif(n) > 0.3)
      if (sum(a) == 0) a[1] <- 1
      b <- runif(m) + 0.01
      b <- b / sum(b) * sum(a)
      res <- ot_exact(cost, a, b)
    }
    P <- as.matrix(res$plan)
    F <- list(i = row(P)[P > 0], j = col(P)[P > 0], x = P[P > 0], u = res$u,
              v = res$v, cost = res$cost)
    expect_certified_plan(F, cost, a, b)
  }
})

test_that("ot_exact refuses bad costs and marginals with a clear error", {
  cost <- matrix(1:6 / 6, 2, 3)
  expect_error(ot_exact("a"), "`cost` must be a numeric matrix")
  expect_error(ot_exact(NULL), "`cost` must be a numeric matrix")
  expect_error(ot_exact(list(1, 2)), "`cost` must be a numeric matrix")
  expect_error(ot_exact(1:3), "`cost` must be a numeric matrix")
  expect_error(ot_exact(matrix(0, 0, 3)), "at least one row and one column")
  expect_error(ot_exact(matrix(0, 3, 0)), "at least one row and one column")
  for (v in c(NA, NaN, Inf, -Inf)) {
    bad <- cost
    bad[2, 2] <- v
    expect_error(ot_exact(bad), "NA/NaN/Inf value \\(first at row 2, column 2\\)")
  }
  expect_error(ot_exact(cost, a = c(1, NA)), "`a` has NA/NaN/Inf")
  expect_error(ot_exact(cost, b = c(1, Inf, 1)), "`b` has NA/NaN/Inf")
  expect_error(ot_exact(cost, a = c(1, -1)), "negative")
  expect_error(ot_exact(cost, a = c(0, 0)), "no mass")
  expect_error(ot_exact(cost, a = 1), "length 2")
  expect_error(ot_exact(cost, b = "a"), "numeric vector of length 3")
  expect_error(ot_exact(cost, a = list(1, 1)), "numeric vector of length 2")
  expect_error(ot_exact(cost, a = c(1, 1), b = c(1, 1, 1)), "equal sums")
  expect_error(ot_exact(cost, a = c(1, 1), b = c(1e300, 1e300, 1e300)),
               "equal sums")
  # integer and logical costs are converted, not refused
  expect_equal(ot_exact(matrix(c(0L, 1L, 1L, 0L), 2))$cost, 0)
  expect_equal(ot_exact(matrix(c(TRUE, FALSE, FALSE, TRUE), 2))$cost, 0)
  # 1 x 1
  r <- ot_exact(matrix(7))
  expect_equal(r$cost, 7)
  expect_equal(as.matrix(r$plan), matrix(1))
})

test_that("large problems are refused before allocating (hotalign.max_memory)", {
  old <- options(hotalign.max_memory = 1e4)
  on.exit(options(old))
  expect_error(ot_exact(matrix(0, 100, 100)), "working memory")
  A <- matrix(rnorm(20 * 60), 20, 60)
  expect_error(correlation_cost(A, A), "working memory")
  expect_error(soft_matching(A, A), "working memory")
  expect_error(hot(list(A), list(A), n_perm = 0, threads = 1), "working memory")
  expect_error(layer_similarity(list(A), list(A)), "working memory")
  options(hotalign.max_memory = 1e9)
  expect_s3_class(ot_exact(matrix(0, 100, 100)), "ot_plan")
})

test_that("correlation_cost and soft_matching: random shapes and bad inputs", {
  set.seed(2)
  for (case in 1:15) {
    t <- sample(2:9, 1)
    n <- sample(1:6, 1)
    m <- sample(1:6, 1)
    A <- matrix(rnorm(t * n), t, n)
    B <- matrix(rnorm(t * m), t, m)
    expect_lt(max(abs(correlation_cost(A, B) - (1 - cor(A, B)))), 1e-12)
    sm <- soft_matching(A, B)
    P <- as.matrix(sm$plan)
    expect_equal(rowSums(P), rep(1 / n, n))
    expect_equal(colSums(P), rep(1 / m, m))
    expect_equal(sm$cost, sum(P * (1 - cor(A, B))), tolerance = 1e-12)
  }
  A <- matrix(rnorm(20), 10, 2)
  for (f in list(correlation_cost, soft_matching)) {
    expect_error(f(A, matrix(rnorm(9), 9, 1)), "same stimuli")
    expect_error(f(A[1, , drop = FALSE], A[1, , drop = FALSE]), "at least 2 stimuli")
    expect_error(f(A, "a"), "`B` must be a numeric matrix")
    expect_error(f(list(A), A), "`A` must be a numeric matrix")
    expect_error(f(NULL, A), "`A` must be a numeric matrix")
    expect_error(f(A, A[, 0]), "no units")
    expect_error(f(A[0, ], A), "no units|no stimuli")
    bad <- A
    bad[3, 1] <- NaN
    expect_error(f(bad, A), "`A` has 1 NA/NaN/Inf")
    expect_error(f(A, cbind(A, 1)), "constant column")
  }
  # integer data is converted; a plain vector is one unit
  expect_equal(correlation_cost(1:5, c(2L, 1L, 4L, 3L, 5L)),
               1 - cor(1:5, c(2, 1, 4, 3, 5)) + matrix(0, 1, 1))
})

test_that("hot(): random small systems give valid plans; bad inputs are refused", {
  set.seed(3)
  for (case in 1:6) {
    t <- sample(8:14, 1)
    X <- lapply(seq_len(sample(1:3, 1)), function(l) {
      matrix(rnorm(t * sample(1:4, 1)), t)
    })
    Y <- lapply(seq_len(sample(1:3, 1)), function(l) {
      matrix(rnorm(t * sample(1:4, 1)), t)
    })
    fit <- hot(X, Y, n_perm = 3, seed = case, threads = 1,
               rotation = case %% 2 == 0, max_iter = 3)
    L <- length(X)
    M <- length(Y)
    expect_equal(dim(fit$plan), c(L, M))
    expect_equal(unname(rowSums(fit$plan)), rep(1 / L, L))
    expect_equal(unname(colSums(fit$plan)), rep(1 / M, M))
    expect_equal(fit$objective, sum(fit$plan * fit$cost))
    expect_true(all(fit$cost >= -1e-12 & fit$cost <= 2 + 1e-12))
    q <- unit_plan(fit, L, M)
    expect_equal(sum(q), 1)
    expect_equal(dim(q), c(ncol(X[[L]]), ncol(Y[[M]])))
    pr <- predict(fit, Y)
    expect_length(pr, L)
    expect_equal(dim(pr[[1]]), c(t, ncol(X[[1]])))
  }
  X <- list(a = matrix(rnorm(40), 10, 4))
  Y <- list(b = matrix(rnorm(30), 10, 3))
  h <- function(..., threads = 1) hot(..., n_perm = 0, threads = threads)
  expect_error(h(X[[1]], Y), "must be a list of layers")
  expect_error(h(NULL, Y), "must be a list of layers")
  expect_error(h("a", Y), "must be a list of layers")
  expect_error(h(list(), Y), "empty list")
  expect_error(h(list(a = "a"), Y), "must be a numeric matrix")
  expect_error(h(list(a = list(1)), Y), "must be a numeric matrix")
  expect_error(h(list(a = NULL), Y), "must be a numeric matrix")
  expect_error(h(X, list(b = matrix(rnorm(27), 9, 3))), "same stimuli")
  expect_error(h(list(a = X$a, b = X$a[1:9, ]), Y), "same stimuli")
  expect_error(h(list(a = X$a[, 0]), Y), "no units")
  expect_error(h(list(a = X$a[0, ]), Y), "no stimuli")
  expect_error(h(list(a = X$a, a = X$a), Y), "duplicated layer names")
  for (v in c(NA, NaN, Inf, -Inf)) {
    bad <- X
    bad$a[2, 3] <- v
    expect_error(h(bad, Y), "layer `a` of `X` has 1 NA/NaN/Inf value")
  }
  expect_error(h(X, Y, holdout = 1), "`holdout`")
  expect_error(h(X, Y, holdout = NA), "`holdout`")
  expect_error(h(X, Y, splits = 0), "`splits`")
  expect_error(h(X, Y, splits = 1.5), "`splits`")
  expect_error(hot(X, Y, n_perm = -1), "`n_perm`")
  expect_error(hot(X, Y, n_perm = "a"), "`n_perm`")
  expect_error(h(X, Y, threads = 0), "`threads`")
  expect_error(h(X, Y, threads = NA), "`threads`")
  expect_error(h(X, Y, threads = 1:2), "`threads`")
  expect_error(h(X, Y, seed = "a"), "`seed`")
  expect_error(h(X, Y, rotation = NA), "`rotation`")
  expect_error(h(X, Y, rotation = TRUE, max_iter = -1), "`max_iter`")
  expect_error(h(X, Y, rotation = TRUE, tol = NaN), "`tol`")
  expect_error(h(X, Y, test = 11:12), "outside 1..10")
  expect_error(h(X, Y, test = c(1, NA)), "whole-number row indices")
  expect_error(h(X, Y, test = 1), "held-out set of 1")
  expect_error(h(X, Y, test = 1:8), "at least 3 training")
  expect_error(h(X, Y, test = c(TRUE, FALSE)), "logical vector")
  expect_error(h(X, Y, constant = "keep"), "should be one of")
  const <- X
  const$a[, 2] <- 1
  expect_error(h(const, Y), "constant on the training stimuli")
})

test_that("as_layers, layer_similarity, simulate_hierarchy, set_hot_threads refuse bad input", {
  x <- matrix(rnorm(60), 10, 6)
  expect_equal(lengths(as_layers(x, c(1, 1, 2, 2, 2, 3))) / 10, c(2, 3, 1),
               ignore_attr = TRUE)
  expect_error(as_layers(x, 1:5), "one label per column")
  expect_error(as_layers(x, c(1, 1, NA, 2, 2, 2)), "NA labels")
  expect_error(as_layers("a", 1), "must be a numeric matrix")
  expect_error(as_layers(list(1), 1), "must be a numeric matrix")
  x[1, 1] <- Inf
  expect_error(as_layers(x, rep(1, 6)), "NA/NaN/Inf")

  X <- list(a = matrix(rnorm(40), 10, 4))
  for (metric in c("soft_matching", "cka", "rsa", "procrustes", "linear")) {
    s <- layer_similarity(X, X, metric = metric, seed = 1, threads = 1)
    expect_equal(as.matrix(s)[1, 1], 1, tolerance = 1e-6, label = metric)
  }
  expect_error(layer_similarity(X, "a"), "must be a list of layers")
  expect_error(layer_similarity(X, X, metric = "bogus"), "should be one of")
  expect_error(layer_similarity(lapply(X, `[`, 1:2, ), lapply(X, `[`, 1:2, )),
               "at least 3 stimuli")

  expect_error(simulate_hierarchy(n_stimuli = 1), "`n_stimuli`")
  expect_error(simulate_hierarchy(n_stimuli = NA), "`n_stimuli`")
  expect_error(simulate_hierarchy(source_layers = 0), "`source_layers`")
  expect_error(simulate_hierarchy(source_layers = 3, target_layers = 2),
               "at least")
  expect_error(simulate_hierarchy(source_units = c(1, 2)), "`source_units`")
  expect_error(simulate_hierarchy(target_units = -1), "`target_units`")
  expect_error(simulate_hierarchy(noise = Inf), "`noise`")
  sim <- simulate_hierarchy(n_stimuli = 5, source_layers = 1, target_layers = 1,
                            source_units = 1, target_units = 1, seed = 1)
  expect_equal(dim(sim$X[[1]]), c(5L, 1L))

  old <- getOption("hotalign.threads")
  on.exit(options(hotalign.threads = old))
  for (bad in list(0, -1, 1.5, NA, "a", 1:2, Inf, list(1))) {
    expect_error(set_hot_threads(bad), "`n` must be a positive whole number")
  }
  set_hot_threads(1)
  expect_identical(hot_threads(), 1L)
  options(hotalign.threads = "x")
  expect_error(hot_threads(), "option `hotalign.threads`")
})

test_that("predict() and unit_plan() refuse bad layers and new data", {
  set.seed(4)
  X <- list(a = matrix(rnorm(60), 12, 5), b = matrix(rnorm(36), 12, 3))
  Y <- list(c = matrix(rnorm(48), 12, 4))
  fit <- hot(X, Y, n_perm = 0, seed = 1, threads = 1)
  for (bad in list(0, 3, NA, "z", 1.5, c(1, 2), NULL, list(1))) {
    expect_error(unit_plan(fit, bad, 1), "`l` must be a source layer")
  }
  expect_error(unit_plan(fit, 1, 2), "`m` must be a target layer")
  expect_error(unit_plan(list(), 1, 1), "`fit` must be a fit with inner plans")
  expect_equal(unit_plan(fit, "b", "c"), unit_plan(fit, 2, 1))
  expect_error(predict(fit), "`newdata` is missing")
  expect_error(predict(fit, Y$c), "list of target layers")
  expect_error(predict(fit, list()), "one element per target layer")
  expect_error(predict(fit, list(z = Y$c)), "not one of them")
  expect_error(predict(fit, list(c = Y$c[, 1:3])), "c")
  bad <- Y
  bad$c[1, 1] <- NaN
  expect_error(predict(fit, bad), "c")
  expect_error(predict(fit, list(c = matrix("a", 12, 4))), "c")
  expect_error(predict(fit, Y, type = "raw"), "should be one of")
  # one new stimulus and many
  expect_equal(dim(predict(fit, lapply(Y, `[`, 1, , drop = FALSE))$a), c(1L, 5L))
  expect_equal(dim(predict(fit, lapply(Y, function(y) rbind(y, y)))$b), c(24L, 3L))
})

# --- issue 12: counts beyond the integer range, magnitudes near the double
# limits, and the silent wrong answers found by a hostile user -------------

fuzz12_systems <- function() {
  set.seed(12)
  list(X = list(a = matrix(rnorm(40 * 5), 40), b = matrix(rnorm(40 * 3), 40)),
       Y = list(c = matrix(rnorm(40 * 4), 40), d = matrix(rnorm(40 * 3), 40)))
}

test_that("counts of 2^31 or more and bad seeds are refused with classed errors", {
  s <- fuzz12_systems()
  X <- s$X
  Y <- s$Y
  huge <- list(n_perm = 1e12, splits = 1e10, threads = 2^31, max_iter = 2^31)
  for (arg in names(huge)) {
    args <- c(list(X, Y), huge[arg])
    expect_error(do.call(hot, args), paste0("`", arg, "` must be a "),
                 class = "hotalign_error_input", info = arg)
  }
  expect_error(hot(X, Y, n_perm = 2^31), "<= 2147483647, not 2147483648",
               class = "hotalign_error_input")
  for (seed in list(1.5, 2^31, -2^31, 1e300, NaN, "1")) {
    expect_error(hot(X, Y, seed = seed), "`seed` must be a single number",
                 class = "hotalign_error_input", info = format(seed))
    expect_error(hot_many(list(A = X, B = Y), seed = seed), "`seed`",
                 class = "hotalign_error_input")
    expect_error(layer_similarity(X, Y, seed = seed), "`seed`",
                 class = "hotalign_error_input")
    expect_error(hot_trajectory(list(X), list(Y), seed = seed), "`seed`",
                 class = "hotalign_error_input")
  }
  expect_no_error(hot(X, Y, seed = .Machine$integer.max, n_perm = 0))
  expect_no_error(hot(X, Y, seed = -.Machine$integer.max, n_perm = 0))
  fit <- hot(X, Y, n_perm = 0, seed = 1)
  for (arg in c("n_boot", "n_shuffle")) {
    args <- c(list(fit, X, Y), stats::setNames(list(2^31), arg))
    expect_error(do.call(hot_inference, args), paste0("`", arg, "` must be"),
                 class = "hotalign_error_input")
  }
  expect_error(hot_inference(fit, X, Y, seed = 1.5), "`seed`",
               class = "hotalign_error_input")
  expect_error(ot_sinkhorn(matrix(1, 2, 2), max_iter = 2^31), "`max_iter`",
               class = "hotalign_error_input")
  expect_error(layer_similarity(X, Y, threads = 2^31), "`threads`",
               class = "hotalign_error_input")
  expect_error(hot_many(list(A = X, B = Y), threads = 2^31), "`threads`",
               class = "hotalign_error_input")
  expect_error(hot_many(list(A = X, B = Y), n_perm = 1e12), "`n_perm`",
               class = "hotalign_error_input")
  expect_error(hot_trajectory(list(X), list(Y), n_perm = 1e12), "`n_perm`")
  expect_error(simulate_hierarchy(n_stimuli = 2^31), "`n_stimuli`")
  expect_error(simulate_hierarchy(seed = 2^31), "`seed`")
  expect_error(set_hot_threads(1e9), "`n` must be a positive whole number <= ",
               class = "hotalign_error_input")
  expect_error(set_hot_threads(4 * hot_threads() + 100), "4 per processor")
  for (bad in list("a", 0, 1.5, NA, 1e9)) {
    expect_error(print(fit, digits = bad), "`digits` must be a whole number",
                 class = "hotalign_error_input")
  }
})

test_that("problems too large are refused before allocating", {
  s <- fuzz12_systems()
  # folds of splits = 2^31 - 1 (16 GB) are counted before they are built
  expect_error(hot(s$X, s$Y, splits = 2^31 - 1), "`splits = 2147483647` needs about",
               class = "hotalign_error")
  # 46341 x 46341 one-unit layers: no outer() of 2^31 cells before the check
  L <- 46341
  one <- rep(list(matrix(rnorm(10), 10)), L)
  names(one) <- paste0("l", seq_len(L))
  t0 <- proc.time()[["elapsed"]]
  mem0 <- gc(reset = TRUE)[2, 6]
  expect_error(hot(one, one, holdout = 0, n_perm = 0, threads = 1),
               "46341 layers.*needs about", class = "hotalign_error")
  expect_lt(gc()[2, 6] - mem0, 1024) # MB: far below the 17 GB of outer()
  # HOT+R's trace is sized by the iterations made, not max_iter
  fit <- hot(s$X, s$Y, rotation = TRUE, max_iter = 1e9, n_perm = 0, seed = 1,
             threads = 1)
  expect_true(all(fit$rotation$converged))
  expect_equal(fit$score, hot(s$X, s$Y, rotation = TRUE, max_iter = 1000,
                              n_perm = 0, seed = 1, threads = 1)$score)
})

test_that("huge finite data give the right costs and fits", {
  set.seed(5)
  x <- cbind(1e308 + 1e292 * rnorm(20))
  y <- cbind(rnorm(20))
  # was NaN. Agreement is limited by the mean, a double near 1e308 whose
  # spacing (2e292) is the spread of the column: the centred column keeps
  # an offset of up to half of it (the same bound as for 1e6 + 1e-7 z in
  # test-edge-cases.R), here 2e-4 of the cost
  expect_equal(correlation_cost(x, y), 1 - cor(x - 1e308, y), tolerance = 1e-3,
               ignore_attr = TRUE)
  expect_equal(correlation_cost(1e308 + 1e300 * y, y), matrix(0), tolerance = 1e-12)
  # hot(): was "the masses do not balance" (NaN costs). The mean of such a
  # column is a double near 1e308, as coarse as the spread (ulp 2e292), so
  # the centring is exact only to that (as for 1e6 + 1e-7 z in
  # test-edge-cases.R); with a spread of 1e300 it is exact to 1e-8
  X <- list(a = 1e308 + 1e300 * matrix(rnorm(40 * 5), 40),
            b = matrix(rnorm(40 * 3), 40))
  Y <- list(c = matrix(rnorm(40 * 4), 40))
  shifted <- list(a = X$a - 1e308, b = X$b) # exact (Sterbenz)
  f <- hot(X, Y, n_perm = 0, seed = 1)
  g <- hot(shifted, Y, n_perm = 0, seed = 1)
  expect_equal(f$objective, g$objective, tolerance = 1e-6)
  expect_equal(f$plan, g$plan, tolerance = 1e-6)
  expect_equal(f$score, g$score, tolerance = 1e-6)
  coarse <- list(a = 1e308 + 1e292 * matrix(rnorm(40 * 5), 40))
  fit <- suppressWarnings(hot(coarse, Y, n_perm = 0, seed = 1))
  expect_true(is.finite(fit$objective))
  expect_equal(sum(fit$plan), 1, tolerance = 1e-12)
  # tiny and negative-huge data: the same
  tiny <- list(a = X$b * 1e-300)
  expect_equal(correlation_cost(tiny$a, Y$c), correlation_cost(X$b, Y$c),
               tolerance = 1e-12)
  neg <- -1.7e308 + X$b * 1e293
  expect_equal(correlation_cost(neg, Y$c), 1 - cor(neg + 1.7e308, Y$c),
               tolerance = 1e-3)
})

test_that("ot_exact() on costs and masses near the double limit", {
  set.seed(6)
  C <- matrix(runif(12), 3, 4)
  for (s in c(1e308, -1e308, 1.7e308, 1e-300)) {
    ref <- ot_exact(C * sign(s))
    big <- ot_exact(C * s)
    expect_equal(as.matrix(big$plan), as.matrix(ref$plan), tolerance = 1e-12,
                 info = s)
    expect_equal(big$cost, ref$cost * abs(s), tolerance = 1e-12, info = s)
    # certificate: u_i + v_j <= cost, equal on the support
    slack <- (C * s - outer(big$u, big$v, "+")) / abs(s)
    expect_gte(min(slack), -1e-12)
    P <- as.matrix(big$plan)
    expect_lt(max(abs(slack[P > 0])), 1e-12)
  }
  a <- c(1, 2, 3) * 1e307
  b <- rep(6e307 / 4, 4)
  big <- ot_exact(C, a, b)
  small <- ot_exact(C, a / 1e307, b / 1e307)
  expect_equal(as.matrix(big$plan) / 1e307, as.matrix(small$plan), tolerance = 1e-12)
  expect_equal(big$cost / 1e307, small$cost, tolerance = 1e-12)
  expect_equal(rowSums(as.matrix(big$plan)), a, tolerance = 1e-12)
  # masses whose sum overflows: still a clear answer
  expect_no_error(ot_exact(matrix(1, 2, 2), a = c(1.5e308, 1.5e308),
                           b = c(1.5e308, 1.5e308)))
})

test_that("layer similarities are scale-invariant down to 1e-200", {
  s <- fuzz12_systems()
  X <- s$X
  Y <- s$Y
  for (metric in c("linear", "cka", "procrustes", "rsa", "soft_matching")) {
    ref <- layer_similarity(X, Y, metric = metric, seed = 1)
    for (k in c(1e-200, 1e200)) {
      scaled <- layer_similarity(lapply(X, `*`, k), lapply(Y, `*`, k),
                                 metric = metric, seed = 1)
      expect_equal(unclass(scaled)[, ], unclass(ref)[, ], tolerance = 1e-10,
                   info = paste(metric, k))
    }
  }
  expect_error(layer_similarity(X, Y, metric = "linear",
                                test = list(1:10, 11:20)),
               "not a list of folds", class = "hotalign_error_input")
})

test_that("perm-P uses all 8! permutations when n_perm = 40320", {
  set.seed(8)
  X <- lapply(1:8, function(l) matrix(rnorm(30 * 2), 30))
  Y <- list(matrix(rnorm(30 * 2), 30), matrix(rnorm(30 * 2), 30))
  perms <- hotalign:::perm_p_permutations(8L, 40320L)
  expect_true(attr(perms, "exact"))
  expect_equal(length(unique(perms)), 40320L)
  expect_false(attr(hotalign:::perm_p_permutations(8L, 40319L), "exact"))
  expect_false(attr(hotalign:::perm_p_permutations(9L, 40320L), "exact"))
})

test_that("predict() matches newdata columns by name", {
  set.seed(9)
  X <- list(a = matrix(rnorm(40 * 3), 40))
  Y <- list(b = matrix(rnorm(40 * 4), 40, dimnames = list(NULL, paste0("v", 1:4))))
  fit <- hot(X, Y, n_perm = 0, seed = 1)
  new <- list(b = Y$b[1:5, ])
  ref <- predict(fit, new)
  expect_equal(predict(fit, list(b = new$b[, 4:1])), ref)
  renamed <- new
  colnames(renamed$b)[2] <- "w"
  expect_error(predict(fit, renamed), "other column names than at fit time: `v2` missing",
               class = "hotalign_error_input")
  # no names in newdata: by position, as before
  expect_equal(predict(fit, list(b = unname(new$b))), ref)
})

test_that("messages for wrong layer types, NA in test and name clashes", {
  s <- fuzz12_systems()
  Y <- s$Y
  expect_error(hot(list(a = matrix(letters[1:40], 40)), Y),
               "must be a numeric matrix \\(stimuli x units\\), not a character matrix")
  expect_error(hot(list(a = factor(letters[1:40])), Y), "not a factor")
  expect_error(hot(list(a = matrix(1i, 40, 2)), Y), "not a complex matrix")
  expect_error(hot(list(a = as.complex(1:40)), Y), "not a complex vector")
  test <- seq_len(40) <= 8
  test[3] <- NA
  expect_error(hot(s$X, Y, test = test),
               "`test` as a logical vector must have no NA, but has 1 \\(first at stimulus 3\\)")
  expect_error(hot(list(s$X$a, X1 = s$X$b), Y),
               "automatic name `X1` is the name of another layer",
               class = "hotalign_error_input")
  x <- s$X$a
  colnames(x) <- c("", "b", "c", "d", "e")
  x[, 1] <- 1
  expect_error(hot(list(a = x), Y), "constant on the training stimuli \\(column 1\\)")
})
