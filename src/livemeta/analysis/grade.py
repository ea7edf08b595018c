"""GRADE certainty of the evidence, per outcome: the rules behind the summary-of-findings table.

The project's GRADE file (named ``grade:`` in ``livemeta.yaml``; reviewed like any other file of
the project) lists the outcomes of the table, each an analysis id, with its baseline for absolute
effects, its imprecision threshold and the reviewers' judgements. Certainty starts high for
randomised evidence and low for non-randomised evidence (single-arm trials) and goes down one level
per serious concern, two per very serious concern, in five domains:

* **risk of bias** and **indirectness** are judgements: taken from the file, with their reasons;
  the report shows the risk-of-bias judgements of the trials beside them (share of the weight at
  each overall judgement), never a judgement of its own;
* **inconsistency**, **imprecision** and **publication bias** are proposed by the rules below
  (:data:`RULES`), with the numbers they read; a judgement in the file replaces the proposal and
  is shown beside it.

A domain neither judged in the file nor computable makes the outcome **not rated**: never a silent
"high". Nothing here reads the database or draws: results and tables in, judgements out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import median

import numpy as np
import yaml

from ..errors import LivemetaError

DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOMAIN_NAMES = {
    "risk_of_bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication_bias": "Publication bias",
}
COMPUTED = ("inconsistency", "imprecision", "publication_bias")
RATINGS = {"not_serious": 0, "serious": 1, "very_serious": 2}
LEVELS = ("very low", "low", "moderate", "high")
EGGER_MIN_K = 10
EGGER_ALPHA = 0.10

#: the rules of the computed domains, as the report prints them
RULES = {
    "inconsistency": (
        "I² of the analysis and the 95% prediction interval of a random-effects model (REML) of the same "
        "studies (k >= 3): very serious when I² >= 75% and the prediction interval crosses the null; serious "
        "when I² >= 50%, or when the prediction interval crosses the null and the confidence interval does "
        "not; otherwise not serious. One study: not applicable (not serious)."
    ),
    "imprecision": (
        "The confidence interval against the threshold T of the GRADE file (the null unless stated) and the "
        "optimal information size (OIS): the information needed to detect the relative effect E of the file "
        "with two-sided alpha and power (default 0.05 and 0.80), (z(1-alpha/2) + z(power))² / ln(E)², against "
        "the information of the analysis, the sum of 1/variance on the log scale (about events / 4 for a hazard "
        "ratio). Very serious when the CI includes both E and 1/E (appreciable benefit and harm); serious when "
        "it includes T or the OIS is not met; otherwise not serious."
    ),
    "publication_bias": (
        f"Funnel asymmetry by Egger's regression test (metafor's regtest with the analysis's model) when "
        f"k >= {EGGER_MIN_K}: serious when p < {EGGER_ALPHA:g}, otherwise not serious. With fewer studies a "
        "funnel plot cannot show asymmetry: a reviewer's judgement (searches, registries, unpublished "
        "trials) is needed."
    ),
}

_OUTCOME_KEYS = {"analysis", "outcome", "importance", "baseline", "imprecision", "judgements", "comment"}
_BASELINE_KEYS = {"from", "value", "unit", "kind", "landmark", "assumption", "source"}
_IMPRECISION_KEYS = {"threshold", "effect", "alpha", "power"}
_JUDGEMENT_KEYS = {"rating", "reason", "by", "date"}


# ------------------------------------------------------------------------------ the GRADE file
@dataclass(frozen=True)
class Baseline:
    """Where the control group's risk comes from: the control arms of the analysis (``from:
    control_arms``: the median of their medians, or of their event risks), or a stated value."""

    source_kind: str = "control_arms"  # control_arms | stated
    value: float | None = None  # a stated median (months) or landmark survival / risk (0..1)
    kind: str = "median"  # median | landmark_survival | risk
    unit: str = "months"
    landmark: float | None = None  # months: absolute effects at this time (time-to-event)
    assumption: str = "exponential"
    source: str | None = None


@dataclass(frozen=True)
class Judgement:
    rating: str
    reason: str
    by: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class OutcomeGrade:
    """One outcome of the summary-of-findings table, as the GRADE file gives it."""

    analysis: str
    outcome: str
    importance: str | None = None
    baseline: Baseline | None = None
    threshold: float = 1.0
    effect: float | None = None  # the relative effect the OIS is computed for
    alpha: float = 0.05
    power: float = 0.80
    judgements: dict[str, Judgement] = field(default_factory=dict)
    comment: str | None = None


def _keys(d, allowed, where):
    if not isinstance(d, dict):
        raise LivemetaError(f"{where}: a mapping")
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise LivemetaError(f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(allowed))}")


def _number(v, where, positive=True) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (positive and v <= 0):
        raise LivemetaError(f"{where}: a {'positive ' if positive else ''}number, got {v!r}")
    return float(v)


def parse_grade(text: str, name: str = "grade.yaml") -> list[OutcomeGrade]:
    """The outcomes of a GRADE file, checked (keys, ratings, reasons, numbers)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LivemetaError(f"{name}: not valid YAML: {exc}") from None
    _keys(doc, {"grade", "outcomes"}, name)
    if doc.get("grade") != 1:
        raise LivemetaError(f"{name}: grade: {doc.get('grade')!r}; this livemeta reads GRADE files of format 1")
    out = []
    for i, raw in enumerate(doc.get("outcomes") or []):
        where = f"{name}: outcomes[{i}]"
        _keys(raw, _OUTCOME_KEYS, where)
        if not isinstance(raw.get("analysis"), str) or not isinstance(raw.get("outcome"), str):
            raise LivemetaError(f"{where}: needs analysis (an analysis id) and outcome (its name in the table)")
        base = None
        if raw.get("baseline") is not None:
            b = raw["baseline"]
            _keys(b, _BASELINE_KEYS, f"{where}.baseline")
            kind = b.get("kind", "median")
            if kind not in ("median", "landmark_survival", "risk"):
                raise LivemetaError(f"{where}.baseline.kind: median, landmark_survival or risk, got {kind!r}")
            src = b.get("from", "control_arms" if b.get("value") is None else "stated")
            if src not in ("control_arms", "stated"):
                raise LivemetaError(f"{where}.baseline.from: control_arms or stated, got {src!r}")
            if src == "stated" and (b.get("value") is None or not b.get("source")):
                raise LivemetaError(f"{where}.baseline: a stated baseline needs value and source")
            if b.get("assumption", "exponential") != "exponential":
                raise LivemetaError(f"{where}.baseline.assumption: only 'exponential' survival is implemented")
            base = Baseline(src, _number(b["value"], f"{where}.baseline.value") if b.get("value") is not None else None,
                            kind, b.get("unit", "months"),
                            _number(b["landmark"], f"{where}.baseline.landmark") if b.get("landmark") is not None else None,
                            "exponential", b.get("source"))
        imp = raw.get("imprecision") or {}
        _keys(imp, _IMPRECISION_KEYS, f"{where}.imprecision")
        judgements = {}
        for dom, j in (raw.get("judgements") or {}).items():
            if dom not in DOMAINS:
                raise LivemetaError(f"{where}.judgements: unknown domain {dom!r}; domains: {', '.join(DOMAINS)}")
            _keys(j, _JUDGEMENT_KEYS, f"{where}.judgements.{dom}")
            if j.get("rating") not in RATINGS:
                raise LivemetaError(f"{where}.judgements.{dom}.rating: one of {', '.join(RATINGS)}, got {j.get('rating')!r}")
            if not str(j.get("reason") or "").strip():
                raise LivemetaError(f"{where}.judgements.{dom}: a judgement needs its reason")
            judgements[dom] = Judgement(j["rating"], str(j["reason"]).strip(), j.get("by"),
                                        str(j["date"]) if j.get("date") is not None else None)
        out.append(OutcomeGrade(
            raw["analysis"], raw["outcome"], raw.get("importance"), base,
            _number(imp.get("threshold", 1.0), f"{where}.imprecision.threshold"),
            _number(imp["effect"], f"{where}.imprecision.effect") if imp.get("effect") is not None else None,
            _number(imp.get("alpha", 0.05), f"{where}.imprecision.alpha"),
            _number(imp.get("power", 0.80), f"{where}.imprecision.power"),
            judgements, raw.get("comment"),
        ))
    return out


# ------------------------------------------------------------------------ the computed domains
@dataclass(frozen=True)
class Domain:
    """One domain of one outcome: its rating (None: not assessed), where the rating comes from
    (``reviewed``, ``proposed`` by the rule, or ``not assessed``), the reason, and the rule's
    proposal when a review replaced it."""

    name: str
    status: str
    rating: str | None
    reason: str
    proposal: str | None = None
    proposal_reason: str | None = None


def _crosses(lo: float, hi: float, value: float) -> bool:
    return lo <= value <= hi


def propose_inconsistency(result) -> tuple[str | None, str]:
    """(rating, reason) by :data:`RULES` ``inconsistency``; rating None when not computable."""
    from ..pooling import pool

    o, k = result.overall, result.k
    if o is None or k == 0:
        return None, "no studies"
    if k == 1:
        return "not_serious", "one study: inconsistency not applicable"
    null = 0.0 if result.spec.measure != "proportion" else None
    i2 = float(o.i2_q if math.isfinite(getattr(o, "i2_q", float("nan"))) else o.i2)
    parts = [f"I² = {i2:.0f}%"]
    pi_crosses = ci_crosses = False
    if k >= 3:
        re = pool(result.studies["yi"].to_numpy(float), result.studies["vi"].to_numpy(float), method="REML", test="z",
                  level=result.spec.level, scale=result.spec.scale)
        lo, hi = _nat(re.pi_low, result.spec.scale), _nat(re.pi_high, result.spec.scale)
        parts.append(f"95% prediction interval {_fmt(lo)}–{_fmt(hi)} (REML)")
        if null is not None:
            pi_crosses = re.pi_low <= null <= re.pi_high
            ci_crosses = o.ci_low <= null <= o.ci_high
    reason = ", ".join(parts)
    if i2 >= 75 and pi_crosses:
        return "very_serious", reason + ": I² >= 75% and the prediction interval crosses the null"
    if i2 >= 50:
        return "serious", reason + ": I² >= 50%"
    if pi_crosses and not ci_crosses:
        return "serious", reason + ": the prediction interval crosses the null, the confidence interval does not"
    return "not_serious", reason


def information(result) -> float:
    """The information of the analysis on its (log) scale: the sum of 1/variance."""
    return float(np.sum(1.0 / result.studies["vi"].to_numpy(float)))


def optimal_information(effect: float, alpha: float = 0.05, power: float = 0.80) -> float:
    """The information (sum of 1/variance on the log scale) needed to detect ``effect`` (a ratio)
    with two-sided ``alpha`` and ``power``: (z(1 - alpha/2) + z(power))² / ln(effect)²."""
    from ..pooling._dist import norm_isf

    z = norm_isf(alpha / 2) + norm_isf(1 - power)
    return z * z / math.log(effect) ** 2


def propose_imprecision(result, g: OutcomeGrade) -> tuple[str | None, str]:
    """(rating, reason) by :data:`RULES` ``imprecision``; None for a proportion (no comparison)."""
    o = result.overall
    if o is None or result.k == 0:
        return None, "no studies"
    if result.spec.measure == "proportion":
        return None, "a single-arm proportion has no comparison: imprecision is a reviewer's judgement"
    s = result.spec.scale
    lo, hi = _nat(o.ci_low, s), _nat(o.ci_high, s)
    parts = [f"{result.spec.level * 100:g}% CI {_fmt(lo)}–{_fmt(hi)}"]
    rating = "not_serious"
    why = []
    if g.effect is not None and g.effect != 1:
        e = g.effect
        have, need = information(result), optimal_information(e, g.alpha, g.power)
        parts.append(f"information {have:.0f} vs OIS {need:.0f} for {result.spec.measure} {_fmt(e)} "
                     f"(alpha {g.alpha:g}, power {g.power:g}; about {4 * have:.0f} vs {4 * need:.0f} events)")
        if _crosses(lo, hi, e) and _crosses(lo, hi, 1 / e):
            return "very_serious", "; ".join(parts) + f": the CI includes both {_fmt(min(e, 1 / e))} and {_fmt(max(e, 1 / e))}"
        if have < need:
            rating = "serious"
            why.append("the OIS is not met")
    else:
        parts.append("no effect stated for the optimal information size (imprecision.effect)")
    if _crosses(lo, hi, g.threshold):
        rating = "serious"
        why.insert(0, f"the CI includes {_fmt(g.threshold)}")
    if rating == "not_serious" and g.effect is None:
        return None, "; ".join(parts) + ": without an effect for the OIS the rule cannot say 'not serious'"
    return rating, "; ".join(parts) + (": " + " and ".join(why) if why else "")


def propose_publication_bias(result) -> tuple[str | None, str]:
    """(rating, reason) by :data:`RULES` ``publication_bias``; None below k = 10."""
    from ..pooling.bias import egger_test

    k = result.k
    if result.overall is None or k == 0:
        return None, "no studies"
    if k < EGGER_MIN_K:
        return None, f"k = {k} < {EGGER_MIN_K}: funnel asymmetry cannot be assessed"
    spec = result.spec
    eg = egger_test(result.studies["yi"].to_numpy(float), result.studies["vi"].to_numpy(float), method=spec.method,
                    test=spec.test, level=spec.level)
    p = float(eg.rma.p)
    reason = f"Egger's test p = {p:.3f} (k = {k})"
    return ("serious", reason + f" < {EGGER_ALPHA:g}: funnel asymmetry") if p < EGGER_ALPHA else ("not_serious", reason)


def rob_summary(result, rob_overall: dict[str, str | None]) -> str:
    """The trials' risk-of-bias judgements as shares of the analysis's weight: '62% low, 38% not
    assessed'. ``rob_overall`` maps trial id to its overall judgement in force (None: not assessed)."""
    if result.k == 0:
        return "no studies"
    w = result.studies.groupby("trial_id")["weight"].sum()
    shares: dict[str, float] = {}
    for trial, weight in w.items():
        j = rob_overall.get(trial) or "not assessed"
        shares[j] = shares.get(j, 0.0) + float(weight)
    order = ["low", "some_concerns", "moderate", "high", "serious", "critical", "no_information", "not assessed"]
    return ", ".join(f"{shares[j]:.0f}% {j.replace('_', ' ')}" for j in order if j in shares)


# ------------------------------------------------------------------------------------ certainty
@dataclass(frozen=True)
class Certainty:
    """The certainty of one outcome: its level ('high' ... 'very low', or 'not rated'), the
    starting level and why, every domain, and the downgrades with their reasons."""

    level: str
    start: str
    start_reason: str
    domains: list[Domain]

    @property
    def downgrades(self) -> list[Domain]:
        return [d for d in self.domains if d.rating in ("serious", "very_serious")]

    @property
    def not_assessed(self) -> list[Domain]:
        return [d for d in self.domains if d.rating is None]


def certainty(result, g: OutcomeGrade, rob_overall: dict[str, str | None] | None = None) -> Certainty:
    """The certainty of ``result`` (an :class:`~livemeta.analysis.AnalysisResult`) under ``g``."""
    randomised = result.spec.measure != "proportion"
    start = "high" if randomised else "low"
    start_reason = "randomised trials" if randomised else "non-randomised (single-arm) evidence"
    proposals = {
        "inconsistency": propose_inconsistency(result),
        "imprecision": propose_imprecision(result, g),
        "publication_bias": propose_publication_bias(result),
    }
    domains = []
    for name in DOMAINS:
        reviewed = g.judgements.get(name)
        prop, prop_reason = proposals.get(name, (None, None))
        if name == "risk_of_bias" and rob_overall is not None:
            prop_reason = f"the trials' overall risk of bias by weight: {rob_summary(result, rob_overall)}"
        if reviewed is not None:
            by = f" ({reviewed.by}{', ' + reviewed.date if reviewed.date else ''})" if reviewed.by else ""
            domains.append(Domain(name, "reviewed", reviewed.rating, reviewed.reason + by, prop, prop_reason))
        elif prop is not None:
            domains.append(Domain(name, "proposed", prop, prop_reason))
        else:
            why = prop_reason or "a reviewer's judgement, not in the GRADE file"
            if name in ("risk_of_bias", "indirectness"):
                why = "not assessed: a reviewer's judgement, not yet in the GRADE file" + (f"; {prop_reason}" if prop_reason else "")
            domains.append(Domain(name, "not assessed", None, why))
    if result.overall is None or result.k == 0:
        return Certainty("not rated", start, start_reason, domains)
    if any(d.rating is None for d in domains):
        return Certainty("not rated", start, start_reason, domains)
    level = LEVELS.index(start) - sum(RATINGS[d.rating] for d in domains)
    return Certainty(LEVELS[max(level, 0)], start, start_reason, domains)


# ------------------------------------------------------------------------- absolute effects
@dataclass(frozen=True)
class AbsoluteEffect:
    """Anticipated absolute effects per 1,000 (control, intervention with CI, difference with CI)
    and how they were computed."""

    control: float
    intervention: float
    intervention_low: float
    intervention_high: float
    what: str  # e.g. "deaths by 12 months per 1,000"
    basis: str  # the baseline and the assumption, in words
    median_control: float | None = None
    median_intervention: tuple[float, float, float] | None = None

    @property
    def difference(self) -> tuple[float, float, float]:
        d = self.intervention - self.control
        lo, hi = sorted((self.intervention_low - self.control, self.intervention_high - self.control))
        return d, lo, hi


def baseline_value(g: OutcomeGrade, control_values: list[float]) -> tuple[float, str] | None:
    """The baseline and its description: stated, or the median of the control arms' values."""
    b = g.baseline
    if b is None:
        return None
    if b.source_kind == "stated":
        return b.value, f"stated: {b.value:g} {b.unit if b.kind == 'median' else ''}".rstrip() + f" ({b.source})"
    vals = [v for v in control_values if v is not None and math.isfinite(v)]
    if not vals:
        return None
    m = float(median(vals))
    unit = f" {b.unit}" if b.kind == "median" else ""
    what = "median" if b.kind == "median" else "risk"
    return m, f"the median of the control arms' {what}s ({len(vals)} trials): {m:.3g}{unit}"


def absolute_effect(result, g: OutcomeGrade, control_values: list[float], endpoint: str | None = None
                    ) -> AbsoluteEffect | None:
    """Absolute effects of a ratio at the outcome's baseline.

    Hazard ratio: the control arm's survival is exponential with the baseline median m (or a
    stated landmark survival S), S_c(t) = 2^(-t/m); under proportional hazards the intervention's is
    S_c(t)^HR. Events by the landmark t per 1,000: 1000 (1 - S). The median under the same
    assumption is m / HR. Odds ratio: p_e = OR p_c / (1 - p_c + OR p_c); risk ratio: p_e = RR p_c,
    with p_c the control risk. None without a baseline (or for a proportion).
    """
    o = result.overall
    base = baseline_value(g, control_values)
    if o is None or base is None or result.spec.measure == "proportion":
        return None
    value, basis = base
    s = result.spec.scale
    est, lo, hi = (_nat(x, s) for x in (o.estimate, o.ci_low, o.ci_high))
    m = result.spec.measure
    b = g.baseline
    if m == "HR":
        t = b.landmark
        if b.kind == "median":
            if t is None:
                return None
            sc = 2 ** (-t / value)
        elif b.kind == "landmark_survival":
            sc = value
        else:
            return None
        per = lambda hr: 1000 * (1 - sc ** hr)  # noqa: E731
        events = {"os": "deaths", "pfs": "progressions or deaths"}.get(endpoint or "", "events")
        what = f"{events} by {t:g} months per 1,000" if t else f"{events} per 1,000"
        assumption = ("exponential survival in the control arm" + (f" (median {value:.3g} months)" if b.kind == "median" else "")
                      + ", proportional hazards")
        med = (value, value / est, value / hi, value / lo) if b.kind == "median" else None
        return AbsoluteEffect(1000 * (1 - sc), per(est), per(lo), per(hi), what, f"{basis}; {assumption}",
                              med[0] if med else None, med[1:] if med else None)
    pc = value
    if m == "OR":
        f = lambda r: 1000 * r * pc / (1 - pc + r * pc)  # noqa: E731
    else:
        f = lambda r: 1000 * r * pc  # noqa: E731
    who = {"orr": "responders", "dcr": "patients with disease control"}.get(endpoint or "", "patients with the event")
    return AbsoluteEffect(1000 * pc, f(est), f(lo), f(hi), f"{who} per 1,000", basis)


def _nat(x: float, scale: str) -> float:
    return float(np.exp(x)) if scale == "log" else float(1 / (1 + np.exp(-x)))


def _fmt(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"
