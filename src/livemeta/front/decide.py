"""Screening commands: decide, resolve, import, init, commit, export (the ``livemeta screen`` group).

Decisions are appended to the reviewer's file ``screening/decisions/REVIEWER.csv``; with ``-m`` the
file is committed and the commit replayed as a revision at once, without it the decision waits in
the working tree until ``livemeta screen commit -m`` (a reviewer's session becomes one revision).
Every change is checked as the replay of its commit will check it, before anything is written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..errors import LivemetaError, Problem, ValidationFailed, excerpt
from ..project import Project
from ..screening.files import (
    DECISIONS,
    NOT_RETRIEVED,
    PROTOCOL_FILE,
    ROLES,
    STAGES,
    Decision,
    decisions_text,
    parse_decisions,
    protocol_text,
    reviewer_file,
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _choice(value: str, allowed, option: str) -> str:
    if value not in allowed:
        raise ValidationFailed([Problem(option, "", f"{excerpt(str(value))}: one of {', '.join(allowed)}")])
    return value


def _append(proj: Project, reviewer: str, decisions: list[Decision]) -> tuple[str, bytes]:
    """The reviewer's decisions file with ``decisions`` appended (its working copy, else new)."""
    rel = f"{proj.rel(proj.screening)}/{reviewer_file(reviewer)}"
    path = proj.root / rel
    old = path.read_bytes() if path.is_file() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    text = decisions_text([d for d in decisions if d.reviewer == reviewer], header=not old)
    return rel, old + text.encode("utf-8")


def record_decisions(proj: Project, db: Path, decisions: list[Decision], *, message: str | None,
                     author: str | None = None, wait: float = 10.0, check=None):
    """Append ``decisions`` to their reviewers' files, checked; commit with ``message``.
    ``check(con)`` runs first, inside the database lock (e.g. that a conflict exists)."""
    from .workflow import change_front, check_front

    def prepare(con, history):
        if check is not None:
            check(con)
        changes = dict(_append(proj, r, decisions) for r in sorted({d.reviewer for d in decisions}))
        check_front(con, proj, history, changes)
        return changes, {"decisions": decisions}

    return change_front(proj, db, prepare=prepare, message=message, author=author, wait=wait)


def make_decisions(record_ids: list[str], *, stage: str, decision: str, reviewer: str, reason: str | None = None,
                   trial_id: str | None = None, seconds: float | None = None, note: str | None = None,
                   role: str = "independent", at: dt.datetime | None = None, source: str = "livemeta") -> list[Decision]:
    """Decisions from command-line values (checked again when the file is checked)."""
    if not record_ids:
        raise LivemetaError("no record given", hint="livemeta screen decide RECORD... --stage ta --decision include --reviewer NAME")
    _choice(stage, STAGES, "--stage")
    _choice(decision, DECISIONS, "--decision")
    _choice(role, ROLES, "--role")
    if not (reviewer or "").strip():
        raise ValidationFailed([Problem("--reviewer", "", "required: who decides")])
    when = at or _now()
    return [Decision(r.strip(), stage, decision, (reason or "").strip() or None, reviewer.strip(), when, role, seconds,
                     (trial_id or "").strip() or None, (note or "").strip() or None, source)
            for r in dict.fromkeys(record_ids)]


def decide(proj: Project, db: Path, record_ids: list[str], *, message: str | None = None, author: str | None = None,
           wait: float = 10.0, **values):
    """``livemeta screen decide``: one decision per record (see :func:`make_decisions`)."""
    return record_decisions(proj, db, make_decisions(record_ids, **values), message=message, author=author, wait=wait)


def resolve(proj: Project, db: Path, record_id: str, *, stage: str, decision: str, reviewer: str, reason=None,
            trial_id=None, note=None, message: str | None = None, author: str | None = None, wait: float = 10.0):
    """``livemeta screen resolve``: the consensus decision that settles a conflict at ``stage``."""
    from ..sql import named

    decisions = make_decisions([record_id], stage=stage, decision=decision, reviewer=reviewer, reason=reason,
                               trial_id=trial_id, note=note, role="consensus")

    def check(con):
        rows = con.execute(named("screening_conflict_of"), [record_id, stage]).fetchall()
        if not rows:
            raise LivemetaError(f"no conflict on {record_id} at the {stage} stage",
                                hint="`livemeta query \"select * from screening_conflicts\"` lists them; a "
                                     "consensus decision without a conflict is `screen decide --role consensus`")
        if reviewer.strip() in rows[0][0]:
            raise LivemetaError(f"{reviewer} is one of the reviewers in conflict on {record_id}",
                                hint="a third person resolves a conflict (or give the consensus as 'A; B')")

    return record_decisions(proj, db, decisions, message=message, author=author, wait=wait, check=check)


def init(proj: Project, db: Path, *, reviewers: int, message: str | None, author: str | None = None,
         wait: float = 10.0):
    """``livemeta screen init``: write ``screening/protocol.yaml`` (independent reviewers per stage and
    a list of exclusion reasons to edit) and commit it with ``message``."""
    from .workflow import change_front, check_front

    rel = f"{proj.rel(proj.screening)}/{PROTOCOL_FILE}"
    if (proj.root / rel).exists():
        raise LivemetaError(f"{rel} exists already", hint="edit it, then `livemeta screen commit -m ...`")
    if not 1 <= reviewers <= 5:
        raise ValidationFailed([Problem("--reviewers", "", "from 1 to 5")])

    def prepare(con, history):
        changes = {rel: protocol_text(reviewers).encode("utf-8")}
        check_front(con, proj, history, changes)
        return changes, {}

    return change_front(proj, db, prepare=prepare, message=message, author=author, wait=wait)


def commit(proj: Project, db: Path, *, message: str, author: str | None = None, wait: float = 10.0):
    """``livemeta screen commit``: commit every search and screening file changed in the working
    tree (decisions made without ``-m``, an edited protocol), checked first, as one revision."""
    from .workflow import change_front, check_front, working_front

    def prepare_all(con, history):
        changes = working_front(proj, history)
        if not changes:
            raise LivemetaError("nothing to commit: the searches and the screening are as committed")
        check_front(con, proj, history, changes)
        return changes, {"files": sorted(changes)}

    return change_front(proj, db, prepare=prepare_all, message=message, author=author, wait=wait)


# ---------------------------------------------------------------------------------------------
# Imports from other tools
# ---------------------------------------------------------------------------------------------


def _candidates(con):
    from ..sql import named
    from ..screening.imports import Candidate

    return [Candidate(*r) for r in con.execute(named("screening_candidates")).fetchall()]


def import_decisions(proj: Project, db: Path, file: Path | str, *, tool: str, stage: str = "ta",
                     reviewer: str | None = None, decision: str | None = None, role: str | None = None,
                     encoding: str | None = None, message: str | None = None, author: str | None = None,
                     wait: float = 10.0):
    """``livemeta screen import``: the decisions of an ASReview, Rayyan or Covidence export, matched
    to the project's records (see :mod:`livemeta.screening.imports`), appended to the reviewers'
    files; all rows or none."""
    from ..search.formats import decode, detect
    from ..screening import imports

    _choice(tool, imports.TOOLS, "--from")
    _choice(stage, STAGES, "--stage")
    path = Path(file)
    name = path.name
    if not path.is_file():
        raise ValidationFailed([Problem(str(file), "", "no such file")])
    raw = path.read_bytes()
    if len(raw) > 512 * 2**20:
        raise ValidationFailed([Problem(name, "", "larger than 512 MB")])
    text = decode(raw, name, encoding)
    fmt = detect(text, name)
    if fmt not in ("ris", "csv"):
        raise ValidationFailed([Problem(name, "", f"read as {fmt}: a {tool} export is RIS or CSV")])
    if tool == "asreview":
        rows = imports.read_asreview(text, name, fmt, (reviewer or "").strip() or None)
        default_role = "independent"
    elif tool == "rayyan":
        rows = imports.read_rayyan(text, name, fmt)
        default_role = "independent"
    else:
        if decision is None or not (reviewer or "").strip():
            raise LivemetaError("a Covidence export is one list: say its --decision (include, exclude, maybe) and "
                                "the --reviewer to record it under (e.g. \"Covidence consensus\")")
        _choice(decision, DECISIONS, "--decision")
        rows = imports.read_covidence(text, name, fmt, decision, reviewer.strip())
        default_role = "consensus"
    role = _choice(role or default_role, ROLES, "--role")
    missing = [r.where for r in rows for who, *_ in r.decisions if not who]
    if missing:
        raise LivemetaError(f"{name}: the export does not say who decided ({missing[0]})", hint="pass --reviewer NAME")
    now = _now()
    source = f"{tool}:{name}"[:200]

    def build(con):
        matched = imports.match_rows([r for r in rows if r.decisions], _candidates(con), name)
        out = []
        for rid, row in zip(matched, [r for r in rows if r.decisions]):
            for who, what, reason, when in row.decisions:
                note = None if when else f"time of the import ({tool} exports no decision time)"
                if stage == "ft" and what == "exclude" and reason:
                    reason = _reason_id(reason)
                out.append(Decision(rid, stage, what, reason, who, when or now, role, None, None, note, source))
        if not out:
            raise LivemetaError(f"{name}: no decision in it (only records not screened)")
        return out

    from .workflow import change_front, check_front

    def prepare(con, history):
        decisions = build(con)
        changes = dict(_append(proj, r, decisions) for r in sorted({d.reviewer for d in decisions}))
        check_front(con, proj, history, changes)
        return changes, {"decisions": decisions}

    return change_front(proj, db, prepare=prepare, message=message, author=author, wait=wait)


def _safe_cell(text: str) -> str:
    """A cell a spreadsheet will not run: text starting with =, +, -, @, tab or CR gets a leading
    apostrophe (OWASP's rule for CSV injection). The livemeta_id column, which imports match on,
    never starts so."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _reason_id(text: str) -> str:
    """An exclusion reason written as text (``Wrong population``) as a protocol id (``wrong_population``)."""
    import re

    first = text.split(",")[0]
    return re.sub(r"[^a-z0-9]+", "_", first.lower()).strip("_") or text


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def export_records(db: Path, *, stage: str = "ta", fmt: str = "csv", pending_only: bool = True, as_of=None,
                   wait: float = 10.0) -> str:
    """The records to screen at ``stage`` (not duplicates; at ``ft`` those passed to full text),
    for a screening tool: CSV with a ``livemeta_id`` column, or RIS with it as ``ID``."""
    import csv
    import io

    from ..db import connect
    from ..db import as_of as reading
    from ..sql import named

    _choice(stage, STAGES, "--stage")
    _choice(fmt, ("csv", "ris"), "--format")
    with connect(db, read_only=True, wait=wait) as con, reading(con, as_of):
        rows = con.execute(named("screening_export"), [stage, pending_only]).fetchall()
    cols = ["livemeta_id", "title", "abstract", "authors", "year", "journal", "doi", "pmid", "keywords"]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([_safe_cell("; ".join(v) if isinstance(v, list) else ("" if v is None else str(v))) for v in r])
        return buf.getvalue()
    import rispy

    entries = []
    for rid, title, abstract, authors, year, journal, doi, pmid, keywords in rows:
        e = {"type_of_reference": "JOUR", "id": rid}
        for k, v in (("title", title), ("abstract", abstract), ("year", str(year) if year else None),
                     ("journal_name", journal), ("doi", doi)):
            if v:
                e[k] = v
        if authors:
            e["authors"] = list(authors)
        if keywords:
            e["keywords"] = list(keywords)
        if pmid:
            e["accession_number"] = pmid
        entries.append(e)
    return rispy.dumps(entries)


__all__ = ["NOT_RETRIEVED", "commit", "decide", "export_records", "import_decisions", "init", "make_decisions",
           "parse_decisions", "record_decisions", "resolve"]
