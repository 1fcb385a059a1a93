#!/usr/bin/python3
"""Read a kdbench run: its rows, per-trial risks, metadata and fits.

    import kdrun
    run = kdrun.load("results/fig1b/sweep-n")     # the stem or any of its files
    run.rows, run.risks, run.fits, run.w2s, run.meta

With pandas (Debian's python3-pandas, which scripts/setup.sh installs) `rows`,
`risks`, `fits` and `w2s` are DataFrames; without it, lists of dicts. `meta` and
`fit` (NAME.fit.json whole, or None) are dicts. The functions below it use the
standard library only: `read_meta`, `read_rows` (NAME.csv, every column, old runs
and new columns alike), `read_risks` (NAME.jsonl's per-trial risks, from --raw),
`read_fit`, and `points` / `series_key` / `axis_value`, which group rows into grid
points and series the way the plotting scripts do. The columns and keys are those
of docs/run-format.md. Bad input raises RunError, whose text is one line naming the
file (and line).
"""
import csv
import json
import math
import os

# Suffixes of a run's files: RUN may be given as any of them (the stem is the rest).
RUN_SUFFIXES = (".meta.json", ".fit.json", ".jsonl", ".csv", ".md", ".tex", ".caption.tex",
                ".heatmap.png", ".heatmap.pdf", ".heatmap.svg", ".png", ".pdf", ".svg")
# The columns every run has (docs/run-format.md), in order; later columns (a newer
# kdbench's) are read too, numbers where their cells are numbers.
BASE_COLUMNS = ("pipeline", "n", "p", "m", "k", "ridge", "alpha", "signal_exp", "sigma",
                "trials", "sim_mean", "sim_se", "sim_ci_low", "sim_ci_high", "sim_median",
                "theory", "ratio", "fallbacks", "theory_kind", "flag")
INTEGER_COLUMNS = ("n", "p", "m", "k", "trials", "fallbacks")
NUMBER_COLUMNS = ("n", "p", "m", "k", "ridge", "alpha", "signal_exp", "sigma", "trials",
                  "sim_mean", "sim_se", "sim_ci_low", "sim_ci_high", "sim_median",
                  "theory", "ratio", "fallbacks")
TEXT_COLUMNS = ("pipeline", "theory_kind", "flag")
# Columns that tell apart several rows of one pipeline at one grid point (a pipeline
# with generations, schedules, checkpoints or orders): each value is its own series.
SERIES_COLUMNS = ("schedule", "order", "generation", "t")
SIM_COLUMNS = ("sim_mean", "sim_ci_low", "sim_ci_high", "sim_median")


class RunError(Exception):
    """Bad input; its text is the one line to print."""


def stem(run):
    """The run's stem from its stem or any of its files."""
    for suffix in RUN_SUFFIXES:
        if run.endswith(suffix):
            run = run[: -len(suffix)]
            break
    if not run or run.endswith("/"):
        raise RunError(f"run '{run}': no name")
    return run


def _json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise RunError(f"{path}: cannot open: {e.strerror}")
    except ValueError as e:
        raise RunError(f"{path}: not valid JSON ({e})")


def _backend_names(meta):
    """The distinct names of the backends that computed a run's points, earliest first:
    those a resume kept (`resumed_from`), those of merged shards (and what each of them
    resumed), then the backend of the process that wrote the metadata."""
    names = []

    def listed(x):
        return x if isinstance(x, list) else []

    def shards(merged_shards):
        for s in listed(merged_shards):
            if isinstance(s, dict):
                earlier(s.get("resumed_from"))
                add(s.get("backend"))

    def earlier(entries):
        for e in listed(entries):
            if isinstance(e, dict):
                add(e["backend"].get("name") if isinstance(e.get("backend"), dict) else None)
                shards(e.get("shards"))

    def add(name):
        if isinstance(name, str) and name and name not in names:
            names.append(name)

    earlier(meta.get("resumed_from"))
    merged = meta.get("merged")
    shards(merged.get("shards") if isinstance(merged, dict) else None)
    add(meta["backend"]["name"])
    return names


def read_meta(path):
    """NAME.meta.json as a dict, with the keys a reader needs checked, and `axes` (as
    columns; `axis_flags` as kdbench's flags), `pipelines`, `backend_name`,
    `theory_only` made plain."""
    meta = _json(path)

    def get(obj, key, kind, where=""):
        if not isinstance(obj, dict) or key not in obj:
            raise RunError(f'{path}: key "{where}{key}" is missing')
        if not isinstance(obj[key], kind) or isinstance(obj[key], bool) and kind is not bool:
            raise RunError(f'{path}: key "{where}{key}" has the wrong type')
        return obj[key]

    flags = get(meta, "axes", list)
    if (not 1 <= len(flags) <= 2 or any(not isinstance(a, str) or not a for a in flags)
            or len(set(flags)) < len(flags)):
        raise RunError(f'{path}: key "axes": {flags} is not one or two distinct names')
    # an axis is named as its flag (real-fraction) and its column (real_fraction)
    meta["axis_flags"] = flags
    axes = meta["axes"] = [a.replace("-", "_") for a in flags]
    pipelines = get(meta, "pipelines", list)
    if (not pipelines or any(not isinstance(p, str) or not p for p in pipelines)
            or len(set(pipelines)) < len(pipelines)):
        raise RunError(f'{path}: key "pipelines": {pipelines} is not a list of distinct names')
    for key, kind in (("scenario_hash", str), ("seed", int), ("trials", int)):
        get(meta, key, kind)
    get(get(meta, "backend", dict), "name", str, "backend.")
    get(get(meta, "kdbench", dict), "version", str, "kdbench.")
    get(get(meta, "kdbench", dict), "git_commit", str, "kdbench.")
    meta["backend_name"] = ", ".join(_backend_names(meta))
    meta["theory_only"] = meta["trials"] == 0
    return meta


def _cell(text, column, where):
    if text == "":
        return None
    if column in TEXT_COLUMNS:
        return text
    try:
        value = float(text)  # accepts inf, -inf, nan
    except ValueError:
        if column in NUMBER_COLUMNS:
            raise RunError(f"{where}: column {column}: '{text}' is not a number")
        return text  # a newer kdbench's text column
    if column in INTEGER_COLUMNS and not (math.isfinite(value) and value == int(value)):
        raise RunError(f"{where}: column {column}: '{text}' is not an integer")
    return value


def read_rows(path, pipelines=None, warn=None):
    """The rows of NAME.csv as dicts (column: number, text or None for an empty cell),
    in file order; with `pipelines`, each row must be of one of them. A torn last line
    (no newline) is dropped, with `warn(text)` told."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except OSError as e:
        raise RunError(f"{path}: cannot open: {e.strerror}")
    lines = text.split("\n")
    if lines[-1] != "" and warn:  # the writer ends every line: a last one without is torn
        warn(f"{path}:{len(lines)}: torn last line skipped")
    lines = lines[:-1]
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise RunError(f"{path}: empty (no header)")
    missing = [c for c in BASE_COLUMNS if c not in header]
    if missing:
        raise RunError(f"{path}:1: column {missing[0]} is missing from the header")
    rows = []
    for line_number, cells in enumerate(reader, start=2):
        where = f"{path}:{line_number}"
        if len(cells) != len(header):
            raise RunError(f"{where}: {len(cells)} cells, the header has {len(header)}")
        row = {c: _cell(t, c, where) for c, t in zip(header, cells)}
        if row["pipeline"] is None or pipelines is not None and row["pipeline"] not in pipelines:
            raise RunError(f"{where}: column pipeline: '{row['pipeline'] or ''}' is not a pipeline")
        if row["trials"]:  # a theory-only row (trials 0) has no simulation
            for column in SIM_COLUMNS:
                if row[column] is None:
                    raise RunError(f"{where}: column {column} is empty")
        rows.append(row)
    if not rows:
        raise RunError(f"{path}: no rows (an empty run)")
    return rows


def read_risks(path):
    """The per-trial risks of NAME.jsonl (rows stored with --raw) as dicts
    {point, pipeline, n, p, m, k, ridge, alpha, sigma, <series columns>, trial, risk}; [] when it has none. Of two rows
    of one point, pipeline and series, the later line wins (docs/run-format.md)."""
    latest = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line_number, line in enumerate(f, start=1):
                if not line.endswith("\n"):
                    break  # torn last line
                try:
                    o = json.loads(line)
                except ValueError:
                    raise RunError(f"{path}:{line_number}: not a JSON object")
                if "risks" not in o:
                    continue
                key = (o.get("point"), o.get("pipeline")) + tuple(o.get(c) for c in SERIES_COLUMNS)
                latest[key] = o
    except OSError as e:
        raise RunError(f"{path}: cannot open: {e.strerror}")
    out = []
    for o in sorted(latest.values(), key=lambda o: o.get("point", 0)):
        base = {"point": o.get("point"), "pipeline": o.get("pipeline")}
        base.update({c: o.get(c) for c in ("n", "p", "m", "k", "ridge", "alpha", "sigma")})
        base.update({c: o[c] for c in SERIES_COLUMNS if o.get(c) is not None})
        for trial, risk in enumerate(o["risks"]):
            out.append(dict(base, trial=trial, risk=risk))
    return out


def read_fit(path):
    """NAME.fit.json as a dict, or None when there is none."""
    if not os.path.exists(path):
        return None
    fit = _json(path)
    if not isinstance(fit, dict) or not isinstance(fit.get("fits", []), list):
        raise RunError(f'{path}: key "fits" is not a list')
    return fit


def series_key(row):
    """(pipeline, (column, value) ...): the series a row belongs to."""
    return (row["pipeline"],) + tuple((c, row[c]) for c in SERIES_COLUMNS if row.get(c) is not None)


def points(rows, pipelines):
    """The rows grouped into grid points: the writer puts a point's rows together, in
    pipeline order (a pipeline's several rows one after the other), so a point ends
    where the pipeline order goes back or a series repeats."""
    out, last, seen = [], None, set()
    for row in rows:
        order, key = pipelines.index(row["pipeline"]), series_key(row)
        if last is None or order < last or key in seen:
            out.append([])
            seen = set()
        out[-1].append(row)
        seen.add(key)
        last = order
    return out


def axis_value(point, axis):
    """A point's value of a swept axis, the first of its rows' that has it; for m and
    k first those that fill the m column, the weak model's (a mask's k is its own
    size), as kdbench report does."""
    rows = list(point)
    if axis in ("m", "k"):
        rows.sort(key=lambda r: r.get("m") is None)  # stable: m-filling rows first
    for row in rows:
        if row.get(axis) is not None:
            return row[axis]
    return None


def fit_rows(fit):
    """One dict per fit of NAME.fit.json: pipeline, group, points, the simulated and
    theory exponents with their CIs, the continuum exponent."""
    out = []
    for f in (fit or {}).get("fits", []):
        sim, th, ci = f.get("sim_fit") or {}, f.get("theory_fit") or {}, f.get("ci") or {}
        out.append({"pipeline": f.get("pipeline"), "group": f.get("group"),
                    "points": f.get("points"), "exponent": sim.get("exponent"),
                    "ci_low": ci.get("low", sim.get("ci_low")),
                    "ci_high": ci.get("high", sim.get("ci_high")), "ci_kind": ci.get("kind"),
                    "prefactor": sim.get("prefactor"), "r2": sim.get("r2"),
                    "theory_exponent": th.get("exponent"),
                    "continuum_exponent": (f.get("continuum") or {}).get("exponent")})
    return out


class Run:
    """A run, loaded: `rows`, `risks`, `fits`, `w2s` (DataFrames with pandas, else
    lists of dicts), `meta` and `fit` (dicts; fit None without NAME.fit.json)."""

    def __init__(self, run, frames=None):
        self.stem = stem(run)
        self.meta = read_meta(self.stem + ".meta.json")
        rows = read_rows(self.stem + ".csv", self.meta["pipelines"])
        jsonl = self.stem + ".jsonl"
        risks = read_risks(jsonl) if os.path.exists(jsonl) else []
        self.fit = read_fit(self.stem + ".fit.json")
        fits, w2s = fit_rows(self.fit), list((self.fit or {}).get("w2s", []))
        pd = _pandas() if frames is None or frames else None
        if frames and pd is None:
            raise RunError("pandas is not installed (Debian's python3-pandas)")
        if pd is not None:
            rows, risks, fits, w2s = (pd.DataFrame(x) for x in (rows, risks, fits, w2s))
        self.rows, self.risks, self.fits, self.w2s = rows, risks, fits, w2s


def _pandas():
    try:
        import pandas
    except ImportError:
        return None
    return pandas


def load(run, frames=None):
    """The run (its stem or any of its files) as a Run; frames: True requires pandas,
    False gives lists of dicts, None (default) DataFrames where pandas is installed."""
    return Run(run, frames)
