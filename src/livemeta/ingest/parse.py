"""Reading a study file (YAML or JSON), defensively.

Refused, each with a message naming the file and, where known, the line or the record path:
a path that is missing, a folder or not a regular file; a file over 5 MB (checked before reading);
binary or non-UTF-8 content; an empty file; syntax errors (with line and column); a top level that
is not a mapping; YAML anchors and aliases (refused while composing, which stops alias bombs);
YAML merge keys; duplicate or non-text keys; nesting deeper than 64 levels; NaN and infinities
(``.nan``, ``.inf``, JSON ``NaN``/``Infinity``, overflowing literals); integers outside the
database's 32-bit range (a 5,000-digit one too: it is never converted); NUL characters and lone
surrogates (JSON ``"\ud800"``) in text or keys; a mapping with none of a study file's top-level
keys (a file that is not a study file: its keys are not echoed back).

Messages quote the input only as a short escaped excerpt (:func:`._common.excerpt`).

YAML timestamps stay strings (dates are checked by pattern), and YAML 1.1 oddities that would
silently turn text into numbers (octal ``012``, hex, sexagesimal ``1:20``) stay strings too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from dataclasses import dataclass
from sys import intern
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from ..errors import Problem, ValidationFailed, excerpt
from ._common import StudyFile, render_path

try:  # libyaml's parser is ~8x faster; the composer above it stays in Python so we can police it
    from yaml._yaml import CParser as _Parser

    def _init_parser(self, stream):
        _Parser.__init__(self, stream)

except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml.parser import Parser as _Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, _Parser):  # type: ignore[no-redef]
        pass

    def _init_parser(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
MAX_DIGITS = 18  # integers with more digits are refused unconverted (int() refuses 4,300 and more)
SUFFIXES = (".yaml", ".yml", ".json")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _TooLong:
    """An integer literal with more than MAX_DIGITS digits, kept as text until it is refused."""

    def __init__(self, text: str):
        self.text = text


def _int(text: str):
    """An integer literal as a Python int, or as :class:`_TooLong` when it has too many digits."""
    return _TooLong(text) if len(text.lstrip("+-")) > MAX_DIGITS else int(text)


class ParseError(Exception):
    """A problem found while reading; ``path`` is a record path or a 'line L, column C' position."""

    def __init__(self, path: str, reason: str):
        super().__init__(reason)
        self.path = path
        self.reason = reason


def _where(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


class _StudyConstructor(SafeConstructor):
    """PyYAML's safe constructor, keeping as text what YAML 1.1 would turn into numbers or dates."""

    # YAML 1.1 turns some text into numbers or dates behind the writer's back; keep it text.
    def construct_yaml_int(self, node):
        text = self.construct_scalar(node).replace("_", "")
        body = text.lstrip("+-")
        if body.isascii() and body.isdigit() and (body == "0" or not body.startswith("0")):
            return _int(text)
        return self.construct_scalar(node)  # octal 012, hex 0x1f, binary 0b1, sexagesimal 1:20

    def construct_yaml_float(self, node):
        if ":" in self.construct_scalar(node):
            return self.construct_scalar(node)
        return super().construct_yaml_float(node)


_StudyConstructor.add_constructor("tag:yaml.org,2002:int", _StudyConstructor.construct_yaml_int)
_StudyConstructor.add_constructor("tag:yaml.org,2002:float", _StudyConstructor.construct_yaml_float)
_StudyConstructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)


_RESOLVED: dict[str, str] = {}


class _MemoResolver(Resolver):
    """PyYAML's resolver, remembering the implicit tag of each short plain scalar: with no path
    resolvers (livemeta adds none) it depends on the text alone, and study files repeat their words
    and numbers (the resolver's regular expressions ran 250 times a file)."""

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode and implicit[0] and len(value) <= 40:
            tag = _RESOLVED.get(value)
            if tag is None:
                if len(_RESOLVED) > 50_000:
                    _RESOLVED.clear()
                tag = _RESOLVED[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)


class _HardenedLoader(Composer, _Parser, _StudyConstructor, _MemoResolver):
    """PyYAML's safe loader with the composer overridden: no anchors, no aliases, bounded depth."""

    def __init__(self, stream):
        _init_parser(self, stream)
        Composer.__init__(self)
        _StudyConstructor.__init__(self)
        _MemoResolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise ParseError(
                _where(event.start_mark),
                f"YAML aliases (*{event.anchor}) are not allowed in study files; write the value out",
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise ParseError(
                _where(event.start_mark),
                f"YAML anchors (&{anchor}) are not allowed in study files; write the value out",
            )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ParseError(_where(event.start_mark), f"nesting deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"


def _walk_nodes(node, parts: list, lines: dict[str, int], numbers: dict[str, str]) -> None:
    """Record the line of every record path and the text of every float; refuse duplicate,
    merge and non-text keys."""
    path = render_path(parts)
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, ScalarNode):
        if node.tag == _FLOAT_TAG:
            numbers[path] = node.value
    elif isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise ParseError(path or _where(key_node.start_mark), "YAML merge keys (<<) are not allowed")
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR_TAG:
                shown = excerpt(key_node.value) if isinstance(key_node, ScalarNode) else "a list or mapping"
                raise ParseError(_where(key_node.start_mark), f"key {shown} is not text; quote it")
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ParseError(
                    render_path([*parts, key]),
                    f"duplicate key {excerpt(key)} (line {line}; first at line {seen[key]})",
                )
            seen[key] = line
            lines[render_path([*parts, key])] = line
            _walk_nodes(value_node, [*parts, key], lines, numbers)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _walk_nodes(item, [*parts, i], lines, numbers)


class _NonFinite:
    def __init__(self, text: str):
        self.text = text


class _JsonFloat(float):
    """A JSON number with a fraction or exponent, remembering its text (replaced by a float)."""

    def __new__(cls, text: str):
        obj = super().__new__(cls, text)
        obj.text = text
        return obj


def _check_text(text: str, what: str) -> str | None:
    """Why ``text`` (a value, or a key when ``what`` is "a key") cannot be stored, or None."""
    if "\x00" in text:
        return f"{what} contains a NUL character"
    bad = _SURROGATE.search(text)
    if bad:
        return f"{what} contains a lone surrogate ({ascii(bad[0])[1:-1]}), which is not valid Unicode"
    return None


def _check_values(value: Any, parts: list, numbers: dict[str, str]) -> Any:
    """NaN / infinity anywhere, integers beyond 32 bits, NUL characters and lone surrogates in
    text and keys. Returns the value with JSON floats made plain floats (their text recorded in
    ``numbers``)."""
    if isinstance(value, dict):
        for k in value:
            reason = _check_text(k, "a key") if isinstance(k, str) else None
            if reason:
                raise ParseError(render_path(parts), reason)
        for k, v in value.items():
            new = _check_values(v, [*parts, k], numbers)
            if new is not v:
                value[k] = new
    elif isinstance(value, list):
        for i, v in enumerate(value):
            new = _check_values(v, [*parts, i], numbers)
            if new is not v:
                value[i] = new
    elif isinstance(value, _NonFinite):
        shown = {"NaN": "NaN", "Infinity": "infinity", "-Infinity": "-infinity"}.get(value.text, value.text)
        raise ParseError(render_path(parts), f"{shown} is not allowed; leave a value that was not found out, or write null")
    elif isinstance(value, _TooLong):
        digits = len(value.text.lstrip("+-"))
        shown = value.text[: 20 + len(value.text) - digits]
        raise ParseError(render_path(parts), f"number {shown}... ({digits} digits) is too large (the limit is {INT_MAX})")
    elif isinstance(value, float):
        if not math.isfinite(value):
            shown = "NaN" if math.isnan(value) else ("infinity" if value > 0 else "-infinity")
            raise ParseError(render_path(parts), f"{shown} is not allowed; leave a value that was not found out, or write null")
        if isinstance(value, _JsonFloat):
            numbers[render_path(parts)] = value.text
            return float(value)
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise ParseError(render_path(parts), f"number {value} is too large (the limit is {INT_MAX})")
    elif isinstance(value, str):
        reason = _check_text(value, "text")
        if reason:
            raise ParseError(render_path(parts), reason)
    return value


def read_bytes(path: Path) -> bytes:
    """The file's bytes, after checking it is a regular file under the size limit."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ParseError("", "no such file") from None
    except OSError as exc:
        raise ParseError("", f"cannot read: {exc.strerror or exc}") from None
    if path.is_dir():
        raise ParseError("", "is a folder, not a study file")
    if not path.is_file():
        raise ParseError("", "not a regular file")
    if path.suffix.lower() not in SUFFIXES:
        raise ParseError("", f"unsupported file type {path.suffix or '(none)'!r}; study files are .yaml, .yml or .json")
    if st.st_size > MAX_BYTES:
        raise ParseError("", f"file is {st.st_size / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB")
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ParseError("", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise ParseError("", f"file is over the {MAX_BYTES // 1024 // 1024} MB limit")
    return raw


def decode(raw: bytes) -> str:
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise ParseError("", f"binary content (a NUL byte at offset {nul}); a study file is UTF-8 text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ParseError("", f"not UTF-8 text (byte 0x{bad} at offset {exc.start}, line {line})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ParseError("", "empty file")
    return text


def parse_yaml(text: str) -> tuple[Any, dict[str, int], dict[str, str]]:
    loader = _HardenedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ParseError("", "empty file (nothing but comments)")
        lines: dict[str, int] = {}
        numbers: dict[str, str] = {}
        _walk_nodes(node, [], lines, numbers)
        data = loader.construct_document(node)
    except ParseError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        raise ParseError(_where(mark), f"invalid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise ParseError("", f"invalid YAML: {exc}") from None
    except RecursionError:
        raise ParseError("", f"nesting deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    return data, lines, numbers


# ---- the fast path: libyaml composes, one pass checks and builds the data ------------------------
#
# Nearly every study file is plain YAML: no anchor, alias or tag, shallow. For those, libyaml's own
# composer (C) builds the node tree and one Python pass turns it into data, recording the text of
# every float; the line of each record path is found only when a message needs it. Anything else
# (an anchor or alias, a tag, deep nesting, a duplicate or non-text key, a merge key, a value the
# study constructor does not know, any error) goes to parse_yaml above, which says what is wrong.
# The two give the same data (tests/ingest/test_parse.py holds them to it).

try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml: parse_yaml only
    _CParser = None

#: what can make YAML other than plain (anchor, alias, tag) or deep: such text takes parse_yaml
_NOT_PLAIN = re.compile(r"[&*!]|^[ \t-]{%d}" % MAX_DEPTH, re.M)
_SCALARS = ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", _FLOAT_TAG,
            "tag:yaml.org,2002:timestamp")


class _Fallback(Exception):
    """The fast path stops: parse_yaml reads the file."""


if _CParser is not None:
    class _FastLoader(_CParser, _StudyConstructor, _MemoResolver):
        def __init__(self, stream):
            _CParser.__init__(self, stream)
            _StudyConstructor.__init__(self)
            _MemoResolver.__init__(self)


def _plain_data(loader, node, parts: list, numbers: dict[str, str], depth: int):
    """A composed node as data, as the study constructor builds it, with the checks of
    :func:`_check_values`; raises _Fallback on anything but text keys, known scalar tags, values
    those checks pass and nesting up to MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise _Fallback
    kind = type(node)
    if kind is ScalarNode:
        tag = node.tag
        if tag == _STR_TAG:
            if _check_text(node.value, "text"):
                raise _Fallback
            return intern(node.value) if len(node.value) <= 24 else node.value  # words repeat across files
        if tag not in _SCALARS:
            raise _Fallback
        value = loader.yaml_constructors[tag](loader, node)
        if tag == _FLOAT_TAG:
            numbers[render_path(parts)] = node.value
            if not isinstance(value, str) and not math.isfinite(value):  # (sexagesimal stays text)
                raise _Fallback
        elif type(value) is int and not INT_MIN <= value <= INT_MAX or isinstance(value, _TooLong):
            raise _Fallback
        return value
    if kind is MappingNode:
        out = {}
        for key_node, value_node in node.value:
            if type(key_node) is not ScalarNode or key_node.tag != _STR_TAG or key_node.value in out:
                raise _Fallback
            key = intern(key_node.value)
            if _check_text(key, "a key"):
                raise _Fallback
            out[key] = _plain_data(loader, value_node, [*parts, key], numbers, depth + 1)
        return out
    if kind is SequenceNode:
        return [_plain_data(loader, item, [*parts, i], numbers, depth + 1) for i, item in enumerate(node.value)]
    raise _Fallback


def parse_plain_yaml(text: str) -> tuple[Any, dict[str, str]] | None:
    """(data, float texts) of plain YAML by the fast path, or None: then :func:`parse_yaml`."""
    if _CParser is None or _NOT_PLAIN.search(text) or text.count("[") + text.count("{") > MAX_DEPTH:
        return None
    loader = _FastLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        numbers: dict[str, str] = {}
        return _plain_data(loader, node, [], numbers, 1), numbers
    except Exception:  # _Fallback, or what parse_yaml will report with its position
        return None
    finally:
        loader.dispose()


def lines_of(text: str) -> dict[str, int]:
    """The line of every record path of a YAML text that parses (what parse_yaml records)."""
    return parse_yaml(text)[1]


def _json_pairs(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ParseError("", f"duplicate key {excerpt(k)}")
        out[k] = v
    return out


def parse_json(text: str) -> Any:
    try:
        return json.loads(
            text, object_pairs_hook=_json_pairs, parse_constant=_NonFinite, parse_float=_JsonFloat, parse_int=_int
        )
    except json.JSONDecodeError as exc:
        raise ParseError(f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise ParseError("", "nesting too deep") from None


_KIND = {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}


@dataclass(frozen=True)
class StudyBlob:
    """A study file's content read from elsewhere than the file system (a git commit): ``name`` is
    the path it had there, used in messages and in the history."""

    name: str
    raw: bytes


def parse_file(path: Path | str | StudyBlob) -> StudyFile:
    """Read and parse one study file (a path, or a :class:`StudyBlob`); raises :class:`ParseError`."""
    if isinstance(path, StudyBlob):
        name, raw = path.name, path.raw
        if Path(name).suffix.lower() not in SUFFIXES:
            raise ParseError("", f"unsupported file type {Path(name).suffix or '(none)'!r}; study files are .yaml, .yml or .json")
        if len(raw) > MAX_BYTES:
            raise ParseError("", f"file is over the {MAX_BYTES // 1024 // 1024} MB limit")
    else:
        name, raw = str(path), read_bytes(Path(path))
    path = Path(name)
    text = decode(raw)
    lines_later = None
    if path.suffix.lower() == ".json":
        data, lines, numbers = parse_json(text), {}, {}
    elif (plain := parse_plain_yaml(text)) is not None:  # checked as it was read
        (data, numbers), lines = plain, {}
        lines_later = functools.partial(lines_of, text)
    else:
        data, lines, numbers = parse_yaml(text)
    if data is None:
        raise ParseError("", "empty file")
    if not isinstance(data, dict):
        kind = _KIND.get(type(data), type(data).__name__)
        raise ParseError(
            "", f"the top level is {kind}; a study file is a mapping (livemeta_study:, trial:, sources:, arms:, ...)"
        )
    from .structure import schema

    if not set(schema()["properties"]) & set(data):  # none of a study file's top-level keys
        raise ParseError(
            "", "not a livemeta study file (no livemeta_study: 1 at the top, nor any other key of a study file); "
            "`livemeta template` prints one"
        )
    try:
        if lines_later is None:
            _check_values(data, [], numbers)
    except ParseError as exc:
        line = lines.get(exc.path)
        if line is not None:
            exc.reason = f"{exc.reason} (line {line})"
        raise
    return StudyFile(path=path, name=name, sha256=hashlib.sha256(raw).hexdigest(), data=data, lines=lines,
                     numbers=numbers, lines_later=lines_later)


def read_study(path: Path | str | StudyBlob) -> tuple[StudyFile | None, list[Problem]]:
    """Parse one file, returning the problem instead of raising."""
    try:
        return parse_file(path), []
    except ParseError as exc:
        name = path.name if isinstance(path, StudyBlob) else str(path)
        return None, [Problem(name, exc.path, exc.reason)]


def load_study(path: Path | str) -> dict:
    """The parsed content of one study file (no structural validation); raises ValidationFailed."""
    study, problems = read_study(path)
    if problems:
        raise ValidationFailed(problems)
    return study.data
