"""``livemeta import ctgov --compare``: what a record adds to, or changes in, a trial in the database.

The draft made from the record is turned into table rows exactly as ``livemeta ingest`` would
(:func:`livemeta.ingest.frames.build_batch`) and set against the current rows of the trial with the
record's NCT id, field by field. Rows are matched by their id, else by what they describe: an arm
by its regimen, an outcome by endpoint, measure, population and arm pair, an adverse event by arm,
term, kind, grade band and relatedness. Only what the record says is compared: a field the draft
leaves empty (the registry does not give it), the provenance fields (source, location, raw text,
note, verified) and the draft's own judgements (inclusion, the trial id) are not changes. Nothing
is written: the result is a proposed supersede for a person to apply to the trial's study file.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LivemetaError
from ..words import count

_PROVENANCE = {"source_id", "location", "raw_text", "note", "verified", "first_publication_date", "first_publication_precision"}
_ARM_REFS = {"arm_id", "experimental_arm_id", "control_arm_id"}


@dataclass(frozen=True)
class Comparison:
    """A record against the stored trial: field changes, rows the record adds, rows it lacks."""

    nct_id: str
    trial_id: str
    revision: int
    record: str  # e.g. "ctgov-2021-01-15 (API v2 record, last updated 2021-01-15)"
    changes: list = field(default_factory=list)  # livemeta.living.diff.FieldChange
    added: list[str] = field(default_factory=list)
    unchanged: int = 0
    db_only: list[str] = field(default_factory=list)

    def summary(self) -> str:
        out = [f"{self.nct_id} is trial {self.trial_id!r} in the database (current version from revision {self.revision}).",
               f"The record {self.record} against the stored rows, field by field:"]
        if not self.changes and not self.added:
            out.append("  no change: the record adds nothing and changes nothing the database holds.")
        if self.changes:
            out.append(f"changes ({len(self.changes)}):")
            for c in self.changes:
                out.append(f"  {c.table} {c.key} {c.field}: {_show(c.old)} -> {_show(c.new)}   [{c.source}]")
        if self.added:
            out.append(f"adds ({len(self.added)}):")
            out += [f"  {a}" for a in self.added]
        out.append(f"unchanged: {count(self.unchanged, 'row')}")
        if self.db_only:
            out.append(f"only in the database ({len(self.db_only)}; the record does not give them, a supersede must keep them): "
                       + ", ".join(self.db_only[:20]) + (f", ... ({len(self.db_only) - 20} more)" if len(self.db_only) > 20 else ""))
        out.append("Nothing was written. To apply: edit the trial's study file, then `livemeta ingest FILE --supersede -m MESSAGE`.")
        return "\n".join(out)


def _show(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return repr(v) if isinstance(v, str) else str(v)


def _key_of(table: str, row: dict, arm_map: dict[str, str]) -> tuple | None:
    """What a row describes, with the draft's arm ids mapped to the stored ones."""
    arm = lambda a: arm_map.get(a, a)  # noqa: E731
    if table == "arms":
        return (" ".join(str(row.get("regimen") or "").casefold().split()),)
    if table == "outcomes":
        return (row.get("endpoint"), row.get("measure"), row.get("population"), row.get("subgroup"),
                row.get("definition_id"), arm(row.get("experimental_arm_id")), arm(row.get("control_arm_id")))
    if table == "adverse_events":
        return (arm(row.get("arm_id")), row.get("term"), row.get("kind"), row.get("grade_band"), row.get("treatment_related"))
    return None


def _draft_path(draft, table: str, ident: str, col: str) -> str:
    """The draft's record path of a field (``trial.status``, ``arms[1].n_safety``)."""
    if table == "trials":
        return f"trial.{col}"
    for i, row in enumerate(draft.data.get(table) or []):
        if row.get("id") == ident:
            return f"{table}[{i}].{col}"
    return ""


def compare_draft(con, draft) -> Comparison:
    """Compare a :class:`~livemeta.importers.ctgov.Draft` with the database (read only)."""
    from ..db import schema_version
    from ..ingest._common import StudyFile
    from ..ingest.checks import _norm, sql
    from ..ingest.frames import ID_COLUMN, TABLES, build_batch
    from .diff import FieldChange
    from ..importers.ctgov import NOT_FROM_RECORD

    current = {}
    if schema_version(con) > 0:
        current = {nct: (tid, rev) for tid, nct, rev in con.execute(sql("current_trials")).fetchall() if nct}
    if draft.nct_id not in current:
        raise LivemetaError(
            f"{draft.nct_id} is not the NCT id of any trial in the database: nothing to compare with",
            hint="import it as a new draft (without --compare), fill it in and `livemeta ingest` it",
        )
    tid, rev = current[draft.nct_id]
    data = copy.deepcopy(draft.data)
    data["trial"]["id"] = tid
    batch = build_batch([StudyFile(Path(draft.nct_id), draft.nct_id, "", data)])

    changes, added, db_only = [], [], []
    unchanged = 0
    arm_map: dict[str, str] = {}
    for table in TABLES:
        frame = batch.db_frame(table)
        new_rows = [dict(zip(frame.columns, r)) for r in frame.itertuples(index=False, name=None)]
        cur = con.execute(sql("current_rows", table=table), {"trial_ids": [tid]})
        names = [d[0] for d in cur.description]
        old_rows = [dict(zip(names, r)) for r in cur.fetchall()]
        idcol = ID_COLUMN[table]
        old_by_id = {r[idcol]: r for r in old_rows}
        old_by_key: dict[tuple, list[dict]] = {}
        for r in old_rows:
            old_by_key.setdefault(_key_of(table, r, {}), []).append(r)
        seen = set()
        for new in new_rows:
            old = old_by_id.get(new[idcol])
            if old is None:
                candidates = [r for r in old_by_key.get(_key_of(table, new, arm_map), []) if r[idcol] not in seen]
                old = candidates[0] if len(candidates) == 1 and _key_of(table, new, arm_map) is not None else None
            label = new[idcol]
            if old is None:
                added.append(f"{table} {label}" + (f" ({new['location']})" if new.get("location") else ""))
                continue
            seen.add(old[idcol])
            if table == "arms":
                arm_map[new[idcol]] = old[idcol]
            key = old[idcol] if old[idcol] == label else f"{old[idcol]} (record: {label})"
            row_changed = False
            for col, value in new.items():
                if col in (idcol, "trial_id") or col in _PROVENANCE or (table, col) in NOT_FROM_RECORD:
                    continue
                nv = _norm(arm_map.get(value, value) if col in _ARM_REFS else value)
                if nv is None or nv == ():
                    continue  # the record does not say
                if nv != _norm(old.get(col)):
                    row_changed = True
                    where = new.get("location") or draft.locations.get(_draft_path(draft, table, label, col), "")
                    changes.append(FieldChange(table, key, col, old.get(col), value, f"{draft.source_id} {where}".rstrip()))
            unchanged += not row_changed
        for r in old_rows:
            if r[idcol] not in seen:
                db_only.append(f"{table} {r[idcol]}")
    return Comparison(
        nct_id=draft.nct_id, trial_id=tid, revision=rev,
        record=f"{draft.source_id} ({draft.layout} record, last updated {draft.last_update or 'unknown'})",
        changes=changes, added=added, unchanged=unchanged, db_only=db_only,
    )
