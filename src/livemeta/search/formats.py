"""Reading the files review teams export from bibliographic databases into :class:`Record` objects.

Formats (``--format``, or recognised from the content):

- ``ris``: RIS as Embase, Ovid, Scopus, ProQuest, Zotero, EndNote and Rayyan write it, parsed by
  rispy after a scan of the lines that finds each record's line and what rispy would silently drop
  (a record that no ``ER  -`` line ends, a record that starts inside another);
- ``medline``: PubMed's MEDLINE/.nbib format (``PMID- ``, tags of four characters, continuation lines);
- ``pubmed-xml``: PubMed XML (``PubmedArticleSet``), read as a stream; entity declarations are refused;
- ``ctgov``: ClinicalTrials.gov API v2 JSON, one study record or a search page (``{"studies": [...]}``),
  and the legacy v1 ``FullStudiesResponse`` (read by :mod:`livemeta.importers.ctgov_record`);
- ``csv``: a table with a header row (comma, semicolon or tab) naming at least a title, an
  abstract or an identifier column (``title``, ``abstract``, ``authors``, ``year``, ``journal``,
  ``doi``, ``pmid``, ``nct_id``, ``keywords``, and the names Embase, Scopus, Rayyan and ASReview give
  them).

Text is UTF-8 (a BOM is honoured, UTF-16 with a BOM too); another encoding must be named
(``--encoding cp1252``): a file is never decoded by guessing. Every problem is reported with the
file, the record (its number and line) and the reason; one bad record fails the whole file
(:func:`read_export` raises :class:`~livemeta.errors.ValidationFailed`).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, ValidationFailed, excerpt
from . import ids
from .records import MAX_ABSTRACT, MAX_RECORDS, Problems, Record, RecordProblem, make_record

FORMATS = ("ris", "medline", "pubmed-xml", "ctgov", "csv")
#: the largest export file read (a 10,000-record RIS export is about 25 MB)
MAX_BYTES = 512 * 1024 * 1024


@dataclass
class Export:
    """One export file, read."""

    name: str  # the file's name (no folder)
    format: str
    sha256: str
    raw: bytes
    records: list[Record]


def _fail(name: str, reason: str, path: str = "") -> ValidationFailed:
    return ValidationFailed([Problem(name, path, reason)])


# ---------------------------------------------------------------------------------------------
# Bytes to text
# ---------------------------------------------------------------------------------------------


_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16"}


def decode(raw: bytes, name: str, encoding: str | None = None) -> str:
    """The text of an export: UTF-8 (with or without BOM), UTF-16 with a BOM, or ``encoding``.

    Refuses binary content (NUL bytes in UTF-8 text) and text that is not valid in the encoding,
    naming the first bad byte and its line; newlines become ``\\n``.
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise _fail(name, f"{excerpt(encoding)} is not an encoding Python knows (try utf-8, cp1252, latin-1)") from None
    if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
        enc = encoding or "utf-16"
    elif raw.startswith(codecs.BOM_UTF8):
        enc = encoding or "utf-8-sig"
    else:
        enc = encoding or "utf-8"
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        hint = "" if encoding else ("; if the export is in another encoding, name it with --encoding "
                                    "(e.g. cp1252 for Windows exports)")
        raise _fail(name, f"not {_ENCODING_NAMES.get(enc, enc)} text: byte 0x{raw[exc.start]:02x} at line {line} cannot be decoded{hint}") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise _fail(name, f"binary content (a NUL character at line {line}): not a text export")
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def detect(text: str, name: str) -> str:
    """The format of an export from its first non-blank characters (then its file name)."""
    head = text.lstrip()[:2000]
    if re.match(r"TY  -", head):
        return "ris"
    if re.match(r"PMID-", head):
        return "medline"
    if head.startswith("<"):
        return "pubmed-xml"
    if head.startswith(("{", "[")):
        return "ctgov"
    suffix = Path(name).suffix.lower()
    if suffix in (".ris",):
        return "ris"
    if suffix in (".nbib", ".medline"):
        return "medline"
    if suffix in (".xml",):
        return "pubmed-xml"
    if suffix in (".json",):
        return "ctgov"
    if suffix in (".csv", ".tsv", ".tab", ".txt"):
        return "csv"
    raise _fail(name, "cannot tell its format (RIS, MEDLINE, PubMed XML, ClinicalTrials.gov JSON or CSV)",
                ) from None


def read_export(path: Path | str, *, format: str | None = None, encoding: str | None = None,
                name: str | None = None) -> Export:
    """Read an export file into records (see the module's docstring). Raises
    :class:`~livemeta.errors.ValidationFailed` naming every problem (up to 20, then a count)."""
    p = Path(path)
    name = name or p.name
    if format is not None and format not in FORMATS:
        raise _fail(name, f"unknown format {excerpt(format)} (one of {', '.join(FORMATS)})")
    from ..files import Unreadable, read_bounded

    try:
        raw = read_bounded(p, MAX_BYTES, "an export can be (split it)")
    except Unreadable as exc:
        raise _fail(name if exc.too_large else str(path), str(exc)) from None
    return read_bytes(raw, name, format=format, encoding=encoding)


def read_bytes(raw: bytes, name: str, *, format: str | None = None, encoding: str | None = None) -> Export:
    """:func:`read_export` of content already read."""
    if not raw.strip():
        raise _fail(name, "empty: an export holds at least one record")
    text = decode(raw, name, encoding)
    fmt = format or detect(text, name)
    reader = _READERS[fmt]
    records, problems = reader(text, name)
    if problems:
        raise ValidationFailed(problems)
    if not records:
        raise _fail(name, f"no record found (read as {fmt})")
    return Export(name, fmt, hashlib.sha256(raw).hexdigest(), raw, records)


def _record(problems: Problems, out: list, where: str, line: int | None, **values) -> None:
    """Make record number len(out)+1 from ``values``; a problem instead when it breaks a rule."""
    try:
        out.append(make_record(len(out) + 1, line=line, **values))
    except RecordProblem as exc:
        at = f" (line {line})" if line else ""
        problems.add(f"{where}.{exc.path}" if exc.path else where, exc.reason + at)
        out.append(None)


def _closed(name: str, problems: Problems, out: list) -> tuple[list[Record], list[Problem]]:
    if problems:
        return [], problems.closed()
    return out, []


def _too_many(name: str, n: int, what: str = "records") -> list[Problem] | None:
    if n > MAX_RECORDS:
        return [Problem(name, "", f"{n:,} {what}; a search run holds at most {MAX_RECORDS:,} (split the export)")]
    return None


# ---------------------------------------------------------------------------------------------
# RIS
# ---------------------------------------------------------------------------------------------

_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -")
_PUBMED_DB = re.compile(r"pubmed|medline|\bnlm\b", re.IGNORECASE)


def _ris_scan(text: str, name: str) -> tuple[list[int], list[Problem]]:
    """The line of each record's TY (as rispy finds records) and the problems rispy would hide: a
    record no 'ER  -' ends, a record starting inside another, a record with no field at all (found
    here, before rispy reads a file of nothing but empty records). Stops counting past
    :data:`MAX_RECORDS`."""
    problems = Problems(name)
    starts: list[int] = []
    inside = False
    fields = 0
    for i, line in enumerate(text.split("\n"), 1):
        if not inside:
            if line.startswith("TY"):
                starts.append(i)
                inside, fields = True, 0
                if len(starts) > MAX_RECORDS:
                    return starts, [Problem(name, "", f"more than {MAX_RECORDS:,} records; a search run holds at most "
                                                      f"{MAX_RECORDS:,} (split the export)")]
            continue
        m = _RIS_TAG.match(line)
        if m is None:
            continue
        tag = m.group(1)
        if tag == "ER":
            inside = False
            if not fields:
                problems.add(f"record {len(starts)}", f"an empty record: no field between TY and ER (line {starts[-1]})")
        elif tag == "TY":
            problems.add(f"record {len(starts)}", f"a new record starts at line {i} before 'ER  -' ended the one "
                                                  f"that starts at line {starts[-1]}")
            starts.append(i)
        elif line[6:].strip():
            fields += 1
    if inside:
        problems.add(f"record {len(starts)}", f"no 'ER  -' line ends the record that starts at line {starts[-1]}")
    if not starts:
        problems.add("", "no RIS record in it (no line 'TY  - ...'): not a RIS export")
    return starts, problems.closed()


def _first(rec: dict, *tags: str):
    for t in tags:
        v = rec.get(t)
        if isinstance(v, list):
            v = next((x for x in v if x), None)
        if v:
            return v
    return None


def _all(rec: dict, *tags: str) -> list[str]:
    out: list[str] = []
    for t in tags:
        v = rec.get(t)
        if v is None:
            continue
        out += v if isinstance(v, list) else [v]
    return [x for x in out if x]


def read_ris(text: str, name: str) -> tuple[list[Record], list[Problem]]:
    """RIS text -> records (rispy parses; the scan gives lines and structural problems)."""
    import rispy
    from rispy.config import LIST_TYPE_TAGS, TAG_KEY_MAPPING

    starts, problems = _ris_scan(text, name)
    if problems:
        return [], problems
    too_many = _too_many(name, len(starts))
    if too_many:
        return [], too_many
    mapping = {t: t for t in TAG_KEY_MAPPING}
    try:
        parsed = rispy.loads(text, mapping=mapping, list_tags=[*LIST_TYPE_TAGS, "L2"], enforce_list_tags=False)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:  # rispy on input it does not expect
        return [], [Problem(name, "", f"rispy cannot read it: {excerpt(str(exc), 80)}")]
    if len(parsed) != len(starts):  # the scan follows rispy's own rule; a difference is a bug of one of them
        return [], [Problem(name, "", f"rispy read {len(parsed)} records where the scan found {len(starts)}")]
    out: list = []
    problems2 = Problems(name)
    for rec, line in zip(parsed, starts):
        unknown = rec.get("UK") or {}
        provider = " ".join(_all(rec, "DB", "DP"))
        accession = _first(rec, "AN")
        pmids = [accession] if accession and _PUBMED_DB.search(provider) else []
        urls = _all(rec, "UR", "L2")
        for u in urls:
            m = re.search(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d+)", u)
            if m:
                pmids.append(m.group(1))
        dois = _all(rec, "DO") + [d for d in (ids.doi_in(u) for u in urls if "doi.org/" in u.lower()) if d]
        kind = _first(rec, "TY")
        journal = _first(rec, "JO", "JF", "T2", "JA", "J2") if kind not in ("BOOK",) else _first(rec, "T2", "PB")
        _record(problems2, out, f"record {len(out) + 1}", line,
                title=_first(rec, "TI", "T1", "CT", "BT"),
                abstract=" ".join(_all(rec, "AB")) or " ".join(_all(rec, "N2")) or None,
                authors=_all(rec, "AU", "A1"),
                year=_first(rec, "PY", "Y1", "DA"),
                journal=journal,
                doi=dois, pmid=pmids,
                keywords=_all(rec, "KW"),
                kind=kind, accession=accession or _first(rec, "ID", "U2"),
                urls=urls, file=name,
                more_text=[*_all(rec, "N1"), *_all(rec, "M1"), *[v for vs in unknown.values() for v in vs]])
    return _closed(name, problems2, out)


# ---------------------------------------------------------------------------------------------
# MEDLINE / .nbib
# ---------------------------------------------------------------------------------------------

_MEDLINE_TAG = re.compile(r"^([A-Z0-9]{1,4}) *- (.*)$")


def read_medline(text: str, name: str) -> tuple[list[Record], list[Problem]]:
    """PubMed's MEDLINE format (``.nbib``, ``.txt``) -> records."""
    problems = Problems(name)
    records: list[tuple[int, dict[str, list[str]]]] = []
    current: dict[str, list[str]] | None = None
    last = None
    for i, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            current, last = None, None
            continue
        if line.startswith("      ") and current is not None and last is not None:
            current[last][-1] += " " + line.strip()
            continue
        m = _MEDLINE_TAG.match(line)
        if m is None:
            problems.add(f"record {len(records) or 1}", f"line {i} is neither 'TAG - value' nor a continuation")
            continue
        tag, value = m.group(1), m.group(2).strip()
        if current is None:
            if tag != "PMID":
                problems.add(f"record {len(records) + 1}", f"starts with {tag!r} at line {i}; a MEDLINE record starts with 'PMID- '")
            current = {}
            records.append((i, current))
            if len(records) > MAX_RECORDS:
                return [], _too_many(name, len(records), "records or more")
        current.setdefault(tag, []).append(value)
        last = tag
    if problems:
        return [], problems.closed()
    out: list = []
    for line, rec in records:
        dois = [v.removesuffix("[doi]").strip() for v in rec.get("AID", []) + rec.get("LID", []) if v.endswith("[doi]")]
        _record(problems, out, f"record {len(out) + 1}", line,
                title=_first(rec, "TI", "BTI", "TT"), abstract=" ".join(rec.get("AB", [])) or None,
                authors=rec.get("FAU") or rec.get("AU") or rec.get("CN", []), year=_first(rec, "DP", "DEP", "EDAT"),
                journal=_first(rec, "JT", "TA"), doi=dois, pmid=rec.get("PMID", []),
                keywords=rec.get("OT", []) + rec.get("MH", []), kind=_first(rec, "PT"), accession=_first(rec, "PMID"),
                file=name, more_text=rec.get("SI", []) + rec.get("RN", []))
    return _closed(name, problems, out)


# ---------------------------------------------------------------------------------------------
# PubMed XML
# ---------------------------------------------------------------------------------------------


def _itertext(el) -> str:
    return "".join(el.itertext()) if el is not None else ""


def read_pubmed_xml(text: str, name: str) -> tuple[list[Record], list[Problem]]:
    """PubMed XML (``PubmedArticleSet`` of ``PubmedArticle``) -> records, read as a stream."""
    import xml.etree.ElementTree as ET

    if "<!ENTITY" in text:
        return [], [Problem(name, "", "declares XML entities (<!ENTITY>): refused, entity expansion is how XML bombs work")]
    body = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    problems = Problems(name)
    out: list = []
    root_tag = None
    try:
        for event, el in ET.iterparse(io.BytesIO(body.encode("utf-8")), events=("start", "end")):
            if event == "start":
                if root_tag is None:
                    root_tag = el.tag
                    if root_tag not in ("PubmedArticleSet", "PubmedArticle"):
                        return [], [Problem(name, "", f"the XML's root is <{excerpt(root_tag)[1:-1]}>, not PubMed's <PubmedArticleSet>")]
                continue
            if el.tag not in ("PubmedArticle", "PubmedBookArticle"):
                continue
            where = f"PubmedArticleSet.{el.tag}[{len(out)}]"
            if len(out) >= MAX_RECORDS:
                return [], _too_many(name, len(out) + 1, "records or more")
            _pubmed_article(el, problems, out, where, name)
            el.clear()
    except ET.ParseError as exc:
        line, col = exc.position
        return [], [Problem(name, "", f"not well-formed XML: {str(exc).split(':')[0]} (line {line}, column {col})")]
    return _closed(name, problems, out)


def _pubmed_article(el, problems: Problems, out: list, where: str, name: str) -> None:
    cit = el.find("MedlineCitation")
    book = el.find("BookDocument")
    base = cit if cit is not None else book
    if base is None:
        problems.add(where, "neither a MedlineCitation nor a BookDocument")
        out.append(None)
        return
    art = base.find("Article") if cit is not None else base
    title = _itertext(art.find("ArticleTitle") if art is not None else None) or \
        _itertext(base.find("BookTitle")) or _itertext(art.find("VernacularTitle") if art is not None else None)
    parts = []
    for ab in (art.findall("Abstract/AbstractText") if art is not None else []) or base.findall("Abstract/AbstractText"):
        t = _itertext(ab).strip()
        label = ab.get("Label")
        parts.append(f"{label}: {t}" if label and t else t)
    authors = []
    for a in (art.findall("AuthorList/Author") if art is not None else []):
        last, initials, collective = a.findtext("LastName"), a.findtext("Initials") or a.findtext("ForeName"), a.findtext("CollectiveName")
        authors.append(f"{last}, {initials}" if last and initials else (last or collective))
    journal = art.find("Journal") if art is not None else None
    year = None
    if journal is not None:
        year = journal.findtext("JournalIssue/PubDate/Year") or journal.findtext("JournalIssue/PubDate/MedlineDate")
    year = year or (art.findtext("ArticleDate/Year") if art is not None else None) or base.findtext("PubDate/Year")
    dois = [e.text for e in (art.findall("ELocationID") if art is not None else []) if e.get("EIdType") == "doi" and e.text]
    dois += [e.text for e in el.findall("PubmedData/ArticleIdList/ArticleId") if e.get("IdType") == "doi" and e.text]
    ncts = [_itertext(e) for e in (art.findall("DataBankList/DataBank/AccessionNumberList/AccessionNumber")
                                   if art is not None else [])]
    keywords = [_itertext(k) for k in base.findall("KeywordList/Keyword")]
    keywords += [_itertext(m) for m in base.findall("MeshHeadingList/MeshHeading/DescriptorName")]
    kind = art.findtext("PublicationTypeList/PublicationType") if art is not None else "Book"
    pmid = base.findtext("PMID")
    _record(problems, out, where, None, title=title, abstract=" ".join(p for p in parts if p) or None, authors=authors,
            year=year, journal=(journal.findtext("Title") if journal is not None else None) or
            (cit.findtext("MedlineJournalInfo/MedlineTA") if cit is not None else None),
            doi=dois, pmid=[pmid], keywords=keywords, kind=kind, accession=pmid, file=name, more_text=ncts)


# ---------------------------------------------------------------------------------------------
# ClinicalTrials.gov JSON
# ---------------------------------------------------------------------------------------------


def read_ctgov(text: str, name: str) -> tuple[list[Record], list[Problem]]:
    """A ClinicalTrials.gov study record (API v2 or legacy v1) or an API v2 search page -> records."""
    from ..importers.ctgov_record import V1_ROOT, RecordError, _Node, parse_record

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem(name, "", f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]
    except RecursionError:
        return [], [Problem(name, "", "not JSON this reader accepts: nested too deeply")]
    studies: list[tuple[str, dict]] = []
    if isinstance(data, dict) and isinstance(data.get("studies"), list):
        studies = [(f"studies[{i}]", s) for i, s in enumerate(data["studies"])]
    elif isinstance(data, dict) and "protocolSection" in data:
        studies = [("", data)]
    elif isinstance(data, dict) and isinstance(data.get("FullStudiesResponse"), dict):
        full = data["FullStudiesResponse"].get("FullStudies") or []
        studies = [(f"FullStudiesResponse.FullStudies[{i}]", {"FullStudiesResponse": {"FullStudies": [s]}})
                   for i, s in enumerate(full if isinstance(full, list) else [])]
    else:
        return [], [Problem(name, "", "not a ClinicalTrials.gov study record or search page "
                                      "(no protocolSection, studies or FullStudiesResponse)")]
    too_many = _too_many(name, len(studies))
    if too_many:
        return [], too_many
    problems = Problems(name)
    out: list = []
    for where, study in studies:
        try:
            rec = parse_record(study)
        except RecordError as exc:
            path = ".".join(p for p in (where, exc.path) if p and not exc.path.startswith("FullStudiesResponse"))
            problems.add(path or exc.path, exc.reason)
            out.append(None)
            continue
        v1 = rec.layout != "API v2"
        root = _Node(study["FullStudiesResponse"]["FullStudies"][0]["Study"], V1_ROOT, True) if v1 else _Node(study, "", False)
        ps = root.node("protocolSection", "ProtocolSection")
        summary = ps.node("descriptionModule", "DescriptionModule").text("briefSummary", "BriefSummary")
        keywords = ps.node("conditionsModule", "ConditionsModule").strings("keywords", "KeywordList.Keyword")
        first = rec.dates.get("first_posted") or rec.dates.get("start")
        _record(problems, out, where or "study", None,
                title=rec.official_title or rec.brief_title, abstract=summary, authors=[],
                year=first[0] if first else None, journal="ClinicalTrials.gov",
                nct_ids=[rec.nct_id], keywords=[*rec.conditions, *keywords], kind="registry record",
                accession=rec.nct_id, urls=[f"https://clinicaltrials.gov/study/{rec.nct_id}"], file=name,
                more_text=[s for s, _ in rec.secondary_ids] + ([rec.acronym] if rec.acronym else []))
    return _closed(name, problems, out)


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------

_COLUMNS = {
    "title": ("title", "primary title", "article title", "document title", "ti"),
    "abstract": ("abstract", "abstract note", "notes abstract", "ab"),
    "authors": ("authors", "author", "author names", "first authors", "au"),
    "year": ("year", "publication year", "published year", "pubyear", "py", "date"),
    "journal": ("journal", "journal title", "source title", "publication title", "secondary title", "source", "jo", "t2"),
    "doi": ("doi", "do"),
    "pmid": ("pmid", "pubmed id", "pubmed"),
    "nct_ids": ("nct id", "nct ids", "nct", "nct number", "clinical trial numbers", "trial registration",
                "registry number"),
    "keywords": ("keywords", "keyword", "author keywords", "index keywords", "mesh terms", "kw"),
    "kind": ("type", "document type", "publication type", "type of reference"),
    "accession": ("record id", "id", "accession number", "an", "key", "covidence", "eid"),
    "urls": ("url", "urls", "link"),
}


def _header_name(h: str) -> str:
    return re.sub(r"[\s_\-#]+", " ", ids.clean(h).lower()).strip()


def csv_columns(header: list[str]) -> dict[str, int]:
    """Record field -> column index, from a header row (first matching alias wins)."""
    names = [_header_name(h) for h in header]
    out: dict[str, int] = {}
    for key, aliases in _COLUMNS.items():
        for alias in aliases:
            if alias in names and names.index(alias) not in out.values():
                out[key] = names.index(alias)
                break
    return out


def csv_rows(text: str, name: str) -> tuple[list[str], list[tuple[int, list[str]]], list[Problem]]:
    """The header and rows of a CSV/TSV export (delimiter sniffed: comma, semicolon or tab), each
    row with its line; a field over the size limit or a malformed quote is a problem."""
    sample = text[:65536]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0] if "\n" in sample else sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_ABSTRACT * 4)
    rows: list[tuple[int, list[str]]] = []
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
        header = next(reader, None)
        if header is None:
            return [], [], [Problem(name, "", "empty: no header row")]
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                msg = str(exc)
                if "field larger than field limit" in msg:
                    msg = f"a field longer than {MAX_ABSTRACT * 4:,} characters"
                return [], [], [Problem(name, f"row {len(rows) + 1}", f"{msg} (line {line})")]
            if any(c.strip() for c in row):
                rows.append((line, row))
            if len(rows) > MAX_RECORDS:
                return [], [], _too_many(name, len(rows), "rows or more")
    except csv.Error as exc:
        return [], [], [Problem(name, "", f"not a CSV file this reader accepts: {exc}")]
    finally:
        csv.field_size_limit(limit)
    return header, rows, []


_INITIALS_NAME = re.compile(r"^[^,;]+ [A-Z][A-Za-z]?\.(?:-?[A-Z][a-z]?\.)*$")


def _split_list(cell: str) -> list[str]:
    """A cell of several values: split on ';' (or newlines); an author list written as Embase
    writes it ("Liu R., Adler D.G.") on ', '."""
    if not cell:
        return []
    if ";" not in cell and "\n" not in cell and ", " in cell:
        parts = [c.strip() for c in cell.split(", ")]
        if all(_INITIALS_NAME.match(p) for p in parts):
            return parts
    sep = ";" if ";" in cell else ("\n" if "\n" in cell else None)
    return [c.strip() for c in cell.split(sep)] if sep else [cell.strip()]


def read_csv(text: str, name: str) -> tuple[list[Record], list[Problem]]:
    """A table with a header row -> records (see :data:`_COLUMNS` for the names read)."""
    header, rows, problems = csv_rows(text, name)
    if problems:
        return [], problems
    cols = csv_columns(header)
    if not {"title", "abstract", "doi", "pmid", "nct_ids"} & set(cols):
        shown = ", ".join(excerpt(h, 30) for h in header[:8])
        return [], [Problem(name, "", f"no title, abstract, doi, pmid or nct_id column in the header ({shown})")]
    problems2 = Problems(name)
    out: list = []
    for line, row in rows:
        def cell(key):
            i = cols.get(key)
            return row[i].strip() if i is not None and i < len(row) and row[i].strip() else None

        _record(problems2, out, f"row {len(out) + 1}", line,
                title=cell("title"), abstract=cell("abstract"), authors=_split_list(cell("authors") or ""),
                year=cell("year") or cell("journal"), journal=cell("journal"), doi=cell("doi"), pmid=cell("pmid"),
                nct_ids=_split_list(cell("nct_ids") or ""), keywords=_split_list(cell("keywords") or ""),
                kind=cell("kind"), accession=cell("accession"), urls=_split_list(cell("urls") or ""), file=name,
                more_text=[cell("nct_ids") or ""])
    return _closed(name, problems2, out)


_READERS = {"ris": read_ris, "medline": read_medline, "pubmed-xml": read_pubmed_xml, "ctgov": read_ctgov,
            "csv": read_csv}

__all__ = ["FORMATS", "Export", "decode", "detect", "read_bytes", "read_export"]
