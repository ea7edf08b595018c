"""Editing YAML as text, so that a file's comments and layout survive a change."""

from __future__ import annotations

import re


def append_to_list(text: str, key: str, entry: str) -> str:
    """``text`` with ``entry`` (lines of one list item, ending in a newline) added at the end of the
    top-level list ``key``; the key is added at the end when the file has none (or ``key: []``)."""
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if re.match(rf"{re.escape(key)}\s*:", line)), None)
    if at is None:
        body = text if text.endswith("\n") or not text else text + "\n"
        return body + f"{key}:\n" + entry
    if lines[at].split(":", 1)[1].strip() in ("[]", ""):
        lines[at] = f"{key}:\n"
    end = at + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t", "-", "#")) or not lines[end].strip()):
        end += 1
    while end > at + 1 and not lines[end - 1].strip():
        end -= 1
    return "".join(lines[:end] + [entry] + lines[end:])
