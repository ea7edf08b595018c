"""The front half of a living update, end to end, in a fresh clone of this repository (the bundled
evidence project; nothing is added to this checkout's history):

`search add` of real RIS, MEDLINE and PubMed XML exports and of records of bundled trials (built
here from the bundled study files' own identifiers), de-duplicated against each other and against
the bundled trials; a protocol of two reviewers; decisions made with `screen decide`, imported from
an ASReview export, a conflict resolved by a third decision; full-text decisions with reasons and a
trial link; then the report's PRISMA flow of the new revision, counted from the records, adds up,
and the report `--as-of` an earlier revision shows that revision's counts.

The numbers, by hand: 26 records identified (PsycINFO 6, MEDLINE 14, PsycINFO again through Zotero 6),
7 duplicates (the 6 Zotero records of the same DOIs, and CONTACT-01's paper, a report already in the
database), 19 screened: 11 excluded at title/abstract, 2 awaiting (one with a single reviewer, one
with none), 6 sought; at full text 1 not retrieved, 1 excluded (wrong population), 2 awaiting (one
conflict over reasons, one not assessed), 2 reports included: Lung-MAP S1800A's (linked to its
study file; included in review-2025 already) and one not linked to a trial (a new study). Cohen's
kappa at title/abstract 110/127: 16 of 17 pairs agree, marginals 6/11 and 5/12.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main

from tests.conftest import REPO, copy_of_bundled
from tests.mdtext import plain

FIXTURES = REPO / "tests" / "search" / "fixtures"
MEDLINE = "medline-pubmed-2026-03-01"
PSYC = "psycinfo-2026-03-01"
ZOTERO = "psycinfo-zotero-2026-03-02"


PROJECT: list = []  # the clone's folder, given to every command (tests run in an empty working directory)


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args] + ["--project", str(PROJECT[0])])
    assert res.exit_code == 0, res.output
    return res.output


def trial_records(proj, path):
    """A CSV export of two records of bundled trials, from the study files' own identifiers: the
    CONTACT-01 paper (its PMID) and a report naming Lung-MAP S1800A's NCT id in its abstract."""
    contact = yaml.safe_load((proj.studies / "contact-01.yaml").read_text())
    source = next(s for s in contact["sources"] if s.get("pmid"))
    s1800a = yaml.safe_load((proj.studies / "lung-map-s1800a.yaml").read_text())
    nct = s1800a["trial"]["nct_id"]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["title", "abstract", "authors", "year", "pmid"])
        w.writerow([source["citation"], "", "", source.get("year", ""), source["pmid"]])
        w.writerow(["Ramucirumab plus pembrolizumab versus standard of care after immunotherapy (Lung-MAP S1800A)",
                    f"Overall survival in the randomised phase II trial {nct}.", "Reckamp, K L", "2022", ""])
    return nct


@pytest.fixture(scope="module")
def scenario(made_once, tmp_path_factory):
    root = tmp_path_factory.mktemp("scenario")
    proj = copy_of_bundled(made_once, root / "repo")  # a clone of this repository, built
    PROJECT[:] = [proj.root]
    built = api.build(proj)
    base = built.revision
    revs = {"bundled": base}

    run("search", "add", FIXTURES / "ovid_psycinfo.ris", "--source", "PsycINFO", "--date", "2026-03-01",
        "--query", "(immunotherapy OR PD-1) AND rechallenge", "-m", "Search PsycINFO (Ovid), March 2026")
    revs["psycinfo"] = base + 1
    trials_csv = root / "trials.csv"
    nct = trial_records(proj, trials_csv)
    out = run("search", "add", FIXTURES / "pubmed_endnote.txt", FIXTURES / "pubmed_result2.txt", FIXTURES / "pubmed2.xml",
              trials_csv, "--source", "MEDLINE (PubMed)", "--date", "2026-03-01", "--query", "rechallenge[tiab]",
              "-m", "Search MEDLINE, March 2026")
    assert "1 of reports already in the database; 1 report of trials in the database" in out
    out = run("search", "add", FIXTURES / "ovid_zotero.ris", "--source", "PsycINFO (Zotero)", "--date", "2026-03-02",
              "--query", "the PsycINFO search again, exported through Zotero", "-m", "Search PsycINFO again via Zotero")
    assert "duplicates: 0 within the run, 6 of earlier runs" in out
    run("screen", "init", "--reviewers", "2", "-m", "Screening protocol: two independent reviewers")
    revs["protocol"] = base + 4

    M = lambda n: f"{MEDLINE}/{n}"  # noqa: E731
    psyc = [f"{PSYC}/{n}" for n in range(1, 7)]
    # reviewer A by hand, one session committed as one revision
    run("screen", "decide", *psyc, *[M(n) for n in (2, 3, 4, 5, 6, 11)], "--stage", "ta", "--decision", "exclude",
        "--reviewer", "A. Reviewer", "--seconds", "20")
    run("screen", "decide", *[M(n) for n in (1, 7, 8, 9, 10, 14)], "--stage", "ta", "--decision", "include",
        "--reviewer", "A. Reviewer", "--seconds", "35")
    run("screen", "commit", "-m", "A. Reviewer: title/abstract screening")
    # reviewer B in ASReview: the records exported for it, labelled, exported back with the livemeta ids
    exported = run("screen", "export", "--stage", "ta")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 19 and {r["livemeta_id"] for r in rows} >= set(psyc)
    include = {M(n) for n in (7, 8, 9, 10, 14)}
    undecided = {M(11), M(12)}
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
    asreview = root / "asreview_export.csv"
    with asreview.open("w", newline="") as f:
        w = csv.DictWriter(f, ["record_id", *rows[0].keys(), "asreview_label", "asreview_time"])
        w.writeheader()
        for i, r in enumerate(rows):
            label = "" if r["livemeta_id"] in undecided else ("1" if r["livemeta_id"] in include else "0")
            w.writerow({"record_id": i, **r, "asreview_label": label, "asreview_time": when if label else ""})
    out = run("screen", "import", asreview, "--from", "asreview", "--reviewer", "B. Reviewer",
              "-m", "B. Reviewer: title/abstract screening in ASReview")
    assert "17 decisions imported" in out
    revs["ta"] = base + 6
    conflicts = run("query", "select record_id, stage from screening_conflicts", "-f", "csv")
    assert conflicts.splitlines() == ["record_id,stage", f"{M(1)},ta"]
    run("screen", "resolve", M(1), "--stage", "ta", "--decision", "include", "--reviewer", "C. Arbiter",
        "-m", "Resolve the title/abstract conflict on record 1 of the MEDLINE search")
    # full text
    for who, reason9 in (("A. Reviewer", "wrong_design"), ("B. Reviewer", "wrong_outcome")):
        run("screen", "decide", M(14), "--stage", "ft", "--decision", "include", "--trial", "lung-map-s1800a", "--reviewer", who)
        run("screen", "decide", M(1), "--stage", "ft", "--decision", "include", "--reviewer", who)
        run("screen", "decide", M(7), "--stage", "ft", "--decision", "exclude", "--reason", "wrong_population", "--reviewer", who)
        run("screen", "decide", M(8), "--stage", "ft", "--decision", "exclude", "--reason", "not_retrieved", "--reviewer", who)
        run("screen", "decide", M(9), "--stage", "ft", "--decision", "exclude", "--reason", reason9, "--reviewer", who)
    run("screen", "commit", "-m", "Full-text screening by A. Reviewer and B. Reviewer")
    revs["ft"] = base + 8
    return proj, revs, nct


def prisma_rows(report_md: str) -> dict[str, list[str]]:
    """The PRISMA table of report.md, as a reader sees it: label -> one cell per column."""
    part = report_md.split("## Flow of trials (PRISMA 2020)", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in part.splitlines():
        if line.startswith("| ") and not line.startswith("| Stage") and not line.startswith("|---"):
            cells = [plain(c.strip()) for c in line.strip("|").split("|")]
            out[cells[0]] = cells[1:]
    return out


def first_number(cell: str) -> int:
    return int(re.match(r"\d+", cell).group(0))


def test_records_are_deduplicated_against_each_other_and_the_bundled_trials(scenario):
    proj, revs, nct = scenario
    db = proj.database
    q = api.query(db, "select record_id, duplicate_of, duplicate_of_kind, duplicate_reason, trials from search_records "
                      "where duplicate_of is not null or len(trials) > 0 order by record_id")
    rows = {r[0]: r[1:] for r in q.rows}
    assert rows[f"{MEDLINE}/13"] == ("contact-01", "trial", "pmid", [])  # CONTACT-01's paper: a report in the database
    assert rows[f"{MEDLINE}/14"] == (None, None, None, ["lung-map-s1800a"])  # names S1800A's NCT id: a report of it
    assert {k: v[:3] for k, v in rows.items() if k.startswith(ZOTERO)} == {
        f"{ZOTERO}/{n}": (f"{PSYC}/{n}", "record", "doi") for n in range(1, 7)}
    assert len(rows) == 8
    searches = api.query(db, "select run_id, source, records, duplicates, added_in_revision from searches order by run_id")
    assert searches.rows == [(MEDLINE, "MEDLINE (PubMed)", 14, 1, revs["psycinfo"] + 1),
                             (PSYC, "PsycINFO", 6, 0, revs["psycinfo"]),
                             (ZOTERO, "PsycINFO (Zotero)", 6, 6, revs["psycinfo"] + 2)]


def test_screening_status_kappa_and_progress(scenario):
    proj, revs, _ = scenario
    revision, summary, agreement = api.screen_status(proj.database)
    ta = next(s for s in summary if s["stage"] == "ta")
    assert (ta["records"], ta["included"], ta["excluded"], ta["awaiting"], ta["undecided"], ta["conflicts"],
            ta["resolved"]) == (19, 6, 11, 1, 1, 0, 1)
    assert ta["timed"] == 18 and ta["median_seconds"] == 20.0  # A.: 12 at 20 s, 6 at 35 s; ASReview records no time
    ta_k = next(a for a in agreement if a["stage"] == "ta")
    assert ta_k["pairs"] == 17 and ta_k["kappa"] == pytest.approx(110 / 127, abs=1e-12)
    ft = next(s for s in summary if s["stage"] == "ft")
    assert (ft["records"], ft["included"], ft["excluded"], ft["conflicts"], ft["undecided"]) == (6, 2, 2, 1, 1)
    log = {e.revision.revision_id: e.screening for e in api.log(proj.database)}
    assert log[revs["psycinfo"]] == "+1 search run (6 records); ta 0/6 decided"
    assert log[revs["ta"]].startswith("+17 decisions (ta 17); ta 16/19 decided, 1 conflict, kappa 0.87")
    assert log[revs["bundled"]] is None
    d = api.diff(proj.database, revs["protocol"], revs["ft"])
    assert d.screening["ta"]["included"] == (0, 6) and d.screening["ta"]["conflicts"] == (0, 0)
    assert "| ta | 19 | 0 → 6 | 0 → 11 |" in d.to_markdown()


def _report_folder(bundled_report, out: Path) -> Path:
    """A folder holding the bundled project's report: the scenario's evidence is the bundled
    project's, so a report written into it keeps those figures (as a user's next report does) and
    draws the PRISMA flow; these tests read the flow."""
    shutil.copytree(bundled_report, out)
    return out


def test_prisma_flow_is_counted_from_the_records_and_adds_up(scenario, tmp_path, bundled_report):
    proj, revs, _ = scenario
    run("report", "--out", _report_folder(bundled_report, tmp_path / "now"))
    rows = prisma_rows((tmp_path / "now" / "report.md").read_text())
    review, living = (list(c) for c in zip(*rows.values()))
    col = dict(zip(rows, living))
    assert col["Records identified"] == "26 (PsycINFO 6, MEDLINE (PubMed) 14, PsycINFO (Zotero) 6)"
    expected = {"Duplicates removed": "7", "Records screened": "19", "Records excluded at screening": "11",
                "Records awaiting screening": "2", "Reports sought for retrieval": "6", "Reports not retrieved": "1",
                "Reports assessed for eligibility": "3", "Reports excluded, with reasons": "1 (wrong_population 1)",
                "Reports awaiting a full-text decision": "2",
                "Studies (reports) included from the search": "2 studies (2 reports)",
                "New studies from the search in this update": "1"}
    assert {k: col[k] for k in expected} == expected
    n = {k: first_number(v) for k, v in col.items() if re.match(r"\d", v)}
    assert n["Records identified"] == n["Duplicates removed"] + n["Records screened"]
    assert n["Records screened"] == (n["Records excluded at screening"] + n["Records awaiting screening"]
                                     + n["Reports sought for retrieval"])
    assert n["Reports sought for retrieval"] == (n["Reports not retrieved"] + n["Reports assessed for eligibility"]
                                                 + n["Reports awaiting a full-text decision"])
    assert n["Reports assessed for eligibility"] == n["Reports excluded, with reasons"] + 2
    assert col["Source of the search counts"].startswith("counted from the records of 3 search runs")
    # the review's version has no search records: its boxes stay "not recorded"
    review_col = dict(zip(rows, review))
    assert review_col["Records identified"] == review_col["Records screened"] == "not recorded"


def test_the_flow_as_of_an_earlier_revision_shows_that_revisions_counts(scenario, tmp_path, bundled_report):
    proj, revs, _ = scenario
    run("report", "--out", _report_folder(bundled_report, tmp_path / "then"), "--as-of", revs["psycinfo"])
    rows = prisma_rows((tmp_path / "then" / "report.md").read_text())
    col = {k: v[-1] for k, v in rows.items()}
    assert (col["Records identified"], col["Duplicates removed"], col["Records screened"],
            col["Records awaiting screening"], col["Reports sought for retrieval"]) == ("6 (PsycINFO 6)", "0", "6", "6", "0")
    run("report", "--out", tmp_path / "then", "--as-of", revs["ta"])  # the same folder: its figures kept
    col = {k: v[-1] for k, v in prisma_rows((tmp_path / "then" / "report.md").read_text()).items()}
    assert (col["Records excluded at screening"], col["Records awaiting screening"], col["Reports sought for retrieval"]) == \
        ("11", "3", "5")  # before the conflict on record 1 was resolved


def test_the_database_equals_a_fresh_replay(scenario):
    proj, _, _ = scenario
    report = api.verify(proj)
    assert report.ok, report.differences
