#!/usr/bin/env python3
"""The HOT+R descent of one layer pair in Python: POT ot.emd for the plans,
numpy SVD for the Procrustes steps (the peer of bench/hotr_scale.R).

Same start (R = I, i.e. the plain plan), same steps, same stopping rule as
src/rotation.c: stop when an iteration decreases the objective by at most
tol * |previous| + 2^10 eps, or after max_iter iterations.

usage: hotr_pot_loop.py XS_FILE YS_FILE T N M MAX_ITER TOL
(XS_FILE, YS_FILE: column-major doubles of the standardised T x N, T x M
training matrices).  Prints one JSON line: trace, iterations, converged,
seconds (the descent only, data loading excluded), numpy's BLAS.
"""
import json
import sys
import time

import numpy as np
import ot


def descent(Xs, Ys, max_iter, tol):
    n, m = Xs.shape[1], Ys.shape[1]
    a = np.full(n, 1.0 / n)
    b = np.full(m, 1.0 / m)
    A = Xs.T @ Ys
    G = Xs.T @ Xs
    K = 1.0 - A
    Q = ot.emd(a, b, K, numItermax=100000000)
    obj = float(np.sum(K * Q))
    trace = [obj]
    converged = False
    noise = 1024 * np.finfo(float).eps
    for _ in range(max_iter):
        U, _, Vt = np.linalg.svd(A @ (n * Q).T)
        R = U @ Vt
        d = 0.5 * np.einsum("ki,ki->i", R, G @ R) + 0.5
        K = d[:, None] - R.T @ A
        Q = ot.emd(a, b, np.ascontiguousarray(K), numItermax=100000000)
        new = float(np.sum(K * Q))
        trace.append(new)
        decrease = obj - new
        prev = obj
        obj = new
        if not decrease > tol * abs(prev) + noise:
            converged = True
            break
    return trace, converged


def blas_name():
    """The BLAS / LAPACK shared objects numpy has loaded (from /proc)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f
                    if "blas" in line or "lapack" in line}
        return ";".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


def main():
    xf, yf = sys.argv[1], sys.argv[2]
    T, n, m, max_iter = (int(v) for v in sys.argv[3:7])
    tol = float(sys.argv[7])
    Xs = np.fromfile(xf, dtype=np.float64).reshape((n, T)).T.copy()
    Ys = np.fromfile(yf, dtype=np.float64).reshape((m, T)).T.copy()
    t0 = time.perf_counter()
    trace, converged = descent(Xs, Ys, max_iter, tol)
    secs = time.perf_counter() - t0
    print(json.dumps({"trace": trace, "iterations": len(trace) - 1,
                      "converged": converged, "seconds": secs,
                      "blas": blas_name(), "pot": ot.__version__}))


if __name__ == "__main__":
    main()
