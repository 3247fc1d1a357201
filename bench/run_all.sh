#!/usr/bin/env bash
# Every benchmark of bench/, in one command (see bench/README.md):
#
#   bash bench/run_all.sh                  full run (about 30 min on 2 cores)
#   HOTALIGN_BENCH_QUICK=1 bash bench/run_all.sh   small sizes, a few minutes
#
# LLM_L_RUN (default 24: the full 24 x 28 problem) fits only the first LLM_L_RUN
# source layers and extrapolates; LLM_L_RUN_REF (default 4) does the same for
# the slow reference-BLAS run; LLM_L_SPEEDUP (default 4) is the subset timed at
# 1 and at 2 threads (the pair loop alone, and all of hot()).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
cd "$(dirname "$here")"
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-2}"
quick=${HOTALIGN_BENCH_QUICK:-0}
ob="bash $here/with_openblas.sh"
log() { printf '\n== %s  [%s]\n' "$*" "$(date +%T)"; }

if [[ "${HOTALIGN_BENCH_SKIP_INSTALL:-0}" != 1 ]]; then
  log "install (private library)"
  bash "$here/install.sh"
fi

if [[ $quick == 1 ]]; then
  log "ot_exact vs peers (quick)"; Rscript "$here/ot_exact.R" 1000x1000,896x3072
  log "hot vs POT loop (quick)";   Rscript "$here/hot_vs_pot_loop.R" 2 3 300 500
  log "real data";                 Rscript "$here/real_data.R"
  log "profile (quick)";           bash "$here/profile_solver.sh" 1000x1000
  exit 0
fi

log "ot_exact vs peers (reference BLAS; BLAS plays no part in the solve)"
Rscript "$here/ot_exact.R"
log "hot vs POT loop, reference BLAS";  Rscript "$here/hot_vs_pot_loop.R"
log "hot vs POT loop, OpenBLAS";        $ob Rscript "$here/hot_vs_pot_loop.R"
log "LLM scale, OpenBLAS, 2 threads";   $ob Rscript "$here/llm_scale.R" 2 "${LLM_L_RUN:-24}"
log "LLM scale, reference BLAS, 2 threads (subset)"
Rscript "$here/llm_scale.R" 2 "${LLM_L_RUN_REF:-4}"
log "pair loop alone: 1 vs 2 threads, OpenBLAS (hot() holds it at one thread)"
$ob Rscript "$here/pair_loop_scaling.R" "${LLM_L_SPEEDUP:-4}"
log "LLM scale subset: hot() at 1 and at 2 threads, OpenBLAS"
for th in 1 2; do
  $ob Rscript "$here/llm_scale.R" "$th" "${LLM_L_SPEEDUP:-4}"
done
log "ot_sinkhorn (approximate) vs ot_exact and POT sinkhorn_log"
Rscript "$here/sinkhorn_vs_exact.R"
log "real data";                        Rscript "$here/real_data.R"
log "profile of the solver";            bash "$here/profile_solver.sh"
log "done: outputs in ${HOTALIGN_BENCH_OUT:-$here/out}"
