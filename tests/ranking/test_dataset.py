"""Reading a labelled dataset: the shipped layout, and hostile files ending in a message naming the
file, the line and the reason."""

from __future__ import annotations

import pytest

from livemeta.errors import LivemetaError, ValidationFailed
from livemeta.ranking.dataset import MAX_PROBLEMS, parse_labelled_csv, read_labelled_csv
from tests.conftest import REPO

FIXTURE = REPO / "tests/ranking/data/nsaids100.csv"


def test_the_fixture():
    data = read_labelled_csv(FIXTURE)
    assert len(data.records) == 100
    assert int(data.labels.sum()) == 16
    assert data.ids[:3] == [1, 2, 3]  # integer ids stay integers
    first = data.records[0]
    assert first.title == "Quality of life in arthritis patients using nonsteroidal anti-inflammatory drugs."
    assert first.keywords[:2] == ("Aged", "Anti-Inflammatory Agents, Non-Steroidal")  # split at ";" only
    assert len(first.keywords) == 11


def test_text_ids_keywords_optional_and_bom():
    text = "\ufeffrecord_id,title,abstract,label_included\nA-1,T one,,1\n007,T two,Abs,0\n"
    data = parse_labelled_csv(text, "x.csv")
    assert data.ids == ["A-1", "007"]  # not all plain integers: kept as text
    assert data.labels.tolist() == [1, 0]
    assert data.records[0].keywords == ()


def _problems(text: str) -> str:
    with pytest.raises(ValidationFailed) as exc:
        parse_labelled_csv(text, "d.csv")
    return str(exc.value)


def test_empty_file():
    assert "d.csv: empty" in _problems("")
    assert "d.csv: empty" in _problems("\n\n")
    assert "no records" in _problems("record_id,title,abstract,label_included\n")


def test_missing_columns():
    msg = _problems("record_id,title,label\n1,a,1\n")
    assert "d.csv: line 1: no column abstract, label_included" in msg


def test_labels_not_0_or_1():
    msg = _problems("record_id,title,abstract,label_included\n1,a,b,1\n2,a,b,yes\n3,a,b,\n4,a,b,-1\n")
    assert "d.csv: line 3.label_included: 'yes': a label is 0 (exclude) or 1 (include)" in msg
    assert "d.csv: line 4.label_included: empty" in msg
    assert "line 5.label_included: '-1'" in msg
    assert "3 problems found; nothing was written." in msg


def test_duplicate_and_empty_ids():
    msg = _problems("record_id,title,abstract,label_included\n1,a,b,1\n2,a,b,0\n1,c,d,0\n,e,f,1\n")
    assert "d.csv: line 4.record_id: '1' is also on line 2" in msg
    assert "d.csv: line 5.record_id: empty" in msg


def test_line_numbers_count_quoted_new_lines():
    text = 'record_id,title,abstract,label_included\n1,"two\nlines",b,1\n2,a,b,x\n'
    assert "line 4.label_included" in _problems(text)


def test_too_many_cells_and_a_duplicated_column():
    assert "line 2: 5 cells; the header has 4" in _problems("record_id,title,abstract,label_included\n1,a,b,1,9\n")
    assert "column title appears more than once" in _problems("record_id,title,title,abstract,label_included\n")


def test_many_problems_are_capped():
    rows = "".join(f"{i},t,a,2\n" for i in range(MAX_PROBLEMS + 15))
    msg = _problems("record_id,title,abstract,label_included\n" + rows)
    assert msg.count("a label is 0") == MAX_PROBLEMS
    assert "and 15 more problems" in msg


def test_binary_and_non_utf8_files(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("record_id,title,abstract,label_included\n1,caf\u00e9,b,1\n".encode("latin-1"))
    with pytest.raises(ValidationFailed, match=r"latin.csv: line 2: not UTF-8"):
        read_labelled_csv(latin)
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"record_id,title\x00,abstract,label_included\n")
    with pytest.raises(ValidationFailed, match="NUL"):
        read_labelled_csv(nul)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(LivemetaError, match="no such file"):
        read_labelled_csv(tmp_path / "nope.csv")
    with pytest.raises(LivemetaError, match="is a folder"):
        read_labelled_csv(tmp_path)


def test_a_huge_field_is_a_message(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("record_id,title,abstract,label_included\n1,t," + "x" * 200_000 + ",1\n")
    with pytest.raises(ValidationFailed, match="big.csv: line 2: not readable as CSV"):
        read_labelled_csv(big)
