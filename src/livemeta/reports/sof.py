"""The GRADE summary-of-findings table, as Cochrane and GRADEpro lay it out, and the table of each
domain's status with its reason (the rules and the judgements are in :mod:`livemeta.analysis.grade`).

Per outcome of the project's GRADE file: anticipated absolute effects where a baseline is given
(risk with control, risk with rechallenge and the difference per 1,000, and for a hazard ratio the
medians under exponential survival), the relative effect with its CI, participants and studies,
the certainty (high, moderate, low, very low, or not rated) and why.
"""

from __future__ import annotations

import html

import pandas as pd

from ..analysis.caveats import changes_sentence, flag_summary
from ..analysis.grade import DOMAIN_NAMES, DOMAINS, RULES, absolute_effect, baseline_value, certainty
from ..safe import md_code, md_text
from ..words import count
from .doc import Doc, Html, fmt_ci, nat, num

SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}
_RATING_WORDS = {"not_serious": "not serious", "serious": "serious (−1)", "very_serious": "very serious (−2)"}


def _outcome_rows(result, outcomes: pd.DataFrame) -> list[dict]:
    """The outcome row of each study of a hazard-ratio analysis (by outcome id)."""
    if "outcome_id" not in result.studies.columns or outcomes.empty:
        return []
    o = outcomes.set_index(["trial_id", "outcome_id"])
    out = []
    for t, oid in zip(result.studies["trial_id"], result.studies["outcome_id"]):
        if (t, oid) in o.index:
            out.append(o.loc[(t, oid)].to_dict() | {"trial_id": t})
    return out


def participants(result, inputs=None) -> tuple[int, list[str]]:
    """(participants known, the names of the trials whose number is unknown) of an analysis: the
    arms compared, read from the rows pooled (:func:`livemeta.analysis.studies.participants_total`,
    as ``pool --json``)."""
    from ..analysis.studies import participants_total

    return participants_total(result)


def control_values(result, inputs, kind: str) -> list[float]:
    """The control arms' medians (months) or risks (events / n) in an analysis."""
    st = result.studies
    if kind == "risk":
        if {"ci", "n2i"} <= set(st.columns):
            return [num(c) / num(n) for c, n in zip(st["ci"], st["n2i"]) if num(c) is not None and num(n)]
        return []
    return [num(o["control_median"]) for o in _outcome_rows(result, inputs.view("outcomes"))
            if num(o.get("control_median")) is not None and o.get("median_unit") in (None, "months")]


def _per1000(x: float) -> str:
    return f"{x:.0f}"


def _difference(d, lo, hi) -> str:
    def one(v):
        return f"{abs(v):.0f} {'fewer' if v < 0 else 'more'}"
    return f"{one(d)} per 1,000 ({one(lo)} to {one(hi)})"


def _control_risk(res, g, inputs) -> float | None:
    """The control group's risk of an odds- or risk-ratio outcome (its baseline), for the optimal
    information size in patients."""
    if g.baseline is None or g.baseline.kind != "risk" or res.spec.measure not in ("OR", "RR"):
        return None
    base = baseline_value(g, control_values(res, inputs, "risk"))
    return base[0] if base else None


def _rob_overall(inputs, endpoint: str | None) -> dict:
    rif = inputs.view("risk_of_bias_in_force")
    if endpoint is None or rif.empty:
        return {}
    rows = rif[rif["endpoint"] == endpoint]
    return dict(zip(rows["trial_id"], rows["overall_judgement"]))


def _endpoint(result) -> str | None:
    st = result.studies
    if "endpoint" in st.columns and len(st):
        return str(st["endpoint"].iloc[0])
    view = result.spec.view
    return "orr" if "orr" in view else "safety" if "_ae" in view else None


def _absolute_cells(res, g, inputs):
    """(risk with control, risk with rechallenge, the absolute effect or None) of one outcome."""
    kind = g.baseline.kind if g.baseline else "median"
    ae = absolute_effect(res, g, control_values(res, inputs, kind), _endpoint(res)) if res.k else None
    if ae is None:
        return ("no baseline given" if g.baseline is None else "baseline not available"), "", None
    ctl = f"{_per1000(ae.control)} per 1,000 ({ae.what.removesuffix(' per 1,000')})"
    inter = (f"{_per1000(ae.intervention)} per 1,000 ({_per1000(ae.intervention_low)} to "
             f"{_per1000(ae.intervention_high)}); {_difference(*ae.difference)}")
    if ae.median_intervention:
        m, lo, hi = ae.median_intervention
        ctl += f"; median {ae.median_control:.1f} months"
        inter += f"; median {m:.1f} months ({lo:.1f} to {hi:.1f})"
    return ctl, inter, ae


def _certainty_cell(c, g, notes: list[str]) -> Html:
    """The certainty, with a footnote letter (added to ``notes``) per downgrade or missing domain."""
    letters = []
    for d in c.domains:
        if d.rating in ("serious", "very_serious") or d.status == "not assessed" or d.note:
            letter = _letter(len(notes))
            notes.append(f"{letter}. {g.outcome}, {DOMAIN_NAMES[d.name].lower()}: {_domain_cell(d)}")
            letters.append(letter)
    level = c.level if c.level == "not rated" else f"{SYMBOLS[c.level]} {c.level}"
    return Html(f'<span class="cert">{html.escape(level)}</span>' + (f"<sup>{','.join(letters)}</sup>" if letters else ""),
                md_text(level + (f" ({', '.join(letters)})" if letters else "")))


def _letter(i: int) -> str:
    """Footnote letters a..z, then aa, ab, ..."""
    return chr(ord("a") + i) if i < 26 else _letter(i // 26 - 1) + chr(ord("a") + i % 26)


def _sof_row(res, g, c, inputs, notes: list[str]) -> list:
    spec, o = res.spec, res.overall
    rel = "—" if o is None else f"{spec.measure} " + fmt_ci(nat(o.estimate, spec.scale), nat(o.ci_low, spec.scale),
                                                          nat(o.ci_high, spec.scale))
    known, unknown = participants(res, inputs)
    word = "single-arm trial" if spec.measure == "proportion" else "RCT"
    n_text = f"{'≥ ' if unknown else ''}{known:,} ({count(len(res.trials), word)}" + (
        f"; n unknown for {', '.join(unknown)})" if unknown else ")")
    ctl, inter, ae = _absolute_cells(res, g, inputs)
    cert = _certainty_cell(c, g, notes)
    comment = g.comment or ""
    if c.level == "not rated":
        missing = ", ".join(DOMAIN_NAMES[d.name].lower() for d in c.not_assessed)
        comment = (comment + " " if comment else "") + (f"Not rated: {missing} not assessed." if missing
                                                         else "Not rated: no studies.")
    if c.changes:
        comment = (comment + " " if comment else "") + "Not robust: " + changes_sentence(c.changes) + "."
    flags = flag_summary(res.input_flags, limit=5)
    if flags:
        comment = (comment + " " if comment else "") + "Pools a flagged input: " + "; ".join(flags) + "."
    if ae is not None:
        comment = (comment + " " if comment else "") + f"Baseline: {ae.basis}."
    imp = f" ({g.importance})" if g.importance else ""
    return [Html(f"{html.escape(g.outcome)}{html.escape(imp)}<br><code>{html.escape(g.analysis)}</code>",
                 f"{md_text(g.outcome + imp)} ({md_code(g.analysis)})"), ctl, inter, rel, n_text, cert, comment]


def write_sof(doc: Doc, results: dict, inputs, caption: str) -> None:
    """The summary-of-findings table, then each domain's status and the reason behind it."""
    rows, domain_rows, notes = [], [], []
    for g in inputs.grade or []:
        res = results.get(g.analysis)
        if res is None:
            rows.append([g.outcome, "", "", f"analysis {g.analysis} is not in force", "", "not rated", ""])
            continue
        c = certainty(res, g, _rob_overall(inputs, _endpoint(res)), results, _control_risk(res, g, inputs))
        rows.append(_sof_row(res, g, c, inputs, notes))
        domain_rows.append([g.outcome] + [_domain_cell(d) for d in c.domains] + [f"{c.start} ({c.start_reason})"])
    doc.table(["Outcome", "Risk with control", "Risk with PD-(L)1 rechallenge (95% CI)", "Relative effect (95% CI)",
               "Participants (studies)", "Certainty of the evidence (GRADE)", "Comments"], rows, caption)
    if notes:
        doc.bullets(notes)
    doc.heading(3, "GRADE domains, outcome by outcome")
    doc.para("Each domain: its rating (a downgrade of one or two levels), whether a reviewer judged it in the "
             f"GRADE file ({inputs.grade_file}) or livemeta's rule proposed it, and why; 'not assessed' makes the "
             "outcome not rated.", "notes")
    doc.table(["Outcome"] + [DOMAIN_NAMES[d] for d in DOMAINS] + ["Starting level"], domain_rows, caption)
    doc.heading(3, "The rules of the computed domains")
    doc.bullets([f"{DOMAIN_NAMES[k]}: {v}" for k, v in RULES.items()])


def _domain_cell(d) -> str:
    if d.rating is None:
        text = d.reason if d.reason.startswith("not assessed") else f"not assessed: {d.reason}"
        return text + (f". Note: {d.note}." if d.note else "")
    text = f"{_RATING_WORDS[d.rating]}, {'proposed by the rule' if d.status == 'proposed' else d.status}: {d.reason}"
    if d.status == "reviewed" and d.proposal is not None:
        text += f" [rule proposed {_RATING_WORDS[d.proposal]}: {d.proposal_reason}]"
    elif d.status == "reviewed" and d.proposal_reason:
        text += f" [{d.proposal_reason}]"
    if d.note:
        text += f". Note: {d.note}."
    return text
