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
    "`inner`", "`rotations", "`n_source`", "too many"),
  collapse = "|")

# A valid set of arguments of every entry point, and a check of its answer.
set.seed(20261124)
Xs <- list(matrix(rnorm(12), 6, 2), matrix(rnorm(18), 6, 3))
Ys <- list(matrix(rnorm(24), 6, 4))
valid_inner <- .Call(C("inner_plans"), Xs, Ys, 1L, FALSE, FALSE, 0L, 0)
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
                   ok = function(r) is.double(r) && length(r) == 2L &&
                     all(r >= 0) && (r[1] == 0) == (r[2] == 0)),
  correlation_cost = list(args = list(matrix(rnorm(8), 4, 2), matrix(rnorm(12), 4, 3)),
                          ok = function(r) is.matrix(r) && is.double(r)),
  inner_plans = list(args = list(Xs, Ys, 1L, FALSE, FALSE, 0L, 0),
                     ok = function(r) is.matrix(r$cost) && all(r$status == 0)),
  rotation_pairs = list(args = list(Xs, Ys, 1:2, 3L, 1e-8, 1L, FALSE),
                        ok = function(r) length(r$rotations) == length(r$status)),
  reconstruct_scores = list(args = list(Xs, Ys, inner4, W, NULL),
                            ok = function(r) is.list(r) && length(r) == 2),
  reconstruct = list(args = list(Ys, inner4, W, c(2L, 3L), NULL),
                     ok = function(r) is.list(r) && length(r) == 2),
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
  expect_identical(.Call(C("nonfinite"), matrix(c(1, NA, Inf, 2), 2, 2)), c(2, 2))
  expect_identical(.Call(C("nonfinite"), c(1, 2, NaN)), c(1, 3))
  expect_identical(.Call(C("nonfinite"), numeric(0)), c(0, 0))
  expect_error(.Call(C("threads_available"), 1), "arguments")
  expect_error(.Call(C("ot_exact"), matrix(1)), "arguments")
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
  expect_error(.Call(C("correlation_cost"), matrix(1, 2, 2), matrix(1, 3, 2)),
               "equal rows")
  # layers with different row counts, empty lists, zero-width layers
  expect_error(.Call(C("inner_plans"), list(matrix(1, 5, 2)), Ys, 1L, FALSE,
                     FALSE, 0L, 0), "has 6 rows, not 5")
  expect_error(.Call(C("inner_plans"), list(), Ys, 1L, FALSE, FALSE, 0L, 0),
               "non-empty list")
  expect_error(.Call(C("inner_plans"), Xs, list(matrix(0, 6, 0)), 1L, FALSE,
                     FALSE, 0L, 0), "at least one column")
  expect_error(.Call(C("inner_plans"), Xs, Ys, 1L, FALSE, TRUE, NA_integer_, 0),
               "max_iter")
  expect_error(.Call(C("inner_plans"), Xs, Ys, 1L, FALSE, TRUE, 5L, NaN), "tol")
  expect_error(.Call(C("inner_plans"), Xs, Ys, 1L, FALSE, TRUE, -1L, 0), "max_iter")
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
    expect_error(.Call(C("reconstruct_scores"), Xs, Ys, inn, W, NULL), "`inner")
    expect_error(.Call(C("reconstruct"), Ys, inn, W, c(2L, 3L), NULL), "`inner")
  }
  expect_error(.Call(C("reconstruct"), Ys, inner4, W, c(2L, 1L), NULL),
               "outside the units")
  expect_error(.Call(C("reconstruct"), Ys, inner4, W, c(2L, NA), NULL), "n_source")
  expect_error(.Call(C("reconstruct_scores"), Xs, Ys, inner4, matrix(0.5, 1, 1),
                     NULL), "`W` must")
  expect_error(.Call(C("reconstruct_scores"), Xs, list(matrix(1, 4, 4)), inner4,
                     W, NULL), "has 4 rows, not 6")
  # rotations: wrong count, wrong size, wrong type
  for (rot in list(list(NULL), list(diag(3), NULL), list(NULL, diag(2)),
                   list(NULL, matrix(1L, 3, 3)), "a")) {
    expect_error(.Call(C("reconstruct_scores"), Xs, Ys, inner4, W, rot),
                 "`rotations")
  }
  ok <- .Call(C("reconstruct_scores"), Xs, Ys, inner4, W, list(diag(2), diag(3)))
  expect_equal(ok, .Call(C("reconstruct_scores"), Xs, Ys, inner4, W, NULL))
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
  expect_error(.Call(C("ot_exact"), matrix(1, 2, 2), c(1, 1), c(1, 1), 1, 4L),
               "ffi_ot_exact")
  # square uniform problems (the assignment solver) and pricing 3 (the simplex)
  expect_false(run(matrix(NaN, 3, 3), rep(1, 3), rep(1, 3)) == 0L)
  expect_false(run(matrix(c(1, Inf, 2, 3), 2, 2), c(2, 2), c(2, 2)) == 0L)
  expect_false(.Call(C("ot_exact"), matrix(NaN, 2, 2), c(1, 1), c(1, 1), 1, 3L)$status == 0L)
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
