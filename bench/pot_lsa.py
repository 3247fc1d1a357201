#!/usr/bin/python3
"""POT's ot.emd and scipy's linear_sum_assignment on one cost matrix written
by bench/ot_families.R (column-major doubles).

Usage: pot_lsa.py COST.bin N M [--reps R] [--no-lsa]

Masses are uniform (1/N, 1/M).  Only the solver calls are timed (wall:
perf_counter; cpu: process_time); the C-order copy is made before.  For
square problems scipy.optimize.linear_sum_assignment (a shortest augmenting
path solver) also runs; its cost is reported as sum C[i, p(i)] / N, the OT
cost of the permutation plan.  The last stdout line is JSON.
"""
import argparse
import json
import time

import numpy as np
import ot
from scipy.optimize import linear_sum_assignment


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cost")
    ap.add_argument("n", type=int)
    ap.add_argument("m", type=int)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-lsa", action="store_true")
    args = ap.parse_args()
    C = np.fromfile(args.cost, dtype=np.float64).reshape((args.n, args.m), order="F")
    C = np.ascontiguousarray(C)
    a = np.full(args.n, 1.0 / args.n)
    b = np.full(args.m, 1.0 / args.m)
    res = {"n": args.n, "m": args.m, "pot_version": ot.__version__,
           "emd_wall": [], "emd_cpu": [], "lsa_wall": [], "lsa_cpu": []}
    for _ in range(args.reps):
        t0, c0 = time.perf_counter(), time.process_time()
        G, log = ot.emd(a, b, C, numItermax=2**31 - 1, log=True)
        res["emd_wall"].append(time.perf_counter() - t0)
        res["emd_cpu"].append(time.process_time() - c0)
        res["emd_cost"] = float(log["cost"])
        res["emd_code"] = int(log["result_code"])
        del G
        if args.n == args.m and not args.no_lsa:
            t0, c0 = time.perf_counter(), time.process_time()
            r, c = linear_sum_assignment(C)
            res["lsa_wall"].append(time.perf_counter() - t0)
            res["lsa_cpu"].append(time.process_time() - c0)
            res["lsa_cost"] = float(C[r, c].sum() / args.n)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
