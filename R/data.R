#' Example data: two simulated hierarchical systems
#'
#' Responses of two simulated systems to the same 200 stimuli, made by
#' [simulate_hierarchy()] with its default design and a fixed seed (see
#' `data-raw/make_hot_example.R` in the package sources). System A has 4
#' layers of 30 units; system B is twice as deep, 8 layers of 20 units, and
#' each pair of consecutive B layers re-encodes one A layer, half of its
#' units each, with noise. The ground-truth layer correspondence is known, so
#' the layer plan of [hot()] can be checked against it. Responses are rounded
#' to 2 decimals.
#'
#' @format A list with
#' \describe{
#'   \item{`X`}{named list (`A1` to `A4`) of 200 x 30 numeric matrices, the
#'     source system (stimuli as rows, units as columns).}
#'   \item{`Y`}{named list (`B1` to `B8`) of 200 x 20 numeric matrices, the
#'     target system.}
#'   \item{`truth`}{4 x 8 matrix with dimnames `source` and `target`: the
#'     share of each source layer found in each target layer (rows sum to 1;
#'     `truth / 4` is the layer plan HOT should recover).}
#'   \item{`block`}{named integer vector: the source layer each target layer
#'     re-encodes.}
#'   \item{`unit_source`}{named list: per target layer, the source unit that
#'     each of its units copies.}
#' }
#' @source Simulated with `simulate_hierarchy(seed = 20251002)`.
#' @seealso [simulate_hierarchy()], [hot()]
#' @examples
#' str(hot_example$X)
#' hot_example$truth
#' fit <- hot(hot_example$X, hot_example$Y, seed = 1, n_perm = 20,
#'            threads = 2, progress = FALSE)
#' round(fit$plan * 4, 2)
"hot_example"
