"""Search runs and screening decisions in a new project, as a team uses the commands: a search added
(files, commit, revision), refused input writing nothing, a Rayyan export's two reviewers imported
(conflict, kappa), a conflict resolved, decisions written and committed later, the controlled list of
reasons, a merge reversed and made, a run corrected, and the history replayed exactly."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main
from livemeta.errors import LivemetaError, ValidationFailed

FIXTURES = Path(__file__).parents[1] / "search" / "fixtures"
RUN = "rayyan-export-2026-03-01"


def cli(*args, ok=True):
    res = CliRunner().invoke(main, [str(a) for a in args])
    if ok:
        assert res.exit_code == 0, res.output
    return res


def git(proj, *args) -> str:
    return subprocess.run(["git", *args], cwd=proj.root, capture_output=True, text=True, check=True).stdout


def state(proj):
    """What a refused command must leave as it was: HEAD, the working tree's status, the revisions."""
    revs = [r.revision_id for r in api.revisions(proj.database)] if proj.database.exists() else []
    return git(proj, "rev-parse", "HEAD"), git(proj, "status", "--porcelain", "--untracked-files=all"), revs


@pytest.fixture(scope="module")
def tinea(tmp_path_factory):
    """A new project with the Rayyan export as its search (revision 2), a protocol of two reviewers
    (3), and the Rayyan decisions (4)."""
    from livemeta.project import new_project

    proj, _ = new_project(tmp_path_factory.mktemp("tinea") / "review", name="Tinea update")
    res = api.search_add([FIXTURES / "tinea_update.ris"], source="Rayyan export", query="tinea AND (cream OR oral)",
                         date="2026-03-01", message="Search: the tinea update", project=proj)
    assert res.revision == 2
    assert api.screen_init(reviewers=2, message="Protocol: two reviewers", project=proj).revision == 3
    res = api.screen_import(FIXTURES / "tinea_update.ris", tool="rayyan", message="Rayyan decisions", project=proj)
    assert res.revision == 4 and len(res.details["decisions"]) == 16
    return proj


def test_a_search_run_is_a_folder_committed_as_a_revision(tinea):
    folder = tinea.searches / RUN
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "export/tinea_update.ris", "records.jsonl", "search.yaml"]
    assert (folder / "export" / "tinea_update.ris").read_bytes() == (FIXTURES / "tinea_update.ris").read_bytes()
    lines = (folder / "records.jsonl").read_text().splitlines()
    assert len(lines) == 14 and json.loads(lines[0])["n"] == 1 and json.loads(lines[0])["accession"] == "rayyan-14431"
    assert "Search: the tinea update" in git(tinea, "log", "--format=%s", "-n", "1", "--", f"searches/{RUN}")
    q = api.query(tinea.database, "select run_id, source, records, added_in_revision from searches")
    assert q.rows == [(RUN, "Rayyan export", 14, 2)]


def test_rayyan_reviewers_conflict_and_kappa(tinea):
    revision, summary, agreement = api.screen_status(tinea.database, as_of=4)
    ta = summary[0]
    assert (ta["stage"], ta["records"], ta["included"], ta["excluded"], ta["awaiting"], ta["undecided"], ta["conflicts"]) == \
        ("ta", 14, 2, 1, 8, 2, 1)
    assert [(a["stage"], a["pairs"], a["kappa"]) for a in agreement] == [("ta", 4, 0.5)]
    rows = api.query(tinea.database, "select record_id, reviewers, decided from screening_conflicts", as_of=4).rows
    assert rows == [(f"{RUN}/1", ["Zbys", "m.el-gohary"], ["exclude", "include"])]
    files = sorted(p.name for p in (tinea.screening / "decisions").iterdir())
    assert files == ["m-el-gohary.csv", "zbys.csv"]
    reasons = api.query(tinea.database, "select reason from screening_decisions where record_id = $r and reviewer = 'Zbys'"
                        .replace("$r", f"'{RUN}/3'")).rows
    assert reasons == [("wrong drug, wrong intervention",)]  # free text at title/abstract


def test_a_conflict_is_resolved_by_a_third_decision(tinea):
    with pytest.raises(LivemetaError, match="is one of the reviewers in conflict"):
        api.screen_resolve(f"{RUN}/1", stage="ta", decision="include", reviewer="Zbys", message="x", project=tinea)
    with pytest.raises(LivemetaError, match=f"no conflict on {RUN}/2 at the ta stage"):
        api.screen_resolve(f"{RUN}/2", stage="ta", decision="include", reviewer="C", message="x", project=tinea)
    res = api.screen_resolve(f"{RUN}/1", stage="ta", decision="include", reviewer="C. Arbiter", message="Resolve record 1",
                             project=tinea)
    assert res.revision == 5
    _, summary, _ = api.screen_status(tinea.database)
    assert (summary[0]["included"], summary[0]["conflicts"], summary[0]["resolved"]) == (3, 0, 1)
    consensus = api.query(tinea.database, "select record_id, role, reviewer from screening_decisions where role = 'consensus'")
    assert consensus.rows == [(f"{RUN}/1", "consensus", "C. Arbiter")]


def test_decisions_wait_in_the_working_tree_until_committed(tinea):
    before = api.revisions(tinea.database)[-1].revision_id
    cli("screen", "decide", f"{RUN}/2", f"{RUN}/4", "--stage", "ft", "--decision", "include", "--reviewer", "Zbys",
        "--seconds", "95", "--project", tinea.root)
    assert api.revisions(tinea.database)[-1].revision_id == before  # written, not a revision yet
    assert "screening/decisions/zbys.csv" in git(tinea, "status", "--porcelain")
    res = cli("screen", "commit", "-m", "Zbys: full text", "--project", tinea.root)
    assert f"revision {before + 1}" in res.output and not git(tinea, "status", "--porcelain").strip()
    row = api.query(tinea.database, f"select stage, decision, seconds, source from screening_decisions "
                                    f"where record_id = '{RUN}/2' and stage = 'ft'").rows
    assert row == [("ft", "include", 95.0, "livemeta")]


def test_full_text_exclusions_need_a_reason_of_the_list_and_nothing_is_written_otherwise(tinea):
    before = state(tinea)
    for reason, message in ((None, "a full-text exclusion names its reason from the protocol's list"),
                            ("too_long", "'too_long' is not on the protocol's list of exclusion reasons")):
        with pytest.raises(ValidationFailed, match=message):
            api.screen_decide([f"{RUN}/4"], stage="ft", decision="exclude", reason=reason, reviewer="m.el-gohary",
                              message="x", project=tinea)
        assert state(tinea) == before
    with pytest.raises(ValidationFailed, match=f"no record '{RUN}/99' in the searches"):
        api.screen_decide([f"{RUN}/99"], stage="ta", decision="include", reviewer="X", message="x", project=tinea)
    with pytest.raises(ValidationFailed, match="only a full-text inclusion links a record to a trial"):
        api.screen_decide([f"{RUN}/4"], stage="ta", decision="include", reviewer="X", trial_id="t1", message="x",
                          project=tinea)
    assert state(tinea) == before
    res = api.screen_decide([f"{RUN}/4"], stage="ft", decision="exclude", reason="not_retrieved", reviewer="m.el-gohary",
                            message="m.el-gohary: record 4 not retrievable", project=tinea)
    assert res.revision == before[2][-1] + 1


def test_refused_exports_write_nothing(tinea, tmp_path):
    before = state(tinea)
    bad = tmp_path / "bad.ris"
    bad.write_bytes(b"TY  - JOUR\nTI  - one\nER  - \nTY  - JOUR\nTI  - two\n")
    res = cli("search", "add", bad, "--source", "X", "--query", "q", "--date", "2026-03-02", "-m", "m",
              "--project", tinea.root, ok=False)
    assert res.exit_code == 2 and "bad.ris: record 2: no 'ER  -' line ends the record that starts at line 4" in res.output
    assert "nothing was written" in res.output and "Traceback" not in res.output
    bomb = tmp_path / "bomb.ris"
    bomb.write_bytes(b"TY  - JOUR\nER  - \n" * 1_000_000)
    res = cli("search", "add", bomb, "--source", "X", "--query", "q", "--date", "2026-03-02", "-m", "m",
              "--project", tinea.root, ok=False)
    assert res.exit_code == 2 and "more than 250,000 records" in res.output
    res = cli("search", "add", FIXTURES / "embase.ris", "--source", "X", "--query", "q", "--date", "2026-02-30", "-m", "m",
              "--project", tinea.root, ok=False)
    assert res.exit_code == 2 and "'2026-02-30' is not a date" in res.output
    big = tmp_path / "big.ris"
    big.write_bytes(b"TY  - JOUR\nTI  - A title\nAB  - " + b"x" * 50_000_000 + b"\nER  - \n")
    win = tmp_path / "win.ris"
    win.write_bytes("TY  - JOUR\nTI  - Caf\u00e9\nER  - \n".encode("cp1252"))
    res = cli("search", "add", FIXTURES / "embase.ris", big, win, "--source", "X", "--query", "q", "--date", "2026-03-02",
              "-m", "m", "--project", tinea.root, ok=False)
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "big.ris: record 1.abstract: 50,000,000 characters; a record's abstract is at most 100,000 (line 1)" in res.output
    assert "win.ris: not UTF-8 text: byte 0xe9 at line 2 cannot be decoded" in res.output
    assert "2 problems found; nothing was written." in res.output and len(res.output) < 2000
    assert state(tinea) == before
    assert not any(p.name.startswith("x-") for p in tinea.searches.iterdir())


def test_merges_are_recorded_and_reversible(tinea):
    res = api.search_add([FIXTURES / "tinea_update.ris"], source="Rayyan export", query="again", date="2026-03-01",
                         message="The same export again", project=tinea)
    again = res.details["run"].run_id
    assert again == f"{RUN}-2" and res.details["duplicates"]["other_runs"] == 14
    links = api.query(tinea.database, f"select reason, detail from record_links where record_id = '{again}/1'").rows
    assert links[0][0] == "title" and links[0][1].startswith("title similarity 1.00, year 2013, first author s")
    res = api.search_override("keep_apart", f"{RUN}/1", f"{again}/1", reason="a test of keep-apart", by="A. Reviewer",
                              message="Keep record 1 apart", project=tinea)
    rows = api.query(tinea.database, f"select duplicate_of, screened_as from search_records where record_id = '{again}/1'").rows
    assert rows == [(None, f"{again}/1")]  # screened on its own now
    kept = api.query(tinea.database, "select record_id, target, status, reason, decided_by from record_links "
                                     "where status = 'kept_apart'").rows
    assert kept == [(f"{again}/1", f"{RUN}/1", "kept_apart", "manual", "A. Reviewer")]
    # the merge as it was, as of the revision before
    before = api.query(tinea.database, f"select duplicate_of from search_records where record_id = '{again}/1'",
                       as_of=res.revision - 1).rows
    assert before == [(f"{RUN}/1",)]
    assert "keep_apart" in (tinea.searches / "duplicates.yaml").read_text()
    api.search_override("merge", f"{RUN}/1", f"{again}/1", reason="on second thought, the same", by="A. Reviewer",
                        message="Merge record 1 again", project=tinea)
    assert api.query(tinea.database, f"select duplicate_of, duplicate_reason from search_records "
                                     f"where record_id = '{again}/1'").rows == [(f"{RUN}/1", "title")]  # the rule again
    assert api.query(tinea.database, "select count(*) from record_links where status = 'kept_apart'").rows == [(0,)]


def test_a_run_corrected_by_hand_and_a_bad_edit_rejected_at_replay(tinea):
    path = tinea.searches / RUN / "records.jsonl"
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    first["title"] = first["title"] + " (corrected)"
    path.write_text("\n".join([json.dumps(first, ensure_ascii=False), *lines[1:]]) + "\n")
    res = cli("screen", "commit", "-m", "Correct the title of record 1", "--project", tinea.root)
    assert f"search {RUN} corrected" in res.output
    rows = api.query(tinea.database, f"select title from search_records where record_id = '{RUN}/1'").rows
    assert rows[0][0].endswith("(corrected)")
    # an edit that breaks the file, committed with git itself: the replay rejects it, writing nothing of it
    first["doi"] = "not a doi"
    path.write_text("\n".join([json.dumps(first, ensure_ascii=False), *lines[1:]]) + "\n")
    git(tinea, "commit", "-qam", "A broken edit")
    report = api.build(tinea)
    (applied,) = report.applied
    assert applied.status == "rejected"
    assert [str(p) for p in applied.problems] == [
        f"searches/{RUN}/records.jsonl: records[0].doi: 'not a doi' is not a DOI in normal form (10.x/y, lower case) (line 1)"]
    assert api.query(tinea.database, f"select title from search_records where record_id = '{RUN}/1'").rows == rows
    path.write_text("\n".join(lines) + "\n")
    git(tinea, "commit", "-qam", "Undo the broken edit")
    assert api.build(tinea).applied[-1].status == "applied"


def test_export_for_screening_tools_and_the_verified_history(tinea):
    csv_text = api.screen_export(tinea.database, stage="ta", pending_only=True)
    header, *rows = csv_text.splitlines()
    assert header == "livemeta_id,title,abstract,authors,year,journal,doi,pmid,keywords"
    pending = api.query(tinea.database, "select record_id from screening_flow where flow = 'ta_pending' order by record_id").rows
    assert sorted(r.split(",", 1)[0] for r in rows) == [r for (r,) in pending] and len(pending) >= 10
    ris = api.screen_export(tinea.database, stage="ft", fmt="ris", pending_only=False)
    sought = api.query(tinea.database, "select count(*) from screening_flow where flow in "
                                       "('ft_pending', 'not_retrieved', 'ft_excluded', 'included')").rows[0][0]
    assert ris.count("ER  -") == sought >= 2 and f"ID  - {RUN}/2" in ris
    report = api.verify(tinea)
    assert report.ok, report.differences
