"""The records a ranking model reads: an id, a title, an abstract and keywords (MeSH terms or an
export's keywords), nothing else."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Record", "as_records", "split_keywords"]

_KEYWORD_SEP = re.compile(r"\s*[;\n|]\s*")


def split_keywords(value) -> tuple[str, ...]:
    """Keywords as a tuple of terms: from a sequence, or from one text separated by ``;``, ``|`` or
    new lines (PubMed's and RIS exports' ways of listing MeSH terms and keywords)."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts = _KEYWORD_SEP.split(value)
    else:
        parts = [str(v) for v in value if v is not None]
    return tuple(p.strip() for p in parts if p and p.strip())


@dataclass(frozen=True)
class Record:
    """One record to screen. ``record_id`` is whatever identifies it to the caller (hashable)."""

    record_id: object
    title: str = ""
    abstract: str = ""
    keywords: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "title", "" if self.title is None else str(self.title))
        object.__setattr__(self, "abstract", "" if self.abstract is None else str(self.abstract))
        object.__setattr__(self, "keywords", split_keywords(self.keywords))


def as_records(items: Iterable) -> list[Record]:
    """Records from :class:`Record` objects or mappings with ``record_id`` (or ``id``), ``title``,
    ``abstract`` and optional ``keywords``; the ids must be unique."""
    out: list[Record] = []
    for item in items:
        if isinstance(item, Record):
            out.append(item)
        elif isinstance(item, Mapping):
            rid = item["record_id"] if "record_id" in item else item["id"]
            out.append(Record(rid, item.get("title") or "", item.get("abstract") or "", item.get("keywords")))
        else:
            raise TypeError(f"a record is a Record or a mapping, not {type(item).__name__}")
    seen: set = set()
    for r in out:
        if r.record_id in seen:
            raise ValueError(f"record_id {r.record_id!r} occurs more than once")
        seen.add(r.record_id)
    return out
