"""The look of a run's figure: each pipeline's colour, marker and words, the axes'
and the risks' words, matplotlib's settings and the figure's size."""
import math
import sys

from kdrun import RunError

from figure import number_text

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
RISK_WORDS = {"excess": r"excess risk $\mathbb{E}\|\hat\beta-\beta^*\|_\Sigma^2$",
              "test": r"test risk $\mathbb{E}\|\hat\beta-\beta^*\|_\Sigma^2+\sigma^2$"}
RISK_TEXT = {"excess": r"Excess risk $\mathbb{E}\|\hat\beta-\beta^*\|_\Sigma^2$",
             "test": r"Test risk $\mathbb{E}\|\hat\beta-\beta^*\|_\Sigma^2+\sigma^2$"}
WIDTHS = {"one": 3.3, "two": 6.9}


def label_of(key):
    name = key[0]
    words = WORDS.get(name, name)
    extra = ", ".join(f"{c} {v if isinstance(v, str) else number_text(v)}" for c, v in key[1:])
    return f"{words} ({extra})" if extra else words


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
