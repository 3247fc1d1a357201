# Three-level HOT over training trajectories: the driver hot_trajectory()
# and its input checks (class and methods: hot_trajectory_methods.R).

#' Three-level HOT: align two training trajectories
#'
#' Compares two training runs (or any two ordered series of snapshots of two
#' systems) checkpoint by checkpoint with hierarchical optimal transport, and
#' couples the two trajectories by a third exact optimal transport.
#'
#' For every pair of checkpoints `(c, d)`, [hot()] aligns the layers of
#' checkpoint `c` of `A` (as `X`) with those of checkpoint `d` of `B` (as `Y`);
#' its objective is the checkpoint-pair cost `D[c, d]` (`cost`). The exact
#' optimal transport over `D` with uniform masses gives the checkpoint
#' coupling (`plan`, `C_A x C_B`): every checkpoint of `A` gives mass
#' `1 / C_A`, every checkpoint of `B` receives `1 / C_B`, and `plan[c, d]` is
#' the share of checkpoint `c` matched to checkpoint `d`. The three levels
#' (units, layers, checkpoints) are each solved exactly.
#'
#' All checkpoint pairs share one train/test split of the stimuli: it is drawn
#' once (from `seed`, as [hot()] would) and passed to every fit as `test`, so
#' the costs and held-out scores of all pairs are comparable. Several random
#' splits (`splits` of [hot()]) are therefore not available here.
#'
#' The *diagonal share* reported by [summary.hot_trajectory()] is the mass the
#' plan has in common with the order-preserving coupling of the two
#' trajectories (the north-west-corner coupling of the uniform masses: the
#' identity divided by `C` when `C_A = C_B = C`, where it is `sum(diag(plan))`).
#' It is 1 when checkpoint `k` of one run is matched to the same point in
#' training of the other.
#'
#' @section Memory and time:
#' `C_A * C_B` fits of [hot()] are run one after the other (each in parallel
#' over its layer pairs with `threads`) and all are kept, as [hot()] returns
#' them (inner plans stored sparse); nothing else of size proportional to the
#' data is kept per pair. The checkpoints themselves are checked and coerced
#' once, not once per pair.
#'
#' @param A,B Lists of checkpoints, in training order: `A` the source run,
#'   `B` the target run. Each checkpoint is a list of layers as [hot()] takes
#'   them (numeric matrices, stimuli x units, the same stimuli in every layer
#'   of every checkpoint of both runs). Unnamed checkpoints are named `"A1"`,
#'   `"A2"`, ... and `"B1"`, ...; unnamed layers `"X1"`, ... (in `A`) and
#'   `"Y1"`, ... (in `B`), as [hot()] names them.
#' @param ... Further arguments of [hot()] used for every checkpoint pair,
#'   by name: for example `rotation`, `n_perm`, `constant`, `max_iter`, `tol`
#'   and `threads`.
#' @param test,holdout The held-out stimuli shared by all checkpoint pairs, as
#'   in [hot()]: `test` gives them (1-based row indices or a logical vector;
#'   not a list of folds, which is refused), otherwise a fraction `holdout` of the stimuli is drawn at random once.
#' @param seed Random seed of the split (and of every fit's permutation
#'   baseline, see [hot()]); `NULL` uses the current random stream. The
#'   caller's random state is left untouched when a seed is given.
#' @param checkpoint `NULL`, or a directory in which every finished fit is
#'   written (atomically: a temporary file renamed into place) as soon as it
#'   ends. Rerun the same call with the same directory after an interruption
#'   to resume: the fits found there are read, not refitted, and the result
#'   is identical to that of an uninterrupted run. A directory made with
#'   other checkpoints, settings (anything but `threads` and `progress`) or
#'   `seed` is refused with an error of class `"hotalign_error_checkpoint"`;
#'   with `seed = NULL` a seed is drawn once and recorded in the directory.
#' @param progress Show a progress bar over the checkpoint pairs (the fits
#'   themselves show none).
#' @return An object of class `"hot_trajectory"`: a list with
#'   \describe{
#'   \item{plan}{the checkpoint coupling, a `C_A x C_B` matrix with dimnames
#'     `source` and `target` (the checkpoint names); rows sum to `1 / C_A`,
#'     columns to `1 / C_B`.}
#'   \item{cost}{`D`, the `C_A x C_B` HOT objectives of all checkpoint
#'     pairs.}
#'   \item{scores}{the `C_A x C_B` held-out HOT scores of all checkpoint
#'     pairs (`NA` without held-out stimuli).}
#'   \item{objective}{`sum(plan * cost)`.}
#'   \item{score}{the plan-weighted HOT score, `sum(plan * scores)`.}
#'   \item{fits}{the `"hot"` fits of all checkpoint pairs, a `C_A x C_B`
#'     list-matrix with the same dimnames: `x$fits[[c, d]]` by index or name,
#'     or [trajectory_fit()]. The `call` of each fit is the equivalent call of
#'     [hot()] on the checkpoints, with `test` standing for `x$test`.}
#'   \item{train, test}{the shared training and held-out stimuli (1-based).}
#'   \item{layers}{`list(source, target)`: the number of layers of every
#'     checkpoint.}
#'   \item{rotation}{whether the fits are rotation-invariant (HOT+R).}
#'   \item{warnings}{a data frame (`source`, `target`, `message`) of the
#'     warnings of the fits, which are reported once, together.}
#'   \item{seed, call}{the seed and the call.}
#'   }
#' @references Shah, S. and Khosla, M. (2025). Representational alignment
#'   across model layers and brain regions with hierarchical optimal transport.
#'   \doi{10.48550/arXiv.2510.01706}
#' @seealso [trajectory_fit()], [summary.hot_trajectory()],
#'   [plot.hot_trajectory()], [as.data.frame.hot_trajectory()]; [hot()] for
#'   one pair of systems.
#' @export
#' @examples
#' # three checkpoints of a drifting network (two layers)
#' set.seed(1)
#' drift <- function(x) sqrt(0.5) * (x + matrix(rnorm(length(x)), nrow(x)))
#' run1 <- list(early = list(conv = matrix(rnorm(60 * 8), 60),
#'                           fc = matrix(rnorm(60 * 5), 60)))
#' run1$middle <- lapply(run1$early, drift)
#' run1$late <- lapply(run1$middle, drift)
#' # a second run: the same features, its units in another order, with noise
#' copy <- function(x) {
#'   x[, sample(ncol(x))] + 0.5 * matrix(rnorm(length(x)), nrow(x))
#' }
#' run2 <- lapply(run1, lapply, copy)
#'
#' traj <- hot_trajectory(run1, run2, seed = 1, n_perm = 0, threads = 1,
#'                        progress = FALSE)
#' traj
#' round(traj$cost, 2)
#' traj$plan * 3
#' trajectory_fit(traj, "late", "late")
hot_trajectory <- function(A, B, ..., test = NULL, holdout = 0.2, seed = NULL,
                           checkpoint = NULL, progress = interactive()) {
  call <- match.call()
  dots <- list(...)
  check_trajectory_dots(dots)
  A <- check_checkpoints(A, "A", "X")
  B <- check_checkpoints(B, "B", "Y")
  n_stimuli <- check_trajectory_stimuli(A, B)
  holdout <- check_number(holdout, "holdout", 0, 1, upper_open = TRUE)
  if (!is.null(seed)) seed <- check_seed(seed)
  progress <- check_flag(progress, "progress")
  if (is.list(test)) {
    abort("`test` must be one held-out set (row indices or a logical ",
          "vector), not a list of folds: all checkpoint pairs share one ",
          "train/test split; call hot_trajectory() once per fold", arg = "test")
  }
  # what the fits depend on (not threads or progress)
  ck <- checkpoint_open(checkpoint, "hot_trajectory",
                        list(A = A$checkpoints, B = B$checkpoints,
                             dots = dots[setdiff(names(dots), "threads")],
                             test = test, holdout = holdout), seed)
  if (!is.null(ck)) seed <- ck$seed

  split <- with_seed(seed, make_splits(n_stimuli, test, holdout, 1L))[[1L]]
  # every fit gets the split explicitly; "no held-out stimuli" is holdout = 0
  shared <- if (length(split$test)) list(test = split$test, holdout = holdout)
            else list(test = NULL, holdout = 0)

  CA <- length(A$checkpoints)
  CB <- length(B$checkpoints)
  checkpoint_names <- list(source = names(A$checkpoints),
                           target = names(B$checkpoints))
  fits <- matrix(list(), CA, CB, dimnames = checkpoint_names)
  warned <- list()
  if (progress) {
    cli::cli_progress_bar("Fitting checkpoint pairs", total = CA * CB)
  }
  for (j in seq_len(CB)) {
    for (i in seq_len(CA)) {
      pair <- c(A$labels[[i]], B$labels[[j]])
      key <- sprintf("fit-%d-%d", i, j)
      done <- checkpoint_load(ck, key)
      if (!is.null(done)) {
        fits[[i, j]] <- done$fit
        warned <- c(warned, done$warned)
        if (progress) cli::cli_progress_update()
        next
      }
      n_warned <- length(warned)
      fit <- withCallingHandlers(
        tryCatch(
          hot_fit(checked_systems(A$checkpoints[[i]], B$checkpoints[[j]]),
                  test = shared$test, holdout = shared$holdout, seed = seed,
                  progress = FALSE, ...),
          error = function(e) {
            abort_pair(e, pair, "hot() failed on checkpoint pair (`",
                       pair[1L], "`, `", pair[2L], "`)")
          }),
        warning = function(w) {
          warned[[length(warned) + 1L]] <<- data.frame(
            source = checkpoint_names$source[i],
            target = checkpoint_names$target[j],
            message = conditionMessage(w), stringsAsFactors = FALSE)
          invokeRestart("muffleWarning")
        })
      fit$call <- checkpoint_pair_call(call, A$keys[[i]], B$keys[[j]],
                                       has_test = !is.null(shared$test))
      fits[[i, j]] <- fit
      checkpoint_save(ck, key, list(fit = fit,
                                    warned = warned[seq_along(warned) > n_warned]))
      if (progress) cli::cli_progress_update()
    }
  }
  if (progress) cli::cli_progress_done()

  warned <- do.call(rbind, c(warned, list(data.frame(
    source = character(0), target = character(0), message = character(0),
    stringsAsFactors = FALSE))))
  if (nrow(warned)) {
    pairs <- unique(warned[c("source", "target")])
    warning("hot() warned on ", nrow(pairs), " of ", CA * CB,
            " checkpoint pairs, first on (`", warned$source[1L], "`, `",
            warned$target[1L], "`): ", warned$message[1L],
            "; all are in `$warnings`", call. = FALSE)
  }

  cost <- matrix(vapply(fits, function(f) f$objective, 0), CA, CB,
                 dimnames = checkpoint_names)
  scores <- matrix(vapply(fits, function(f) f$score, 0), CA, CB,
                   dimnames = checkpoint_names)
  outer <- solve_ot(cost, check_masses(NULL, NULL, CA, CB),
                    "the checkpoint cost matrix")
  plan <- matrix(0, CA, CB, dimnames = checkpoint_names)
  plan[cbind(outer$i, outer$j)] <- outer$x

  new_hot_trajectory(
    plan = plan, cost = cost, scores = scores, fits = fits,
    train = split$train, test = split$test,
    layers = list(source = lengths(A$checkpoints),
                  target = lengths(B$checkpoints)),
    rotation = is_hot_rotation(fits[[1L]]), warnings = warned,
    seed = seed, call = call
  )
}

# --- helpers (private) ------------------------------------------------------

# `...` of hot_trajectory() must be named arguments of hot() that it may set
check_trajectory_dots <- function(dots) {
  check_dots(dots, "hot_trajectory", refused = list(splits = paste0(
    "all checkpoint pairs share one train/test split; choose it with `test`, ",
    "or `holdout` and `seed`")))
}

# A run: a list of checkpoints, each a list of layers. Returns the checked
# checkpoints (named), how messages refer to them (`A[[2]]`, `A[["late"]]`)
# and the keys that index them in the caller's list (2, "late").
check_checkpoints <- function(x, arg, layer_prefix) {
  if (is.data.frame(x) || is.matrix(x) || !is.list(x)) {
    abort("`", arg, "` must be a list of checkpoints (each a list of layers), ",
          "not a ", class(x)[1L])
  }
  if (length(x) == 0L) {
    abort("`", arg, "` is an empty list: it needs at least one checkpoint")
  }
  is_layer <- function(el) {
    is.matrix(el) || is.data.frame(el) || (is.atomic(el) && is.numeric(el))
  }
  if (all(vapply(x, is_layer, TRUE))) {
    abort("`", arg, "` must be a list of checkpoints, each a list of layers; ",
          "it looks like a single checkpoint (a list of matrices): wrap it as ",
          "list(", arg, ")")
  }
  filled <- fill_names(names(x), length(x), arg)
  nm <- filled$names
  unnamed <- filled$auto
  if (anyDuplicated(nm)) {
    abort("`", arg, "` has duplicated checkpoint names: ",
          paste0("`", unique(nm[duplicated(nm)]), "`", collapse = ", "))
  }
  labels <- ifelse(unnamed, sprintf("%s[[%d]]", arg, seq_along(x)),
                   sprintf("%s[[\"%s\"]]", arg, nm))
  checkpoints <- Map(function(ck, label) {
    check_layers(if (is.list(ck) && !is.data.frame(ck)) {
      name_elements(ck, layer_prefix)
    } else ck, label)
  }, x, labels)
  names(checkpoints) <- nm
  names(labels) <- nm
  # how the caller's list is indexed: by name, or by position when unnamed
  keys <- lapply(seq_along(x), function(k) if (unnamed[k]) k else nm[k])
  list(checkpoints = checkpoints, labels = labels, keys = keys)
}

# every checkpoint of both runs has the same stimuli (rows)
check_trajectory_stimuli <- function(A, B) {
  rows <- c(vapply(A$checkpoints, function(ck) nrow(ck[[1L]]), 1L),
            vapply(B$checkpoints, function(ck) nrow(ck[[1L]]), 1L))
  labels <- c(A$labels, B$labels)
  if (any(rows != rows[1L])) {
    k <- which(rows != rows[1L])[1L]
    abort("all checkpoints of `A` and `B` must have the same stimuli (rows): ",
          "`", labels[1L], "` has ", rows[1L], ", `", labels[k], "` has ",
          rows[k])
  }
  rows[1L]
}

# The call of hot() equivalent to one checkpoint pair's fit, built from the
# call of hot_trajectory() (`test` stands for the trajectory's `$test`). A
# run is referred to by the caller's expression when that is small (a symbol
# or a short call; not data inlined by do.call()), else as `A` / `B`; a
# checkpoint by its name, or by its index when it had none.
checkpoint_pair_call <- function(call, a_key, b_key, has_test) {
  args <- as.list(call)[-1L]
  run_expr <- function(e, default) {
    small <- is.symbol(e) || (is.call(e) && utils::object.size(e) < 2048)
    if (small) e else as.symbol(default)
  }
  a <- run_expr(args$A, "A")
  b <- run_expr(args$B, "B")
  args[c("A", "B", "test", "holdout", "progress", "checkpoint")] <- NULL
  split <- if (has_test) list(test = quote(test)) else list(holdout = 0)
  as.call(c(list(quote(hot), X = call("[[", a, a_key),
                 Y = call("[[", b, b_key)), split, args))
}
