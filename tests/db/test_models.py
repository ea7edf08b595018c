"""The DDL in schema/ is the source of truth; the SQLModel classes must mirror it exactly."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, select

from livemeta.db import connect
from livemeta.db import models

DUCKDB_TO_PY = {
    "VARCHAR": str,
    "INTEGER": int,
    "BIGINT": int,
    "DOUBLE": float,
    "BOOLEAN": bool,
    "DATE": dt.date,
    "TIMESTAMP": dt.datetime,
    "VARCHAR[]": list,
}


def _python_type(sa_type):
    if isinstance(sa_type, sa.ARRAY):
        return list
    if isinstance(sa_type, sa.types.TypeDecorator):
        sa_type = sa_type.impl_instance
    return sa_type.python_type


def _ddl_columns(con, table):
    rows = con.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'history' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {name: (dtype, nullable == "YES") for name, dtype, nullable in rows}


def _history_tables(con):
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'history' AND table_type = 'BASE TABLE'"
        ).fetchall()
    }


def test_every_history_table_has_a_model(empty_db):
    model_tables = {t.name for t in SQLModel.metadata.sorted_tables if t.schema == "history"}
    with connect(empty_db, read_only=True) as con:
        assert _history_tables(con) == model_tables


@pytest.mark.parametrize("table", [t for t in SQLModel.metadata.sorted_tables if t.schema == "history"], ids=lambda t: t.name)
def test_model_matches_ddl(empty_db, table):
    with connect(empty_db, read_only=True) as con:
        ddl = _ddl_columns(con, table.name)
        pk = {
            c
            for (c,) in con.execute(
                "SELECT unnest(constraint_column_names) FROM duckdb_constraints() "
                "WHERE schema_name = 'history' AND table_name = ? AND constraint_type = 'PRIMARY KEY'",
                [table.name],
            ).fetchall()
        }
    assert list(ddl) == [c.name for c in table.columns], "column names or order differ"
    for col in table.columns:
        dtype, nullable = ddl[col.name]
        assert DUCKDB_TO_PY[dtype] is _python_type(col.type), f"{table.name}.{col.name}: DDL {dtype} vs model {col.type!r}"
        assert (col.name in pk) == col.primary_key, f"{table.name}.{col.name}: primary key differs"
        if not col.primary_key:
            assert col.nullable == nullable, f"{table.name}.{col.name}: nullability differs (DDL nullable={nullable})"


def test_models_read_and_write_through_sqlmodel(empty_db):
    """The models are a working API: insert through a session, read it back (row_id from the sequence)."""
    with models.session(empty_db, read_only=False) as s:
        s.add(models.Revision(revision_id=1, created_at=dt.datetime(2026, 1, 1), author="a", message="m",
                              kind="ingest", livemeta_version="0"))
        s.commit()
        s.add(models.Trial(valid_from=1, trial_id="t", name="T", design="rct", status="unknown",
                           inclusion="candidate", verified=True))
        s.add(models.Arm(valid_from=1, trial_id="t", arm_id="a", role="single", regimen="x",
                         partners=["p", "q"], treatment_class="none", verified=True))
        s.commit()
    with models.session(empty_db) as s:
        trial = s.exec(select(models.Trial)).one()
        arm = s.exec(select(models.Arm)).one()
    assert (trial.trial_id, trial.valid_to) == ("t", None)
    assert {trial.row_id, arm.row_id} == {1, 2}  # both drawn from history.row_id_seq
    assert arm.partners == ["p", "q"]
