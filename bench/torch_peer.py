#!/usr/bin/env python3
"""The PyTorch float64 peer of bench_stage: the same work per trial, the same shapes.

A trial: draw X (n x p, X = Z sqrt(lambda), Z from torch.randn on the device) and a noise
vector z, form the k = 4 label vectors Y = X S + z sigma^T, fit all of them, and score
each fit's risk sum_j lambda_j (beta_hat_j - beta*_j)^2. Everything in float64, on one
device (CUDA when present).

Peers:
  lstsq       what researchers write: torch.linalg.lstsq(X, Y) once per trial, all 4
              label vectors at once (on CUDA its only driver is gels: QR, full rank
              assumed; minimum norm for p > n). Not run with a ridge.
  gram_chol   kdbench's algorithm: the Gram on the small side (X X^T when p > n, X^T X
              otherwise, with the same whitening for ridgeless n >= p), plus n ridge on
              its diagonal, torch.linalg.cholesky, torch.cholesky_solve, beta_hat = X^T A
              for p > n. At shapes with min(n, p) <= 1000, BATCH trials at once
              (batched matmul, batched cholesky): the time per trial is the batch's over
              BATCH, the way a sweep's many small trials can run.

Rules: one warm-up sample per shape and peer, then samples until at least 5 and 1 s are
in (or 10 s and 3); torch.cuda.synchronize() before reading the clock on either side of
each sample; median, min, IQR of the time per trial. No condition check: where the Gram
is ill-conditioned (near n = p), gram_chol returns what Cholesky gives, and lstsq what
unpivoted QR gives; kdbench checks and falls back, so that row is not the same work.

  python3 bench/torch_peer.py [--device cuda|cpu] [--quick] [--json FILE]
"""
import argparse
import json
import sys
import time

import torch

K = 4
SIGMA = 0.5
SEED = 20240601
BATCH = 64
# (n, p, ridge, in --quick): bench_stage.c's shapes
SHAPES = [
    (200, 500, 0.0, True),
    (1000, 2000, 0.0, True),
    (2000, 1000, 0.0, True),
    (4000, 4000, 1e-3, False),
    (8192, 16384, 0.0, False),
    (16384, 8192, 0.0, False),
    (20000, 20000, 1e-3, False),
]
FULL = (5, 1.0, 10.0, 3)
QUICK = (3, 0.2, 1.0, 3)


class Problem:
    """lambda_i = i^-2, lambda_i beta*_i^2 = i^-1.5, sources beta* x {1, .75, .5, .25}."""

    def __init__(self, n, p, ridge, device):
        i = torch.arange(1, p + 1, dtype=torch.float64, device=device)
        self.n, self.p, self.ridge, self.device = n, p, ridge, device
        self.lam = i**-2.0
        self.sqrt_lam = self.lam.sqrt()
        self.beta = i**0.25
        scale = torch.tensor([1.0, 0.75, 0.5, 0.25], dtype=torch.float64, device=device)
        self.sources = self.beta[:, None] * scale
        self.sigma = torch.full((K,), SIGMA, dtype=torch.float64, device=device)
        self.kernel = p > n
        self.whiten = ridge == 0 and n >= p
        self.gen = torch.Generator(device=device)
        self.gen.manual_seed(SEED + 7919 * n + p)

    def draw(self, trials, whiten):
        """X (or Z) as trials x n x p, and Y as trials x n x K."""
        x = torch.randn((trials, self.n, self.p), dtype=torch.float64, device=self.device,
                        generator=self.gen)
        if not whiten:
            x *= self.sqrt_lam
        z = torch.randn((trials, self.n, 1), dtype=torch.float64, device=self.device,
                        generator=self.gen)
        src = self.sources * self.sqrt_lam[:, None] if whiten else self.sources
        return x, x @ src + z * self.sigma

    def risk(self, b):
        return ((b - self.beta[:, None]) ** 2 * self.lam[:, None]).sum(dim=-2)


def gram_chol(pr, trials):
    x, y = pr.draw(trials, pr.whiten)
    xt = x.transpose(-1, -2)
    g = x @ xt if pr.kernel else xt @ x
    g.diagonal(dim1=-2, dim2=-1).add_(pr.n * pr.ridge)
    low = torch.linalg.cholesky(g)
    a = torch.cholesky_solve(y if pr.kernel else xt @ y, low)
    b = xt @ a if pr.kernel else a
    if pr.whiten:
        b = b / pr.sqrt_lam[:, None]
    return pr.risk(b)


def lstsq(pr, trials):
    x, y = pr.draw(trials, False)
    return pr.risk(torch.linalg.lstsq(x, y).solution)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def budget_met(budget, count, total):
    min_samples, min_time, max_time, floor = budget
    return (count >= min_samples and total >= min_time) or (count >= floor and total >= max_time)


def measure(fn, pr, trials, budget):
    """Seconds per trial of fn over `trials` trials per sample, after a warm-up."""
    fn(pr, trials)
    times = []
    while not budget_met(budget, len(times), sum(times) * trials):
        sync(pr.device)
        t0 = time.perf_counter()
        risk = fn(pr, trials)
        sync(pr.device)
        times.append((time.perf_counter() - t0) / trials)
        if not bool(torch.isfinite(risk).all()):
            print(f"torch_peer: n={pr.n} p={pr.p}: a non-finite risk", flush=True)
    t = torch.tensor(sorted(times), dtype=torch.float64)
    q1, med, q3 = (float(v) for v in torch.quantile(t, torch.tensor([0.25, 0.5, 0.75],
                                                                    dtype=torch.float64)))
    return {"count": len(times), "trials_per_sample": trials, "median_s": med,
            "min_s": float(t[0]), "q1_s": q1, "q3_s": q3}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="the three small shapes, short budget")
    ap.add_argument("--json", metavar="FILE", help="write the results here")
    args = ap.parse_args()
    device = torch.device(args.device)
    budget = QUICK if args.quick else FULL
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"torch {torch.__version__} on {name}, float64", flush=True)
    results = []
    doc = {"bench": "torch_peer", "torch": torch.__version__, "python": sys.version.split()[0],
           "device": name, "quick": args.quick, "batch": BATCH, "shapes": results}
    for n, p, ridge, quick in SHAPES:
        if args.quick and not quick:
            continue
        pr = Problem(n, p, ridge, device)
        batch = BATCH if min(n, p) <= 1000 else 1
        r = {"n": n, "p": p, "k": K, "ridge": ridge}
        try:
            r["gram_chol"] = measure(gram_chol, pr, batch, budget)
            r["lstsq"] = measure(lstsq, pr, 1, budget) if ridge == 0 else None
        except RuntimeError as e:  # out of memory among them
            r["error"] = str(e).splitlines()[0]
        results.append(r)
        if args.json:  # after every shape: a run cut short keeps what it measured
            with open(args.json, "w") as f:
                json.dump(doc, f, indent=1)
        if "error" in r:
            print(f"n={n} p={p} ridge={ridge:g}: failed: {r['error']}", flush=True)
            continue
        gc, ls = r["gram_chol"], r["lstsq"]
        ls_text = f"{1e3 * ls['median_s']:.3f} ms/trial" if ls else "not run (ridge)"
        print(f"n={n} p={p} ridge={ridge:g}: gram+chol {1e3 * gc['median_s']:.3f} ms/trial "
              f"({gc['trials_per_sample']} per sample), lstsq {ls_text}", flush=True)


if __name__ == "__main__":
    main()
