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
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kdrun  # noqa: E402  (beside this script)
from kdrun import RunError  # noqa: E402
from figure import number_text, warn  # noqa: E402  (scripts/figure/: the figure's parts)
from figure.draw import draw_fits, draw_panel, peak_lines, y_range  # noqa: E402
from figure.output import FORMATS, caption, provenance, save  # noqa: E402
from figure.series import PEAK_OF, collect, fixed_params, noise_of, scenario_value  # noqa: E402
from figure.series import series_order  # noqa: E402
from figure.style import AXIS_MATH, AXIS_WORDS, RISK_TEXT, RISK_WORDS, WIDTHS  # noqa: E402
from figure.style import label_of, layout, setup_matplotlib, styles  # noqa: E402
from figure.theory import default_kdbench, dense_rows, theory_run  # noqa: E402


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
