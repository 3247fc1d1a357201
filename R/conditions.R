# Conditions of hotalign. Every error the package raises is a classed
# condition, raised from R:
#
#   c("hotalign_error_<kind>", "hotalign_error", "error", "condition")
#
# with kind one of "input" (a bad argument: the default), "memory" (a problem
# too large for the available memory, refused before allocating), "solver"
# (an exact OT or SVD failure), "checkpoint" (a checkpoint directory that does
# not fit the run), "internal" (a bug: please report). The fields `arg`
# (argument name), `layer` (layer name), `pair` (c(source, target) layer
# names) say where the problem is, so callers can handle conditions without
# reading message text. Warnings are classed the same way ("hotalign_warning_
# <kind>", "hotalign_warning", "warning", "condition").
#
# The message is the unnamed arguments pasted together, as with stop(); it
# names the argument (and the layer) in backquotes and carries no trailing
# period.
#
# An error of one fit among many (hot_many(), hot_trajectory()) is not
# re-thrown with the fit's message pasted into a new one: the new condition
# has a short message of its own saying which pair failed, the pair as
# `pair`, the kind (class) of the original error, and the original condition
# as `parent`. conditionMessage() (what stop(), print() and try() show)
# appends the parent's message as "Caused by error: ...", as rlang does.

abort <- function(..., class = "input", arg = NULL, layer = NULL, pair = NULL,
                  parent = NULL, data = list()) {
  stop(hotalign_condition(paste0(...), "error", class, arg, layer, pair,
                          parent, data))
}

warn <- function(..., class = "general", arg = NULL, layer = NULL, pair = NULL,
                 data = list()) {
  warning(hotalign_condition(paste0(...), "warning", class, arg, layer, pair,
                             NULL, data))
}

hotalign_condition <- function(message, type, kind, arg, layer, pair, parent,
                               data) {
  structure(
    c(list(message = message, call = NULL, arg = arg, layer = layer,
           pair = pair, parent = parent), data),
    class = c(paste0("hotalign_", type, "_", kind), paste0("hotalign_", type),
              type, "condition"))
}

# "input", "solver", ... of a hotalign error; "internal" for any other error
condition_kind <- function(e) {
  cls <- grep("^hotalign_error_", class(e), value = TRUE)
  if (length(cls)) sub("^hotalign_error_", "", cls[1L]) else "internal"
}

# The error `e` of one fit wrapped for the caller: message `...`, the pair,
# `e`'s kind, argument and layer, and `e` itself as `parent`
abort_pair <- function(e, pair, ...) {
  abort(..., class = condition_kind(e), arg = e$arg, layer = e$layer,
        pair = pair, parent = e)
}

#' @export
conditionMessage.hotalign_error <- function(c) {
  if (!inherits(c$parent, "condition")) return(c$message)
  paste0(c$message, "\nCaused by error: ", conditionMessage(c$parent))
}
