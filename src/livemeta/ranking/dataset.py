"""A labelled screening dataset in the layout of ASReview's and the systematic-review-datasets'
CSV files: columns ``record_id``, ``title``, ``abstract``, optional ``keywords`` and
``label_included`` (0 or 1); other columns are ignored.

Bad input ends in :class:`~livemeta.errors.ValidationFailed` naming the file, the line and the
reason for every problem found (at most ``MAX_PROBLEMS`` listed), never in a traceback.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LivemetaError, Problem, ValidationFailed, excerpt
from .records import Record

__all__ = ["LabelledDataset", "read_labelled_csv", "parse_labelled_csv", "REQUIRED", "MAX_PROBLEMS"]

REQUIRED = ("record_id", "title", "abstract", "label_included")
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class LabelledDataset:
    """Records in file order with their labels (1 include, 0 exclude)."""

    name: str
    records: tuple[Record, ...]
    labels: np.ndarray

    @property
    def ids(self) -> list:
        return [r.record_id for r in self.records]


def read_labelled_csv(path: str | Path) -> LabelledDataset:
    """Read and check a labelled dataset file (UTF-8, with or without a byte-order mark)."""
    path = Path(path)
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LivemetaError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise LivemetaError(f"{name}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise LivemetaError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationFailed([Problem(name, f"line {line}", f"not UTF-8 (byte {exc.start}: "
                                        f"{data[exc.start:exc.start + 1]!r}); save the file as UTF-8")]) from None
    return parse_labelled_csv(text, name)


def _int_ids(ids: list[str]) -> list:
    """The ids as integers when every one is an integer written plainly (``12``, not ``012``), as
    ASReview's record ids are; as the text otherwise."""
    if all(s.isascii() and s.isdigit() and (s == "0" or not s.startswith("0")) for s in ids):
        return [int(s) for s in ids]
    return ids


def parse_labelled_csv(text: str, name: str = "<dataset>") -> LabelledDataset:
    """Parse the text of a labelled dataset file; ``name`` is how messages call it."""
    if "\x00" in text:
        raise ValidationFailed([Problem(name, "", "holds NUL characters: not a CSV text file")])
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    problems: list[Problem] = []
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)
    except csv.Error as exc:
        raise ValidationFailed([Problem(name, f"line {reader.line_num}", f"not readable as CSV ({exc})")]) from None
    if header is None:
        raise ValidationFailed([Problem(name, "", "empty: a labelled dataset has a header row "
                                        f"({', '.join(REQUIRED)}[, keywords]) and one row per record")])
    head = [c.strip() for c in header]
    missing = [c for c in REQUIRED if c not in head]
    if missing:
        raise ValidationFailed([Problem(name, "line 1", f"no column {', '.join(missing)} (the columns are "
                                        f"{', '.join(REQUIRED)} and optionally keywords)")])
    twice = sorted({c for c in head if c and head.count(c) > 1 and c in (*REQUIRED, "keywords")})
    if twice:
        raise ValidationFailed([Problem(name, "line 1", f"column {', '.join(twice)} appears more than once")])
    col = {c: head.index(c) for c in (*REQUIRED, "keywords") if c in head}
    ids: list[str] = []
    labels: list[int] = []
    texts: list[tuple[str, str, str]] = []
    first_line: dict[str, int] = {}
    n_problems = 0

    def problem(line: int, column: str, reason: str) -> None:
        nonlocal n_problems
        n_problems += 1
        if n_problems <= MAX_PROBLEMS:
            problems.append(Problem(name, f"line {line}" + (f".{column}" if column else ""), reason))

    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problem(reader.line_num, "", f"not readable as CSV ({exc})")
            break
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(head):
            problem(line, "", f"{len(row)} cells; the header has {len(head)}")
            continue
        cells = row + [""] * (len(head) - len(row))
        rid = cells[col["record_id"]].strip()
        label = cells[col["label_included"]].strip()
        if not rid:
            problem(line, "record_id", "empty")
        elif rid in first_line:
            problem(line, "record_id", f"{excerpt(rid)} is also on line {first_line[rid]}")
        else:
            first_line[rid] = line
        if label not in ("0", "1"):
            problem(line, "label_included", f"{excerpt(label) if label else 'empty'}: a label is 0 (exclude) "
                    "or 1 (include)")
        ids.append(rid)
        labels.append(1 if label == "1" else 0)
        kw = cells[col["keywords"]] if "keywords" in col else ""
        texts.append((cells[col["title"]], cells[col["abstract"]], kw))
    if n_problems > MAX_PROBLEMS:
        problems.append(Problem(name, "", f"and {n_problems - MAX_PROBLEMS} more problems"))
    if problems:
        raise ValidationFailed(problems)
    if not ids:
        raise ValidationFailed([Problem(name, "", "no records: the file has a header and no rows")])
    out_ids = _int_ids(ids)
    records = tuple(Record(rid, t, a, k) for rid, (t, a, k) in zip(out_ids, texts))
    return LabelledDataset(name, records, np.asarray(labels, dtype=np.int8))
