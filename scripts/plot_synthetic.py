#!/usr/bin/python3
"""The figures and the summary table of the synthetic preset (results/synthetic/).

    /usr/bin/python3 scripts/plot_synthetic.py DIR

DIR holds the preset's runs (table, real-and-synthetic, mixing, overparameterised).
Writes DIR/risk-vs-p.png|pdf (risk against p/m: the real-data student's peak at p = m,
the teacher, the synthetic students K = n/m, 10x real data), DIR/risk-vs-f.png|pdf (risk
against the real fraction f, simulation beside theory, both mixing runs) and
DIR/table-summary.md (the isotropic table: students by row, p by column)."""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402


def rows_of(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(text):
    return float(text) if text not in ("", None) else math.nan


def cell(rows, pipeline, **where):
    """The row of `pipeline` whose columns equal `where` (numbers compared as such)."""
    for r in rows:
        if r["pipeline"] == pipeline and all(num(r[k]) == v for k, v in where.items()):
            return r
    raise KeyError(f"no {pipeline} row at {where}")


def curves(table, mixed, m):
    """(label, style, [(p, row)]) for the students of the isotropic table."""
    ps = sorted({int(r["p"]) for r in table})
    ns = sorted({int(r["n"]) for r in table})
    out = [("real data, n = m", dict(color="black", marker="o"),
            [(p, cell(table, "strong", n=m, p=p)) for p in ps]),
           ("teacher (ridge, m real)", dict(color="#7f7f7f", marker="v"),
            [(p, cell(table, "weak", n=m, p=p)) for p in ps])]
    cmap = plt.get_cmap("viridis")
    for i, n in enumerate(ns):
        out.append((f"synthetic K = {n // m}", dict(color=cmap(i / max(1, len(ns) - 1)), marker="s"),
                    [(p, cell(table, "mix", n=n, p=p)) for p in ps]))
    if 10 * m in ns:
        out.append(("10x real data", dict(color="#d62728", marker="D"),
                    [(p, cell(table, "strong", n=10 * m, p=p)) for p in ps]))
    if mixed:
        n = int(mixed[0]["n"])
        out.append((f"m real + {(n - m) // m}m synthetic", dict(color="#ff7f0e", marker="^"),
                    [(int(r["p"]), r) for r in mixed]))
    return out


def finite(x):
    return x if math.isfinite(x) else math.nan


TOP = 10.0  # the risk axis ends here; a peak's median is marked at the top


def plot_table(d, table, mixed, m):
    fig, ax = plt.subplots(figsize=(9.0, 4.8))
    for label, style, pts in curves(table, mixed, m):
        x = [p / m for p, _ in pts]
        sim = [num(r["sim_median"]) if r["flag"] == "peak" else num(r["sim_mean"]) for _, r in pts]
        th = [finite(num(r["theory"])) for _, r in pts]
        ax.plot(x, th, "-", color=style["color"], lw=1.2, alpha=0.8)
        ax.plot(x, sim, linestyle="none", label=label, markerfacecolor="none", **style)
        for xi, y in zip(x, sim):  # off the chart: the real-data student at its peak
            if y > TOP:
                ax.annotate("peak: median %.2g" % y, (xi, TOP), xytext=(xi * 0.62, TOP / 2.5),
                            fontsize=8, arrowprops=dict(arrowstyle="->", color=style["color"]))
    ax.axvline(1.0, color="0.8", lw=0.8, zorder=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(top=TOP)
    ax.set_xticks([0.5, 1, 2, 4])
    ax.set_xticklabels(["0.5", "1", "2", "4"])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("p / m  (student features over the teacher's real samples, m = %d)" % m)
    ax.set_ylabel("excess risk")
    ax.set_title("Synthetic labels: the interpolation peak at p = m is gone once K >= 1\n"
                 "(markers: simulation, mean or at a peak the median; lines: theory)", fontsize=10)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(os.path.join(d, "risk-vs-p." + ext), dpi=130)
    plt.close(fig)


def plot_mixing(d, runs):
    fig, axes = plt.subplots(1, len(runs), figsize=(5.2 * len(runs), 4.2))
    for ax, (title, rows) in zip(axes, runs):
        mix = [r for r in rows if r["pipeline"] == "mix"]
        f = [num(r["real_fraction"]) for r in mix]
        ax.errorbar(f, [num(r["sim_mean"]) for r in mix],
                    yerr=[num(r["sim_ci_high"]) - num(r["sim_mean"]) for r in mix],
                    fmt="o", color="#1f77b4", capsize=3, label="mix: simulation (95 % CI)")
        ax.plot(f, [num(r["theory"]) for r in mix], "-", color="#1f77b4", label="mix: theory")
        for pipe, color in (("strong", "black"), ("w2s", "#ff7f0e")):
            r = next(x for x in rows if x["pipeline"] == pipe)
            ax.axhline(num(r["sim_mean"]), color=color, ls="--", lw=1,
                       label=f"{pipe} (f = {'1' if pipe == 'strong' else '0'}: all {'real' if pipe == 'strong' else 'teacher'} rows)")
        ax.set_xlabel("f, the fraction of rows with real labels")
        ax.set_ylabel("excess risk")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(os.path.join(d, "risk-vs-f." + ext), dpi=130)
    plt.close(fig)


def fmt(r):
    if r["flag"] == "peak":
        return "peak (median %.3g)" % num(r["sim_median"])
    return "%.3g (%.3g)" % (num(r["sim_mean"]), num(r["theory"]))


def summary(d, table, mixed, m):
    ps = sorted({int(r["p"]) for r in table})
    lines = ["| student | " + " | ".join(f"p = {p}" for p in ps) + " |",
             "|---|" + "---:|" * len(ps)]
    for label, _, pts in curves(table, mixed, m):
        lines.append(f"| {label} | " + " | ".join(fmt(r) for _, r in pts) + " |")
    lines.append("")
    lines.append("Each cell: simulated mean (theory); at an interpolation peak the median.")
    with open(os.path.join(d, "table-summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    table = rows_of(os.path.join(d, "table.csv"))
    m = int(next(r["m"] for r in table if r["m"]))
    mixed_path = os.path.join(d, "real-and-synthetic.csv")
    mixed = rows_of(mixed_path) if os.path.exists(mixed_path) else []
    plot_table(d, table, mixed, m)
    summary(d, table, mixed, m)
    runs = []
    for name, title in (("mixing", "isotropic, p = 100, n = 300: an OLS student"),
                        ("overparameterised", "power law, p = 400, n = 200: an interpolating student")):
        path = os.path.join(d, name + ".csv")
        if os.path.exists(path):
            runs.append((title, rows_of(path)))
    if runs:
        plot_mixing(d, runs)


if __name__ == "__main__":
    main()
