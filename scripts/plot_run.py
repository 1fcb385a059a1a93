#!/usr/bin/python3
"""Draw a kdbench run: excess risk against the first swept axis, log-log.

    scripts/plot_run.py RUN [--out DIR] [--formats png,pdf]

RUN is the run's stem (results/sweep-n) or any of its files. Reads NAME.csv and
NAME.meta.json (docs/run-format.md) and writes NAME.png and NAME.pdf (into --out,
default the run's folder). Theory is drawn as lines (broken where it is infinite, at
the interpolation peak), simulation as markers with 95 % CI bars, one colour per
pipeline; a peak row, whose mean is meaningless, is a hollow marker at its median.
With a second swept axis, one panel per value of it.

Needs matplotlib: run it with Debian's /usr/bin/python3 (python3-matplotlib).
Bad input: one line on standard error, exit status 2.
"""
import argparse
import csv
import json
import math
import os
import sys
import textwrap

# The run's pipelines, their names and order, are its meta.json's (the registry's,
# include/kdbench/pipeline_list.h). A pipeline keeps its colour and marker from figure
# to figure; one without a style here takes the next spare one, in the run's order.
STYLES = {"strong": ("#1f77b4", "o"), "optimal": ("#2ca02c", "s"), "mask": ("#9467bd", "D"),
          "w2s": ("#ff7f0e", "^"), "weak": ("#7f7f7f", "v")}
SPARE_STYLES = [("#d62728", "P"), ("#8c564b", "X"), ("#e377c2", "*"), ("#17becf", "h")]
RUN_SUFFIXES = (".meta.json", ".jsonl", ".csv", ".md", ".tex", ".png", ".pdf")
AXES = ("n", "p", "m", "k", "ridge", "alpha", "signal_exp", "sigma", "real_fraction")
LATER_COLUMNS = ("real_fraction",)  # appended after flag: numbers, absent from older runs
LINEAR_AXES = ("real_fraction",)  # a fraction in [0, 1]: a linear x axis
INTEGER_COLUMNS = ("n", "p", "m", "k", "trials", "fallbacks")
NUMBER_COLUMNS = ("n", "p", "m", "k", "ridge", "alpha", "signal_exp", "sigma", "trials",
                  "sim_mean", "sim_se", "sim_ci_low", "sim_ci_high", "sim_median",
                  "theory", "ratio", "fallbacks")
NEEDED_COLUMNS = ("pipeline",) + NUMBER_COLUMNS + ("flag",)
FORMATS = ("png", "pdf")


class RunError(Exception):
    """Bad input; its text is the one line printed."""


def run_stem(run):
    for suffix in RUN_SUFFIXES:
        if run.endswith(suffix):
            run = run[: -len(suffix)]
            break
    if not run or run.endswith("/"):
        raise RunError(f"run '{run}': no name")
    return run


def read_meta(path):
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except OSError as e:
        raise RunError(f"{path}: cannot open: {e.strerror}")
    except ValueError as e:
        raise RunError(f"{path}: not valid JSON ({e})")

    def get(obj, key, kind, where=""):
        if not isinstance(obj, dict) or key not in obj:
            raise RunError(f'{path}: key "{where}{key}" is missing')
        if not isinstance(obj[key], kind) or isinstance(obj[key], bool) and kind is not bool:
            raise RunError(f'{path}: key "{where}{key}" has the wrong type')
        return obj[key]

    axes = [a.replace("-", "_") if isinstance(a, str) else a for a in get(meta, "axes", list)]
    if not 1 <= len(axes) <= 2 or any(a not in AXES for a in axes) or len(set(axes)) < len(axes):
        raise RunError(f'{path}: key "axes": {axes} is not one or two of {", ".join(AXES)}')
    pipelines = get(meta, "pipelines", list)
    if (not pipelines or any(not isinstance(p, str) or not p for p in pipelines)
            or len(set(pipelines)) < len(pipelines)):
        raise RunError(f'{path}: key "pipelines": {pipelines} is not a list of distinct names')
    return {
        "axes": axes,
        "pipelines": pipelines,
        "scenario_hash": get(meta, "scenario_hash", str),
        "seed": get(meta, "seed", int),
        "trials": get(meta, "trials", int),
        "backend": get(get(meta, "backend", dict), "name", str, "backend."),
        "version": get(get(meta, "kdbench", dict), "version", str, "kdbench."),
        "commit": get(get(meta, "kdbench", dict), "git_commit", str, "kdbench."),
    }


def parse_number(text, column, where):
    if text == "":
        return None
    try:
        value = float(text)  # accepts inf, -inf, nan
    except ValueError:
        raise RunError(f"{where}: column {column}: '{text}' is not a number")
    if column in INTEGER_COLUMNS and not (math.isfinite(value) and value == int(value)):
        raise RunError(f"{where}: column {column}: '{text}' is not an integer")
    return value


def read_csv(path, pipelines):
    """The rows of NAME.csv as dicts, in file order, each of one of `pipelines`; a torn
    last line is dropped."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except OSError as e:
        raise RunError(f"{path}: cannot open: {e.strerror}")
    lines = text.split("\n")
    if lines[-1] != "":  # the writer ends every line: a last line without one is torn
        print(f"plot_run.py: warning: {path}:{len(lines)}: torn last line skipped",
              file=sys.stderr)
    lines = lines[:-1]
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise RunError(f"{path}: empty (no header)")
    missing = [c for c in NEEDED_COLUMNS if c not in header]
    if missing:
        raise RunError(f"{path}:1: column {missing[0]} is missing from the header")
    rows = []
    for line_number, cells in enumerate(reader, start=2):
        where = f"{path}:{line_number}"
        if len(cells) != len(header):
            raise RunError(f"{where}: {len(cells)} cells, the header has {len(header)}")
        row = dict(zip(header, cells))
        if row["pipeline"] not in pipelines:
            raise RunError(f"{where}: column pipeline: '{row['pipeline']}' is not a pipeline")
        for column in NUMBER_COLUMNS:
            row[column] = parse_number(row[column], column, where)
        for column in LATER_COLUMNS:
            row[column] = parse_number(row.get(column, ""), column, where)
        for column in ("sim_mean", "sim_ci_low", "sim_ci_high", "sim_median"):
            if row[column] is None:
                raise RunError(f"{where}: column {column} is empty")
        rows.append(row)
    if not rows:
        raise RunError(f"{path}: no rows (an empty run)")
    return rows


def group_points(rows, pipelines):
    """Grid points: the writer puts a point's rows together in pipeline order, so a
    point ends where the pipeline order does not increase."""
    points, last = [], None
    for row in rows:
        order = pipelines.index(row["pipeline"])
        if last is None or order <= last:
            points.append({})
        points[-1][row["pipeline"]] = row
        last = order
    return points


def axis_value(point, axis):
    """A point's value of a swept axis, the first of its rows' (in pipeline order) that
    has it; for m and k first those that fill the m column, the weak model's (a mask's
    k is its own size), as kdbench report does."""
    order = list(point)  # the point's pipelines, in the run's order
    if axis in ("m", "k"):
        order.sort(key=lambda name: point[name]["m"] is None)  # stable: m-filling first
    for name in order:
        if point[name][axis] is not None:
            return point[name][axis]
    return None


def collect(rows, axes, pipelines):
    """{panel value (None: one panel): {pipeline: [(x, row)] sorted by x}}; of two rows
    for the same pipeline and axis values, the later wins."""
    latest = {}
    for point in group_points(rows, pipelines):
        key_axes = tuple(axis_value(point, a) for a in axes)
        if key_axes[0] is None:
            raise RunError(f"a point has no value of the swept axis {axes[0]}")
        for name, row in point.items():
            latest[(name,) + key_axes] = row
    panels = {}
    for (name, x, *rest), row in latest.items():
        panel = rest[0] if rest else None
        panels.setdefault(panel, {}).setdefault(name, []).append((x, row))
    for series in panels.values():
        for points in series.values():
            points.sort(key=lambda p: p[0])
    return panels


def fixed_text(rows, axes):
    """The parameters that are the same in every row that has them."""
    parts = []
    for column in ("n", "p", "m", "k", "ridge", "alpha", "signal_exp", "sigma"):
        values = {r[column] for r in rows if r[column] is not None}
        if column not in axes and len(values) == 1:
            value = values.pop()
            parts.append(f"{column} = {value:g}")
    return ", ".join(parts)


def finite(v):
    return v is not None and math.isfinite(v)


def styles(pipelines):
    """{pipeline: (colour, marker)}."""
    spare = [p for p in pipelines if p not in STYLES]
    out = {p: STYLES[p] for p in pipelines if p in STYLES}
    out.update((p, SPARE_STYLES[i % len(SPARE_STYLES)]) for i, p in enumerate(spare))
    return out


def draw_panel(ax, series, xlabel, pipelines, style):
    for name in pipelines:
        if name not in series:
            continue
        points, (colour, marker) = series[name], style[name]
        xs = [x for x, _ in points]
        # NaN breaks the line: no theory segment across the peak, where it is infinite
        theory = [r["theory"] if finite(r["theory"]) else math.nan for _, r in points]
        ax.plot(xs, theory, "-", color=colour, linewidth=1.4, zorder=2)
        sim = [(x, r) for x, r in points if r["flag"] != "peak"]
        if sim:
            means = [r["sim_mean"] for _, r in sim]
            below = [r["sim_mean"] - r["sim_ci_low"] for _, r in sim]
            above = [r["sim_ci_high"] - r["sim_mean"] for _, r in sim]
            ax.errorbar([x for x, _ in sim], means, yerr=[below, above], fmt=marker,
                        color=colour, markersize=4.5, capsize=2, elinewidth=1, zorder=3)
        peak = [(x, r) for x, r in points if r["flag"] == "peak"]
        if peak:
            ax.plot([x for x, _ in peak], [r["sim_median"] for _, r in peak], marker,
                    color=colour, markerfacecolor="none", markersize=7, zorder=3)
    ax.set_xscale("linear" if xlabel in LINEAR_AXES else "log")
    if xlabel not in LINEAR_AXES and any(x <= 0 for s in series.values() for x, _ in s):
        smallest = min((x for s in series.values() for x, _ in s if x > 0), default=1)
        ax.set_xscale("symlog", linthresh=smallest)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.grid(True, which="major", alpha=0.3)


def plot(stem, out_dir, formats):
    meta = read_meta(stem + ".meta.json")
    pipelines = meta["pipelines"]
    rows = read_csv(stem + ".csv", pipelines)
    axes = meta["axes"]
    panels = collect(rows, axes, pipelines)
    style = styles(pipelines)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
    except ImportError:
        raise RunError(f"matplotlib is not installed for {sys.executable}: run this script "
                       "with /usr/bin/python3 (Debian's python3-matplotlib)")

    keys = sorted(panels, key=lambda v: (v is None, v if v is not None else 0))
    ncols = min(4, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(max(6.4, 4.2 * ncols + 1.2), 3.6 * nrows + 1.4),
                             sharex=True, sharey=True, squeeze=False)
    for i, key in enumerate(keys):
        ax = grid[i // ncols][i % ncols]
        draw_panel(ax, panels[key], axes[0], pipelines, style)
        if key is not None:
            ax.set_title(f"{axes[1]} = {key:g}", fontsize=10)
        if i % ncols == 0:
            ax.set_ylabel("excess risk")
    for j in range(len(keys), nrows * ncols):
        grid[j // ncols][j % ncols].set_visible(False)

    present = [p for p in pipelines if any(p in s for s in panels.values())]
    handles = [Line2D([], [], color=style[p][0], marker=style[p][1], label=p) for p in present]
    handles += [Line2D([], [], color="0.3", label="theory"),
                Line2D([], [], color="0.3", marker="o", linestyle="none",
                       label="simulation, mean ± 95 % CI")]
    if any(r["flag"] == "peak" for r in rows):
        handles.append(Line2D([], [], color="0.3", marker="o", markerfacecolor="none",
                              linestyle="none", label="peak: median (mean meaningless)"))
    grid[0][-1].legend(handles=handles, fontsize=8, loc="best")

    name = os.path.basename(stem)
    title = [f"kdbench run {name}: scenario {meta['scenario_hash']}, seed {meta['seed']}, "
             f"{meta['trials']} trials",
             f"backend {meta['backend']}, kdbench {meta['version']} ({meta['commit']})",
             fixed_text(rows, axes)]
    width = fig.get_figwidth() * 14  # characters of a 9-point title per line
    fig.suptitle("\n".join(textwrap.fill(t, width=int(width)) for t in title if t), fontsize=9)
    fig.tight_layout()
    written = []
    for fmt in formats:
        path = os.path.join(out_dir, f"{name}.{fmt}")
        # no creation date in the PDF: the same run gives the same file
        metadata = {"CreationDate": None} if fmt == "pdf" else None
        try:
            fig.savefig(path, dpi=150, metadata=metadata)
        except OSError as e:
            raise RunError(f"{path}: cannot write: {e.strerror}")
        written.append(path)
    plt.close(fig)
    return written


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        print(f"plot_run.py: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def main(argv):
    parser = OneLineParser(description=__doc__.split("\n\n")[0],
                           usage="%(prog)s RUN [--out DIR] [--formats png,pdf]")
    parser.add_argument("run", help="the run: its stem or any of its files")
    parser.add_argument("--out", help="folder for the figures (default: the run's)")
    parser.add_argument("--formats", default="png,pdf", help="comma-separated: png, pdf")
    args = parser.parse_args(argv)
    try:
        formats = [f for f in args.formats.split(",") if f]
        if not formats or any(f not in FORMATS for f in formats):
            raise RunError(f"--formats {args.formats}: not a list of {', '.join(FORMATS)}")
        stem = run_stem(args.run)
        out_dir = args.out if args.out is not None else (os.path.dirname(stem) or ".")
        if not os.path.isdir(out_dir):
            raise RunError(f"--out {out_dir}: not a folder")
        for path in plot(stem, out_dir, formats):
            print(f"wrote {path}")
    except RunError as e:
        print(f"plot_run.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
