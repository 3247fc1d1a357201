# Standardisation of layers on training rows, for the callers that still
# work layer by layer in R (layer_similarity()), and the one error for
# constant training columns (also raised for the engine's, src/hot_split.c).

# Training statistics of every layer; constant columns are an error or dropped.
layer_standardisation <- function(layers, train, constant, arg) {
  Map(function(x, name) {
    st <- .Call(C_ffi_col_stats, x, train)
    dropped <- which(st$constant)
    if (length(dropped) == ncol(x) || (length(dropped) && constant == "error")) {
      abort_constant(x, name, arg, dropped)
    }
    list(center = stats::setNames(st$center, colnames(x)),
         scale = stats::setNames(st$scale, colnames(x)),
         keep = setdiff(seq_len(ncol(x)), dropped), dropped = dropped)
  }, layers, names(layers))
}

standardise_layers <- function(layers, rows, stats, threads = 1L) {
  Map(function(x, s) {
    .Call(C_ffi_standardise, x, rows, s$keep, s$center, s$scale, threads)
  }, layers, stats)
}

# The error for constant training columns of layer `name` of `arg`
# (`dropped`: their indices): all of its columns, or some with
# constant = "error".
abort_constant <- function(x, name, arg, dropped) {
  what <- paste0("layer `", name, "` of `", arg, "`")
  if (length(dropped) == ncol(x)) {
    abort(what, " has only constant columns on the training stimuli",
          arg = arg, layer = name)
  }
  labels <- colnames(x)
  labels <- if (is.null(labels)) dropped else labels[dropped]
  # empty or NA names: the column number
  labels <- ifelse(is.na(labels) | labels == "", paste0("column ", dropped),
                   labels)
  abort(what, " has ", length(dropped), " column",
        if (length(dropped) > 1) "s", " constant on the training stimuli (",
        paste(utils::head(labels, 5), collapse = ", "),
        if (length(dropped) > 5) ", ...",
        "): correlation is undefined; remove ",
        if (length(dropped) > 1) "them" else "it",
        " or use `constant = \"drop\"`", arg = arg, layer = name)
}
