"""How the report prints an analysis: measure names, the ratio or percent scale, number formats,
method labels. Shared by the figures (:mod:`livemeta.reports.plots`) and the report's tables, and
free of matplotlib, so that a report that redraws no figure never loads it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: below this many studies a funnel plot and Egger's test are not informative
EGGER_MIN_K = 10
ROW_IN = 0.24  # height of a one-line row of a figure, inches
#: beyond this many studies a study-level figure (forest plot, traffic light) would be tens of inches
#: tall: the rows go to a CSV file beside the figures instead, and the funnel plot shows every study
FIGURE_MAX_ROWS = 250

MEASURE_NAMES = {
    "HR": ("Hazard ratio", "HR"),
    "OR": ("Odds ratio", "OR"),
    "RR": ("Risk ratio", "RR"),
    "proportion": ("Proportion", "Proportion, %"),
}
_CLASS_WORDS = {"tki": "TKI", "io": "IO", "pd1": "PD-1", "pdl1": "PD-L1", "vegf": "VEGF", "ctla4": "CTLA-4"}
_CONTROL_WORDS = {
    "investigator_choice": "investigator's choice",
    "placebo_docetaxel": "placebo + docetaxel",
    "physician_choice": "physician's choice",
    "soc": "standard of care",
}


def _pretty(value: Any, words: Mapping[str, str] | None = None) -> str:
    """'multitarget_tki' -> 'multitarget TKI'; None/NaN -> ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    from ..words import CLASS_NAMES

    s = str(value)
    if words and s in words:
        return words[s]
    if s in CLASS_NAMES:  # a treatment class ('none' is the PD-(L)1 drug alone)
        return CLASS_NAMES[s]
    return " ".join(_CLASS_WORDS.get(w.lower(), w) for w in s.replace("_", " ").split())


def _finite(*xs) -> bool:
    return all(x is not None and isinstance(x, (int, float, np.floating)) and math.isfinite(x) for x in xs)


def _fmt_p(p: float) -> str:
    if not _finite(p):
        return "p = n/a"
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


def _fmt_tau2(t: float) -> str:
    if not _finite(t):
        return "n/a"
    if t == 0:
        return "0"
    if t < 0.0001:
        return "< 0.0001"
    return f"{t:.4f}"


def _fmt_ratio(x: float) -> str:
    if not _finite(x):
        return "—"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def method_label(method: str, test: str = "z") -> str:
    """'fixed effect' or 'random effects (REML, HKSJ)'."""
    if method == "FE":
        return "fixed effect"
    if method == "GLMM":
        return "random effects (binomial-normal GLMM, ML)"
    return f"random effects ({method}{', HKSJ' if test == 'knha' else ''})"


@dataclass(frozen=True)
class _Scale:
    """How an analysis is displayed: natural scale, axis, favours labels."""

    measure: str
    name: str
    short: str
    log: bool
    percent: bool
    left_label: str | None
    right_label: str | None

    def back(self, y):
        y = np.asarray(y, dtype=float)
        if self.percent:
            return 100.0 / (1.0 + np.exp(-y))
        return np.exp(y)

    def fmt(self, x: float) -> str:
        return (f"{x:.1f}" if _finite(x) else "—") if self.percent else _fmt_ratio(x)

    def ci_text(self, est, lo, hi) -> str:
        return f"{self.fmt(est)} [{self.fmt(lo)}, {self.fmt(hi)}]"


def display_scale(spec) -> _Scale:
    """The display of an analysis: ratio on a log axis (with favours labels), or percent."""
    measure = spec.measure
    name, short = MEASURE_NAMES.get(measure, (measure, measure))
    if measure == "proportion":
        return _Scale(measure, name, short, False, True, None, None)
    view = (getattr(spec, "view", "") or "").lower()
    harm = measure == "RR" or "_ae" in view or "adverse" in view
    if harm:  # risk of an adverse event: higher = more AEs with rechallenge
        return _Scale(measure, name, short, True, False, "more AEs with control", "more AEs with rechallenge")
    if measure == "OR":  # odds of response: higher favours rechallenge
        return _Scale(measure, name, short, True, False, "favours control", "favours rechallenge")
    return _Scale(measure, name, short, True, False, "favours rechallenge", "favours control")


def z_sides(measure: str, view: str = "") -> tuple[str, str]:
    """What a z (of a log ratio) below 0 and above 0 favours: ('favours rechallenge', 'favours
    control') for a hazard ratio, the other way for the odds of response, fewer / more adverse events
    with rechallenge for a risk ratio."""
    from types import SimpleNamespace

    sc = display_scale(SimpleNamespace(measure=measure, view=view))
    if sc.left_label is None:  # a proportion: no comparator
        return "lower than the null", "higher than the null"
    return sc.left_label, sc.right_label


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _is_true(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "yes", "1", "verified")
    try:
        return bool(v)
    except (TypeError, ValueError):
        return False


def exact_interval(row: Mapping, level: float) -> tuple[float, float, float]:
    """A single-arm study's proportion (percent) with its exact Clopper-Pearson interval: what the
    study shows, without the 1/2 the logit model adds to a zero cell (0 of 23: 0% (0-14.8%))."""
    from ..pooling.effects import proportion_ci_exact

    x, n = float(row["xi"]), float(row["ni"])
    lo, hi = proportion_ci_exact([x], [n], level)
    return 100 * x / n, 100 * float(lo[0]), 100 * float(hi[0])
