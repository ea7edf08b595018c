from __future__ import annotations

import datetime as dt

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
