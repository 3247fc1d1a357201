# One train/test split of hot() is one call of the C engine
# (src/hot_split.c): standardisation from the row indices, the inner pair
# loop, the outer OT and the held-out scores of every weighting. This file
# turns its result into the split's part of the "hot" object, and its
# statuses into classed errors.

# The statuses of ffi_hot_split() (enum hot_split_status in src/hot_split.c).
hot_split_status <- c(ok = 0L, constant = 1L, pair = 2L, outer = 3L, rerun = 4L)

# The statuses of an exact OT or HOT+R pair solve (enum ot_status and enum
# rotation_status in src/hotalign.h) and what they mean.
solver_status <- c(
  "the exact OT solver found the problem infeasible (the masses do not balance)" = 2L,
  "the exact OT solver found the problem unbounded" = 3L,
  "the SVD of the HOT+R Procrustes step (LAPACK dgesdd) did not converge" = 4L,
  "LAPACK dgesdd rejected an argument in the HOT+R Procrustes step" = 5L
)

solver_failure <- function(status, what, pair = NULL) {
  reason <- names(solver_status)[match(status, solver_status)]
  if (is.na(reason)) reason <- "the exact OT solver failed"
  abort(reason, " on ", what, " (status ", status, ")", class = "solver",
        pair = pair, data = list(status = status))
}

# One split: the fit of the C engine on rows `train`, scored on rows `test`.
fit_split <- function(X, Y, train, test, constant, n_perm, threads, progress,
                      rotation = FALSE, max_iter = 0L, tol = 0) {
  L <- length(X)
  M <- length(Y)
  # the permutations of the perm-P null, drawn before the fit (they depend
  # only on L), so that the engine scores them in the same pass
  perms <- if (length(test)) perm_p_permutations(L, n_perm)
  perm_matrix <- matrix(as.integer(unlist(perms)), nrow = L)
  res <- with_blas_single_thread(
    .Call(C_ffi_hot_split, X, Y, as.integer(train), as.integer(test),
          perm_matrix, constant == "drop", rotation, max_iter, tol, threads,
          progress, cost_kernel_mode())
  )
  layer_names <- list(source = names(X), target = names(Y))
  if (res$status == hot_split_status[["constant"]]) {
    constant_failure(res, X, Y, constant)
  }
  if (res$status == hot_split_status[["pair"]]) {
    k <- which(res$inner$status != 0L)[1]
    pair <- c(names(X)[(k - 1L) %% L + 1L], names(Y)[(k - 1L) %/% L + 1L])
    solver_failure(res$inner$status[k],
                   paste0("layer pair (`", pair[1], "`, `", pair[2], "`)"), pair)
  }
  if (res$status == hot_split_status[["outer"]]) {
    solver_failure(res$outer_status, "the layer cost matrix")
  }
  if (res$status == hot_split_status[["rerun"]]) {
    abort("a HOT+R rotation could not be recomputed from its recorded plan; please ",
          "report this", class = "internal")
  }
  # per layer list(center, scale, keep, dropped), built by the engine
  sx <- res$standardise_x
  sy <- res$standardise_y
  cost <- matrix(res$inner$cost, L, M, dimnames = layer_names)
  plan <- matrix(res$plan, L, M, dimnames = layer_names)
  inner <- res$inner
  fit <- c(
    list(plan = plan, cost = cost, objective = res$objective, train = train,
         test = test),
    fit_layer_parts(inner, sx, sy),
    list(rotation = if (rotation) {
      rotation_result(matrix(res$rotations, L, M, dimnames = layer_names),
                      plan, inner, max_iter, tol, res$rotations_compact,
                      vapply(sx, function(s) length(s$keep), 1L))
    } else FALSE)
  )
  c(fit, split_scores(res, X, sx, perms))
}

# The first layer (of `X`, then of `Y`) whose constant training columns stop
# the fit: all of its columns, or any with constant = "error" (the error of
# abort_constant(), R/standardise.R).
constant_failure <- function(res, X, Y, constant) {
  for (s in list(list(X, res$constant_x, "X"), list(Y, res$constant_y, "Y"))) {
    for (l in seq_along(s[[1]])) {
      dropped <- which(s[[2]][[l]])
      if (!length(dropped)) next
      if (constant == "drop" && length(dropped) < ncol(s[[1]][[l]])) next
      abort_constant(s[[1]][[l]], names(s[[1]])[l], s[[3]], dropped)
    }
  }
  abort("the engine reported constant columns that R cannot find; please ",
        "report this", class = "internal")
}

# The parts of a split's fit that describe its layers: the inner plans (as
# triplets with their layer sizes), the standardisation statistics, the
# dropped constant columns and the layer sizes. Shared by hot_fit() and
# hot_partial_split().
fit_layer_parts <- function(inner, sx, sy) {
  sizes <- list(source = lengths(lapply(sx, `[[`, "keep")),
                target = lengths(lapply(sy, `[[`, "keep")))
  list(
    inner = list(i = inner$i, j = inner$j, x = inner$x, start = inner$start,
                 n_source = sizes$source, n_target = sizes$target),
    standardise = list(source = lapply(sx, `[`, c("center", "scale", "keep")),
                       target = lapply(sy, `[`, c("center", "scale", "keep"))),
    dropped = list(source = lapply(sx, `[[`, "dropped"),
                   target = lapply(sy, `[[`, "dropped")),
    sizes = sizes)
}
