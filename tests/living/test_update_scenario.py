"""A living update end to end: build, add a trial, supersede a trial with a new data cut; then
`diff` reports exactly those changes and `pool --as-of` reproduces earlier numbers bit for bit."""

from __future__ import annotations

import json
import math

import pytest
import yaml
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main

from tests.conftest import copy_of_bundled


#: the bundled history's last revision (revision 1 = review-2025, then the living update and what
#: the repository's later commits changed); the scenario adds B + 1 (a new trial) and B + 2
B = None


@pytest.fixture(scope="module")
def scenario(made_once, tmp_path_factory):
    """The bundled history (a clone, built), then an ingest of a new trial (revision B + 1) and a new
    data cut of CONTACT-01 (revision B + 2), each committed to git by `livemeta ingest`."""
    global B
    proj = copy_of_bundled(made_once, tmp_path_factory.mktemp("scenario") / "repo")
    db = proj.database
    built = api.build(proj)
    B = built.revision
    assert B >= 2 and built.mode == "up to date"
    new_trial = proj.studies / "example-01.yaml"
    new_trial.write_text(api.template_text())  # the template is a valid (fictional) RCT
    result = api.ingest([new_trial], message="add EXAMPLE-01", project=proj)
    assert result.revision == B + 1
    path = proj.studies / "contact-01.yaml"
    study = yaml.safe_load(path.read_text())
    os_row = next(o for o in study["outcomes"] if o["endpoint"] == "os" and o["population"] == "overall")
    original = dict(os_row)
    os_row.update(estimate=0.80, ci_low=0.62, ci_high=1.03, data_cutoff="2025-01-15",
                  raw_text="test data cut: HR 0.80 (95% CI 0.62-1.03)")
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    assert api.ingest([path], message="CONTACT-01 new data cut", project=proj, supersede=True).revision == B + 2
    return db, original


def test_diff_reports_exactly_the_new_data_cut(scenario):
    db, original = scenario
    d = api.diff(db)  # B + 1 -> B + 2
    assert (d.from_revision, d.to_revision) == (B + 1, B + 2)
    assert [(t.trial_id, t.kind) for t in d.trials] == [("contact-01", "new data cut")]
    changes = {(c.table, c.key, c.field): (c.old, c.new) for c in d.trials[0].changes}
    os_id = next(k for (_, k, f) in changes if f == "estimate")
    assert changes == {
        ("outcomes", os_id, "estimate"): (0.88, 0.80),
        ("outcomes", os_id, "ci_low"): (0.68, 0.62),
        ("outcomes", os_id, "ci_high"): (1.16, 1.03),
        ("outcomes", os_id, "data_cutoff"): (None, "2025-01-15"),
        ("outcomes", os_id, "raw_text"): (original["raw_text"], "test data cut: HR 0.80 (95% CI 0.62-1.03)"),
    }
    assert all(c.source for c in d.trials[0].changes)
    moved = {a.analysis: a for a in d.analyses}
    assert moved["os"].old["k"] == moved["os"].new["k"] == 8
    assert "estimate moved" in moved["os"].flags
    assert not any(f.startswith("prediction interval") for f in moved["os"].flags)  # FE: the PI is the CI
    assert any(f.startswith("prediction interval") for f in moved["os_re"].flags)  # REML + HKSJ: a PI of its own
    assert moved["os"].new["estimate"] < moved["os"].old["estimate"]
    assert moved["pfs"].flags == []  # PFS rows did not change
    md = d.to_markdown()
    assert "**CONTACT-01** (`contact-01`): new data cut" in md and "`0.88` → `0.8`" in md


def test_diff_of_the_added_trial(scenario):
    db, _ = scenario
    d = api.diff(db, B, B + 1)
    assert [(t.trial_id, t.kind) for t in d.trials] == [("example-01", "added")]
    os_change = next(a for a in d.analyses if a.analysis == "os")
    assert (os_change.old["k"], os_change.new["k"]) == (7, 8)
    assert json.loads(d.to_json())["trials"][0]["trial_id"] == "example-01"


def test_as_of_first_revision_is_bit_for_bit(scenario):
    db, _ = scenario
    run = api.pool(db, as_of=1)
    assert run.stored == "identical" and run.mismatches == []
    os_result = next(r for r in run.results if r.spec.id == "os")
    assert os_result.k == 7 and round(math.exp(os_result.overall.estimate), 3) == 0.898
    assert api.pool(db, ["os"], as_of="review-2025").revision == 1  # the version names revision 1
    # by date (revision times are the commits' times, UTC; a date means the end of that UTC day)
    today_utc = __import__("datetime").datetime.now(__import__("datetime").UTC).date().isoformat()
    assert api.pool(db, ["os"], as_of=today_utc).revision == B + 2


def test_superseded_trial_is_readable_as_of_its_earlier_revision(scenario):
    db, _ = scenario
    now = api.query(db, "select estimate from outcomes where trial_id = 'contact-01' and endpoint = 'os'")
    then = api.query(db, "select estimate from outcomes where trial_id = 'contact-01' and endpoint = 'os'", as_of=B + 1)
    assert (now.rows, then.rows) == ([(0.80,)], [(0.88,)])
    hist = api.query(db, "select valid_from, valid_to from history.outcomes o where trial_id = 'contact-01' "
                         "and endpoint = 'os' order by valid_from")
    rows = hist.rows
    assert rows[0][0] == 1 and rows[-1] == (B + 2, None) and rows[-2][1] == B + 2
    assert all(a[1] == b[0] for a, b in zip(rows, rows[1:]))  # each version closed where the next begins
    # versions before the new data cut end within the bundled history: its own corrections of CONTACT-01
    # (revision 4 cites the primary publication, issue 21), which left the estimate as it was
    assert all(r[1] <= B for r in rows[:-2]) and len(rows) == 3


def test_log_lists_revisions_and_cli_commands_work(scenario):
    db, _ = scenario
    entries = api.log(db)
    assert [e.revision.message for e in entries][B:] == ["add EXAMPLE-01", "CONTACT-01 new data cut"]
    assert [e.versions for e in entries] == [["review-2025"]] + [[]] * (B + 1)
    assert all(e.status == "applied" and len(e.commit) == 40 for e in entries)
    runner = CliRunner()
    out = runner.invoke(main, ["log", "--db", str(db)])
    assert out.exit_code == 0 and "CONTACT-01 new data cut" in out.output
    out = runner.invoke(main, ["diff", str(B), str(B + 2), "--db", str(db), "--json"])
    assert out.exit_code == 0
    assert [t["trial_id"] for t in json.loads(out.output)["trials"]] == ["contact-01", "example-01"]
    out = runner.invoke(main, ["cumulative", "os", "--db", str(db), "--format", "csv"])
    assert out.exit_code == 0
    lines = out.output.strip().splitlines()
    assert lines[0].startswith("step,trial_id") and len(lines) == 1 + 8
    assert lines[1].split(",")[1] == "lung-map-s1800a"  # first published (2022)


def test_report_of_the_updated_database(scenario, tmp_path):
    db, _ = scenario
    out = CliRunner().invoke(main, ["report", "--db", str(db), "--out", str(tmp_path / "rep")])
    assert out.exit_code == 0, out.output
    html = (tmp_path / "rep" / "index.html").read_text()
    assert f"revision {B + 2}" in html
    for spec_id in ("os", "pfs", "orr", "os_acquired", "os_by_class", "single_arm_orr_by_class"):
        png = tmp_path / "rep" / "figures" / f"forest_{spec_id}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
        assert f"figures/forest_{spec_id}.svg" in html


def test_analysis_flags():
    from livemeta.living.diff import analysis_flags

    def est(e, lo, hi, k=5, pi=None, tau2=0.0, i2=0.0):
        pl, ph = pi or (lo, hi)
        return dict(estimate=e, ci_low=lo, ci_high=hi, pi_low=pl, pi_high=ph, k=k, tau2=tau2, i2=i2)

    assert analysis_flags(est(0.9, 0.8, 1.01), est(0.88, 0.79, 0.98, k=6), "HR") == ["now significant", "k 5 → 6", "estimate moved"]
    assert analysis_flags(est(0.9, 0.8, 0.99), est(1.05, 0.9, 1.2), "HR") == [
        "direction changed", "no longer significant", "estimate moved"]
    assert analysis_flags(est(0.8, 0.7, 0.9, pi=(0.6, 0.99)), est(0.8, 0.7, 0.9, pi=(0.5, 1.2), tau2=0.1, i2=40), "HR") == [
        "prediction interval now crosses the null", "heterogeneity changed"]
    assert analysis_flags(est(0.8, 0.7, 0.9), est(0.8, 0.7, 0.9), "HR") == []
    assert analysis_flags(None, est(0.8, 0.7, 0.9), "HR") == ["new estimate"]
    assert analysis_flags(est(0.8, 0.7, 0.9) | {"p_between": 0.20}, est(0.8, 0.7, 0.9) | {"p_between": 0.01}, "HR") == [
        "subgroup difference now significant"]
    assert analysis_flags(est(0.8, 0.7, 0.9) | {"p_between": None}, est(0.8, 0.7, 0.9) | {"p_between": 0.4}, "HR") == [
        "test for subgroup differences now possible"]
    assert analysis_flags(est(0.2, 0.1, 0.3), est(0.6, 0.5, 0.7), "proportion") == ["estimate moved"]  # no null for proportions


def test_diff_recomputes_what_was_not_stored_and_pool_fills_it(scenario, tmp_path):
    """A revision without stored numbers (a database written before every revision stored them) is
    recomputed by diff and filled by pool."""
    import shutil

    from livemeta.db import connect

    db = tmp_path / "stale.duckdb"
    shutil.copyfile(scenario[0], db)
    with connect(db) as con:  # the last revision as an older livemeta left it: nothing pooled there
        con.execute(f"DELETE FROM history.pooled_estimates WHERE revision_id = {B + 2}")
        con.execute(f"DELETE FROM history.pooled_trials WHERE valid_from = {B + 2}")
        con.execute(f"UPDATE history.pooled_trials SET valid_to = NULL WHERE valid_to = {B + 2}")
        con.execute(f"DELETE FROM history.pooled_revisions WHERE revision_id = {B + 2}")
    d = api.diff(db)
    os_change = next(a for a in d.analyses if a.analysis == "os")
    assert (os_change.old["recomputed"], os_change.new["recomputed"]) == (False, True)
    assert "estimate moved" in os_change.flags
    assert "Recomputed (not stored at that revision): " in d.to_markdown()
    assert api.pool(db).stored == "stored"
    assert api.pool(db).stored == "identical"


def test_diff_refuses_a_reversed_range(scenario):
    from livemeta.errors import LivemetaError

    db = scenario[0]
    with pytest.raises(LivemetaError, match="FROM 2 and TO 1"):
        api.diff(db, 2, 1)
    with pytest.raises(LivemetaError, match="FROM 2 and TO 2"):
        api.diff(db, 2, 2)


def test_pool_shows_the_living_estimate_beside_the_review_version(scenario):
    db, _ = scenario
    out = CliRunner().invoke(main, ["pool", "os", "--db", str(db)])
    assert out.exit_code == 0, out.output
    row = next(line for line in out.stdout.splitlines() if line.startswith("os "))
    assert "8 RCTs (+1 since review-2025)" in row  # the living estimate: EXAMPLE-01 came after the review
    assert "0.90 (0.82–0.99) (7 of 10 RCTs)" in row  # the review's version, against the review's count
    assert "differs: estimate 0.90 vs 0.91" in row  # compared on the review's set only
    assert ("+6 trials since review-2025: costar-lung, example-01, ibi363-docetaxel-squamous, latify, "
            "lung-map-s1800e, resq201a; 1 of them in an analysis") in out.stdout
    data = json.loads(CliRunner().invoke(main, ["pool", "os", "--json", "--db", str(db)]).stdout)
    assert data[0]["reference"]["version"] == "review-2025" and data[0]["reference"]["k"] == 7
    assert data[0]["trials_since_version"] == ["example-01"]
