# The exact solver on several families of correlation costs, against POT's
# ot.emd and (square sizes) scipy's linear_sum_assignment, in one run;
# cold solves and warm restarts after a rotation step as in HOT+R.
#
#   Rscript bench/ot_families.R [SIZES] [FAMILIES]
#       e.g. 1000x1000,896x3072,2000x2000  bench,tuned64,lowrank16,tuned256
#
# Families (K = 1 - cor(X, Y) of two layers X: T x n, Y: T x m):
#   bench      bench_cost(): 64 shared latents mixed at random, noise 2, T = 1000
#   tuned64    tuned units: every unit follows one of 64 latents (chosen at
#              random, so ~n/64 near-interchangeable units per latent), the
#              target's latents drift from the source's, noise 1, T = 500
#   lowrank16  16 latents mixed at random, noise 0.5, T = 200 (few stimuli)
#   tuned256   tuned units over 256 latents, noise 3, T = 2000
#   tuned16    tuned units over 16 latents, noise 0.3, T = 100 (few stimuli,
#              ~n/16 near-interchangeable units per latent: the most ties)
# Warm restart ("+warm" rows): the cost after a rotation of the source units
# as HOT+R makes it, K_R[i, j] = d_i / 2 + 1/2 - (Xs R)_i' Ys_j with Xs, Ys
# the standardised layers and d_i = |(Xs R)_i|^2, for R a product of n/2
# Givens rotations on random disjoint pairs of units with angles N(0, 0.1^2)
# (exactly orthogonal, close to I).  hotalign solves K, then restarts on K_R
# in the same buffer (the seconds of ot_restart() + ot_run()); the peers and
# a cold hotalign solve K_R from scratch.
#
# hotalign: "auto" is the default (the assignment solver of src/ot_assign.c
# on square uniform problems, the network simplex otherwise), "simplex" the
# network simplex forced (pricing 3).  Timings: hotalign in-C seconds of
# ot_init()/ot_restart() + ot_run() (hotalign:::C_ffi_ot_sequence) and the
# wall time of ot_exact() (with its R side); POT / scipy the solver call.
# Medians of HOTALIGN_BENCH_REPS (>= 3).  Every optimal cost is checked
# against hotalign auto's to 1e-9 relative.
# Output: bench/out/ot_families_<blas>.csv and .md
source(file.path(local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else "bench"
}), "common.R"))

args <- commandArgs(TRUE)
sizes <- if (length(args) >= 1) strsplit(args[1], ",")[[1]] else
  c("1000x1000", "896x3072", "2000x2000")
sizes <- lapply(strsplit(sizes, "x"), as.integer)
families <- if (length(args) >= 2) strsplit(args[2], ",")[[1]] else
  c("bench", "tuned64", "lowrank16", "tuned256", "tuned16")
reps <- bench_reps()
tag <- blas_label()
info <- write_machine(paste0("ot_families_", tag))

tuned_layers <- function(n, m, k, T, noise, seed) {
  set.seed(seed)
  Z0 <- matrix(stats::rnorm(T * k), T, k)
  Z1 <- 0.8 * Z0 + 0.6 * matrix(stats::rnorm(T * k), T, k)
  X <- Z0[, sample.int(k, n, TRUE)] + noise * matrix(stats::rnorm(T * n), T, n)
  Y <- Z1[, sample.int(k, m, TRUE)] + noise * matrix(stats::rnorm(T * m), T, m)
  list(X = X, Y = Y)
}
mixed_layers <- function(n, m, k, T, noise, seed) {
  basis <- latent_basis(T, k, seed)
  list(X = latent_layer(basis, 0.3, n, noise), Y = latent_layer(basis, 0.4, m, noise))
}
make_layers <- function(family, n, m) {
  switch(family,
    bench = mixed_layers(n, m, 64, 1000L, 2, n + m),
    tuned64 = tuned_layers(n, m, 64, 500L, 1, n + m + 1),
    lowrank16 = mixed_layers(n, m, 16, 200L, 0.5, n + m + 2),
    tuned256 = tuned_layers(n, m, 256, 2000L, 3, n + m + 3),
    tuned16 = tuned_layers(n, m, 16, 100L, 0.3, n + m + 4),
    stop("unknown family ", family))
}
standardised <- function(X) {
  X <- sweep(X, 2, colMeans(X))
  sweep(X, 2, sqrt(colSums(X^2)), "/")
}
# K_R from K = 1 - Xs'Ys without an n x n product: with R Givens rotations on
# disjoint pairs, Xs R is O(T n), and (Xs R)_i' Ys_j comes from
# correlation_cost(Xs R, Ys) = 1 - (Xs R)_i' Ys_j / sqrt(d_i)
rotated_cost <- function(X, Y, seed) {
  set.seed(seed)
  Xs <- standardised(X)
  n <- ncol(Xs)
  pairs <- matrix(sample.int(n, 2 * (n %/% 2)), 2)
  th <- stats::rnorm(ncol(pairs), 0, 0.1)
  XR <- Xs
  XR[, pairs[1, ]] <- Xs[, pairs[1, ]] %*% diag(cos(th), length(th)) +
    Xs[, pairs[2, ]] %*% diag(sin(th), length(th))
  XR[, pairs[2, ]] <- -Xs[, pairs[1, ]] %*% diag(sin(th), length(th)) +
    Xs[, pairs[2, ]] %*% diag(cos(th), length(th))
  d <- colSums(XR^2)
  Kc <- correlation_cost(XR, Y)
  0.5 * d + 0.5 - sqrt(d) * (1 - Kc)
}

seq_solve <- function(costs, pricing) {
  n <- nrow(costs[[1]])
  m <- ncol(costs[[1]])
  res <- .Call(hotalign:::C_ffi_ot_sequence, costs, rep(as.double(m), n),
               rep(as.double(n), m), 1 / (as.double(n) * m), as.integer(pricing), 0)
  for (r in res) if (r$status != 0L) stop("hotalign failed, status ", r$status)
  res
}
py_peers <- function(C, file) {
  write_doubles(C, file)
  r <- run_python("pot_lsa.py", c(file, nrow(C), ncol(C), "--reps", reps))
  unlink(file)
  r
}

rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(...)
file <- file.path(tempdir(), "ot_families_cost.bin")
for (fam in families) for (sz in sizes) {
  n <- sz[1]
  m <- sz[2]
  L <- make_layers(fam, n, m)
  K <- correlation_cost(L$X, L$Y)
  KR <- rotated_cost(L$X, L$Y, seed = n + 7)
  size <- sprintf("%d x %d", n, m)
  for (what in c("cold", "warm")) {
    C <- if (what == "cold") K else KR
    label <- if (what == "cold") fam else paste0(fam, "+warm")
    rules <- c(auto = 0L, simplex = 3L)
    for (rep in seq_len(reps)) for (rule in names(rules)) {
      pr <- rules[[rule]]
      solver <- paste("hotalign", rule)
      if (what == "cold") {
        w <- timed(hotalign:::ot_exact_priced(C, NULL, NULL, pricing = pr))
        s <- seq_solve(list(C), pr)[[1]]
        add(family = label, size = size, solver = solver, rep = rep, seconds = s$seconds,
            ot_exact_wall = w$wall, cost = s$cost, work = s$pivots)
      } else {
        s <- seq_solve(list(K, KR), pr)
        add(family = label, size = size, solver = paste(solver, "restart"), rep = rep,
            seconds = s[[2]]$seconds, ot_exact_wall = NA, cost = s[[2]]$cost,
            work = s[[2]]$pivots)
        add(family = label, size = size, solver = paste(solver, "cold"), rep = rep,
            seconds = seq_solve(list(KR), pr)[[1]]$seconds, ot_exact_wall = NA,
            cost = s[[2]]$cost, work = NA)
      }
    }
    py <- py_peers(C, file)
    for (rep in seq_len(reps)) {
      add(family = label, size = size, solver = "POT ot.emd", rep = rep,
          seconds = py$emd_wall[rep], ot_exact_wall = NA, cost = py$emd_cost, work = NA)
      if (n == m)
        add(family = label, size = size, solver = "scipy LSA", rep = rep,
            seconds = py$lsa_wall[rep], ot_exact_wall = NA, cost = py$lsa_cost, work = NA)
    }
    log_line(sprintf("%-16s %s done", label, size))
  }
  runs <- do.call(rbind, rows)
  utils::write.csv(runs, file.path(out_dir, paste0("ot_families_", tag, ".csv")),
                   row.names = FALSE)
}

runs <- do.call(rbind, rows)
key <- paste(runs$family, runs$size)
summ <- do.call(rbind, lapply(split(runs, list(key, runs$solver), drop = TRUE), function(d) {
  k <- paste(d$family[1], d$size[1])
  ref_solver <- if (grepl("\\+warm", d$family[1])) "hotalign auto restart" else "hotalign auto"
  ref <- runs[key == k & runs$solver == ref_solver, ]
  data.frame(family = d$family[1], size = d$size[1], solver = d$solver[1],
             seconds = stats::median(d$seconds),
             ot_exact_wall = stats::median(d$ot_exact_wall),
             ratio = stats::median(d$seconds) / stats::median(ref$seconds),
             cost_rel_diff = max(rel_diff(d$cost, ref$cost[1])),
             work = stats::median(d$work))
}))
summ <- summ[order(match(summ$family, unique(runs$family)),
                   match(summ$size, unique(runs$size)), summ$solver), ]
md <- c(sprintf("ot_families: BLAS %s, %s, nproc %d, %s, load %s; %d reps",
                info$blas, info$cpu, info$nproc, info$r, info$load, reps),
        "", md_table(summ, digits = 4), "",
        paste("ratio = median seconds / hotalign auto's (restart's on +warm rows);",
              "> 1: hotalign auto faster. work = pivots (simplex) or row scans",
              "(assignment solver)."))
writeLines(md, file.path(out_dir, paste0("ot_families_", tag, ".md")))
writeLines(md)
