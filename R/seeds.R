# Evaluates `code` with the random seed set, restoring the caller's stream.
# The one seed helper of the package: every function with a `seed` argument
# goes through it.
with_seed <- function(seed, code) {
  if (is.null(seed)) return(code)
  env <- globalenv()
  old <- if (exists(".Random.seed", envir = env, inherits = FALSE))
    get(".Random.seed", envir = env, inherits = FALSE)
  on.exit(if (is.null(old)) {
    rm(".Random.seed", envir = env)
  } else {
    assign(".Random.seed", old, envir = env)
  })
  set.seed(seed)
  code
}
