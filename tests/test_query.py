from __future__ import annotations

import json

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
    res = run_query(one_revision, "select revision_id, message, 1.5 as x, null as y from revisions")
    assert res.columns == ["revision_id", "message", "x", "y"]
    assert res.rows == [(1, "m|1", 1.5, None)]
    assert json.loads(res.format("json")) == [{"revision_id": 1, "message": "m|1", "x": 1.5, "y": None}]
    assert res.format("csv").splitlines() == ["revision_id,message,x,y", "1,m|1,1.5,"]
    assert res.format("markdown").splitlines()[2] == "| 1 | m\\|1 | 1.5 |  |"
    assert res.format("table").splitlines()[-1] == "(1 row)"


def test_no_file_access(one_revision):
    with pytest.raises(LivemetaError, match="file system operations are disabled"):
        run_query(one_revision, "select * from read_csv('/etc/hostname')")


def test_time_limit(one_revision):
    with pytest.raises(LivemetaError, match="time limit of 0.3 s"):
        run_query(one_revision, "select count(*) from range(10000000000) a, range(10) b", timeout=0.3)
