"""What a reader must know beside an estimate: inputs it pools that are implausible, models fitted on
too few studies, and declared sensitivity analyses that reach another conclusion.

Each is read from an :class:`~livemeta.analysis.run.AnalysisResult` (its rows and model), so that
every output (``pool``, ``pool --json``, the pooled table, the summary of findings, GRADE, what's
new, monitoring) shows the same words from the same rows:

* :func:`input_flags`: a hazard ratio whose variance, as the analysis reads it, implies more events
  than patients randomised (``4 / vi > n``), or whose CI implies a P value the printed one is not,
  beyond rounding (:func:`livemeta.pooling.plausibility.hr_findings`). A flag warns; it never
  removes a study.
* :func:`caveats`: a random-effects model on fewer than 5 studies (tau² is poorly estimated and the
  Hartung-Knapp t interval on k - 1 df very wide, or a z interval too narrow: Röver, Knapp &
  Friede 2015; Bender et al. 2018), a meta-regression with fewer than 10 studies per moderator
  (Cochrane Handbook 10.11.5.1).
* :func:`sensitivity_changes`: the declared sensitivity analyses (``sensitivity_of``) whose CI leads
  to another conclusion than the main analysis's (the CI excludes the null in one and not the
  other, or they lie on opposite sides).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: below this many studies a random-effects model gets a caveat (Röver 2015; Bender 2018)
RE_MIN_K = 5
#: studies per moderator a meta-regression should have (Cochrane Handbook 10.11.5.1)
METAREG_PER_MODERATOR = 10


@dataclass(frozen=True)
class InputFlag:
    """One implausible input of an analysis: the study row, what kind (``events`` or ``p_value``)
    and why, in words."""

    trial_id: str
    label: str
    kind: str
    reason: str

    @property
    def text(self) -> str:
        return f"{self.label}: {self.reason}"

    @property
    def short(self) -> str:
        what = {"events": "variance implies more events than patients randomised",
                "p_value": "CI's implied P disagrees with the printed P"}[self.kind]
        return f"{self.label} ({what})"

    def to_dict(self) -> dict:
        return {"trial_id": self.trial_id, "label": self.label, "kind": self.kind, "reason": self.reason}


def input_flags(result) -> list[InputFlag]:
    """The implausible hazard ratios among the rows ``result`` pools, as it reads them (the CI at
    its printed or alternative level, or the variance from the printed P)."""
    from ..pooling.plausibility import check_many, finding_texts

    st = result.studies
    if result.spec.measure != "HR" or result.k == 0 or "estimate" not in st.columns:
        return []

    def col(name):
        return pd.to_numeric(st[name], errors="coerce").to_numpy(float) if name in st.columns else np.full(len(st), np.nan)

    level = col("ci_level")
    if result.spec.ci_level == "alternative":
        alt = col("ci_level_alternative")
        level = np.where(np.isfinite(alt), alt, level)
    sided = st["p_sided"].tolist() if "p_sided" in st.columns else [None] * len(st)
    derivation = st["derivation"].tolist() if "derivation" in st.columns else ["ci"] * len(st)
    hr, lo, hi, p, n = col("estimate"), col("ci_low"), col("ci_high"), col("p_value"), col("n_randomised")
    found = check_many(hr=hr, ci_low=lo, ci_high=hi, level=level / 100, p_value=p, p_sided=sided, n=n,
                       vi=col("vi"), derivation=derivation)
    out = []
    labels = (st["trial"] if "trial" in st.columns else st["label"]).astype(str).tolist()
    for i in np.flatnonzero(found["events_flag"] | found["p_flag"]):
        for kind, reason in finding_texts(int(i), found, hr=hr[i], ci_low=lo[i], ci_high=hi[i], level=level[i] / 100,
                                          p_value=p[i], p_sided=sided[i] if isinstance(sided[i], str) else None,
                                          n=n[i], derivation=str(derivation[i])):
            out.append(InputFlag(str(st["trial_id"].iloc[i]), labels[i], kind, reason))
    return out


@dataclass(frozen=True)
class Caveat:
    """A caveat of few studies: a few words for a table cell, and the sentence with its source."""

    short: str
    text: str

    def __str__(self) -> str:
        return self.text


def caveats(result) -> list[Caveat]:
    """The caveats of few studies for ``result``'s model, meta-regression and subgroups."""
    spec, o, k = result.spec, result.overall, result.k
    out = []
    if o is not None and spec.method != "FE" and 1 < k < RE_MIN_K:
        if o.test == "knha":
            crit = _t_crit(k - 1, spec.level)
            how = f"the Hartung-Knapp interval uses t on {k - 1} df ({crit:.2f} instead of 1.96) and is very wide"
        else:
            how = "a z interval ignores the uncertainty in tau² and is too narrow"
        out.append(Caveat(f"random effects on k = {k} < {RE_MIN_K}",
                          f"random effects on k = {k} < {RE_MIN_K} studies: tau² is poorly estimated and {how} "
                          "(Röver, Knapp & Friede 2015; Bender et al. 2018)"))
    reg = result.metareg
    if reg is not None:
        p = len(reg.names) - (1 if reg.intercept else 0)
        if p and reg.k < METAREG_PER_MODERATOR * p:
            out.append(Caveat(f"meta-regression: {reg.k} studies for {p} moderator column{'s' if p != 1 else ''}",
                              f"meta-regression on {reg.k} studies for {p} moderator column{'s' if p != 1 else ''} "
                              f"(fewer than {METAREG_PER_MODERATOR} per moderator): exploratory, with little power and a "
                              "high risk of spurious findings (Cochrane Handbook 10.11.5.1)"))
    sg = result.subgroups
    if sg is not None and spec.method != "FE":
        few = [str(g) for g in sg.groups if 1 < sg.subgroups[g].k < RE_MIN_K]
        if few:
            out.append(Caveat(f"random-effects subgroups with k < {RE_MIN_K}",
                              f"random-effects subgroups on fewer than {RE_MIN_K} studies ({', '.join(few)}): their "
                              "tau² and intervals are unreliable (Bender et al. 2018)"))
    return out


def _t_crit(df: int, level: float) -> float:
    from scipy import special

    return float(-special.stdtrit(df, (1 - level) / 2))


# ---------------------------------------------------------------------------- conclusions
def conclusion(result, null: float = 0.0) -> str | None:
    """Where the CI lies against the null on the analysis scale: 'below', 'above' or 'includes';
    None without an estimate or for a proportion."""
    o = result.overall
    if o is None or result.spec.measure == "proportion" or not all(map(math.isfinite, (o.ci_low, o.ci_high))):
        return None
    if o.ci_high < null:
        return "below"
    if o.ci_low > null:
        return "above"
    return "includes"


def estimate_text(result) -> str:
    """'HR 0.91 (0.83–1.01)', '12.5% (9.0–17.1)' for a proportion, 'no estimate' without one."""
    from ..pooling import back_transform

    o = result.overall
    if o is None:
        return "no estimate"
    est, lo, hi = (float(back_transform(v, scale=result.spec.scale)) for v in (o.estimate, o.ci_low, o.ci_high))
    if result.spec.measure == "proportion":
        return f"{100 * est:.1f}% ({100 * lo:.1f}–{100 * hi:.1f})"
    return f"{result.spec.measure} {est:.2f} ({lo:.2f}–{hi:.2f})"


@dataclass(frozen=True)
class ConclusionChange:
    """A declared sensitivity analysis that reaches another conclusion than its main analysis."""

    analysis: str
    title: str
    estimate: str  # 'HR 0.91 (0.83–1.01)'
    main: str  # the main analysis's estimate
    main_conclusion: str
    conclusion: str

    @property
    def text(self) -> str:
        """'OS, random effects (REML, HKSJ) [os_re]: HR 0.90 (0.80–1.01)'"""
        return f"{self.title} [{self.analysis}]: {self.estimate}"


_CI_WORDS = {"below": "excludes 1", "above": "excludes 1", "includes": "includes 1"}


def changes_sentence(changes: list[ConclusionChange]) -> str | None:
    """One sentence for the declared sensitivity analyses that reach another conclusion, with their
    estimates: 'The main analysis's CI, HR 0.90 (0.82–0.99), excludes 1; in 2 declared sensitivity
    analyses it includes 1: A [a]: HR 0.91 (0.83–1.01); B [b]: ...'."""
    if not changes:
        return None
    first = changes[0]
    n = len(changes)
    groups: dict[str, list[ConclusionChange]] = {}
    for c in changes:
        groups.setdefault(_CI_WORDS[c.conclusion] if c.conclusion == "includes" else
                          f"excludes 1 on the {'other' if c.conclusion != first.main_conclusion else 'same'} side", []).append(c)
    body = "; ".join(f"{words}: {'; '.join(c.text for c in cs)}" for words, cs in groups.items())
    return (f"the main analysis's CI, {first.main}, {_CI_WORDS[first.main_conclusion]}; in {n} declared sensitivity "
            f"analys{'es' if n != 1 else 'is'} it {body}")


def flag_summary(flags: list[InputFlag], limit: int | None = None) -> list[str]:
    """One line per flagged study: 'Lung-MAP S1800A (variance implies more events than patients
    randomised; CI's implied P disagrees with the printed P)'; beyond ``limit`` studies, a last line
    'and N more flagged studies'."""
    by: dict[str, list[str]] = {}
    for f in flags:
        by.setdefault(f.label, []).append(f.short.removeprefix(f"{f.label} (").removesuffix(")"))
    lines = [f"{label} ({'; '.join(dict.fromkeys(kinds))})" for label, kinds in by.items()]
    return capped(lines, limit, "flagged studies")


def capped(lines: list[str], limit: int | None, what: str) -> list[str]:
    """``lines``, or its first ``limit`` and 'and N more <what>'."""
    if limit is None or len(lines) <= limit:
        return lines
    return lines[:limit] + [f"and {len(lines) - limit:,} more {what}"]


def sensitivity_changes(main, results: Iterable) -> list[ConclusionChange]:
    """The declared sensitivity analyses of ``main`` among ``results`` whose conclusion differs."""
    base = conclusion(main)
    if base is None:
        return []
    out = []
    for r in results:
        if r.spec.sensitivity_of != main.spec.id or r.spec.id == main.spec.id:
            continue
        c = conclusion(r)
        if c is not None and c != base:
            out.append(ConclusionChange(r.spec.id, r.spec.title, estimate_text(r), estimate_text(main), base, c))
    return out
