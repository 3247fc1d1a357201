#!/usr/bin/python3
"""HOT the obvious way today: a plain Python loop over POT (SPEC section 2).

Usage: hot_pot_loop.py META.json [--reps R]

META.json (written by bench/hot_vs_pot_loop.R or bench/real_data.R) names two
column-major double files, X (n_stimuli x sum(widths_x)) and Y, the layer
widths, and the 1-based held-out rows `test`.

For every layer pair: standardise every column on the training rows (centre,
unit Euclidean norm; the same statistics applied to the held-out rows),
K = 1 - Xs' Ys (correlation distance on the training rows), Q = ot.emd with
uniform marginals, C[l, m] = <K, Q>; then the outer P = ot.emd(1/L, 1/M, C),
objective <C, P>; then each source layer rebuilt on the held-out rows,
X^_l = sum_m L P[l, m] Yt_m (n_l Q_lm)', scored by the mean Pearson
correlation of its units, HOT score = mean over layers.  Only this work is
timed (data loading is not).  The last stdout line is JSON.
"""
import argparse
import json
import time

import numpy as np
import ot


def load(meta):
    T = meta["n_stimuli"]

    def split(path, widths):
        Z = np.fromfile(path, dtype=np.float64).reshape((T, sum(widths)), order="F")
        edges = np.cumsum([0] + list(widths))
        return [np.asfortranarray(Z[:, edges[k]:edges[k + 1]]) for k in range(len(widths))]

    return split(meta["x_file"], meta["widths_x"]), split(meta["y_file"], meta["widths_y"])


def standardise(Z, train):
    mu = Z[train].mean(axis=0)
    Zc = Z - mu
    scale = np.sqrt((Zc[train] ** 2).sum(axis=0))
    return Zc / scale


def pearson_cols(A, B):
    A = A - A.mean(axis=0)
    B = B - B.mean(axis=0)
    return (A * B).sum(axis=0) / np.sqrt((A ** 2).sum(axis=0) * (B ** 2).sum(axis=0))


def hot_pot(X, Y, test):
    T = X[0].shape[0]
    train = np.setdiff1d(np.arange(T), test)
    L, M = len(X), len(Y)
    Xs = [standardise(x, train) for x in X]
    Ys = [standardise(y, train) for y in Y]
    Xtr = [x[train] for x in Xs]
    Ytr = [y[train] for y in Ys]
    C = np.zeros((L, M))
    Q = {}
    for l in range(L):
        n = Xtr[l].shape[1]
        for m in range(M):
            nm = Ytr[m].shape[1]
            K = 1.0 - Xtr[l].T @ Ytr[m]
            Q[l, m] = ot.emd(np.full(n, 1.0 / n), np.full(nm, 1.0 / nm), K,
                             numItermax=2**31 - 1)
            C[l, m] = np.sum(Q[l, m] * K)
    P = ot.emd(np.full(L, 1.0 / L), np.full(M, 1.0 / M), C, numItermax=2**31 - 1)
    objective = float(np.sum(P * C))
    layer_scores = []
    for l in range(L):
        n = Xs[l].shape[1]
        Xhat = np.zeros((len(test), n))
        for m in range(M):
            if P[l, m] > 0:
                Xhat += (L * P[l, m]) * (Ys[m][test] @ (n * Q[l, m]).T)
        layer_scores.append(float(np.nanmean(pearson_cols(Xhat, Xs[l][test]))))
    return {"objective": objective, "cost": C.ravel(order="F").tolist(),
            "layer_scores": layer_scores, "score": float(np.mean(layer_scores))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("meta")
    ap.add_argument("--reps", type=int, default=1)
    args = ap.parse_args()
    with open(args.meta) as f:
        meta = json.load(f)
    X, Y = load(meta)
    test = np.asarray(meta["test"], dtype=np.int64) - 1
    walls, cpus = [], []
    for _ in range(args.reps):
        t0, c0 = time.perf_counter(), time.process_time()
        res = hot_pot(X, Y, test)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    res.update({"solver": "Python loop over POT ot.emd", "pot_version": ot.__version__,
                "wall": walls, "cpu": cpus})
    print(json.dumps(res))


if __name__ == "__main__":
    main()
