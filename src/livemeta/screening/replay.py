"""The search and screening part of a replayed commit (``livemeta build``, ``search add``, ``screen``).

A commit that changes the project's ``searches/`` or ``screening/`` folder is a revision like one
that changes a study file. :func:`plan_front` reads what it changed, as units: a search run folder
(``searches/RUN/``), ``searches/duplicates.yaml``, ``screening/protocol.yaml``, each
``screening/decisions/*.csv``; it checks each unit as a study file is checked and then against the
rest (a decision's record exists, a full-text exclusion's reason is on the protocol's list, a run
removed leaves no decision without its record). Any problem rejects the commit's search and
screening changes, all of them (:class:`FrontPlan.problems`; the study files of the commit are
judged on their own). :func:`write_front`, inside the revision's transaction, closes the rows that
changed or went away and adds the new ones, then de-duplicates again
(:func:`livemeta.search.dedup.dedup`) when the records, the overrides or the trials changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import posixpath
from dataclasses import dataclass, field

import duckdb

from ..errors import Problem, excerpt
from ..paths import resource
from ..project import Project
from ..search.dedup import DedupRecord, Link, Override, TrialIdentity
from ..search.overrides import OVERRIDES_FILE, parse_overrides
from ..search.runs import RECORDS_FILE, RUN_FILE, SearchRun, parse_run
from .files import DECISIONS_FOLDER, PROTOCOL_FILE, Decision, Protocol, parse_decisions, parse_protocol

#: each table's key among the rows in force
KEYS = {
    "searches": ("run_id",),
    "search_records": ("record_id",),
    "record_links": ("record_id", "target", "relation", "status"),
    "duplicate_overrides": ("action", "record_a", "record_b"),
    "screening_protocol": ("stage",),
    "exclusion_reasons": ("reason_id",),
    "screening_decisions": ("record_id", "stage", "reviewer", "decided_at", "role"),
}
_FRAME = "livemeta_front_frame"
_IGNORED = ("readme", ".")


def sql(name: str, **parts: str) -> str:
    """A statement of ``queries/screening/<name>.sql`` with its ``{...}`` parts filled in."""
    text = resource("queries", "screening", f"{name}.sql").read_text(encoding="utf-8")
    return text.format(**parts) if parts else text


def _ignored(name: str) -> bool:
    return name.lower().startswith(_IGNORED)


def _unit(project: Project, path: str) -> str:
    """The unit a search or screening path belongs to: its run folder, or the file itself."""
    S = project.rel(project.searches)
    if path.startswith(S + "/") and "/" in path[len(S) + 1:]:
        return f"{S}/{path[len(S) + 1:].split('/', 1)[0]}"
    return path


def front_unit(project: Project, path: str) -> str:
    """How a revision lists a changed file of the project: a search run's files as its folder
    (``searches/RUN/``), any other file as itself."""
    unit = _unit(project, path)
    return unit + "/" if unit != path else path


@dataclass
class FrontStep:
    """What :func:`plan_front` reads of a commit (a history step has both): the search and screening
    files it changed (project-relative path -> blob, None: deleted) and all of them after it."""

    front: dict[str, str | None]
    front_tree: dict[str, str]


def front_blobs(project: Project, step) -> list[str]:
    """The blobs :func:`plan_front` reads for ``step``: the run files, overrides, protocol and
    decisions of the units it changed (not the export copies: never re-read)."""
    if not step.front:
        return []
    units = {_unit(project, p) for p in step.front}
    return [b for p, b in step.front_tree.items()
            if _unit(project, p) in units and (posixpath.basename(p) in (RUN_FILE, RECORDS_FILE, OVERRIDES_FILE,
                                                                        PROTOCOL_FILE) or p.endswith(".csv"))]


@dataclass
class FrontPlan:
    """What a commit changes of the searches and the screening (nothing when it has problems)."""

    searches: str
    screening: str
    touched: bool = False
    problems: list[Problem] = field(default_factory=list)
    runs: dict[str, tuple[SearchRun | None, str, str]] = field(default_factory=dict)  # id -> (run, folder, sha)
    overrides: list[Override] | None = None  # None: unchanged
    protocol: Protocol | None = None
    protocol_changed: bool = False
    decisions: dict[str, list[Decision]] = field(default_factory=dict)  # changed file -> its decisions

    def owns(self, file: str) -> bool:
        """Whether a problem's file is one of the searches' or the screening's."""
        return file.startswith((self.searches + "/", self.screening + "/")) or file in (self.searches, self.screening)

    @property
    def changed(self) -> bool:
        return self.touched and not self.problems


def current_protocol(con: duckdb.DuckDBPyConnection) -> Protocol:
    """The protocol in force (the defaults when none was committed)."""
    stages = dict(con.execute(sql("rows_in_force", table="screening_protocol", where="")).fetchall())
    reasons = dict(con.execute(sql("rows_in_force", table="exclusion_reasons", where="")).fetchall())
    if not stages:
        return Protocol()
    return Protocol({"ta": stages.get("ta", 1), "ft": stages.get("ft", 1)}, reasons)


def plan_front(con: duckdb.DuckDBPyConnection, project: Project, step, blobs: dict[str, bytes]) -> FrontPlan:
    """Read and check the search and screening files a commit changed (see the module's docstring)."""
    S, C = project.rel(project.searches), project.rel(project.screening)
    plan = FrontPlan(S, C)
    if not step.front:
        return plan
    plan.touched = True
    tree = step.front_tree
    run_folders: set[str] = set()
    overrides_touched = protocol_touched = False
    decision_files: set[str] = set()
    problems = plan.problems
    for path in step.front:
        if path.startswith(S + "/"):
            rest = path[len(S) + 1:]
            if "/" in rest:
                run_folders.add(f"{S}/{rest.split('/', 1)[0]}")
            elif rest == OVERRIDES_FILE:
                overrides_touched = True
            elif not _ignored(rest):
                problems.append(Problem(path, "", f"not part of a search run: a run is a folder {S}/RUN/ "
                                                  "(made by `livemeta search add`)"))
        else:
            rest = path[len(C) + 1:]
            sub = rest[len(DECISIONS_FOLDER) + 1:] if rest.startswith(DECISIONS_FOLDER + "/") else None
            if rest == PROTOCOL_FILE:
                protocol_touched = True
            elif sub is not None and "/" not in sub and sub.endswith(".csv"):
                decision_files.add(path)
            elif not _ignored(posixpath.basename(rest)):
                problems.append(Problem(path, "", f"not a screening file ({C}/{PROTOCOL_FILE} or "
                                                  f"{C}/{DECISIONS_FOLDER}/REVIEWER.csv)"))
    for folder in sorted(run_folders):
        files = {p: (blobs[b] if posixpath.basename(p) in (RUN_FILE, RECORDS_FILE) and posixpath.dirname(p) == folder
                     else None) for p, b in tree.items() if p.startswith(folder + "/")}
        run_id = posixpath.basename(folder)
        if not files:
            plan.runs[run_id] = (None, folder, "")
            continue
        run, found, digest = _parse_run(folder, files)
        problems += found
        if run is not None:
            plan.runs[run_id] = (run, folder, digest)
    if overrides_touched:
        path = f"{S}/{OVERRIDES_FILE}"
        plan.overrides, found = parse_overrides(blobs[tree[path]], path) if path in tree else ([], [])
        problems += found
    if protocol_touched:
        path = f"{C}/{PROTOCOL_FILE}"
        plan.protocol, found = parse_protocol(blobs[tree[path]], path) if path in tree else (Protocol(), [])
        plan.protocol_changed = True
        problems += found
    else:
        plan.protocol = current_protocol(con)
    if plan.protocol is None:
        return _rejected(plan)
    for path in sorted(decision_files):
        decisions, found = parse_decisions(blobs[tree[path]], path, plan.protocol) if path in tree else ([], [])
        problems += found
        plan.decisions[path] = decisions
    if problems:
        return _rejected(plan)
    _cross_checks(con, plan)
    return _rejected(plan) if problems else plan


#: runs read in this process, by their folder, files and content (a run checked before it is
#: committed is not read again when its commit is replayed)
_RUNS: dict[tuple, tuple] = {}


def _parse_run(folder: str, files: dict[str, bytes | None]):
    """:func:`parse_run` with the SHA-256 of the run's two files; read once per process."""
    yaml_raw, jsonl_raw = files.get(f"{folder}/{RUN_FILE}"), files.get(f"{folder}/{RECORDS_FILE}")
    digest = hashlib.sha256((yaml_raw or b"") + b"\0" + (jsonl_raw or b"")).hexdigest()
    key = (folder, tuple(sorted(files)), digest)
    if key not in _RUNS:
        if len(_RUNS) >= 4:
            _RUNS.clear()
        run, problems = parse_run(folder, files)
        _RUNS[key] = (run, problems)
    run, problems = _RUNS[key]
    return run, list(problems), digest


def remember_run(folder: str, files: dict[str, bytes], run: SearchRun) -> None:
    """Record that ``files`` (the run folder's files as written) hold ``run``: the records read from
    its exports, which ``records.jsonl`` serialises (``livemeta search add``; the round trip is
    tested on every fixture), so that neither the check before the commit nor its replay in this
    process reads the file again. A clone that replays the commit reads and checks it."""
    yaml_raw, jsonl_raw = files[f"{folder}/{RUN_FILE}"], files[f"{folder}/{RECORDS_FILE}"]
    digest = hashlib.sha256(yaml_raw + b"\0" + jsonl_raw).hexdigest()
    if len(_RUNS) >= 4:
        _RUNS.clear()
    _RUNS[(folder, tuple(sorted(files)), digest)] = (run, [])


def _rejected(plan: FrontPlan) -> FrontPlan:
    plan.runs, plan.overrides, plan.decisions, plan.protocol_changed = {}, None, {}, False
    return plan


def _cross_checks(con: duckdb.DuckDBPyConnection, plan: FrontPlan) -> None:
    """Decisions and overrides name records that exist after the commit; a new protocol's list
    still holds the reasons of the full-text exclusions in force."""
    counts = {rid: n for rid, n, _ in con.execute(sql("runs_in_force")).fetchall()}
    shrunk = set()
    for run_id, (run, folder, _) in plan.runs.items():
        new = len(run.records) if run is not None else 0
        if new < counts.get(run_id, 0):
            shrunk.add(run_id)
        if run is None:
            counts.pop(run_id, None)
        else:
            counts[run_id] = new

    def exists(record_id: str) -> bool:
        run_id, _, n = record_id.rpartition("/")
        return run_id in counts and int(n) <= counts[run_id]

    for path, decisions in plan.decisions.items():
        for d in decisions:
            if not exists(d.record_id):
                plan.problems.append(Problem(path, f"rows[{d.line - 2}].record_id",
                                             f"no record {excerpt(d.record_id)} in the searches (line {d.line})"))
                if len(plan.problems) >= 20:
                    return
    recheck = shrunk or plan.protocol_changed
    if recheck:
        for d in _decisions_in_force(con):
            if d.file in plan.decisions:
                continue
            if d.record_id.rpartition("/")[0] in shrunk and not exists(d.record_id):
                plan.problems.append(Problem(d.file, "", f"its decision on {d.record_id} names a record the searches no "
                                                         "longer hold (a run was removed or shortened)"))
            elif plan.protocol_changed and d.stage == "ft" and d.decision == "exclude" and not plan.protocol.allows(d.reason):
                plan.problems.append(Problem(d.file, "", f"its full-text exclusion of {d.record_id} gives the reason "
                                                         f"{excerpt(d.reason or '')}, which the new protocol does not list"))
            if len(plan.problems) >= 20:
                return
    overrides = plan.overrides if plan.overrides is not None else (_overrides_in_force(con) if shrunk else [])
    for o in overrides:
        for r in (o.a, o.b):
            if not exists(r):
                plan.problems.append(Problem(f"{plan.searches}/{OVERRIDES_FILE}", "",
                                             f"names {excerpt(r)}, which is not a record of the searches"))


def _decisions_in_force(con) -> list[Decision]:
    rows = con.execute(sql("rows_in_force", table="screening_decisions", where="")).fetchall()
    return [Decision(record_id=r[0], stage=r[1], reviewer=r[2], decided_at=r[3], decision=r[4], reason=r[5], role=r[6],
                     seconds=r[7], trial_id=r[8], note=r[9], source=r[10], file=r[11]) for r in rows]


def _overrides_in_force(con) -> list[Override]:
    return [Override(a, r1, r2, reason, by) for a, r1, r2, reason, by in
            con.execute(sql("rows_in_force", table="duplicate_overrides", where="")).fetchall()]


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


@dataclass
class FrontChange:
    """What a revision changed of the searches and the screening (for `build`, `log`)."""

    runs_added: list[tuple[str, int, int]] = field(default_factory=list)  # run, records, duplicates among them
    runs_changed: list[str] = field(default_factory=list)
    runs_removed: list[str] = field(default_factory=list)
    decisions_added: int = 0
    decisions_closed: int = 0
    links_added: int = 0
    links_closed: int = 0
    overrides: bool = False
    protocol: bool = False
    duplicates: dict = field(default_factory=dict)  # added run -> its duplicates by kind (search_run_duplicates' columns)

    def summary(self) -> str:
        parts = []
        for run, n, dup in self.runs_added:
            parts.append(f"search {run} added ({n} record{'s' if n != 1 else ''}, {dup} duplicate{'s' if dup != 1 else ''})")
        if self.runs_changed:
            parts.append(f"search {', '.join(self.runs_changed)} corrected")
        if self.runs_removed:
            parts.append(f"search {', '.join(self.runs_removed)} removed")
        if self.overrides:
            parts.append("de-duplication decisions changed")
        if self.protocol:
            parts.append("screening protocol changed")
        if self.decisions_added or self.decisions_closed:
            d = f"{self.decisions_added} screening decision{'s' if self.decisions_added != 1 else ''}"
            parts.append(d + (f" ({self.decisions_closed} withdrawn)" if self.decisions_closed else ""))
        if not parts and (self.links_added or self.links_closed):
            parts.append(f"record links: {self.links_added} added, {self.links_closed} closed")
        return "; ".join(parts)


def _plain(v):
    if isinstance(v, list):
        return tuple(_plain(x) for x in v)
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v.isoformat()
    return v


def _sync(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], new_rows: list[tuple], revision: int,
          where: str = "", params: dict | None = None) -> tuple[int, int]:
    """Make the rows of ``table`` in force (narrowed by ``where``) equal ``new_rows``: close those
    that changed or went away, insert the new ones. Returns (inserted, closed)."""
    import pandas as pd

    from ..db.connection import unregister

    keys = KEYS[table]
    ki = [columns.index(k) for k in keys]
    cur = con.execute(sql("rows_in_force", table=table, where=where), params or {}).fetchall()
    if cur:
        current = {tuple(r[i] for i in ki): tuple(_plain(v) for v in r) for r in cur}
        new = {tuple(r[i] for i in ki): tuple(_plain(v) for v in r) for r in new_rows}
        close = [k for k, row in current.items() if new.get(k) != row]
        insert = [new[k] for k, row in new.items() if current.get(k) != row]
    else:  # nothing in force: every row is new (a new run's 10,000 records are not compared one by one)
        close, insert = [], list(new_rows)
    if close:
        frame = pd.DataFrame(close, columns=list(keys))
        con.register(_FRAME, frame)
        try:
            match = " AND ".join(f"t.{k} = f.{k}" for k in keys)
            con.execute(sql("close_rows", table=table, frame=_FRAME, match=match), {"revision": revision})
        finally:
            unregister(con, _FRAME)
    if insert:
        frame = pd.DataFrame([[list(v) if isinstance(v, tuple) else v for v in row] for row in insert], columns=columns)
        con.register(_FRAME, frame)
        try:
            con.execute(sql("insert_rows", table=table, frame=_FRAME), {"revision": revision})
        finally:
            unregister(con, _FRAME)
    return len(insert), len(close)


_SEARCH_COLUMNS = ["run_id", "source", "query", "searched_on", "records", "files", "note", "path", "sha256"]
_RECORD_COLUMNS = ["record_id", "run_id", "n", "title", "abstract", "authors", "year", "journal", "doi", "pmid", "nct_ids",
                   "keywords", "kind", "accession", "urls", "export_file", "export_line"]
_LINK_COLUMNS = ["record_id", "target_kind", "target", "relation", "status", "reason", "detail", "score", "decided_by"]
_OVERRIDE_COLUMNS = ["action", "record_a", "record_b", "reason", "decided_by"]
_DECISION_COLUMNS = ["record_id", "stage", "reviewer", "decided_at", "decision", "reason", "role", "seconds", "trial_id",
                     "note", "source", "file"]


def write_front(con: duckdb.DuckDBPyConnection, plan: FrontPlan, revision: int, *, trials_changed: bool) -> FrontChange | None:
    """Write a plan's changes at ``revision`` and de-duplicate again when needed (inside the
    revision's transaction). None when nothing of the searches or the screening changed."""
    change = FrontChange()
    relink = False
    if plan.changed:
        before = {rid: first for rid, _, first in con.execute(sql("runs_in_force")).fetchall()}
        for run_id, (run, folder, digest) in sorted(plan.runs.items()):
            rows = [] if run is None else [(run_id, run.source, run.query, run.date, len(run.records),
                                            json.dumps(run.files, sort_keys=True), run.note, folder, digest)]
            _sync(con, "searches", _SEARCH_COLUMNS, rows, revision, "AND run_id = $value", {"value": run_id})
            records = [] if run is None else [
                (run.record_id(r.n), run_id, r.n, r.title, r.abstract, r.authors, r.year, r.journal, r.doi, r.pmid,
                 r.nct_ids, r.keywords, r.kind, r.accession, r.urls, r.file, r.line) for r in run.records]
            _sync(con, "search_records", _RECORD_COLUMNS, records, revision, "AND run_id = $value", {"value": run_id})
            if run is None:
                change.runs_removed.append(run_id)
            elif run_id in before:
                change.runs_changed.append(run_id)
            else:
                change.runs_added.append((run_id, len(run.records), 0))
            relink = True
        if plan.overrides is not None:
            rows = [(o.action, o.a, o.b, o.reason, o.by) for o in plan.overrides]
            _sync(con, "duplicate_overrides", _OVERRIDE_COLUMNS, rows, revision)
            change.overrides = relink = True
        if plan.protocol_changed:
            p = plan.protocol
            _sync(con, "screening_protocol", ["stage", "reviewers"], sorted(p.reviewers.items()), revision)
            _sync(con, "exclusion_reasons", ["reason_id", "label"], sorted(p.reasons.items()), revision)
            change.protocol = True
        for path, decisions in sorted(plan.decisions.items()):
            added, closed = _sync(con, "screening_decisions", _DECISION_COLUMNS, [d.row() for d in decisions], revision,
                                  "AND file = $value", {"value": path})
            change.decisions_added += added
            change.decisions_closed += closed
    if not relink and trials_changed:
        relink = con.execute(sql("records_in_force_count")).fetchone()[0] > 0
    if relink:
        links = relink_records(con)
        change.links_added, change.links_closed = _sync(con, "record_links", _LINK_COLUMNS,
                                                        [tuple(getattr(link, c) for c in _LINK_COLUMNS) for link in links],
                                                        revision)
        if change.runs_added:
            dup = {link.record_id: link for link in links if link.relation == "duplicate" and link.status == "merged"}
            trials = {link.record_id for link in links if link.relation == "same_trial" and link.target_kind == "trial"}
            counted = []
            for r, n, _ in change.runs_added:
                ids = [f"{r}/{i}" for i in range(1, n + 1)]
                of = [dup[i] for i in ids if i in dup]
                counted.append((r, n, len(of)))
                change.duplicates[r] = {
                    "records": n,
                    "within_run": sum(1 for x in of if x.target_kind == "record" and x.target.rpartition("/")[0] == r),
                    "other_runs": sum(1 for x in of if x.target_kind == "record" and x.target.rpartition("/")[0] != r),
                    "in_database": sum(1 for x in of if x.target_kind == "trial"),
                    "reports_of_trials": sum(1 for i in ids if i in trials and i not in dup),
                }
            change.runs_added = counted
    if not plan.changed and not (change.links_added or change.links_closed):
        return None
    return change


def relink_records(con: duckdb.DuckDBPyConnection) -> list[Link]:
    """De-duplicate the records in force against each other and the trials in force."""
    from ..search.dedup import dedup as _dedup

    records = [
        DedupRecord(rid, (first, str(searched), run, n), first, title, year, author, doi, pmid, tuple(ncts or ()),
                    kind == "registry record")
        for rid, first, searched, run, n, title, year, author, doi, pmid, ncts, kind
        in con.execute(sql("dedup_records")).fetchall()
    ]
    if not records:
        return []
    return _dedup(records, trial_identities(con), _overrides_in_force(con))


def trial_identities(con: duckdb.DuckDBPyConnection) -> list[TrialIdentity]:
    """The trials' identifiers in force, normalised, each with the first revision it was known."""
    from ..search import ids

    best: dict[tuple[str, str, str], int] = {}
    for trial_id, kind, value, since in con.execute(sql("dedup_trial_ids")).fetchall():
        found: list[tuple[str, str]] = []
        if kind == "doi":
            found = [("doi", ids.doi(value))]
        elif kind == "pmid":
            found = [("pmid", ids.pmid(value))]
        elif kind == "nct_id":
            found = [("nct_id", ids.nct(value))]
        elif kind == "url":
            found = [("doi", ids.doi_in(value) if "doi.org/" in value.lower() else None)]
        elif kind == "other_ids":
            found = [("nct_id", n) for n in ids.nct_ids_in(value)]
        for k, v in found:
            if v:
                key = (trial_id, k, v)
                best[key] = min(best.get(key, since), since)
    return [TrialIdentity(t, k, v, s) for (t, k, v), s in sorted(best.items())]


__all__ = ["FrontChange", "FrontPlan", "front_blobs", "plan_front", "relink_records", "write_front"]
