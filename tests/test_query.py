from __future__ import annotations

import json
import time

import pytest

from livemeta.db import connect, new_revision
from livemeta.errors import LivemetaError
from livemeta.query import check_read_only, run_query


@pytest.mark.parametrize(
    "sql,kind",
    [
        ("insert into history.trials (trial_id) values ('x')", "INSERT"),
        ("update history.trials set name = 'x'", "UPDATE"),
        ("delete from history.revisions", "DELETE"),
        ("drop table history.trials", "DROP"),
        ("create table t (a int)", "CREATE"),
        ("copy (select 1) to 'out.csv'", "COPY"),
        ("attach 'other.duckdb' as o", "ATTACH"),
        ("select 1; delete from history.revisions", "DELETE"),
        ("set variable livemeta_as_of = 1", "SET"),  # use --as-of instead
    ],
)
def test_writes_are_refused_before_running(sql, kind):
    with pytest.raises(LivemetaError, match=f"read-only: refused a {kind} statement"):
        check_read_only(sql)


@pytest.fixture
def one_revision(empty_db):
    with connect(empty_db) as con:
        new_revision(con, author="a", message="m|1", kind="build", files=[])
    return empty_db


def test_formats(one_revision):
    res = run_query(one_revision, "select revision_id, note, 1.5 as x, null as y from revisions")
    assert res.columns == ["revision_id", "note", "x", "y"]
    assert res.rows == [(1, "m|1", 1.5, None)]
    assert json.loads(res.format("json")) == [{"revision_id": 1, "note": "m|1", "x": 1.5, "y": None}]
    assert res.format("csv").splitlines() == ["revision_id,note,x,y", "1,m|1,1.5,"]
    assert res.format("markdown").splitlines()[2] == "| 1 | m&#124;1 | 1.5 |  |"  # escaped: text, never a cell break
    assert res.format("table").splitlines()[-1] == "(1 row)"


def test_no_file_access(one_revision):
    with pytest.raises(LivemetaError, match="file system operations are disabled"):
        run_query(one_revision, "select * from read_csv('/etc/hostname')")


def test_time_limit(one_revision):
    with pytest.raises(LivemetaError, match="time limit of 0.3 s"):
        run_query(one_revision, "select count(*) from range(10000000000) a, range(10) b", timeout=0.3)


# --- EXPLAIN ANALYZE runs the statement inside it ---------------------------------------------


@pytest.mark.parametrize(
    "sql,kind",
    [
        ("explain analyze create temp view trials as select 1 as x; select * from trials", "CREATE"),
        ("EXPLAIN ANALYZE set variable livemeta_as_of = 0", "SET"),
        ("explain /* a comment */ analyse insert into history.trials (trial_id) values ('x')", "INSERT"),
        ("explain (analyze) delete from history.revisions", "DELETE"),
        ("explain (analyze, format json) copy (select 1) to 'out.csv'", "COPY"),
        ("explain create table t (a int)", "CREATE"),
    ],
)
def test_explain_is_refused_unless_its_statement_is_allowed(sql, kind):
    with pytest.raises(LivemetaError, match=f"read-only: refused a {kind} statement"):
        check_read_only(sql)


def test_explain_analyze_of_a_read_runs(one_revision):
    res = run_query(one_revision, "explain analyze select count(*) from trials")
    assert "Total Time" in " ".join(str(v) for row in res.rows for v in row)
    assert run_query(one_revision, "explain select count(*) from revisions").rows


def test_explain_analyze_cannot_change_what_the_views_show(one_revision):
    for sql in ("explain analyze create temp view revisions as select 42 as revision_id; select * from revisions",
                "explain analyze set variable livemeta_as_of = 0; select count(*) from revisions"):
        with pytest.raises(LivemetaError, match="read-only"):
            run_query(one_revision, sql)
    assert run_query(one_revision, "select revision_id from revisions").rows == [(1,)]


# --- values JSON has no type for, and names used twice ----------------------------------------


def test_json_of_intervals_uuids_and_other_types(one_revision):
    sql = ("select interval 1 day + interval 2 hour as i, '4b1c0a7e-7c44-4c7f-9f38-0a1f3a6b7e11'::uuid as u, "
           "1.5::decimal(4, 2) as d, 'ab'::blob as b, time '10:11:12' as t, [interval 3 minute] as l, "
           "{'k': '4b1c0a7e-7c44-4c7f-9f38-0a1f3a6b7e11'::uuid} as s")
    res = run_query(one_revision, sql)
    assert json.loads(res.format("json")) == [{
        "i": "P1DT2H", "u": "4b1c0a7e-7c44-4c7f-9f38-0a1f3a6b7e11", "d": 1.5, "b": "6162", "t": "10:11:12",
        "l": ["PT3M"], "s": {"k": "4b1c0a7e-7c44-4c7f-9f38-0a1f3a6b7e11"},
    }]
    for fmt in ("table", "csv", "markdown"):
        assert "4b1c0a7e-7c44-4c7f-9f38-0a1f3a6b7e11" in res.format(fmt)


def test_duplicate_column_names_keep_every_column(one_revision):
    res = run_query(one_revision, "select 1 as a, 2 as a, 3 as a_1, 4 as b")
    assert json.loads(res.format("json")) == [{"a": 1, "a_2": 2, "a_1": 3, "b": 4}]
    assert res.format("csv").splitlines() == ["a,a,a_1,b", "1,2,3,4"]


# --- limits: time (fetching and formatting too) and size --------------------------------------


def test_a_result_over_the_byte_limit_is_refused_before_it_is_fetched(one_revision):
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(LivemetaError, match="larger than the limit of 100 MB") as info:  # memory enough to make it
        run_query(one_revision, "select repeat('x', 300000000) as x from range(4)", timeout=60, max_memory_mb=8000)
    assert "--max-mb" in str(info.value)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
    # DuckDB's one chunk of four values (1.2 GB) and the first row in Python (0.3 GB, ~0.9 GB while
    # converted); fetching and formatting every row took 6.5 GB before
    assert grown_mb < 3000
    res = run_query(one_revision, "select repeat('x', 300000) as x from range(4)", max_mb=1.5)  # 1.2 MB: fits
    assert len(res.rows) == 4


def test_a_result_over_the_row_limit_is_refused(one_revision):
    with pytest.raises(LivemetaError, match="more than 1,000 rows") as info:
        run_query(one_revision, "select * from range(5000)", max_rows=1000)
    assert "--max-rows" in str(info.value)
    assert len(run_query(one_revision, "select * from range(1000)", max_rows=1000).rows) == 1000


def test_the_time_limit_covers_fetching_and_formatting(one_revision, monkeypatch):
    import time

    from click.testing import CliRunner

    from livemeta import query
    from livemeta.cli import main

    slow = query._text

    def slow_text(v):
        time.sleep(0.01)
        return slow(v)

    monkeypatch.setattr(query, "_text", slow_text)  # formatting 300 rows takes 3 s
    start = time.monotonic()
    out = CliRunner().invoke(main, ["query", "select * from range(300)", "--db", str(one_revision), "--timeout", "0.5"])
    assert out.exit_code == 1 and "query stopped after the time limit of 0.5 s" in out.output, out.output
    assert time.monotonic() - start < 2
    # formatting alone, with a deadline
    res = run_query(one_revision, "select * from range(300)")
    with pytest.raises(LivemetaError, match="time limit of 0.2 s"):
        res.format("table", deadline=time.monotonic() + 0.2, timeout=0.2)
    assert res.format("csv").splitlines()[-1] == "299"  # no deadline: all of it
    # a generous limit lets a result through
    out = CliRunner().invoke(main, ["query", "select * from range(30)", "--db", str(one_revision), "--timeout", "30"])
    assert out.exit_code == 0 and out.output.rstrip().endswith("(30 rows)")


def test_cli_size_flags(one_revision):
    from click.testing import CliRunner

    from livemeta.cli import main

    runner = CliRunner()
    out = runner.invoke(main, ["query", "select * from range(20)", "--db", str(one_revision), "--max-rows", "10"])
    assert out.exit_code == 1 and "more than 10 rows" in out.output and "Traceback" not in out.output
    out = runner.invoke(main, ["query", "select * from range(20)", "--db", str(one_revision), "--max-rows", "20", "-f", "csv"])
    assert out.exit_code == 0 and out.output.splitlines()[-1] == "19"


# --- limits that cannot be switched off (issue 21) ---------------------------------------------


@pytest.mark.parametrize("option, value", [
    ("--timeout", "nan"), ("--timeout", "inf"), ("--timeout", "1e308"), ("--timeout", "-1"), ("--timeout", "0"),
    ("--max-mb", "nan"), ("--max-mb", "inf"), ("--max-mb", "-5"), ("--max-mb", "1e308"),
    ("--max-rows", "0"), ("--max-rows", "99999999999"), ("--max-memory-mb", "nan"), ("--max-memory-mb", "1e9"),
    ("--wait", "nan"), ("--wait", "inf"),
])
def test_a_limit_that_is_not_a_finite_number_in_its_range_is_refused(one_revision, option, value):
    from click.testing import CliRunner

    from livemeta.cli import main

    start = time.monotonic()
    out = CliRunner().invoke(main, ["query", "select count(*) from range(10000000000) a, range(10) b",
                                    "--db", str(one_revision), option, value])
    assert out.exit_code == 2, out.output
    assert f"Invalid value for '{option}'" in out.output and "Traceback" not in out.output, out.output
    assert "not a finite number" in out.output or "is not in the range" in out.output, out.output
    assert time.monotonic() - start < 5  # refused before anything ran


@pytest.mark.parametrize("name, value", [("timeout", float("nan")), ("timeout", float("inf")), ("timeout", 1e308),
                                         ("max_mb", float("nan")), ("max_rows", 2.5), ("max_rows", True),
                                         ("max_memory_mb", float("-inf")), ("max_memory_mb", 10)])
def test_the_api_refuses_the_same_limits(one_revision, name, value):
    from livemeta.query import LIMITS

    with pytest.raises(LivemetaError, match=f"{LIMITS[name][0]} must be a (whole )?number from") as info:
        run_query(one_revision, "select 1", **{name: value})
    assert "cannot be switched off" in info.value.hint


#: run a command from a small process and report its exit status, peak resident memory and output:
#: a process spawned straight from pytest would count pytest's own memory in its peak (Linux carries
#: the spawning process's high-water mark over to the child across exec)
_MEASURE = """
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
output = proc.stdout.read().decode()
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "peak_kb": usage.ru_maxrss, "output": output}))
"""


def _peak_rss_mb(args) -> tuple[int, int, str]:
    """Run `livemeta ARGS` as a real process: its exit status, peak resident memory (MB), output."""
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("livemeta")
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(exe), *args], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    return result["code"], result["peak_kb"] // 1024, result["output"]


@pytest.mark.parametrize("sql", ["select repeat('x', 3000000000)", "select string_agg(repeat('x',1000),'') from range(1000000)"])
def test_a_query_that_builds_a_huge_value_stops_at_the_memory_limit(one_revision, sql):
    """Before: 11.8 GB and 6.0 GB resident (the 3 GB value escapes DuckDB's memory_limit). Now the
    process stays within the limit (DuckDB's memory_limit, and RLIMIT_AS while the query runs) and
    says so."""
    code, peak, output = _peak_rss_mb(["query", sql, "--db", str(one_revision), "--max-mb", "1", "--timeout", "120"])
    assert code == 1, output
    assert "the query needs more memory than the limit of 2,000 MB" in output and "--max-memory-mb" in output, output
    assert peak < 2600, peak  # the default limit, 2,000 MB, plus the interpreter
    code, peak, output = _peak_rss_mb(["query", sql, "--db", str(one_revision), "--max-memory-mb", "256", "--timeout", "120"])
    assert code == 1 and "the query needs more memory than the limit of 256 MB" in output, output
    assert peak < 700, peak


def test_a_query_within_the_memory_limit_runs_and_the_limit_is_lifted_after(one_revision):
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    res = run_query(one_revision, "select length(repeat('x', 50000000)) as n, repeat('y', 20000000) as y", max_memory_mb=256)
    assert res.rows[0][0] == 50_000_000 and len(res.rows[0][1]) == 20_000_000
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    with pytest.raises(LivemetaError, match="more memory than the limit of 256 MB"):
        run_query(one_revision, "select repeat('x', 3000000000)", max_memory_mb=256)
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert run_query(one_revision, "select 42").rows == [(42,)]  # the process goes on
