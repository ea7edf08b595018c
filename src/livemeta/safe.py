"""What livemeta publishes is safe to open: the one place where a value from a study file, an
analyses file or a commit is made harmless for Markdown, links and spreadsheets.

Markdown (``report.md``, a data package's README, ``query --format markdown``)
    :func:`md_text` turns any value into inline text that a Markdown renderer (CommonMark, GFM,
    Python-Markdown, kramdown) shows as the same characters and nothing else: no heading, list,
    quote, table cell break, emphasis, code, link, image, autolink, raw HTML or attribute list can
    come out of it, wherever it stands in a line. Line breaks become spaces. :func:`md_code` is
    the same for a code span, :func:`md_link` a link whose target is checked by :func:`safe_url`.

Links (Markdown and HTML)
    :func:`safe_url` lets through only ``http`` and ``https`` addresses with a host, with every
    character that could end a Markdown link or an HTML attribute percent-encoded; anything else
    (``javascript:``, ``data:``, relative paths, control characters) gives None, and the value is
    then shown as text, never linked.

Terminal (``screen next``, ``screen rank``)
    :func:`terminal_text` shows a value from a record (a title from a hostile RIS export) at the
    terminal as its characters and nothing else: control characters (C0, DEL, C1: the escape that
    starts an ANSI sequence, a bell, a carriage return that rewrites the line) and the Unicode
    bidirectional overrides are written as visible escapes (``\\x1b``, ``\\u202e``), line breaks
    and tabs as spaces (or kept, when asked, for an abstract's paragraphs).

CSV (formula injection, as OWASP recommends)
    A spreadsheet runs a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return as a formula. :func:`csv_cell` writes such a text cell with one apostrophe before it, and
    also a text cell that begins with an apostrophe, so that :func:`csv_uncell` gives back the exact
    value by removing one leading apostrophe from every text cell that has one (``reproduce.R``
    does the same). Numbers are never changed: a typed number (``-0.5`` in a numeric column) and a
    text cell that is a plain decimal number (``-0.5``, ``+1.2e-3``) are not formulas.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

__all__ = ["terminal_text", "md_text", "md_code", "md_link", "safe_url", "csv_cell", "csv_uncell", "csv_text", "frame_csv", "CSV_RULE",
           "FORMULA_START"]

# ----------------------------------------------------------------------------------- Markdown
#: characters escaped wherever they stand: with a backslash where every common renderer honours it,
#: as a numeric character reference where one of them does not (Python-Markdown keeps the backslash
#: before '<', '&', '|', '~'; an entity also stops GFM's autolinks of e-mail addresses)
_INLINE = {
    "\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "{": "\\{", "}": "\\}",
    "<": "&lt;", ">": "&gt;", "&": "&amp;", "|": "&#124;", "~": "&#126;", "@": "&#64;", "$": "&#36;",
}
_INLINE_RE = re.compile("[" + re.escape("".join(_INLINE)) + "]")
_BREAKS = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
#: what makes a block when it begins a line: a heading, a list item, a setext underline
_LINE_START = re.compile(r"#|[+\-](?=\s|$)|-[-\s]*$|=+\s*$|\d{1,9}(?=[.)](\s|$))")
_LEAD = {"#": "\\#", "+": "\\+", "-": "\\-", "=": "&#61;"}
#: an address with its scheme, or starting www.: the colon (the dot) is escaped, so that no renderer
#: makes a link of it (GFM autolinks http(s):// and www., markdown-it's linkify also ftp:// and mailto:)
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{0,31}):(?=//)|\b(mailto|xmpp|javascript|vbscript|data|file):(?=\S)")
_WWW = re.compile(r"(?i)\b(www)\.")


def md_text(value) -> str:
    """``value`` as Markdown inline text that renders as exactly its characters, wherever it stands
    (line breaks as spaces, control characters and leading blanks dropped)."""
    s = "" if value is None else str(value)
    s = _CONTROL.sub("", _BREAKS.sub(" ", s)).lstrip(" \t")
    s = _INLINE_RE.sub(lambda m: _INLINE[m.group()], s)
    s = _WWW.sub(r"\1&#46;", _SCHEME.sub(lambda m: (m.group(1) or m.group(2)) + "&#58;", s))
    m = _LINE_START.match(s)
    if m:  # '# x', '- x', '+ x', '===', '1. x', '1) x' would make a block at the start of a line
        mark = m.group()
        s = f"{mark}\\{s[m.end():]}" if mark[0].isdigit() else _LEAD[mark[0]] + s[1:]
    return s


def md_code(value) -> str:
    """``value`` as a Markdown code span (shown verbatim: no markup counts inside one); a value with
    a backtick or a pipe (which ends a table cell even inside a code span) as :func:`md_text`."""
    s = _CONTROL.sub("", _BREAKS.sub(" ", "" if value is None else str(value))).strip()
    if not s or "`" in s or "|" in s:
        return md_text(s)
    return f"`{s}`"


#: percent-encoded in a link target: what could end a Markdown link or an HTML attribute, spaces,
#: and every character outside RFC 3986's reserved and unreserved sets
_URL_SAFE = "-._~:/?#@!$&*+,;=%"


def safe_url(url) -> str | None:
    """``url`` if it is an http(s) address with a host (percent-encoding ``( ) < > " '``, spaces and
    other characters a link cannot hold), else None: such a value is text, never a link."""
    if url is None:
        return None
    s = str(url).strip()
    if not s or _CONTROL.search(s) or _BREAKS.search(s) or "\t" in s or "\\" in s:
        return None
    try:
        parts = urlsplit(s)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(s, safe=_URL_SAFE)


def md_link(label, url) -> str:
    """A Markdown link to ``url`` when :func:`safe_url` allows it; otherwise the label with the
    address as text after it (or the label alone when they are the same)."""
    target = safe_url(url)
    if target is not None:
        return f"[{md_text(label)}]({target})"
    if url is None or str(url) == str(label):
        return md_text(label)
    return f"{md_text(label)} ({md_text(url)})"


# ----------------------------------------------------------------------------------- Terminal
#: what a terminal acts on instead of showing: C0 controls, DEL, C1 controls (ESC and CSI start ANSI
#: sequences), and the bidirectional embeddings, overrides and isolates that reorder what is shown
_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TERMINAL_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")


def _visible(m: re.Match) -> str:
    c = m.group()
    if c == "\t":
        return " "
    return f"\\x{ord(c):02x}" if ord(c) <= 0xFF else f"\\u{ord(c):04x}"


def terminal_text(value, *, lines: bool = False) -> str:
    """``value`` as text a terminal shows as its characters: control characters and bidirectional
    overrides as visible escapes (``\\x1b[31m`` is shown, never run), tabs as spaces, line
    breaks as spaces (``lines=True``: as ``\\n``, one line each)."""
    s = "" if value is None else str(value)
    s = _TERMINAL_BREAKS.sub("\n" if lines else " ", s)
    if lines:
        return "\n".join(_TERMINAL.sub(_visible, part) for part in s.split("\n"))
    return _TERMINAL.sub(_visible, s)


# ---------------------------------------------------------------------------------------- CSV
#: the first characters that make a spreadsheet read a cell as a formula (OWASP: CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
#: how the CSV files are written, in words (datapackage.json, the package's README, --help)
CSV_RULE = ("A text cell that begins with =, +, -, @, a tab or a carriage return (a spreadsheet would run it as a "
            "formula), or with an apostrophe, is written with one apostrophe (') before it, as OWASP recommends "
            "against CSV injection; the exact value is the cell without that first apostrophe. Numbers are never "
            "changed: numeric columns, and text that is a plain decimal number such as -0.5, are written as they are.")


def csv_cell(value):
    """A CSV cell safe to open in a spreadsheet: text that a spreadsheet would run as a formula (or
    that begins with an apostrophe) gets one apostrophe before it; anything else is returned as is."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] == "'" or (value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def csv_uncell(value):
    """The exact value of a cell written by :func:`csv_cell` (one leading apostrophe removed)."""
    if isinstance(value, str) and value.startswith("'"):
        return value[1:]
    return value


def csv_frame(df):
    """A pandas frame with every text cell through :func:`csv_cell` (numeric, boolean and date
    columns unchanged), and text column names likewise."""
    import pandas as pd

    out = df.rename(columns=lambda c: csv_cell(c) if isinstance(c, str) else c)
    for i, col in enumerate(out.columns):
        s = out.iloc[:, i]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        out.isetitem(i, s.map(csv_cell))
    return out


def _lines(rows: Iterable[Iterable]) -> str:
    """CSV text with ``\n`` line ends. Python's csv writer before 3.12 leaves a carriage return
    inside a cell unquoted unless it ends lines with one: such text is written row by row with
    ``\r\n`` and each row's own ending replaced."""
    rows = [list(r) for r in rows]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    text = buf.getvalue()
    if "\r" not in text:
        return text
    w, out = csv.writer(buf, lineterminator="\r\n"), []
    for r in rows:
        buf.seek(0)
        buf.truncate()
        w.writerow(r)
        out.append(buf.getvalue()[:-2] + "\n")
    return "".join(out)


def csv_text(header: Iterable, rows: Iterable[Iterable]) -> str:
    """CSV text (``\n`` line ends) of a header and rows, every cell through :func:`csv_cell`."""
    return _lines([[csv_cell(c) for c in header], *([csv_cell(c) for c in r] for r in rows)])


def frame_csv(df, **to_csv) -> str:
    """The CSV text of a pandas frame (``to_csv``'s formatting, ``\n`` line ends), every text cell
    through :func:`csv_cell`."""
    df = csv_frame(df)
    text = df.to_csv(index=False, lineterminator="\n", **to_csv)
    if "\r" not in text:
        return text
    quoted = df.to_csv(index=False, lineterminator="\r\n", **to_csv)  # every cell with a CR quoted
    return _lines(csv.reader(io.StringIO(quoted, newline="")))
