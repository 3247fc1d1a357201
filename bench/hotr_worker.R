# One task of bench/hotr_scale.R in its own R process, so that two builds of
# hotalign (main's and this branch's) can be timed side by side.
#   Rscript hotr_worker.R LIB TASK IN_RDS OUT_RDS [THREADS]
# TASK "hot":  hot() plain and with rotation = TRUE (n_perm = 0) on list(X, Y)
#              (optionally restricted to sources `rows`);
# TASK "pair": the C descent of one standardised pair (Xs, Ys, max_iter, tol)
#              through the rerun entry point (1 thread);
# TASK "bound": the lower bound of every pair of standardised systems
#              (this branch only).
args <- commandArgs(TRUE)
.libPaths(c(args[1], .libPaths()))
suppressPackageStartupMessages(library(hotalign))
task <- args[2]
d <- readRDS(args[3])
threads <- if (length(args) >= 5) as.integer(args[5]) else 2L
el <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  v <- force(expr)
  list(value = v, wall = proc.time()[["elapsed"]] - t0)
}
out <- list(lib = args[1], task = task)
if (task == "hot") {
  X <- d$X
  if (!is.null(d$rows)) X <- X[d$rows]
  # d$n_perm (default 0): the perm-P permutations of the HOT+R fit
  n_perm <- if (is.null(d$n_perm)) 0L else as.integer(d$n_perm)
  p <- el(hot(X, d$Y, n_perm = 0, seed = 1, threads = threads, progress = FALSE))
  r <- if (isTRUE(d$plain_only)) NULL else
    el(hot(X, d$Y, rotation = TRUE, n_perm = n_perm, seed = 1, threads = threads,
           progress = FALSE))
  if (is.null(r)) r <- list(wall = NA, value = list(cost = NULL, plan = NULL,
                                                     score = NA, rotation = NULL))
  # plain again after HOT+R (d$plain_twice): the ratio then uses the mean of
  # the two plain runs, which brackets the HOT+R run on a loaded machine
  if (isTRUE(d$plain_twice)) {
    p2 <- el(hot(X, d$Y, n_perm = 0, seed = 1, threads = threads, progress = FALSE))
    out$plain_walls <- c(p$wall, p2$wall)
    p$wall <- mean(out$plain_walls)
  }
  out$plain_wall <- p$wall
  out$rot_layer_scores <- r$value$layer_scores
  out$rot_wall <- r$wall
  out$plain_cost <- p$value$cost
  out$rot_cost <- r$value$cost
  out$rot_plan <- r$value$plan
  out$plain_score <- p$value$score
  out$rot_score <- r$value$score
  out$iterations <- r$value$rotation$iterations
  out$converged <- r$value$rotation$converged
  out$train <- r$value$train
} else if (task == "pair") {
  t <- el(.Call(hotalign:::C_ffi_rotation_pairs, list(d$Xs), list(d$Ys), 1L,
                as.integer(d$max_iter), as.double(d$tol), 1L, FALSE))
  tr <- t$value$trace[, 1]
  out$wall <- t$wall
  out$trace <- tr[!is.na(tr)]
  out$cost <- t$value$cost
  out$iterations <- t$value$iterations
  out$converged <- t$value$converged
} else if (task == "bound") {
  L <- length(d$Xs); M <- length(d$Ys)
  lb <- matrix(NA_real_, L, M)
  t <- el(for (l in seq_len(L)) for (m in seq_len(M)) {
    args <- list(d$Xs[[l]], d$Ys[[m]], 1L, 0, 0, matrix(0, 0, ncol(d$Xs[[l]])), FALSE,
                 FALSE, TRUE, TRUE)
    # builds before the reuse argument take nine
    np <- getNativeSymbolInfo("ffi_rotation_parts", "hotalign")$numParameters
    res <- do.call(.Call, c(list(hotalign:::C_ffi_rotation_parts), args[seq_len(np)]))
    lb[l, m] <- res$lower_bound
  })
  out$bound <- lb
  out$wall <- t$wall
}
saveRDS(out, args[4])
