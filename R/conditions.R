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
