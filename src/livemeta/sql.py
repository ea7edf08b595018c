"""The named SQL statements of ``queries/named/``: the code runs SQL only from files."""

from __future__ import annotations

from functools import cache

from .paths import resource


@cache
def named(name: str) -> str:
    """The text of ``queries/named/<name>.sql``."""
    return resource("queries", "named", f"{name}.sql").read_text(encoding="utf-8")
