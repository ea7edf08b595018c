"""Characteristics of the studies: one table per design (RCTs, single-arm trials), each row citing
the trial's references.

What a reader of a review needs and no curation note: phase, n per arm, regimens with the PD-(L)1
agent, partner class, control, the resistance definitions (category, criterion, threshold and the
definition verbatim), the outcomes available, status and inclusion (an exclusion with its reason,
the first sentence of it). The notes, sources' remarks and inclusion reasons of included trials
stay in the database (``livemeta query``).
"""

from __future__ import annotations

import re

import pandas as pd

from .doc import Doc, cell, num
from .references import References

INCLUSION_ORDER = {"included": 0, "candidate": 1, "after_review": 2, "excluded": 3}
INCLUSION_WORDS = {
    "included": "included",
    "candidate": "awaiting classification",
    "after_review": "after the search (living update)",
    "excluded": "excluded",
}
DESIGN_WORDS = {"rct": "Randomised controlled trials", "single_arm": "Single-arm trials"}
_CLASS_WORDS = {"multitarget_tki": "multitarget TKI", "dual_checkpoint": "dual checkpoint", "adc": "ADC",
                "investigational_io": "investigational IO", "none": "PD-(L)1 alone"}
_CONTROL_WORDS = {"docetaxel_ramucirumab": "docetaxel + ramucirumab", "investigator_choice": "investigator's choice",
                  "placebo_docetaxel": "placebo + docetaxel"}
_CRITERIA = {"prior_io_duration": "prior PD-(L)1 exposure", "best_response": "best response",
             "time_to_progression": "time to progression", "treatment_free_interval": "treatment-free interval",
             "eligibility": "eligibility"}
_ENDPOINTS = {"os": "OS", "pfs": "PFS", "orr": "ORR", "dcr": "DCR"}


def class_word(value) -> str:
    """A treatment class as the report names it ('none' is PD-(L)1 alone)."""
    if value is None or value != value:
        return ""
    return _CLASS_WORDS.get(str(value), str(value).replace("_", " "))


def first_sentence(text) -> str:
    """The first sentence of a reason (what the reader needs; the rest is a curator's note)."""
    if not isinstance(text, str) or not text.strip():
        return ""
    m = re.match(r"(.+?[.;])(\s|$)", text.strip())
    return (m.group(1) if m else text.strip()).rstrip(";.") + "."


def trial_order(trials: pd.DataFrame) -> list[str]:
    """Trials by design (RCTs first), inclusion (included first), first publication, name."""
    if trials.empty:
        return []
    t = trials.assign(_d=(trials["design"] != "rct").astype(int), _i=trials["inclusion"].map(INCLUSION_ORDER).fillna(9))
    t = t.sort_values(["_d", "_i", "first_publication_date", "name"], na_position="last", kind="stable")
    return list(t["trial_id"])


def _n(v) -> str:
    return "" if num(v) is None else f"{int(num(v))}"


def _definitions(defs: pd.DataFrame) -> str:
    out = []
    for d in defs.to_dict("records"):
        crit = _CRITERIA.get(d["criterion_kind"], d["criterion_kind"])
        thr = ""
        if num(d.get("threshold")) is not None:
            thr = f" ≥ {d['threshold']:g} {d.get('threshold_unit') or ''}".rstrip()
        scope = {"trial": "eligibility", "subgroup": "subgroup", "cohort": "cohort",
                 "stratification": "stratification"}[d["scope"]]
        how = f"{scope}; {crit}{thr}" if d["criterion_kind"] != "eligibility" else scope
        out.append(f"{d['category']} ({how}): “{d['definition']}”")
    return "; ".join(out)


def _outcomes(outcomes: pd.DataFrame, aes: pd.DataFrame) -> str:
    parts = []
    for ep in ("os", "pfs", "orr", "dcr"):
        rows = outcomes[outcomes["endpoint"] == ep]
        if rows.empty:
            continue
        what = []
        if (rows["estimate"].notna() & rows["measure"].isin(["HR", "OR", "RR"])).any():
            what.append(", ".join(sorted(set(rows.loc[rows["estimate"].notna(), "measure"]) - {"proportion"})))
        if rows["experimental_events"].notna().any():
            what.append("n/N")
        if rows["experimental_median"].notna().any():
            what.append("median")
        subs = int((rows["population"] != "overall").sum())
        text = _ENDPOINTS[ep] + (f" ({'; '.join(w for w in what if w)})" if any(what) else "")
        parts.append(text + (f" + {subs} subgroup{'s' if subs != 1 else ''}" if subs else ""))
    if len(aes):
        parts.append("adverse events")
    return ", ".join(parts) or "none recorded"


def _regimen(arm: dict) -> str:
    """The regimen as printed, with its PD-(L)1 agent when the regimen does not name it."""
    agent = arm.get("pd1_agent")
    if not isinstance(agent, str) or not agent.strip() or agent.lower() in str(arm["regimen"]).lower():
        return str(arm["regimen"])
    return f"{arm['regimen']} (PD-(L)1: {agent})"


def _inclusion(t: dict) -> str:
    word = INCLUSION_WORDS.get(t["inclusion"], t["inclusion"])
    if t["inclusion"] == "excluded":
        reason = first_sentence(t.get("inclusion_reason"))
        return f"{word}: {reason}" if reason else word
    return word


def characteristics_rows(design: str, inputs, refs: References) -> list[list]:
    """The rows of one design's table (cells of text or Html)."""
    trials = inputs.view("trials")
    arms, defs = inputs.view("arms"), inputs.view("resistance_definitions")
    outcomes, aes = inputs.view("outcomes"), inputs.view("adverse_events")
    order = [t for t in trial_order(trials) if t in set(trials.loc[trials["design"] == design, "trial_id"])]
    by_id = {r["trial_id"]: r for r in trials.to_dict("records")}
    rows = []
    for tid in order:
        t = by_id[tid]
        a = arms[arms["trial_id"] == tid]
        exp = a[a["role"].isin(["experimental", "single"])]
        ctl = a[a["role"] == "control"]
        ns = [_n(v) for v in list(exp["n_randomised"]) + list(ctl["n_randomised"])]
        n = " / ".join(x or "?" for x in ns) if any(ns) else ""
        if not any(ns) and num(t.get("randomised_n")) is not None:
            n = _n(t["randomised_n"]) + (" (per arm not reported)" if len(a) > 1 else "")
        regimens = "; ".join(_regimen(r) for r in exp.to_dict("records"))
        classes = ", ".join(dict.fromkeys(class_word(c) for c in exp["treatment_class"]))
        row = [refs.cite(t["name"], tid), cell(t.get("phase")), n, regimens, classes]
        if design == "rct":
            row.append("; ".join(f"{r['regimen']}" for r in ctl.to_dict("records")))
        row += [_definitions(defs[defs["trial_id"] == tid]),
                _outcomes(outcomes[outcomes["trial_id"] == tid], aes[aes["trial_id"] == tid]),
                str(t["status"]).replace("_", " "), _inclusion(t)]
        rows.append(row)
    return rows


def write_characteristics(doc: Doc, inputs, refs: References, caption: str) -> None:
    """One table per design, included trials first."""
    for design in ("rct", "single_arm"):
        rows = characteristics_rows(design, inputs, refs)
        if not rows:
            continue
        doc.heading(3, DESIGN_WORDS[design])
        n_col = "Randomised (per arm)" if design == "rct" else "Enrolled (per arm or cohort)"
        header = ["Trial", "Phase", n_col, "Experimental arm(s)" if design == "rct" else "Arms / cohorts",
                  "Partner class"]
        if design == "rct":
            header.append("Control")
        header += ["Resistance definitions", "Outcomes available", "Status", "Inclusion"]
        doc.table(header, rows, caption)


__all__ = ["characteristics_rows", "class_word", "first_sentence", "trial_order", "write_characteristics"]
