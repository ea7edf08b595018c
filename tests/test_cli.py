"""The command line: in-process (click's runner) and as a real subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from livemeta.cli import main
from livemeta.paths import resource

from tests.conftest import REPO


def test_every_command_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for name in main.commands:
        assert f"`livemeta {name}" in readme, f"README does not document `livemeta {name}`"


def test_every_command_has_an_example_in_the_readme():
    """Each command appears as a command line in the README's Examples block."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("### Examples", 1)[1].split("```", 2)[1]
    for name in main.commands:
        assert re.search(rf"^livemeta {name}\b", block, re.M), f"no example of `livemeta {name}` in the README"


def test_every_command_has_help():
    runner = CliRunner()
    for name, cmd in main.commands.items():
        out = runner.invoke(main, [name, "--help"])
        assert out.exit_code == 0, name
        assert cmd.help and len(cmd.help.strip()) > 20, name


def test_readme_commands_exist():
    """Guard against documentation drift: each `livemeta X` named in the README is a command."""
    readme = (REPO / "README.md").read_text()
    named = set(re.findall(r"`livemeta ([a-z][a-z-]*)", readme))
    assert named <= set(main.commands), named - set(main.commands)


_CTGOV_RECORD = str(Path(__file__).resolve().parent / "importers" / "fixtures" / "NCT02552212.json")


@pytest.mark.parametrize("argv", [["query", "select 1"], ["--help"], ["views"], ["query", "--help"],
                                  ["import", "ctgov", _CTGOV_RECORD]])
def test_light_commands_do_not_import_heavy_modules(argv, empty_db):
    code = textwrap.dedent(
        f"""
        import sys
        from livemeta.cli import main
        try:
            main({argv!r} + (["--db", {str(empty_db)!r}] if {argv!r}[0] == "query" and "--help" not in {argv!r} else []), standalone_mode=False)
        except SystemExit:
            pass
        heavy = sorted(m for m in ("great_expectations", "matplotlib", "pandas", "sqlmodel", "scipy") if m in sys.modules)
        print("HEAVY", heavy)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_query_subprocess_and_exit_codes(bundled_db):
    run = lambda *a: subprocess.run([sys.executable, "-m", "livemeta", *a, "--db", str(bundled_db)],  # noqa: E731
                                    capture_output=True, text=True)
    out = run("query", "select count(*) as n from trials where design = 'rct'", "--format", "json")
    assert out.returncode == 0 and json.loads(out.stdout) == [{"n": 15}]
    out = run("query", "drop table history.trials")
    assert out.returncode == 1 and "read-only" in out.stderr and "Traceback" not in out.stderr
    out = run("query", "select * from no_such_view")
    assert out.returncode == 1 and "no_such_view" in out.stderr and "livemeta views" in out.stderr


def test_build_then_select_names_lists_the_bundled_trials(bundled_db):
    out = CliRunner().invoke(main, ["query", "select name from trials order by name", "--db", str(bundled_db), "-f", "csv"])
    assert out.exit_code == 0
    names = out.output.strip().splitlines()
    assert names[0] == "name" and len(names) == 1 + 34
    assert {"CONTACT-01", "SAPPHIRE", "Lung-MAP S1800A", "KEYVIBE-002", "WJOG9616L"} <= set(names)


def test_pool_cli_table_and_json(bundled_db):
    runner = CliRunner()
    out = runner.invoke(main, ["pool", "os", "os_acquired", "--db", str(bundled_db)])
    assert out.exit_code == 0, out.output
    header, *_ = out.output.splitlines()
    assert "review-2025 (trials)" in header  # the version the published figures belong to
    first = next(line for line in out.output.splitlines() if line.startswith("os "))
    assert "7 RCTs" in first and "HR 0.90 (0.82–0.99)" in first and "0.91 (0.82–0.99)" in first
    assert "0.90 (0.82–0.99) (7 of 10 RCTs)" in first  # the review's set, against the review's count
    out = runner.invoke(main, ["pool", "os", "--json", "--exclude-unverified", "--db", str(bundled_db)])
    data = json.loads(out.stdout)
    assert out.stderr.strip() == "variants are computed and shown, not stored"
    assert data[0]["analysis"] == "os[verified_only]" and data[0]["k"] == 6
    out = runner.invoke(main, ["pool", "nope", "--db", str(bundled_db)])
    assert out.exit_code == 1 and "no analysis 'nope'" in out.output


def test_template_validates(tmp_path):
    runner = CliRunner()
    out = runner.invoke(main, ["template"])
    assert out.exit_code == 0 and out.output.startswith("# livemeta study file")
    path = tmp_path / "t.yaml"
    path.write_text(out.output)
    out = runner.invoke(main, ["validate", str(path), "--db", str(tmp_path / "none.duckdb")])
    assert out.exit_code == 0, out.output


def test_init_is_idempotent_from_the_cli(db_path):
    runner = CliRunner()
    first = runner.invoke(main, ["init", "--db", str(db_path)])
    second = runner.invoke(main, ["init", "--db", str(db_path)])
    assert first.exit_code == second.exit_code == 0
    from livemeta.db import migrations

    newest = migrations()[-1].version
    # 0000 bookkeeping, 0001 evidence tables, 0002 pooled estimates, 0003 trial source,
    # 0004 git history, 0005 reported statistics, 0006 risk of bias, 0007 pooled estimates stored
    # when they change, 0008 revision kinds and notes, 0009 the rule and model of the stored monitoring,
    # 0010 search runs, records, de-duplication and screening decisions, 0011 the direction of a
    # resistance threshold
    assert newest == 11
    assert first.output == second.output and f"schema version {newest}" in first.output


def test_python_m_livemeta_is_the_same_command():
    out = subprocess.run([sys.executable, "-m", "livemeta", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "livemeta, version 0.1.0"


def test_progress_bar_on_a_terminal_and_quiet_when_piped(monkeypatch, capsys):
    from livemeta import cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with cli._progress("ingest", total=4) as step:
        step("read a.yaml")
        step("read b.yaml")
    err = capsys.readouterr().err
    assert "ingest [###############               ] 2/4 read b.yaml" in err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    with cli._progress("ingest", total=4) as step:
        step("read a.yaml")
    assert capsys.readouterr().err == ""


def test_ingest_piped_prints_no_progress(project):
    study = project.studies / "example.yaml"
    study.write_text(resource("ingest", "template.yaml").read_text())
    out = subprocess.run([sys.executable, "-m", "livemeta", "ingest", str(study), "-m", "add example"],
                         capture_output=True, text=True, cwd=project.root)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert re.match(r"caught up: revision 1 [0-9a-f]{9} Start the livemeta project: Test review: no trial changed\n"
                    r"revision 2 [0-9a-f]{9} add example: 1 added\n", out.stdout), out.stdout


def test_validate_supersede_needs_a_database(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(resource("ingest", "template.yaml").read_text())
    out = CliRunner().invoke(main, ["validate", str(path), "--supersede", "--db", str(tmp_path / "none.duckdb")])
    assert out.exit_code == 1 and "--supersede replaces trials in a database, and there is none" in out.output


def test_an_analysis_that_fails_at_a_revision_is_stored_as_failed(project, monkeypatch):
    """Replaying a commit never stops at an analysis the engine cannot compute: its row is stored
    with the reason, the revision and the other analyses are written."""
    from livemeta import analysis, api
    from livemeta.errors import LivemetaError

    real = analysis.run_analysis

    def broken(con, spec, revision, views=None):
        if spec.id == "os" and revision == 2:
            raise LivemetaError("analysis os: trial x gives no usable effect size")
        return real(con, spec, revision, views)

    monkeypatch.setattr(analysis, "run_analysis", broken)
    path = project.studies / "t.yaml"
    path.write_text(resource("ingest", "template.yaml").read_text())
    out = CliRunner().invoke(main, ["ingest", str(path), "-m", "add"])
    assert out.exit_code == 0, out.output
    rows = api.query(project.database, "select analysis_id, k, estimate, message from pooled_estimates "
                     "where revision_id = 2 and analysis_id in ('os', 'orr') and stratum = 'overall' order by 2, 1").rows
    assert rows[0] == ("os", 0, None, "analysis os: trial x gives no usable effect size")
    assert rows[1][0] == "orr" and rows[1][1] == 1 and rows[1][2] is not None


def test_unpoolable_row_is_a_user_error_naming_the_trial(tmp_path):
    """A value the engine cannot pool (here a CI level z_crit does not cover, written past the
    validation straight into the table) is reported with its trial and outcome, not a traceback."""
    from livemeta import api
    from livemeta.db import connect
    from livemeta.errors import LivemetaError
    from livemeta.ingest import ingest_files

    path = tmp_path / "t.yaml"
    path.write_text(resource("ingest", "template.yaml").read_text())
    db = tmp_path / "u.duckdb"
    ingest_files(db, [path], message="add", author="t")
    with connect(db) as con:
        con.execute("UPDATE history.outcomes SET ci_level = 95.55 WHERE outcome_id = 'os'")
    with pytest.raises(LivemetaError, match=r"analysis os: trial example-01, outcome os gives no usable effect size"):
        api.pool(db, ["os"])


def test_as_of_notices_a_changed_analysis_spec(bundled_db, monkeypatch):
    from livemeta import api
    from livemeta.analysis import spec as spec_module

    original = spec_module.AnalysisSpec.method_spec
    monkeypatch.setattr(spec_module.AnalysisSpec, "method_spec", lambda self: original(self).replace('"FE"', '"FE "'))
    run = api.pool(bundled_db, ["os"], as_of=1)
    assert run.stored == "differs" and any("method_spec" in m for m in run.mismatches)


def _commands(group=main, prefix=()):
    import click

    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name), cmd


def test_every_command_takes_project_as_the_readme_says(tmp_path):
    """The README: "Every command takes --project DIR"; those that open a database also --db and --wait."""
    readme = (REPO / "README.md").read_text()
    assert "Every command takes `--project DIR`" in readme
    commands = dict(_commands())
    assert len(commands) >= 22
    for path, cmd in commands.items():
        opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
        assert "--project" in opts, path
        assert ("--db" in opts) == ("--wait" in opts), path
    runner = CliRunner()
    proj = tmp_path / "p"
    assert runner.invoke(main, ["new-project", "--project", str(proj), "--name", "test"]).exit_code == 0
    out = runner.invoke(main, ["views", "--project", str(proj), "--no-columns"])
    assert out.exit_code == 0 and out.output.startswith("adverse_event_rates") and "trials" in out.output
    out = runner.invoke(main, ["template", "--project", str(proj)])
    assert out.exit_code == 0 and out.output.startswith("# livemeta study file")
    out = runner.invoke(main, ["views", "--project", str(tmp_path / "nowhere")])
    assert out.exit_code == 1 and "no livemeta.yaml here" in out.output
    out = runner.invoke(main, ["new-project", str(tmp_path / "a"), "--project", str(tmp_path / "b"), "--name", "x"])
    assert out.exit_code == 2 and "name two folders" in out.output


def test_new_project_starts_with_neutral_analyses_and_no_published_version(tmp_path):
    import yaml

    proj = tmp_path / "test"
    out = CliRunner().invoke(main, ["new-project", str(proj), "--name", "test"])
    assert out.exit_code == 0, out.output
    text = (proj / "analyses.yaml").read_text()
    doc = yaml.safe_load(text)
    assert "published_version" not in doc and not any("published" in a for a in doc["analyses"])
    data = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"S1800A|KEYVIBE|PD-\(L\)1|review-2025|monitoring|moderators|published", data)
    assert {"os", "pfs", "orr", "os_re"} <= {a["id"] for a in doc["analyses"]}
    study = proj / "studies" / "example.yaml"
    study.write_text(resource("ingest", "template.yaml").read_text())
    out = subprocess.run([sys.executable, "-m", "livemeta", "ingest", str(study), "-m", "add example"],
                         capture_output=True, text=True, cwd=proj)
    assert out.returncode == 0, out.stderr
    out = subprocess.run([sys.executable, "-m", "livemeta", "pool"], capture_output=True, text=True, cwd=proj)
    assert out.returncode == 0, out.stderr
    assert not re.search(r"of 10 RCTs|differs|0\.91|review|published", out.stdout), out.stdout
    assert "1 RCT " in out.stdout and "1 RCTs" not in out.stdout
