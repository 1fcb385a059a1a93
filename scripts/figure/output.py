"""What a figure writes: the figure in each format with the run's provenance in its
metadata, and its LaTeX caption."""
import os

from kdrun import RunError

from figure.style import AXIS_MATH, AXIS_WORDS, RISK_TEXT

FORMATS = ("pdf", "svg", "png")


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
