"""``livemeta search add`` and the de-duplication decisions a person makes (``keep-apart``, ``merge``)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..errors import LivemetaError, Problem, ValidationFailed, excerpt
from ..project import Project
from ..search.formats import read_export
from ..search.records import MAX_RECORDS
from ..search.runs import RUN_ID, SearchRun, run_files, slug


def _check_date(date: str) -> str:
    try:
        ok = re.fullmatch(r"\d{4}-\d{2}-\d{2}", date or "") and dt.date.fromisoformat(date)
    except ValueError:
        ok = False
    if not ok:
        raise ValidationFailed([Problem("--date", "", f"{excerpt(date or '')} is not a date (YYYY-MM-DD): when the "
                                                      "search was run")])
    return date


def build_run(paths: list[Path | str], *, source: str, query: str, date: str, run_id: str | None = None,
              note: str | None = None, format: str | None = None, encoding: str | None = None,
              taken: set[str] = frozenset()) -> tuple[SearchRun, dict[str, bytes]]:
    """Read the export files into one search run (its records numbered in file order) and the
    copies of the exports; nothing is written. ``taken``: run ids already in the project."""
    if not paths:
        raise LivemetaError("no export files given", hint="livemeta search add FILE.ris --source NAME --query TEXT --date YYYY-MM-DD")
    if not (source or "").strip():
        raise ValidationFailed([Problem("--source", "", "required: the database or register searched (e.g. Embase)")])
    if len(source) > 200:
        raise ValidationFailed([Problem("--source", "", "at most 200 characters")])
    if not (query or "").strip():
        raise ValidationFailed([Problem("--query", "", "required: the query as it was run")])
    date = _check_date(date)
    if run_id is not None:
        if not RUN_ID.match(run_id):
            raise ValidationFailed([Problem("--id", "", f"{excerpt(run_id)} is not a run id (lower-case letters, "
                                                        "digits, '.', '_' and '-', starting with a letter or digit)")])
        if run_id in taken:
            raise ValidationFailed([Problem("--id", "", f"a search run {run_id!r} exists already")])
    else:
        base = f"{slug(source)}-{date}"
        run_id, i = base, 2
        while run_id in taken:
            run_id, i = f"{base}-{i}", i + 1
    exports, records, problems = {}, [], []
    files = []
    for p in paths:
        name = Path(p).name
        if name in exports:
            problems.append(Problem(str(p), "", f"a second export named {name!r}: give each file its own name"))
            continue
        try:
            e = read_export(p, format=format, encoding=encoding, name=name)
        except ValidationFailed as exc:
            problems += exc.problems
            continue
        exports[name] = e.raw
        files.append({"name": name, "format": e.format, "sha256": e.sha256, "records": len(e.records)})
        for r in e.records:
            r.n = len(records) + 1
            records.append(r)
        if len(records) > MAX_RECORDS:
            problems.append(Problem(name, "", f"the run would hold {len(records):,} records; at most {MAX_RECORDS:,}"))
            break
    if problems:
        raise ValidationFailed(problems)
    return SearchRun(run_id, source.strip(), query.strip(), date, files, (note or "").strip() or None, records), exports


def search_add(proj: Project, db: Path, paths: list[Path | str], *, source: str, query: str, date: str,
               message: str | None, run_id: str | None = None, note: str | None = None, format: str | None = None,
               encoding: str | None = None, author: str | None = None, wait: float = 10.0):
    """Record a search run: read the exports, check the run as the history's replay will, write
    ``searches/RUN/``, commit it with ``message`` and replay it as a revision (records in the
    database, de-duplicated). Returns a :class:`~livemeta.screening.workflow.FrontResult`
    (``details['run']``: the :class:`SearchRun`)."""
    from ..screening.replay import remember_run
    from .workflow import change_front, check_front, head_front

    if not (message or "").strip():
        raise LivemetaError("a search run is recorded with a message", hint='pass -m "what was searched and why"')
    folder = proj.rel(proj.searches)

    def prepare(con, history):
        taken = {p[len(folder) + 1:].split("/", 1)[0] for p in head_front(history, proj) if p.startswith(folder + "/")}
        if proj.searches.is_dir():
            taken |= {c.name for c in proj.searches.iterdir() if c.is_dir()}
        run, exports = build_run(paths, source=source, query=query, date=date, run_id=run_id, note=note, format=format,
                                 encoding=encoding, taken=taken)
        changes = {f"{folder}/{run.run_id}/{rel}": raw for rel, raw in run_files(run, exports).items()}
        remember_run(f"{folder}/{run.run_id}", changes, run)  # what records.jsonl holds: the records just read
        check_front(con, proj, history, changes)
        return changes, {"run": run}

    return change_front(proj, db, prepare=prepare, message=message, author=author, wait=wait)


def override_pair(proj: Project, db: Path, action: str, a: str, b: str, *, reason: str, by: str | None,
                  message: str | None, author: str | None = None, wait: float = 10.0):
    """Add a de-duplication decision to ``searches/duplicates.yaml`` (``keep_apart``: reverse a merge;
    ``merge``: join two records), check it, and with ``message`` commit it as a revision."""
    from .workflow import change_front, check_front
    from ..search.dedup import Override
    from ..search.overrides import OVERRIDES_FILE, overrides_text, parse_overrides

    if not (reason or "").strip():
        raise LivemetaError("a de-duplication decision needs its reason", hint='pass --reason "why"')
    path = f"{proj.rel(proj.searches)}/{OVERRIDES_FILE}"

    def prepare(con, history):
        file = proj.root / path
        current: list[Override] = []
        if file.is_file():
            current, problems = parse_overrides(file.read_bytes(), path)
            if problems:
                raise ValidationFailed(problems)
        x, y = sorted((a, b))
        other = "merge" if action == "keep_apart" else "keep_apart"
        kept = [o for o in current if not (o.a == x and o.b == y and o.action == other)]
        if any(o.a == x and o.b == y and o.action == action for o in kept):
            raise LivemetaError(f"{x} and {y} are already listed under {action} in {path}")
        kept.append(Override(action, x, y, reason.strip(), (by or "").strip() or None))
        changes = {path: overrides_text(kept).encode("utf-8")}
        check_front(con, proj, history, changes)
        return changes, {"pair": (x, y)}

    return change_front(proj, db, prepare=prepare, message=message, author=author, wait=wait)
