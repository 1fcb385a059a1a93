#!/usr/bin/python3
"""Draw a kdbench run as a paper's figure: risk against the first swept axis.

    scripts/plot_run.py RUN [--out DIR] [--formats pdf,svg,png] [--width one|two]
                        [--risk excess|test] [--theory RUN | --no-dense]
                        [--kdbench PATH] [--points N] [--no-fit] [--no-title]

RUN is the run's stem (results/fig1/sweep-n) or any of its files (read through
scripts/kdrun.py). Writes NAME.pdf, NAME.svg, NAME.png and NAME.caption.tex (a LaTeX
\\caption, the run's provenance in % comments) into --out (default the run's folder);
for a two-axis run with strong and w2s rows also NAME.heatmap.* (w2s / strong - 1).

Theory is drawn as smooth lines from a theory-only run (kdbench --theory-only) that
the script makes itself with the kdbench binary (--kdbench, default $KDBENCH or the
repository's build/kdbench): --points values (default 400) along the swept axis,
densest through the interpolation peak; --theory RUN takes a theory-only run made
before, --no-dense draws the theory at the run's own points. Simulation is drawn as
markers with their 95 % CI; at the peak, where the mean is meaningless, a hollow
marker at the median (at the top edge, with its value, when it is off the scale) and
a dotted vertical line. The y range is set by the points away from the peak. With
NAME.fit.json (kdbench fit) and one axis, each fit is drawn over its window with its
exponent and CI in the legend, and the continuum's slope for reference. --width one
is a one-column figure (3.3 in), two (default) a two-column one (6.9 in). --risk test
draws the test risk (excess + sigma^2). Provenance (scenario hash, seed, commit,
backend, command) goes into each file's metadata and the caption file, not the title.
A pipeline without a style here is drawn in the next spare one under its own name.

Needs matplotlib: run it with Debian's /usr/bin/python3 (python3-matplotlib).
Bad input: one line on standard error, exit status 2.
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kdrun  # noqa: E402  (beside this script)
from kdrun import RunError  # noqa: E402

# A pipeline keeps its colour, marker and words from figure to figure; one without a
# style here takes the next spare one, in the run's order, and its own name.
STYLES = {"strong": ("#1f77b4", "o"), "optimal": ("#2ca02c", "s"), "mask": ("#9467bd", "D"),
          "w2s": ("#ff7f0e", "^"), "weak": ("#7f7f7f", "v")}
SPARE_STYLES = [("#d62728", "P"), ("#8c564b", "X"), ("#e377c2", "*"), ("#17becf", "h"),
                ("#bcbd22", "<"), ("#393b79", ">")]
WORDS = {"strong": "ground-truth labels", "optimal": "optimal surrogate",
         "mask": "optimal mask", "w2s": "weak-to-strong", "weak": "weak teacher"}
AXIS_WORDS = {"n": "sample size $n$", "p": "features $p$", "m": "teacher's sample size $m$",
              "k": "teacher's features $k$", "ridge": r"ridge $\lambda$",
              "alpha": r"spectral decay $\alpha$", "sigma": r"label noise $\sigma$",
              "real_fraction": "real fraction $f$"}
AXIS_MATH = {"n": "n", "p": "p", "m": "m", "k": "k", "ridge": r"\lambda", "alpha": r"\alpha",
             "sigma": r"\sigma", "real_fraction": "f"}
INTEGER_AXES = ("n", "p", "m", "k")
LINEAR_AXES = ("real_fraction",)  # a fraction in [0, 1]: a linear x axis
RISK_WORDS = {"excess": r"excess risk $\mathbb{E}\|\hat\beta-\beta^*\|_\Sigma^2$",
              "test": r"test risk $\mathbb{E}\|\hat\beta-\beta^*\|_\Sigma^2+\sigma^2$"}
RISK_TEXT = {"excess": r"Excess risk $\mathbb{E}\|\hat\beta-\beta^*\|_\Sigma^2$",
             "test": r"Test risk $\mathbb{E}\|\hat\beta-\beta^*\|_\Sigma^2+\sigma^2$"}
FORMATS = ("pdf", "svg", "png")
WIDTHS = {"one": 3.3, "two": 6.9}
# What the peak of an axis is: the swept value equal to this column's.
PEAK_OF = {"n": "p", "p": "n", "k": "m", "m": "k"}


def warn(text):
    print(f"plot_run.py: warning: {text}", file=sys.stderr)


def finite(v):
    return v is not None and math.isfinite(v)


def number_text(v):
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


# ---- the run as series -------------------------------------------------------------------


def label_of(key):
    name = key[0]
    words = WORDS.get(name, name)
    extra = ", ".join(f"{c} {v if isinstance(v, str) else number_text(v)}" for c, v in key[1:])
    return f"{words} ({extra})" if extra else words


def collect(rows, axes, pipelines):
    """{panel value (None: one panel): {series key: [(x, row)] sorted by x}}; of two
    rows of one series at the same axis values, the later wins."""
    latest = {}
    for point in kdrun.points(rows, pipelines):
        values = tuple(kdrun.axis_value(point, a) for a in axes)
        if values[0] is None:
            raise RunError(f"a point has no value of the swept axis {axes[0]}")
        for row in point:
            latest[(kdrun.series_key(row),) + values] = row
    panels = {}
    for (key, x, *rest), row in latest.items():
        panels.setdefault(rest[0] if rest else None, {}).setdefault(key, []).append((x, row))
    for series in panels.values():
        for pts in series.values():
            pts.sort(key=lambda p: p[0])
    return panels


def series_order(panels, pipelines):
    keys = {k for s in panels.values() for k in s}
    return sorted(keys, key=lambda k: (pipelines.index(k[0]), [str(v) for _, v in k[1:]]))


def styles(keys, pipelines):
    """{series key: (colour, marker, dashes)}: a pipeline's own style; its further
    series (generations, schedules) take spare ones."""
    out, spare, first = {}, 0, set()
    for key in keys:
        if key[0] in STYLES and key[0] not in first:
            out[key] = STYLES[key[0]]
        else:
            out[key] = SPARE_STYLES[spare % len(SPARE_STYLES)]
            spare += 1
        first.add(key[0])
    return out


def fixed_params(rows, axes, scenario_sigma):
    """The parameters the same in every row, as LaTeX math."""
    def single(column):
        values = {r[column] for r in rows if r.get(column) is not None}
        return values.pop() if len(values) == 1 and column not in axes else None
    parts = []
    for column, text in (("p", "p = {}"), ("m", "m = {}"), ("ridge", r"\lambda = {}")):
        v = single(column)
        if v is not None and not (column == "ridge" and v == 0):
            parts.append("$" + text.format(number_text(v)) + "$")
    alpha, b = single("alpha"), single("signal_exp")
    if alpha is not None:
        parts.append(rf"$\lambda_i = i^{{-{number_text(alpha)}}}$")
    if b is not None:
        parts.append(rf"$\lambda_i\beta_i^{{*2}} = i^{{-{number_text(b)}}}$")
    if "sigma" not in axes and scenario_sigma is not None:
        parts.append(rf"$\sigma = {number_text(scenario_sigma)}$")
    if single("ridge") == 0:
        parts.append("ridgeless")
    return ", ".join(parts)


def scenario_value(meta, key):
    """A number of the run's scenario text (the effective one, kdbench's own print)."""
    m = re.search(rf"^{re.escape(key)} = ([^\n,:]+)$", meta.get("scenario", ""), re.M)
    try:
        return float(m.group(1)) if m else None
    except ValueError:
        return None


def noise_of(meta, axes):
    """sigma^2 of a point (its ground-truth labels' noise), for the test risk."""
    sigma = scenario_value(meta, "sigma")
    if "sigma" in axes:
        i = axes.index("sigma")
        return lambda x, panel: (x if i == 0 else panel) ** 2
    if sigma is None:
        raise RunError("--risk test: the run's scenario has no single sigma")
    return lambda x, panel: sigma ** 2


# ---- the dense theory ------------------------------------------------------------------


def default_kdbench():
    if os.environ.get("KDBENCH"):
        return os.environ["KDBENCH"]
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build",
                        "kdbench")


def axis_grid(axis, values, count, peaks):
    """kdbench's text for about `count` values of `axis` from min to max (log-spaced
    when they span a decade), denser within a tenth of each peak."""
    lo, hi = min(values), max(values)
    if lo == hi:
        return number_text(lo)
    log = lo > 0 and hi / lo >= 10 and axis not in LINEAR_AXES
    if axis in INTEGER_AXES:
        lo, hi = int(lo), int(hi)
    items = [f"{number_text(lo)}:{number_text(hi)}:{'log' if log else 'lin'}{count}"]
    for peak in peaks:
        if lo < peak < hi:
            w = max(3, int(math.ceil(peak / 10)))
            a, b = max(lo, peak - w), min(hi, peak + w)
            span = int(b - a) + 1 if axis in INTEGER_AXES else 2 * w + 1
            items.append(f"{number_text(a)}:{number_text(b)}:lin{min(span, count)}")
    return ",".join(items)


def peaks_of(rows, axes):
    """The values of the swept axis where a ridgeless fit peaks: the other column's
    single values (n = p for an n axis)."""
    other = PEAK_OF.get(axes[0])
    return sorted({r[other] for r in rows if other and r.get(other) is not None})


def scenario_for_theory(meta):
    """The run's scenario text with its outputs and shard neutralised."""
    text = meta.get("scenario", "")
    text = re.sub(r"^(raw|fit|theory-only) = .*$", r"\1 = false", text, flags=re.M)
    return re.sub(r"^shard = .*$", "shard = off", text, flags=re.M)


def theory_run(meta, rows, axes, kdbench, grids, folder):
    """A theory-only run of the run's scenario on the given axis grids (kdbench text by
    axis) into folder; its rows, or None (with a warning) when it cannot be made."""
    ini, csv = os.path.join(folder, "scenario.ini"), os.path.join(folder, "theory.csv")
    with open(ini, "w", encoding="utf-8") as f:
        f.write(scenario_for_theory(meta))
    flags = {a.replace("-", "_"): a for a in meta["axis_flags"]}
    command = [kdbench, "--scenario", ini, "--sweep", ",".join(flags.get(a, a) for a in axes),
               "--pipelines", ",".join(meta["pipelines"]), "--theory-only", "--quiet",
               "--force", "--csv", csv]
    for axis, text in grids.items():
        command += [f"--{flags.get(axis, axis)}", text]
    if not os.access(kdbench, os.X_OK):
        warn(f"no kdbench at {kdbench} (--kdbench PATH): theory drawn at the run's points")
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        warn(f"the theory-only run failed ({e}): theory drawn at the run's points")
        return None
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or ["no message"]
        warn(f"the theory-only run failed ({reason[0]}): theory drawn at the run's points")
        return None
    return kdrun.read_rows(csv, meta["pipelines"])


def dense_rows(meta, rows, axes, args, folder):
    """The rows the theory lines are drawn from (see the module's text)."""
    if meta["theory_only"] or args.no_dense:
        return rows
    if args.theory:
        theory_meta = kdrun.read_meta(kdrun.stem(args.theory) + ".meta.json")
        if not theory_meta["theory_only"]:
            raise RunError(f"--theory {args.theory}: not a theory-only run (trials > 0)")
        return kdrun.read_rows(kdrun.stem(args.theory) + ".csv", meta["pipelines"])
    xs = [r[axes[0]] for r in rows if r.get(axes[0]) is not None]
    grids = {axes[0]: axis_grid(axes[0], xs, args.points, peaks_of(rows, axes))}
    if len(axes) == 2:
        grids[axes[1]] = ",".join(number_text(v) for v in
                                  sorted({r[axes[1]] for r in rows if r.get(axes[1]) is not None}))
    dense = theory_run(meta, rows, axes, args.kdbench, grids, folder)
    return dense if dense is not None else rows


# ---- drawing -------------------------------------------------------------------------


def y_range(panels, dense_panels, shift, theory_only, peaks):
    """(lo, hi) from the points away from the peaks: the simulation's CIs and the
    theory at the run's unflagged points; a theory-only run's theory but within a
    tenth of a peak. The theory runs off the scale into the peak."""
    values = []
    source = dense_panels if theory_only else panels
    for panel, series in source.items():
        for pts in series.values():
            for x, r in pts:
                if r["flag"] or any(abs(x - c) < c / 10 for c in peaks):
                    continue
                s = shift(x, panel)
                if finite(r["sim_mean"]):
                    values += [r["sim_ci_low"] + s if finite(r["sim_ci_low"]) else None,
                               r["sim_ci_high"] + s if finite(r["sim_ci_high"]) else None]
                if finite(r["theory"]):
                    values.append(r["theory"] + s)
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    lo, hi = min(values), max(values)
    return lo / 1.3, hi * 1.3


def peak_lines(series, dense_series, axis):
    """x values of a panel's peaks: runs of peak-flagged x (sim or theory) at most 1
    apart, each by its middle; and, where rows near it are flagged, the value of the
    column the swept axis peaks at (n = p) even when no row falls on it."""
    rows = [(x, r) for s in (series, dense_series) for pts in s.values() for x, r in pts]
    xs = sorted({x for x, r in rows if r["flag"] == "peak"})
    groups = []
    for x in xs:
        if groups and x - groups[-1][-1] <= 1:
            groups[-1].append(x)
        else:
            groups.append([x])
    out = [(g[0] + g[-1]) / 2 for g in groups]
    other = PEAK_OF.get(axis)
    near = {r[other] for _, r in rows if other and r["flag"] and r.get(other) is not None}
    if len(near) == 1 and not any(abs(near_x - x) <= 1 for near_x in near for x in out):
        out.append(near.pop())
    return sorted(out)


def draw_panel(ax, series, dense_series, keys, style, shift, panel, ylim, axis):
    import matplotlib.ticker as ticker
    clipped = []
    for key in keys:
        colour, marker = style[key]
        if key in dense_series:
            pts = dense_series[key]
            xs = [x for x, _ in pts]
            # NaN breaks the line: no theory across the peak, where it is infinite
            ys = [r["theory"] + shift(x, panel) if finite(r["theory"]) else math.nan
                  for x, r in pts]
            ax.plot(xs, ys, "-", color=colour, linewidth=1.1, zorder=2)
        if key not in series:
            continue
        pts = [(x, r) for x, r in series[key] if r["trials"]]
        sim = [(x, r) for x, r in pts if r["flag"] != "peak"]
        if sim:
            means = [r["sim_mean"] + shift(x, panel) for x, r in sim]
            low = [max(r["sim_ci_low"] + shift(x, panel), ylim[0] if ylim else 0)
                   if finite(r["sim_ci_low"]) else m for (x, r), m in zip(sim, means)]
            high = [r["sim_ci_high"] + shift(x, panel) if finite(r["sim_ci_high"]) else m
                    for (x, r), m in zip(sim, means)]
            ax.errorbar([x for x, _ in sim], means,
                        yerr=[[m - lo for m, lo in zip(means, low)],
                              [hi - m for m, hi in zip(means, high)]],
                        fmt=marker, color=colour, markersize=3.2, capsize=1.5, elinewidth=0.8,
                        markeredgewidth=0.6, linestyle="none", zorder=3)
        for x, r in pts:
            if r["flag"] != "peak":
                continue
            y = r["sim_median"] + shift(x, panel)
            if ylim and y > ylim[1]:  # off the scale: at the top edge, with its value
                clipped.append((x, y, colour, marker))
            else:
                ax.plot([x], [y], marker, color=colour, markerfacecolor="none", markersize=5,
                        markeredgewidth=0.8, zorder=3)
    labels = {}  # one marker and label per value: at the peak pipelines often share it
    for x, y, colour, marker in clipped:
        labels.setdefault((x, f"{y:.3g}"), []).append(colour)
    for i, ((x, text), colours) in enumerate(sorted(labels.items())):
        colour = colours[0] if len(set(colours)) == 1 else "0.2"
        ax.plot([x], [ylim[1]], "^", color=colour, markerfacecolor="none", markersize=5,
                markeredgewidth=0.8, clip_on=False, zorder=4)
        ax.annotate(f"median {text}", xy=(x, ylim[1]), xytext=(4, -4 - 7 * i),
                    textcoords="offset points", fontsize=5.5, ha="left", va="top", color=colour)
    for x in peak_lines(series, dense_series, axis):
        ax.axvline(x, color="0.35", linestyle=":", linewidth=0.9, zorder=1)
    all_x = [x for s in (series, dense_series) for pts in s.values() for x, _ in pts]
    if axis in LINEAR_AXES:
        pass
    elif all_x and min(all_x) > 0 and max(all_x) / min(all_x) >= 10:
        ax.set_xscale("log")
        if max(all_x) / min(all_x) < 10 ** 3.5:  # 20, 50, 100, ...: values, not powers
            ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    elif all_x and min(all_x) <= 0 < max(all_x):
        ax.set_xscale("symlog", linthresh=min(x for x in all_x if x > 0))
    ax.set_yscale("log")
    if ylim:
        ax.set_ylim(*ylim)
    decades = math.log10(ylim[1] / ylim[0]) if ylim else 3
    subs = (1.0, 2.0, 5.0) if decades < 2.5 else (1.0,)
    ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.grid(True, which="major", alpha=0.25, linewidth=0.5)


def draw_fits(ax, fit, style, keys, shift, symbol):
    """Each fit of NAME.fit.json over its window, and the continuum's slope; the
    legend's handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    handles, window, lows, slope = [], None, [], None
    for f in fit.get("fits", []):
        key = next((k for k in keys if k[0] == f.get("pipeline") and len(k) == 1), None)
        sim = f.get("sim_fit") or {}
        xs, floor = f.get("x") or [], f.get("floor") or []
        if key is None or f.get("group") or not xs or not finite(sim.get("exponent")):
            continue
        colour = style[key][0]
        lo, hi = min(xs), max(xs)
        dense = [lo * (hi / lo) ** (i / 60) for i in range(61)]
        logs = [math.log(x) for x in xs]

        def floor_at(x):  # piecewise linear in log x between the fit's points
            lx = math.log(x)
            for i in range(1, len(xs)):
                if lx <= logs[i] or i == len(xs) - 1:
                    t = (lx - logs[i - 1]) / (logs[i] - logs[i - 1]) if logs[i] != logs[i - 1] else 0
                    return (floor[i - 1] or 0) * (1 - t) + (floor[i] or 0) * t
            return floor[0] or 0 if floor else 0
        ys = [floor_at(x) + sim["prefactor"] * x ** -sim["exponent"] + shift(x, None)
              for x in dense]
        ax.plot(dense, ys, "--", color=colour, linewidth=0.9, zorder=4, dashes=(3, 1.5))
        ci = f.get("ci") or {}
        low, high = ci.get("low", sim.get("ci_low")), ci.get("high", sim.get("ci_high"))
        what = (rf"$\propto {symbol}^{{-{sim['exponent']:.3f}}}$"
                + (f", CI [{low:.3f}, {high:.3f}]" if finite(low) else ""))
        handles.append(Line2D([], [], color=colour, linestyle="--", dashes=(3, 1.5),
                              linewidth=0.9, label=f"fit {what}"))
        window = (lo, hi)
        lows.append(ys[-1])
        slope = slope or (f.get("continuum") or {}).get("exponent")
    if window:
        ax.axvspan(*window, color="0.5", alpha=0.08, linewidth=0, zorder=0)
        handles.append(Patch(color="0.5", alpha=0.15, label="fit window"))
    if window and finite(slope) and slope > 0:
        lo, hi = window
        end = 0.5 * min(lows)  # below the fits' right end, rising to the left beside them
        ax.plot([lo, hi], [end * (hi / lo) ** slope, end], "-.", color="0.2", linewidth=0.8,
                zorder=4)
        bottom, top = ax.get_ylim()
        ax.set_ylim(min(bottom, end / 1.2), top)  # the reference whole on the scale
        handles.append(Line2D([], [], color="0.2", linestyle="-.", linewidth=0.8,
                              label=rf"slope $-{slope:g}$ (continuum)"))
    return handles


def provenance(meta, name):
    return (f"kdbench run {name}: scenario {meta['scenario_hash']}, seed {meta['seed']}, "
            f"{meta['trials']} trials, backend {meta['backend_name']}, kdbench "
            f"{meta['kdbench']['version']} (commit {meta['kdbench']['git_commit']})")


def save(fig, out_dir, name, formats, meta, title):
    """The figure in each format, the provenance in each file's metadata; the same
    run gives the same bytes (no dates, fixed SVG ids)."""
    import matplotlib
    matplotlib.rcParams["svg.hashsalt"] = meta["scenario_hash"]
    where = provenance(meta, name) + f"; command: {meta.get('command', '')}"
    written = []
    for fmt in formats:
        path = os.path.join(out_dir, f"{name}.{fmt}")
        metadata = {"pdf": {"Title": title, "Author": "kdbench", "Subject": where,
                            "Keywords": f"kdbench scenario {meta['scenario_hash']}",
                            "Creator": "kdbench scripts/plot_run.py", "CreationDate": None},
                    "svg": {"Title": title, "Description": where, "Date": None,
                            "Creator": "kdbench scripts/plot_run.py"},
                    "png": {"Title": title, "Description": where,
                            "Software": "kdbench scripts/plot_run.py"}}[fmt]
        try:
            fig.savefig(path, dpi=300 if fmt == "png" else 150, metadata=metadata)
        except OSError as e:
            raise RunError(f"{path}: cannot write: {e.strerror}")
        written.append(path)
    return written


def setup_matplotlib():
    import logging
    logging.getLogger("fontTools").setLevel(logging.ERROR)  # its notes on embedded fonts
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RunError(f"matplotlib is not installed for {sys.executable}: run this script "
                       "with /usr/bin/python3 (Debian's python3-matplotlib)")
    matplotlib.rcParams.update({"font.size": 7.5, "axes.labelsize": 7.5, "axes.titlesize": 7.5,
                                "xtick.labelsize": 6.5, "ytick.labelsize": 6.5,
                                "legend.fontsize": 6.5, "axes.linewidth": 0.6,
                                "xtick.major.width": 0.6, "ytick.major.width": 0.6,
                                "mathtext.fontset": "cm", "svg.fonttype": "path",
                                "pdf.fonttype": 42})
    return plt


def layout(count, width):
    ncols = min(count, 4 if width == "two" else 2)
    nrows = math.ceil(count / ncols)
    w = WIDTHS[width]
    panel_h = min(2.4, max(1.5, w / ncols * 0.78))
    return ncols, nrows, w, panel_h * nrows + 0.75


def caption(meta, rows, axes, args, has_peak, has_fit, fixed):
    x = axes[0]
    text = [f"{RISK_TEXT[args.risk]} against the {AXIS_WORDS.get(x, f'${x}$')}"
            + (f" ({fixed})" if fixed else "")]
    if len(axes) == 2:
        text[-1] += f", one panel per value of ${AXIS_MATH.get(axes[1], axes[1])}$"
    if meta["theory_only"]:
        text.append("theory (a deterministic equivalent, or the exact formula where one exists)")
    else:
        text.append("theory as lines (a deterministic equivalent, or the exact formula where "
                    f"one exists), simulation as markers: the mean over {meta['trials']} "
                    r"trials with its 95\,\% confidence interval")
    sentence = ": ".join(text[:1]) + ". " + text[1][0].upper() + text[1][1:] + "."
    if has_peak:
        sentence += (" The dotted line marks the interpolation peak, where the expected risk "
                     "is infinite; the hollow marker there is the median.")
    if has_fit:
        sentence += (" Dashed: the scaling-law fit over its window (shaded), with its "
                     r"exponent and 95\,\% confidence interval.")
    return sentence


def plot(stem, out_dir, args, plt):
    from matplotlib.lines import Line2D
    meta = kdrun.read_meta(stem + ".meta.json")
    pipelines, axes = meta["pipelines"], meta["axes"]
    rows = kdrun.read_rows(stem + ".csv", pipelines, warn)
    fit = None if args.no_fit or len(axes) != 1 else kdrun.read_fit(stem + ".fit.json")
    shift = (lambda x, panel: 0.0) if args.risk == "excess" else noise_of(meta, axes)
    with tempfile.TemporaryDirectory(prefix="plot_run.") as folder:
        dense = dense_rows(meta, rows, axes, args, folder)
    panels = collect(rows, axes, pipelines)
    dense_panels = collect(dense, axes, pipelines) if dense is not rows else panels
    keys = series_order(panels, pipelines)
    style = styles(keys, pipelines)
    peaks = sorted({x for key in panels for x in peak_lines(panels[key], dense_panels.get(key, {}),
                                                            axes[0])})
    ylim = y_range(panels, dense_panels, shift, meta["theory_only"], peaks)

    panel_keys = sorted(panels, key=lambda v: (v is None, v if v is not None else 0))
    ncols, nrows, w, h = layout(len(panel_keys), args.width)
    fig, grid = plt.subplots(nrows, ncols, figsize=(w, h), sharex=True, sharey=True,
                             squeeze=False)
    fit_handles = []
    for i, key in enumerate(panel_keys):
        ax = grid[i // ncols][i % ncols]
        draw_panel(ax, panels[key], dense_panels.get(key, {}), keys, style, shift, key, ylim,
                   axes[0])
        if fit and fit.get("x") == axes[0]:
            fit_handles = draw_fits(ax, fit, style, keys, shift, AXIS_MATH.get(axes[0], axes[0]))
        if key is not None:
            ax.set_title(f"${AXIS_MATH.get(axes[1], axes[1])} = {number_text(key)}$", pad=2)
        if i % ncols == 0:
            ax.set_ylabel(RISK_WORDS[args.risk])
        if i // ncols == nrows - 1 or i + ncols >= len(panel_keys):
            ax.set_xlabel(AXIS_WORDS.get(axes[0], axes[0]))
    for j in range(len(panel_keys), nrows * ncols):
        grid[j // ncols][j % ncols].set_visible(False)

    handles = [Line2D([], [], color=style[k][0], marker=style[k][1], markersize=3.5,
                      linewidth=1.1, label=label_of(k)) for k in keys]
    handles.append(Line2D([], [], color="0.3", linewidth=1.1, label="theory"))
    if not meta["theory_only"]:
        handles.append(Line2D([], [], color="0.3", marker="o", markersize=3.2, linestyle="none",
                              label="simulation ± 95 % CI"))
    has_peak = any(r["flag"] == "peak" for r in rows + dense)
    if has_peak:
        peak = PEAK_OF.get(axes[0])
        where = f" (${AXIS_MATH.get(axes[0], axes[0])} = {peak}$)" if peak else ""
        handles.append(Line2D([], [], color="0.35", linestyle=":", linewidth=0.9,
                              label=f"peak{where}"))
    handles += fit_handles
    legend_cols = min(len(handles), 4 if args.width == "two" else 2)
    fixed = fixed_params(rows, axes, scenario_value(meta, "sigma"))
    title = f"kdbench: {RISK_TEXT[args.risk]} against {AXIS_WORDS.get(axes[0], axes[0])}"
    legend_rows = math.ceil(len(handles) / legend_cols)
    bottom = (0.12 + (0.11 if args.width == "one" else 0.13) * legend_rows) / h
    top_pad = 0.16 if not args.no_title and fixed else 0.04
    one = args.width == "one"
    fig.legend(handles=handles, loc="lower center", ncol=legend_cols, frameon=False,
               bbox_to_anchor=(0.5, 0.0), handlelength=1.8 if one else 2.2,
               columnspacing=0.8 if one else 1.2, fontsize=5.5 if one else 6.5)
    if not args.no_title and fixed:
        fig.suptitle(fixed, fontsize=7, y=1 - 0.04 / h, va="top")
    fig.tight_layout(rect=(0, bottom, 1, 1 - top_pad / h), pad=0.3, w_pad=0.6, h_pad=0.6)
    name = os.path.basename(stem)
    written = save(fig, out_dir, name, args.formats, meta, title)
    plt.close(fig)

    path = os.path.join(out_dir, f"{name}.caption.tex")
    text = caption(meta, rows, axes, args, has_peak, bool(fit_handles), fixed)
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"% {provenance(meta, name)}\n% command: {meta.get('command', '')}\n"
                    f"% figure: {name}.pdf by scripts/plot_run.py\n\\caption{{{text}}}\n")
    except OSError as e:
        raise RunError(f"{path}: cannot write: {e.strerror}")
    written.append(path)
    if len(axes) == 2 and "strong" in pipelines and "w2s" in pipelines and not meta["theory_only"]:
        import plot_heatmap
        written += plot_heatmap.plot(stem, out_dir, meta, rows, args, plt, save, theory_run)
    return written


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        print(f"plot_run.py: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def main(argv):
    parser = OneLineParser(description=__doc__.split("\n\n")[0],
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog=__doc__.split("\n\n", 2)[2],
                           usage="%(prog)s RUN [options]")
    parser.add_argument("run", help="the run: its stem or any of its files")
    parser.add_argument("--out", help="folder for the figures (default: the run's)")
    parser.add_argument("--formats", default="pdf,svg,png", help="comma-separated: pdf, svg, png")
    parser.add_argument("--width", default="two", choices=sorted(WIDTHS),
                        help="one column (3.3 in) or two (6.9 in, default)")
    parser.add_argument("--risk", default="excess", choices=("excess", "test"),
                        help="excess risk (default) or test risk = excess + sigma^2")
    parser.add_argument("--theory", help="a theory-only run to draw the theory lines from")
    parser.add_argument("--no-dense", action="store_true",
                        help="theory at the run's own points (no theory-only run)")
    parser.add_argument("--kdbench", default=default_kdbench(),
                        help="the kdbench binary for the theory-only run")
    parser.add_argument("--points", type=int, default=400,
                        help="values of the swept axis in the theory-only run (default 400)")
    parser.add_argument("--no-fit", action="store_true", help="leave NAME.fit.json's fits out")
    parser.add_argument("--no-title", action="store_true", help="no title (the fixed parameters)")
    args = parser.parse_args(argv)
    try:
        args.formats = [f for f in args.formats.split(",") if f]
        if not args.formats or any(f not in FORMATS for f in args.formats):
            raise RunError(f"--formats {','.join(args.formats)}: not a list of {', '.join(FORMATS)}")
        if not 2 <= args.points <= 10000:
            raise RunError(f"--points {args.points}: not in 2..10000")
        stem = kdrun.stem(args.run)
        out_dir = args.out if args.out is not None else (os.path.dirname(stem) or ".")
        if not os.path.isdir(out_dir):
            raise RunError(f"--out {out_dir}: not a folder")
        plt = setup_matplotlib()
        for path in plot(stem, out_dir, args, plt):
            print(f"wrote {path}")
    except RunError as e:
        print(f"plot_run.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
