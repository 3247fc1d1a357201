# Counting the .Call crossings of package code: every function of the
# hotalign namespace is rebound in an environment with its own `.Call` (a
# counting wrapper of base::.Call) in front of the namespace, so a function
# taken from it runs the package's code unchanged and counts every .Call
# that code makes, however deep. (trace() refuses .Call, a primitive.)
counting_namespace <- function() {
  ns <- asNamespace("hotalign")
  env <- new.env(parent = ns)
  env$calls <- character(0)
  env$.Call <- function(.NAME, ...) {
    env$calls <- c(env$calls, .NAME$name)
    base::.Call(.NAME, ...)
  }
  for (name in ls(ns, all.names = TRUE)) {
    f <- get(name, envir = ns)
    if (is.function(f) && !is.primitive(f) && identical(environment(f), ns)) {
      environment(f) <- env
      assign(name, f, envir = env)
    }
  }
  env
}
