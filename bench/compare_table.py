#!/usr/bin/env python3
"""Markdown table of bench_cpu_stage's and numpy_peer.py's JSON results, side by side.

  /usr/bin/python3 bench/compare_table.py KDBENCH.json NUMPY.json

Ratios are numpy median / kdbench median per shape (> 1: kdbench is faster). Where the
lstsq peer ran one call with all 4 label vectors (the largest shape) its ratio is a lower
bound of the 4-call ratio and is marked >=. "kd mode" is how kdbench ran its trials:
WxB = W trials side by side with B BLAS threads each (1x2: one at a time, BLAS on 2).
"scipy" is the NumPy + SciPy peer (cho_factor + cho_solve on the same Gram), n/a where
SciPy was not installed when the peer ran.

Goals: >= 2x the NumPy + SciPy peer and >= 2x NumPy Gram+Cholesky at every shape,
>= 10x NumPy lstsq; >= 50 % of the DGEMM ceiling at 200 x 500 and >= 80 % at
1000 x 2000 and larger.
"""
import json
import sys

GOALS = (("gram_scipy", 2.0), ("gram_chol", 2.0), ("lstsq", 10.0))


def ceiling_goal(s):
    """The share of the DGEMM ceiling asked for at this shape (percent), or None."""
    if s["ridge"] == 0 and s["n"] == s["p"]:
        return None  # the ridgeless peak: fallbacks, not a goal row
    m = min(s["n"], s["p"])
    return 50 if m <= 512 else 80 if m >= 1000 else None


def ms(t):
    return f"{1e3 * t['median_s']:.1f}" if t else "n/a"


def ratio(t, ours):
    if not t:
        return "n/a"
    bound = ">=" if "1 call" in t.get("mode", "") else ""
    return f"{bound}{t['median_s'] / ours:.2f}x"


def verdict(t, ours, goal):
    if t["median_s"] / ours >= goal:
        return "met"
    return "undecided (a lower bound)" if "1 call" in t.get("mode", "") else "NOT met"


def main():
    kd, npj = (json.load(open(p)) for p in sys.argv[1:3])
    peers = {(s["n"], s["p"], s["ridge"]): s for s in npj["shapes"]}
    print(f"\nDGEMM ceiling {kd['dgemm']['gflops']:.1f} GFLOP/s ({kd['dgemm']['n']}^3); "
          f"{kd['backend']}; numpy {npj['numpy']} on {npj['blas_loaded'][-1].split('/')[-1]}; "
          f"flop model {kd['flop_model']}\n")
    print("| n x p | ridge | kd mode | kdbench ms/trial | GFLOP/s | % DGEMM | fallbacks "
          "| numpy chol ms | numpy solve(G) ms | scipy ms | numpy lstsq ms | chol/kd "
          "| solve(G)/kd | scipy/kd | lstsq/kd |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    verdicts = []
    for s in kd["shapes"]:
        ours = s["stage"]["median_s"]
        pe = peers.get((s["n"], s["p"], s["ridge"]), {})
        chol, solve, sc, ls = (pe.get(k) for k in ("gram_chol", "gram_solve", "gram_scipy",
                                                    "lstsq"))
        mode = f"{s.get('workers', 1)}x{s.get('blas_threads', '?')}"
        trials = s.get("trials", s["stage"]["count"])
        print(f"| {s['n']} x {s['p']} | {s['ridge']:g} | {mode} | {1e3 * ours:.2f} "
              f"| {s['gflops']:.1f} | {s['pct_dgemm']:.0f} | {s['fallbacks']}/{trials} | {ms(chol)} "
              f"| {ms(solve)} | {ms(sc)} | {ms(ls)} | {ratio(chol, ours)} | {ratio(solve, ours)} "
              f"| {ratio(sc, ours)} | {ratio(ls, ours)} |")
        v = [f"{key} {ratio(pe[key], ours)} {verdict(pe[key], ours, goal)} (goal {goal:g}x)"
             for key, goal in GOALS if pe.get(key)]
        goal = ceiling_goal(s)
        if goal:
            v.append(f"{s['pct_dgemm']:.1f} % of DGEMM "
                     f"{'met' if s['pct_dgemm'] >= goal else 'NOT met'} (goal {goal} %)")
        if pe.get("solve_mismatches"):
            v.append(f"numpy's two Gram solves disagreed (> 1e-6) on {pe['solve_mismatches']} trials")
        verdicts.append(f"- {s['n']} x {s['p']} ridge {s['ridge']:g}: " + "; ".join(v))
    print("\nGoals: kdbench >= 2x numpy + scipy, >= 2x numpy Gram+Cholesky, >= 10x numpy "
          "lstsq; >= 50 % of DGEMM at 200 x 500, >= 80 % at 1000 x 2000 and larger.")
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
