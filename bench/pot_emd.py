#!/usr/bin/python3
"""POT's exact solver (ot.emd) on a cost matrix written by bench/ot_exact.R.

Usage: pot_emd.py COST.bin N M [--reps R] [--inner K] [--threads T] [--pivots]

COST.bin holds the N x M cost in column-major doubles (R's layout).  Masses are
uniform (1/N, 1/M), as in hotalign's ot_exact(cost).  Only the ot.emd call is
timed (wall: perf_counter; cpu: process_time).  With --pivots the number of
network-simplex iterations is found by bisection on numItermax (POT reports
result_code 3 = MAX_ITER_REACHED when the limit stops it), since POT does not
report it.  The last stdout line is JSON.
"""
import argparse
import json
import os
import time
import warnings

import numpy as np
import ot


def solve(a, b, C, itermax, threads):
    return ot.emd(a, b, C, numItermax=itermax, log=True, numThreads=threads)


def count_pivots(a, b, C, threads):
    hi = 1
    while True:
        _, log = solve(a, b, C, hi, threads)
        if log["result_code"] == 1:
            break
        hi *= 2
    lo = hi // 2  # lo stops early (or is 0), hi reaches the optimum
    while hi - lo > 1:
        mid = (lo + hi) // 2
        _, log = solve(a, b, C, mid, threads)
        if log["result_code"] == 1:
            hi = mid
        else:
            lo = mid
    return hi


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cost")
    ap.add_argument("n", type=int)
    ap.add_argument("m", type=int)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--pivots", action="store_true")
    ap.add_argument("--inner", type=int, default=1,
                    help="solves per timed rep (for tiny problems)")
    args = ap.parse_args()
    C = np.fromfile(args.cost, dtype=np.float64).reshape((args.n, args.m), order="F")
    C = np.ascontiguousarray(C)  # POT copies to C order anyway; keep that out of the timing
    a = np.full(args.n, 1.0 / args.n)
    b = np.full(args.m, 1.0 / args.m)
    walls, cpus, cost, code = [], [], None, None
    for _ in range(args.reps):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.inner):
            G, log = solve(a, b, C, 2**31 - 1, args.threads)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        cost, code = float(log["cost"]), int(log["result_code"])
        nnz = int(np.count_nonzero(G))
        del G
    res = {"solver": "POT ot.emd", "pot_version": ot.__version__, "n": args.n,
           "m": args.m, "threads": args.threads, "inner": args.inner, "wall": walls, "cpu": cpus,
           "cost": cost, "result_code": code, "nnz": nnz}
    if args.pivots:
        # silence "max number of iterations reached" (Python warning and C++ output)
        saved = [os.dup(1), os.dup(2)]
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res["pivots"] = count_pivots(a, b, C, args.threads)
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
