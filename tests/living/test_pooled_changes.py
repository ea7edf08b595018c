"""Pooled estimates are stored when they change (issue 15): what a revision stores follows what it
changed, every revision still answers bit for bit, and a database of the older layout converts to
exactly what a replay stores now (migration 0007)."""

from __future__ import annotations

import subprocess

import duckdb
import pytest
import yaml

from livemeta import api
from livemeta.db import connect
from livemeta.db.migrations import apply_migrations, install_views, migrations
from livemeta.ingest.synthetic import mixed_study
from livemeta.living.verify import _attach, _compare_table
from livemeta.project import new_project
from livemeta.sql import named


def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def write(proj, d: dict) -> None:
    (proj.studies / f"{d['trial']['id']}.yaml").write_text(yaml.safe_dump(d, sort_keys=False))


def commit(proj, message: str) -> None:
    git(proj.root, "add", "-A", ".")
    git(proj.root, "commit", "-q", "-m", message)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A generated mixed base of 30 trials over ten revisions, one kind of change each; the
    database built after every commit (as a team updates it), and the list of revisions."""
    root = tmp_path_factory.mktemp("mixed")
    proj, _ = new_project(root / "project", name="mixed")
    db = proj.database
    steps = []

    def step(message):
        commit(proj, message)
        api.build(proj, db=db)
        steps.append(message)

    for i in range(1, 31):
        write(proj, mixed_study(i))
    step("30 trials")                                                          # revision 2
    write(proj, mixed_study(31))
    step("add an RCT")                                                         # 3
    d = mixed_study(7)
    d["trial"]["note"] = "a note read nothing pools"
    write(proj, d)
    step("a note")                                                             # 4
    d = mixed_study(33)
    write(proj, d)
    step("add a single-arm trial")                                             # 5
    d = mixed_study(8)
    d["outcomes"][0].update(estimate=0.74, ci_low=0.59, ci_high=0.92, raw_text="HR 0.74 (95% CI 0.59-0.92)")
    write(proj, d)
    step("correct the OS of one RCT")                                          # 6
    (proj.studies / "mixed-00011.yaml").unlink()
    step("remove a trial")                                                     # 7
    text = proj.analyses.read_text()
    text = text.replace("  - id: os_re\n    title: OS, random effects (REML, Hartung-Knapp-Sidik-Jonkman)\n"
                        "    sensitivity_of: os\n    view: analysis_rct_os\n    measure: HR\n    method: REML",
                        "  - id: os_re\n    title: OS, random effects (DL, Hartung-Knapp-Sidik-Jonkman)\n"
                        "    sensitivity_of: os\n    view: analysis_rct_os\n    measure: HR\n    method: DL")
    assert "method: DL" in text
    proj.analyses.write_text(text)
    step("os_re by DerSimonian-Laird")                                         # 8
    for i in (2, 4, 5):
        d = mixed_study(i)
        d["trial"]["first_published"] = "2014-01"  # earlier: moves in the order of every list
        d["outcomes"][1]["data_cutoff"] = "2025-06-30"
        write(proj, d)
    step("new data cut of three trials, first published earlier")             # 9
    d = mixed_study(29)
    d["trial"].update(inclusion="excluded", inclusion_reason="duplicate cohort")
    write(proj, d)
    step("exclude a trial")                                                    # 10
    return proj, db, steps


def stored_per_revision(db) -> dict[int, tuple[int, int]]:
    """(analyses stored, trial-id rows opened or closed) per revision."""
    with duckdb.connect(str(db), read_only=True) as con:
        groups = dict(con.execute(
            "SELECT revision_id, count(DISTINCT analysis_id) FROM history.pooled_estimates GROUP BY ALL").fetchall())
        ids = dict(con.execute(
            "SELECT r, count(*) FROM (SELECT valid_from AS r FROM history.pooled_trials UNION ALL "
            "SELECT valid_to FROM history.pooled_trials WHERE valid_to IS NOT NULL) GROUP BY ALL").fetchall())
        pooled = dict(con.execute("SELECT revision_id, stored FROM history.pooled_revisions").fetchall())
    assert {r: n for r, n in pooled.items() if n} == groups  # the record says what was stored
    return {r: (groups.get(r, 0), ids.get(r, 0)) for r in pooled}


def test_each_revision_stores_what_it_changed(mixed):
    proj, db, steps = mixed
    per = stored_per_revision(db)
    assert sorted(per) == list(range(1, 11))  # every revision pooled
    n_analyses = len(api.analyses(db))
    assert per[1] == (n_analyses, 0)  # no trial: every analysis stored, without data
    assert per[2][0] == n_analyses and per[2][1] > 100  # the base: everything, once
    assert per[4] == (0, 0)  # a note no view reads: nothing stored
    single_arm = sum(s.view == "analysis_single_arm_orr" for s in api.analyses(db))
    assert single_arm == 1  # a new project's single_arm_orr_by_class (subgroups by class)
    # a single-arm trial: the single-arm analyses, its id entering each overall result and the class stratum
    assert per[5] == (single_arm, single_arm + 1)
    # a new RCT (with acquired and primary subgroups) enters each stratum it pools in once: every
    # analysis but the single-arm ones, its id in each overall result, its class and both resistance
    # strata; not the base again
    assert per[3] == (n_analyses - single_arm, n_analyses - single_arm + 1 + 2)
    os_analyses = sum(s.view == "analysis_rct_os" for s in api.analyses(db))
    assert per[6] == (os_analyses, 0)  # a corrected OS: the OS analyses it enters, no trial list
    assert per[7] == per[3]  # a removed RCT leaves the strata a new one enters
    assert per[8] == (1, 0)  # only the analysis whose spec changed
    assert per[9] == (n_analyses - single_arm, 0)  # an earlier first publication reorders the lists: stored, no id
    assert per[10] == per[3]  # an excluded RCT leaves every stratum


def test_every_revision_answers_bit_for_bit(mixed):
    """pool --as-of recomputes each revision from a full read of the views and compares it with
    what the incremental replay stored (the newest at or before it, trial lists included)."""
    proj, db, steps = mixed
    for revision in range(1, 11):
        run = api.pool(db, as_of=revision)
        assert (revision, run.stored, run.mismatches) == (revision, "identical", [])


def test_a_rebuild_stores_what_the_updates_stored(mixed, tmp_path):
    """Built commit by commit (caches started afresh each time) or replayed at once: the same tables."""
    proj, db, steps = mixed
    fresh = tmp_path / "fresh.duckdb"
    api.build(proj, db=fresh)
    assert_same_tables(db, fresh)  # every history table, every column (what `verify` compares, and more)


#: what a database written before migration 0008 lacks (revision kinds and notes: `livemeta build`
#: replays it again for them)
_SINCE_0008 = ("changes", "note", "changed_files")


def assert_same_tables(db_a, db_b, *, before_0008: bool = False):
    con = duckdb.connect(":memory:")
    try:
        _attach(con, db_a, "stored", 10)
        _attach(con, db_b, "fresh", 10)
        tables = [r[0] for r in con.execute(named("history_table_names"), ["fresh"]).fetchall()]
        assert "pooled_trials" in tables and "pooled_revisions" in tables
        diffs = [d for t in tables if t != "schema_migrations" for d in _compare_table(con, t)[0]]
    finally:
        con.close()
    if before_0008:
        diffs = [d for d in diffs if not (d.startswith("revisions ") and all(
            part.split(":")[0] in _SINCE_0008 for part in d.split(": ", 1)[1].split("; ")))]
    assert diffs == []


def test_log_and_diff_read_the_stored_results(mixed):
    proj, db, steps = mixed
    entries = api.log(db)
    assert [e.revision.revision_id for e in entries] == list(range(1, 11))
    d = api.diff(db, 8, 9)
    assert {t.trial_id: t.kind for t in d.trials} == {"mixed-00002": "new data cut", "mixed-00004": "new data cut",
                                                       "mixed-00005": "new data cut"}
    assert not any(a.new.get("recomputed") or a.old.get("recomputed") for a in d.analyses)
    pfs = next(a for a in d.analyses if a.analysis == "pfs")
    # the cut changed no PFS number, only the order of the trials (first published earlier): the
    # sums run in another order, so the last bits may move
    assert pfs.old["k"] == pfs.new["k"] and pfs.new["estimate"] == pytest.approx(pfs.old["estimate"], rel=1e-12)


#: columns of history.pooled_estimates added by migrations after 0007 (0009: the monitoring's rule)
ADDED_LATER = ("monitoring_target", "monitoring_model", "monitoring_heterogeneity", "monitoring_overrun")


def _old_layout(new_db, old_db):
    """The database as livemeta wrote it before migration 0007: every analysis stored at every
    pooled revision with its trial list."""
    con = duckdb.connect(str(old_db))
    try:
        con.execute(migrations()[0].sql)
        for m in migrations()[1:]:
            if m.version >= 7:  # the migrations before 0007
                break
            con.execute(m.sql)
            con.execute(named("migration_record"), [m.version, m.name, m.sha256, "2025-01-01"])
        con.execute(f"ATTACH '{new_db}' AS new (READ_ONLY)")
        tables = [r[0] for r in con.execute(named("history_table_names"), ["new"]).fetchall()]
        before_0007 = {r[0] for r in con.execute(named("history_table_names"), ["old"]).fetchall()}
        for table in sorted(tables, key=lambda t: t != "revisions"):  # what the others refer to first
            if table in ("schema_migrations", "pooled_estimates", "pooled_trials", "pooled_revisions"):
                continue
            if table not in before_0007:  # made by a later migration (0010: searches, screening)
                continue
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND "
                "schema_name = 'history' AND table_name = ? ORDER BY column_index", [table]).fetchall()]
            con.execute(f"INSERT INTO history.{table} SELECT {', '.join(columns)} FROM new.history.{table}")
        revisions = [r[0] for r in con.execute("SELECT revision_id FROM new.history.pooled_revisions").fetchall()]
        con.execute("DETACH new")
    finally:
        con.close()
    from livemeta.analysis import stored_results

    rows = []
    with connect(new_db, read_only=True) as src:
        for r in revisions:
            df = stored_results(src, r, [s.id for s in api.analyses(new_db, as_of=r)])
            rows.append(df.assign(revision_id=r))
    import pandas as pd

    frame = pd.concat(rows, ignore_index=True)
    frame = frame.drop(columns=[c for c in frame.columns if c in ADDED_LATER])  # not in the layout before 0007
    con = duckdb.connect(str(old_db))
    try:
        con.register("old_rows", frame)
        con.execute("INSERT INTO history.pooled_estimates BY NAME SELECT * REPLACE (CAST(trials AS VARCHAR[]) AS trials) FROM old_rows")
        assert con.execute("SELECT count(*) FROM history.pooled_estimates").fetchone()[0] == len(frame)
    finally:
        con.close()


def _later_columns(old_db, new_db):
    """What migrations after 0007 add to the evidence tables and no migration can know (0011: the
    direction of a threshold, read from the study files by a rebuild), copied from the new database,
    so that the pooled tables 0007 converted are what is compared."""
    con = duckdb.connect(str(old_db))
    try:
        con.execute(f"ATTACH '{new_db}' AS new (READ_ONLY)")
        con.execute("UPDATE history.resistance_definitions AS o SET threshold_comparator = n.threshold_comparator "
                    "FROM new.history.resistance_definitions AS n WHERE n.row_id = o.row_id")
    finally:
        con.close()


def test_migration_0007_converts_a_database_to_what_a_replay_stores(mixed, tmp_path):
    proj, db, steps = mixed
    old = tmp_path / "old.duckdb"
    _old_layout(db, old)
    # the migration itself converts the layout (livemeta's own commands rebuild such a git-built
    # database instead of migrating it in place: tests/db/test_migrations.py)
    raw = duckdb.connect(str(old))
    try:
        apply_migrations(raw)
        install_views(raw)
    finally:
        raw.close()
    with connect(old) as con:
        assert con.execute("SELECT count(*) FROM history.pooled_trials").fetchone()[0] > 0
    _later_columns(old, db)
    assert_same_tables(old, db, before_0008=True)
    assert api.pool(old, as_of=9).stored == "identical"
