#' Noise ceiling: split-half reliability of every unit
#'
#' The reliability of each unit's response averaged over all its repeated
#' presentations, estimated from the repeats themselves: the correlation
#' across stimuli between the means of two disjoint halves of the repeats,
#' averaged over many random splits, stepped up by the Spearman-Brown formula
#' from the half size to the number of repeats. Its square root is the
#' largest correlation a model can be expected to reach with that mean
#' response (the noise ceiling); [hot()] uses it through `reliability`.
#'
#' @section Formula:
#' With `k` repeats, each split draws two disjoint halves of `h = floor(k/2)`
#' repeats (for odd `k`, one repeat is left out of that split at random, so
#' that the halves are equal), and \eqn{r} is the Pearson correlation across
#' stimuli of the two half means. Under the classical model (response =
#' signal + independent noise of the same variance in every repeat),
#' \eqn{r} estimates the reliability of a mean of `h` repeats, and
#' the Spearman-Brown formula steps it up by the factor `f = k / h`:
#' \deqn{\rho_k = \frac{f \bar r}{1 + (f - 1) \bar r},}{rho_k = f r / (1 + (f - 1) r),}
#' with \eqn{\bar r}{r} the mean of \eqn{r} over the splits: `2 r / (1 + r)` for
#' even `k` (halves of `k/2`), `3 r / (1 + 2 r)` for `k = 3`. For a signal of
#' variance `s2` and noise of variance `n2` per repeat, the true value is
#' `s2 / (s2 + n2 / k)`. When the splits can all be listed (`k = 2`: 1 split;
#' `k = 3`: 3; `k = 4`: 3; `k = 5`: 15; ...) and there are at most `n_splits`
#' of them, all are used, once each, and `seed` plays no part. Negative \eqn{r}
#' (no reliable signal) gives a negative reliability; it is floored at -1
#' (the formula has a pole at \eqn{r = -1 / (f - 1)}).
#'
#' @section Standard error:
#' `se = "delta"` (the default): the sampling error of the estimate over
#' stimuli, by the delta method on Fisher's z: `z = atanh(r)` has standard
#' error `1 / sqrt(T - 3)` for `T` stimuli, so \eqn{r} has
#' `(1 - r^2) / sqrt(T - 3)`, and the reliability
#' `f (1 - r^2) / ((1 + (f - 1) r)^2 sqrt(T - 3))`. It is that of a single
#' split: averaging over splits can only reduce the variance, so this is
#' conservative (by little when the noise is small; the spread of \eqn{r} over
#' splits is NOT used: the splits share the same stimuli, so it says nothing
#' about the error of the estimate across stimuli). It assumes roughly
#' bivariate-normal half means. `se = "bootstrap"`: the standard deviation of
#' the estimate (the same splits) over `n_boot` resamples of the stimuli with
#' replacement; slower (one matrix product of `n_boot x T` by `T x 5 units`
#' per split), assumption-free across stimuli.
#'
#' @section Missing values and constant units:
#' `NA` responses are left out of the half means (a half mean over the
#' repeats available); a stimulus whose half is entirely missing is left out
#' of that split's correlation. A unit whose half means are constant (no
#' variance across stimuli) has an undefined correlation: its reliability and
#' se are `NA`, as are those of a unit with fewer than 3 usable stimuli.
#'
#' @param responses An array `stimuli x units x repeats`, or a list of
#'   repeat matrices (`stimuli x units` each, the same shape); at least 2
#'   repeats. Unit names are taken from the column names.
#' @param n_splits Number of random splits of the repeats, a positive whole
#'   number; all splits are used when there are no more than that.
#' @param seed `NULL` (the current random state) or a whole number; the
#'   session's random state is restored afterwards when given.
#' @param se How to compute the standard error: `"delta"` or `"bootstrap"`
#'   (see the section).
#' @param n_boot Number of bootstrap resamples for `se = "bootstrap"`.
#' @return A data frame with one row per unit: `unit` (name, or index),
#'   `reliability` (of the mean over all repeats), `se` (its standard error),
#'   `split_half` (the mean split-half correlation \eqn{r}). Attributes
#'   `repeats` (`k`), `half` (`h`), `splits` (the number used) and
#'   `se_method`.
#' @seealso [hot()] (`reliability`, `min_reliability`),
#'   [simulate_hierarchy()] (`repeats`) for data with a known reliability.
#' @export
#' @examples
#' set.seed(1)
#' signal <- matrix(rnorm(100 * 3), 100, 3)
#' # 4 repeats; noise sd 0, 1 and 3 for the three units
#' reps <- lapply(1:4, function(r) signal + rnorm(300) * rep(c(0.01, 1, 3), each = 100))
#' noise_ceiling(reps)
#' # the true reliabilities: s2 / (s2 + n2 / k)
#' 1 / (1 + c(0.01, 1, 3)^2 / 4)
noise_ceiling <- function(responses, n_splits = 100, seed = NULL,
                          se = c("delta", "bootstrap"), n_boot = 200) {
  R <- check_responses(responses)
  # correlations are scale-invariant: each unit is scaled by a power of two
  # (exact: the same bits for ordinary data) so that data near the double
  # limits (1e-300, 1e300) neither underflow nor overflow in the sums
  big <- suppressWarnings(apply(abs(R), 2L, max, na.rm = TRUE))
  pow <- 2^-floor(log2(big))
  pow[!is.finite(pow) | big == 0] <- 1
  if (any(pow != 1)) R <- R * rep(pow, each = dim(R)[1])
  n_splits <- check_count(n_splits, "n_splits", min = 1)
  se <- match.arg(se)
  n_boot <- check_count(n_boot, "n_boot", min = 2)
  if (!is.null(seed)) seed <- check_count(seed, "seed", min = -.Machine$integer.max)
  d <- dim(R)
  n_stim <- d[1]
  k <- d[3]
  h <- k %/% 2L
  f <- k / h

  local_seed(seed)
  splits <- repeat_splits(k, n_splits)
  boot <- if (se == "bootstrap") {
    # resample counts of every stimulus, n_boot x T
    t(vapply(seq_len(n_boot), function(b) {
      tabulate(sample.int(n_stim, n_stim, replace = TRUE), n_stim)
    }, numeric(n_stim)))
  }

  sum_r <- numeric(d[2])
  n_r <- numeric(d[2])
  min_t <- rep(n_stim, d[2])
  boot_sum <- if (!is.null(boot)) matrix(0, n_boot, d[2])
  boot_n <- if (!is.null(boot)) matrix(0, n_boot, d[2])
  for (s in seq_along(splits)) {
    A <- half_mean(R, splits[[s]][[1]])
    B <- half_mean(R, splits[[s]][[2]])
    ok <- !is.na(A) & !is.na(B)
    A[!ok] <- NA
    B[!ok] <- NA
    r <- column_cor(A, B)
    min_t <- pmin(min_t, colSums(ok))
    def <- !is.na(r)
    sum_r[def] <- sum_r[def] + r[def]
    n_r[def] <- n_r[def] + 1
    if (!is.null(boot)) {
      rb <- boot_column_cor(A, B, ok, boot)
      defb <- !is.na(rb)
      boot_sum[defb] <- boot_sum[defb] + rb[defb]
      boot_n[defb] <- boot_n[defb] + 1
    }
  }
  r_bar <- ifelse(n_r > 0, sum_r / n_r, NA_real_)
  r_bar[min_t < 3] <- NA_real_
  rel <- spearman_brown(r_bar, f)
  se_val <- if (se == "delta") {
    out <- f * (1 - r_bar^2) / ((1 + (f - 1) * r_bar)^2 * sqrt(pmax(min_t - 3, 1)))
    out[min_t <= 3 | rel <= -1] <- NA_real_
    out
  } else {
    rel_b <- spearman_brown(ifelse(boot_n > 0, boot_sum / boot_n, NA_real_), f)
    out <- apply(rel_b, 2, stats::sd, na.rm = TRUE)
    out[is.na(rel)] <- NA_real_
    out
  }
  units <- dimnames(R)[[2]]
  if (is.null(units)) units <- seq_len(d[2])
  structure(
    data.frame(unit = units, reliability = rel, se = se_val,
               split_half = r_bar, stringsAsFactors = FALSE),
    repeats = k, half = h, splits = length(splits), se_method = se)
}

# The array stimuli x units x repeats, double, from an array or a list of
# repeat matrices; NA allowed, NaN/Inf not.
check_responses <- function(responses) {
  if (is.list(responses) && !is.data.frame(responses)) {
    if (length(responses) < 2L) {
      abort("`responses` needs at least 2 repeats, not ", length(responses),
            arg = "responses")
    }
    reps <- lapply(seq_along(responses), function(r) {
      x <- responses[[r]]
      if (is.data.frame(x)) x <- as.matrix(x)
      if (is.null(dim(x)) && is.numeric(x)) x <- matrix(x, ncol = 1L)
      if (!is.matrix(x) || !(is.numeric(x) || is.logical(x))) {
        abort("repeat ", r, " of `responses` must be a numeric matrix ",
              "(stimuli x units), not ", class(x)[1], arg = "responses")
      }
      x
    })
    d1 <- dim(reps[[1]])
    bad <- which(!vapply(reps, function(x) identical(dim(x), d1), TRUE))
    if (length(bad)) {
      abort("all repeats of `responses` must have the same stimuli x units ",
            "shape: repeat 1 is ", d1[1], " x ", d1[2], ", repeat ", bad[1],
            " is ", nrow(reps[[bad[1]]]), " x ", ncol(reps[[bad[1]]]),
            arg = "responses")
    }
    R <- array(unlist(lapply(reps, as.double)), c(d1, length(reps)),
               dimnames = list(rownames(reps[[1]]), colnames(reps[[1]]), NULL))
  } else if (is.array(responses) && length(dim(responses)) == 3L &&
             (is.numeric(responses) || is.logical(responses))) {
    R <- responses
    if (dim(R)[3] < 2L) {
      abort("`responses` needs at least 2 repeats (its third dimension), not ",
            dim(R)[3], arg = "responses")
    }
  } else {
    abort("`responses` must be an array stimuli x units x repeats or a list ",
          "of repeat matrices, not ",
          if (is.array(responses)) paste0("an array of ", length(dim(responses)),
                                          " dimensions") else class(responses)[1],
          arg = "responses")
  }
  if (any(dim(R)[1:2] == 0L)) {
    abort("`responses` has no ", if (dim(R)[1] == 0L) "stimuli" else "units",
          arg = "responses")
  }
  if (storage.mode(R) != "double") storage.mode(R) <- "double"
  if (any(is.nan(R) | is.infinite(R))) {
    abort("`responses` has NaN/Inf values (NA is allowed: left out of the ",
          "half means)", arg = "responses")
  }
  R
}

# Splits of k repeats into two halves of h = floor(k/2): all of them when
# there are at most n_splits (each unordered pair once), else n_splits drawn
# at random. A list of list(first, second).
repeat_splits <- function(k, n_splits) {
  h <- k %/% 2L
  n_all <- choose(k, 2 * h) * choose(2 * h, h) / 2
  if (n_all <= n_splits) {
    used <- utils::combn(k, 2 * h, simplify = FALSE)
    out <- list()
    for (u in used) {
      # halves containing the first repeat of `u`: each unordered split once
      for (first in utils::combn(u[-1], h - 1L, simplify = FALSE)) {
        one <- c(u[1], first)
        out[[length(out) + 1L]] <- list(one, setdiff(u, one))
      }
    }
    return(out)
  }
  lapply(seq_len(n_splits), function(s) {
    p <- sample.int(k, 2 * h)
    list(sort(p[seq_len(h)]), sort(p[h + seq_len(h)]))
  })
}

# mean over the repeats `idx` (NA left out; NA where all are missing)
half_mean <- function(R, idx) {
  sub <- R[, , idx, drop = FALSE]
  if (!anyNA(sub)) return(rowSums(sub, dims = 2L) / length(idx))
  cnt <- rowSums(!is.na(sub), dims = 2L)
  out <- rowSums(sub, dims = 2L, na.rm = TRUE) / cnt
  out[cnt == 0] <- NA_real_
  out
}

# Pearson correlation of matching columns over the rows where both are
# present (NA entries are in the same places in A and B); NA when a column
# has no variance.
column_cor <- function(A, B) {
  ok <- !is.na(A)
  n <- colSums(ok)
  A[!ok] <- 0
  B[!ok] <- 0
  ca <- sweep(A, 2L, colSums(A) / n) * ok
  cb <- sweep(B, 2L, colSums(B) / n) * ok
  sab <- colSums(ca * cb)
  saa <- colSums(ca^2)
  sbb <- colSums(cb^2)
  tiny <- 1e-28 * pmax(colSums(A^2), colSums(B^2))
  r <- sab / sqrt(saa * sbb)
  r[saa <= tiny | sbb <= tiny | n < 3 | !is.finite(r)] <- NA_real_
  pmin(pmax(r, -1), 1)
}

# the same for every bootstrap resample (rows of W: counts per stimulus):
# weighted sums by one matrix product, after centring on the full-sample
# means (so the sums of squares do not cancel)
boot_column_cor <- function(A, B, ok, W) {
  n <- colSums(ok)
  A[!ok] <- 0
  B[!ok] <- 0
  A <- sweep(A, 2L, colSums(A) / n) * ok
  B <- sweep(B, 2L, colSums(B) / n) * ok
  N <- ncol(A)
  S <- W %*% cbind(ok * 1, A, B, A * A, B * B, A * B)
  w <- S[, seq_len(N), drop = FALSE]
  sa <- S[, N + seq_len(N), drop = FALSE]
  sb <- S[, 2 * N + seq_len(N), drop = FALSE]
  saa <- S[, 3 * N + seq_len(N), drop = FALSE] - sa^2 / w
  sbb <- S[, 4 * N + seq_len(N), drop = FALSE] - sb^2 / w
  sab <- S[, 5 * N + seq_len(N), drop = FALSE] - sa * sb / w
  r <- sab / sqrt(saa * sbb)
  r[!(saa > 0 & sbb > 0) | w < 3 | !is.finite(r)] <- NA_real_
  pmin(pmax(r, -1), 1)
}

# from the reliability r of a mean of h repeats to that of f h repeats;
# floored at -1 (the pole at r = -1 / (f - 1))
spearman_brown <- function(r, f) {
  den <- 1 + (f - 1) * r
  out <- f * r / den
  out[!is.na(r) & den <= 0] <- -1
  pmax(out, -1)
}
