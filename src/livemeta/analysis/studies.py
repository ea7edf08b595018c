"""Each pooled study as every output shows it: its effect, interval, weight and participants, defined
once, from the rows that were pooled.

The forest plot, the cumulative table's first step, the study table of a very large analysis, the
data package (``analysis_rows.csv``) and ``livemeta pool --json`` read :func:`study_table`; none of
them recomputes a study's interval beside it.

A study's interval is the one printed when that printed interval is what was pooled: a hazard ratio
whose variance comes from its CI (derivation ``ci``) read at the analysis's own level. Otherwise it
is the interval the pooled variance implies at the analysis's level, ``yi ± z·√vi`` on the display
scale, and:

* ``interval = "derived"`` for a hazard ratio whose variance was derived (from a P value, events,
  O − E and V, a log-rank χ², or a CI read at another level than the analysis's), with ``printed``
  saying what the study printed and ``derived_from`` how the variance was obtained;
* ``interval = "exact"`` for a single-arm proportion: what the study shows, x / n with its exact
  (Clopper-Pearson) interval, without the 1/2 the logit model adds to a zero cell;
* ``interval = "computed"`` for an odds ratio or risk ratio (the interval of the effect size
  computed from the counts pooled, ``derivation = "counts"``) and for rows with nothing printed (an
  analysis of arrays, ``derivation = "yi/vi"``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..pooling import back_transform
from ..pooling._dist import z_crit
from ..pooling.effects import proportion_ci_exact

#: the columns of :func:`study_table`, in order
COLUMNS = ["trial_id", "label", "yi", "vi", "weight", "estimate", "ci_low", "ci_high", "interval", "derivation",
           "derived_from", "printed", "participants"]

#: how a hazard ratio's variance was obtained, in words (queries/views/analysis_rct_hr.sql)
DERIVATION_WORDS = {
    "ci": "the printed CI",
    "ci_level": "the printed CI read at {level:g}%",
    "p_value": "the printed P ({p}) and HR",
    "oe_v": "O − E and its variance V",
    "logrank_chisq": "the log-rank χ² and the HR",
    "p_events": "the printed P ({p}) and the number of events",
    "logrank_events": "the log-rank χ² and the number of events",
}


def _num(v) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def level_read(row, spec) -> float | None:
    """The level (percent) at which an HR row's CI was read by this analysis: its alternative level
    when the analysis reads disputed CIs at it, else the printed one."""
    read = _num(row.get("ci_level"))
    if getattr(spec, "ci_level", "printed") == "alternative" and _num(row.get("ci_level_alternative")) is not None:
        read = _num(row.get("ci_level_alternative"))
    return read


def _p_text(row) -> str:
    p = _num(row.get("p_value"))
    if p is None:
        return "P"
    sided = {"one": "one-sided ", "two": "two-sided "}.get(row.get("p_sided"), "")
    return f"{sided}P = {p:g}"


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def printed_text(row) -> str | None:
    """What the study printed, as a note: 'HR 0.69 (95% CI 0.51–0.92)'; None without an estimate."""
    est, lo, hi, lvl = (_num(row.get(k)) for k in ("estimate", "ci_low", "ci_high", "ci_level"))
    if est is None:
        return None
    if lo is None or hi is None:
        return f"HR {_fmt(est)}" + (f", {_p_text(row)}" if _num(row.get("p_value")) is not None else "")
    return f"HR {_fmt(est)} ({lvl:g}% CI {_fmt(lo)}–{_fmt(hi)})"


def _printed_is_pooled(row, spec) -> bool:
    """Whether the study's printed HR and CI are exactly what was pooled: read at the analysis's own
    level, ``yi = ln(estimate)`` and ``vi`` the variance of that CI (to 1e-9)."""
    from ..pooling.effects import log_hr_from_ci

    est, lo, hi, yi, vi = (_num(row.get(k)) for k in ("estimate", "ci_low", "ci_high", "yi", "vi"))
    read = level_read(row, spec)
    if None in (est, lo, hi, yi, vi, read) or est <= 0 or lo <= 0 or hi <= lo or abs(read - 100 * spec.level) > 1e-9:
        return False
    ci = log_hr_from_ci(est, lo, hi, level=spec.level)
    return abs(math.log(est) - yi) <= 1e-12 and abs(float(ci.vi[0]) - vi) <= 1e-9 * vi


def _hr_interval(row, spec) -> tuple[str, str, str | None]:
    """(interval, derivation, derived_from) of one hazard-ratio row: 'printed' when the printed CI is
    what was pooled; 'derived' when the row's variance came from elsewhere (its ``derivation``, or a
    CI read at another level); 'computed' for a row with nothing printed (arrays: yi and vi only)."""
    derivation = row.get("derivation")
    derivation = str(derivation) if isinstance(derivation, str) and derivation else None
    if derivation in (None, "ci") and _printed_is_pooled(row, spec):
        return "printed", "ci", None
    if derivation is None and _num(row.get("estimate")) is None:
        return "computed", "yi/vi", None
    read = level_read(row, spec)
    if derivation in (None, "ci") and read is not None and abs(read - 100 * spec.level) > 1e-9:
        return "derived", "ci", DERIVATION_WORDS["ci_level"].format(level=read)
    if derivation in (None, "ci"):
        return "derived", derivation or "yi/vi", "the variance pooled (not that of the printed CI)"
    return "derived", derivation, DERIVATION_WORDS.get(derivation, derivation).format(p=_p_text(row), level=read or 0)


def participants(studies: pd.DataFrame) -> pd.Series:
    """The patients each pooled row compares: both arms' n (n1i + n2i) for 2x2 counts, ni for a
    proportion, the view's ``participants`` for hazard ratios (NaN: not known)."""
    if {"n1i", "n2i"} <= set(studies.columns):
        return studies["n1i"].astype(float) + studies["n2i"].astype(float)
    if "ni" in studies.columns:
        return studies["ni"].astype(float)
    if "participants" in studies.columns:
        return pd.to_numeric(studies["participants"], errors="coerce").astype(float)
    return pd.Series(np.nan, index=studies.index)


def participants_total(result) -> tuple[int, list[str]]:
    """(participants known, the names of the trials whose number is unknown) of an analysis: what
    the summary of findings prints as 'Participants (studies)' and ``pool --json`` as
    ``participants``."""
    st = result.studies
    n = participants(st)
    names = st["trial"] if "trial" in st.columns else st["trial_id"]
    return int(n.sum(skipna=True)), list(dict.fromkeys(str(t) for t in names[n.isna().to_numpy()]))


def study_table(result) -> pd.DataFrame:
    """One row per pooled row of ``result`` (an :class:`~livemeta.analysis.run.AnalysisResult`), in
    the order pooled: the columns of :data:`COLUMNS` (``estimate``, ``ci_low``, ``ci_high`` on the
    display scale: a ratio, or a proportion in 0..1; ``weight`` in percent)."""
    spec, st = result.spec, result.studies
    if st.empty:
        return pd.DataFrame(columns=COLUMNS)
    yi, vi = st["yi"].to_numpy(float), st["vi"].to_numpy(float)
    z = z_crit(spec.level)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(vi)
    est, lo, hi = (np.asarray(back_transform(a, scale=spec.scale), float) for a in (yi, yi - z * se, yi + z * se))
    out = pd.DataFrame({
        "trial_id": st["trial_id"].to_numpy(), "label": st["label"].to_numpy() if "label" in st else st["trial_id"].to_numpy(),
        "yi": yi, "vi": vi, "weight": st["weight"].to_numpy(float) if "weight" in st else np.nan,
        "estimate": est, "ci_low": lo, "ci_high": hi})
    kinds, derivations, froms, printed = [], [], [], []
    for i, row in enumerate(st.assign(yi=yi, vi=vi).to_dict("records")):
        if spec.measure == "proportion" and _num(row.get("xi")) is not None and (_num(row.get("ni")) or 0) > 0:
            # what the study shows: x / n with its exact (Clopper-Pearson) interval, without the 1/2
            # the logit model adds to a zero cell (0 of 23: 0% (0-14.8%))
            x, n = float(row["xi"]), float(row["ni"])
            lo_, hi_ = proportion_ci_exact([x], [n], spec.level)
            out.loc[i, ["estimate", "ci_low", "ci_high"]] = [x / n, float(lo_[0]), float(hi_[0])]
            kinds.append("exact")
            derivations.append("counts")
            froms.append(None)
            printed.append(None)
            continue
        if spec.measure != "HR":
            kinds.append("computed")
            derivations.append("counts" if {"ai", "xi"} & set(row) else "yi/vi")
            froms.append(None)
            printed.append(None)
            continue
        kind, derivation, words = _hr_interval(row, spec)
        kinds.append(kind)
        derivations.append(derivation)
        froms.append(words)
        if kind == "printed":  # the printed interval is what was pooled: shown as printed
            out.loc[i, ["estimate", "ci_low", "ci_high"]] = [float(row["estimate"]), float(row["ci_low"]),
                                                              float(row["ci_high"])]
            printed.append(None)
        else:
            printed.append(printed_text(row))
    out["interval"], out["derivation"], out["derived_from"], out["printed"] = kinds, derivations, froms, printed
    out["participants"] = participants(st).to_numpy(float)
    return out[COLUMNS]


def derived_note(row) -> str:
    """The note of a study whose interval is derived: 'Lung-MAP S1800A: interval from the variance of
    the printed P (one-sided P = 0.05) and HR; printed HR 0.69 (95% CI 0.51–0.92)'."""
    text = f"{row['label']}: interval from the variance of {row['derived_from']}"
    if row.get("printed"):
        text += f"; printed {row['printed']}"
    return text


__all__ = ["COLUMNS", "DERIVATION_WORDS", "derived_note", "level_read", "participants", "participants_total",
           "printed_text", "study_table"]
