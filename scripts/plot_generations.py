#!/usr/bin/python3
"""Draw a kdbench run of the recursive pipeline: excess risk against generation.

    scripts/plot_generations.py RUN [--out DIR] [--formats png,pdf] [--log]

RUN is the run's stem (results/collapse/ols) or any of its files. Reads NAME.csv and
NAME.meta.json (docs/run-format.md) and writes NAME.png and NAME.pdf (into --out,
default the run's folder): one line per schedule (and, for a run of several grid
points, per point), the theory as a line, the simulation as markers with their 95 %
CI, and each point's null risk (beta*' Sigma beta*, the zero predictor's, from the
metadata) as a dotted horizontal line. A peak row (expected risk infinite) is a hollow
marker at its median; --log draws the risk on a log scale. A theory-only run (no
trials) is drawn as its theory lines alone.

Needs matplotlib: run it with Debian's /usr/bin/python3 (python3-matplotlib).
Bad input: one line on standard error, exit status 2.
"""
import argparse
import csv
import json
import math
import os
import sys

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#17becf"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "h"]
SUFFIXES = (".meta.json", ".jsonl", ".csv", ".md", ".tex", ".png", ".pdf")
AXES = ("n", "p", "ridge", "alpha", "sigma")


def fail(message):
    print(f"plot_generations.py: {message}", file=sys.stderr)
    sys.exit(2)


def stem_of(run):
    for suffix in SUFFIXES:
        if run.endswith(suffix):
            return run[: -len(suffix)]
    return run


def number(text):
    if text == "":
        return math.nan
    return float(text)


def load(stem):
    try:
        with open(stem + ".meta.json") as f:
            meta = json.load(f)
        with open(stem + ".csv", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, ValueError) as e:
        fail(f"{stem}: {e}")
    rows = [r for r in rows if r.get("generation")]
    if not rows:
        fail(f"{stem}.csv: no rows with a generation (not a run of the recursive pipeline)")
    return meta, rows


def point_label(row, varying):
    return ", ".join(f"{a} = {row[a]}" for a in varying)


def main():
    ap = argparse.ArgumentParser(add_help=True)
    ap.add_argument("run")
    ap.add_argument("--out")
    ap.add_argument("--formats", default="png,pdf")
    ap.add_argument("--log", action="store_true")
    args = ap.parse_args()
    formats = args.formats.split(",")
    if any(f not in ("png", "pdf") for f in formats):
        fail(f"--formats {args.formats}: expected png and/or pdf")
    stem = stem_of(args.run)
    meta, rows = load(stem)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # a group: one grid point and one schedule, its rows by generation
    varying = [a for a in AXES if len({r[a] for r in rows}) > 1]
    groups, order = {}, []
    for r in rows:
        key = (r["n"], r["p"], r["ridge"], r["alpha"], r["sigma"], r["schedule"])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    null = meta.get("null_risk") or []
    simulated = (meta.get("trials") or 0) > 0
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for i, key in enumerate(order):
        g = sorted(groups[key], key=lambda r: int(r["generation"]))
        colour, marker = COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]
        label = g[0]["schedule"]
        where = point_label(g[0], varying)
        if where:
            label += f" ({where})"
        gen = [int(r["generation"]) for r in g]
        theory = [number(r["theory"]) for r in g]
        ax.plot(gen, [t if math.isfinite(t) else math.nan for t in theory], "-", color=colour,
                lw=1.4, label=label + ": theory")
        for r, x in zip(g, gen if simulated else []):
            mean, lo, hi = number(r["sim_mean"]), number(r["sim_ci_low"]), number(r["sim_ci_high"])
            if r["flag"] == "peak":
                ax.plot([x], [number(r["sim_median"])], marker, mfc="none", color=colour)
                continue
            lo = lo if math.isfinite(lo) else mean
            hi = hi if math.isfinite(hi) else mean
            ax.errorbar([x], [mean], yerr=[[mean - lo], [hi - mean]], fmt=marker, color=colour,
                        ms=4.5, capsize=2.5, lw=1)
        if simulated:
            ax.plot([], [], marker, color=colour, label=label + ": simulation (95 % CI)")
    # the null risk of each grid point (it depends on p and the spectrum only)
    for v in sorted({v for v in null if v is not None}):
        ax.axhline(v, ls=":", color="0.35", lw=1.2)
        ax.annotate(f"null risk {v:.4g}", (0.99, v), xycoords=("axes fraction", "data"),
                    ha="right", va="bottom", fontsize=8, color="0.3")
    if args.log:
        ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("generation g")
    ax.set_ylabel(r"excess risk $E\,\|\hat\beta_g - \beta^*\|_\Sigma^2$")
    how = f"{meta.get('trials')} trials per point" if simulated else "theory only"
    ax.set_title(os.path.basename(stem) + f": {how}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=1 if len(order) < 4 else 2, loc="best")
    fig.tight_layout()
    out_dir = args.out or os.path.dirname(stem) or "."
    os.makedirs(out_dir, exist_ok=True)
    for fmt in formats:
        path = os.path.join(out_dir, os.path.basename(stem) + "." + fmt)
        fig.savefig(path, dpi=150)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
