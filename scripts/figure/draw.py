"""One panel of the figure: its y range, its peaks, the theory lines, the simulation's
markers and CIs, the medians at the peak, its scales; and the fits over their window."""
import math

from figure import finite
from figure.series import LINEAR_AXES, PEAK_OF


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
