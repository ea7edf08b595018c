"""One trial is one trial: identifiers match in full, and an identifier of another trial is refused.

The case that let CONTACT-01 be pooled twice: a second file with ``"contact-01\\n"`` and
``"NCT04471428\\n"`` (a trailing newline in the id and the NCT id) ingested as a second trial.
"""

from __future__ import annotations

import json

import pytest
import yaml

from livemeta.errors import ValidationFailed
from livemeta.ingest import ingest_files, validate_files
from livemeta.ingest.synthetic import study

from tests.conftest import REPO

from .conftest import table_state


@pytest.fixture
def contact_db(tmp_path):
    db = tmp_path / "c.duckdb"
    ingest_files(db, [REPO / "data" / "studies" / "contact-01.yaml", REPO / "data" / "studies" / "leap-008.yaml"],
                 message="seed", author="t")
    return db


def _refused(db, path, supersede=False):
    before = table_state(db)
    with pytest.raises(ValidationFailed) as info:
        ingest_files(db, [path], message="must fail", author="t", supersede=supersede)
    assert table_state(db) == before
    return [(p.path, p.reason) for p in info.value.problems]


def _contact(tmp_path, name, change, as_json=False):
    d = yaml.safe_load((REPO / "data" / "studies" / "contact-01.yaml").read_text())
    change(d)
    path = tmp_path / (name + (".json" if as_json else ".yaml"))
    path.write_text(json.dumps(d) if as_json else yaml.safe_dump(d, sort_keys=False))
    return path


def test_a_trailing_newline_in_an_id_or_nct_id_is_refused(contact_db, tmp_path):
    def change(d):
        d["trial"]["id"] += "\n"
        d["trial"]["nct_id"] += "\n"

    problems = _refused(contact_db, _contact(tmp_path, "again", change, as_json=True))
    assert ("trial.id", "'contact-01\\n' is not a valid id (lower-case letters, digits, '_', '.', '-'; up to 64 "
            "characters, starting with a letter or digit)") in problems
    assert ("trial.nct_id", "'NCT04471428\\n' is not an NCT id (NCT and 8 digits)") in problems


@pytest.mark.parametrize("field, value, message", [
    (("sources", 0, "pmid"), " 38301234", "is not a PubMed id"),
    (("outcomes", 0, "data_cutoff"), "2024-01-01\n", "is not a date written YYYY-MM-DD"),
    (("trial", "name"), "CONTACT-01 ", "has white space before or after it"),
    (("arms", 0, "id"), "atezo\t", "is not a valid id"),
])
def test_white_space_around_an_identifier_is_refused(tmp_path, field, value, message):
    def change(d):
        node = d
        for k in field[:-1]:
            node = node[k]
        node[field[-1]] = value

    path = _contact(tmp_path, "ws", change)
    report = validate_files([path], raise_on_problems=False)
    hits = [p for p in report.problems if message in p.reason]
    assert hits, report.summary()
    assert hits[0].path.startswith(field[0])


@pytest.mark.parametrize("text, code", [("HR 0.74\x1b[2J", "U+001B"), ("HR\u202e 0.74", "U+202E"), ("a\x07b", "U+0007")])
def test_control_characters_and_terminal_escapes_are_refused(tmp_path, text, code):
    path = _contact(tmp_path, "ctl", lambda d: d["outcomes"][0].update(raw_text=text), as_json=True)
    report = validate_files([path], raise_on_problems=False)
    assert [(p.path, code in p.reason) for p in report.problems] == [("outcomes[0].raw_text", True)]
    assert "\x1b" not in report.summary()  # the message shows it escaped


def test_free_text_may_end_with_a_line_break(tmp_path):
    path = _contact(tmp_path, "block", lambda d: d["outcomes"][0].update(raw_text="HR 0.74\n(95% CI 0.59-0.92)\n"))
    assert validate_files([path]).ok


@pytest.mark.parametrize("what, change, path, reason", [
    ("the NCT id", lambda d: d["trial"].update(nct_id="NCT04471428"), "trial.nct_id",
     "trial 'contact-01' in the database already has the NCT id 'NCT04471428'"),
    ("the name", lambda d: d["trial"].update(name="Contact 01"), "trial.name",
     "trial 'contact-01' in the database already has the same name (ignoring case, spaces and punctuation)"),
    ("a DOI in another case", lambda d: d["sources"][0].update(doi=None), None, None),
])
def test_an_identifier_of_another_trial_is_refused_naming_it(contact_db, tmp_path, what, change, path, reason):
    contact = yaml.safe_load((REPO / "data" / "studies" / "contact-01.yaml").read_text())
    d = study(1)
    change(d)
    if path is None:  # a companion publication: CONTACT-01's own paper cited as a new trial's source
        src = next(s for s in contact["sources"] if s.get("pmid") or s.get("doi"))
        d["sources"][0].update(doi=(src.get("doi") or "").upper() or None, pmid=src.get("pmid"))
        path, reason = "sources[0]", "a companion publication of a trial is one more source of that trial"
    f = tmp_path / "new.yaml"
    f.write_text(yaml.safe_dump(d, sort_keys=False))
    problems = _refused(contact_db, f)
    assert any(p.startswith(path) and reason in r for p, r in problems), problems


def test_another_registry_id_and_duplicates_within_a_batch(tmp_path):
    a, b = study(1), study(2)
    a["trial"]["other_ids"] = "ChiCTR1900027634"
    b["trial"]["other_ids"] = "EudraCT 2020-001; ChiCTR1900027634"
    b["sources"][0]["pmid"] = a["sources"][0]["pmid"]
    files = []
    for d in (a, b):
        f = tmp_path / f"{d['trial']['id']}.yaml"
        f.write_text(yaml.safe_dump(d, sort_keys=False))
        files.append(f)
    report = validate_files(files, raise_on_problems=False)
    got = {(p.file.endswith("00002.yaml"), p.path, p.reason.split(";")[0]) for p in report.problems}
    assert (True, "trial.other_ids", "trial 'synthetic-00001' in this batch already has the registry id 'ChiCTR1900027634'") in got
    assert (True, "sources[0].pmid", f"trial 'synthetic-00001' in this batch already has the PMID '{a['sources'][0]['pmid']}'") in got


def test_a_trial_superseding_itself_keeps_its_own_identifiers(contact_db, tmp_path):
    path = _contact(tmp_path, "contact-01", lambda d: d["trial"].update(note="corrected"))
    report = ingest_files(contact_db, [path], message="correct", author="t", supersede=True)
    assert report.superseded == ["contact-01"]
