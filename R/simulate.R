#' Simulate two hierarchical systems with a known layer correspondence
#'
#' Generates responses of two systems, A (the source, `source_layers` layers)
#' and B (the target, `target_layers` layers, at least as deep), to the same
#' stimuli, with a known ground-truth coupling of their layers. It is the
#' test bed of [hot()]: system B is a deeper, differently sized re-encoding of
#' system A, so greedy layer-to-layer matching is bound to miss part of each
#' source layer, while a mass-conserving coupling can find all of it.
#'
#' @section Generative model:
#' 1. **Stage signals.** Every unit `i` of source layer `l` has a latent
#'    signal `s[l, i]`, a vector over the `n_stimuli` stimuli. Signals of the
#'    first layer are independent standard normal; a later layer inherits part
#'    of its predecessor's signals,
#'    `S_l = sqrt(inheritance) * S_(l-1) W_l + sqrt(1 - inheritance) * E_l`,
#'    with `W_l` random unit-norm mixing weights and `E_l` fresh standard normal
#'    noise, so that neighbouring stages are related as in a processing
#'    hierarchy (`inheritance = 0` makes them independent). Every signal is
#'    then centred and scaled to unit standard deviation.
#' 2. **System A.** `X_l = S_l + noise * E`.
#' 3. **Depth expansion.** The target layers are cut into `source_layers`
#'    consecutive blocks of (nearly) equal size; block `l` re-encodes source
#'    layer `l`. The units of source layer `l` are split at random into as
#'    many (nearly) equal shares as its block has layers, one share per target
#'    layer. Each unit of a target layer is a noisy copy of the signal of one
#'    unit of its share, `y = s[l, i] + noise * e`; every unit of the share is
#'    copied at least once when the target layer has at least as many units
#'    as the share, and the copies are in random column order.
#'
#' The ground truth `truth[l, m]` is the share of source layer `l`'s units
#' assigned to target layer `m`: zero outside block `l`, and the rows sum to
#' one. When every source layer splits evenly over its block (for example 4
#' source layers of 30 units and 8 target layers: shares of 15 units),
#' `truth / source_layers` is a coupling with uniform marginals, the layer
#' plan that HOT is expected to find.
#'
#' The correlation between a source unit and a noisy copy of it is
#' `1 / (1 + noise^2)`.
#'
#' @section Repeats:
#' `noise` is part of each unit's own, stable response. With `repeats > 1`
#' (or `repeat_noise > 0`), every unit is also measured `repeats` times with
#' independent measurement noise of standard deviation `sigma[u]` per repeat,
#' and `X`, `Y` are the means over the repeats (what a fit would use). Its
#' true reliability (the share of the variance of the mean that is stable
#' response) is
#' \deqn{\frac{1 + noise^2}{1 + noise^2 + \sigma_u^2 / repeats}.}{(1 + noise^2) / (1 + noise^2 + sigma[u]^2 / repeats).}
#' `repeat_noise` is one `sigma` for every unit, or a range `c(low, high)`
#' from which each unit's `sigma` is drawn uniformly, so that some units are
#' much less reliable than others. The repeat noise is drawn after
#' everything else, so the stable responses are those of the same call
#' without repeats (and the default, `repeats = 1, repeat_noise = 0`, draws
#' nothing more).
#'
#' @param n_stimuli Number of stimuli (rows of every layer), a whole number of
#'   at least 2.
#' @param source_layers Number of layers of system A.
#' @param target_layers Number of layers of system B, at least
#'   `source_layers`.
#' @param source_units Units per source layer: one number for all layers or
#'   one per layer.
#' @param target_units Units per target layer: one number for all layers or
#'   one per layer.
#' @param noise Standard deviation of the independent noise added to every
#'   unit, relative to the unit-variance signals; a non-negative number.
#' @param inheritance Share of variance a source stage inherits from the
#'   previous one, in `[0, 1)`.
#' @param seed `NULL` (use the current random state) or a whole number; the
#'   random state of the session is restored afterwards when a seed is given.
#' @param repeats Number of repeated measurements of every unit, a positive
#'   whole number (see the section).
#' @param repeat_noise Standard deviation of the measurement noise of one
#'   repeat: one non-negative number, or a range `c(low, high)` to draw one
#'   per unit.
#'
#' @return A list with
#'   * `X`: named list (`"A1"`, `"A2"`, ...) of `n_stimuli x source_units[l]`
#'     matrices, the source system;
#'   * `Y`: named list (`"B1"`, `"B2"`, ...) of `n_stimuli x target_units[m]`
#'     matrices, the target system;
#'   * `truth`: `source_layers x target_layers` matrix, the share of each
#'     source layer found in each target layer (rows sum to 1), with dimnames
#'     `source` and `target`;
#'   * `block`: named integer vector, the source layer each target layer
#'     re-encodes;
#'   * `unit_source`: named list, per target layer the integer index of the
#'     source unit (in layer `block[m]`) each of its units copies.
#'
#' Unit columns are named `"A1_1"`, `"A1_2"`, ..., `"B1_1"`, ...
#'
#' With repeats (`repeats > 1` or `repeat_noise > 0`) the list also has
#'   * `repeats`: `list(X = , Y = )`, per layer an array
#'     `n_stimuli x units x repeats` of the single measurements (input of
#'     [noise_ceiling()]);
#'   * `noiseless`: `list(X = , Y = )`, the stable responses (without
#'     measurement noise);
#'   * `reliability`: `list(X = , Y = )`, per layer the true reliability of
#'     every unit's mean over the repeats (named by unit);
#'   * `repeat_sd`: `list(X = , Y = )`, per layer every unit's `sigma`.
#'
#' @seealso [hot()], [hot_example]
#' @export
#' @examples
#' sim <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                           target_layers = 4, source_units = 10,
#'                           target_units = 8, seed = 1)
#' str(sim$X)
#' sim$truth
#'
#' # correlation of a target unit with the source unit it copies
#' j <- 1
#' i <- sim$unit_source$B1[j]
#' cor(sim$Y$B1[, j], sim$X$A1[, i])
#'
#' # 4 repeats, measurement noise of sd 0.2 to 3 per unit
#' rep4 <- simulate_hierarchy(n_stimuli = 60, source_layers = 2,
#'                            target_layers = 4, source_units = 10,
#'                            target_units = 8, seed = 1, repeats = 4,
#'                            repeat_noise = c(0.2, 3))
#' dim(rep4$repeats$X$A1)
#' round(rep4$reliability$X$A1, 2)
simulate_hierarchy <- function(n_stimuli = 200, source_layers = 4,
                               target_layers = 8, source_units = 30,
                               target_units = 20, noise = 0.5,
                               inheritance = 0.25, seed = NULL,
                               repeats = 1, repeat_noise = 0) {
  n_stimuli <- sim_check_whole(n_stimuli, "n_stimuli", min = 2)
  source_layers <- sim_check_whole(source_layers, "source_layers", min = 1)
  target_layers <- sim_check_whole(target_layers, "target_layers", min = 1)
  if (target_layers < source_layers) {
    abort("`target_layers` (", target_layers, ") must be at least ",
         "`source_layers` (", source_layers, "); swap the two systems to ",
         "simulate a shallower target", arg = "target_layers")
  }
  source_units <- sim_check_units(source_units, "source_units", source_layers)
  target_units <- sim_check_units(target_units, "target_units", target_layers)
  if (!is.numeric(noise) || length(noise) != 1L || !is.finite(noise) ||
      noise < 0) {
    abort("`noise` must be a single non-negative finite number", arg = "noise")
  }
  if (!is.numeric(inheritance) || length(inheritance) != 1L ||
      !is.finite(inheritance) || inheritance < 0 || inheritance >= 1) {
    abort("`inheritance` must be a single number in [0, 1)", arg = "inheritance")
  }
  if (!is.null(seed)) {
    seed <- sim_check_whole(seed, "seed", min = -.Machine$integer.max)
  }
  repeats <- sim_check_whole(repeats, "repeats", min = 1)
  if (!is.numeric(repeat_noise) || !(length(repeat_noise) %in% 1:2) ||
      any(!is.finite(repeat_noise)) || any(repeat_noise < 0) ||
      (length(repeat_noise) == 2L && repeat_noise[1] > repeat_noise[2])) {
    abort("`repeat_noise` must be one non-negative number or a range ",
          "c(low, high) with 0 <= low <= high", arg = "repeat_noise")
  }

  # block of target layers re-encoding each source layer
  bounds <- floor(seq.int(0L, source_layers) * target_layers / source_layers)
  block_size <- diff(bounds)
  block <- rep.int(seq_len(source_layers), block_size)
  short <- which(source_units < block_size)
  if (length(short) > 0L) {
    l <- short[1L]
    abort("`source_units` of layer `A", l, "` (", source_units[l], ") must ",
         "be at least the number of target layers re-encoding it (",
         block_size[l], ")", arg = "source_units", layer = paste0("A", l))
  }

  # refused before anything is drawn: the layers (X, the source signals, Y,
  # the target signals) and, with repeats, their repeated measurements
  unit_total <- 2 * sum(as.double(source_units)) + 2 * sum(as.double(target_units))
  repeated <- repeats > 1L || any(repeat_noise > 0)
  check_memory(8 * as.double(n_stimuli) * unit_total *
                 (1 + if (repeated) 2 * repeats else 0),
               paste0("simulate_hierarchy() with `n_stimuli = ", n_stimuli, "`"))
  local_seed(seed)

  source_names <- paste0("A", seq_len(source_layers))
  target_names <- paste0("B", seq_len(target_layers))

  # 1. latent stage signals
  signals <- vector("list", source_layers)
  for (l in seq_len(source_layers)) {
    fresh <- matrix(stats::rnorm(n_stimuli * source_units[l]), n_stimuli,
                    source_units[l])
    if (l > 1L && inheritance > 0) {
      weights <- matrix(stats::rnorm(source_units[l - 1L] * source_units[l]),
                        source_units[l - 1L], source_units[l])
      weights <- sweep(weights, 2L, sqrt(colSums(weights^2)), "/")
      fresh <- sqrt(inheritance) * (signals[[l - 1L]] %*% weights) +
        sqrt(1 - inheritance) * fresh
    }
    signals[[l]] <- sim_unit_sd(fresh)
  }

  # 2. system A
  X <- vector("list", source_layers)
  for (l in seq_len(source_layers)) {
    X[[l]] <- signals[[l]] + noise * matrix(stats::rnorm(length(signals[[l]])),
                                            n_stimuli, source_units[l])
    colnames(X[[l]]) <- paste0(source_names[l], "_", seq_len(source_units[l]))
  }
  names(X) <- source_names

  # 3. depth expansion
  truth <- matrix(0, source_layers, target_layers,
                  dimnames = list(source = source_names, target = target_names))
  Y <- vector("list", target_layers)
  unit_source <- vector("list", target_layers)
  for (l in seq_len(source_layers)) {
    targets <- which(block == l)
    b <- length(targets)
    shares <- split(sample.int(source_units[l]),
                    rep_len(seq_len(b), source_units[l]))
    for (k in seq_len(b)) {
      m <- targets[k]
      share <- shares[[k]]
      truth[l, m] <- length(share) / source_units[l]
      n_m <- target_units[m]
      copies <- if (n_m >= length(share)) {
        rep_len(share, n_m)[sample.int(n_m)]
      } else {
        share[sample.int(length(share), n_m)]
      }
      Y[[m]] <- signals[[l]][, copies, drop = FALSE] +
        noise * matrix(stats::rnorm(n_stimuli * n_m), n_stimuli, n_m)
      colnames(Y[[m]]) <- paste0(target_names[m], "_", seq_len(n_m))
      unit_source[[m]] <- as.integer(copies)
    }
  }
  names(Y) <- target_names
  names(unit_source) <- target_names
  names(block) <- target_names

  out <- list(X = X, Y = Y, truth = truth, block = block,
              unit_source = unit_source)
  if (repeats > 1L || any(repeat_noise > 0)) {
    stable_var <- 1 + noise^2
    measure <- function(layers) {
      lapply(layers, function(x) {
        n_u <- ncol(x)
        sigma <- if (length(repeat_noise) == 1L) rep(repeat_noise, n_u) else
          stats::runif(n_u, repeat_noise[1], repeat_noise[2])
        reps <- array(stats::rnorm(length(x) * repeats), c(dim(x), repeats))
        reps <- sweep(reps, 2L, sigma, "*") + as.vector(x)
        dimnames(reps) <- list(NULL, colnames(x), NULL)
        names(sigma) <- colnames(x)
        list(repeats = reps, sigma = sigma,
             mean = rowMeans(reps, dims = 2L),
             reliability = stable_var / (stable_var + sigma^2 / repeats))
      })
    }
    mx <- measure(X)
    my <- measure(Y)
    pick <- function(m, what) lapply(m, `[[`, what)
    out$noiseless <- list(X = X, Y = Y)
    out$X <- pick(mx, "mean")
    out$Y <- pick(my, "mean")
    out$repeats <- list(X = pick(mx, "repeats"), Y = pick(my, "repeats"))
    out$reliability <- list(X = pick(mx, "reliability"),
                            Y = pick(my, "reliability"))
    out$repeat_sd <- list(X = pick(mx, "sigma"), Y = pick(my, "sigma"))
  }
  out
}

# --- helpers (private) -------------------------------------------------------

sim_check_whole <- function(x, arg, min) {
  if (!is.numeric(x) || length(x) != 1L || !is.finite(x) ||
      x != round(x) || x < min || x > .Machine$integer.max) {
    abort("`", arg, "` must be a single whole number of at least ", min,
          " (and below 2^31)", arg = arg)
  }
  as.integer(x)
}

sim_check_units <- function(x, arg, n_layers) {
  if (!is.numeric(x) || !(length(x) %in% c(1L, n_layers)) ||
      anyNA(x) || any(!is.finite(x)) || any(x != round(x)) || any(x < 1) ||
      any(x > .Machine$integer.max)) {
    abort("`", arg, "` must be one positive whole number or one per layer (",
          n_layers, ")", arg = arg)
  }
  rep_len(as.integer(x), n_layers)
}

sim_unit_sd <- function(s) {
  s <- sweep(s, 2L, colMeans(s), "-")
  sd <- sqrt(colSums(s^2) / max(nrow(s) - 1L, 1L))
  sd[sd == 0] <- 1
  sweep(s, 2L, sd, "/")
}
