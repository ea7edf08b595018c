"""Analyses as data: the specifications in ``queries/analyses.yaml``."""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ..errors import LivemetaError
from ..paths import resource

MEASURES = ("HR", "OR", "RR", "proportion")
METHODS = ("FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS", "GLMM")
#: the methods of one intercept model on yi and vi (metafor rma); GLMM pools proportions by the
#: binomial-normal model (metafor rma.glmm(measure="PLO")) from the counts themselves
RMA_METHODS = METHODS[:-1]
TESTS = ("z", "knha")
ZERO_CELL_RULE = "add 1/2 to every cell of a 2x2 table with a zero cell (metafor escalc: add=1/2, to='only0', drop00=FALSE)"
#: how a proportion with no event (or only events) enters: on logits, or in the binomial likelihood
ZERO_CELL_RULE_PROPORTION = ("add 1/2 to the events and non-events of a proportion with none of either (metafor "
                             "escalc(measure='PLO'): add=1/2, to='only0'); study rows show exact Clopper-Pearson "
                             "intervals")
ZERO_CELL_RULE_GLMM = ("none: the binomial likelihood takes 0 of n as it is (no continuity correction); study rows "
                       "show exact Clopper-Pearson intervals")
SCALES = {"HR": "log", "OR": "log", "RR": "log", "proportion": "logit"}
#: how a CI whose level is disputed is read: at its printed level, at its alternative level, or
#: replaced by the variance derived from the printed p-value and HR
CI_LEVEL_CHOICES = ("printed", "alternative", "p_value")
#: how a trial with several cohorts (arms of a single-arm analysis) enters a pooled proportion once
#: (Cochrane Handbook 23.3.4, multi-arm studies): its cohorts combined (responders and patients
#: summed), or its largest cohort alone (most patients; the first in pooling order on a tie)
COHORT_RULES = ("combine", "largest")
#: the rule in words, printed beside an estimate that applied it, and in its note
COHORT_WORDS = {"combine": "combined per trial", "largest": "largest per trial"}
COHORT_NOTES = {"combine": "cohorts combined (responders and patients summed)",
                "largest": "the largest cohort kept (most patients)"}
#: the rules for looks past the required information of a sequential monitoring (those of
#: ``livemeta.pooling.sequential.OVERRUN_RULES``, named here so that reading an analyses file loads no
#: numerical library)
OVERRUN_RULES = ("alpha_preserving", "final_boundary")
#: the overall risk-of-bias judgements a "leave out high risk of bias" sensitivity analysis drops
#: (RoB 2 high; ROBINS-I serious or critical); trials not assessed stay in
HIGH_RISK_OF_BIAS = ["high", "serious", "critical"]

_KEYS = {
    "id", "title", "view", "measure", "method", "test", "level", "pi", "filters", "exclude", "ci_level",
    "subgroup", "subgroup_tau2", "sensitivity_of", "published", "moderators", "monitoring", "cohorts",
}
_MONITORING_KEYS = {"target", "justification", "alpha", "power", "sided", "heterogeneity", "estimator", "information",
                    "type_of_design", "futility", "overrun"}
_PUBLISHED_KEYS = {"estimate", "ci_low", "ci_high", "trials", "text"}


@dataclass(frozen=True)
class Published:
    """The review's figure for an analysis (None where the review did not report it)."""

    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    trials: int | None = None
    text: str | None = None


@dataclass(frozen=True)
class AnalysisSpec:
    id: str
    title: str
    view: str
    measure: str
    method: str = "REML"  # metafor's default; the bundled analyses file says FE in its defaults
    test: str = "z"
    level: float = 0.95
    pi: str = "default"
    filters: dict[str, Any] = field(default_factory=dict)
    exclude: dict[str, Any] = field(default_factory=dict)
    ci_level: str = "printed"
    subgroup: str | None = None
    subgroup_tau2: str = "separate"
    sensitivity_of: str | None = None
    published: Published | None = None
    moderators: tuple[str, ...] = ()
    monitoring: dict[str, Any] | None = None
    cohorts: str | None = None  # a proportion's unit of analysis, COHORT_RULES (None: not stated, combine)

    @property
    def cohort_rule(self) -> str:
        """How a trial with several cohorts enters a pooled proportion: ``cohorts`` as the analyses
        file states it, else livemeta's default, ``combine``."""
        return self.cohorts or "combine"

    @property
    def scale(self) -> str:
        return SCALES[self.measure]

    @property
    def rma_method(self) -> str:
        """The estimator of the inverse-variance diagnostics (Egger's test): the analysis's own, REML
        on the logits for a GLMM (the regression test needs yi and vi)."""
        return "REML" if self.method == "GLMM" else self.method

    @property
    def zero_cell_rule(self) -> str | None:
        if self.measure == "proportion":
            return ZERO_CELL_RULE_GLMM if self.method == "GLMM" else ZERO_CELL_RULE_PROPORTION
        return ZERO_CELL_RULE if self.measure in ("OR", "RR") else None

    def method_spec(self) -> str:
        """The full specification as JSON (stored beside every pooled number)."""
        d = asdict(self)
        d.pop("published")
        d.pop("title")
        for key in ("moderators", "monitoring"):  # unused, they leave the spec as it always was
            if not d[key]:
                d.pop(key)
        if self.measure != "proportion":  # one row per comparison already: no cohorts to combine
            d.pop("cohorts")
        if d.get("monitoring"):  # the target's justification is a reason, not a method
            d["monitoring"] = {k: v for k, v in d["monitoring"].items() if k != "justification"}
        d["scale"] = self.scale
        d["zero_cell_rule"] = self.zero_cell_rule
        return json.dumps(d, sort_keys=True)

    def variant(self, *, method: str | None = None, test: str | None = None, exclude_unverified: bool = False,
                reported_intervals_only: bool = False, exclude_high_rob: bool = False) -> AnalysisSpec:
        """A variant of this analysis with its own id, e.g. ``os[method=REML,test=knha]``.

        ``reported_intervals_only`` keeps the hazard ratios whose variance comes from a reported CI
        (view column ``derivation`` = ``ci``), leaving out those derived from p-values, O - E and V
        or log-rank statistics. ``exclude_high_rob`` leaves out the rows whose risk-of-bias
        judgement in force is high (view column ``rob_overall``: RoB 2 high, ROBINS-I serious or
        critical); rows not assessed stay.
        """
        tags, changes = [], {}
        if reported_intervals_only and self.measure == "HR" and self.filters.get("derivation") != "ci":
            tags.append("reported_intervals_only")
            changes["filters"] = {**self.filters, "derivation": "ci"}
        if method and method != self.method:
            tags.append(f"method={method}")
            changes["method"] = _choice(method, METHODS, "method")
            if method == "GLMM":
                changes["test"] = test or "z"
                _check_glmm(replace(self, **changes), f"{self.id} with --method {method}")
        if test and test != self.test:
            tags.append(f"test={test}")
            changes["test"] = _choice(test, TESTS, "test")
            _check_glmm(replace(self, **changes), f"{self.id} with --test {test}")
        if exclude_unverified and self.filters.get("verified") is not True:
            tags.append("verified_only")
            changes["filters"] = {**changes.get("filters", self.filters), "verified": True}
        if exclude_high_rob and self.exclude.get("rob_overall") != HIGH_RISK_OF_BIAS:
            tags.append("without_high_rob")
            changes["exclude"] = {**self.exclude, "rob_overall": HIGH_RISK_OF_BIAS}
        if not tags:
            return self
        return replace(self, id=f"{self.id}[{','.join(tags)}]", sensitivity_of=self.sensitivity_of or self.id, **changes)


def _choice(value: Any, allowed: tuple, what: str, where: str = "") -> Any:
    if value not in allowed:
        near = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
        hint = f"; did you mean {near[0]!r}?" if near else f"; choose one of: {', '.join(map(str, allowed))}"
        raise LivemetaError(f"{where}{what} {value!r} is not valid{hint}")
    return value


def _unknown(keys: set, allowed: set, where: str) -> None:
    for k in sorted(keys - allowed):
        near = difflib.get_close_matches(k, sorted(allowed), n=1)
        raise LivemetaError(f"{where}: unknown key {k!r}" + (f"; did you mean {near[0]!r}?" if near else ""))


@dataclass(frozen=True)
class Analyses:
    """An analyses file: its analyses and the named version its published figures belong to."""

    specs: list[AnalysisSpec]
    published_version: str | None = None


def spec_from_dict(raw: Any, defaults: dict | None = None, where: str = "analysis") -> AnalysisSpec:
    """One analysis from a mapping with the keys of an analyses file's entries (``defaults`` merged
    under it), checked: keys, vocabularies, the view. Used for the analyses file and for ad hoc
    analyses (``livemeta.open(...).analysis({...})``)."""
    if not isinstance(raw, dict) or "id" not in raw:
        raise LivemetaError(f"{where}: an analysis needs an id")
    _unknown(set(raw), _KEYS, where)
    merged = {**(defaults or {}), **raw}
    published = merged.pop("published", None)
    if published is not None:
        _unknown(set(published), _PUBLISHED_KEYS, f"{where}.published")
        published = Published(**published)
    try:
        mods = merged.pop("moderators", None) or []
        if isinstance(mods, str) or not all(isinstance(m, str) and m for m in mods):
            raise LivemetaError(f"{where}: moderators is a list of view column names, got {mods!r}")
        monitoring = merged.pop("monitoring", None)
        if monitoring is not None:
            if not isinstance(monitoring, dict) or "target" not in monitoring:
                raise LivemetaError(f"{where}.monitoring: a mapping with at least target (the ratio, e.g. 0.80)")
            _unknown(set(monitoring), _MONITORING_KEYS, f"{where}.monitoring")
            target = monitoring["target"]
            if not isinstance(target, (int, float)) or isinstance(target, bool) or not target > 0 or target == 1:
                raise LivemetaError(f"{where}.monitoring.target must be a ratio > 0 other than 1, got {target!r}")
            _check_monitoring(monitoring, f"{where}.monitoring")
        spec = AnalysisSpec(**{k: v for k, v in merged.items()}, published=published, moderators=tuple(mods),
                            monitoring=monitoring)
    except TypeError as exc:
        raise LivemetaError(f"{where}: {exc}") from None
    _choice(spec.measure, MEASURES, "measure", f"{where}: ")
    _choice(spec.method, METHODS, "method", f"{where}: ")
    _choice(spec.test, TESTS, "test", f"{where}: ")
    _choice(spec.ci_level, CI_LEVEL_CHOICES, "ci_level", f"{where}: ")
    _choice(spec.subgroup_tau2, ("separate", "common"), "subgroup_tau2", f"{where}: ")
    if spec.cohorts is not None:
        _choice(spec.cohorts, COHORT_RULES, "cohorts", f"{where}: ")
    if "cohorts" in raw and spec.measure != "proportion":
        raise LivemetaError(f"{where}: cohorts is the unit of analysis of a pooled proportion (single-arm cohorts); "
                            f"a {spec.measure} analysis pools one comparison per trial already")
    _choice(spec.pi, ("default", "t(k-2)"), "pi", f"{where}: ")
    _check_glmm(spec, where)
    if not isinstance(spec.level, (int, float)) or not 0 < spec.level < 1:
        raise LivemetaError(f"{where}: level {spec.level!r} is the CI level as a fraction (0.95), between 0 and 1")
    view_names = _view_names()
    if spec.view not in view_names:
        _choice(spec.view, tuple(sorted(view_names)), "view", f"{where}: ")
    return spec


def _check_glmm(spec: AnalysisSpec, where: str) -> None:
    """GLMM pools one set of proportions from their counts: no 2x2 or HR measure, no Hartung-Knapp
    test, no subgroups, moderators or monitoring (refused with what is possible)."""
    if spec.method != "GLMM":
        return
    if spec.measure != "proportion":
        raise LivemetaError(f"{where}: method GLMM pools proportions (measure: proportion), not {spec.measure}",
                            hint="for ratios choose an rma estimator: " + ", ".join(RMA_METHODS))
    for key, bad in (("test", spec.test != "z"), ("subgroup", spec.subgroup), ("moderators", spec.moderators),
                     ("monitoring", spec.monitoring), ("pi", spec.pi != "default")):
        if bad:
            raise LivemetaError(f"{where}: method GLMM takes no {key} (a Wald z test and metafor's prediction "
                                "interval; one pool of the proportions, no subgroups, moderators or monitoring)")


def _check_monitoring(block: dict, where: str) -> None:
    """The keys of a ``monitoring:`` block beyond the target: its justification (text), the
    estimator of the random-effects model (a tau2 estimator, or FE with heterogeneity none: one
    model for the adjustment and the z-curve) and the over-run rule."""
    just = block.get("justification")
    if just is not None and not (isinstance(just, str) and just.strip()):
        raise LivemetaError(f"{where}.justification: the reason for the target, as text")
    _choice(block.get("estimator", "DL"), METHODS, "estimator", f"{where}: ")
    _choice(block.get("overrun", "alpha_preserving"), OVERRUN_RULES, "overrun", f"{where}: ")
    het = block.get("heterogeneity", "D2")
    if het not in ("D2", "I2", "none") and not (isinstance(het, (int, float)) and not isinstance(het, bool)
                                                 and 0 <= het < 1):
        raise LivemetaError(f"{where}.heterogeneity {het!r} is not valid; choose D2, I2, none or a number in [0, 1)")
    if block.get("estimator") == "FE" and het != "none":
        raise LivemetaError(f"{where}: estimator FE goes with heterogeneity none: a heterogeneity adjustment "
                            f"({het}) assumes a random-effects model, which the z-curve then follows")


def _view_names() -> set[str]:
    return {p.stem for p in resource("queries", "views").glob("*.sql")}


#: PyYAML's safe loader, libyaml's where PyYAML has it (the same documents, ~8x faster)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_analyses(text: str, name: str = "analyses.yaml") -> Analyses:
    """Read and check an analyses file's text: keys, vocabularies, views, unique ids."""
    try:
        doc = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise LivemetaError(f"{name}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise LivemetaError(f"{name}: an analyses file is a mapping (defaults, analyses, published_version)")
    _unknown(set(doc), {"defaults", "analyses", "published_version"}, name)
    defaults = dict(doc.get("defaults") or {})
    specs = [spec_from_dict(raw, defaults, f"{name}: analyses[{i}]") for i, raw in enumerate(doc.get("analyses") or [])]
    ids = [s.id for s in specs]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise LivemetaError(f"{name}: duplicate analysis ids: {', '.join(sorted(dupes))}")
    for s in specs:
        if s.sensitivity_of and s.sensitivity_of not in ids:
            raise LivemetaError(f"{name}: {s.id}: sensitivity_of {s.sensitivity_of!r} is not an analysis id")
    version = doc.get("published_version")
    if version is not None and not isinstance(version, str):
        raise LivemetaError(f"{name}: published_version: the name of a version (text)")
    return Analyses(specs, version)


def default_analyses_path() -> Path:
    """The analyses livemeta ships (a new project starts from a copy)."""
    return resource("queries", "analyses.yaml")


def load_specs(path: Path | str | None = None) -> list[AnalysisSpec]:
    """The analyses of an analyses file (default: the ones livemeta ships)."""
    path = Path(path) if path else default_analyses_path()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LivemetaError(f"{path}: cannot read the analyses file: {exc}") from None
    return parse_analyses(text, path.name).specs


def select_specs(specs: list[AnalysisSpec], ids: list[str] | tuple[str, ...] | None) -> list[AnalysisSpec]:
    """The named analyses, in the order given (all when none are named)."""
    if not ids:  # every analysis, each sensitivity analysis right after the one it varies
        children: dict[str, list[AnalysisSpec]] = {}
        for s in specs:
            if s.sensitivity_of:
                children.setdefault(s.sensitivity_of, []).append(s)
        ordered: list[AnalysisSpec] = []
        for s in specs:
            if not s.sensitivity_of:
                ordered += [s, *children.get(s.id, [])]
        return ordered
    by_id = {s.id: s for s in specs}
    out = []
    for i in ids:
        if i not in by_id:
            near = difflib.get_close_matches(i, list(by_id), n=1)
            raise LivemetaError(
                f"no analysis {i!r}" + (f"; did you mean {near[0]!r}?" if near else ""),
                hint="`livemeta pool --list` shows the analyses of queries/analyses.yaml",
            )
        out.append(by_id[i])
    return out
