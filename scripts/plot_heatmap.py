#!/usr/bin/python3
"""The weak-to-strong map of a two-axis run (called by plot_run.py): w2s / strong - 1 at
every grid point, simulation and theory side by side on one colour scale centred on 0
(blue: weak-to-strong beats ground-truth labels), the cells whose paired 95 % CI of
w2s - strong excludes 0 outlined and in bold, and the theory's zero contour (from a
dense theory-only run; the grid's own theory without one) drawn on both. The paired CI
is NAME.fit.json's (kdbench fit) or, without it, the per-trial risks' (--raw); with
neither no cell is marked. Writes NAME.heatmap.{pdf,svg,png} and
NAME.heatmap.caption.tex.
"""
import math
import os
import tempfile

import kdrun
from figure.output import provenance
from figure.style import AXIS_MATH, AXIS_WORDS
from figure.theory import axis_grid
from kdrun import RunError

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 15: 2.131, 20: 2.086, 30: 2.042, 60: 2.000, 120: 1.980}


def t975(dof):
    """The 97.5 % quantile of Student's t (dof degrees of freedom), from a table."""
    keys = sorted(T975)
    for k in keys:
        if dof <= k:
            return T975[k]
    return 1.96


def cells(rows, meta):
    """{(x, y): {"sim": ..., "theory": ..., "point": index}} of the points with both a
    strong and a w2s row."""
    x, y = meta["axes"]
    out = {}
    for index, point in enumerate(kdrun.points(rows, meta["pipelines"])):
        by = {r["pipeline"]: r for r in point if len(kdrun.series_key(r)) == 1}
        if "strong" not in by or "w2s" not in by:
            continue
        s, w = by["strong"], by["w2s"]
        key = (kdrun.axis_value(point, x), kdrun.axis_value(point, y))

        def ratio(a, b):
            return a / b - 1 if a is not None and b and math.isfinite(a) and math.isfinite(b) else math.nan
        out[key] = {"sim": ratio(w["sim_mean"], s["sim_mean"]),
                    "theory": ratio(w["theory"], s["theory"]), "point": index,
                    "flag": w["flag"] or s["flag"]}
    return out


def significance(stem, meta, grid):
    """{(x, y): True when the paired 95 % CI of w2s - strong excludes 0}, and where it
    came from; {} when nothing says."""
    x, y = meta["axes"]
    fit = kdrun.read_fit(stem + ".fit.json")
    if fit and fit.get("w2s"):
        out = {}
        for r in fit["w2s"]:
            if r.get("diff_paired") and r.get("diff") is not None and r.get("diff_ci") is not None:
                out[(r.get(x), r.get(y))] = abs(r["diff"]) > r["diff_ci"]
        return out, "NAME.fit.json"
    if not os.path.exists(stem + ".jsonl"):
        return {}, None
    trials = {}
    for t in kdrun.read_risks(stem + ".jsonl"):
        trials.setdefault(t["point"], {}).setdefault(t["pipeline"], {})[t["trial"]] = t["risk"]
    out = {}
    for key, c in grid.items():
        by = trials.get(c["point"], {})
        if "strong" not in by or "w2s" not in by:
            continue
        d = [by["w2s"][t] - by["strong"][t] for t in by["strong"] if t in by["w2s"]]
        if len(d) < 2:
            continue
        mean = sum(d) / len(d)
        sd = math.sqrt(sum((v - mean) ** 2 for v in d) / (len(d) - 1))
        out[key] = abs(mean) > t975(len(d) - 1) * sd / math.sqrt(len(d))
    return out, "the per-trial risks"


def edges(values, log):
    """Cell edges around sorted centres: midpoints (geometric on a log axis)."""
    if len(values) == 1:
        v = values[0]
        return [v / 1.5, v * 1.5] if log else [v - 0.5, v + 0.5]
    mids = [math.sqrt(a * b) if log else (a + b) / 2 for a, b in zip(values, values[1:])]
    first = values[0] ** 2 / mids[0] if log else 2 * values[0] - mids[0]
    last = values[-1] ** 2 / mids[-1] if log else 2 * values[-1] - mids[-1]
    return [first] + mids + [last]


def is_log(values):
    return min(values) > 0 and max(values) / min(values) >= 10


def plot(stem, out_dir, meta, rows, args, plt, save, theory_run):
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle
    x, y = meta["axes"]
    grid = cells(rows, meta)
    if not grid:
        return []
    xs, ys = sorted({k[0] for k in grid}), sorted({k[1] for k in grid})
    sig, sig_source = significance(stem, meta, grid)
    values = [c[w] for c in grid.values() for w in ("sim", "theory") if math.isfinite(c[w])]
    if not values:
        raise RunError(f"{stem}: no finite w2s / strong at any point")
    # centred on 0; a side that reaches far beyond the other saturates at twice the
    # other's reach (at least 5 %), so that small gains stay visible beside large losses
    low, high = -min(min(values), 0), max(max(values), 0)
    vmax = min(max(low, high), max(2 * min(low, high), 0.05)) or 1e-3
    norm = TwoSlopeNorm(vcenter=0, vmin=-vmax, vmax=vmax)
    xlog, ylog = is_log(xs), is_log(ys)
    ex, ey = edges(xs, xlog), edges(ys, ylog)

    contour = None  # the theory's w2s / strong - 1 on a dense grid
    if not args.no_dense and len(xs) > 1 and len(ys) > 1:
        with tempfile.TemporaryDirectory(prefix="plot_heatmap.") as folder:
            dense = theory_run(meta, rows, [x, y], args.kdbench,
                               {x: axis_grid(x, xs, 60, []), y: axis_grid(y, ys, 30, [])},
                               folder)
        if dense is not None:
            contour = cells(dense, dict(meta, pipelines=meta["pipelines"]))
    if contour is None:
        contour = grid
    cx, cy = sorted({k[0] for k in contour}), sorted({k[1] for k in contour})
    z = [[contour.get((a, b), {}).get("theory", math.nan) for a in cx] for b in cy]

    w = {"one": 3.3, "two": 6.9}[args.width]
    h = w * (0.5 if args.width == "two" else 0.95)
    if args.width == "two":
        fig, panes = plt.subplots(1, 2, figsize=(w, h), sharey=True, squeeze=False)
        panes = panes[0]
    else:
        fig, panes = plt.subplots(2, 1, figsize=(w, h), sharex=True, squeeze=False)
        panes = panes[:, 0]
    mesh = None
    for ax, which, title in zip(panes, ("sim", "theory"), ("simulation", "theory")):
        data = [[grid.get((a, b), {}).get(which, math.nan) for a in xs] for b in ys]
        mesh = ax.pcolormesh(ex, ey, data, cmap="RdBu_r", norm=norm, shading="flat")
        for (a, b), c in grid.items():
            v = c[which]
            if not math.isfinite(v):
                continue
            bold = which == "sim" and sig.get((a, b))
            ax.text(a, b, percent(v, ".1f"), ha="center", va="center", fontsize=5.2,
                    fontweight="bold" if bold else "normal",
                    color="white" if abs(v) > 0.6 * vmax else "black")
            if bold:
                i, j = xs.index(a), ys.index(b)
                ax.add_patch(Rectangle((ex[i], ey[j]), ex[i + 1] - ex[i], ey[j + 1] - ey[j],
                                       fill=False, edgecolor="black", linewidth=0.9))
        if len(cx) > 1 and len(cy) > 1 and any(math.isfinite(v) for row in z for v in row):
            try:
                ax.contour(cx, cy, z, levels=[0], colors="black", linewidths=0.9,
                           linestyles="--")
            except ValueError:
                pass  # no zero crossing
        if xlog:
            ax.set_xscale("log")
        if ylog:
            ax.set_yscale("log")
        ax.set_xlim(ex[0], ex[-1])
        ax.set_ylim(ey[0], ey[-1])
        ax.set_xticks(xs)
        ax.set_xticklabels([kdrun_number(v) for v in xs])
        ax.set_yticks(ys)
        ax.set_yticklabels([kdrun_number(v) for v in ys])
        ax.minorticks_off()
        ax.set_title(title, pad=2)
        ax.set_xlabel(AXIS_WORDS.get(x, x))
    panes[0].set_ylabel(AXIS_WORDS.get(y, y))
    if args.width == "one":
        panes[1].set_ylabel(AXIS_WORDS.get(y, y))
        panes[0].set_xlabel("")
    fig.subplots_adjust(bottom=0.2 if args.width == "two" else 0.16, top=0.92, left=0.1,
                        right=0.86 if args.width == "two" else 0.8, wspace=0.08, hspace=0.25)
    from matplotlib.ticker import FuncFormatter
    extend = {(False, False): "neither", (True, False): "min", (False, True): "max",
              (True, True): "both"}[(low > vmax, high > vmax)]
    bar = fig.colorbar(mesh, cax=fig.add_axes([0.88 if args.width == "two" else 0.83,
                                               0.2, 0.015, 0.72]), extend=extend)
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: percent(v, "g")))
    bar.set_label(r"$R_{\rm w2s}/R_{\rm strong} - 1$ (%)")
    handles = [Line2D([], [], color="black", linestyle="--", linewidth=0.9,
                      label=r"theory: $R_{\rm w2s} = R_{\rm strong}$")]
    if sig:
        handles.append(Rectangle((0, 0), 1, 1, fill=False, edgecolor="black", linewidth=0.9,
                                 label="paired 95 % CI excludes 0"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
               bbox_to_anchor=(0.45, 0.0))
    name = os.path.basename(stem) + ".heatmap"
    title = "kdbench: weak-to-strong against ground-truth labels, w2s / strong - 1"
    written = save(fig, out_dir, name, args.formats, meta, title)
    plt.close(fig)
    n = {r["n"] for r in rows if r["pipeline"] == "strong"}
    at_n = f" at $n = {kdrun_number(n.pop())}$" if len(n) == 1 and "n" not in (x, y) else ""
    text = (r"Weak-to-strong training against ground-truth labels: the student's excess risk "
            r"$R_{\rm w2s}/R_{\rm strong} - 1$ (in \%)" + at_n + f" over the weak teacher's "
            f"${AXIS_MATH.get(x, x)}$ and ${AXIS_MATH.get(y, y)}$, simulation ({meta['trials']} "
            "trials) beside theory; blue: weak-to-strong is better. Dashed: the theory's zero "
            "contour.")
    if sig:
        text += r" Outlined, in bold: the paired 95\,\% confidence interval of $R_{\rm w2s} - R_{\rm strong}$ excludes 0."
    path = os.path.join(out_dir, f"{name}.caption.tex")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"% {provenance(meta, os.path.basename(stem))}\n"
                f"% command: {meta.get('command', '')}\n"
                f"% figure: {name}.pdf by scripts/plot_run.py"
                f"{'; significance from ' + sig_source if sig_source else ''}\n"
                f"\\caption{{{text}}}\n")
    return written + [path]


def kdrun_number(v):
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def percent(v, fmt):
    """100 v with its sign, "0" for what rounds to zero."""
    text = format(100 * v, fmt)
    return text.lstrip("-") if float(text) == 0 else ("+" + text if v > 0 else text)
