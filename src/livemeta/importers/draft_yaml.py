"""Write a study dict as a YAML study file with comments for the extractor.

A small emitter for the shape of a study file (a mapping of scalars, lists of mappings, lists of
text), because PyYAML cannot write comments and would rewrite numbers: a number read from a record
is written as the record printed it (``1.20`` stays ``1.20``, so that the ingest checks know its
rounding). Text is double-quoted unless it is a plain word; everything written reads back through
livemeta's hardened YAML reader as the same values.
"""

from __future__ import annotations

import re
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_SPECIAL = {"null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf", "~"}
_DECIMAL = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?$")


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch == '"':
        return '\\"'
    if ch == "\\":
        return "\\\\"
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    printable = (code >= 0x20 and code != 0x7F and not 0x80 <= code <= 0x9F and not 0xD800 <= code <= 0xDFFF
                 and ch not in "\u2028\u2029\ufeff\ufffe\uffff")
    if printable:
        return ch
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def scalar(value: Any, text: str | None = None) -> str:
    """One value as YAML: null, true/false, a number (as ``text`` when given), quoted text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if text is not None and _DECIMAL.match(text) and float(text) == value:
            return text
        return repr(value)
    s = str(value)
    if _PLAIN.match(s) and s.lower() not in _SPECIAL:
        return s
    return '"' + "".join(_escape(c) for c in s) + '"'


def comment(text: str) -> str:
    """Text made safe for one comment line (its leading indentation kept)."""
    indent = len(text) - len(text.lstrip(" "))
    return " " * indent + " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _value(value, path: str, numbers: dict[str, str]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    return scalar(value, numbers.get(path))


def _line(indent: str, key: str, value, path: str, inline: dict[str, str], numbers: dict[str, str]) -> str:
    out = f"{indent}{key}: {_value(value, path, numbers)}"
    if path in inline:
        out += f"  # {comment(inline[path])}"
    return out


def render(
    data: dict,
    *,
    header: list[str] | None = None,
    before: dict[str, list[str]] | None = None,
    inline: dict[str, str] | None = None,
    numbers: dict[str, str] | None = None,
) -> str:
    """The study as YAML text.

    ``header``: comment lines at the top; ``before``: comment lines before a top-level key;
    ``inline``: a comment after the value at a record path (``arms[0].role``); ``numbers``: the text
    of a number at a record path.
    """
    before, inline, numbers = before or {}, inline or {}, numbers or {}
    out = [f"# {comment(h)}".rstrip() for h in header or []]
    for key, value in data.items():
        if key in before:
            out.append("")
            out += [f"# {comment(c)}".rstrip() for c in before[key]]
        elif out:
            out.append("")
        if isinstance(value, dict):
            out.append(f"{key}:")
            for k, v in value.items():
                out.append(_line("  ", k, v, f"{key}.{k}", inline, numbers))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out.append(f"{key}:")
            for i, item in enumerate(value):
                for j, (k, v) in enumerate(item.items()):
                    out.append(_line("  - " if j == 0 else "    ", k, v, f"{key}[{i}].{k}", inline, numbers))
        else:
            out.append(_line("", key, value, key, inline, numbers))
    return "\n".join(out) + "\n"
