"""Warnings, not refusals: hazard ratios whose printed numbers cannot all be right.

A hazard ratio's variance implies at least ``4 / vi`` events (1:1 allocation; any other needs
more): more than the patients randomised is impossible. A CI also implies a P value, which the
printed P must match up to rounding. Either says that a number is misprinted or that the CI's level
is not the printed one (Lung-MAP S1800A: "95% CI 0.51-0.92" with one-sided P = .05 fits an 80%
interval). The study file may still be right to store what was printed (with a ``dispute`` and
``ci_level_alternative``): validation warns, the analyses that pool the value flag it beside every
estimate (:mod:`livemeta.analysis.caveats`). The rules are
:func:`livemeta.pooling.plausibility.hr_findings`, shared with the analyses.
"""

from __future__ import annotations

import math

import pandas as pd

from ..errors import Problem
from .frames import Batch


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _n(row, arms: pd.DataFrame) -> float | None:
    """The patients of the comparison: the outcome's n per arm, else its arms' n randomised, else
    the trial's (the view's ``n_randomised``, queries/views/analysis_rct_hr.sql)."""
    e, c = _num(row.get("experimental_n")), _num(row.get("control_n"))
    if e is not None and c is not None:
        return e + c
    key = arms.set_index(["_study", "arm_id"])["n_randomised"]
    ea = _num(key.get((row["_study"], row.get("experimental_arm_id"))))
    ca = _num(key.get((row["_study"], row.get("control_arm_id"))))
    if ea is not None and ca is not None:
        return ea + ca
    return _num(row.get("_trial_randomised_n"))


def plausibility_warnings(batch: Batch) -> list[Problem]:
    """A warning per implausible hazard ratio of the batch, at its printed CI level (and what the
    alternative level, when the file gives one, makes of it)."""
    from ..pooling.plausibility import hr_findings

    o = batch.frames["outcomes"]
    if o.empty:
        return []
    arms = batch.frames["arms"]
    out = []
    for row in o[o["measure"] == "HR"].to_dict("records"):
        hr, lo, hi = _num(row.get("estimate")), _num(row.get("ci_low")), _num(row.get("ci_high"))
        level, alt = _num(row.get("ci_level")), _num(row.get("ci_level_alternative"))
        p, sided = _num(row.get("p_value")), row.get("p_sided") if isinstance(row.get("p_sided"), str) else None
        derivation = "ci" if lo is not None and hi is not None else "p_value"
        n = _n(row, arms)
        found = hr_findings(hr=hr, ci_low=lo, ci_high=hi, level=level / 100 if level else None, p_value=p,
                            p_sided=sided, n=n, derivation=derivation)
        if not found:
            continue
        reason = "; ".join(text for _, text in found)
        if derivation == "ci" and alt is not None:
            other = hr_findings(hr=hr, ci_low=lo, ci_high=hi, level=alt / 100, p_value=p, p_sided=sided, n=n)
            reason += (f" (read at its alternative level {alt:g}%, the interval is plausible)" if not other else
                       f" (and at its alternative level {alt:g}%: {'; '.join(t for _, t in other)})")
        study = batch.studies[int(row["_study"])]
        problem = study.problem(str(row["_path"]), f"implausible hazard ratio: {reason}")
        out.append(problem)
    return out
