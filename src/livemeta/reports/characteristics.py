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

from ..words import class_word, count
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
_CRITERIA = {"prior_io_duration": "prior PD-(L)1 exposure", "best_response": "best response",
             "time_to_progression": "time to progression", "treatment_free_interval": "treatment-free interval",
             "eligibility": "eligibility"}
_ENDPOINTS = {"os": "OS", "pfs": "PFS", "orr": "ORR", "dcr": "DCR"}


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


def _by_trial(frame: pd.DataFrame) -> dict[str, list[dict]]:
    """The frame's rows as records grouped by trial (plain Python: one pass, whatever the size)."""
    out: dict[str, list[dict]] = {}
    for r in frame.to_dict("records"):
        out.setdefault(r["trial_id"], []).append(r)
    return out


#: a threshold's direction as printed
COMPARATOR_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def threshold_text(d: dict) -> str:
    """' < 24 weeks' (with the leading space), in the direction the definition records; a threshold
    of a format-1 study file, written before directions were recorded, says so: ' threshold 24
    weeks (direction not recorded)'."""
    amount = f"{d['threshold']:g} {d.get('threshold_unit') or ''}".rstrip()
    comparator = d.get("threshold_comparator")
    if not isinstance(comparator, str) or comparator not in COMPARATOR_SIGNS:
        return f" threshold {amount} (direction not recorded)"
    return f" {COMPARATOR_SIGNS[comparator]} {amount}"


def _definitions(defs: list[dict]) -> str:
    out = []
    for d in defs:
        crit = _CRITERIA.get(d["criterion_kind"], d["criterion_kind"])
        thr = ""
        if num(d.get("threshold")) is not None:
            thr = threshold_text(d)
        scope = {"trial": "eligibility", "subgroup": "subgroup", "cohort": "cohort",
                 "stratification": "stratification"}[d["scope"]]
        how = f"{scope}; {crit}{thr}" if d["criterion_kind"] != "eligibility" else scope
        out.append(f"{d['category']} ({how}): “{d['definition']}”")
    return "; ".join(out)


def _outcomes(outcomes: list[dict], has_aes: bool) -> str:
    parts = []
    for ep in ("os", "pfs", "orr", "dcr"):
        rows = [o for o in outcomes if o["endpoint"] == ep]
        if not rows:
            continue
        measures = sorted({o["measure"] for o in rows if num(o.get("estimate")) is not None} - {"proportion"})
        what = [", ".join(measures)] if measures else []
        if any(num(o.get("experimental_events")) is not None for o in rows):
            what.append("n/N")
        if any(num(o.get("experimental_median")) is not None for o in rows):
            what.append("median")
        subs = sum(o["population"] != "overall" for o in rows)
        text = _ENDPOINTS[ep] + (f" ({'; '.join(what)})" if what else "")
        parts.append(text + (f" + {count(subs, 'subgroup')}" if subs else ""))
    if has_aes:
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
    arms, defs = _by_trial(inputs.view("arms")), _by_trial(inputs.view("resistance_definitions"))
    outcomes = _by_trial(inputs.view("outcomes"))
    with_aes = set(inputs.view("adverse_events")["trial_id"])
    of_design = set(trials.loc[trials["design"] == design, "trial_id"])
    by_id = {r["trial_id"]: r for r in trials.to_dict("records")}
    rows = []
    for tid in (t for t in trial_order(trials) if t in of_design):
        t = by_id[tid]
        a = arms.get(tid, [])
        exp = [r for r in a if r["role"] in ("experimental", "single")]
        ctl = [r for r in a if r["role"] == "control"]
        ns = [_n(r["n_randomised"]) for r in exp + ctl]
        n = " / ".join(x or "?" for x in ns) if any(ns) else ""
        if not any(ns) and num(t.get("randomised_n")) is not None:
            n = _n(t["randomised_n"]) + (" (per arm not reported)" if len(a) > 1 else "")
        classes = ", ".join(dict.fromkeys(class_word(r["treatment_class"]) for r in exp))
        row = [refs.cite(t["name"], tid), cell(t.get("phase")), n, "; ".join(_regimen(r) for r in exp), classes]
        if design == "rct":
            row.append("; ".join(str(r["regimen"]) for r in ctl))
        row += [_definitions(defs.get(tid, [])), _outcomes(outcomes.get(tid, []), tid in with_aes),
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


__all__ = ["COMPARATOR_SIGNS", "characteristics_rows", "first_sentence", "threshold_text", "trial_order",
           "write_characteristics"]
