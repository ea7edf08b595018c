"""Sequential monitoring (trial sequential analysis) of an analysis (``livemeta monitor``, the report).

Each look is a first-publication date of the analysis's trials as the study files record it (in the
bundled project a calendar year, so trials first published in the same year form one look): the
cumulative meta-analysis of every trial published by then, its accrued information and the
Lan-DeMets boundaries at the cumulative information fraction (``livemeta.pooling.sequential``).

One model: with a heterogeneity adjustment (D², I², a fixed value) the cumulative estimate and z come
from the random-effects model the adjustment assumes (DerSimonian-Laird unless the settings name
another estimator), without one from the fixed-effect model (Wetterslev et al. 2009; TSA manual,
Thorlund et al. 2011), whatever model the analysis itself pools with.

The target effect is a setting of the project (``monitoring: target:`` of the analysis in the
analyses file, with its ``justification``); ``livemeta monitor --target-hr`` overrides it and says
so. Every result is also computed at the limit of the pooled estimate's CI on the target's side
(Wetterslev, Jakobsen & Gluud 2017): a target the evidence itself supports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import LivemetaError
from ..pooling._dist import norm_isf
from ..pooling.sequential import Monitoring, monitor

if TYPE_CHECKING:  # annotations only: run.py computes a result's monitoring with this module
    from .run import AnalysisResult

#: the defaults of ``livemeta monitor`` and of the report's monitoring section (the analyses file's
#: ``monitoring:`` block may set each of them per analysis)
DEFAULTS = dict(alpha=0.05, power=0.8, sided=2, heterogeneity="D2", estimator="DL", information="inverse_variance",
                type_of_design="asOF", futility="none", overrun="alpha_preserving")

#: how each over-run rule reads in the output and the report
OVERRUN_LABELS = {
    "alpha_preserving": "alpha-preserving (the first such look is the final analysis: it spends what is left of "
                        "alpha, with the correlations of the information actually accrued, and no later look is "
                        "tested; Jennison & Turnbull 2000, sec. 7.2.2)",
    "final_boundary": "final boundary reused (every such look uses the boundary planned at the required "
                      "information, the TSA software's convention; it spends more than alpha once there are "
                      "such looks)",
}

ESTIMATOR_NAMES = {"FE": "fixed-effect (inverse variance)", "DL": "DerSimonian-Laird random-effects",
                   "REML": "REML random-effects", "ML": "ML random-effects", "PM": "Paule-Mandel random-effects",
                   "EB": "empirical Bayes random-effects", "SJ": "Sidik-Jonkman random-effects",
                   "HE": "Hedges random-effects", "HS": "Hunter-Schmidt random-effects"}


@dataclass(frozen=True)
class MonitoringSettings:
    """What a monitoring run assumes (all shown with its result).

    ``target`` is on the ratio scale (e.g. HR 0.80). ``justification`` is the analyses file's reason
    for it; ``target_source`` says where the target came from (``"analyses file"``, or
    ``"command line"`` for an override, with the project's own target in ``project_target``).
    """

    target: float
    alpha: float = 0.05
    power: float = 0.8
    sided: int = 2
    heterogeneity: str | float = "D2"
    estimator: str = "DL"
    information: str = "inverse_variance"
    type_of_design: str = "asOF"
    futility: str = "none"
    overrun: str = "alpha_preserving"
    justification: str | None = None
    target_source: str = "analyses file"
    project_target: float | None = None

    def target_text(self, measure: str) -> str:
        """The target as printed with every result: value, where it comes from, its justification."""
        text = f"target {measure} {self.target:.2f}"
        if self.target_source == "command line":
            was = (f"the analyses file's {measure} {self.project_target:.2f}" if self.project_target is not None
                   else "no target in the analyses file")
            return f"{text} (a command-line override of {was}; its justification does not apply)"
        if self.justification:
            return f"{text} (set in the analyses file: {self.justification.strip()})"
        return f"{text} (set in the analyses file, which gives no justification for it)"


def settings_for(spec, **given) -> MonitoringSettings:
    """The monitoring settings of ``spec``: its analyses-file ``monitoring:`` block over
    :data:`DEFAULTS`, then what is ``given`` (None: not given). A ``target`` given overrides the
    analyses file's and is marked as a command-line override."""
    block = dict(spec.monitoring or {})
    target = given.pop("target", None)
    known = {f.name for f in fields(MonitoringSettings)}
    values = {**DEFAULTS, **{k: v for k, v in block.items() if k in known}}
    values.update({k: v for k, v in given.items() if v is not None})
    if target is not None:
        values.update(target=target, target_source="command line", justification=None,
                      project_target=block.get("target"))
    elif "target" not in block:
        raise LivemetaError(f"analysis {spec.id} has no monitoring target in the analyses file",
                            hint="set monitoring: {target: ..., justification: ...} for it in the analyses file, "
                                 "or give one for this run with --target-hr")
    return MonitoringSettings(**values)


@dataclass(frozen=True)
class MonitoringRun:
    """The monitoring of one analysis: at the target (``main``) and at the limit of the pooled
    estimate's CI on the target's side (``at_ci_limit``; None with the reason in ``ci_limit_note``).

    ``ci_limit`` (log scale) is that limit of the ``ci_level`` CI of the monitoring model's pooled
    estimate at the latest look. ``notes`` are lines printed beside every monitoring result (how
    the looks are formed; flags on the inputs it uses).
    """

    settings: MonitoringSettings
    main: Monitoring
    ci_level: float
    ci_limit: float | None
    at_ci_limit: Monitoring | None
    ci_limit_note: str | None = None
    notes: tuple[str, ...] = ()


def _run(studies: pd.DataFrame, looks, settings: MonitoringSettings, target_log: float, events, spec_id: str,
         characteristics: bool = False):
    try:
        return monitor(studies["yi"].to_numpy(float), studies["vi"].to_numpy(float), looks,
                       target=target_log, alpha=settings.alpha, power=settings.power, sided=settings.sided,
                       heterogeneity=settings.heterogeneity, estimator=settings.estimator,
                       information=settings.information, events=events, type_of_design=settings.type_of_design,
                       futility=settings.futility, overrun=settings.overrun, characteristics=characteristics)
    except ValueError as exc:
        raise LivemetaError(f"analysis {spec_id}: {exc}") from None


def monitor_result(result: AnalysisResult, settings: MonitoringSettings, *,
                   characteristics: bool = False) -> MonitoringRun:
    """Trial sequential analysis of one computed analysis (its studies and scale), at the target and
    at the pooled CI limit (``characteristics``: also the drift and inflation factor of the design at
    the target, as ``livemeta monitor --json`` shows them)."""
    spec = result.spec
    if spec.measure == "proportion":
        raise LivemetaError(f"analysis {spec.id}: sequential monitoring needs a comparison (HR, OR or RR), "
                            "not a single-arm proportion")
    if not (settings.target > 0 and math.isfinite(settings.target)) or settings.target == 1:
        raise LivemetaError(f"the target ratio must be a positive number other than 1, got {settings.target!r}")
    studies = result.studies
    if studies.empty:
        raise LivemetaError(f"analysis {spec.id}: no study has data at revision {result.revision}")
    looks = np.array(look_labels(studies), dtype=object)
    events = None
    if settings.information == "events":
        if "events" not in studies or studies["events"].isna().any():
            missing = ", ".join(studies.loc[studies.get("events", pd.Series(np.nan, index=studies.index)).isna(),
                                            "trial_id"].astype(str)) if len(studies) else ""
            raise LivemetaError(f"analysis {spec.id}: information by events needs the number of events of every "
                                f"trial; missing for {missing}", hint="use the default information (sum of 1/vi)")
        events = studies["events"].to_numpy(float)
    target = math.log(settings.target)
    main = _run(studies, looks, settings, target, events, spec.id, characteristics)
    # the limit of the pooled CI on the target's side, under the monitoring model (Wetterslev 2017)
    level = 1.0 - 2.0 * settings.alpha / settings.sided
    zq = float(norm_isf(settings.alpha / settings.sided))
    est, se = float(main.estimate[-1]), float(main.se[-1])
    limit = est - zq * se if target < 0 else est + zq * se
    at_limit, note = None, None
    if limit * target <= 0 or not math.isfinite(limit):
        lo, hi = math.exp(est - zq * se), math.exp(est + zq * se)
        note = (f"no monitoring at the pooled CI limit: the {100 * level:g}% CI of the {main.model} estimate "
                f"({lo:.2f}-{hi:.2f}) does not reach beyond no effect on the target's side")
        limit = None
    else:
        at_limit = _run(studies, looks, replace(settings, target=math.exp(limit)), limit, events, spec.id)
    return MonitoringRun(settings, main, level, limit, at_limit, note, tuple(monitoring_notes(result, main)))


def monitoring_notes(result: AnalysisResult, mon: Monitoring) -> list[str]:
    """The lines printed beside a monitoring result about its inputs: how the looks are formed (trials
    sharing a first-publication date form one look), and the flags on the rows it uses (implausible
    inputs, :func:`livemeta.analysis.caveats.input_flags`), as every other output shows them."""
    from .caveats import flag_summary

    notes = []
    labels = look_labels(result.studies)
    shared = [(look, result.studies.loc[np.array(labels, dtype=object) == look, "label"].astype(str).tolist())
              for look in mon.looks]
    shared = [(look, names) for look, names in shared if len(names) > 1]
    if shared:
        years = all(_is_year(look) for look in mon.looks)
        unit = "calendar years of first publication (the study files record the year)" if years else \
            "the first-publication dates as the study files record them"
        notes.append(f"Looks are {unit}: trials first published together form one look ("
                     + "; ".join(f"{look}: {', '.join(names)}" for look, names in shared) + ").")
    notes += [f"Flagged input: {line}." for line in flag_summary(result.input_flags, limit=3)]
    return notes


def _is_year(look) -> bool:
    return len(str(look)) == 4 and str(look).isdigit()


def look_labels(studies: pd.DataFrame) -> list[str]:
    """The look at which each study entered: its first publication as printed (YYYY, YYYY-MM or
    YYYY-MM-DD, which sort in time order), ``undated`` (last) when unknown."""
    if "first_published" not in studies:
        return ["undated"] * len(studies)
    return [str(v) if isinstance(v, str) and v else "undated" for v in studies["first_published"]]


def monitoring_table(result: AnalysisResult, mon: Monitoring) -> pd.DataFrame:
    """One row per look: publication, trials added, k, information, fraction, pooled ratio, z,
    boundaries (NaN where the look is not tested), alpha spent and the boundary crossed."""
    studies = result.studies
    labels = np.array(look_labels(studies), dtype=object)
    added = [", ".join(studies.loc[labels == look, "label"].astype(str)) for look in mon.looks]
    frame = mon.to_frame()
    frame.insert(1, "trials_added", added)
    frame["estimate"] = np.exp(frame["estimate"])
    frame = frame.rename(columns={"estimate": "ratio"})
    return frame.drop(columns=["se"])


# ------------------------------------------------------------------ words
def model_text(mon: Monitoring) -> str:
    """The model of the z-curve, and why it is that one."""
    name = ESTIMATOR_NAMES.get(mon.model, mon.model)
    if mon.model == "FE":
        return f"z from the {name} model (no heterogeneity adjustment)"
    return f"z from the {name} model, the model the {mon.heterogeneity.split(' ')[0]} adjustment assumes"


def spending_text(mon: Monitoring) -> str:
    """How alpha is spent, with the per-side convention spelled out where it matters."""
    kind = "O'Brien-Fleming" if mon.type_of_design == "asOF" else "Pocock"
    if mon.sided == 1:
        return f"Lan-DeMets {kind}-type alpha spending, one-sided alpha {mon.alpha:g}"
    text = f"Lan-DeMets {kind}-type alpha spending, two-sided alpha {mon.alpha:g} spent per side as rpact does"
    t, per_side, classical = _per_side(mon)
    if mon.type_of_design == "asOF" and math.isfinite(per_side):
        text += (f" (each side spends alpha/2 by the one-sided function 2(1 - Phi(z[1-alpha/4] / sqrt(t))): at "
                 f"fraction {t:.2f} the boundary is {per_side:.2f}, where the classical two-sided function "
                 f"2(1 - Phi(z[1-alpha/2] / sqrt(t))) gives {classical:.2f})")
    return text


def _per_side(mon: Monitoring) -> tuple[float, float, float]:
    """The first look's fraction (0.5 when it is past 1) and the O'Brien-Fleming-type boundary there
    with alpha spent per side (rpact) and with the classical two-sided function."""
    t = float(mon.fraction[0]) if mon.fraction[0] < 1 else 0.5
    # the first look spends 2 (1 - Phi(z[1-alpha/4] / sqrt(t))) per side: |z| >= Phi^-1(1 - that)
    spent = math.erfc(float(norm_isf(mon.alpha / 4)) / math.sqrt(t) / math.sqrt(2.0))
    per_side = float(norm_isf(spent)) if spent > 0 else math.inf
    return t, per_side, float(norm_isf(mon.alpha / 2)) / math.sqrt(t)


def overrun_text(mon: Monitoring) -> str:
    """The over-run rule, and what it did here."""
    text = f"Looks at or past the required information: {OVERRUN_LABELS[mon.overrun]}"
    if mon.overrun_look is None:
        return text + "; none so far."
    look = mon.looks[mon.overrun_look]
    bound = abs(float(mon.efficacy_bound[mon.overrun_look]))
    if mon.overrun == "alpha_preserving":
        later = len(mon.looks) - 1 - mon.overrun_look
        return (text + f"; here look {look} (|z| >= {bound:.2f})"
                + (f", {later} later look{'s' if later > 1 else ''} not tested." if later else "."))
    return (text + f"; here from look {look} (|z| >= {bound:.2f}): the boundaries as applied spend "
            f"{100 * mon.alpha_total:.1f}% against the nominal {100 * mon.alpha:g}%.")


def conclusion_line(mon: Monitoring, measure: str, where: str = "At the target") -> str:
    """'At the target, HR 0.80: <conclusion>; required information ..., ...% of it reached.'"""
    return (f"{where}, {measure} {math.exp(mon.target):.2f}: {mon.conclusion}; required information "
            f"{mon.required_information_adjusted:.1f}, {100 * mon.fraction[-1]:.0f}% of it reached.")


def summary_lines(run: MonitoringRun, measure: str) -> list[str]:
    """What every monitoring result prints (the CLI and the report): the target and where it comes
    from, the model, the spending and over-run rules, the conclusion at the target and at the
    pooled CI limit, and the notes."""
    mon, s = run.main, run.settings
    target = s.target_text(measure)
    lines = [
        target[0].upper() + target[1:] + ".",
        f"Alpha {mon.alpha:g} {'two' if mon.sided == 2 else 'one'}-sided, power {mon.power:g}; required information "
        f"{mon.required_information:.1f} ({mon.information_kind}), adjusted by {mon.heterogeneity} = "
        f"{mon.adjustment:.3f} to {mon.required_information_adjusted:.1f}; {model_text(mon)}.",
        spending_text(mon) + ".",
        overrun_text(mon),
        conclusion_line(mon, measure),
    ]
    if run.at_ci_limit is not None:
        lines.append(conclusion_line(run.at_ci_limit, measure, f"At the {100 * run.ci_level:g}% CI limit of the "
                                                              f"pooled {mon.model} estimate"))
    elif run.ci_limit_note:
        lines.append(run.ci_limit_note[0].upper() + run.ci_limit_note[1:] + ".")
    lines += list(run.notes)
    return lines


def methods_texts(results: list[AnalysisResult]) -> list[str]:
    """The Methods paragraphs on sequential monitoring for the report, from the monitored results
    (none: no paragraph): looks, model, required information, spending, the over-run rule with what
    the other rule would have spent, and the target."""
    from ..pooling.sequential import crossing_probability

    runs = [(r.spec, r.monitoring) for r in results if r.monitoring is not None]
    if not runs:
        return []
    mons = [run.main for _, run in runs]
    shared = any(np.diff(np.r_[0, m.k]).max() > 1 for m in mons)  # several trials entered at one look
    years = all(_is_year(look) for m in mons for look in m.looks)
    texts = [
        "Sequential monitoring (trial sequential analysis; secondary). Looks: at each first-publication date the "
        "study files record, the cumulative meta-analysis of every trial published by then. "
        + (("In this project the dates are calendar years, so trials first published in the same year" if years
            else "Trials with the same first-publication date") + " enter together at one look rather than at "
           "their own publication dates (the table of each analysis lists them). " if shared else "")
        + "Information is the sum of inverse variances; the required information for a target ratio R is "
        "(z[1-alpha/2] + z[1-beta])² / ln(R)² (two-sided), divided by 1 - D² (diversity, Wetterslev et al. 2009) "
        "or 1 - I² of all trials. One model: with such an adjustment the cumulative estimate and z come from the "
        "random-effects model the adjustment assumes, without one from the fixed-effect model (Wetterslev et al. "
        "2009; TSA manual, Thorlund et al. 2011), whatever model the analysis itself pools with. Here: "
        + "; ".join(f"{spec.id} {run.main.heterogeneity}, z from {ESTIMATOR_NAMES.get(run.main.model, run.main.model)}"
                    for spec, run in runs) + ".",
        "Boundaries: Lan-DeMets alpha spending (O'Brien-Fleming type unless stated) at the cumulative information "
        "fractions, computed by recursive numerical integration and checked against rpact 3.3.4. A two-sided "
        "alpha is spent per side as rpact does: each side spends alpha/2 by the one-sided function, "
        "2(1 - Phi(z[1-alpha/4] / sqrt(t))) for O'Brien-Fleming type, which gives higher early boundaries than "
        "the classical two-sided function 2(1 - Phi(z[1-alpha/2] / sqrt(t)))"
        + "".join(f" ({spec.id}, fraction {t:.2f}: {a:.2f} against {b:.2f})" for spec, t, a, b in
                  [(spec, *_per_side(run.main)) for spec, run in runs[:1] if run.main.sided == 2]
                  if math.isfinite(a)) + ".",
    ]
    rules = sorted({run.main.overrun for _, run in runs})
    text = "Looks at or past the required information: " + "; ".join(OVERRUN_LABELS[r] for r in rules) + "."
    for spec, run in runs:
        m = run.main
        if m.overrun_look is None:
            continue
        j, look = m.overrun_look, m.looks[m.overrun_look]
        if m.overrun == "alpha_preserving":  # what reusing the planned final boundary would have spent
            other = np.where(np.arange(m.fraction.size) < j, np.abs(m.efficacy_bound), m.design.critical_values[-1])
            spent = crossing_probability(m.fraction, other, sided=m.sided)
            text += (f" {spec.id}: look {look} was the final analysis (|z| >= {abs(m.efficacy_bound[j]):.2f}); "
                     f"reusing the planned final boundary ({m.design.critical_values[-1]:.2f}) there and at every "
                     f"later look, as the TSA software does, would spend {100 * spent:.2f}% over its "
                     f"{m.fraction.size} looks against the nominal {100 * m.alpha:g}%.")
        else:
            text += (f" {spec.id}: the planned final boundary is reused from look {look}; the boundaries as "
                     f"applied spend {100 * m.alpha_total:.1f}% against the nominal {100 * m.alpha:g}%.")
    texts.append(text)
    texts.append(
        "Target effect: a setting of each monitored analysis in the analyses file, with its justification, "
        "printed with every result; `livemeta monitor --target-hr` overrides it and says so. Every result is "
        "also given at the limit of the pooled estimate's CI (the monitoring model's, at the latest look) on "
        "the target's side, the most favourable effect the evidence itself supports (Wetterslev, Jakobsen & "
        "Gluud 2017).")
    return texts
