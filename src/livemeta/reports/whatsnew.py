"""'What's new in this version': the revisions it covers (what kind of change each is, with the
review's note on it), the trials added, corrected, given a new data cut or removed, the analyses
added or changed, and the analyses whose conclusion the evidence changed, from ``livemeta diff``
(which flags only changes a reader can see at the printed precision, and only those the evidence
caused)."""

from __future__ import annotations

import html

from ..living.diff import CONCLUSION_FLAGS, printed
from ..safe import md_text
from .doc import Doc, Html
from .references import References

_KIND = {"added": "added", "corrected": "corrected", "new data cut": "new data cut", "removed": "removed"}


def _est(d, measure: str) -> str:
    if not d or d.get("estimate") is None:
        return "no estimate"
    est, lo, hi = (printed(d, k, measure) for k in ("estimate", "ci_low", "ci_high"))
    return f"{est}% ({lo}–{hi})" if measure == "proportion" else f"{measure} {est} ({lo}–{hi})"


def shown(old, new, measure: str) -> tuple[str, str]:
    """Two estimates as a reader compares them: the estimate and CI, and k, I² and the prediction
    interval where they differ at the printed precision."""
    parts_old, parts_new = [_est(old, measure)], [_est(new, measure)]
    if old and new:
        if old.get("k") != new.get("k"):
            parts_old.append(f"k {old.get('k')}")
            parts_new.append(f"k {new.get('k')}")
        for key, label, unit in (("i2", "I²", "%"), ("tau2", "τ²", "")):
            a, b = printed(old, key, measure), printed(new, key, measure)
            if a != b:
                parts_old.append(f"{label} {a or '—'}{unit if a else ''}")
                parts_new.append(f"{label} {b or '—'}{unit if b else ''}")
        pi = [tuple(printed(d, k, measure) for k in ("pi_low", "pi_high")) for d in (old, new)]
        if pi[0] != pi[1]:
            parts_old.append(f"PI {pi[0][0]}–{pi[0][1]}" if pi[0][0] else "no PI")
            parts_new.append(f"PI {pi[1][0]}–{pi[1][1]}" if pi[1][0] else "no PI")
    return ", ".join(parts_old), ", ".join(parts_new)


def _conclusion(flag: str) -> bool:
    return flag in CONCLUSION_FLAGS or flag.startswith("subgroup difference")


def write_whats_new(doc: Doc, d, label: str, refs: References | None, titles: dict[str, str]) -> None:
    """The section body for the diff ``d`` (None: nothing earlier to compare with)."""
    if d is None:
        doc.para(f"This is {label}.")
        return
    doc.para(f"Changes {label} (revision {d.from_revision} to revision {d.to_revision}), as livemeta diff "
             f"{d.from_revision} {d.to_revision} lists them field by field.", "notes")
    if d.revisions:
        doc.para(f"Revisions ({len(d.revisions)}), each with what kind of change it is and the review's note:")
        doc.bullets([r.line() for r in d.revisions])
    if d.evidence_unchanged:
        doc.para("The evidence did not change: only the analyses did, so no estimate moved and no conclusion "
                 "changed because of new evidence.")
    if d.trials:
        items = []
        for t in d.trials:
            name = refs.cite(t.name, t.trial_id) if refs is not None and t.kind != "removed" else Html.text(t.name)
            detail = ""
            if t.kind in ("corrected", "new data cut"):
                n = len(t.changes) + len(t.rows_added) + len(t.rows_removed)
                detail = f": {n} value{'s' if n != 1 else ''} or rows changed"
            what = f": {_KIND.get(t.kind, t.kind)}{detail}"
            items.append(Html(f"{name.html}{html.escape(what)}", f"{name.md}{md_text(what)}"))
        doc.para(f"Trials ({len(d.trials)}):")
        doc.bullets(items)
    else:
        doc.para("No trial was added, corrected or removed.")
    specs = [a for a in d.analyses if a.change]
    if specs:
        doc.para("Analyses added, changed or removed (what they pool or how; their estimates are not evidence "
                 "moving):")
        doc.bullets([f"{titles.get(a.analysis, a.analysis)} ({a.analysis}): {a.change}"
                     + (f"; now {_est(a.new, a.measure)}" if a.new and a.change != "removed" else "") for a in specs])
    items, moved, sequential = [], [], []
    for a in d.analyses:
        before = a.evidence_before if a.change else a.old
        old, new = shown(before, a.new, a.measure)
        name = f"{titles.get(a.analysis, a.analysis)} ({a.analysis})" + (" as it is analysed now" if a.change else "")
        if any(_conclusion(f) for f in a.flags):
            items.append(f"{name}: {old} → {new}; {', '.join(a.flags)}")
        elif a.flags and old != new:
            moved.append(f"{name}: {old} → {new}; {', '.join(a.flags)}")
        else:  # a boundary crossed with the same printed numbers (e.g. more information, same estimate)
            sequential += [f"{name}: {f}" for f in a.flags if f.startswith("sequential")]
    if items:
        doc.para("Analyses whose conclusion the evidence changed:")
        doc.bullets(items)
    else:
        doc.para("No analysis changed its conclusion because of the evidence (direction, statistical significance, "
                 "estimability, or the test for subgroup differences).")
    if moved:
        doc.para("Other estimates that the evidence moved at the printed precision:")
        doc.bullets(moved)
    if sequential:
        doc.para("Sequential monitoring (secondary):")
        doc.bullets(sequential)


def write_robustness(doc: Doc, results: list) -> None:
    """Where the estimates stand on a judgement (whatever changed in this version): the main
    analyses whose conclusion a declared sensitivity analysis changes, with its estimate, and the
    inputs flagged as implausible that they pool (livemeta.analysis.caveats)."""
    from ..analysis.caveats import capped, changes_sentence, flag_summary, sensitivity_changes

    rows = []
    for r in results:
        if r.spec.sensitivity_of:
            continue
        changes = sensitivity_changes(r, results)
        if changes:
            rows.append(f"{r.spec.title} ({r.spec.id}): {changes_sentence(changes)}")
    if rows:
        doc.para("Conclusions that a declared sensitivity analysis changes (the CI crosses 1 in one and not the other):")
        doc.bullets(rows)
    flagged: dict[str, list[str]] = {}
    for r in results:
        for f in flag_summary(r.input_flags):
            flagged.setdefault(f, []).append(r.spec.id)
    if flagged:
        doc.para("Inputs flagged as implausible, pooled as the analyses read them:")
        doc.bullets(capped([f"{f}: used by {', '.join(ids)}" for f, ids in flagged.items()], 25, "flagged studies"))
