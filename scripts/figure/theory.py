"""The dense theory: a theory-only run of the run's scenario (made with the kdbench
binary, or one made before) from which the theory lines are drawn."""
import math
import os
import re
import subprocess

import kdrun
from kdrun import RunError

from figure import number_text, warn
from figure.series import INTEGER_AXES, LINEAR_AXES, PEAK_OF


def default_kdbench():
    if os.environ.get("KDBENCH"):
        return os.environ["KDBENCH"]
    here = os.path.dirname(os.path.abspath(__file__))  # scripts/figure/
    return os.path.join(os.path.dirname(os.path.dirname(here)), "build", "kdbench")


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
