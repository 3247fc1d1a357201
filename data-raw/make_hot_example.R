# Makes data/hot_example.rda, the example data bundled with hotalign.
#
# Run from the package root:  Rscript data-raw/make_hot_example.R
#
# Two simulated systems from simulate_hierarchy() with its default design
# (200 stimuli; system A: 4 layers of 30 units; system B: 8 layers of 20 units,
# each pair of consecutive B layers re-encoding one A layer), fixed seed.
# Responses are rounded to 2 decimals (noise has standard deviation 0.5, so
# this changes nothing of substance) to keep the compressed file small.

# simulate_hierarchy() is plain R: take it from the source tree, no build
source(file.path("R", "simulate.R"))

# the default generator of R >= 3.6.0, whatever the session's setting
suppressWarnings(RNGkind("Mersenne-Twister", "Inversion", "Rejection"))

hot_example <- simulate_hierarchy(
  n_stimuli = 200, source_layers = 4, target_layers = 8,
  source_units = 30, target_units = 20, noise = 0.5, inheritance = 0.25,
  seed = 20251002
)
hot_example$X <- lapply(hot_example$X, round, digits = 2)
hot_example$Y <- lapply(hot_example$Y, round, digits = 2)

dir.create("data", showWarnings = FALSE)
save(hot_example, file = file.path("data", "hot_example.rda"),
     compress = "xz")
message("data/hot_example.rda: ",
        round(file.size(file.path("data", "hot_example.rda")) / 1024), " KB")
