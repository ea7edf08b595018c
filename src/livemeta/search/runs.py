"""A search run as files of the evidence project: one folder under ``searches/``.

::

    searches/embase-2026-03-01/
        search.yaml       # the database searched, the query as run, the date, the export files
        records.jsonl     # the records, one JSON object a line, in the export's order
        export/embase.ris # the export as the database gave it (its SHA-256 is in search.yaml)

``search.yaml``::

    id: embase-2026-03-01         # the folder's name
    source: Embase                # the database (or register) searched
    query: "..."                  # the query as run
    date: "2026-03-01"            # when it was run
    records: 1234                 # records.jsonl holds this many
    files:                        # the export files, with their format, SHA-256 and records
      - {name: embase.ris, format: ris, sha256: ..., records: 1234}
    note: "..."                   # optional

A record's id is ``RUN/N`` (``embase-2026-03-01/17``): the run and its position in the run. The
replay of the history reads ``search.yaml`` and ``records.jsonl`` (:func:`parse_run`), checked like
a study file; the export copies are kept for provenance (their presence is checked, not re-parsed:
what the history holds is what was validated when the run was added).
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from dataclasses import dataclass, field

import yaml

from ..errors import Problem, excerpt
from .formats import FORMATS
from .records import MAX_RECORDS, Record, read_jsonl, to_jsonl

RUN_FILE = "search.yaml"
RECORDS_FILE = "records.jsonl"
EXPORT_FOLDER = "export"
RUN_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
_KEYS = {"id", "source", "query", "date", "records", "files", "note"}
_FILE_KEYS = {"name", "format", "sha256", "records"}
MAX_YAML = 1024 * 1024
MAX_QUERY = 100_000


@dataclass
class SearchRun:
    """One search run (see the module's docstring)."""

    run_id: str
    source: str
    query: str
    date: str  # YYYY-MM-DD
    files: list[dict] = field(default_factory=list)  # name, format, sha256, records
    note: str | None = None
    records: list[Record] = field(default_factory=list, repr=False)

    def record_id(self, n: int) -> str:
        return f"{self.run_id}/{n}"


def slug(text: str, limit: int = 40) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:limit].strip("-") or "search"


def run_text(run: SearchRun) -> str:
    """The ``search.yaml`` of a run."""
    doc = {"id": run.run_id, "source": run.source, "query": run.query, "date": run.date,
           "records": len(run.records), "files": run.files}
    if run.note:
        doc["note"] = run.note
    head = ("# A search run of this evidence project, recorded by `livemeta search add`: the database\n"
            "# searched, the query as run, the date and the export files (copied to export/). Its records\n"
            "# are in records.jsonl, one a line; a record's id is RUN/N.\n")
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def run_files(run: SearchRun, exports: dict[str, bytes]) -> dict[str, bytes]:
    """The files of a run's folder (relative to it) -> content."""
    out = {RUN_FILE: run_text(run).encode("utf-8"), RECORDS_FILE: to_jsonl(run.records).encode("utf-8")}
    for name, raw in exports.items():
        out[f"{EXPORT_FOLDER}/{name}"] = raw
    return out


def load_yaml(raw: bytes, name: str, limit: int = MAX_YAML) -> tuple[object, dict[str, int], list[Problem]]:
    """A small YAML file of the project (hardened as study files are: no aliases, bounded depth):
    (data, line of each record path, problems)."""
    from ..ingest.parse import ParseError, decode, parse_yaml

    if len(raw) > limit:
        return None, {}, [Problem(name, "", f"{len(raw):,} bytes; at most {limit:,}")]
    try:
        data, lines, _ = parse_yaml(decode(raw))
    except ParseError as exc:
        return None, {}, [Problem(name, exc.path, exc.reason)]
    return data, lines, []


def _at(lines: dict[str, int], path: str) -> str:
    line = lines.get(path)
    return f" (line {line})" if line else ""


def parse_run(folder: str, files: dict[str, bytes | None]) -> tuple[SearchRun | None, list[Problem]]:
    """Read and check a run folder: ``files`` maps its paths (relative to the project) to their
    content (None: present, content not read, e.g. the export copies). Returns (run, []) or
    (None, problems)."""
    run_id = posixpath.basename(folder)
    yaml_name = f"{folder}/{RUN_FILE}"
    jsonl_name = f"{folder}/{RECORDS_FILE}"
    problems: list[Problem] = []
    if not RUN_ID.match(run_id):
        problems.append(Problem(folder, "", f"{excerpt(run_id)} is not a run id (lower-case letters, digits, "
                                            "'.', '_' and '-', up to 80, starting with a letter or digit)"))
    for p in sorted(files):
        rel = p[len(folder) + 1:]
        if rel not in (RUN_FILE, RECORDS_FILE) and not rel.startswith(EXPORT_FOLDER + "/"):
            problems.append(Problem(p, "", f"not a file of a search run ({RUN_FILE}, {RECORDS_FILE}, "
                                           f"{EXPORT_FOLDER}/...)"))
    if files.get(yaml_name) is None:
        return None, problems + [Problem(yaml_name, "", "missing: every search run has its search.yaml")]
    if files.get(jsonl_name) is None:
        return None, problems + [Problem(jsonl_name, "", "missing: every search run has its records.jsonl")]
    data, lines, found = load_yaml(files[yaml_name], yaml_name)
    if found:
        return None, problems + found
    if not isinstance(data, dict):
        return None, problems + [Problem(yaml_name, "", "a search run is a mapping (id, source, query, date, ...)")]
    for k in data:
        if k not in _KEYS:
            problems.append(Problem(yaml_name, str(k)[:40], f"unknown key{_at(lines, str(k))}"))
    if data.get("id") != run_id:
        problems.append(Problem(yaml_name, "id", f"is {excerpt(str(data.get('id')))}; it must be the folder's name "
                                                 f"{run_id!r}{_at(lines, 'id')}"))
    for key, limit in (("source", 200), ("query", MAX_QUERY)):
        v = data.get(key)
        if not isinstance(v, str) or not v.strip():
            problems.append(Problem(yaml_name, key, f"required (text){_at(lines, key)}"))
        elif len(v) > limit:
            problems.append(Problem(yaml_name, key, f"{len(v):,} characters; at most {limit:,}{_at(lines, key)}"))
    date = data.get("date")
    try:
        ok = isinstance(date, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) and dt.date.fromisoformat(date)
    except ValueError:
        ok = False
    if not ok:
        problems.append(Problem(yaml_name, "date", f"{excerpt(str(date))} is not a date (YYYY-MM-DD){_at(lines, 'date')}"))
    note = data.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_QUERY):
        problems.append(Problem(yaml_name, "note", f"text of at most {MAX_QUERY:,} characters{_at(lines, 'note')}"))
    n = data.get("records")
    if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= MAX_RECORDS:
        problems.append(Problem(yaml_name, "records", f"a whole number from 1 to {MAX_RECORDS:,}{_at(lines, 'records')}"))
    exports = data.get("files")
    if not isinstance(exports, list) or not exports:
        problems.append(Problem(yaml_name, "files", f"the export files, a list of {{name, format, sha256, records}}"
                                                    f"{_at(lines, 'files')}"))
        exports = []
    total = 0
    for i, f in enumerate(exports):
        where = f"files[{i}]"
        if not isinstance(f, dict):
            problems.append(Problem(yaml_name, where, "a mapping {name, format, sha256, records}"))
            continue
        for k in f:
            if k not in _FILE_KEYS:
                problems.append(Problem(yaml_name, f"{where}.{str(k)[:40]}", f"unknown key{_at(lines, where)}"))
        name = f.get("name")
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            problems.append(Problem(yaml_name, f"{where}.name", f"a file name{_at(lines, where)}"))
        elif f"{folder}/{EXPORT_FOLDER}/{name}" not in files:
            problems.append(Problem(yaml_name, f"{where}.name", f"{EXPORT_FOLDER}/{excerpt(name)} is not in the run's "
                                                                f"folder{_at(lines, where)}"))
        if f.get("format") not in FORMATS:
            problems.append(Problem(yaml_name, f"{where}.format", f"one of {', '.join(FORMATS)}{_at(lines, where)}"))
        if not isinstance(f.get("sha256"), str) or not _SHA.match(f["sha256"]):
            problems.append(Problem(yaml_name, f"{where}.sha256", f"the file's SHA-256 (64 hex digits){_at(lines, where)}"))
        k = f.get("records")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            problems.append(Problem(yaml_name, f"{where}.records", f"a whole number from 1{_at(lines, where)}"))
        else:
            total += k
    if problems:
        return None, problems
    if total != n:
        problems.append(Problem(yaml_name, "records", f"{n} records, but its files hold {total}{_at(lines, 'records')}"))
    records, found = read_jsonl(files[jsonl_name], jsonl_name)
    problems += found
    if not found and len(records) != n:
        problems.append(Problem(jsonl_name, "", f"{len(records)} records, but search.yaml says {n}"))
    if not problems:
        names = {f["name"] for f in exports}
        for r in records:
            if r.file is not None and r.file not in names:
                problems.append(Problem(jsonl_name, f"records[{r.n - 1}].file",
                                        f"{excerpt(r.file)} is not one of the run's files (line {r.n})"))
                break
    if problems:
        return None, problems
    return SearchRun(run_id, data["source"].strip(), data["query"], date, exports, note, records), []
