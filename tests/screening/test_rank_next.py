"""`livemeta screen rank` and `livemeta screen next` on a project with a real search run (the Rayyan
export of the "Tinea update" review, tests/search/fixtures/tinea_update.ris) and decisions made with
`screen decide`: the order the decisions imply, what is read (committed decisions; a reviewer's
working-tree file), the stopping aid as livemeta.ranking computes it, the keys of the terminal loop
written to the reviewer's file in rank order, hostile titles escaped, and errors as messages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main
from livemeta.errors import LivemetaError
from livemeta.project import load_project, new_project
from livemeta.ranking import stopping_estimate

FIXTURES = Path(__file__).parents[1] / "search" / "fixtures"
RUN = "rayyan-export-2026-03-01"
ME = "A. Reviewer"
T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
# A. Reviewer's decisions, in the order of the file; 11 was decided first (its time is the earliest)
PLAN = [(4, "include", 0), (8, "exclude", 30), (9, "exclude", 60), (13, "exclude", 120), (11, "include", -60)]
TINEA = {1, 2, 3, 4, 5, 6, 7, 11, 12, 14}  # the records about tinea (9, 10, 13 and 8 are not)


def rid(n: int) -> str:
    return f"{RUN}/{n}"


def cli(*args, input=None, ok=True, color=False):
    res = CliRunner().invoke(main, [str(a) for a in args], input=input, color=color)
    if ok:
        assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The Rayyan export as a search run (revision 2) and A. Reviewer's five title/abstract decisions,
    committed as revision 3 (one reviewer per record: no protocol file)."""
    proj, _ = new_project(tmp_path_factory.mktemp("rank") / "review", name="Tinea update")
    res = api.search_add([FIXTURES / "tinea_update.ris"], source="Rayyan export", query="tinea", date="2026-03-01",
                         message="Search: the tinea update", project=proj)
    assert res.revision == 2
    for n, what, s in PLAN:
        api.screen_decide([rid(n)], stage="ta", decision=what, reviewer=ME, seconds=12, project=proj,
                          at=T0 + dt.timedelta(seconds=s))
    assert api.screen_commit(message="A. Reviewer: title/abstract, first decisions", project=proj).revision == 3
    return proj


@pytest.fixture
def proj(base, tmp_path):
    """A copy of ``base`` (git repository, files and database) for a test that writes."""
    shutil.copytree(base.root, tmp_path / "review")
    return load_project(tmp_path / "review")


@pytest.fixture(scope="module")
def ranked(base):
    return api.screen_rank(base.database)


EXPECTED = [12, 7, 14, 5, 1, 6, 2, 3, 10]  # the nine records not decided, as the model ranks them


def test_rank_puts_the_records_the_decisions_imply_first(ranked):
    assert [r.record_id for r in ranked.records] == [rid(n) for n in EXPECTED]
    assert [r.rank for r in ranked.records] == list(range(1, 10))
    # the eight records about tinea before the one that is not (schoolchildren's skin diseases)
    assert {int(r.record_id.rsplit("/", 1)[1]) for r in ranked.records[:8]} <= TINEA
    scores = [r.score for r in ranked.records]
    assert scores == sorted(scores, reverse=True) and scores[0] == pytest.approx(0.4522, abs=5e-5)
    assert ranked.counts == {"records": 14, "decided": 5, "includes": 2, "excludes": 3, "pending": 9, "skipped": 0,
                             "other": 0}
    assert ranked.ranking.model.startswith("linear SVM") and not ranked.random_order


def test_decisions_are_read_in_the_order_they_were_made_and_the_stopping_aid_is_livemeta_ranking(base, ranked):
    queue = api.screen_queue(base.database)
    assert list(queue.labels.items()) == [(rid(11), 1), (rid(4), 1), (rid(8), 0), (rid(9), 0), (rid(13), 0)]
    expected = stopping_estimate([1, 1, 0, 0, 0], 14)  # 5 decided + 9 pending
    assert ranked.stopping == expected
    assert (expected.includes_left_upper, expected.recall_lower, expected.target_reached) == (6, 0.25, False)
    assert expected != stopping_estimate([1, 0, 0, 0, 1], 14)  # the file's order would say otherwise


def test_rank_json(base, ranked):
    out = json.loads(cli("screen", "rank", "--json", "--project", base.root).output)
    assert set(out) == {"stage", "stage_name", "reviewer", "revision", "reads", "ordered_by", "model", "counts",
                        "stopping", "records"}
    assert (out["stage"], out["reviewer"], out["revision"]) == ("ta", None, 3)
    assert [r["record_id"] for r in out["records"]] == [rid(n) for n in EXPECTED]
    assert out["records"][0] == {"rank": 1, "record_id": rid(12), "score": ranked.records[0].score,
                                 "title": ranked.records[0].entry.title}
    s = out["stopping"]
    assert (s["includes_left_upper"], s["recall_lower"], s["screened"], s["total"]) == (6, 0.25, 5, 14)
    assert s["method"].startswith("Callaghan & Müller-Hansen 2020 (Syst Rev 9:273)")
    assert s["statement"] == ("estimated at most 6 includes left (95% confidence, Callaghan & Müller-Hansen 2020); "
                              "recall at least 25.0%")
    assert "not a promise" in s["assumption"]
    assert out["counts"]["pending"] == 9 and out["model"] == ranked.ranking.model
    assert "decisions not committed are not read" in out["reads"]
    top3 = json.loads(cli("screen", "rank", "--json", "--limit", "3", "--project", base.root).output)
    assert [r["record_id"] for r in top3["records"]] == [rid(n) for n in EXPECTED[:3]]
    assert top3["stopping"] == s  # the limit shortens the list, not what the aid counts


def test_rank_table(base):
    out = cli("screen", "rank", "--limit", "2", "--project", base.root).output
    lines = out.splitlines()
    assert lines[0] == "title and abstract, revision 3: 9 to screen of 14 records; 5 decided (2 includes, 3 excludes)"
    assert lines[3] == ("estimated at most 6 includes left (95% confidence, Callaghan & Müller-Hansen 2020); "
                        "recall at least 25.0%")
    assert lines[5].split() == ["rank", "record", "score", "title"]
    assert lines[6].split()[:3] == ["1", rid(12), "0.452"] and lines[7].split()[:2] == ["2", rid(7)]
    assert len(lines) == 8


def test_no_include_yet_is_a_seeded_random_order(base):
    first = api.screen_rank(base.database, as_of=2)
    assert first.random_order and first.ranking.scores is None
    order = [r.record_id for r in first.records]
    assert sorted(order, key=lambda r: int(r.rsplit("/", 1)[1])) == [rid(n) for n in range(1, 15)]
    assert order != [rid(n) for n in range(1, 15)]  # shuffled, not the export's order
    assert [r.record_id for r in api.screen_rank(base.database, as_of=2).records] == order  # seeded
    out = cli("screen", "rank", "--as-of", "2", "--project", base.root).output
    assert "order: seeded random order: no include decided yet, so no model to rank with" in out
    assert "model: linear SVM" not in out
    assert "recall not estimable yet (no include found)" in out
    data = json.loads(cli("screen", "rank", "--as-of", "2", "--json", "--project", base.root).output)
    assert data["ordered_by"].startswith("seeded random order") and {r["score"] for r in data["records"]} == {None}


def test_pending_is_what_screen_export_lists(base, proj):
    def exported(stage):
        text = api.screen_export(proj.database, stage=stage)
        return [row["livemeta_id"] for row in csv.DictReader(io.StringIO(text))]

    assert sorted(r.record_id for r in api.screen_rank(proj.database).records) == sorted(exported("ta"))
    # at full text: the two records included at title/abstract, both pending
    assert sorted(r.record_id for r in api.screen_rank(proj.database, stage="ft").records) == \
        sorted(exported("ft")) == [rid(11), rid(4)]
    api.screen_decide([rid(4)], stage="ft", decision="include", reviewer=ME, message="A: full text", project=proj)
    ft = api.screen_rank(proj.database, stage="ft")
    assert [r.record_id for r in ft.records] == exported("ft") == [rid(11)]
    assert ft.counts["decided"] == 1 and ft.stopping == stopping_estimate([1], 2)


def test_a_reviewers_uncommitted_decisions_count_for_that_reviewer(proj):
    api.screen_decide([rid(12)], stage="ta", decision="exclude", reviewer=ME, project=proj)  # not committed
    mine = api.screen_rank(proj.database, reviewer=ME, project=proj)
    assert rid(12) not in [r.record_id for r in mine.records]
    assert mine.counts["decided"] == 6 and mine.stopping == stopping_estimate([1, 1, 0, 0, 0, 0], 14)
    assert "screening/decisions/a-reviewer.csv: 1 decision not committed" in mine.reads
    team = api.screen_rank(proj.database)  # the team's view reads what is committed, as `screen status`
    assert rid(12) in [r.record_id for r in team.records] and team.counts["decided"] == 5
    earlier = api.screen_rank(proj.database, reviewer=ME, as_of=3, project=proj)  # no working tree at an earlier revision
    assert rid(12) in [r.record_id for r in earlier.records] and "no decisions file of the working tree" in earlier.reads


def test_with_two_reviewers_unsettled_decisions_teach_only_their_reviewer(proj):
    assert api.screen_init(reviewers=2, message="Protocol: two reviewers", project=proj).revision == 4
    team = api.screen_rank(proj.database)
    assert team.random_order and team.counts["pending"] == 14  # A's decisions await a second reviewer
    other = api.screen_rank(proj.database, reviewer="B. Reviewer", project=proj)
    assert other.random_order and other.counts["pending"] == 14 and other.counts["decided"] == 0
    mine = api.screen_rank(proj.database, reviewer=ME, project=proj)
    assert [r.record_id for r in mine.records] == [rid(n) for n in EXPECTED]
    # B agrees on 4 and 11 (includes): settled, they teach B's model too
    for n in (4, 11):
        api.screen_decide([rid(n)], stage="ta", decision="include", reviewer="B. Reviewer", project=proj,
                          message="B agrees")
    other = api.screen_rank(proj.database, reviewer="B. Reviewer", project=proj)
    assert not other.random_order and other.counts["decided"] == 2 and other.counts["pending"] == 12


def _file_rows(proj, reviewer_file="a-reviewer.csv"):
    with open(proj.screening / "decisions" / reviewer_file, newline="") as f:
        return list(csv.DictReader(f))


def test_screen_next_records_the_keys_in_rank_order_and_retrains(proj):
    before = _file_rows(proj)
    # what the loop must show: the top record, retrained after each decision (include, exclude, maybe)
    queue = api.screen_queue(proj.database, reviewer=ME, project=proj)
    expected = []
    for what in ("include", "exclude", "include", "maybe"):
        top = queue.rank(limit=1).records[0].record_id
        expected.append((top, what))
        queue.record(top, what)
    skipped = queue.rank(limit=1).records[0].record_id
    # retrained after each decision: record 1 comes fourth, where the first ranking had record 5
    assert [r for r, _ in expected] + [skipped] == [rid(12), rid(7), rid(14), rid(1), rid(5)]
    assert [r.record_id for r in api.screen_rank(proj.database, reviewer=ME, project=proj, limit=4).records] == \
        [rid(12), rid(7), rid(14), rid(5)]
    res = cli("screen", "next", "--reviewer", ME, "--project", proj.root, input="i e\nx i m s q")
    rows = _file_rows(proj)
    assert rows[: len(before)] == before
    new = rows[len(before):]
    assert [(r["record_id"], r["decision"]) for r in new] == expected
    assert all(r["stage"] == "ta" and r["reviewer"] == ME and r["role"] == "independent" and r["source"] == "livemeta"
               and 0 <= float(r["seconds"]) < 60 for r in new)
    times = [r["decided_at"] for r in new]
    assert times == sorted(times) and len(set(times)) == 4
    assert skipped not in {r["record_id"] for r in new}
    out = res.output
    shown = [out.index(f"\n{r}   score ") for r, _ in expected] + [out.index(f"\n{skipped}   score ")]
    assert shown == sorted(shown)
    assert "x: not a key here" in out and "-> skipped" in out
    assert "4 decisions recorded in this session (2 include, 1 exclude, 1 maybe); 1 skipped, written to " \
           "screening/decisions/a-reviewer.csv, not committed: `livemeta screen commit -m MESSAGE`" in out
    assert "estimated at most 6 includes left (95% confidence, Callaghan & Müller-Hansen 2020); recall at least " \
           "25.0%" in " ".join(out.split())  # the first record's stopping line (wrapped to the terminal)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=proj.root, capture_output=True, text=True).stdout
    assert status.strip() == "M screening/decisions/a-reviewer.csv"
    # the next session starts where this one stopped: the skipped record first
    again = api.screen_rank(proj.database, reviewer=ME, project=proj)
    assert again.records[0].record_id == skipped and again.counts["decided"] == 8
    res = cli("screen", "commit", "-m", "A. Reviewer: session", "--project", proj.root)
    assert "revision 4" in res.output


def test_screen_next_at_full_text_asks_for_a_reason_of_the_protocol(proj):
    api.screen_init(reviewers=1, message="Protocol", project=proj)
    top = api.screen_rank(proj.database, stage="ft", reviewer=ME, project=proj).records[0].record_id
    assert top in (rid(4), rid(11))
    res = cli("screen", "next", "--stage", "ft", "--reviewer", ME, "--project", proj.root, input="e0e4q")
    new = [r for r in _file_rows(proj) if r["stage"] == "ft"]
    assert [(r["record_id"], r["decision"], r["reason"]) for r in new] == [(top, "exclude", "wrong_intervention")]
    out = res.output
    assert "  [1] duplicate_report: " in out and "  [7] not_retrieved: Full text not retrieved" in out
    assert "[1-7] reason  [0] back" in out and "-> exclude (wrong_intervention)" in out


def test_screen_next_with_nothing_left(proj):
    api.screen_decide([rid(n) for n in (1, 2, 3, 5, 6, 7, 10, 12, 14)], stage="ta", decision="exclude", reviewer=ME,
                      project=proj)
    res = cli("screen", "next", "--reviewer", ME, "--project", proj.root, input="i")
    assert "nothing left to screen at the title and abstract stage for A. Reviewer" in res.output
    assert "no decision recorded in this session" in res.output


def test_the_loop_times_each_record_and_a_day_away_is_not_timed(capsys):
    """The loop alone (no database): the seconds from showing a record to its key, given to decide."""
    from livemeta.screening.rank import Entry, ScreeningInput, ScreeningQueue
    from livemeta.screening.terminal import run

    entries = [Entry("r/1", "Nivolumab rechallenge in NSCLC", "A trial."), Entry("r/2", "Skin of wrestlers", "")]
    queue = ScreeningQueue(ScreeningInput("ta", "X", 1, entries, {}, ["r/1", "r/2"], {}, "nothing"))
    calls = []

    def decide(record_id, decision, reason, seconds):
        calls.append((record_id, decision, reason, seconds))
        return ["screening/decisions/x.csv"]

    session = run(queue, decide, read=iter("ie").__next__, clock=iter([0.0, 90_000.5, 100.0, 130.04]).__next__,
                  cols=60)
    first, second = (c[0] for c in calls)
    assert {first, second} == {"r/1", "r/2"} and session.finished
    assert calls == [(first, "include", None, None), (second, "exclude", None, 30.0)]
    out = capsys.readouterr().out
    assert "-> include, not timed (over a day)" in out and "-> exclude, 30 s" in out
    assert "nothing left to screen at the title and abstract stage for X" in out
    assert max(len(line) for line in out.splitlines() if not line.startswith("2 decisions")) <= 60


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A project whose one record carries terminal escapes in every field a reviewer reads."""
    proj, _ = new_project(tmp_path_factory.mktemp("hostile") / "review", name="Hostile")
    ris = proj.root.parent / "hostile.ris"
    ris.write_bytes(b"TY  - JOUR\nTI  - Pembrolizumab \x1b[31mrechallenge\x1b[0m\x07 trial\n"
                    b"AU  - Evil\x1b[2J, A.\nAB  - Background \x1b]0;window title\x07 and \xe2\x80\xae reversed\n"
                    b"KW  - immuno\x1b[1mtherapy\nJO  - J \xc2\x9b31m Oncol\nPY  - 2024\nER  - \n")
    api.search_add([ris], source="Hostile", query="q", date="2026-03-01", message="A hostile search", project=proj)
    return proj


@pytest.mark.parametrize("color", [False, True])
def test_terminal_escapes_in_a_record_are_shown_not_run(hostile, color):
    out = cli("screen", "next", "--reviewer", "X", "--project", hostile.root, input="q", color=color).output
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "\x9b" not in out
    assert "Pembrolizumab \\x1b[31mrechallenge\\x1b[0m\\x07 trial" in out
    assert "Evil\\x1b[2J, A." in out and "Background \\x1b]0;window title\\x07 and reversed" in out  # (the import
    # drops the bidirectional override: format characters are not kept)
    assert "Keywords: immuno\\x1b[1mtherapy" in out and "J \\x9b31m Oncol" in out
    table = cli("screen", "rank", "--project", hostile.root, color=color).output
    assert "\x1b" not in table and "Pembrolizumab \\x1b[31mrechallenge" in table
    raw = cli("screen", "rank", "--json", "--project", hostile.root, color=color).output
    assert "\x1b" not in raw and "\\u001b[31m" in raw
    assert json.loads(raw)["records"][0]["title"] == "Pembrolizumab \x1b[31mrechallenge\x1b[0m\x07 trial"


def test_terminal_text():
    from livemeta.safe import terminal_text

    assert terminal_text("a\x1b[31mb\x9b\u202ec\u2066d\x7f") == "a\\x1b[31mb\\x9b\\u202ec\\u2066d\\x7f"
    assert terminal_text("one\r\ntwo\tthree\rfour\u2028five") == "one two three four five"
    assert terminal_text("one\r\ntwo\x1b\nthree", lines=True) == "one\ntwo\\x1b\nthree"
    assert terminal_text(None) == "" and terminal_text("Müller-Hansen – ≤ 0.05") == "Müller-Hansen – ≤ 0.05"


def test_errors_are_messages(hostile, tmp_path):
    res = cli("screen", "rank", "--stage", "ft", "--project", hostile.root, ok=False)
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert "error: no records to screen at the full-text stage at revision 2: none was included" in res.output
    res = cli("screen", "next", "--stage", "ft", "--reviewer", "X", "--project", hostile.root, ok=False)
    assert res.exit_code == 1 and "no records to screen at the full-text stage" in res.output
    res = cli("screen", "rank", "--stage", "abstract", "--project", hostile.root, ok=False)
    assert res.exit_code == 2 and "Invalid value for '--stage'" in res.output and "Traceback" not in res.output
    with pytest.raises(LivemetaError, match="unknown stage 'abstract': ta"):
        api.screen_rank(hostile.database, stage="abstract")
    with pytest.raises(LivemetaError, match="the reviewer's name is empty"):
        api.screen_rank(hostile.database, reviewer="  ")
    res = cli("screen", "next", "--project", hostile.root, ok=False)
    assert res.exit_code == 2 and "Missing option '--reviewer'" in res.output
    empty, _ = new_project(tmp_path / "empty", name="Empty")
    api.build(empty.root)
    res = cli("screen", "rank", "--project", empty.root, ok=False)
    assert res.exit_code == 1 and "error: no records to screen at revision 1: no search records" in res.output
    assert "hint: `livemeta search add" in res.output and not isinstance(res.exception, LivemetaError)


def test_screen_commands_other_than_rank_and_next_do_not_import_scikit_learn(hostile):
    code = ("import sys\nfrom livemeta.cli import main\n"
            f"for argv in (['screen', 'status', '--project', {str(hostile.root)!r}], ['screen', 'rank', '--help'], "
            "['screen', 'next', '--help']):\n"
            "    try:\n        main(argv, standalone_mode=False)\n    except SystemExit:\n        pass\n"
            "print('SKLEARN', 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "SKLEARN False" in out.stdout, out.stdout + out.stderr
