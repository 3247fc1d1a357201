#' Confidence intervals and significance tests for a HOT fit
#'
#' Error bars and p-values for a [hot()] fit, computed after the fit from
#' the data it was made on:
#'
#' * **Bootstrap confidence intervals** of the HOT score and of every
#'   per-layer score, over the held-out stimuli. The plans are kept fixed
#'   (the fit is conditioned on its training stimuli); the held-out stimuli
#'   are resampled with replacement, the fitted reconstructions and the
#'   source data rescored on each resample, and the interval is the
#'   percentile interval of the resampled scores (quantile type 7). This is
#'   the uncertainty due to the finite set of held-out stimuli. A mean of
#'   correlations over few held-out stimuli is biased towards zero, more so
#'   on resamples (which repeat stimuli), so the percentile interval can sit
#'   below the estimate; `interval = "bc"` gives the bias-corrected
#'   percentile interval (Efron, 1981), which shifts the quantiles by the
#'   share of resampled values below the estimate.
#' * **A stimulus-shuffle test of alignment itself.** Under the null
#'   hypothesis that the two systems share no stimulus-specific structure,
#'   the rows of `Y` could be matched to any stimuli: the rows of every layer
#'   of `Y` are permuted (the same permutation for all layers) relative to
#'   `X`, [hot()] is refitted on the same train/test split(s), and the
#'   p-value is `(1 + #{null score >= observed}) / (1 + n_shuffle)`.
#' * **The perm-P test** already in the fit (`fit$baselines`): the score
#'   against the same inner plans with the rows of the layer plan permuted,
#'   which asks whether the *layer coupling* matters beyond the unit
#'   matchings.
#'
#' For a fit averaged over several splits (`hot(splits = K)`), the plans of
#' splits 2 to `K` are refitted (deterministically, on the stored splits);
#' each bootstrap resample draws, with replacement, as many stimuli as the
#' union of the held-out sets, and every split is scored on its own held-out
#' stimuli weighted by how often each was drawn -- so a stimulus held out in
#' several splits moves all of them together -- and the scores are averaged
#' over splits as in [hot()]. The shuffle null refits every split.
#'
#' The fit is checked against `X` and `Y`: the same layer names, widths and
#' number of stimuli, and every split's held-out layer scores recomputed
#' from `X` and `Y` (the first split from the fit itself, before any
#' refitting) equal to the stored ones.
#'
#' Cost: the bootstrap is cheap (no refitting for one split). The shuffle
#' test refits `n_shuffle * K` times, which for large systems is most of the
#' cost; `n_shuffle = 0` skips it.
#'
#' @param fit A `"hot"` fit from [hot()] with held-out stimuli.
#' @param X,Y The source and target systems the fit was made on.
#' @param n_boot Number of bootstrap resamples (0 to skip the intervals).
#' @param n_shuffle Number of stimulus shuffles of the null (0 to skip).
#' @param level Confidence level of the intervals, in `(0, 1)`.
#' @param interval `"percentile"` or `"bc"` (bias-corrected percentile)
#'   bootstrap intervals.
#' @param seed Random seed of the resamples and shuffles (`NULL`: the current
#'   random stream; a given seed leaves the caller's stream untouched).
#' @param threads Threads of the refits; see [hot_threads()].
#' @param progress Show a progress bar over the shuffles.
#' @return An object of class `"hot_inference"`: a list with
#'   * `intervals`: a data frame, one row for the score and one per source
#'     layer: `term` (`"score"` or `"layer"`), `layer`, `estimate` (the fit's
#'     value), `std_error` (standard deviation of the bootstrap values),
#'     `lower`, `upper`;
#'   * `tests`: a data frame with one row per test (`"stimulus_shuffle"`,
#'     `"perm_p"`): `observed`, `null_mean`, `p_value`, `n` (shuffles or
#'     permutations);
#'   * `boot`: list of the bootstrap values, `score` (length `n_boot`) and
#'     `layer_scores` (`n_boot x L`);
#'   * `shuffle_scores`: the null scores;
#'   * `level`, `interval`, `n_boot`, `n_shuffle`, `n_splits`, `n_test`,
#'     `seed`, `call`.
#'
#'   Methods: `print` and [as.data.frame()][as.data.frame.hot_inference].
#' @references Efron, B. (1981). Nonparametric standard errors and
#'   confidence intervals. Canadian Journal of Statistics 9, 139--158.
#' @seealso [hot()]; `hot(splits = K)` for the standard error over random
#'   splits, which also reflects the choice of training stimuli.
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 80, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 50, threads = 1,
#'            progress = FALSE)
#' inf <- hot_inference(fit, sim$X, sim$Y, n_boot = 200, n_shuffle = 19,
#'                      seed = 1, threads = 1)
#' inf
#' as.data.frame(inf, what = "tests")
hot_inference <- function(fit, X, Y, n_boot = 1000, n_shuffle = 100,
                          level = 0.95, interval = c("percentile", "bc"),
                          seed = NULL, threads = hot_threads(),
                          progress = interactive()) {
  call <- match.call()
  interval <- match.arg(interval)
  if (!inherits(fit, "hot")) {
    abort("`fit` must be a \"hot\" fit from hot(), not a ", class(fit)[1],
          arg = "fit")
  }
  if (!is.null(fit$unit_mass)) {
    # refits would be balanced HOT: not the fit's own null
    abort("`fit` is a partial or noise-corrected fit (`unit_mass`, ",
          "`layer_mass` or `reliability`): its inference is not supported yet",
          arg = "fit")
  }
  X <- check_layers(X, "X")
  Y <- check_layers(Y, "Y")
  check_same_stimuli(X, Y)
  n_boot <- check_count(n_boot, "n_boot", 0)
  n_shuffle <- check_count(n_shuffle, "n_shuffle", 0)
  level <- check_number(level, "level", 0, 1, upper_open = TRUE)
  if (level == 0) {
    abort("`level` must be a single number in (0, 1), not 0", arg = "level")
  }
  threads <- check_threads(threads)
  progress <- check_flag(progress, "progress")
  if (!is.null(seed)) seed <- check_seed(seed)
  check_fit_data(fit, X, Y)

  splits <- if (length(fit$splits)) fit$splits else
    list(list(train = fit$train, test = fit$test))
  settings <- refit_settings(fit)
  # every split from the fit itself: its plans are kept for each split (a fit
  # saved by an older version has them for the first only: the others are
  # refitted, and checked to reproduce the stored score)
  scored <- lapply(seq_along(splits), function(k) {
    f <- split_fit(fit, k, X, Y, settings, threads)
    s <- split_reconstruction(f, X, Y, splits[[k]]$test)
    check_reproduced(s, splits[[k]]$layer_scores, k, names(X))
    s
  })

  res <- with_seed(seed, {
    boot <- bootstrap_scores(scored, splits, n_boot, names(X))
    null <- shuffle_scores(X, Y, splits, settings, n_shuffle, threads,
                           progress)
    list(boot = boot, null = null)
  })
  new_hot_inference(fit, res$boot, res$null, level, interval, n_boot,
                    n_shuffle, length(splits), seed, call)
}

# The fit was made on these data: layer names, widths and stimuli.
check_fit_data <- function(fit, X, Y) {
  if (!length(fit$test)) {
    abort("`fit` has no held-out stimuli (it was made with `holdout = 0`): ",
          "there is no held-out score to put intervals on", arg = "fit")
  }
  for (side in c("source", "target")) {
    layers <- if (side == "source") X else Y
    arg <- if (side == "source") "X" else "Y"
    fit_names <- if (side == "source") rownames(fit$plan) else
      colnames(fit$plan)
    if (!identical(names(layers), fit_names)) {
      abort("`", arg, "` has layers ", paste0("`", names(layers), "`",
                                              collapse = ", "),
            " but `fit` was made on ", side, " layers ",
            paste0("`", fit_names, "`", collapse = ", "), arg = arg)
    }
    for (l in seq_along(layers)) {
      width <- length(fit$standardise[[side]][[l]]$keep) +
        length(fit$dropped[[side]][[l]])
      if (ncol(layers[[l]]) != width) {
        abort("layer `", names(layers)[l], "` of `", arg, "` has ",
              ncol(layers[[l]]), " units but had ", width, " in `fit`",
              arg = arg, layer = names(layers)[l])
      }
    }
  }
  n_fit <- length(fit$train) + length(fit$test)
  if (nrow(X[[1]]) != n_fit) {
    abort("`X` and `Y` have ", nrow(X[[1]]), " stimuli (rows) but `fit` was ",
          "made on ", n_fit, arg = "X")
  }
  invisible(TRUE)
}

# How to refit a split as the original fit was made.
refit_settings <- function(fit) {
  rot <- fit$rotation
  if (is.list(rot)) {
    list(rotation = TRUE, max_iter = rot$max_iter, tol = rot$tol)
  } else {
    list(rotation = FALSE, max_iter = 100L, tol = 1e-8)
  }
}

# The fit of split k: the plans the fit kept for it, or (a fit saved by an
# older version, which kept them for the first split only) a refit.
split_fit <- function(fit, k, X, Y, settings, threads) {
  sp <- if (length(fit$splits)) fit$splits[[k]] else fit
  if (k == 1L) return(fit)
  if (!is.null(sp$inner)) {
    fields <- c("plan", "inner", "standardise", "dropped")
    fit[fields] <- sp[fields]
    if (is.list(fit$rotation)) {
      fit$rotation[c("matrices", "iterations")] <- fit$rotation$splits[[k]]
    }
    return(fit)
  }
  refit_split(X, Y, sp$test, settings, threads)
}

# One split fitted again on (checked) layers, without permutations, by the
# internal fit of hot(): no re-checking. Constant columns are dropped: a fit
# made with constant = "error" had none, so this changes nothing there, and a
# shuffled training set may have some.
refit_split <- function(X, Y, test, settings, threads) {
  train <- setdiff(seq_len(nrow(X[[1]])), test)
  fit_split(X, Y, train, test, "drop", 0L, threads, FALSE, settings$rotation,
            settings$max_iter, settings$tol)
}

# Held-out rows of every source layer of a fit and of the target layers,
# standardised with the fit's training statistics, as hot() scores them.
split_reconstruction <- function(f, X, Y, test) {
  list(test = test, fit = f,
       xs = hot_standardise_rows(f, X, "source", test),
       ys = hot_standardise_rows(f, Y, "target", test))
}

check_reproduced <- function(s, layer_scores, k, layer_names) {
  if (is.null(layer_scores)) return(invisible(TRUE))
  got <- hot_rebuild(s$fit, s$ys, s$xs)$layers
  want <- as.numeric(layer_scores)
  same <- (is.na(got) & is.na(want)) |
    (!is.na(got) & !is.na(want) &
       abs(got - want) <= 1e-8 * pmax(1, abs(want)))
  if (!all(same)) {
    l <- which(!same)[1]
    abort("`X` and `Y` do not reproduce the held-out score of `fit` ",
          "(split ", k, ", layer `", layer_names[l], "`: ",
          format(got[l], digits = 6), " instead of ",
          format(want[l], digits = 6), "): were they the data `fit` was ",
          "made on, in the same stimulus order?", arg = "X",
          layer = layer_names[l])
  }
  invisible(TRUE)
}

# Layer scores of one split under stimulus weights: `w` is a B x n_test
# matrix of non-negative counts (one row per resample); every unit's
# weighted Pearson correlation of reconstruction and truth (the kernel of
# hot(), with its rule for an undefined correlation), averaged over the
# layer's units where defined. Returns B x L.
weighted_layer_scores <- function(s, w) {
  t(hot_rebuild(s$fit, s$ys, s$xs, weights = t(w))$layers)
}

# Bootstrap values of the score and the layer scores, in chunks of
# resamples to bound memory; the resamples are drawn one after the other,
# so the chunking does not change them.
bootstrap_scores <- function(scored, splits, n_boot, layer_names) {
  L <- length(layer_names)
  layer_boot <- matrix(NA_real_, n_boot, L,
                       dimnames = list(NULL, layer_names))
  score_boot <- rep(NA_real_, n_boot)
  if (n_boot == 0L) return(list(score = score_boot, layer_scores = layer_boot))
  pool <- sort(unique(unlist(lapply(scored, `[[`, "test"))))
  n_pool <- length(pool)
  chunk <- max(1L, min(n_boot, floor(2^22 / n_pool)))
  for (from in seq(1L, n_boot, by = chunk)) {
    rows <- from:min(n_boot, from + chunk - 1L)
    counts <- t(vapply(rows, function(b) {
      tabulate(sample.int(n_pool, n_pool, replace = TRUE), n_pool)
    }, numeric(n_pool)))
    counts <- matrix(counts, length(rows), n_pool)
    per_split <- lapply(scored, function(s) {
      weighted_layer_scores(s, counts[, match(s$test, pool), drop = FALSE])
    })
    # as hot(): layer scores averaged over splits, the score as the mean
    # over splits of each split's mean over its (defined) layers
    layers <- Reduce(`+`, per_split) / length(per_split)
    split_scores <- vapply(per_split, function(p) {
      out <- rowMeans(p, na.rm = TRUE)
      out[is.nan(out)] <- NA_real_
      out
    }, numeric(length(rows)))
    layer_boot[rows, ] <- layers
    score_boot[rows] <- rowMeans(matrix(split_scores, length(rows)))
  }
  list(score = score_boot, layer_scores = layer_boot)
}

# Null scores: the rows of every Y layer permuted, hot() refitted on the
# same splits.
shuffle_scores <- function(X, Y, splits, settings, n_shuffle, threads,
                           progress) {
  if (n_shuffle == 0L) return(numeric(0))
  n <- nrow(Y[[1]])
  if (progress) {
    bar <- cli::cli_progress_bar("Stimulus-shuffle null", total = n_shuffle,
                                 .envir = environment())
  }
  failed <- list()
  null <- vapply(seq_len(n_shuffle), function(s) {
    perm <- sample.int(n)
    Ys <- lapply(Y, function(y) y[perm, , drop = FALSE])
    scores <- vapply(splits, function(sp) {
      tryCatch(refit_split(X, Ys, sp$test, settings, threads)$score,
               error = function(e) {
                 failed[[length(failed) + 1L]] <<- e
                 NA_real_
               })
    }, 0)
    if (progress) cli::cli_progress_update(id = bar)
    mean(scores)
  }, 0)
  if (length(failed)) {
    warn(sum(is.na(null)), " of ", n_shuffle, " shuffled refits failed ",
         "and were left out of the null (first: ",
         conditionMessage(failed[[1]]), "); the conditions are in the ",
         "warning's `errors` field", class = "refit",
         data = list(errors = failed))
  }
  null
}

new_hot_inference <- function(fit, boot, null, level, interval, n_boot,
                              n_shuffle, n_splits, seed, call) {
  L <- length(fit$layer_scores)
  estimates <- c(fit$score, as.numeric(fit$layer_scores))
  values <- cbind(boot$score, boot$layer_scores)
  stats_tab <- t(vapply(seq_len(L + 1L), function(k) {
    boot_interval(values[, k], estimates[k], level, interval)
  }, numeric(3)))
  intervals <- data.frame(
    term = c("score", rep("layer", L)),
    layer = c(NA_character_, names(fit$layer_scores)),
    estimate = estimates,
    std_error = stats_tab[, 1], lower = stats_tab[, 2],
    upper = stats_tab[, 3], stringsAsFactors = FALSE
  )
  ok <- null[!is.na(null)]
  tests <- data.frame(
    test = c("stimulus_shuffle", "perm_p"),
    observed = fit$score,
    null_mean = c(if (length(ok)) mean(ok) else NA_real_,
                  fit$baselines$perm_p),
    p_value = c(if (length(ok)) (1 + sum(ok >= fit$score)) / (1 + length(ok))
                else NA_real_, fit$baselines$perm_p_value),
    n = c(length(ok), if (is.null(fit$n_perm)) NA_integer_ else
      as.integer(fit$n_perm)),
    stringsAsFactors = FALSE
  )
  structure(list(
    intervals = intervals, tests = tests, boot = boot, shuffle_scores = null,
    level = level, interval = interval, n_boot = n_boot,
    n_shuffle = n_shuffle,
    n_splits = n_splits, n_test = length(fit$test), seed = seed, call = call
  ), class = "hot_inference")
}

# Bootstrap standard error and interval of one estimate.
boot_interval <- function(v, estimate, level, interval) {
  v <- v[!is.na(v)]
  if (!length(v) || is.na(estimate)) return(c(NA_real_, NA_real_, NA_real_))
  alpha <- 1 - level
  probs <- c(alpha / 2, 1 - alpha / 2)
  if (interval == "bc") {
    below <- mean(v < estimate) + 0.5 * mean(v == estimate)
    z0 <- stats::qnorm(min(max(below, 1 / (2 * length(v))),
                           1 - 1 / (2 * length(v))))
    probs <- stats::pnorm(2 * z0 + stats::qnorm(probs))
  }
  c(if (length(v) > 1L) stats::sd(v) else NA_real_,
    stats::quantile(v, probs, names = FALSE, type = 7))
}

#' @rdname hot_inference
#' @param x A `"hot_inference"` object.
#' @param digits Significant digits shown.
#' @param ... Ignored.
#' @export
print.hot_inference <- function(x, digits = 3L, ...) {
  digits <- check_digits(digits)
  f <- function(v) {
    ifelse(is.na(v), "NA",
           formatC(as.numeric(v), digits = digits, format = "g"))
  }
  iv <- x$intervals
  pct <- paste0(format(100 * x$level), "%")
  cat("<hot_inference> HOT score ", f(iv$estimate[1]), " on ", x$n_test,
      " held-out stimuli", if (x$n_splits > 1) paste0(" x ", x$n_splits,
                                                      " splits"), "\n",
      sep = "")
  if (x$n_boot > 0) {
    cat("  ", pct, if (identical(x$interval, "bc")) " bias-corrected",
        " bootstrap CI [", f(iv$lower[1]), ", ", f(iv$upper[1]),
        "], SE ", f(iv$std_error[1]), " (", x$n_boot,
        " resamples of held-out stimuli, plans fixed)\n", sep = "")
  }
  tt <- x$tests
  if (x$n_shuffle > 0) {
    cat("  stimulus-shuffle null: mean ", f(tt$null_mean[1]), ", p = ",
        f(tt$p_value[1]), " (", tt$n[1], " shuffles)\n", sep = "")
  }
  if (!is.na(tt$p_value[2])) {
    cat("  perm-P null:           mean ", f(tt$null_mean[2]), ", p = ",
        f(tt$p_value[2]), " (", tt$n[2], " permutations)\n", sep = "")
  }
  if (x$n_boot > 0) {
    layers <- iv[iv$term == "layer", c("layer", "estimate", "lower", "upper")]
    layers[-1] <- lapply(layers[-1], signif, digits = digits)
    names(layers)[3:4] <- paste(names(layers)[3:4], pct)
    cat("  per source layer:\n")
    print(layers, row.names = FALSE)
  }
  invisible(x)
}

#' Inference results of hot_inference() as a data frame
#'
#' @param x A `"hot_inference"` object from [hot_inference()].
#' @param row.names,optional Ignored.
#' @param what `"intervals"` (score and per-layer estimates with bootstrap
#'   standard errors and percentile intervals) or `"tests"` (the
#'   stimulus-shuffle and perm-P tests).
#' @param ... Ignored.
#' @return A data frame: for `"intervals"` the columns `term`, `layer`,
#'   `estimate`, `std_error`, `lower`, `upper` and `level`; for `"tests"`
#'   the columns `test`, `observed`, `null_mean`, `p_value` and `n`.
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 80, source_layers = 2,
#'                           target_layers = 4, source_units = 8,
#'                           target_units = 6, seed = 1)
#' fit <- hot(sim$X, sim$Y, seed = 1, n_perm = 20, threads = 1,
#'            progress = FALSE)
#' inf <- hot_inference(fit, sim$X, sim$Y, n_boot = 100, n_shuffle = 0,
#'                      seed = 1, threads = 1)
#' as.data.frame(inf)
as.data.frame.hot_inference <- function(x, row.names = NULL, optional = FALSE,
                                        what = c("intervals", "tests"), ...) {
  what <- match.arg(what)
  if (what == "tests") return(x$tests)
  out <- x$intervals
  out$level <- x$level
  out
}
