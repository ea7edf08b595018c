"""Report Markdown as a reader sees it: the escapes of :func:`livemeta.safe.md_text` undone
(backslash escapes of ASCII punctuation, numeric and named character references), so tests can
look for the words a value prints without spelling its escapes."""

from __future__ import annotations

import html
import re

_BACKSLASH = re.compile(r"\\([!-/:-@\[-`{-~])")


def plain(markdown: str) -> str:
    """``markdown`` with its character escapes undone (CommonMark's backslash escapes, entities)."""
    return html.unescape(_BACKSLASH.sub(r"\1", markdown))
