"""The SQLModel classes are the typed read API over the as-of views: each matches its view column by
column, and a session reads the evidence as of a revision, with each trial's rows attached."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import select

from livemeta.db import connect, views
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


def test_every_model_maps_a_view():
    names = {v.name for v in views()}
    assert set(models.VIEW_MODELS) <= names
    assert {"trials", "sources", "arms", "resistance_definitions", "outcomes", "adverse_events", "revisions",
            "versions", "pooled_estimates"} == set(models.VIEW_MODELS)


@pytest.mark.parametrize("view", sorted(models.VIEW_MODELS))
def test_model_matches_its_view(empty_db, view):
    table = models.VIEW_MODELS[view].__table__
    with connect(empty_db, read_only=True) as con:
        cols = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' "
            "AND table_name = ? ORDER BY ordinal_position", [view]).fetchall()
    assert [c for c, _ in cols] == [c.name for c in table.columns], "column names or order differ"
    for (name, dtype), col in zip(cols, table.columns):
        assert DUCKDB_TO_PY[dtype] is _python_type(col.type), f"{view}.{name}: view {dtype} vs model {col.type!r}"


def test_a_session_reads_trials_with_their_rows_as_of_a_revision(bundled_db):
    with models.session(bundled_db, as_of="review-2025") as s:
        trials = s.exec(select(models.Trial)).all()
        contact = next(t for t in trials if t.trial_id == "contact-01")
        assert [(o.endpoint, o.estimate) for o in sorted(contact.outcomes, key=lambda o: o.outcome_id)] == [
            ("os", 0.88), ("pfs", 0.74)]
        assert {a.role for a in contact.arms} == {"experimental", "control"}
        assert contact.sources and all(src.trial_id == "contact-01" for src in contact.sources)
        assert len(trials) == 29  # the review's set
        (rev,) = s.exec(select(models.Revision)).all()
        assert (rev.revision_id, rev.status, rev.trials_added, len(rev.commit_sha)) == (1, "applied", 29, 40)
    with models.session(bundled_db) as s:
        assert len(s.exec(select(models.Trial)).all()) == 34
        assert [v.name for v in s.exec(select(models.Version)).all()] == ["review-2025"]
