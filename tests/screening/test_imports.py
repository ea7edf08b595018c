"""Reading other tools' screening exports (ASReview RIS and CSV, Rayyan RIS and CSV, Covidence CSV)
and matching their rows to the project's records (livemeta_id, DOI, PMID, title with year)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from livemeta.errors import ValidationFailed
from livemeta.screening import imports
from livemeta.front.decide import _reason_id

FIXTURES = Path(__file__).parents[1] / "search" / "fixtures"


def text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8-sig")


def test_asreview_ris_and_csv_labels():
    rows = imports.read_asreview(text("asreview_labels.ris"), "labels.ris", "ris", "B. Reviewer")
    assert len(rows) == 32
    assert Counter(d[1] for r in rows for d in r.decisions) == {"include": 10, "exclude": 10}  # not seen: no decision
    assert rows[0].decisions == [("B. Reviewer", "include", None, None)] and rows[2].decisions == []
    rows = imports.read_asreview(text("asreview_generic_labels.csv"), "labels.csv", "csv", "B. Reviewer")
    assert [r.decisions[0][1] for r in rows] == ["include", "exclude"] * 3
    export = "record_id,livemeta_id,title,asreview_label,asreview_time,asreview_user_name\n" \
             "0,run/1,A,1,2026-03-02 10:00:00,Ann\n1,run/2,B,,,\n2,run/3,C,0,2026-03-02 10:01:00,Ann\n"
    rows = imports.read_asreview(export, "e.csv", "csv", None)
    assert [(r.livemeta_id, r.decisions) for r in rows] == [
        ("run/1", [("Ann", "include", None, __import__("datetime").datetime(2026, 3, 2, 10, 0))]), ("run/2", []),
        ("run/3", [("Ann", "exclude", None, __import__("datetime").datetime(2026, 3, 2, 10, 1))])]
    with pytest.raises(ValidationFailed, match=r"label '2': 1, 0 or empty"):
        imports.read_asreview("title,asreview_label\nA,2\n", "bad.csv", "csv", "X")
    with pytest.raises(ValidationFailed, match="no asreview_label"):
        imports.read_asreview("title,abstract\nA,b\n", "none.csv", "csv", "X")


def test_rayyan_ris_and_csv():
    rows = imports.read_rayyan(text("tinea_update.ris"), "tinea.ris", "ris")
    assert len(rows) == 14 and sum(len(r.decisions) for r in rows) == 16
    assert rows[0].decisions == [("Zbys", "exclude", None, None), ("m.el-gohary", "include", None, None)]
    assert rows[2].decisions == [("Zbys", "exclude", "wrong drug, wrong intervention", None)]
    assert rows[4].decisions == []  # labels only, no decision
    # the same decisions in Rayyan's CSV layout (its columns, notes copied from the RIS export)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["key", "title", "authors", "journal", "year", "abstract", "notes", "doi"])
    for r in rows[:3]:
        notes = " | ".join(f'RAYYAN-INCLUSION: {{"{who}"=>"{ {"include": "Included", "exclude": "Excluded"}[d]}"}}'
                           for who, d, *_ in r.decisions)
        w.writerow(["1", r.title, "", "", r.year, "", notes, ""])
    got = imports.read_rayyan(buf.getvalue(), "articles.csv", "csv")
    assert [len(r.decisions) for r in got] == [1, 1, 1] and got[1].decisions[0][:2] == ("Zbys", "include")
    with pytest.raises(ValidationFailed, match="Rayyan decision 'Perhaps' of 'A': Included, Excluded or Maybe"):
        imports.read_rayyan('TY  - JOUR\nTI  - x\nN1  - RAYYAN-INCLUSION: {"A"=>"Perhaps"}\nER  - \n', "r.ris", "ris")


def test_covidence_list_with_reasons():
    export = ('"Title","Authors","Abstract","Published Year","DOI","Covidence #","Exclusion reason"\n'
              '"A trial","Li, J","...","2023","10.1234/abc","#12","Wrong population"\n'
              '"Another","Wu, K","...","2022","","#13",""\n')
    rows = imports.read_covidence(export, "covidence.csv", "csv", "exclude", "Covidence consensus")
    assert [(r.title, r.doi, r.year, r.decisions) for r in rows] == [
        ("A trial", "10.1234/abc", 2023, [("Covidence consensus", "exclude", "Wrong population", None)]),
        ("Another", None, 2022, [("Covidence consensus", "exclude", None, None)])]
    assert _reason_id("Wrong population") == "wrong_population"


def test_rows_are_matched_to_one_record_or_refused():
    C = imports.Candidate
    records = [C("a/1", "a/1", "Pembrolizumab rechallenge", 2020, "10.1234/x", None),
               C("b/1", "a/1", "Pembrolizumab rechallenge.", 2020, "10.1234/x", "99"),  # a duplicate of a/1
               C("a/2", "a/2", "Nivolumab again", 2021, None, None),
               C("a/3", "a/3", "Nivolumab again", 2019, None, None)]
    R = imports.ImportRow
    rows = [R("r1", livemeta_id="b/1"), R("r2", doi="10.1234/x"), R("r3", pmid="99"), R("r4", title="NIVOLUMAB again!", year=2021)]
    assert imports.match_rows(rows, records, "x.csv") == ["a/1", "a/1", "a/1", "a/2"]
    with pytest.raises(ValidationFailed) as exc:
        imports.match_rows([R("r5", title="Nivolumab again"), R("r6", title="Unknown")], records, "x.csv")
    msg = str(exc.value)
    assert "x.csv: r5: 'Nivolumab again': matches 2 records by title (a/2, a/3)" in msg
    assert "x.csv: r6: 'Unknown': no record of the searches has its title" in msg
