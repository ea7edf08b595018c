"""Shared pieces of the ingest pipeline: record paths, the parsed study file, value formatting."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem, excerpt

#: the study file's lists, in file order, with the database table each one fills
LISTS = ("sources", "arms", "resistance_definitions", "outcomes", "adverse_events", "risk_of_bias")


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def render_path(parts) -> str:
    """``("outcomes", 2, "ci_high")`` -> ``outcomes[2].ci_high``; the root is ``""``.

    A key that is not a plain name (spaces, symbols, 65 characters or more) is shown as a short
    escaped excerpt in brackets: ``outcomes[0]['ci high']``.
    """
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif not _PLAIN_KEY.fullmatch(str(p)):
            out += f"[{excerpt(str(p))}]"
        else:
            out += f".{p}" if out else str(p)
    return out



def parent_path(path: str) -> str:
    """``outcomes[2].ci_high`` -> ``outcomes[2]`` -> ``outcomes`` -> ``""``."""
    if path.endswith("]"):
        return path[: path.rfind("[")]
    dot = path.rfind(".")
    return path[:dot] if dot >= 0 else ""


@dataclass
class StudyFile:
    """One parsed study file: its data, its hash and (for YAML) the line of every record path
    (``line_of``; a file read by the fast path finds its ``lines`` when a message first needs them)."""

    path: Path
    name: str  # the path as the user gave it, for messages
    sha256: str
    data: dict
    lines: dict[str, int] = field(default_factory=dict)
    #: the text of every non-integer number as written (e.g. "0.70"), by record path
    numbers: dict[str, str] = field(default_factory=dict)
    #: computes ``lines`` when a message first needs them (files read by the fast path)
    lines_later: Any = field(default=None, repr=False, compare=False)

    @property
    def trial_id(self) -> str | None:
        trial = self.data.get("trial")
        tid = trial.get("id") if isinstance(trial, dict) else None
        return tid if isinstance(tid, str) else None

    def line_of(self, path: str) -> int | None:
        """The line of ``path`` or of its nearest enclosing record (YAML only)."""
        if not self.lines and self.lines_later is not None:
            self.lines, self.lines_later = self.lines_later(), None
        if not self.lines:
            return None
        p = path
        while True:
            if p in self.lines:
                return self.lines[p]
            if not p:
                return None
            p = parent_path(p)

    def problem(self, path: str, reason: str) -> Problem:
        line = self.line_of(path) if path else None
        if line is not None:
            reason = f"{reason} (line {line})"
        return Problem(self.name, path, reason)


def fmt(value: Any) -> str:
    """A value as a person would write it in a message: 0.85, 150, 'abc', null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "null"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return excerpt(value, 60)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)
