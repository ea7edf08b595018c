"""The named SQL statements of ``queries/named/``: the code runs SQL only from files."""

from __future__ import annotations

from functools import cache

from .paths import resource


@cache
def named(name: str) -> str:
    """The text of ``queries/named/<name>.sql``."""
    return resource("queries", "named", f"{name}.sql").read_text(encoding="utf-8")


def view_frame(con, view: str):
    """Every row of ``view`` (as of the session's revision) as a pandas DataFrame
    (``queries/named/view_rows.sql``)."""
    return con.execute(named("view_rows").format(view=view.replace('"', '""'))).df()
