# Partial HOT (unit_mass, layer_mass) and noise-corrected scores
# (reliability, min_reliability): the fit of one split when any of them is
# asked for. Plain HOT (unit_mass = layer_mass = 1, no reliability) never
# comes here, so it stays the engine's, bit for bit.
#
# The inner problems are solved in the C pair loop (src/pair_loop.c; the
# kernel of src/ot_partial.c for a share < 1), the outer problem by the
# exact partial or balanced solver, every weighting scored by the engine's
# reconstruction kernel (src/reconstruct.c); what is partial-specific (the
# share each unit sends, the layers without mass, the noise ceilings) is
# computed here.

# Share of the mass to move: a number in (0, 1].
check_share <- function(x, arg) {
  if (!is.numeric(x) || length(x) != 1L || !is.finite(x) || x <= 0 || x > 1) {
    abort("`", arg, "` must be a single number in (0, 1] (the share of the ",
          "mass to transport), not ", describe(x), arg = arg)
  }
  as.double(x)
}

# A unit sending less than this share of its mass (weighted by the outer
# plan) counts as sending none.
unsent_tol <- 1e-6

# The inner plans of all pairs (the layout of fit$inner): triplets, start
# offsets, costs per unit of transported mass; one OpenMP pair loop in C
# (src/pair_loop.c), partial pairs through the kernel of src/ot_partial.c.
partial_inner_plans <- function(Xs, Ys, unit_mass, threads = 1L,
                                progress = FALSE) {
  res <- with_blas_single_thread(
    .Call(C_ffi_inner_plans_partial, Xs, Ys, threads, progress, unit_mass,
          cost_kernel_mode())
  )
  if (any(res$status != 0L)) {
    k <- which(res$status != 0L)[1]
    L <- length(Xs)
    pair <- c(names(Xs)[(k - 1L) %% L + 1L], names(Ys)[(k - 1L) %/% L + 1L])
    solver_failure(res$status[k], paste0("layer pair (`", pair[1], "`, `",
                                         pair[2], "`)"), pair)
  }
  list(i = res$i, j = res$j, x = res$x, start = res$start,
       cost = as.vector(res$cost))
}

# The outer plan (L x M) and the objective per unit of transported mass.
partial_outer_plan <- function(cost, layer_mass) {
  L <- nrow(cost)
  M <- ncol(cost)
  res <- if (layer_mass == 1) {
    solve_ot(cost, check_masses(NULL, NULL, L, M), "the layer cost matrix")
  } else {
    .Call(C_ffi_ot_partial, cost, rep(1 / L, L), rep(1 / M, M), layer_mass)
  }
  if (res$status != 0L) {
    abort("the exact OT solver failed on the layer cost matrix (status ",
          res$status, ")", class = "solver")
  }
  plan <- matrix(0, L, M, dimnames = dimnames(cost))
  plan[cbind(res$i, res$j)] <- res$x
  list(plan = plan, objective = res$cost / layer_mass)
}

# The inner plan of pair k as a sparse n x n' matrix.
pair_plan <- function(inner, k, n, nm) {
  idx <- if (inner$start[k + 1] > inner$start[k])
    seq.int(inner$start[k] + 1, inner$start[k + 1]) else integer(0)
  Matrix::sparseMatrix(i = inner$i[idx], j = inner$j[idx], x = inner$x[idx],
                       dims = c(n, nm))
}

# Per source layer: the weights of every target unit in every source unit's
# reconstruction (n_l x sum(n'_m), sparse) under the layer weights W, and
# the share of each source unit's mass that is sent (1 for every unit of
# balanced plans).
reconstruction_weights <- function(inner, W, n_source, n_target) {
  L <- length(n_source)
  M <- length(n_target)
  lapply(seq_len(L), function(l) {
    row_total <- sum(W[l, ])
    blocks <- lapply(seq_len(M), function(m) {
      Q <- pair_plan(inner, l + (m - 1L) * L, n_source[l], n_target[m])
      (W[l, m] * n_source[l]) * Q
    })
    Wl <- do.call(cbind, blocks)
    sent <- if (row_total > 0) Matrix::rowSums(Wl) / row_total else
      rep(0, n_source[l])
    list(weights = Wl, sent = sent)
  })
}

# Per source layer under layer weights W: the share of each unit's mass
# that is sent (1 for every unit of balanced plans), and the reliability of
# its reconstruction when the target reliabilities `rel_y` are given (else 1).
unit_sent_and_ceiling <- function(Yt_all, inner, W, n_source, n_target,
                                  rel_y = NULL) {
  rw <- reconstruction_weights(inner, W, n_source, n_target)
  lapply(seq_along(n_source), function(l) {
    Wl <- rw[[l]]$weights
    rel_hat <- rep(1, n_source[l])
    if (!is.null(rel_y)) {
      # reconstruction = sum_j w_j y_j with independent noise of variance
      # (1 - rel_j) var(y_j) in every target unit
      xhat <- as.matrix(Yt_all %*% Matrix::t(Wl))
      vy <- apply(Yt_all, 2L, stats::var)
      noise <- as.vector((Wl^2) %*% ((1 - rel_y) * vy))
      vx <- apply(xhat, 2L, stats::var)
      rel_hat <- 1 - noise / vx
      rel_hat[!is.finite(rel_hat) | rel_hat <= 0] <- NA_real_
    }
    list(sent = rw[[l]]$sent, unsent = rw[[l]]$sent < unsent_tol,
         rel_hat = rel_hat)
  })
}

# One split of partial / noise-corrected HOT. `rel` is NULL or
# list(X = per layer numeric, Y = per layer numeric) aligned with the
# columns of X, Y.
fit_split_partial <- function(X, Y, train, test, constant, n_perm, unit_mass,
                              layer_mass, rel, threads = 1L, progress = FALSE) {
  sx <- layer_standardisation(X, train, constant, "X")
  sy <- layer_standardisation(Y, train, constant, "Y")
  Xs <- standardise_layers(X, train, sx)
  Ys <- standardise_layers(Y, train, sy)
  L <- length(X)
  M <- length(Y)
  layer_names <- list(source = names(X), target = names(Y))
  inner <- partial_inner_plans(Xs, Ys, unit_mass, threads, progress)
  cost <- matrix(inner$cost, L, M, dimnames = layer_names)
  outer <- partial_outer_plan(cost, layer_mass)
  plan <- outer$plan
  mass_tol <- unsent_tol / max(L, M)
  fit <- c(
    list(plan = plan, cost = cost, objective = outer$objective, train = train,
         test = test),
    fit_layer_parts(inner, sx, sy),
    list(rotation = FALSE,
         layers_without_mass = list(
           source = names(X)[rowSums(plan) < mass_tol],
           target = names(Y)[colSums(plan) < mass_tol]))
  )
  perms <- if (length(test)) perm_p_permutations(L, n_perm)
  c(fit, score_split_partial(X, Y, fit, sx, sy, test, perms, rel))
}

score_split_partial <- function(X, Y, fit, sx, sy, test, perms, rel) {
  L <- length(X)
  M <- length(Y)
  na_layers <- stats::setNames(rep(NA_real_, L), names(X))
  empty <- data.frame(layer = character(0), unit = integer(0))
  if (!length(test)) {
    return(list(score = NA_real_, layer_scores = na_layers, unit_scores = NULL,
                undefined = empty, unsent = cbind(empty, sent = numeric(0)),
                baselines = list(pairwise_best = NA_real_, single_best = NA_real_,
                                 perm_p = NA_real_, perm_p_value = NA_real_),
                baseline_layer_scores = baseline_table(na_layers, na_layers,
                                                       na_layers),
                perm_scores = numeric(0), perm_exact = FALSE,
                score_corrected = NA_real_, layer_scores_corrected = na_layers,
                ceilings = NULL))
  }
  Xt <- standardise_layers(X, test, sx)
  Yt <- standardise_layers(Y, test, sy)
  Yt_all <- do.call(cbind, unname(Yt))
  n_source <- fit$sizes$source
  n_target <- fit$sizes$target
  rel_x <- if (!is.null(rel$X)) Map(function(r, s) r[s$keep], rel$X, sx)
  rel_y <- if (!is.null(rel$Y)) unlist(Map(function(r, s) r[s$keep], rel$Y, sy),
                                       use.names = FALSE)
  sending <- rowSums(fit$plan) >= unsent_tol / max(L, M)
  layer_means <- function(units) {
    out <- vapply(units, function(r) {
      if (all(is.na(r))) NA_real_ else mean(r, na.rm = TRUE)
    }, 0)
    out[!sending] <- NA_real_
    out
  }
  # every weighting (the plan, the baselines, the permutations) scored by
  # the engine's reconstruction kernel (src/reconstruct.c); units sending
  # (almost) none of their mass under it are NA
  sent_of_pair <- lapply(seq_len(L * M), function(k) {
    l <- (k - 1L) %% L + 1L
    m <- (k - 1L) %/% L + 1L
    Matrix::rowSums(pair_plan(fit$inner, k, n_source[l], n_target[m])) * n_source[l]
  })
  kernel_inner <- list(as.integer(fit$inner$i), as.integer(fit$inner$j),
                       as.double(fit$inner$x), as.double(fit$inner$start))
  Xt_u <- unname(Xt)
  Yt_u <- unname(Yt)
  scores_of <- function(W) {
    res <- .Call(C_ffi_reconstruct_scores, Xt_u, Yt_u, kernel_inner,
                 matrix(as.double(W), L), NULL, FALSE, as.integer(n_source), NULL)
    lapply(seq_len(L), function(l) {
      sent <- numeric(n_source[l])
      for (m in which(W[l, ] > 0)) {
        sent <- sent + W[l, m] * sent_of_pair[[l + (m - 1L) * L]]
      }
      r <- res$units[[l]]
      r[sent / max(sum(W[l, ]), .Machine$double.xmin) < unsent_tol] <- NA_real_
      r
    })
  }
  one_hot <- function(target) {
    W <- matrix(0, L, M)
    W[cbind(seq_len(L), target)] <- 1 / L
    W
  }
  main <- unit_sent_and_ceiling(Yt_all, fit$inner, fit$plan, n_source,
                                n_target, rel_y)
  unit_label <- function(x, s) if (is.null(colnames(x))) s$keep else colnames(x)[s$keep]
  units <- Map(function(r, x, s) stats::setNames(r, unit_label(x, s)),
               scores_of(fit$plan), X, sx)
  names(units) <- names(X)
  # units of sending layers that send (almost) none of their mass: reported
  unsent <- do.call(rbind, c(lapply(which(sending), function(l) {
    bad <- which(main[[l]]$unsent)
    data.frame(layer = rep(names(X)[l], length(bad)), unit = sx[[l]]$keep[bad],
               sent = main[[l]]$sent[bad])
  }), list(data.frame(layer = character(0), unit = integer(0), sent = numeric(0)))))
  undefined <- do.call(rbind, c(lapply(which(sending), function(l) {
    bad <- which(is.na(units[[l]]) & !main[[l]]$unsent)
    data.frame(layer = rep(names(X)[l], length(bad)), unit = sx[[l]]$keep[bad])
  }), list(empty)))
  layer_scores <- stats::setNames(layer_means(units), names(X))
  score <- mean(layer_scores, na.rm = TRUE)

  # noise ceilings: sqrt(rel_x * rel_reconstruction) per source unit
  ceilings <- Map(function(u, l) {
    rx <- if (is.null(rel_x)) rep(1, length(u$sent)) else rel_x[[l]]
    rx[!is.finite(rx) | rx <= 0] <- NA_real_
    sqrt(rx * u$rel_hat)
  }, main, seq_len(L))
  names(ceilings) <- names(X)
  corrected <- Map(`/`, units, ceilings)
  layer_corr <- stats::setNames(layer_means(corrected), names(X))

  pairwise <- layer_means(scores_of(one_hot(apply(fit$cost, 1, which.min))))
  single <- layer_means(scores_of(one_hot(apply(fit$plan, 1, which.max))))
  perm_layers <- matrix(vapply(perms, function(p) {
    layer_means(scores_of(fit$plan[p, , drop = FALSE]))
  }, numeric(L)), nrow = L)
  perm_scores <- colMeans(perm_layers, na.rm = TRUE)
  perm_layer <- if (length(perms)) rowMeans(perm_layers, na.rm = TRUE) else
    rep(NA_real_, L)
  list(
    score = score, layer_scores = layer_scores, unit_scores = units,
    undefined = undefined, unsent = unsent,
    baselines = list(
      pairwise_best = mean(pairwise, na.rm = TRUE),
      single_best = mean(single, na.rm = TRUE),
      perm_p = if (length(perms)) mean(perm_scores) else NA_real_,
      perm_p_value = perm_p_value(score, perm_scores, exact = attr(perms, "exact"))
    ),
    baseline_layer_scores = baseline_table(pairwise, single, perm_layer,
                                           names(X)),
    perm_scores = perm_scores, perm_exact = isTRUE(attr(perms, "exact")),
    score_corrected = mean(layer_corr, na.rm = TRUE),
    layer_scores_corrected = layer_corr, ceilings = ceilings
  )
}

# ---- reliability ---------------------------------------------------------------

# `reliability` as list(X = , Y = ), each NULL or one entry per layer (by
# name or position): a numeric vector of one reliability per unit, or a
# noise_ceiling() data frame. Returns list(X, Y) of numeric vectors.
check_reliability <- function(reliability, X, Y) {
  if (is.null(reliability)) return(NULL)
  if (!is.list(reliability) || is.data.frame(reliability) ||
      !all(names(reliability) %in% c("X", "Y")) || is.null(names(reliability))) {
    abort("`reliability` must be list(X = , Y = ): per system a list of ",
          "per-unit reliabilities, one entry per layer", arg = "reliability")
  }
  one <- function(r, layers, arg) {
    if (is.null(r)) return(NULL)
    if (is.data.frame(r) || !is.list(r)) r <- list(r)
    if (length(r) != length(layers)) {
      abort("`reliability$", arg, "` must have one entry per layer of `", arg,
            "` (", length(layers), "), not ", length(r), arg = "reliability")
    }
    if (!is.null(names(r)) && all(names(layers) %in% names(r))) r <- r[names(layers)]
    Map(function(v, x, name) {
      if (is.data.frame(v)) v <- v$reliability
      if (!is.numeric(v) || length(v) != ncol(x)) {
        abort("`reliability$", arg, "` for layer `", name, "` must be ",
              ncol(x), " numbers (one per unit) or a noise_ceiling() ",
              "data frame of as many rows", arg = "reliability", layer = name)
      }
      if (any(is.infinite(v) | is.nan(v)) || any(v > 1, na.rm = TRUE)) {
        abort("`reliability$", arg, "` for layer `", name, "` has values ",
              "above 1 or infinite", arg = "reliability", layer = name)
      }
      as.double(v)
    }, r, layers, names(layers))
  }
  list(X = one(reliability$X, X, "X"), Y = one(reliability$Y, Y, "Y"))
}

# Drops the units below min_reliability (NA reliability counts as below);
# returns the kept layers, their reliabilities, and the removed units as
# original column indices per layer.
apply_min_reliability <- function(layers, rel, min_reliability, arg) {
  removed <- lapply(layers, function(x) integer(0))
  if (is.null(rel) || is.null(min_reliability)) {
    return(list(layers = layers, rel = rel, removed = removed))
  }
  for (l in seq_along(layers)) {
    keep <- which(!is.na(rel[[l]]) & rel[[l]] >= min_reliability)
    if (!length(keep)) {
      abort("no unit of layer `", names(layers)[l], "` of `", arg,
            "` reaches `min_reliability` (", min_reliability, ")",
            arg = "min_reliability", layer = names(layers)[l])
    }
    drop <- setdiff(seq_len(ncol(layers[[l]])), keep)
    if (length(drop)) {
      x <- layers[[l]]
      if (is.null(colnames(x))) colnames(x) <- seq_len(ncol(x))
      layers[[l]] <- x[, keep, drop = FALSE]
      rel[[l]] <- rel[[l]][keep]
      removed[[l]] <- drop
    }
  }
  list(layers = layers, rel = rel, removed = removed)
}

# ---- the fit ---------------------------------------------------------------------

# hot() with unit_mass < 1, layer_mass < 1 or reliabilities (arguments
# checked by hot()).
hot_partial <- function(X, Y, test, holdout, splits, seed, n_perm, constant,
                        unit_mass, layer_mass, rel, min_reliability, call,
                        threads = 1L, progress = FALSE) {
  if (unit_mass < 1) {
    # per thread, the augmented (n + 1) x (n' + 1) cost and its arcs on top
    # of plain HOT's working memory
    wx <- vapply(X, ncol, 1L)
    wy <- vapply(Y, ncol, 1L)
    check_memory(hot_memory_bytes(wx, wy, nrow(X[[1]]), threads) +
                   threads * (partial_workspace_bytes(max(wx), max(wy)) -
                                .Call(C_ffi_ot_workspace, max(wx), max(wy))),
                 paste0("partial hot() on `X` (", length(X), " layers) and `Y` (",
                        length(Y), " layers) with ", threads, " thread",
                        if (threads > 1) "s"))
  }
  fx <- apply_min_reliability(X, rel$X, min_reliability, "X")
  fy <- apply_min_reliability(Y, rel$Y, min_reliability, "Y")
  rel_kept <- if (!is.null(rel)) list(X = fx$rel, Y = fy$rel)
  n_stimuli <- nrow(X[[1]])
  fits <- with_seed(seed, {
    folds <- make_splits(n_stimuli, test, holdout, splits)
    lapply(folds, function(f) {
      fit_split_partial(fx$layers, fy$layers, f$train, f$test, constant,
                        n_perm, unit_mass, layer_mass, rel_kept, threads,
                        progress)
    })
  })
  fit <- new_hot(fits, call = call, n_perm = n_perm, seed = seed)
  first <- fits[[1]]
  K <- length(fits)
  corrected <- vapply(fits, `[[`, 0, "score_corrected")
  fit$unit_mass <- unit_mass
  fit$layer_mass <- layer_mass
  fit$unsent <- first$unsent
  fit$layers_without_mass <- first$layers_without_mass
  if (!is.null(rel)) {
    fit$score_corrected <- mean(corrected)
    fit$score_corrected_se <- if (K > 1) stats::sd(corrected) / sqrt(K) else NA_real_
    fit$layer_scores_corrected <- rowMeans(matrix(
      vapply(fits, `[[`, first$layer_scores_corrected, "layer_scores_corrected"),
      ncol = K))
    names(fit$layer_scores_corrected) <- names(first$layer_scores_corrected)
    fit$ceilings <- first$ceilings
    fit$reliability_removed <- list(source = fx$removed, target = fy$removed)
    fit$min_reliability <- min_reliability
    for (k in seq_len(K)) fit$splits[[k]]$score_corrected <- corrected[k]
  }
  fit
}

# ---- print / summary -----------------------------------------------------------

# The partial and noise-ceiling fields of a fit (NULL for plain HOT), kept by
# summary.hot() and shown by print.hot() / print.summary.hot().
partial_summary <- function(x) {
  if (is.null(x$unit_mass) && is.null(x$score_corrected)) return(NULL)
  x[intersect(c("unit_mass", "layer_mass", "layers_without_mass", "unsent",
                "score_corrected", "score_corrected_se", "reliability_removed",
                "min_reliability", "layer_scores"), names(x))]
}

partial_text <- function(p, digits) {
  if (is.null(p)) return(character(0))
  out <- character(0)
  if (p$unit_mass < 1 || p$layer_mass < 1) {
    L <- length(p$layer_scores)
    k <- L - length(p$layers_without_mass$source)
    out <- c(out, paste0(
      "  partial: unit_mass ", format(signif(p$unit_mass, digits)), ", layer_mass ",
      format(signif(p$layer_mass, digits)), "; the score averages over the ", k,
      " of ", L, " source layers that send mass\n"))
    lw <- p$layers_without_mass
    if (length(lw$source) || length(lw$target)) {
      out <- c(out, paste0(
        "  layers without mass: ",
        if (length(lw$source)) paste0("source ", paste(lw$source, collapse = ", ")),
        if (length(lw$source) && length(lw$target)) "; ",
        if (length(lw$target)) paste0("target ", paste(lw$target, collapse = ", ")),
        "\n"))
    }
    if (NROW(p$unsent)) {
      out <- c(out, paste0("  ", NROW(p$unsent), " source unit",
                           if (NROW(p$unsent) > 1) "s send" else " sends",
                           " no mass (left out of the scores): see `$unsent`\n"))
    }
  }
  if (!is.null(p$score_corrected)) {
    removed <- sum(lengths(p$reliability_removed$source)) +
      sum(lengths(p$reliability_removed$target))
    out <- c(out, paste0(
      "  noise-corrected score ", hot_fmt(p$score_corrected, digits),
      if (!is.na(p$score_corrected_se))
        paste0(" (SE ", hot_fmt(p$score_corrected_se, digits), ")"),
      " (each unit's correlation / its noise ceiling)",
      if (!is.null(p$min_reliability))
        paste0("; ", removed, " unit", if (removed != 1) "s", " below ",
               "min_reliability ", format(signif(p$min_reliability, digits)),
               " removed"), "\n"))
  }
  out
}

# predict() of a partial fit: each source unit rebuilt from the mass it
# sends (its reconstruction divided by that weight, L * sum_m plan[l, m] *
# n_l * rowSums(Q_lm)); units (and layers) sending none are NA. Fits of
# balanced HOT are returned untouched.
partial_renormalise <- function(object, l, acc) {
  if (is.null(object$unit_mass) ||
      (object$unit_mass == 1 && object$layer_mass == 1)) return(acc)
  plan <- object$plan
  L <- nrow(plan)
  M <- ncol(plan)
  n <- object$inner$n_source[l]
  sent <- numeric(n)
  for (m in seq_len(M)) {
    if (plan[l, m] == 0) next
    Q <- pair_plan(object$inner, l + (m - 1L) * L, n, object$inner$n_target[m])
    sent <- sent + L * plan[l, m] * n * Matrix::rowSums(Q)
  }
  share <- sent / max(L * sum(plan[l, ]), .Machine$double.xmin)
  out <- sweep(acc, 2L, ifelse(share < unsent_tol, NA_real_, sent), "/")
  out
}
