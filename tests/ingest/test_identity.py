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
     "trial 'contact-01' in the database already has the same name (ignoring case, spaces, punctuation and look-alike "
     "characters)"),
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


def _batch(tmp_path, *studies) -> list:
    """Each study written to its own file in ``tmp_path``; the paths, in order."""
    files = []
    for d in studies:
        f = tmp_path / f"{d['trial']['id']}.yaml"
        f.write_text(yaml.safe_dump(d, sort_keys=False))
        files.append(f)
    return files


def test_another_registry_id_and_duplicates_within_a_batch(tmp_path):
    a, b = study(1), study(2)
    a["trial"]["other_ids"] = "ChiCTR1900027634"
    b["trial"]["other_ids"] = "EudraCT 2020-001; ChiCTR1900027634"
    b["sources"][0]["pmid"] = a["sources"][0]["pmid"]
    files = _batch(tmp_path, a, b)
    report = validate_files(files, raise_on_problems=False)
    got = {(p.file.endswith("00002.yaml"), p.path, p.reason.split(";")[0]) for p in report.problems}
    assert (True, "trial.other_ids", "trial 'synthetic-00001' in this batch already has the registry id 'ChiCTR1900027634'") in got
    assert (True, "sources[0].pmid", f"trial 'synthetic-00001' in this batch already has the PMID '{a['sources'][0]['pmid']}'") in got


def test_a_trial_superseding_itself_keeps_its_own_identifiers(contact_db, tmp_path):
    path = _contact(tmp_path, "contact-01", lambda d: d["trial"].update(note="corrected"))
    report = ingest_files(contact_db, [path], message="correct", author="t", supersede=True)
    assert report.superseded == ["contact-01"]


# --- issue 21: the four doors a duplicate came in by -----------------------------------------------


@pytest.fixture(scope="module")
def contact_saffron_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("dup") / "c.duckdb"
    ingest_files(db, [REPO / "data" / "studies" / "contact-01.yaml", REPO / "data" / "studies" / "saffron-103.yaml"],
                 message="seed", author="t")
    return db


def _against_db(db, tmp_path, change):
    """The problems of a new synthetic trial changed by ``change``, validated against ``db`` as
    `livemeta validate` and `livemeta ingest` do (every check, the database's included)."""
    from livemeta.db import connect

    d = study(7)
    change(d)
    f = tmp_path / "new.yaml"
    f.write_text(yaml.safe_dump(d, sort_keys=False, allow_unicode=True))
    with connect(db, read_only=True) as con:
        report = validate_files([f], con=con, raise_on_problems=False)
    return [(p.path, p.reason) for p in report.problems]


CONTACT_NCT = "NCT04471428"
SAFFRON_DOI = "10.1136/jitc-2022-006055"


@pytest.mark.parametrize("what, change, path, fragment", [
    ("CONTACT-01's NCT id in other_ids, no nct_id", lambda d: d["trial"].update(nct_id=None, other_ids=CONTACT_NCT),
     "trial.other_ids", f"trial 'contact-01' in the database already has the NCT id '{CONTACT_NCT}'"),
    ("CONTACT-01's NCT id in other_ids beside its own", lambda d: d["trial"].update(other_ids=f"EudraCT 2020-1; {CONTACT_NCT.lower()}"),
     "trial.other_ids", f"trial 'contact-01' in the database already has the NCT id '{CONTACT_NCT}'"),
    ("SAFFRON-103's DOI with a zero-width space", lambda d: d["sources"][0].update(doi="10.1136/jitc-2022\u200b-006055"),
     "sources[0].doi", f"trial 'saffron-103' in the database already has the DOI '{SAFFRON_DOI}'"),
    ("SAFFRON-103's DOI in full-width letters", lambda d: d["sources"][0].update(doi="10.1136/\uff4a\uff49\uff54\uff43-2022-006055"),
     "sources[0].doi", f"trial 'saffron-103' in the database already has the DOI '{SAFFRON_DOI}'"),
    ("SAFFRON-103's DOI only as a doi.org URL", lambda d: d["sources"][0].update(doi=None, pmid=None, url=f"https://doi.org/{SAFFRON_DOI}"),
     "sources[0].url", f"trial 'saffron-103' in the database already has the DOI '{SAFFRON_DOI}'"),
    ("SAFFRON-103's DOI in a publisher's /doi/ URL", lambda d: d["sources"][0].update(url=f"https://jitc.bmj.com/doi/full/{SAFFRON_DOI.upper()}"),
     "sources[0].url", f"trial 'saffron-103' in the database already has the DOI '{SAFFRON_DOI}'"),
    ("CONTACT-01's PMID with a leading zero", lambda d: d["sources"][0].update(pmid="038552197"),
     "sources[0].pmid", "trial 'contact-01' in the database already has the PMID '38552197' (the same PMID as '038552197' here)"),
    ("CONTACT-01's PMID only as a PubMed URL", lambda d: d["sources"][0].update(pmid=None, url="https://pubmed.ncbi.nlm.nih.gov/38552197/"),
     "sources[0].url", "trial 'contact-01' in the database already has the PMID '38552197'"),
    ("CONTACT-01's NCT id in a registry URL", lambda d: d["sources"][0].update(url=f"https://clinicaltrials.gov/study/{CONTACT_NCT}"),
     "sources[0].url", f"trial 'contact-01' in the database already has the NCT id '{CONTACT_NCT}'"),
    ("CONTACT-01's name with Cyrillic letters, its own ids", lambda d: d["trial"].update(name="\u0421\u041eNTACT-01"),
     "trial.name", "trial 'contact-01' in the database already has the same name (ignoring case, spaces, punctuation and "
     "look-alike characters): 'CONTACT-01'"),
    ("CONTACT-01's name with a digit one for an l", lambda d: d["trial"].update(name="contact-0l"),
     "trial.name", "trial 'contact-01' in the database already has the same name"),
])
def test_a_disguised_identifier_of_a_trial_in_the_database_is_refused(contact_saffron_db, tmp_path, what, change, path, fragment):
    problems = _against_db(contact_saffron_db, tmp_path, change)
    assert any(p == path and fragment in r for p, r in problems), (what, problems)


def test_a_disguised_doi_is_named_as_both_problems(contact_saffron_db, tmp_path):
    """A DOI with an invisible character is refused for its form and for whose it is, in one run."""
    problems = _against_db(contact_saffron_db, tmp_path, lambda d: d["sources"][0].update(doi="10.1136/jitc-2022\u200b-006055"))
    reasons = [r for p, r in problems if p == "sources[0].doi"]
    assert len(reasons) == 2, problems
    assert reasons[0].startswith("the DOI contains an invisible character (U+200B Zero Width Space): write it as "
                                 f"'{SAFFRON_DOI}'")
    assert "(the same DOI as '10.1136/jitc-2022\\u200b-006055' here)" in reasons[1]


def test_an_unrelated_trial_with_news_urls_of_another_trial_is_not_a_duplicate(contact_saffron_db, tmp_path):
    """Only URLs that carry a DOI, PMID or NCT id are compared: one news page may report two trials."""
    contact = yaml.safe_load((REPO / "data" / "studies" / "contact-01.yaml").read_text())
    news = next(s["url"] for s in contact["sources"] if s.get("kind") == "news_report")
    problems = _against_db(contact_saffron_db, tmp_path, lambda d: d["sources"][0].update(url=news))
    assert not [p for p in problems if "already has" in p[1]], problems


def test_the_canonical_forms():
    from livemeta.ingest.identifiers import doi_key, name_keys, nct_key, pmid_key, url_identifiers

    assert doi_key("10.1136/JITC-2022\u200b-006055") == doi_key("doi:10.1136/jitc-2022-006055") == SAFFRON_DOI
    assert doi_key("https://dx.doi.org/10.1136%2Fjitc-2022-006055") == SAFFRON_DOI
    assert doi_key("10.1136") is None and doi_key('10.9999/"><svg>') is None
    assert pmid_key("038552197") == pmid_key(38552197) == pmid_key("\uff13\uff18552197") == "38552197"
    assert pmid_key("3855219a") is None
    assert nct_key("nct04471428") == nct_key("NCT04471428\u200b") == CONTACT_NCT and nct_key("NCT123") is None
    assert url_identifiers("https://www.pubmed.gov/37866811/") == [("PMID", "37866811")]
    assert url_identifiers("https://clinicaltrials.gov/ct2/show/NCT04495153") == [("NCT id", "NCT04495153")]
    assert url_identifiers("https://onlinelibrary.wiley.com/doi/full/10.1002/cam4.71191") == [("DOI", "10.1002/cam4.71191")]
    assert url_identifiers("https://www.ilcn.org/a-pragmatic-approach-to-trial-design") == []
    assert name_keys("\u0412\u0410D-01") [0] == name_keys("bad 01")[0]
    assert set(name_keys("KEYNOTE-I")) & set(name_keys("keynote-i"))
    assert not set(name_keys("SAFFRON-103")) & set(name_keys("SAFFRON-301"))


def test_no_two_bundled_trials_share_an_identifier():
    """The rules do not merge distinct trials of the bundled evidence (the news page two trials cite
    included)."""
    paths = sorted((REPO / "data" / "studies").glob("*.yaml"))
    report = validate_files(paths, raise_on_problems=False)
    assert report.ok, report.summary()


def test_identifiers_in_different_fields_meet_within_a_batch(tmp_path):
    """The same comparison within one batch: a DOI given as a doi.org URL in one file and as a DOI in
    another, an NCT id in other_ids of one and nct_id of another."""
    a, b = study(21), study(22)
    a["sources"][0]["doi"] = "10.1200/JCO.23.02166"
    b["sources"][0].update(doi=None, url="https://doi.org/10.1200/jco.23.02166")
    b["trial"]["other_ids"] = a["trial"]["nct_id"].lower()
    files = _batch(tmp_path, a, b)
    report = validate_files(files, raise_on_problems=False)
    got = {(p.path, p.reason.split(";")[0]) for p in report.problems if p.file == str(files[1])}
    assert ("sources[0].url", "trial 'synthetic-00021' in this batch already has the DOI '10.1200/JCO.23.02166' (the same "
            "DOI as 'https://doi.org/10.1200/jco.23.02166' here)") in got
    assert ("trial.other_ids", f"trial 'synthetic-00021' in this batch already has the NCT id '{a['trial']['nct_id']}' "
            f"(the same NCT id as '{a['trial']['nct_id'].lower()}' here)") in got


@pytest.mark.parametrize("url, kind, reason", [
    ("https://develop-sr3snxi-tt7lcx6s5gdv4.us-4.platformsh.site/site/onc/news/x", "a staging copy", "Platform.sh preview"),
    ("https://stage.medifind.com/articles/publication/562488586", "a staging copy", "a staging server"),
    ("https://www.medifind.com/conditions/x", "an aggregator", "MediFind republishes"),
])
def test_a_source_on_a_staging_copy_or_an_aggregator_is_valid_with_a_warning(tmp_path, url, kind, reason):
    from click.testing import CliRunner

    from livemeta.cli import main

    d = study(31)
    d["sources"][0]["url"] = url
    (f,) = _batch(tmp_path, d)
    report = validate_files([f])
    assert report.ok and [(w.path, kind in w.reason and reason in w.reason) for w in report.warnings] == [
        ("sources[0].url", True)]
    out = CliRunner().invoke(main, ["validate", str(f)])
    assert out.exit_code == 0 and f"warning: {f}: sources[0].url: " in out.output and "(ingest/hosts.yaml)" in out.output
    d["sources"][0]["url"] = f"https://pubmed.ncbi.nlm.nih.gov/{d['sources'][0]['pmid']}"
    (f,) = _batch(tmp_path, d)
    assert validate_files([f]).warnings == []
