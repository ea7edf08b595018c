"""A search record: what one database returned for one reference, in one shape whatever the format.

Every importer (:mod:`livemeta.search.formats`) turns its format into :class:`Record` objects with
:func:`make_record`, which normalises the identifiers (:mod:`livemeta.search.ids`), finds NCT ids in
the title, abstract, keywords and secondary ids, and enforces the limits below. A search run keeps
its records as JSON lines (``records.jsonl``, one record a line, in the order of the export):
:func:`to_jsonl` writes them and :func:`read_jsonl` reads them back, checking every line as a study
file is checked (a message per problem naming the file, the record path and the line).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..errors import Problem, excerpt
from . import ids

#: a record's id: its search run and its position in the run, RUN/N
RECORD_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}/[1-9][0-9]{0,6}$")

#: limits of one record (a real abstract is under 10,000 characters; author lists of consortia
#: reach a few thousand names)
MAX_TITLE = 5_000
MAX_ABSTRACT = 100_000
MAX_TEXT = 5_000  # journal, accession, kind, each author, keyword and URL
MAX_ITEMS = 5_000  # authors, keywords, URLs, NCT ids of one record
#: records of one search run (a broad search of one database returns tens of thousands)
MAX_RECORDS = 250_000
#: problems listed before a message says how many more there are
MAX_PROBLEMS = 20

FIELDS = ("n", "title", "abstract", "authors", "year", "journal", "doi", "pmid", "nct_ids", "keywords", "kind",
          "accession", "urls", "file", "line")
_LISTS = ("authors", "nct_ids", "keywords", "urls")
_TEXTS = ("title", "abstract", "journal", "doi", "pmid", "kind", "accession", "file")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|2100)(?!\d)")
_SPACE = re.compile(r"\s+")


@dataclass
class Record:
    """One record of a search run; ``n`` is its position in the run (from 1)."""

    n: int
    title: str | None = None
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str | None = None
    doi: str | None = None
    pmid: str | None = None
    nct_ids: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    kind: str | None = None  # the publication type as the export gives it (JOUR, Journal Article, ...)
    accession: str | None = None  # the database's own id of the record (Embase L-number, ProQuest id, NCT)
    urls: list[str] = field(default_factory=list)
    file: str | None = None  # the export file it came from
    line: int | None = None  # where it starts in that file (text formats)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in FIELDS}

    @property
    def first_author(self) -> str | None:
        return self.authors[0] if self.authors else None


class RecordProblem(Exception):
    """A value of one record that breaks a limit or a rule."""

    def __init__(self, path: str, reason: str):
        super().__init__(reason)
        self.path = path
        self.reason = reason


def text(value: object) -> str | None:
    """Whitespace collapsed, NFKC, no format characters; None for empty."""
    s = ids.clean(value)
    if not s:
        return None
    if "\x00" in s:
        s = s.replace("\x00", "")
    return " ".join(s.split()) or None


def year_of(*values: object) -> int | None:
    """The first plausible year (1500-2100) written in ``values`` ("2019//", "2006 Mar 1")."""
    for v in values:
        if v is None:
            continue
        if isinstance(v, int) and not isinstance(v, bool):
            return v if 1500 <= v <= 2100 else None
        m = _YEAR.search(str(v))
        if m:
            return int(m.group(1))
    return None


def _limited(name: str, value: str | None, limit: int) -> str | None:
    if value is not None and len(value) > limit:
        raise RecordProblem(name, f"{len(value):,} characters; a record's {name} is at most {limit:,}")
    return value


def _items(name: str, values, limit: int = MAX_TEXT) -> list[str]:
    out: list[str] = []
    for v in values or ():
        t = text(v)
        if t is None:
            continue
        if len(t) > limit:
            raise RecordProblem(f"{name}[{len(out)}]", f"{len(t):,} characters; at most {limit:,}")
        if t not in out:
            out.append(t)
    if len(out) > MAX_ITEMS:
        raise RecordProblem(name, f"{len(out):,} {name}; a record has at most {MAX_ITEMS:,}")
    return out


def make_record(n: int, *, title=None, abstract=None, authors=(), year=None, journal=None, doi=None, pmid=None,
                nct_ids=(), keywords=(), kind=None, accession=None, urls=(), file=None, line=None,
                more_text=()) -> Record:
    """A :class:`Record` from an importer's raw values, normalised and checked.

    ``doi`` and ``pmid`` may be lists (the first valid one is kept); NCT ids are also looked for in
    the title, the abstract, the keywords and ``more_text`` (secondary ids, notes). Raises
    :class:`RecordProblem` for a value over a limit and for a record with nothing to screen or
    match (no title, abstract or identifier).
    """
    for name, raw, limit in (("title", title, MAX_TITLE), ("abstract", abstract, MAX_ABSTRACT)):
        if isinstance(raw, str) and len(raw) > 4 * limit:  # refused before it is normalised
            raise RecordProblem(name, f"{len(raw):,} characters; a record's {name} is at most {limit:,}")
    title_t = _limited("title", text(title), MAX_TITLE)
    abstract_t = _limited("abstract", text(abstract), MAX_ABSTRACT)
    dois = doi if isinstance(doi, (list, tuple)) else [doi]
    doi_n = next((d for d in (ids.doi(x) for x in dois) if d), None)
    pmids = pmid if isinstance(pmid, (list, tuple)) else [pmid]
    pmid_n = next((p for p in (ids.pmid(x) for x in pmids) if p), None)
    keywords_l = _items("keywords", keywords)
    found = [n2 for n2 in (ids.nct(x) for x in nct_ids or ()) if n2]
    found += ids.nct_ids_in(title_t, abstract_t, *keywords_l, *(more_text or ()))
    rec = Record(
        n=n,
        title=title_t,
        abstract=abstract_t,
        authors=_items("authors", authors),
        year=year_of(year),
        journal=_limited("journal", text(journal), MAX_TEXT),
        doi=doi_n,
        pmid=pmid_n,
        nct_ids=list(dict.fromkeys(found)),
        keywords=keywords_l,
        kind=_limited("kind", text(kind), MAX_TEXT),
        accession=_limited("accession", text(accession), MAX_TEXT),
        urls=[u for u in _items("urls", urls) if u.lower().startswith(("http://", "https://"))],
        file=file,
        line=line,
    )
    if len(rec.nct_ids) > MAX_ITEMS:
        raise RecordProblem("nct_ids", f"{len(rec.nct_ids):,} NCT ids; at most {MAX_ITEMS:,}")
    if not (rec.title or rec.abstract or rec.doi or rec.pmid or rec.nct_ids):
        raise RecordProblem("", "an empty record: no title, abstract, DOI, PMID or NCT id")
    return rec


# ---------------------------------------------------------------------------------------------
# records.jsonl
# ---------------------------------------------------------------------------------------------


def to_jsonl(records: list[Record]) -> str:
    """The records as JSON lines (keys in :data:`FIELDS` order, empty values left out)."""
    out = []
    for r in records:
        d = {k: v for k, v in r.to_dict().items() if v not in (None, [], "")}
        out.append(json.dumps(d, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(out) + ("\n" if out else "")


class Problems(list):
    """Problems of one file, the first :data:`MAX_PROBLEMS` listed, the rest counted."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.more = 0

    def add(self, path: str, reason: str) -> None:
        if len(self) < MAX_PROBLEMS:
            self.append(Problem(self.name, path, reason))
        else:
            self.more += 1

    def closed(self) -> list[Problem]:
        out = list(self)
        if self.more:
            out.append(Problem(self.name, "", f"and {self.more:,} more problem{'s' if self.more != 1 else ''} "
                                              "like those above"))
        return out


def _check_line(d: object, i: int) -> Record:
    """One parsed line of records.jsonl as a :class:`Record`; raises :class:`RecordProblem`."""
    if not isinstance(d, dict):
        raise RecordProblem("", "not a JSON object")
    unknown = [k for k in d if k not in FIELDS]
    if unknown:
        raise RecordProblem(str(unknown[0])[:40], "unknown key")
    if d.get("n") != i or isinstance(d.get("n"), bool):
        raise RecordProblem("n", f"is {excerpt(str(d.get('n')))}; the {i}th record's n is {i}")
    for k in _TEXTS:
        if k in d and not isinstance(d[k], str):
            raise RecordProblem(k, "not text")
    for k in _LISTS:
        if k in d and not (isinstance(d[k], list) and all(isinstance(x, str) for x in d[k])):
            raise RecordProblem(k, "not a list of texts")
    for k in ("year", "line"):
        if k in d and d[k] is not None and (isinstance(d[k], bool) or not isinstance(d[k], int)):
            raise RecordProblem(k, "not a whole number")
    if d.get("year") is not None and not 1500 <= d["year"] <= 2100:
        raise RecordProblem("year", f"{d['year']} is not a year between 1500 and 2100")
    if "doi" in d and ids.doi(d["doi"]) != d["doi"]:
        raise RecordProblem("doi", f"{excerpt(d['doi'])} is not a DOI in normal form (10.x/y, lower case)")
    if "pmid" in d and ids.pmid(d["pmid"]) != d["pmid"]:
        raise RecordProblem("pmid", f"{excerpt(d['pmid'])} is not a PMID (digits, no leading zero)")
    for j, v in enumerate(d.get("nct_ids", [])):
        if ids.nct(v) != v:
            raise RecordProblem(f"nct_ids[{j}]", f"{excerpt(v)} is not an NCT id (NCT and 8 digits)")
    for k in ("title", "abstract", "journal", "kind", "accession"):
        v = d.get(k)
        if v is not None and text(v) != v:
            raise RecordProblem(k, "not in normal form (spaces collapsed, NFKC, no format characters)")
    for k, limit in (("title", MAX_TITLE), ("abstract", MAX_ABSTRACT), ("journal", MAX_TEXT), ("kind", MAX_TEXT),
                     ("accession", MAX_TEXT)):
        if len(d.get(k) or "") > limit:
            raise RecordProblem(k, f"{len(d[k]):,} characters; a record's {k} is at most {limit:,}")
    for k in _LISTS:
        items = d.get(k, [])
        if len(items) > MAX_ITEMS:
            raise RecordProblem(k, f"{len(items):,} {k}; a record has at most {MAX_ITEMS:,}")
        for j, v in enumerate(items):
            if text(v) != v or len(v) > MAX_TEXT:
                raise RecordProblem(f"{k}[{j}]", f"not in normal form, or over {MAX_TEXT:,} characters")
    if not (d.get("title") or d.get("abstract") or d.get("doi") or d.get("pmid") or d.get("nct_ids")):
        raise RecordProblem("", "an empty record: no title, abstract, DOI, PMID or NCT id")
    return Record(**{k: d.get(k, [] if k in _LISTS else None) for k in FIELDS})


def read_jsonl(raw: bytes, name: str) -> tuple[list[Record], list[Problem]]:
    """The records of a ``records.jsonl`` file and the problems found (all-or-nothing: records
    are returned only when there is no problem)."""
    problems = Problems(name)
    try:
        textual = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [Problem(name, "", f"not UTF-8 text (byte {exc.start})")]
    lines = textual.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) > MAX_RECORDS:
        return [], [Problem(name, "", f"{len(lines):,} records; a search run holds at most {MAX_RECORDS:,}")]
    out: list[Record] = []
    for i, line in enumerate(lines, 1):
        where = f"records[{i - 1}]"
        try:
            d = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            problems.add(where, f"not a JSON object: {getattr(exc, 'msg', 'nested too deeply')} (line {i})")
            continue
        try:
            out.append(_check_line(d, i))
        except RecordProblem as exc:
            problems.add(f"{where}.{exc.path}" if exc.path else where, f"{exc.reason} (line {i})")
    return (out, []) if not problems else ([], problems.closed())
