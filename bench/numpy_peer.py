#!/usr/bin/env python3
"""The NumPy peer of bench_cpu_stage: the same work per trial, the same shapes and rules.

A trial: draw X (n x p, X = Z sqrt(lambda), Z from default_rng().standard_normal) and a
noise vector z, form the k = 4 label vectors Y = X S + z sigma^T, fit all of them, and
score each fit's risk sum_j lambda_j (beta_hat_j - beta*_j)^2.

Peers:
  gram_chol   the kdbench algorithm: Gram (X X^T when p > n, X^T X when n >= p, with the
              same whitening for ridgeless n >= p: Gram of Z, theta = sqrt(lambda) beta),
              numpy.linalg.cholesky, then two numpy.linalg.solve calls on the triangular
              factors (NumPy has no triangular solve, so each of them is an LU: 2/3 m^3).
  gram_solve  the same, but numpy.linalg.solve on the Gram directly (one LU); recorded
              because it is the cheaper of the two ways plain NumPy can finish the fit.
  gram_scipy  the same Gram, finished as a researcher with SciPy would: scipy.linalg's
              cho_factor + cho_solve (LAPACK potrf + potrs, the factor's two triangular
              solves with all 4 right-hand sides at once). The fair peer; run only where
              SciPy is installed (scripts/setup.sh --bench installs python3-scipy), null
              otherwise.
  gram_tri    the same factor by scipy.linalg.cholesky, then two
              scipy.linalg.solve_triangular calls (LAPACK trtrs): the other SciPy
              spelling, recorded beside it (same LAPACK work as cho_solve).
  lstsq       what researchers write: numpy.linalg.lstsq (LAPACK gelsd) once per label
              vector (4 calls), always on X (no whitening). Not run with a ridge; at the
              largest ridgeless shape one call with all 4 label vectors, one trial, no
              warm-up (4 calls would take minutes), so its ratio there is a lower bound.

All Gram peers run inside one trial on the same G; each peer's time per trial is the sum
of its own steps (perf_counter around each). Rules: one warm-up trial per shape, then
trials until at least 5 samples and 1.5 s (or 12 s and 3 samples); median, min, IQR.
BLAS threads are left at NumPy's default (all cores).

  /usr/bin/python3 bench/numpy_peer.py [--quick] [--json FILE]
"""
import argparse
import contextlib
import io
import json
import os
import re
import sys
import time

import numpy as np

try:
    import scipy
    import scipy.linalg as sla
except ImportError:  # the NumPy-only peers still run
    scipy = sla = None

K = 4
SIGMA = 0.5
SEED = 20240601
SOURCE_SCALE = np.array([1.0, 0.75, 0.5, 0.25])
# (n, p, ridge, in --quick, lstsq plan): the list of bench_cpu_stage.c
SHAPES = [
    (200, 500, 0.0, True, "per-rhs"),
    (1000, 2000, 0.0, True, "per-rhs"),
    (2000, 1000, 0.0, True, "per-rhs"),
    (4000, 4000, 1e-3, False, None),
    (4000, 4000, 0.0, False, "single"),
]
# (min samples, min seconds, max seconds, floor samples), as in bench_cpu_stage.c
FULL = (5, 1.5, 12.0, 3)
QUICK = (3, 0.2, 1.0, 3)


class Problem:
    """lambda_i = i^-2, lambda_i beta*_i^2 = i^-1.5, sources beta* x SOURCE_SCALE."""

    def __init__(self, n, p, ridge):
        i = np.arange(1, p + 1, dtype=float)
        self.n, self.p, self.ridge = n, p, ridge
        self.lam = i**-2.0
        self.sqrt_lam = np.sqrt(self.lam)
        self.beta = np.sqrt(i**-1.5 / self.lam)
        self.sources = self.beta[:, None] * SOURCE_SCALE
        self.sigma = np.full(K, SIGMA)
        self.kernel = p > n
        self.whiten = ridge == 0 and n >= p

    def rng(self, trial):
        return np.random.default_rng([SEED, self.n, self.p, int(self.ridge > 0), trial])

    def risk(self, b):
        return ((b - self.beta[:, None]) ** 2 * self.lam[:, None]).sum(axis=0)


class Clock:
    """Seconds per named step, read with lap()."""

    def __init__(self):
        self.steps = {}
        self.t = time.perf_counter()

    def lap(self, name):
        t = time.perf_counter()
        self.steps[name] = self.steps.get(name, 0.0) + t - self.t
        self.t = t


def draw(pr, rng, clock, whiten):
    """X (or Z when whitened), then the labels Y."""
    x = rng.standard_normal((pr.n, pr.p))
    if not whiten:
        x *= pr.sqrt_lam
    z = rng.standard_normal(pr.n)
    clock.lap("generation")
    src = pr.sources * pr.sqrt_lam[:, None] if whiten else pr.sources
    y = x @ src + np.outer(z, pr.sigma)
    clock.lap("labels")
    return x, y


def chol_solve(g, rhs):
    low = np.linalg.cholesky(g)
    return np.linalg.solve(low.T, np.linalg.solve(low, rhs))


def scipy_cho(g, rhs):
    return sla.cho_solve(sla.cho_factor(g, lower=True, check_finite=False), rhs,
                         check_finite=False)


def scipy_tri(g, rhs):
    low = sla.cholesky(g, lower=True, check_finite=False)
    w = sla.solve_triangular(low, rhs, lower=True, check_finite=False)
    return sla.solve_triangular(low, w, lower=True, trans="T", check_finite=False)


PEERS = [("gram_chol", chol_solve), ("gram_solve", np.linalg.solve)]
if sla is not None:
    PEERS += [("gram_scipy", scipy_cho), ("gram_tri", scipy_tri)]


def gram_trial(pr, trial):
    """The Gram peers on one draw; returns {peer: seconds}, {step: seconds}, risks."""
    rng = pr.rng(trial)
    clock = Clock()
    x, y = draw(pr, rng, clock, pr.whiten)
    g = x @ x.T if pr.kernel else x.T @ x  # NumPy runs SYRK for a @ a.T
    g.flat[:: g.shape[0] + 1] += pr.n * pr.ridge
    clock.lap("gram")
    rhs = y if pr.kernel else x.T @ y
    clock.lap("products")  # X^T Y when n >= p
    risks = {}
    for peer, solve in PEERS:
        a = solve(g, rhs)
        b = x.T @ a if pr.kernel else a
        risks[peer] = pr.risk(b / pr.sqrt_lam[:, None] if pr.whiten else b)
        clock.lap(peer)  # the solve, beta_hat (X^T A when p > n) and the risks
    s = clock.steps
    shared = s["generation"] + s["labels"] + s["gram"] + s["products"]
    times = {peer: shared + s[peer] for peer in risks}
    return times, s, risks


def lstsq_trial(pr, trial, single):
    rng = pr.rng(trial)
    clock = Clock()
    x, y = draw(pr, rng, clock, whiten=False)
    if single:
        b = np.linalg.lstsq(x, y, rcond=None)[0]
    else:
        b = np.column_stack([np.linalg.lstsq(x, y[:, r], rcond=None)[0] for r in range(K)])
    pr.risk(b)
    clock.lap("lstsq")
    return sum(clock.steps.values())


def budget_met(budget, count, total):
    min_samples, min_time, max_time, floor = budget
    return (count >= min_samples and total >= min_time) or (count >= floor and total >= max_time)


def summary(t):
    t = np.sort(np.asarray(t))
    q1, med, q3 = np.quantile(t, [0.25, 0.5, 0.75])
    return {"count": int(t.size), "median_s": float(med), "min_s": float(t[0]),
            "q1_s": float(q1), "q3_s": float(q3), "total_s": float(t.sum())}


def run_gram(pr, budget):
    gram_trial(pr, 0)  # warm-up
    times = {peer: [] for peer, _ in PEERS}
    steps = {}
    trial = mismatches = 0
    while not budget_met(budget, trial, sum(times["gram_chol"])):
        trial += 1
        t, s, risks = gram_trial(pr, trial)
        off = [peer for peer in risks
               if not np.allclose(risks[peer], risks["gram_chol"], rtol=1e-6, atol=0)]
        if off:
            # the same G, several factorisations: they differ only when G is ill-conditioned
            # (the ridgeless peak), where kdbench's condition check falls back to QR
            mismatches += 1
            print(f"numpy_peer: n={pr.n} p={pr.p} trial {trial}: risks of {', '.join(off)} "
                  f"differ from gram_chol's {risks['gram_chol']}: G is ill-conditioned",
                  flush=True)
        for peer in times:
            times[peer].append(t[peer])
        for name, v in s.items():
            steps.setdefault(name, []).append(v)
    out = {peer: summary(v) for peer, v in times.items()}
    out.setdefault("gram_scipy", None)  # SciPy not installed
    out.setdefault("gram_tri", None)
    out["steps_median_s"] = {name: float(np.median(v)) for name, v in steps.items()}
    out["solve_mismatches"] = mismatches
    return out


def run_lstsq(pr, budget, plan):
    if plan is None:
        return None
    single = plan == "single"
    if single:
        t = [lstsq_trial(pr, 1, True)]
    else:
        lstsq_trial(pr, 0, False)  # warm-up
        t = []
        while not budget_met(budget, len(t), sum(t)):
            t.append(lstsq_trial(pr, len(t) + 1, False))
    out = summary(t)
    out["mode"] = "1 call with 4 RHS, 1 trial, no warm-up" if single else "4 calls (one per RHS)"
    return out


def blas_config():
    """np.show_config()'s BLAS name, and the BLAS/LAPACK libraries actually loaded."""
    try:
        name = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except TypeError:  # NumPy < 1.26 prints only
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            np.show_config()
        m = re.search(r"blas_opt_info:.*?libraries = (\[[^\]]*\])", buf.getvalue(), re.S)
        name = m.group(1) if m else "unknown"
    with open("/proc/self/maps") as f:
        loaded = sorted({ln.split()[-1] for ln in f if re.search(r"blas|lapack", ln)})
    return name, loaded


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the three small shapes, short budget")
    ap.add_argument("--json", metavar="FILE", help="write the results here")
    args = ap.parse_args()
    budget = QUICK if args.quick else FULL
    name, loaded = blas_config()
    sp = f"scipy {scipy.__version__}" if scipy else "no scipy (gram_scipy, gram_tri not run)"
    print(f"numpy {np.__version__}, {sp}, BLAS {name} ({', '.join(os.path.basename(p) for p in loaded)}),"
          f" {os.cpu_count()} CPUs, threads: default")
    results = []
    for n, p, ridge, quick, plan in SHAPES:
        if args.quick and not quick:
            continue
        pr = Problem(n, p, ridge)
        r = {"n": n, "p": p, "k": K, "ridge": ridge}
        r.update(run_gram(pr, budget))
        r["lstsq"] = run_lstsq(pr, budget, plan)
        results.append(r)
        ls = r["lstsq"]
        sc = r["gram_scipy"]
        print(f"n={n} p={p} ridge={ridge:g}: gram+chol {1e3 * r['gram_chol']['median_s']:.3f} ms,"
              f" gram+solve {1e3 * r['gram_solve']['median_s']:.3f} ms,"
              + (f" gram+cho_solve (scipy) {1e3 * sc['median_s']:.3f} ms,"
                 f" gram+solve_triangular (scipy) {1e3 * r['gram_tri']['median_s']:.3f} ms"
                 if sc else " scipy peers not run") + f" ({r['gram_chol']['count']}"
              f" trials), lstsq " + (f"{1e3 * ls['median_s']:.1f} ms ({ls['count']} trials,"
                                      f" {ls['mode']})" if ls else "not run (ridge)"))
        print("  steps (median ms): " + ", ".join(
            f"{k} {1e3 * v:.3f}" for k, v in r["steps_median_s"].items()), flush=True)
    if args.json:
        doc = {"bench": "numpy_peer", "numpy": np.__version__,
               "scipy": scipy.__version__ if scipy else None, "python": sys.version.split()[0],
               "blas_config": name, "blas_loaded": loaded, "nproc": os.cpu_count(),
               "threads": "default", "quick": args.quick,
               "solve_note": "gram_chol = cholesky + 2 np.linalg.solve (LU) on the triangular "
                             "factors; gram_solve = np.linalg.solve on the Gram; gram_scipy = "
                             "scipy.linalg.cho_factor + cho_solve; gram_tri = "
                             "scipy.linalg.cholesky + 2 solve_triangular",
               "shapes": results}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
