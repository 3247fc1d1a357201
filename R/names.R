# Names and lookups shared by every entry point: how unnamed elements are
# named, which `...` arguments may be passed on to hot(), and how a layer or
# checkpoint given by position or name is found. One place each, so that
# hot(), hot_many(), hot_trajectory(), predict() and the methods agree.

# `nm` (names of a list; NULL for none) with the empty or NA ones replaced by
# `prefix` and their position: list(a = , , b = ) with prefix "X" names
# c("a", "X2", "b"). `$auto` marks the replaced ones.
fill_names <- function(nm, n, prefix) {
  if (is.null(nm)) nm <- rep("", n)
  auto <- is.na(nm) | nm == ""
  nm[auto] <- paste0(prefix, seq_len(n))[auto]
  list(names = nm, auto = auto)
}

# `x` with its empty names filled as fill_names() does
name_elements <- function(x, prefix) {
  names(x) <- fill_names(names(x), length(x), prefix)$names
  x
}

# `...` of a function that passes it on to hot(): every element named, once,
# an argument of hot() that the caller does not set itself (`own`: X, Y, or
# the caller's own arguments, `own_hint` says why per argument), and not one
# of `refused` (named with the reason). Returns `dots`.
check_dots <- function(dots, caller, own = c("X", "Y"), own_hint = NULL,
                       refused = list()) {
  if (!length(dots)) return(dots)
  nm <- names(dots)
  if (is.null(nm) || any(is.na(nm) | nm == "")) {
    abort("arguments in `...` must be named (they are passed to hot())",
          arg = "...")
  }
  for (arg in intersect(names(refused), nm)) {
    abort("`", arg, "` is not available in ", caller, "(): ", refused[[arg]],
          arg = arg)
  }
  set <- intersect(nm, own)
  if (length(set)) {
    abort("`", set[1L], "` cannot be given in `...`: ", caller, "() sets it",
          if (!is.null(own_hint[[set[1L]]])) own_hint[[set[1L]]], arg = set[1L])
  }
  known <- setdiff(names(formals(hot)), own)
  unknown <- setdiff(nm, known)
  if (length(unknown)) {
    abort("`...` must hold arguments of hot() other than ",
          paste0("`", own, "`", collapse = ", "), "; not ",
          paste0("`", unknown, "`", collapse = ", "), arg = unknown[1L])
  }
  if (anyDuplicated(nm)) {
    abort("`...` has duplicated argument `", nm[anyDuplicated(nm)], "`",
          arg = nm[anyDuplicated(nm)])
  }
  dots
}

# Position of the element given by `x` (one position in 1..length(choices) or
# one of the names `choices`) for argument `arg`. `what` says what is looked
# up ("source layer", "checkpoint of `A`"); errors name `arg` and show at
# most 10 of the choices.
index_or_name <- function(x, arg, choices, what) {
  n <- length(choices)
  if (is.character(x) && length(x) == 1L && !is.na(x)) {
    k <- match(x, choices)
    if (is.na(k)) {
      abort("`", arg, "` must be a ", what, ": one of ",
            paste0("`", utils::head(choices, 10L), "`", collapse = ", "),
            if (n > 10L) ", ...", "; not `", x, "`", arg = arg)
    }
    return(k)
  }
  if (is.numeric(x) && length(x) == 1L && is.finite(x) && x == round(x) &&
      x >= 1 && x <= n) {
    return(as.integer(x))
  }
  abort("`", arg, "` must be a ", what, ": an index in 1..", n, " or a name, ",
        "not ", describe(x), arg = arg)
}
