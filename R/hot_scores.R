# Held-out scores of one split and their aggregation over splits into the
# "hot" object: the perm-P permutations and p-value, the baseline table,
# the undefined units.

# The scores of one split from the engine's result: `res$layer_scores` is
# L x (3 + n_perm), the layer means of the HOT plan, pairwise best, single
# best and every permutation; `res$unit_scores` the units of the HOT plan.
split_scores <- function(res, X, sx, perms) {
  L <- length(X)
  n_perm <- length(perms)
  if (is.null(res$layer_scores)) {
    na_layers <- stats::setNames(rep(NA_real_, L), names(X))
    return(list(score = NA_real_, layer_scores = na_layers, unit_scores = NULL,
                undefined = undefined_frame(character(0), integer(0)),
                baselines = list(pairwise_best = NA_real_, single_best = NA_real_,
                                 perm_p = NA_real_, perm_p_value = NA_real_),
                baseline_layer_scores = baseline_table(na_layers, na_layers,
                                                       na_layers),
                perm_scores = numeric(0), perm_exact = FALSE))
  }
  units <- res$unit_scores
  for (l in seq_len(L)) {
    nm <- colnames(X[[l]])
    names(units[[l]]) <- if (is.null(nm)) sx[[l]]$keep else nm[sx[[l]]$keep]
  }
  names(units) <- names(X)
  means <- res$layer_scores
  layer_scores <- stats::setNames(means[, 1], names(X))
  score <- mean(layer_scores, na.rm = TRUE)
  pairwise <- means[, 2]
  single <- means[, 3]
  perm_layers <- means[, -(1:3), drop = FALSE]
  perm_scores <- colMeans(perm_layers, na.rm = TRUE)
  perm_layer <- if (n_perm) rowMeans(perm_layers, na.rm = TRUE) else rep(NA_real_, L)
  list(
    score = score, layer_scores = layer_scores, unit_scores = units,
    undefined = undefined_units(units, sx),
    baselines = list(
      pairwise_best = mean(pairwise, na.rm = TRUE),
      single_best = mean(single, na.rm = TRUE),
      perm_p = if (n_perm) mean(perm_scores) else NA_real_,
      perm_p_value = perm_p_value(score, perm_scores, exact = attr(perms, "exact"))
    ),
    baseline_layer_scores = baseline_table(pairwise, single, perm_layer,
                                           names(X)),
    perm_scores = perm_scores, perm_exact = isTRUE(attr(perms, "exact"))
  )
}

# The row permutations of the perm-P null. When there are no more than
# `n_perm` of them (L! <= n_perm) all are used, identity included, and the test
# is exact; otherwise `n_perm` are drawn at random.
perm_p_permutations <- function(L, n_perm) {
  if (n_perm > 0 && L <= 8L && factorial(L) <= n_perm) {
    key <- as.character(L)
    if (is.null(exact_permutations[[key]])) {
      perms <- all_permutations(L)
      exact_permutations[[key]] <- structure(
        lapply(seq_len(nrow(perms)), function(k) perms[k, ]), exact = TRUE)
    }
    return(exact_permutations[[key]])
  }
  structure(lapply(seq_len(n_perm), function(k) sample.int(L)), exact = FALSE)
}

# all L! permutations of L <= 8 layers, computed once per L
exact_permutations <- new.env(parent = emptyenv())

all_permutations <- function(L) {
  if (L == 1L) return(matrix(1L, 1L, 1L))
  smaller <- all_permutations(L - 1L)
  do.call(rbind, lapply(seq_len(L), function(first) {
    cbind(first, matrix(setdiff(seq_len(L), first)[smaller], nrow(smaller)))
  }))
}

# Exact: the share of all permutations (the identity among them) scoring at
# least as high. Monte Carlo: (1 + #{perm >= score}) / (1 + n_perm).
perm_p_value <- function(score, perm_scores, exact = FALSE) {
  if (!length(perm_scores) || is.na(score)) return(NA_real_)
  if (isTRUE(exact)) return(mean(perm_scores >= score))
  (1 + sum(perm_scores >= score)) / (1 + length(perm_scores))
}

baseline_table <- function(pairwise, single, perm, layers = names(pairwise)) {
  matrix(c(pairwise, single, perm), ncol = 3L,
         dimnames = list(layers, c("pairwise_best", "single_best", "perm_p")))
}

undefined_units <- function(units, stats) {
  # the common case, every unit defined, without the per-layer walk
  if (!anyNA(unlist(units, use.names = FALSE))) {
    return(undefined_frame(character(0), integer(0)))
  }
  bad <- lapply(units, function(r) which(is.na(r)))
  undefined_frame(rep(names(units), lengths(bad)),
                  as.integer(unlist(Map(function(b, s) s$keep[b], bad,
                                        stats[names(units)]),
                                    use.names = FALSE)))
}

# data.frame(layer, unit), built directly: data.frame() itself (argument
# deparsing, name checks) cost a fifth of the R time of a small fit
undefined_frame <- function(layer, unit) {
  structure(list(layer = layer, unit = unit), class = "data.frame",
            row.names = .set_row_names(length(unit)))
}

# Assembles the "hot" object from the fits of the splits.
new_hot <- function(fits, call, n_perm, seed) {
  first <- fits[[1]]
  K <- length(fits)
  scores <- vapply(fits, `[[`, 0, "score")
  layer_scores <- rowMeans(matrix(vapply(fits, `[[`, first$layer_scores,
                                         "layer_scores"),
                                  ncol = K))
  names(layer_scores) <- names(first$layer_scores)
  baselines <- lapply(c(pairwise_best = "pairwise_best",
                        single_best = "single_best", perm_p = "perm_p"),
                      function(b) mean(vapply(fits, function(f) f$baselines[[b]], 0)))
  # the null of the split-averaged score: permutation k averaged over splits
  perm_scores <- rowMeans(matrix(unlist(lapply(fits, `[[`, "perm_scores")),
                                 ncol = K))
  baselines$perm_p_value <- if (K == 1) first$baselines$perm_p_value else
    perm_p_value(mean(scores), perm_scores, exact = first$perm_exact)
  undefined <- first$undefined
  if (nrow(undefined)) {
    warn("held-out correlation is undefined for ", nrow(undefined),
         " unit", if (nrow(undefined) > 1) "s",
         " (constant on the held-out stimuli, or in their reconstruction); ",
         "they are left out of the layer scores: see `$undefined`",
         class = "undefined", layer = unique(undefined$layer))
  }
  structure(list(
    plan = first$plan, cost = first$cost, objective = first$objective,
    score = mean(scores), layer_scores = layer_scores,
    unit_scores = first$unit_scores, undefined = undefined,
    baselines = baselines,
    baseline_layer_scores = Reduce(`+`, lapply(fits, `[[`,
                                               "baseline_layer_scores")) / K,
    train = first$train, test = first$test,
    rotation = if (is.list(first$rotation)) {
      c(first$rotation, list(splits = lapply(fits, function(f) {
        f$rotation[c("matrices", "iterations")]
      })))
    } else first$rotation,
    inner = first$inner, standardise = first$standardise,
    dropped = first$dropped, sizes = first$sizes,
    # each split keeps its plans (and, in `rotation$splits`, its HOT+R
    # rotations), so that hot_inference() need not refit
    splits = lapply(fits, function(f) {
      f[c("train", "test", "score", "layer_scores", "objective", "plan",
          "baselines", "inner", "standardise", "dropped")]
    }),
    score_se = if (K > 1) stats::sd(scores) / sqrt(K) else NA_real_,
    n_perm = n_perm,
    perm_test = list(n = length(first$perm_scores), exact = first$perm_exact),
    seed = seed, call = call
  ), class = "hot")
}
