"""The figures of a kdbench run (scripts/plot_run.py draws them): the run as series
(series), the dense theory (theory), the look (style), the panels (draw) and the
files (output). Here: what they all use, the warning line and a number's text."""
import math
import sys


def warn(text):
    print(f"plot_run.py: warning: {text}", file=sys.stderr)


def finite(v):
    return v is not None and math.isfinite(v)


def number_text(v):
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
