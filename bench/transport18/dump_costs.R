# The costs of bench/ot_families.R (cold K, and K_R of its warm rows) as raw
# doubles for the prototype's driver: <OUT>/m/<family>_<n>x<m>.bin, _R.bin.
#   LIB=<library> OUT=<dir> Rscript bench/transport18/dump_costs.R 896x3072 tuned16,bench
library(hotalign, lib.loc = Sys.getenv("LIB"))
src <- readLines("bench/ot_families.R")
source("bench/common.R")
# the layer generators and rotated_cost() of ot_families.R
eval(parse(text = src[grep("^tuned_layers <- ", src):(grep("^seq_solve <- ", src) - 1)]))
out <- file.path(Sys.getenv("OUT", "/tmp/transport18"), "m")
dir.create(out, FALSE, TRUE)
args <- commandArgs(TRUE)
for (sz in strsplit(args[1], ",")[[1]]) for (fam in strsplit(args[2], ",")[[1]]) {
  d <- as.integer(strsplit(sz, "x")[[1]])
  L <- make_layers(fam, d[1], d[2])
  writeBin(as.vector(correlation_cost(L$X, L$Y)), sprintf("%s/%s_%dx%d.bin", out, fam, d[1], d[2]))
  writeBin(as.vector(rotated_cost(L$X, L$Y, seed = d[1] + 7)),
           sprintf("%s/%s_%dx%d_R.bin", out, fam, d[1], d[2]))
}
