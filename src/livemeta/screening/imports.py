"""Screening decisions from other tools' exports: ASReview, Rayyan and Covidence.

Each export is read into rows (a record's identifiers and title, and the decisions it carries), then
every row is matched to a record of the project's searches: by ``livemeta_id`` when the export
kept that column (``livemeta screen export`` writes it; ASReview keeps it), else by DOI, PMID, and
the normalised title (with the year when both have one). A row that matches no record, or several
records that are not duplicates of one another, is a problem: all rows or none.

- **ASReview** (LAB's "Export" of a project): CSV/TSV/Excel-CSV with ``asreview_label`` (or
  ``included`` / ``label_included``: 1 relevant, 0 irrelevant, empty not seen), ``asreview_time`` and
  ``asreview_user_name`` when present; or RIS whose notes say ``ASReview_relevant`` /
  ``ASReview_irrelevant``. One reviewer's title/abstract decisions (``--reviewer`` unless the export
  names the user).
- **Rayyan** (RIS or CSV export): each reviewer's decision in the notes,
  ``RAYYAN-INCLUSION: {"Alice"=>"Included", "Bob"=>"Excluded"}``, with
  ``RAYYAN-EXCLUSION-REASONS: a,b``. Rayyan exports no times: the decisions get the time of the
  import (their note says so).
- **Covidence** (CSV export of one list, e.g. "Irrelevant" or "Included"): the team's final
  decisions, one for the whole file (``--decision``), recorded as consensus decisions; an
  ``Exclusion reason`` column, when there, gives each row's reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ..errors import Problem, ValidationFailed, excerpt
from ..search import ids
from ..search.dedup import normal_title
from ..search.records import Problems, year_of

TOOLS = ("asreview", "rayyan", "covidence")
_RAYYAN = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=>\s*"((?:[^"\\]|\\.)*)"')
_RAYYAN_DECISIONS = {"included": "include", "excluded": "exclude", "maybe": "maybe"}


@dataclass
class ImportRow:
    """One row of an export: where it is, what identifies its record, the decisions it carries."""

    where: str
    title: str | None = None
    year: int | None = None
    doi: str | None = None
    pmid: str | None = None
    livemeta_id: str | None = None
    decisions: list[tuple[str, str, str | None, dt.datetime | None]] = field(default_factory=list)  # reviewer, decision, reason, time


def _table(text: str, name: str):
    from ..search.formats import csv_rows

    header, rows, problems = csv_rows(text, name)
    if problems:
        raise ValidationFailed(problems)
    names = [re.sub(r"[\s_\-#]+", " ", ids.clean(h).lower()).strip() for h in header]

    def col(*aliases):
        return next((names.index(a) for a in aliases if a in names), None)

    return names, rows, col


def _cell(row: list[str], i: int | None) -> str | None:
    if i is None or i >= len(row):
        return None
    v = row[i].strip()
    return v or None


def _ris_rows(text: str, name: str) -> list[tuple[int, dict]]:
    import rispy
    from rispy.config import LIST_TYPE_TAGS, TAG_KEY_MAPPING

    from ..search.formats import _ris_scan

    starts, problems = _ris_scan(text, name)
    if problems:
        raise ValidationFailed(problems)
    mapping = {t: t for t in TAG_KEY_MAPPING}
    return list(zip(starts, rispy.loads(text, mapping=mapping, list_tags=[*LIST_TYPE_TAGS], enforce_list_tags=False)))


def _ris_first(rec: dict, *tags):
    from ..search.formats import _first

    return _first(rec, *tags)


def _ris_base(rec: dict, line: int) -> ImportRow:
    rid = _ris_first(rec, "ID")
    return ImportRow(f"record at line {line}", _ris_first(rec, "TI", "T1"), year_of(_ris_first(rec, "PY", "Y1", "DA")),
                     ids.doi(_ris_first(rec, "DO")), None, rid.strip() if _is_livemeta_id(rid) else None)


def _is_livemeta_id(v) -> bool:
    from .files import RECORD_ID

    return isinstance(v, str) and bool(RECORD_ID.match(v.strip()))


def read_asreview(text: str, name: str, fmt: str, reviewer: str | None) -> list[ImportRow]:
    """An ASReview export (CSV/TSV, or RIS with its label notes)."""
    from .files import parse_time

    out = []
    if fmt == "ris":
        for line, rec in _ris_rows(text, name):
            row = _ris_base(rec, line)
            notes = " ".join(rec.get("N1", []) if isinstance(rec.get("N1"), list) else [rec.get("N1") or ""])
            label = "include" if "ASReview_relevant" in notes else ("exclude" if "ASReview_irrelevant" in notes else None)
            m = re.search(r'asreview_time:\s*"?([0-9T:. -]+)"?', notes)
            if label:
                row.decisions.append((reviewer, label, None, parse_time(m.group(1)) if m else None))
            out.append(row)
        return out
    names, rows, col = _table(text, name)
    label_col = col("asreview label", "included", "label included", "label", "final included", "included label", "include")
    if label_col is None:
        raise ValidationFailed([Problem(name, "", "no asreview_label (or included / label_included) column: not an "
                                                  "ASReview export with labels")])
    time_col, user_col = col("asreview time"), col("asreview user name", "asreview user email")
    for line, r in rows:
        row = _csv_base(r, col, f"row at line {line}")
        v = _cell(r, label_col)
        label = {"1": "include", "1.0": "include", "0": "exclude", "0.0": "exclude"}.get(v or "")
        if v and label is None:
            raise ValidationFailed([Problem(name, f"row at line {line}", f"label {excerpt(v)}: 1, 0 or empty")])
        who = _cell(r, user_col) or reviewer
        if label:
            row.decisions.append((who, label, None, parse_time(_cell(r, time_col) or "")))
        out.append(row)
    return out


def _csv_base(r: list[str], col, where: str) -> ImportRow:
    title = _cell(r, col("title", "primary title"))
    return ImportRow(where, title, year_of(_cell(r, col("year", "publication year", "published year", "py"))),
                     ids.doi(_cell(r, col("doi"))), ids.pmid(_cell(r, col("pmid", "pubmed id"))),
                     _cell(r, col("livemeta id")))


def _rayyan_notes(notes: str, where: str, problems: Problems) -> list[tuple[str, str, str | None, None]]:
    out = []
    reasons = None
    m = re.search(r"RAYYAN-EXCLUSION-REASONS:\s*([^|]*)", notes)
    if m:
        reasons = ", ".join(x.strip() for x in m.group(1).split(",") if x.strip()) or None
    m = re.search(r"RAYYAN-INCLUSION:\s*\{([^}]*)\}", notes)
    if not m:
        return out
    for who, what in _RAYYAN.findall(m.group(1)):
        d = _RAYYAN_DECISIONS.get(what.strip().lower())
        if d is None:
            problems.add(where, f"Rayyan decision {excerpt(what)} of {excerpt(who)}: Included, Excluded or Maybe")
            continue
        out.append((who.strip(), d, reasons if d == "exclude" else None, None))
    return out


def read_rayyan(text: str, name: str, fmt: str) -> list[ImportRow]:
    """A Rayyan export (RIS or CSV): the decisions are in the notes."""
    problems = Problems(name)
    out = []
    if fmt == "ris":
        for line, rec in _ris_rows(text, name):
            row = _ris_base(rec, line)
            notes = rec.get("N1") or []
            row.decisions = _rayyan_notes(" ".join(notes if isinstance(notes, list) else [notes]), row.where, problems)
            out.append(row)
    else:
        names, rows, col = _table(text, name)
        notes_col = col("notes", "note")
        if notes_col is None:
            raise ValidationFailed([Problem(name, "", "no notes column: a Rayyan export keeps its decisions there")])
        for line, r in rows:
            row = _csv_base(r, col, f"row at line {line}")
            row.decisions = _rayyan_notes(_cell(r, notes_col) or "", row.where, problems)
            out.append(row)
    if problems:
        raise ValidationFailed(problems.closed())
    return out


def read_covidence(text: str, name: str, fmt: str, decision: str, reviewer: str) -> list[ImportRow]:
    """A Covidence CSV export of one list: ``decision`` for every row."""
    if fmt == "ris":
        out = []
        for line, rec in _ris_rows(text, name):
            row = _ris_base(rec, line)
            row.decisions.append((reviewer, decision, None, None))
            out.append(row)
        return out
    names, rows, col = _table(text, name)
    reason_col = col("exclusion reason", "reason for exclusion", "reason")
    out = []
    for line, r in rows:
        row = _csv_base(r, col, f"row at line {line}")
        row.decisions.append((reviewer, decision, _cell(r, reason_col), None))
        out.append(row)
    return out


@dataclass
class Candidate:
    record_id: str
    screened_as: str
    title: str
    year: int | None
    doi: str | None
    pmid: str | None


def match_rows(rows: list[ImportRow], records: list[Candidate], name: str) -> list[str]:
    """The record (its ``screened_as``) each row is about; a problem per row that matches none or
    several. Raises ValidationFailed."""
    by_id = {c.record_id: c for c in records}
    by_doi: dict[str, set[str]] = {}
    by_pmid: dict[str, set[str]] = {}
    by_title: dict[str, list[Candidate]] = {}
    for c in records:
        if c.doi:
            by_doi.setdefault(c.doi, set()).add(c.screened_as)
        if c.pmid:
            by_pmid.setdefault(c.pmid, set()).add(c.screened_as)
        if c.title:
            by_title.setdefault(normal_title(c.title), []).append(c)
    problems = Problems(name)
    out = []
    for row in rows:
        found: set[str] = set()
        how = ""
        if row.livemeta_id:
            c = by_id.get(row.livemeta_id)
            found, how = ({c.screened_as} if c else set()), f"livemeta_id {row.livemeta_id}"
        if not found and row.doi:
            found, how = by_doi.get(row.doi, set()), f"DOI {row.doi}"
        if not found and row.pmid:
            found, how = by_pmid.get(row.pmid, set()), f"PMID {row.pmid}"
        if not found and row.title:
            cands = by_title.get(normal_title(row.title), [])
            if row.year is not None:
                cands = [c for c in cands if c.year in (None, row.year)]
            found, how = {c.screened_as for c in cands}, "title"
        if len(found) == 1:
            out.append(next(iter(found)))
            continue
        label = excerpt(row.title or row.doi or row.pmid or "", 60)
        if not found:
            problems.add(row.where, f"{label}: no record of the searches has its "
                                    f"{'livemeta_id, DOI, PMID or title' if not how else how}")
        else:
            problems.add(row.where, f"{label}: matches {len(found)} records by {how} ({', '.join(sorted(found)[:4])})")
        out.append("")
    if problems:
        raise ValidationFailed(problems.closed())
    return out
