"""'What's new in this version': the trials added, corrected, given a new data cut or removed, and the
analyses whose conclusion changed, from ``livemeta diff`` (which flags only changes a reader can
see at the printed precision)."""

from __future__ import annotations

from ..living.diff import CONCLUSION_FLAGS, printed
from .doc import Doc, Html
from .references import References

_KIND = {"added": "added", "corrected": "corrected", "new data cut": "new data cut", "removed": "removed"}


def _est(d, measure: str) -> str:
    if not d or d.get("estimate") is None:
        return "no estimate"
    est, lo, hi = (printed(d, k, measure) for k in ("estimate", "ci_low", "ci_high"))
    return f"{est}% ({lo}–{hi})" if measure == "proportion" else f"{measure} {est} ({lo}–{hi})"


def write_whats_new(doc: Doc, d, label: str, refs: References | None, titles: dict[str, str]) -> None:
    """The section body for the diff ``d`` (None: nothing earlier to compare with)."""
    if d is None:
        doc.para(f"This is {label}.")
        return
    doc.para(f"Changes {label} (revision {d.from_revision} to revision {d.to_revision}), as livemeta diff "
             f"{d.from_revision} {d.to_revision} lists them field by field.", "notes")
    if d.trials:
        items = []
        for t in d.trials:
            name = refs.cite(t.name, t.trial_id) if refs is not None and t.kind != "removed" else Html(t.name, t.name)
            detail = ""
            if t.kind in ("corrected", "new data cut"):
                n = len(t.changes) + len(t.rows_added) + len(t.rows_removed)
                detail = f": {n} value{'s' if n != 1 else ''} or rows changed"
            items.append(Html(f"{name.html}: {_KIND.get(t.kind, t.kind)}{detail}",
                              f"{name.md}: {_KIND.get(t.kind, t.kind)}{detail}"))
        doc.para(f"Trials ({len(d.trials)}):")
        doc.bullets(items)
    else:
        doc.para("No trial was added, corrected or removed.")
    changed = [a for a in d.analyses if any(f in CONCLUSION_FLAGS or f.startswith("subgroup difference") for f in a.flags)]
    moved = [a for a in d.analyses if a.flags and a not in changed]
    if changed:
        doc.para("Analyses whose conclusion changed:")
        doc.bullets([f"{titles.get(a.analysis, a.analysis)} ({a.analysis}): {_est(a.old, a.measure)} → "
                     f"{_est(a.new, a.measure)}; {', '.join(a.flags)}" for a in changed])
    else:
        doc.para("No analysis changed its conclusion (direction, statistical significance, estimability, or the "
                 "test for subgroup differences).")
    if moved:
        doc.para("Other estimates that moved at the printed precision:")
        doc.bullets([f"{titles.get(a.analysis, a.analysis)} ({a.analysis}): {_est(a.old, a.measure)} → "
                     f"{_est(a.new, a.measure)}; {', '.join(a.flags)}" for a in moved])


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
