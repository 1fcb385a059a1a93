#!/usr/bin/python3
"""Risk against the student's features s, one curve per order, one panel per count of
noise features: the figure of the preset `features` (README, "Feature growth").

    /usr/bin/python3 scripts/plot_features.py DIR     # DIR/ORDER-qQ.csv -> DIR/features.png, .pdf

Reads the runs DIR/{head,tail,random}-q{Q}.csv that are there (every Q found); draws
the Monte Carlo mean with its 95 % interval (points) and the theory (line) of the
`features` rows, the interpolation peak s + Q = n as a dotted line where it is in range
(the rows flagged `peak` there, whose expected risk is infinite, are left out).
"""
import csv
import glob
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ORDERS = [("head", "head first", "C0"), ("tail", "tail first", "C3"), ("random", "random", "C2")]


def rows(path):
    with open(path, newline="") as f:
        out = [r for r in csv.DictReader(f) if r["pipeline"] == "features" and r["flag"] != "peak"]
    return sorted(out, key=lambda r: int(r["student_features"]))


def num(text):
    return float(text) if text not in ("", "inf") else float("inf")


def main(folder):
    qs = sorted({int(m.group(1)) for p in glob.glob(os.path.join(folder, "*-q*.csv"))
                 if (m := re.search(r"-q(\d+)\.csv$", p))})
    if not qs:
        sys.exit(f"plot_features.py: no ORDER-qQ.csv runs in {folder}")
    cols = 2 if len(qs) > 1 else 1
    rows_ = (len(qs) + cols - 1) // cols
    fig, axes = plt.subplots(rows_, cols, figsize=(5.6 * cols, 4.0 * rows_), squeeze=False)
    panels = [ax for line in axes for ax in line]
    for ax in panels[len(qs):]:
        ax.axis("off")
    for ax, q in zip(panels, qs):
        n = None
        for order, label, colour in ORDERS:
            path = os.path.join(folder, f"{order}-q{q}.csv")
            if not os.path.exists(path):
                continue
            rs = rows(path)
            n = int(rs[0]["n"])
            s = [int(r["student_features"]) for r in rs]
            mean = [num(r["sim_mean"]) for r in rs]
            lo = [m - num(r["sim_ci_low"]) if r["sim_ci_low"] else 0 for m, r in zip(mean, rs)]
            hi = [num(r["sim_ci_high"]) - m if r["sim_ci_high"] else 0 for m, r in zip(mean, rs)]
            theory = [num(r["theory"]) for r in rs]
            ax.errorbar(s, mean, yerr=[lo, hi], fmt="o", ms=3.5, color=colour, capsize=2,
                        label=f"{label}: simulation")
            ax.plot(s, theory, "-", color=colour, lw=1.2, label=f"{label}: theory")
        if n is not None and 10 <= n - q <= 500:
            ax.axvline(n - q, ls=":", color="0.5", lw=1)
        rho = ""
        meta = os.path.join(folder, f"head-q{q}.meta.json")
        if q and os.path.exists(meta):
            m = re.search(r"noise-level = ([0-9.e+-]+)", open(meta).read())
            rho = f", rho = {float(m.group(1)):g}: q rho / n = {q * float(m.group(1)) / n:g}" if m else ""
        ax.set_title(f"q = {q} noise features{rho}", fontsize=9)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("student's features s")
        ax.set_ylabel("excess risk")
        ax.grid(True, which="both", alpha=0.3)
    panels[0].legend(fontsize=7, loc="best")
    fig.suptitle("Feature growth: p = 500, n = 200, lambda_i = i^-2, lambda_i beta_i^2 = i^-1.5, "
                 "sigma = 0.5, ridgeless", fontsize=10)
    fig.tight_layout()
    for ext in ("png", "pdf"):
        out = os.path.join(folder, f"features.{ext}")
        fig.savefig(out, dpi=130)
        print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
