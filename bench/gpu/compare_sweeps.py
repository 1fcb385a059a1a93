#!/usr/bin/env python3
"""Compares two runs of the same sweep on two backends (run.sh's last step).

Rows are matched on the sweep's axes (pipeline, n, p, m, k, ridge, alpha, signal_exp,
sigma, trials); for each pair it reports the relative difference of sim_mean and
sim_median, and whether the fallback counts agree. Rows flagged peak or near-peak are
reported apart: near n = p the conditioning amplifies the rounding differences of two
linear-algebra libraries, and there only the median means much.

Exit status 1 when the two runs do not hold the same rows, or when a row away from the
peak differs by more than TOL in sim_mean; 0 otherwise.

  python3 bench/gpu/compare_sweeps.py REFERENCE.csv OTHER.csv
"""
import csv
import sys

TOL = 1e-6
AXES = ("pipeline", "n", "p", "m", "k", "ridge", "alpha", "signal_exp", "sigma", "trials")


def load(path):
    with open(path, newline="") as f:
        return {tuple(r[a] for a in AXES): r for r in csv.DictReader(f)}


def rel(a, b):
    a, b = float(a), float(b)
    return 0.0 if a == b else abs(a - b) / max(abs(b), 1e-300)


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    ref, other = load(sys.argv[1]), load(sys.argv[2])
    if ref.keys() != other.keys():
        print(f"compare: the runs hold different rows ({len(ref)} and {len(other)})")
        return 1
    worst = {False: 0.0, True: 0.0}
    worst_median = {False: 0.0, True: 0.0}
    same_fallbacks = 0
    for key, r in ref.items():
        o = other[key]
        peak = r["flag"] in ("peak", "near-peak")
        worst[peak] = max(worst[peak], rel(o["sim_mean"], r["sim_mean"]))
        worst_median[peak] = max(worst_median[peak], rel(o["sim_median"], r["sim_median"]))
        same_fallbacks += r["fallbacks"] == o["fallbacks"]
    print(f"compare: {len(ref)} rows; away from the peak sim_mean differs by at most "
          f"{worst[False]:.2g} (median {worst_median[False]:.2g}); at peak/near-peak rows by "
          f"{worst[True]:.2g} (median {worst_median[True]:.2g}); fallback counts equal in "
          f"{same_fallbacks} of {len(ref)} rows")
    return 1 if worst[False] > TOL else 0


if __name__ == "__main__":
    sys.exit(main())
