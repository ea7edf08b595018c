"""Shared fixtures: an empty migrated database in a temporary folder."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture
def db_path(tmp_path, monkeypatch):
    """A database path in tmp (not created yet); LIVEMETA_DB points at it for CLI tests."""
    path = tmp_path / "test.duckdb"
    monkeypatch.setenv("LIVEMETA_DB", str(path))
    monkeypatch.setenv("LIVEMETA_AUTHOR", "tester")
    return path


@pytest.fixture
def empty_db(db_path):
    from livemeta.db import connect

    with connect(db_path):
        pass
    return db_path


@pytest.fixture(scope="session")
def bundled_db(tmp_path_factory):
    """The bundled evidence base (data/studies), built once per test session: revision 1, pooled."""
    from livemeta import api

    path = tmp_path_factory.mktemp("bundled") / "bundled.duckdb"
    api.build(path)
    return path
