"""Row ids are numbered after the largest one of every evidence table, so that a replay numbers
them the same way; the query must name every evidence table (a new one included)."""

from __future__ import annotations

from livemeta.ingest.checks import sql
from livemeta.ingest.frames import TABLES


def test_max_row_id_covers_every_evidence_table():
    text = sql("max_row_id")
    assert {t for t in TABLES if f"history.{t})" in text} == set(TABLES)
