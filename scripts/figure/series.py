"""A run's rows as the figure's series: by panel and series, in the run's order; the
axes' kinds; the parameters every row shares; the noise that makes the test risk."""
import re

import kdrun
from kdrun import RunError

from figure import number_text

INTEGER_AXES = ("n", "p", "m", "k")
LINEAR_AXES = ("real_fraction",)  # a fraction in [0, 1]: a linear x axis
# What the peak of an axis is: the swept value equal to this column's.
PEAK_OF = {"n": "p", "p": "n", "k": "m", "m": "k"}


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
