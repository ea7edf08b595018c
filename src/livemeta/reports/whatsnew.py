"""'What's new in this version': the trials added, corrected, given a new data cut or removed, and the
analyses whose conclusion changed, from ``livemeta diff`` (which flags only changes a reader can
see at the printed precision)."""

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
