#!/usr/bin/python3
"""POT's log-domain Sinkhorn (ot.sinkhorn(..., method="sinkhorn_log")) on a
cost matrix written by bench/sinkhorn_vs_exact.R.

Usage: pot_sinkhorn.py COST.bin N M EPSILON [--tol T] [--max-iter K] [--reps R]

COST.bin holds the N x M cost in column-major doubles (R's layout).  Masses are
uniform (1/N, 1/M); EPSILON is POT's `reg` (absolute, in cost units, as
hotalign's `epsilon`).  POT stops when the L2 norm of the column-marginal
violation, checked every 10 iterations, is below stopThr (hotalign: L1, every
iteration).  Only the ot.sinkhorn call is timed (wall: perf_counter; cpu:
process_time).  The last stdout line is JSON.
"""
import argparse
import json
import time
import warnings

import numpy as np
import ot


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cost")
    ap.add_argument("n", type=int)
    ap.add_argument("m", type=int)
    ap.add_argument("epsilon", type=float)
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--max-iter", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=1)
    args = ap.parse_args()
    C = np.fromfile(args.cost, dtype=np.float64).reshape((args.n, args.m), order="F")
    C = np.ascontiguousarray(C)
    a = np.full(args.n, 1.0 / args.n)
    b = np.full(args.m, 1.0 / args.m)
    walls, cpus = [], []
    for _ in range(args.reps):
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "did not converge"
            P, log = ot.sinkhorn(a, b, C, args.epsilon, method="sinkhorn_log",
                                 numItermax=args.max_iter, stopThr=args.tol, log=True)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    marg = float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())
    res = {"solver": "POT sinkhorn_log", "pot_version": ot.__version__, "n": args.n,
           "m": args.m, "epsilon": args.epsilon, "wall": walls, "cpu": cpus,
           "cost": float((P * C).sum()), "marginal_error": marg,
           "iterations": int(log.get("niter", -1))}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
