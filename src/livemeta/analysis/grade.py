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
from ..words import count

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

#: the rules of the computed domains, as the report prints them, each with its sources
RULES = {
    "inconsistency": (
        "Read on one random-effects model of the same studies, the one the report shows (the analysis itself when "
        "it is a random-effects model, else its declared random-effects sensitivity analysis, or the one the GRADE "
        "file names): its I² and its prediction interval, labelled with the estimator and the distribution it uses "
        "(t on k - 1 df under Hartung-Knapp; Higgins, Thompson & Spiegelhalter 2009; IntHout et al. 2016), and the "
        "studies' estimates against the decision threshold T of the GRADE file (the null unless stated). Very "
        "serious when I² >= 75% and the studies' estimates lie on both sides of T; serious when I² >= 50% and they "
        "lie on both sides of T, or when the prediction interval includes T and the same model's CI does not; not "
        "serious otherwise, also when I² >= 50% but every estimate lies on the same side of T (the studies differ "
        "in the size of the effect, not in the decision: Guyatt et al. 2011, GRADE guidelines 7, J Clin Epidemiol "
        "64:1294-1302; I² bands of the Cochrane Handbook 10.10.2). The prediction interval needs k >= 3. Without a "
        "random-effects model, I² from Cochran's Q of the analysis. One study: not applicable (not serious)."
    ),
    "imprecision": (
        "The CI of the model the heterogeneity calls for (Guyatt et al. 2011, GRADE guidelines 6, J Clin Epidemiol "
        "64:1283-1293): the random-effects model above when it estimates heterogeneity (tau² > 0, I² >= 1% as "
        "printed), the analysis's own otherwise, "
        "against the threshold T and the relative effect E of the GRADE file, and the optimal information size "
        "(OIS: what one adequately powered trial would need to detect E with two-sided alpha and power, default "
        "0.05 and 0.80; Pogue & Yusuf 1997). For a hazard ratio the OIS is information, (z(1-alpha/2) + "
        "z(power))² / ln(E)², about events / 4 (Schoenfeld 1983), against the analysis's sum of 1/variance; for an "
        "odds or risk ratio it is patients, two groups of n = (z(1-alpha/2) sqrt(2 p(1-p)) + z(power) "
        "sqrt(p_c(1-p_c) + p_e(1-p_e)))² / (p_e - p_c)² at the control risk p_c of the GRADE file's baseline and "
        "p_e = the risk E implies (Fleiss; R's power.prop.test), against the analysis's participants. The OIS is "
        "divided by 1 - D², the diversity of the same random-effects model (Wetterslev et al. 2009, as the "
        "sequential monitoring adjusts its required information). Very serious when the CI includes both E and "
        "1/E (appreciable benefit and harm); serious when it includes T or the OIS is not met; otherwise not "
        "serious. A declared sensitivity analysis that reaches another conclusion, and a flagged input the "
        "analysis pools, are stated beside the rating."
    ),
    "publication_bias": (
        f"Funnel asymmetry by Egger's regression test (Egger et al. 1997; metafor's regtest with the analysis's "
        f"model) when k >= {EGGER_MIN_K}: serious when p < {EGGER_ALPHA:g}, otherwise not serious. With fewer "
        "studies a funnel plot cannot show asymmetry (Sterne et al. 2011): a reviewer's judgement (searches, "
        "registries, unpublished trials) is needed (Guyatt et al. 2011, GRADE guidelines 5, J Clin Epidemiol "
        "64:1277-1282)."
    ),
}

_OUTCOME_KEYS = {"analysis", "outcome", "importance", "baseline", "imprecision", "judgements", "comment",
                 "random_effects"}
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
    random_effects: str | None = None  # the random-effects analysis the rules read (default: found)


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


def _analysis_id(v, where) -> str | None:
    if v is not None and (not isinstance(v, str) or not v.strip()):
        raise LivemetaError(f"{where}: an analysis id, got {v!r}")
    return v


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
            if kind != "median" and b.get("value") is not None and not (
                    isinstance(b["value"], (int, float)) and 0 < b["value"] < 1):
                raise LivemetaError(f"{where}.baseline.value: a {kind.replace('_', ' ')} is a proportion between 0 "
                                    f"and 1, got {b['value']!r}")
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
            judgements, raw.get("comment"), _analysis_id(raw.get("random_effects"), f"{where}.random_effects"),
        ))
    return out


# ------------------------------------------------------------------------ the computed domains
@dataclass(frozen=True)
class Domain:
    """One domain of one outcome: its rating (None: not assessed), where the rating comes from
    (``reviewed``, ``proposed`` by the rule, or ``not assessed``), the reason, the rule's proposal
    when a review replaced it, and a ``note`` the reader must see whatever the rating (a declared
    sensitivity analysis that reaches another conclusion, a flagged input)."""

    name: str
    status: str
    rating: str | None
    reason: str
    proposal: str | None = None
    proposal_reason: str | None = None
    note: str | None = None


def _crosses(lo: float, hi: float, value: float) -> bool:
    return lo <= value <= hi


def _same_studies(a, b) -> bool:
    """Whether two analyses pool the same rows (view, measure, filters, readings, subgroups)."""
    keys = ("view", "measure", "filters", "exclude", "ci_level", "level", "subgroup")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def random_effects_model(result, results=None, chosen: str | None = None):
    """The random-effects model the GRADE rules read for ``result``: the analysis ``chosen`` (the
    GRADE file's ``random_effects``), else ``result`` itself when it is a random-effects model, else
    the first declared sensitivity analysis of it (``sensitivity_of``) that pools the same rows by a
    random-effects model. None when there is none (then I² from Q and no prediction interval)."""
    results = results or {}
    if chosen is not None:
        r = results.get(chosen)
        return r if r is not None and r.spec.method != "FE" and r.overall is not None else None
    if result.spec.method != "FE":
        return result
    for r in results.values():
        if (r.spec.sensitivity_of == result.spec.id and r.spec.method != "FE" and r.overall is not None
                and _same_studies(r.spec, result.spec)):
            return r
    return None


def model_words(res) -> str:
    """'pfs_re: REML, HKSJ' / 'os: fixed effect': which model, by its analysis id and estimator."""
    s = res.spec
    if s.method == "FE":
        return f"{s.id}: fixed effect"
    return f"{s.id}: {s.method}{', HKSJ' if res.overall is not None and res.overall.test == 'knha' else ''}"


def prediction_interval_text(res) -> str | None:
    """'95% prediction interval 0.59–1.27 (pfs_re: REML, t(k-1) = t(4), HKSJ)', read from the pooled
    result (never recomputed) and labelled as every other output labels it
    (:func:`livemeta.analysis.labels.pi_label`), or None (fixed effect, k < 3)."""
    from .labels import pi_label

    o = res.overall
    if o is None or res.spec.method == "FE" or res.k < 3 or not all(map(math.isfinite, (o.pi_low, o.pi_high))):
        return None
    s = res.spec.scale
    return (f"{res.spec.level * 100:g}% prediction interval {_fmt(_nat(o.pi_low, s))}–{_fmt(_nat(o.pi_high, s))} "
            f"({res.spec.id}: {pi_label(res.spec.method, o.test, o.pi_dist, res.k)})")


def propose_inconsistency(result, re=None, threshold: float = 1.0) -> tuple[str | None, str]:
    """(rating, reason) by :data:`RULES` ``inconsistency`` on the random-effects model ``re``
    (:func:`random_effects_model`; None: I² from Q, no prediction interval); rating None when not
    computable."""
    o, k = result.overall, result.k
    if o is None or k == 0:
        return None, "no studies"
    if k == 1:
        return "not_serious", "one study: inconsistency not applicable"
    ratio = result.spec.measure != "proportion"
    if re is not None and re.overall is not None and math.isfinite(re.overall.i2):
        i2 = float(re.overall.i2)
        parts = [f"I² = {i2:.0f}% ({model_words(re)})"]
    else:
        i2 = float(o.i2_q if math.isfinite(getattr(o, "i2_q", float("nan"))) else o.i2)
        parts = [f"I² = {i2:.0f}% (Cochran's Q; no random-effects analysis of these studies)"]
    if not ratio:  # a proportion has no decision threshold to judge the spread against
        reason = ", ".join(parts) + " (a proportion: no decision threshold)"
        if i2 >= 75:
            return "very_serious", reason + ": I² >= 75%"
        return ("serious", reason + ": I² >= 50%") if i2 >= 50 else ("not_serious", reason)
    t = math.log(threshold)
    yi = result.studies["yi"].to_numpy(float)
    below, above = int(np.sum(yi < t)), int(np.sum(yi > t))
    both = below > 0 and above > 0
    parts.append(f"study estimates {below} below and {above} above {_fmt(threshold)}")
    pi_crosses = ci_crosses = False
    pi_text = prediction_interval_text(re) if re is not None else None
    if pi_text is not None:
        parts.append(pi_text)
        pi_crosses = re.overall.pi_low <= t <= re.overall.pi_high
        ci_crosses = re.overall.ci_low <= t <= re.overall.ci_high
    elif re is not None:
        parts.append(f"no prediction interval (k = {k} < 3)")
    reason = ", ".join(parts)
    T = _fmt(threshold)
    if i2 >= 75 and both:
        return "very_serious", reason + f": I² >= 75% and the studies' estimates lie on both sides of {T}"
    if i2 >= 50 and both:
        return "serious", reason + f": I² >= 50% and the studies' estimates lie on both sides of {T}"
    if pi_crosses and not ci_crosses:
        return "serious", reason + f": the prediction interval includes {T}, the confidence interval does not"
    if i2 >= 50:
        return "not_serious", reason + (f": I² >= 50% but every study's estimate lies on the same side of {T} (they "
                                        "differ in the size of the effect, not in the decision; GRADE 7)")
    return "not_serious", reason


def information(result) -> float:
    """The information of the analysis on its (log) scale: the sum of 1/variance."""
    return float(np.sum(1.0 / result.studies["vi"].to_numpy(float)))


def optimal_information(effect: float, alpha: float = 0.05, power: float = 0.80) -> float:
    """The information (sum of 1/variance on the log scale) needed to detect ``effect`` (a ratio)
    with two-sided ``alpha`` and ``power``: (z(1 - alpha/2) + z(power))² / ln(effect)² (the
    monitoring's required information, :func:`livemeta.pooling.sequential.required_information`)."""
    from ..pooling.sequential import required_information

    return required_information(math.log(effect), alpha=alpha, power=power, sided=2)


def risk_with(effect: float, control_risk: float, measure: str) -> float:
    """The intervention's risk that a relative ``effect`` (OR or RR) implies at ``control_risk``."""
    if measure == "OR":
        return effect * control_risk / (1 - control_risk + effect * control_risk)
    return effect * control_risk


def optimal_information_patients(effect: float, control_risk: float, measure: str, alpha: float = 0.05,
                                 power: float = 0.80) -> tuple[float, float]:
    """(patients per group, the intervention's risk) an adequately powered two-arm trial needs to
    detect a relative ``effect`` at ``control_risk``: Fleiss's normal approximation without
    continuity correction, ``n = (z(1-alpha/2) sqrt(2 pbar (1 - pbar)) + z(power) sqrt(p_c (1 - p_c) +
    p_e (1 - p_e)))² / (p_e - p_c)²`` (the n that R's ``power.prop.test`` solves for)."""
    pe = risk_with(effect, control_risk, measure)
    if not 0 < pe < 1:
        raise ValueError(f"{measure} {effect:g} at a control risk of {control_risk:g} implies a risk of {pe:g}")
    from ..pooling._dist import norm_isf

    za, zb = float(norm_isf(alpha / 2)), float(norm_isf(1 - power))
    pbar = (control_risk + pe) / 2
    n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(control_risk * (1 - control_risk) + pe * (1 - pe))) ** 2 \
        / (pe - control_risk) ** 2
    return n, pe


def _participants(result) -> int | None:
    st = result.studies
    if {"ai", "bi", "ci", "di"} <= set(st.columns):
        return int(st[["ai", "bi", "ci", "di"]].to_numpy(float).sum())
    return None


def heterogeneity_model(result, re=None):
    """The model whose CI the imprecision rule judges: ``re`` when the analysis is a fixed-effect
    one and ``re`` estimates heterogeneity (tau² > 0 with an I² of at least 1% as printed: a tau² of
    1e-6 from the iterations of REML is none), else the analysis itself."""
    if (result.spec.method == "FE" and re is not None and re.overall is not None and re.overall.tau2 > 0
            and round(re.overall.i2) >= 1):
        return re
    return result


def propose_imprecision(result, g: OutcomeGrade, re=None, control_risk: float | None = None
                        ) -> tuple[str | None, str]:
    """(rating, reason) by :data:`RULES` ``imprecision``: the CI of :func:`heterogeneity_model`,
    the OIS adjusted by the diversity D² of ``re``; ``control_risk`` (0..1) for the OIS of an odds
    or risk ratio in patients. None for a proportion (no comparison)."""
    from ..pooling.sequential import diversity

    o = result.overall
    if o is None or result.k == 0:
        return None, "no studies"
    if result.spec.measure == "proportion":
        return None, "a single-arm proportion has no comparison: imprecision is a reviewer's judgement"
    model = heterogeneity_model(result, re)
    s = result.spec.scale
    lo, hi = _nat(model.overall.ci_low, s), _nat(model.overall.ci_high, s)
    lvl = f"{result.spec.level * 100:g}%"
    if model is result:
        why_model = ("" if re is None or re is result else
                     f"; the random-effects model ({model_words(re)}) estimates no heterogeneity, I² "
                     f"{re.overall.i2:.0f}%")
        parts = [f"{lvl} CI {_fmt(lo)}–{_fmt(hi)} ({model_words(result)}{why_model})"]
    else:
        parts = [f"{lvl} CI {_fmt(lo)}–{_fmt(hi)} ({model_words(model)}: the heterogeneity, tau² = "
                 f"{model.overall.tau2:.3g}, calls for the random-effects model; fixed effect "
                 f"{_fmt(_nat(o.ci_low, s))}–{_fmt(_nat(o.ci_high, s))})"]
    d2, d2_text = 0.0, ""
    if re is not None and re.k >= 2:
        d2 = diversity(re.studies["yi"].to_numpy(float), re.studies["vi"].to_numpy(float), method=re.spec.method)
        d2_text = f", adjusted for heterogeneity by 1 - D² (D² = {d2:.2f}, {re.spec.method})"
    elif re is None:
        d2_text = ", not adjusted for heterogeneity (no random-effects analysis of these studies)"
    rating, why = "not_serious", []
    if g.effect is not None and g.effect != 1:
        e = g.effect
        common = f"{result.spec.measure} {_fmt(e)}, alpha {g.alpha:g}, power {g.power:g}"
        if result.spec.measure == "HR":
            have, need = information(result), optimal_information(e, g.alpha, g.power)
            adj = need / (1 - d2)
            parts.append(f"information {have:.0f} (about {4 * have:,.0f} events) vs OIS {need:.0f} ({4 * need:,.0f} "
                         f"events) for {common}{d2_text}" + (f" to {adj:.0f} ({4 * adj:,.0f} events)" if round(d2, 2) else ""))
            short = have < adj
        else:
            have = _participants(result)
            if control_risk is None or have is None or not 0 < control_risk < 1:
                parts.append(f"the OIS in patients for {common} needs the control risk (the GRADE file's baseline)")
                short = None
            else:
                n, pe = optimal_information_patients(e, control_risk, result.spec.measure, g.alpha, g.power)
                need = 2 * math.ceil(n)
                adj = math.ceil(need / (1 - d2))
                parts.append(f"{have:,} participants vs OIS {need:,} patients (2 x {math.ceil(n):,}: {common}, control "
                             f"risk {100 * control_risk:.1f}% vs {100 * pe:.1f}%){d2_text}"
                             + (f" to {adj:,}" if round(d2, 2) else ""))
                short = have < adj
        if _crosses(lo, hi, e) and _crosses(lo, hi, 1 / e):
            return "very_serious", "; ".join(parts) + f": the CI includes both {_fmt(min(e, 1 / e))} and {_fmt(max(e, 1 / e))}"
        if short:
            rating = "serious"
            why.append("the OIS is not met")
        elif short is None:
            rating = None
    else:
        parts.append("no effect stated for the optimal information size (imprecision.effect)")
        rating = None
    if _crosses(lo, hi, g.threshold):
        rating = "serious"
        why.insert(0, f"the CI includes {_fmt(g.threshold)}")
    if rating is None:
        return None, "; ".join(parts) + ": without the optimal information size the rule cannot say 'not serious'"
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
    eg = egger_test(result.studies["yi"].to_numpy(float), result.studies["vi"].to_numpy(float), method=spec.rma_method,
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
    starting level and why, every domain, the downgrades with their reasons, and the declared
    sensitivity analyses that reach another conclusion (``changes``)."""

    level: str
    start: str
    start_reason: str
    domains: list[Domain]
    changes: list = field(default_factory=list)  # livemeta.analysis.caveats.ConclusionChange
    random_effects: object | None = None  # the AnalysisResult the rules read (random_effects_model)

    @property
    def downgrades(self) -> list[Domain]:
        return [d for d in self.domains if d.rating in ("serious", "very_serious")]

    @property
    def not_assessed(self) -> list[Domain]:
        return [d for d in self.domains if d.rating is None]


def _robustness_note(result, changes) -> str | None:
    """What the imprecision rating must be read with: declared sensitivity analyses that reach
    another conclusion (with their estimates) and the flagged inputs the analysis pools."""
    from .caveats import changes_sentence, flag_summary

    parts = []
    if changes:
        parts.append(changes_sentence(changes))
    flags = flag_summary(result.input_flags, limit=5)
    if flags:
        parts.append("the main analysis pools a flagged input: " + "; ".join(flags))
    return ". ".join(p[0].upper() + p[1:] for p in parts) or None


def certainty(result, g: OutcomeGrade, rob_overall: dict[str, str | None] | None = None, results=None,
              control_risk: float | None = None) -> Certainty:
    """The certainty of ``result`` (an :class:`~livemeta.analysis.AnalysisResult`) under ``g``.

    ``results`` (analysis id -> result, the analyses in force) gives the random-effects model the
    rules read (:func:`random_effects_model`) and the declared sensitivity analyses;
    ``control_risk`` the control group's risk for the optimal information size of an odds or risk
    ratio in patients."""
    from .caveats import sensitivity_changes

    randomised = result.spec.measure != "proportion"
    start = "high" if randomised else "low"
    start_reason = "randomised trials" if randomised else "non-randomised (single-arm) evidence"
    re = random_effects_model(result, results, g.random_effects)
    proposals = {
        "inconsistency": propose_inconsistency(result, re, g.threshold),
        "imprecision": propose_imprecision(result, g, re, control_risk),
        "publication_bias": propose_publication_bias(result),
    }
    if g.random_effects is not None and re is None:
        why = f"the GRADE file names random_effects: {g.random_effects}, which is not a random-effects analysis in force"
        proposals["inconsistency"] = (None, why)
        proposals["imprecision"] = (None, why)
    changes = sensitivity_changes(result, (results or {}).values())
    notes = {"imprecision": _robustness_note(result, changes)}
    domains = []
    for name in DOMAINS:
        reviewed = g.judgements.get(name)
        prop, prop_reason = proposals.get(name, (None, None))
        if name == "risk_of_bias" and rob_overall is not None:
            prop_reason = f"the trials' overall risk of bias by weight: {rob_summary(result, rob_overall)}"
        note = notes.get(name)
        if reviewed is not None:
            by = f" ({reviewed.by}{', ' + reviewed.date if reviewed.date else ''})" if reviewed.by else ""
            domains.append(Domain(name, "reviewed", reviewed.rating, reviewed.reason + by, prop, prop_reason, note))
        elif prop is not None:
            domains.append(Domain(name, "proposed", prop, prop_reason, note=note))
        else:
            why = prop_reason or "a reviewer's judgement, not in the GRADE file"
            if name in ("risk_of_bias", "indirectness"):
                why = "not assessed: a reviewer's judgement, not yet in the GRADE file" + (f"; {prop_reason}" if prop_reason else "")
            domains.append(Domain(name, "not assessed", None, why, note=note))
    if result.overall is None or result.k == 0 or any(d.rating is None for d in domains):
        return Certainty("not rated", start, start_reason, domains, changes, re)
    level = LEVELS.index(start) - sum(RATINGS[d.rating] for d in domains)
    return Certainty(LEVELS[max(level, 0)], start, start_reason, domains, changes, re)


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
    return m, f"the median of the control arms' {what}s ({count(len(vals), 'trial')}): {m:.3g}{unit}"


def absolute_effect(result, g: OutcomeGrade, control_values: list[float], endpoint: str | None = None
                    ) -> AbsoluteEffect | None:
    """Absolute effects of a ratio at the outcome's baseline.

    Hazard ratio: the control arm's survival is exponential with the baseline median m (or a
    stated landmark survival S), S_c(t) = 2^(-t/m); under proportional hazards the intervention's is
    S_c(t)^HR. Events by the landmark t per 1,000: 1000 (1 - S). The median under the same
    assumption is m / HR. Odds ratio: p_e = OR p_c / (1 - p_c + OR p_c) (always within 0..1); risk
    ratio: p_e = min(1, RR p_c), with p_c the control risk: a risk ratio whose product with the
    control risk exceeds 1 is bounded at 1,000 per 1,000 and the basis says so (absolute effects
    stay risks, as GRADEpro shows them). None without a baseline (or for a proportion).
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
        f = lambda r: 1000 * min(1.0, r * pc)  # noqa: E731  (a risk is at most 1)
        if max(est, lo, hi) * pc > 1:
            basis += (f"; the risk ratio times the control risk exceeds 1 (up to {1000 * max(est, lo, hi) * pc:,.0f} per "
                      "1,000): bounded at 1,000 per 1,000, a risk ratio this large cannot hold at this baseline")
    who = {"orr": "responders", "dcr": "patients with disease control"}.get(endpoint or "", "patients with the event")
    return AbsoluteEffect(1000 * pc, f(est), f(lo), f(hi), f"{who} per 1,000", basis)


def _nat(x: float, scale: str) -> float:
    return float(np.exp(x)) if scale == "log" else float(1 / (1 + np.exp(-x)))


def _fmt(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"
