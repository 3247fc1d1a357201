# The prototype against the forced simplex (pricing 3) on 54 small problems:
# shapes with several gcds, integer costs, near-ties, correlation costs;
# both starts; the cost to 1e-9 relative, at most n + m - 1 non-zeros, the
# least reduced cost >= -1e-12.  Prints FAIL lines and the worst difference.
#   LIB=<lib> DRV=<built driver> Rscript bench/transport18/check_small.R
library(hotalign, lib.loc = Sys.getenv("LIB"))
drv <- Sys.getenv("DRV", "/tmp/transport18/drv")
set.seed(1)
shapes <- list(c(3,7), c(5,12), c(7,3), c(64,96), c(300,1000), c(40,100))
worst <- 0
for (sh in shapes) for (kind in c("int", "ties", "real")) for (rep in 1:3) {
  n <- sh[1]; m <- sh[2]
  C <- switch(kind, int = matrix(sample(0:5, n*m, TRUE), n), ties = matrix(rep(sample(0:2, n, TRUE), m) + 1e-9 * sample(0:1, n*m, TRUE), n),
              real = { L <- matrix(rnorm(4*n), 4); R <- matrix(rnorm(4*m), 4); correlation_cost(L[, sample(n)], R) })
  ref <- hotalign:::ot_exact_priced(C, NULL, NULL, pricing = 3L)
  f <- tempfile(); writeBin(as.double(as.vector(C)), f)
  for (mode in c("greedy", "auction")) {
    env <- if (mode == "auction") "EPS0=0.2 EPSMIN=1e-3 EPSFAC=5" else ""
    out <- system(sprintf("%s %s %s %d %d 1 2>/dev/null", env, drv, f, n, m), intern = TRUE)[1]
    cost <- as.numeric(sub(".* cost ([^ ]+) .*", "\\1", out)); nnz <- as.integer(sub(".* nnz ([0-9]+) .*", "\\1", out))
    minr <- as.numeric(sub(".* minr ([^ ]+) .*", "\\1", out)); st <- sub(".* st=([0-9]+) .*", "\\1", out)
    rel <- abs(cost - ref$cost) / max(abs(ref$cost), 1e-300)
    if (ref$cost == 0) rel <- abs(cost)
    worst <- max(worst, rel)
    if (rel > 1e-9 || nnz > n + m - 1 || minr < -1e-12 || st != "0") cat("FAIL", n, m, kind, mode, cost, ref$cost, nnz, minr, st, "\n")
  }
}
cat("worst relative cost difference", worst, "\n")
