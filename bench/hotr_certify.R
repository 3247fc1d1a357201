# How many entries of a HOT+R descent's rotated cost could a bound certify
# without recomputing them (issue 11: the LLM target)?  For one pair of the
# LLM-shape system of bench/llm_scale.R (qwen layer 12, 896 units, against
# llama layer 14, 3072 units; 1000 stimuli, 200 held out), the descent's
# W after each iteration k (c_parts with max_iter = k), and for each k the
# share of entries (i, j) of K_R(W_k) that the previous cost K_R(W_{k-1})
# certifies against the new optimum's duals (u, v):
#   K_{k-1}[i, j] + (d_k - d_{k-1})_i - bound_ij >= u_i + v_j,
# with bound_ij = ||w_i^k - w_i^(k-1)|| ||b0_j|| ("plain") or the smaller of
# that and ||Xs V (w_i^k - w_i^(k-1))|| ||ys_j|| ("data space").  This is
# the best case of a screened cost (the true new duals, one step back).
#   HOTALIGN_BENCH_LIB=/path/to/lib Rscript bench/hotr_certify.R [max_iter]
local({
  a <- commandArgs(FALSE); f <- sub("^--file=", "", grep("^--file=", a, value = TRUE))
  here <- if (length(f)) dirname(normalizePath(f[1])) else "bench"
  source(file.path(here, "common.R"))
  source(file.path(here, "..", "tests", "testthat", "helper-rotation.R"))
}, envir = globalenv())
args <- commandArgs(TRUE)
kmax <- if (length(args)) as.integer(args[1]) else 13L
basis <- latent_basis(1000, seed = 2024)
X <- latent_system(basis, rep(896, 24), "qwen")[[12]]
Y <- latent_system(basis, rep(3072, 28), "llama")[[14]]
set.seed(11); test <- sort(sample.int(1000, 200)); tr <- setdiff(1:1000, test)
std <- function(x) {
  x <- scale(x[tr, , drop = FALSE], scale = FALSE)
  sweep(x, 2, sqrt(colSums(x^2)), "/")
}
Xs <- std(X); Ys <- std(Y); n <- ncol(Xs)
A <- crossprod(Xs, Ys)
Ws <- lapply(seq_len(kmax), function(k) c_parts(Xs, Ys, k, 1e-8, form_dense = FALSE))
V <- Ws[[1]]$V; lam <- Ws[[1]]$lam; r <- Ws[[1]]$r
Ws <- lapply(Ws, `[[`, "W")
B0 <- crossprod(V, A); bn <- sqrt(colSums(B0^2)); en <- sqrt(colSums(Ys^2))
dof <- function(W) 0.5 * colSums(lam * W^2)
rows <- NULL
for (k in 2:kmax) {
  Kk <- dof(Ws[[k]]) + 0.5 - crossprod(Ws[[k]], B0)
  Kp <- dof(Ws[[k - 1]]) + 0.5 - crossprod(Ws[[k - 1]], B0)
  s <- ot_exact(Kk)
  dW <- Ws[[k]] - Ws[[k - 1]]
  plain <- outer(sqrt(colSums(dW^2)), bn)
  data_space <- pmin(plain, outer(sqrt(colSums(lam * dW^2)), en))
  base <- Kp + (dof(Ws[[k]]) - dof(Ws[[k - 1]])) - outer(s$u, s$v, "+")
  rows <- rbind(rows, data.frame(
    iteration = k, median_move = stats::median(sqrt(colSums(dW^2))),
    certified_plain = mean(base - plain >= 0),
    certified_data_space = mean(base - data_space >= 0),
    to_compute = sum(base - data_space < 0)))
}
md <- c(sprintf("# Certifiable entries of K_R, LLM pair 896 x 3072, r = %d (bench/hotr_certify.R)", r),
        "", paste0("BLAS: ", machine_info()$blas), "", md_table(rows))
writeLines(md, file.path(out_dir, "hotr_certify.md"))
cat(md, sep = "\n")
