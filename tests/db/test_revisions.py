from __future__ import annotations

import datetime as dt
import re

import pytest

from livemeta.db import connect, new_revision, resolve_revision, set_as_of
from livemeta.errors import LivemetaError


def _add_trial(con, rev, trial_id, name, *, supersede=False):
    if supersede:
        con.execute("UPDATE history.trials SET valid_to = ? WHERE trial_id = ? AND valid_to IS NULL", [rev, trial_id])
    con.execute(
        "INSERT INTO history.trials (valid_from, trial_id, name, design, status, inclusion, verified) "
        "VALUES (?, ?, ?, 'rct', 'unknown', 'candidate', true)",
        [rev, trial_id, name],
    )


def test_views_read_any_earlier_revision(empty_db):
    with connect(empty_db) as con:
        r1 = new_revision(con, author="a", message="first", kind="ingest", files=[("a.yaml", "h1", "a", "added")])
        _add_trial(con, r1, "a", "A v1")
        r2 = new_revision(con, author="a", message="second", kind="ingest", files=[("b.yaml", "h2", "b", "added")])
        _add_trial(con, r2, "b", "B")
        r3 = new_revision(con, author="a", message="fix A", kind="ingest", files=[("a.yaml", "h3", "a", "superseded")])
        _add_trial(con, r3, "a", "A v2", supersede=True)
    assert (r1, r2, r3) == (1, 2, 3)
    with connect(empty_db, read_only=True) as con:
        names = lambda: sorted(r[0] for r in con.execute("SELECT name FROM trials").fetchall())  # noqa: E731
        assert names() == ["A v2", "B"]
        set_as_of(con, 1)
        assert names() == ["A v1"]
        set_as_of(con, 2)
        assert names() == ["A v1", "B"]
        set_as_of(con, 3)  # the revision that closes A v1 (valid_to = 3) no longer shows it
        assert names() == ["A v2", "B"]
        set_as_of(con, None)
        assert names() == ["A v2", "B"]
        # the superseded row is kept, closed at revision 3
        assert con.execute("SELECT valid_from, valid_to FROM history.trials WHERE name = 'A v1'").fetchone() == (1, 3)
        assert con.execute("SELECT trials_added, trials_superseded FROM revisions WHERE revision_id = 3").fetchone() == (0, 1)


def test_resolve_revision_by_id_and_date(empty_db):
    with connect(empty_db) as con:
        new_revision(con, author="a", message="m", kind="build", files=[])
        new_revision(con, author="a", message="m", kind="ingest", files=[])
        assert resolve_revision(con, None) == 2
        assert resolve_revision(con, "1") == 1
        today = dt.datetime.now(dt.UTC).date().isoformat()
        assert resolve_revision(con, today) == 2
        with pytest.raises(LivemetaError, match="no revision 7"):
            resolve_revision(con, 7)
        with pytest.raises(LivemetaError, match="no revision was made on or before 2001-01-01"):
            resolve_revision(con, "2001-01-01")
        with pytest.raises(LivemetaError, match="neither a revision id, a date"):
            resolve_revision(con, "yesterday")


@pytest.mark.parametrize(
    "spec,reason",
    [
        ("²", "neither a revision id, a date"),  # str.isdigit() is true for it, int() fails
        ("١", "neither a revision id, a date"),  # Arabic-Indic one: int() reads it as 1
        ("١٢٣٤-٠١-٠١", "neither a revision id, a date"),
        ("", "an empty --as-of"),
        (" ", "neither a revision id, a date"),
        ("1\n", "neither a revision id, a date"),
        ("2026-01-01\n", "neither a revision id, a date"),
        ("+1", "neither a revision id, a date"),
        ("9" * 5000, "no revision 99999999999999999999..."),
        ("2026-02-30", "is not a valid date"),
    ],
)
def test_as_of_accepts_only_ascii_digits_or_an_iso_date(empty_db, spec, reason):
    with connect(empty_db) as con:
        new_revision(con, author="a", message="m", kind="build", files=[])
        with pytest.raises(LivemetaError, match=re.escape(reason)) as info:
            resolve_revision(con, spec)
        assert len(str(info.value)) < 200


def test_as_of_on_the_command_line_without_traceback(empty_db):
    from click.testing import CliRunner

    from livemeta.cli import main

    with connect(empty_db) as con:
        new_revision(con, author="a", message="m", kind="build", files=[])
    for spec in ("²", "١", ""):
        result = CliRunner().invoke(main, ["query", "select count(*) from trials", "--as-of", spec])
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "error:" in result.output and "Traceback" not in result.output, result.output
