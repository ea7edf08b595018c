"""Reading real exports (RIS of six databases, MEDLINE, PubMed XML, ClinicalTrials.gov JSON, CSV)
into records, and refusing hostile files with a message naming the file, the record and the reason."""

from __future__ import annotations

import codecs
import json
import time
from pathlib import Path

import pytest

from livemeta.errors import ValidationFailed
from livemeta.search.formats import read_bytes, read_export

FIXTURES = Path(__file__).parent / "fixtures"
CTGOV = Path(__file__).parents[1] / "importers" / "fixtures"


def read(name: str, **kw):
    return read_export(FIXTURES / name, **kw)


@pytest.mark.parametrize("name, fmt, n", [
    ("embase.ris", "ris", 6), ("scopus.ris", "ris", 6), ("ovid_psycinfo.ris", "ris", 6), ("ovid_zotero.ris", "ris", 6),
    ("proquest.ris", "ris", 6), ("pubmed_zotero.ris", "ris", 6), ("pubmed_endnote.txt", "ris", 6),
    ("tinea_update.ris", "ris", 14), ("embase.csv", "csv", 6), ("pubmed_result1.txt", "medline", 1),
    ("pubmed_result2.txt", "medline", 4), ("pubmed1.xml", "pubmed-xml", 2), ("pubmed2.xml", "pubmed-xml", 2),
])
def test_every_fixture_reads_with_its_records(name, fmt, n):
    e = read(name)
    assert (e.format, len(e.records)) == (fmt, n)
    assert all(r.title for r in e.records) and [r.n for r in e.records] == list(range(1, n + 1))
    assert all(r.file == name for r in e.records)


def test_ris_fields_of_each_database():
    r = read("embase.ris").records[0]
    assert (r.title, r.authors, r.year, r.doi, r.journal, r.line) == (
        "Duplication cysts: Diagnosis, management, and the role of endoscopic ultrasound", ["Liu R.", "Adler D.G."], 2014,
        "10.4103/2303-9027.138783", "Endoscopic Ultrasound", 1)
    assert len(r.abstract) == 958 and len(r.keywords) == 22
    psyc, zot = read("ovid_psycinfo.ris").records, read("ovid_zotero.ris").records
    assert [p.doi for p in psyc] == [z.doi for z in zot]  # http://dx.doi.org/... and bare DOIs: one normal form
    assert psyc[0].doi == "10.1002/cpp.2398" and psyc[0].accession == "2019-65183-001" and psyc[0].line == 2
    end = read("pubmed_endnote.txt").records[0]  # EndNote's PubMed export: AN is the PMID (DP - NLM)
    assert (end.pmid, end.doi, end.authors[0], end.year) == ("21553931", "10.2165/11586800-000000000-00000", "Abdel-Tawab, M.", 2011)
    assert "Boswellia/*chemistry" in end.keywords  # keywords as continuation lines, one each
    assert read("proquest.ris").records[0].pmid is None  # a ProQuest accession number is not a PMID
    assert read("scopus.ris").records[1].line == 226


def test_medline_and_pubmed_xml():
    recs = read("pubmed_result2.txt").records
    assert [r.pmid for r in recs] == ["16403221", "16377612", "14871861", "14630660"]
    assert recs[0].doi == "10.1186/1471-2105-7-10" and recs[0].authors[0] == "Casbon, James A" and recs[0].year == 2006
    assert recs[1].title.startswith("GenomeDiagram: a python package for the visualization of large-scale genomic")
    xml = read("pubmed2.xml").records
    assert [(r.pmid, r.doi, r.year) for r in xml] == [("11748933", "10.1006/cryo.2001.2328", 2001),
                                                      ("11700088", "10.1006/jmre.2001.2429", 2001)]
    assert xml[0].authors[0] == "Taddei, AR" and xml[0].journal == "Cryobiology"
    assert [r.pmid for r in read("pubmed1.xml").records] == ["12091962", "9997"]  # not the cited articles' PMIDs


def test_embase_csv_matches_its_ris():
    csv_recs, ris_recs = read("embase.csv").records, read("embase.ris").records
    assert [r.title for r in csv_recs] == [r.title for r in ris_recs]
    assert [r.year for r in csv_recs] == [r.year for r in ris_recs]  # from "Endoscopic Ultrasound (2014) 3:3 ..."
    assert csv_recs[0].authors == ["Liu R.", "Adler D.G."] and csv_recs[0].doi is None


def test_clinicaltrials_gov_record_search_page_and_legacy_record():
    one = json.loads((CTGOV / "NCT02210780.json").read_text())
    two = json.loads((CTGOV / "NCT02552212.json").read_text())
    page = json.dumps({"studies": [one, two], "nextPageToken": None}).encode()  # the API v2 search page layout
    recs = read_bytes(page, "page.json").records
    assert [r.nct_ids[0] for r in recs] == ["NCT02210780", "NCT02552212"]
    assert all(r.kind == "registry record" and r.accession == r.nct_ids[0] for r in recs)
    assert recs[0].title and recs[0].abstract and recs[0].urls == ["https://clinicaltrials.gov/study/NCT02210780"]
    legacy = read_export(CTGOV / "NCT02028676.json").records
    assert len(legacy) == 1 and legacy[0].nct_ids[0] == "NCT02028676"


def test_nct_ids_from_text_and_utf16():
    ris = "TY  - JOUR\nTI  - A trial\nAB  - Registered as NCT 04471428.\nER  - \n"
    r = read_bytes(codecs.BOM_UTF16_LE + ris.encode("utf-16-le"), "x.ris").records[0]
    assert r.nct_ids == ["NCT04471428"]


def refused(raw: bytes, name: str, **kw) -> str:
    with pytest.raises(ValidationFailed) as exc:
        read_bytes(raw, name, **kw)
    return str(exc.value)


def test_malformed_ris():
    assert "record 2: no 'ER  -' line ends the record that starts at line 4" in refused(
        b"TY  - JOUR\nTI  - one\nER  - \nTY  - JOUR\nTI  - two\n", "a.ris")
    assert "a new record starts at line 3 before 'ER  -' ended the one that starts at line 1" in refused(
        b"TY  - JOUR\nTI  - one\nTY  - JOUR\nTI  - two\nER  - \n", "b.ris")
    assert "c.ris: no RIS record in it" in refused(b"hello\n", "c.ris", format="ris")
    assert "an empty record: no field between TY and ER (line 1)" in refused(b"TY  - JOUR\nER  - \n", "d.ris")


def test_a_ris_bomb_of_a_million_empty_records_is_refused_quickly():
    t = time.perf_counter()
    msg = refused(b"TY  - JOUR\nER  - \n" * 1_000_000, "bomb.ris")
    assert "bomb.ris: more than 250,000 records; a search run holds at most 250,000" in msg
    msg = refused(b"TY  - JOUR\nER  - \n" * 200_000, "bomb2.ris")  # under the limit: each record is empty
    assert "bomb2.ris: record 1: an empty record" in msg and "and 199,980 more problems like those above" in msg
    assert time.perf_counter() - t < 60  # a guard against minutes of parsing, not a benchmark


def test_a_50_mb_abstract_is_refused_without_echoing_it():
    raw = b"TY  - JOUR\nTI  - A title\nAB  - " + b"x" * 50_000_000 + b"\nER  - \n"
    msg = refused(raw, "big.ris")
    assert "big.ris: record 1.abstract: 50,000,000 characters; a record's abstract is at most 100,000 (line 1)" in msg
    assert "xxxxxxxxxx" not in msg


def test_unknown_encodings_need_naming():
    raw = "TY  - JOUR\nTI  - Caf\u00e9 au lait\nER  - \n".encode("cp1252")
    msg = refused(raw, "win.ris")
    assert "not UTF-8 text: byte 0xe9 at line 2 cannot be decoded" in msg and "--encoding" in msg
    assert read_bytes(raw, "win.ris", encoding="cp1252").records[0].title == "Caf\u00e9 au lait"
    assert "'klingon' is not an encoding" in refused(raw, "win.ris", encoding="klingon")
    assert "binary content" in refused(b"TY  - JOUR\nTI  - a\x00b\nER  - \n", "nul.ris")


def test_hostile_xml_csv_json():
    bomb = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><PubmedArticleSet>&b;</PubmedArticleSet>'
    assert "declares XML entities" in refused(bomb, "bomb.xml")
    assert "not well-formed XML" in refused(b"<PubmedArticleSet><PubmedArticle>", "cut.xml")
    assert "not PubMed's <PubmedArticleSet>" in refused(b"<html><body/></html>", "page.xml")
    assert "a field longer than 400,000 characters" in refused(b"title,abstract\nx," + b"y" * 1_000_000 + b"\n", "big.csv")
    assert "no title, abstract, doi, pmid or nct_id column" in refused(b"a,b\n1,2\n", "t.csv")
    assert "row 2: an empty record" in refused(b"title,doi\nA title,10.1/x\n,\xef\xbb\xbf\n ,nodoi\n", "e.csv")
    assert "not a ClinicalTrials.gov study record or search page" in refused(b'{"foo": 1}', "f.json")
    assert "studies[0].protocolSection" in refused(b'{"studies": [{"protocolSection": {}}]}', "g.json")


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if p.name != "README.md"))
def test_records_jsonl_round_trips_every_fixture(name):
    """records.jsonl holds the records read from the export, exactly: `search add` relies on it
    (the run it just read is not read back from the file it wrote)."""
    from livemeta.search.records import read_jsonl, to_jsonl

    records = read(name).records
    back, problems = read_jsonl(to_jsonl(records).encode("utf-8"), "records.jsonl")
    assert problems == [] and [r.to_dict() for r in back] == [r.to_dict() for r in records]


def test_a_run_folder_reads_back_as_the_run_that_wrote_it():
    """search.yaml and records.jsonl hold the run exactly (odd queries included): the replay of the
    commit in any clone gives the rows the adding process wrote."""
    from livemeta.front.search import build_run
    from livemeta.search.runs import parse_run, run_files

    query = "  ('pd-1'/exp OR \"pd-l1\") AND rechallenge:ti,ab  \n#2 AND [2019-2026]/py \t\n: yes # no\n\u00e9\u4e2d  "
    run, exports = build_run([FIXTURES / "embase.ris", FIXTURES / "pubmed1.xml"], source="Embase: \"emtree\"",
                             query=query, date="2026-03-01", note="line one\nline two: x", taken={"embase-emtree-2026-03-01"})
    assert run.run_id == "embase-emtree-2026-03-01-2" and [r.n for r in run.records] == list(range(1, 9))
    files = {f"searches/{run.run_id}/{k}": v for k, v in run_files(run, exports).items()}
    back, problems = parse_run(f"searches/{run.run_id}", files)
    assert problems == []
    assert (back.run_id, back.source, back.query, back.date, back.files, back.note) == \
        (run.run_id, run.source, run.query, run.date, run.files, run.note)
    assert [r.to_dict() for r in back.records] == [r.to_dict() for r in run.records]
