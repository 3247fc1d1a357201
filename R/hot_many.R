#' HOT between every pair of many systems
#'
#' Fits [hot()] between every pair of a named list of systems -- the
#' subjects of a study, a set of models, models and subjects together -- all
#' probed with the same stimuli, and collects the system x system matrices
#' of HOT objectives and held-out scores.
#'
#' @section Pairs:
#' The HOT score is not symmetric: `score[a, b]` is how well system `a`
#' (the source) is rebuilt from system `b` (the target), and a deep model may
#' contain a shallow one without the converse. So by default (`pairs =
#' "ordered"`) both directions of every pair are fitted, `N (N - 1)` fits.
#' The objective of plain HOT is symmetric (the transposed plans are optimal
#' for the swapped problem, up to ties and round-off); with `pairs =
#' "unordered"` each pair is fitted once, with the system listed first as
#' the source, which halves the work: the objective matrix is then filled
#' symmetrically and the score only above the diagonal (`NA` below). The
#' diagonal is not fitted: objective 0, score `NA`.
#'
#' Every pair uses the same `seed`, so the same train/test split(s) of the
#' stimuli and the same permutations of the baselines; with `seed = NULL`
#' one seed is drawn from the current random stream and recorded in
#' `$seed`.
#'
#' @section Parallel computing, and outgrowing one machine:
#' The fits are independent. When the \pkg{future.apply} package is
#' installed and a parallel \pkg{future} plan is set, they are spread over
#' the plan's workers with [future.apply::future_lapply()] (in chunks of one
#' fit per worker, so that the progress bar moves between chunks);
#' otherwise they run one after the other in this session. Nothing else
#' changes: the results are identical either way. For example:
#'
#' ```
#' library(future)
#' plan(multisession, workers = 4)         # 4 R sessions on this machine
#' res <- hot_many(subjects, threads = 1)
#' plan(cluster, workers = c("n1", "n2"))  # R sessions on other machines (ssh)
#' plan(future.batchtools::batchtools_slurm,
#'      template = "slurm.tmpl")           # one Slurm job per chunk of fits
#' plan(sequential)                        # back to serial
#' ```
#'
#' With a parallel plan `threads` defaults to 1, so that workers sharing a
#' machine do not oversubscribe its cores; give more when each worker has
#' cores of its own (a cluster node, a Slurm job with `--cpus-per-task`).
#' Each fit is sent only its own two systems, so the data moved grows with
#' the number of fits times the size of a system; on a remote cluster with
#' large systems that transfer, not the fit, can dominate. For hundreds of
#' systems, the `N (N - 1)` fits dominate: start with `pairs = "unordered"`
#' and `n_perm = 0` (passed to `hot()`).
#'
#' @param systems A named list of systems, each a named list of layers
#'   (numeric matrices, stimuli in rows, as for [hot()]), all with the same
#'   stimuli in the same order. At least 2 systems; unnamed systems are
#'   called `S1`, `S2`, ...
#' @param ... Further arguments to [hot()], named: `rotation`, `test`,
#'   `holdout`, `splits`, `n_perm`, `constant`, `max_iter`, `tol`. (`X`,
#'   `Y`, `seed`, `threads` and `progress` are set by `hot_many()`.)
#' @param pairs `"ordered"` (both directions of every pair) or
#'   `"unordered"` (each pair once); see the Pairs section.
#' @param seed Random seed of the splits and permutations, shared by all
#'   pairs; `NULL` draws one from the current random stream.
#' @param threads Threads of each fit; `NULL` for [hot_threads()] when the
#'   fits run serially and 1 under a parallel plan.
#' @param keep_fits Keep every `"hot"` fit in `$fits` (they hold the sparse
#'   inner plans, so this can take memory for many large systems)?
#' @param on_error What a fit that fails does: `"continue"` (the default)
#'   records it -- its row of `$pairs` and its cells are `NA`, and
#'   `$failures` says which pair failed and keeps the condition -- and
#'   goes on with the others, with one warning that counts the failures at
#'   the end; `"stop"` stops the run at the first failure with an error
#'   naming the pair (of the class of the original error, which it keeps as
#'   `$parent`).
#' @param checkpoint `NULL`, or a directory in which every finished fit is
#'   written (atomically: a temporary file renamed into place) as soon as it
#'   ends, by whichever process fitted it. Rerun the same call with the same
#'   directory after an interruption (a crash, a killed job) to resume: the
#'   fits found there are read, not refitted, and the result is identical to
#'   that of an uninterrupted run. A directory made with other systems or
#'   settings (anything but `threads`, `on_error` and `progress`) or another
#'   `seed` is refused with an error of class
#'   `"hotalign_error_checkpoint"`. With `seed = NULL` the seed is drawn once
#'   and recorded in the directory, so that a resumed run uses it. Failed
#'   fits are not written: a rerun tries them again. Under a parallel plan
#'   the workers must see the directory (same machine or shared storage).
#' @param progress Show a progress bar over the fits.
#' @return An object of class `"hot_many"`: a list with `objective` and
#'   `score` (`N x N` matrices, rows the source system, columns the target,
#'   dimnames `source` and `target`), `score_se` (its standard error over
#'   splits, `NA` for one split), `pairs` (a data frame, one row per fit:
#'   `source`, `target`, `objective`, `score`, `score_se`, `pairwise_best`,
#'   `single_best`, `perm_p`, `perm_p_value`), `plans` (the layer plan of
#'   every fit, named `"source -> target"`), `fits` (`NULL` unless
#'   `keep_fits`), `failures` (a data frame, one row per failed fit:
#'   `source`, `target`, `message` and `condition`, a list of the condition
#'   objects; no rows when all fits succeeded), `pair_type`, `seed`,
#'   `parallel` (whether a future plan ran the fits) and `call`. Methods: `print`,
#'   [plot()][plot.hot_many] and [as.data.frame()][as.data.frame.hot_many].
#' @seealso [hot()]; [plot.hot_many()] for the heatmaps and the MDS map.
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' systems <- list(A = sim$X, B = sim$Y, B_half = sim$Y[c(1, 3)])
#' res <- hot_many(systems, n_perm = 0, seed = 1, threads = 1)
#' res
#' as.data.frame(res)
#' plot(res, type = "mds")
hot_many <- function(systems, ..., pairs = c("ordered", "unordered"),
                     seed = NULL, threads = NULL, keep_fits = FALSE,
                     on_error = c("continue", "stop"), checkpoint = NULL,
                     progress = interactive()) {
  call <- match.call()
  pairs <- match.arg(pairs)
  on_error <- match.arg(on_error)
  systems <- check_systems(systems)
  hot_args <- check_hot_many_dots(list(...))
  keep_fits <- check_flag(keep_fits, "keep_fits")
  progress <- check_flag(progress, "progress")
  if (!is.null(seed)) seed <- check_seed(seed)
  # what the results depend on (not threads, progress or on_error)
  ck <- checkpoint_open(checkpoint, "hot_many",
                        list(systems = systems, hot_args = hot_args,
                             pairs = pairs, keep_fits = keep_fits), seed)
  if (!is.null(ck)) seed <- ck$seed
  if (is.null(seed)) seed <- draw_seed()
  parallel <- future_plan_is_parallel()
  threads <- if (is.null(threads)) {
    if (parallel) 1L else hot_threads()
  } else {
    check_threads(threads)
  }

  N <- length(systems)
  nm <- names(systems)
  todo <- if (pairs == "ordered") {
    which(diag(N) == 0, arr.ind = TRUE)
  } else {
    which(upper.tri(diag(N)), arr.ind = TRUE)
  }
  todo <- todo[order(todo[, 1], todo[, 2]), , drop = FALSE]
  colnames(todo) <- c("source", "target")
  # each job carries its two systems only (no copies: R shares them)
  jobs <- lapply(seq_len(nrow(todo)), function(k) {
    list(source = nm[todo[k, 1]], target = nm[todo[k, 2]],
         X = systems[[todo[k, 1]]], Y = systems[[todo[k, 2]]],
         key = sprintf("fit-%d-%d", todo[k, 1], todo[k, 2]))
  })

  results <- run_pairs(jobs, hot_args, seed, threads, keep_fits, parallel,
                       progress, on_error, ck)
  failed <- vapply(results, function(r) !is.null(r$error), TRUE)
  if (any(failed)) {
    k <- which(failed)[1L]
    warn("hot() failed on ", sum(failed), " of ", length(results),
         " pairs (their results are NA), first on `", jobs[[k]]$source,
         "` -> `", jobs[[k]]$target, "`: ",
         conditionMessage(if (is.null(results[[k]]$error$parent))
           results[[k]]$error else results[[k]]$error$parent),
         "; all are in `$failures`",
         class = "failure")
  }
  new_hot_many(results, todo, nm, pairs, seed, parallel, keep_fits, call)
}

check_systems <- function(systems) {
  if (!is.list(systems) || is.data.frame(systems)) {
    abort("`systems` must be a named list of systems (each a list of ",
          "layers), not a ", class(systems)[1])
  }
  if (length(systems) < 2L) {
    abort("`systems` must have at least 2 systems, not ", length(systems))
  }
  nm <- fill_names(names(systems), length(systems), "S")$names
  if (anyDuplicated(nm)) {
    abort("`systems` has duplicated names: ",
          paste0("`", unique(nm[duplicated(nm)]), "`", collapse = ", "))
  }
  systems <- Map(function(s, name) {
    arg <- paste0("systems$", name)
    if (is.matrix(s) || is.data.frame(s) || !is.list(s)) {
      abort("`", arg, "` must be a list of layers (numeric matrices, ",
            "stimuli x units), not a ", class(s)[1])
    }
    check_layers(s, arg)
  }, systems, nm)
  names(systems) <- nm
  rows <- vapply(systems, function(s) nrow(s[[1]]), 1L)
  if (any(rows != rows[1])) {
    k <- which(rows != rows[1])[1]
    abort("all systems must have the same stimuli (rows): `systems$", nm[1],
          "` has ", rows[1], ", `systems$", nm[k], "` has ", rows[k])
  }
  systems
}

check_hot_many_dots <- function(dots) {
  own <- c("seed", "threads", "progress")
  dots <- check_dots(dots, "hot_many", own = c("X", "Y", own),
                     own_hint = stats::setNames(as.list(
                       paste0(" (use its own `", own, "` argument)")), own))
  # counts checked once here, not as a failure of every pair
  for (arg in intersect(c("splits", "n_perm", "max_iter"), names(dots))) {
    dots[[arg]] <- check_count(dots[[arg]], arg, if (arg == "splits") 1 else 0)
  }
  dots
}

# TRUE when future.apply is installed and the current future plan is not
# sequential.
future_plan_is_parallel <- function() {
  requireNamespace("future.apply", quietly = TRUE) &&
    requireNamespace("future", quietly = TRUE) &&
    !inherits(future::plan(), "sequential")
}

# One fit of hot_many(); errors name the two systems. Keeps the fit small.
# With on_error = "continue" a failure is returned as list(error = <the
# condition>); a finished fit is written to the checkpoint directory `ck` (if
# any) as soon as it ends, by the process (or future worker) that fitted it.
hot_many_pair <- function(job, hot_args, seed, threads, keep_fits,
                          on_error = "stop", ck = NULL) {
  done <- checkpoint_load(ck, job$key)
  if (!is.null(done)) return(done)
  fit <- tryCatch(
    do.call(hot_fit, c(list(sys = checked_systems(job$X, job$Y), seed = seed,
                            threads = threads, progress = FALSE,
                            call = as.call(c(list(quote(hot), X = quote(job$X),
                                                  Y = quote(job$Y), seed = seed,
                                                  threads = threads,
                                                  progress = FALSE), hot_args))),
                       hot_args)),
    error = function(e) {
      e <- tryCatch(
        abort_pair(e, c(job$source, job$target), "hot() of `systems$",
                   job$source, "` (source, `X`) against `systems$",
                   job$target, "` (target, `Y`) failed"),
        error = identity)
      if (on_error == "stop") stop(e)
      e
    })
  if (inherits(fit, "error")) return(list(error = fit))
  # the call as the user would write it
  fit$call$X <- call("$", quote(systems), as.name(job$source))
  fit$call$Y <- call("$", quote(systems), as.name(job$target))
  b <- fit$baselines
  res <- list(objective = fit$objective, score = fit$score,
              score_se = fit$score_se,
              baselines = c(pairwise_best = b$pairwise_best,
                            single_best = b$single_best, perm_p = b$perm_p,
                            perm_p_value = b$perm_p_value),
              plan = fit$plan, fit = if (keep_fits) fit)
  checkpoint_save(ck, job$key, res)
}

# the result of a failed pair: NA everywhere, the condition kept
failed_pair <- function(r) {
  list(objective = NA_real_, score = NA_real_, score_se = NA_real_,
       baselines = c(pairwise_best = NA_real_, single_best = NA_real_,
                     perm_p = NA_real_, perm_p_value = NA_real_),
       plan = NULL, fit = NULL, error = r$error)
}

run_pairs <- function(jobs, hot_args, seed, threads, keep_fits, parallel,
                      progress, on_error = "stop", ck = NULL) {
  n <- length(jobs)
  if (progress) {
    bar <- cli::cli_progress_bar("HOT between systems", total = n,
                                 .envir = environment())
  }
  if (!parallel) {
    out <- vector("list", n)
    for (k in seq_len(n)) {
      out[[k]] <- hot_many_pair(jobs[[k]], hot_args, seed, threads,
                                keep_fits, on_error, ck)
      if (progress) cli::cli_progress_update(id = bar)
    }
    return(out)
  }
  # chunks of one fit per worker: the bar moves between chunks
  size <- max(1L, as.integer(future::nbrOfWorkers()))
  chunks <- split(seq_len(n), ceiling(seq_len(n) / size))
  out <- vector("list", n)
  for (idx in chunks) {
    out[idx] <- future.apply::future_lapply(
      jobs[idx], hot_many_pair, hot_args = hot_args, seed = seed,
      threads = threads, keep_fits = keep_fits, on_error = on_error,
      ck = ck, future.seed = NULL,
      future.packages = "hotalign")
    if (progress) cli::cli_progress_update(inc = length(idx), id = bar)
  }
  out
}
