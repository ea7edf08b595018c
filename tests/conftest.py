"""Shared fixtures: an empty migrated database in a temporary folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# Tests make git commits: a known identity, whatever the machine's git configuration says.
for _k, _v in (("GIT_AUTHOR_NAME", "Test Author"), ("GIT_AUTHOR_EMAIL", "author@example.org"),
               ("GIT_COMMITTER_NAME", "Test Author"), ("GIT_COMMITTER_EMAIL", "author@example.org")):
    os.environ[_k] = _v

#: this repository: livemeta's own files and the bundled evidence project (livemeta.yaml)
REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """Compile livemeta's own modules (src/, installed editable) once, before the workers start:
    where PYTHONDONTWRITEBYTECODE is set, as on CI machines, no process writes their bytecode, and
    every test worker and every `python -m livemeta` a test runs would compile them again."""
    if not hasattr(config, "workerinput"):  # the controller (or the one process of -n 0)
        import compileall

        compileall.compile_dir(REPO / "src", quiet=2)


@pytest.fixture(autouse=True)
def _outside_the_checkout(tmp_path_factory, monkeypatch):
    """Tests run in an empty folder, not in this checkout: the checkout is itself an evidence project
    (livemeta.yaml), and no test may find it from the working directory and read or write its
    database (data/livemeta.duckdb, a developer's cache). Tests name the files they use."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    monkeypatch.delenv("LIVEMETA_DB", raising=False)
    monkeypatch.delenv("LIVEMETA_PROJECT", raising=False)


@pytest.fixture
def db_path(tmp_path, monkeypatch):
    """A database path in tmp (not created yet); LIVEMETA_DB points at it for CLI tests."""
    path = tmp_path / "test.duckdb"
    monkeypatch.setenv("LIVEMETA_DB", str(path))
    return path


@pytest.fixture(scope="session")
def _empty_db_file(tmp_path_factory) -> Path:
    """An empty livemeta database (migrated, with today's views), made by `connect` once per session."""
    from livemeta.db import connect

    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    with connect(path):
        pass
    return path


@pytest.fixture
def empty_db(db_path, _empty_db_file):
    """An empty livemeta database at ``db_path``: a copy of the session's (the same bytes a new
    `connect` writes, without migrating and installing the views again for every test)."""
    shutil.copyfile(_empty_db_file, db_path)
    return db_path


@pytest.fixture(scope="session")
def bundled_db(made_once, tmp_path_factory):
    """The bundled evidence project, built from this repository's git history once per session (the
    database of :func:`bundled_clone`'s clone, copied: the same commits replayed)."""
    path = tmp_path_factory.mktemp("bundled") / "bundled.duckdb"
    shutil.copyfile(made_once("bundled-clone", _make_bundled_clone) / "data" / "livemeta.duckdb", path)
    return path


@pytest.fixture(scope="session")
def bundled_report(bundled_db, tmp_path_factory) -> Path:
    """The folder of the bundled project's report (index.html, report.md, figures/), written once per
    session as `livemeta report` writes it (with the project's GRADE file): for tests that only read
    it. A test that writes a report of its own, or changes one, makes its own."""
    from livemeta import api
    from livemeta.project import load_project

    out = tmp_path_factory.mktemp("bundled-report")
    api.report(bundled_db, out, project=load_project(REPO))
    return out


def _make_bundled_clone(folder: Path) -> None:
    import subprocess

    from livemeta import api

    subprocess.run(["git", "clone", "-q", str(REPO), str(folder)], check=True)
    api.build(folder)


def copy_of_bundled(made_once, dest: Path):
    """A clone of this repository with its database built (the bundled history replayed once per
    session, then copied): for tests that work on the bundled project rather than test its build."""
    return copy_project(made_once("bundled-clone", _make_bundled_clone), dest)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A new evidence project (a git repository with its first commit) as the working directory;
    LIVEMETA_DB is unset so that the project's own database is used."""
    from livemeta.project import new_project

    monkeypatch.delenv("LIVEMETA_DB", raising=False)
    monkeypatch.delenv("LIVEMETA_PROJECT", raising=False)
    proj, _ = new_project(tmp_path / "review", name="Test review")
    monkeypatch.chdir(proj.root)
    return proj


@pytest.fixture(scope="session")
def made_once(tmp_path_factory):
    """``made_once(key, make)``: the folder of a project that ``make(folder)`` builds (a git
    repository with its commits and database), made the first time a test of the session asks for
    ``key``; tests copy it (:func:`copy_project`) instead of making the same history again."""
    made: dict[str, Path] = {}

    def get(key: str, make) -> Path:
        if key not in made:
            folder = tmp_path_factory.mktemp(f"made-{key}") / "review"
            make(folder)
            made[key] = folder
        return made[key]

    return get


def copy_project(made: Path, dest: Path, monkeypatch=None):
    """A copy of a project made once (its git repository, files and database, as a clone's owner
    would have them); with ``monkeypatch``, the working directory and no LIVEMETA_DB/PROJECT, as the
    ``project`` fixture sets them."""
    from livemeta.project import load_project

    shutil.copytree(made, dest, symlinks=True)
    proj = load_project(dest)
    if monkeypatch is not None:
        monkeypatch.delenv("LIVEMETA_DB", raising=False)
        monkeypatch.delenv("LIVEMETA_PROJECT", raising=False)
        monkeypatch.chdir(proj.root)
    return proj
