#!/usr/bin/env python3
"""Risk against the samples seen, one curve per order, for runs of the curriculum pipeline.

    scripts/plot_curriculum.py [--table TABLE.md] OUT.png RUN.csv [RUN.csv ...]

Each run (a kdbench CSV with the curriculum pipeline's rows: columns t and order) is a
panel titled by its file name: the Monte Carlo mean at each checkpoint with its 95 %
interval as points, the exact recursion (the theory column) as a line. OUT's extension
picks the format (.png, .pdf). --table also writes a Markdown table: for each run and
order, the risk halfway through the budget and at its end, simulation beside theory.
Needs matplotlib (/usr/bin/python3 on Debian).
"""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {'curriculum': 'tab:blue', 'anti': 'tab:red', 'random': 'tab:grey'}


def fail(message):
    """Bad input: one line naming the culprit, exit status 2."""
    print(f'plot_curriculum: {message}', file=sys.stderr)
    sys.exit(2)


def number(text):
    return float(text) if text not in ('', None) else math.nan


def curves(path):
    """{order: [(t, mean, low, high, theory)]} of the run's curriculum rows, by t."""
    out = {}
    if not os.path.isfile(path):
        fail(f'{path}: no such run')
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            if row.get('pipeline') != 'curriculum':
                continue
            if 't' not in row or 'order' not in row:
                fail(f'{path} has no t and order columns')
            out.setdefault(row['order'], []).append(
                (number(row['t']), number(row['sim_mean']), number(row['sim_ci_low']),
                 number(row['sim_ci_high']), number(row['theory'])))
    if not out:
        fail(f'{path} has no rows of the curriculum pipeline')
    return {k: sorted(v) for k, v in out.items()}


def cell(p):
    """'sim +- half-width' of a row (t, mean, low, high, theory)."""
    return f'{p[1]:.4g} ± {(p[3] - p[2]) / 2:.2g}' if not math.isnan(p[2]) else f'{p[1]:.4g}'


def table(path, runs):
    lines = ['| run | order | t | simulation | theory | t | simulation | theory |',
             '|---|---|---:|---:|---:|---:|---:|---:|']
    for run in runs:
        name = os.path.splitext(os.path.basename(run))[0]
        for order, pts in curves(run).items():
            last = pts[-1]
            mid = min(pts, key=lambda p: abs(p[0] - last[0] / 2))
            lines.append(f'| {name} | {order} | {mid[0]:.0f} | {cell(mid)} | {mid[4]:.4g} | '
                         f'{last[0]:.0f} | {cell(last)} | {last[4]:.4g} |')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def main(argv):
    args = argv[1:]
    table_out = None
    if args[:1] == ['--table']:
        if len(args) < 2:
            fail('--table needs a file')
        table_out, args = args[1], args[2:]
    if len(args) < 2:
        fail('usage: ' + __doc__.strip().splitlines()[2].strip())
    out, runs = args[0], args[1:]
    if table_out:
        table(table_out, runs)
    cols = min(len(runs), 3)
    rows = (len(runs) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False)
    for ax, path in zip(axes.flat, runs):
        for order, pts in curves(path).items():
            t = [p[0] for p in pts]
            mean = [p[1] for p in pts]
            err = [[p[1] - p[2] for p in pts], [p[3] - p[1] for p in pts]]
            colour = COLOURS.get(order, None)
            ax.plot(t, [p[4] for p in pts], '-', color=colour, lw=1.4, label=f'{order} (theory)')
            ax.errorbar(t, mean, yerr=err, fmt='o', ms=3.5, color=colour, capsize=2,
                        label=f'{order} (simulation, 95 % CI)')
        ax.set_yscale('log')
        ax.set_xlabel('samples seen t')
        ax.set_ylabel('excess risk')
        ax.set_title(os.path.splitext(os.path.basename(path))[0], fontsize=10)
        ax.grid(True, which='both', alpha=0.3)
    for ax in list(axes.flat)[len(runs):]:
        ax.axis('off')
    seen = {}  # every order of every panel, once
    for ax in axes.flat:
        for h, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, h)
    labels = sorted(seen, key=lambda x: (list(COLOURS).index(x.split()[0])
                                         if x.split()[0] in COLOURS else 9, x))
    handles = [seen[x] for x in labels]
    fig.legend(handles, labels, loc='lower center', ncol=min(len(labels), 6), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(out, dpi=130)


if __name__ == '__main__':
    main(sys.argv)
