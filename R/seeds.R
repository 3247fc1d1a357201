# Evaluates `code` with the random seed set, restoring the caller's stream.
# The seed helpers of the package: every function with a `seed` argument
# checks it with check_seed(), draws one with draw_seed() when it must record
# it, and runs with it through with_seed().
with_seed <- function(seed, code) {
  local_seed(seed)
  code
}

# Sets the random seed until the calling function `frame` returns, then
# restores the caller's stream (NULL `seed`: does nothing)
local_seed <- function(seed, frame = parent.frame()) {
  if (is.null(seed)) return(invisible())
  env <- globalenv()
  old <- if (exists(".Random.seed", envir = env, inherits = FALSE))
    get(".Random.seed", envir = env, inherits = FALSE)
  restore <- function() {
    if (is.null(old)) {
      if (exists(".Random.seed", envir = env, inherits = FALSE)) {
        rm(".Random.seed", envir = env)
      }
    } else {
      assign(".Random.seed", old, envir = env)
    }
  }
  do.call(on.exit, list(as.call(list(restore)), add = TRUE), envir = frame)
  set.seed(seed)
  invisible()
}

# A random seed as set.seed() takes it: a whole number in the integer range
check_seed <- function(seed, arg = "seed") {
  ok <- is.numeric(seed) && length(seed) == 1L && is.finite(seed) &&
    seed == round(seed) && abs(seed) <= .Machine$integer.max
  if (!ok) {
    abort("`", arg, "` must be a single number, whole and in [-",
          .Machine$integer.max, ", ", .Machine$integer.max, "] (as set.seed() ",
          "takes it), not ", describe(seed), arg = arg)
  }
  as.double(seed)
}

# A seed drawn from the current random stream, recorded by the functions that
# share one seed over many fits (hot_many(), checkpoint directories)
draw_seed <- function() sample.int(.Machine$integer.max, 1L)
