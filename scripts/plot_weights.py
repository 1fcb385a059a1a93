#!/usr/bin/python3
"""Draw the weights job (kdbench --job weights): beta*, the optimal surrogate and the
optimal 0-1 mask against the feature index, log-log (the paper's Figure 1a).

    scripts/plot_weights.py WEIGHTS.csv [--out DIR]

Writes WEIGHTS.png and WEIGHTS.pdf (into --out, default the CSV's folder). Needs
matplotlib: run it with Debian's /usr/bin/python3. Bad input: one line, exit 2.
"""
import argparse
import csv
import os
import sys

COLUMNS = ("i", "lambda", "beta_star", "gain", "beta_optimal", "beta_mask")


def fail(text):
    print(f"plot_weights.py: {text}", file=sys.stderr)
    sys.exit(2)


def read(path):
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        fail(f"{path}: cannot open: {e.strerror}")
    if not rows or any(c not in rows[0] for c in COLUMNS):
        fail(f"{path}: not a weights CSV (expected columns {','.join(COLUMNS)})")
    try:
        return {c: [float(r[c]) for r in rows] for c in COLUMNS}
    except ValueError as e:
        fail(f"{path}: not a number ({e})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--out")
    args = parser.parse_args()
    w = read(args.csv)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("needs matplotlib: run it with /usr/bin/python3 (Debian's python3-matplotlib)")
    i = w["i"]
    kept = sum(1 for x in w["beta_mask"] if x != 0)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 6.4), sharex=True,
                                      gridspec_kw={"height_ratios": [2, 1]})
    top.loglog(i, [abs(x) for x in w["beta_star"]], color="#1f77b4", label="β* (ground truth)")
    top.loglog(i, [abs(x) for x in w["beta_optimal"]], color="#2ca02c",
               label="optimal surrogate g ⊙ β*")
    mask = [(a, abs(b)) for a, b in zip(i, w["beta_mask"]) if b != 0]
    top.loglog([a for a, _ in mask], [b for _, b in mask], color="#e6b800", ls="--",
               label=f"optimal 0-1 mask (top {kept})")
    top.set_ylabel("|weight|")
    top.legend(frameon=False)
    bottom.semilogx(i, w["gain"], color="#2ca02c")
    bottom.axhline(1, color="grey", lw=0.8)
    bottom.axvline(kept, color="#e6b800", ls="--", lw=0.8)
    bottom.set_xlabel("feature index i")
    bottom.set_ylabel("gain g_i")
    top.set_title(f"p = {len(i)}: amplified head, shrunk tail", fontsize=10)
    fig.tight_layout()
    stem = os.path.splitext(os.path.basename(args.csv))[0]
    out = args.out or os.path.dirname(args.csv) or "."
    for ext in ("png", "pdf"):
        path = os.path.join(out, f"{stem}.{ext}")
        fig.savefig(path, dpi=150, metadata={"CreationDate": None} if ext == "pdf" else None)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
