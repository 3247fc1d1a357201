# ot_exact(mass = s): exact partial OT (the reduction and its invariants are
# in src/ot_partial.c). Argument checks, the balanced shortcut at full mass,
# and the "ot_plan" result with the partial duals.

ot_exact_partial <- function(cost, a, b, mass) {
  checked <- check_cost(cost)
  cost <- checked$cost
  n <- nrow(cost)
  m <- ncol(cost)
  masses <- check_partial_masses(a, b, n, m, mass)
  if (masses$full) {
    # both sums are moved in full: the balanced problem, solved as
    # ot_exact() without `mass` solves it (same plan and cost bit for bit);
    # its duals shifted to the sign convention of the partial problem
    res <- ot_exact_checked(checked, a, b, pricing = 0L)
    top_u <- max(res$u)
    top_v <- max(res$v)
    res$u <- res$u - top_u
    res$v <- res$v - top_v
    res$lambda <- top_u + top_v
    res$mass <- masses$mass
    return(res)
  }
  check_memory(partial_workspace_bytes(n, m), "`cost`")
  res <- .Call(C_ffi_ot_partial, cost, masses$a, masses$b, masses$mass)
  if (res$status != 0L) {
    abort("the exact OT solver failed on the partial problem of `cost` ",
          "(status ", res$status, ")", class = "solver", arg = "cost")
  }
  plan <- plan_matrix(res$i, res$j, res$x, dim(cost), dimnames(cost))
  structure(list(plan = plan, cost = res$cost, u = res$u, v = res$v,
                 iterations = res$pivots, mass = masses$mass,
                 lambda = res$lambda),
            class = "ot_plan")
}

# Masses of a partial problem: sums may differ; NULL is uniform with total 1
# (or the other's total). `mass` in (0, min(sum a, sum b)], a relative 1e-9
# above the bound tolerated and clamped; `full` when it moves both sums.
check_partial_masses <- function(a, b, n, m, mass) {
  a <- if (is.null(a)) NULL else check_mass(a, "a", n)
  b <- if (is.null(b)) NULL else check_mass(b, "b", m)
  if (is.null(a) && is.null(b)) {
    a <- rep(1 / n, n)
    b <- rep(1 / m, m)
  }
  if (is.null(a)) a <- rep(sum(b) / n, n)
  if (is.null(b)) b <- rep(sum(a) / m, m)
  sa <- sum(a)
  sb <- sum(b)
  bound <- min(sa, sb)
  if (!is.numeric(mass) || length(mass) != 1L || !is.finite(mass) ||
      mass <= 0) {
    abort("`mass` must be a single positive number (the total mass to move), ",
          "not ", describe(mass), arg = "mass")
  }
  if (mass > bound * (1 + 1e-9)) {
    abort("`mass` (", format(mass, digits = 15), ") must be at most ",
          "min(sum(a), sum(b)) = ", format(bound, digits = 15), arg = "mass")
  }
  mass <- as.double(mass)
  near <- mass >= bound * (1 - 1e-9)
  if (near) mass <- bound
  full <- near && abs(sa - sb) <= 1e-9 * max(sa, sb)
  list(a = a, b = b, mass = mass, full = full)
}

# Bytes of the workspace of ot_partial.c for an n x m problem: the solver's
# on the augmented (n + 1) x (m + 1) problem, its cost matrix, and the
# extraction scratch, as ot_partial_workspace_bytes() in C sizes it
partial_workspace_bytes <- function(n, m) {
  .Call(C_ffi_ot_partial_workspace, n, m)
}
