#!/usr/bin/env python3
"""Medians across rounds of bench_cpu_stage and numpy_peer.py, side by side.

  /usr/bin/python3 bench/compare_rounds.py ROUND_DIR [ROUND_DIR ...]

Each ROUND_DIR holds kdbench.json and numpy.json from one round (bench/compare_rounds.sh
runs them one after the other). Per shape: the median over rounds of each side's
per-round median time per trial, the ratio of those medians (numpy / kdbench, > 1:
kdbench is faster), the range of the per-round ratios, and in how many rounds the goal
(>= 2x NumPy + SciPy, >= 2x Gram+Cholesky, >= 10x lstsq) was met. "scipy" is the
NumPy + SciPy peer (cho_factor + cho_solve), n/a where SciPy was not installed. A ratio
marked >= is a lower bound (the lstsq peer's one-call run at the largest shape).
"""
import json
import os
import statistics
import sys

GOALS = {"gram_scipy": 2.0, "gram_chol": 2.0, "lstsq": 10.0}
PEERS = ("gram_chol", "gram_solve", "gram_scipy", "lstsq")


def load(d):
    with open(os.path.join(d, "kdbench.json")) as f:
        kd = json.load(f)
    with open(os.path.join(d, "numpy.json")) as f:
        npj = json.load(f)
    return kd, npj


def main():
    dirs = sys.argv[1:]
    if not dirs:
        sys.exit(__doc__)
    rounds = [load(d) for d in dirs]
    kd0, np0 = rounds[0]
    ceilings = [kd["dgemm"]["gflops"] for kd, _ in rounds]
    print(f"\n{len(rounds)} rounds; {kd0['backend']}; numpy {np0['numpy']} on "
          f"{np0['blas_loaded'][-1].split('/')[-1]}; DGEMM ceiling per round "
          f"{', '.join(f'{c:.0f}' for c in ceilings)} GFLOP/s\n")
    print("| n x p | ridge | kd mode | kdbench ms/trial | % DGEMM | numpy chol ms "
          "| numpy solve(G) ms | scipy ms | numpy lstsq ms | chol/kd | (range) | solve(G)/kd "
          "| (range) | scipy/kd | (range) | lstsq/kd | (range) | fallbacks |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    verdicts = []
    for s0 in kd0["shapes"]:
        key = (s0["n"], s0["p"], s0["ridge"])
        ours, pct, peers, fb, trials = [], [], {k: [] for k in PEERS}, 0, 0
        bound = False
        per_round = {k: [] for k in peers}
        for kd, npj in rounds:
            s = next(x for x in kd["shapes"] if (x["n"], x["p"], x["ridge"]) == key)
            pe = next(x for x in npj["shapes"] if (x["n"], x["p"], x["ridge"]) == key)
            t = s["stage"]["median_s"]
            ours.append(t)
            pct.append(s["pct_dgemm"])
            fb += s["fallbacks"]
            trials += s.get("trials", s["stage"]["count"])
            for k in peers:
                if pe.get(k):
                    peers[k].append(pe[k]["median_s"])
                    per_round[k].append(pe[k]["median_s"] / t)
                    bound = bound or (k == "lstsq" and "1 call" in pe[k].get("mode", ""))
        med = statistics.median(ours)
        cells, v = [], []
        for k in PEERS:
            if not peers[k]:
                cells += ["n/a", "n/a", ""]
                continue
            mark = ">=" if k == "lstsq" and bound else ""
            r = statistics.median(peers[k]) / med
            lo, hi = min(per_round[k]), max(per_round[k])
            cells += [f"{1e3 * statistics.median(peers[k]):.1f}", f"{mark}{r:.2f}x",
                      f"{mark}{lo:.2f}-{hi:.2f}"]
            if k in GOALS:
                met = sum(x >= GOALS[k] for x in per_round[k])
                state = "met" if r >= GOALS[k] else ("undecided (a lower bound)" if mark
                                                     else "NOT met")
                v.append(f"{k} {mark}{r:.2f}x {state} (goal {GOALS[k]:g}x; met in {met} of "
                         f"{len(per_round[k])} rounds)")
        mode = f"{s0.get('workers', 1)}x{s0.get('blas_threads', '?')}"
        ms = cells[0::3]
        ratios = [c for i, c in enumerate(cells) if i % 3]
        share = statistics.median(pct)
        m = min(key[0], key[1])
        goal = None if key[2] == 0 and key[0] == key[1] else (
            50 if m <= 512 else 80 if m >= 1000 else None)
        if goal:
            met = sum(x >= goal for x in pct)
            v.append(f"{share:.1f} % of DGEMM {'met' if share >= goal else 'NOT met'} (goal "
                     f"{goal} %; met in {met} of {len(pct)} rounds)")
        print(f"| {key[0]} x {key[1]} | {key[2]:g} | {mode} | {1e3 * med:.2f} | {share:.0f} | "
              + " | ".join(ms) + " | " + " | ".join(ratios) + f" | {fb}/{trials} |")
        verdicts.append(f"- {key[0]} x {key[1]} ridge {key[2]:g}: " + "; ".join(v))
    print("\nGoals: kdbench >= 2x numpy + scipy, >= 2x numpy Gram+Cholesky, >= 10x numpy "
          "lstsq (ratios of the medians over rounds); >= 50 % of DGEMM at 200 x 500, >= 80 % "
          "at 1000 x 2000 and larger (median share over rounds).")
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
