"""Screening as files of the evidence project (``screening/``), read and written.

``screening/protocol.yaml`` (optional; without it one reviewer decides each record and no
exclusion reason is listed)::

    reviewers:            # independent reviewers per record at each stage
      ta: 2               # title and abstract
      ft: 2               # full text
    exclusion_reasons:    # the controlled list a full-text exclusion names one of
      wrong_population: "Not advanced NSCLC, or no progression on prior PD-(L)1 therapy"
      wrong_intervention: "No PD-(L)1 inhibitor rechallenge"

The reason ``not_retrieved`` is always on the list: the full text could not be obtained (PRISMA's
"reports not retrieved").

``screening/decisions/REVIEWER.csv``: one decision a line, written by ``livemeta screen decide``
and ``livemeta screen import`` (or by hand)::

    record_id,stage,decision,reason,reviewer,decided_at,role,seconds,trial_id,note,source
    embase-2026-03-01/17,ta,include,,A. Reviewer,2026-03-02T09:14:05Z,independent,12.5,,,livemeta

``stage`` is ``ta`` or ``ft``; ``decision`` ``include``, ``exclude`` or ``maybe``; ``reason`` is
required for a full-text exclusion (from the list) and free text at title/abstract; ``role``
``independent`` (a reviewer's own decision) or ``consensus`` (settles the record: a third decision
resolving a conflict, or a team's final list); ``seconds`` the time spent, where recorded;
``trial_id`` the study file a record included at full text reports (one trial, many reports).
A file is a log: later lines add decisions, a reviewer's later decision on the same record and
stage replaces their earlier one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field

from ..errors import Problem, excerpt
from ..search.records import RECORD_ID  # a record's id, RUN/N: the search runs name them

PROTOCOL_FILE = "protocol.yaml"
DECISIONS_FOLDER = "decisions"
COLUMNS = ("record_id", "stage", "decision", "reason", "reviewer", "decided_at", "role", "seconds", "trial_id",
           "note", "source")
STAGES = ("ta", "ft")
STAGE_NAMES = {"ta": "title and abstract", "ft": "full text"}
DECISIONS = ("include", "exclude", "maybe")
ROLES = ("independent", "consensus")
NOT_RETRIEVED = "not_retrieved"
NOT_RETRIEVED_LABEL = "Full text not retrieved"
REASON_ID = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
TRIAL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
MAX_BYTES = 256 * 1024 * 1024
MAX_ROWS = 2_000_000
MAX_CELL = 10_000


@dataclass(frozen=True)
class Protocol:
    reviewers: dict[str, int] = field(default_factory=lambda: {"ta": 1, "ft": 1})
    reasons: dict[str, str] = field(default_factory=dict)  # id -> label (without not_retrieved)

    def allows(self, reason: str) -> bool:
        return reason == NOT_RETRIEVED or reason in self.reasons


DEFAULT_PROTOCOL = Protocol()


@dataclass(frozen=True)
class Decision:
    record_id: str
    stage: str
    decision: str
    reason: str | None
    reviewer: str
    decided_at: dt.datetime  # UTC, naive
    role: str = "independent"
    seconds: float | None = None
    trial_id: str | None = None
    note: str | None = None
    source: str = "livemeta"
    file: str = ""
    line: int = 0

    def key(self) -> tuple:
        return (self.record_id, self.stage, self.reviewer, self.decided_at, self.role)

    def row(self) -> tuple:
        """The columns stored (everything but where in the file it stands)."""
        return (self.record_id, self.stage, self.reviewer, self.decided_at, self.decision, self.reason, self.role,
                self.seconds, self.trial_id, self.note, self.source, self.file)


# ---------------------------------------------------------------------------------------------
# protocol.yaml
# ---------------------------------------------------------------------------------------------


def parse_protocol(raw: bytes, name: str) -> tuple[Protocol | None, list[Problem]]:
    from ..search.runs import load_yaml

    data, lines, problems = load_yaml(raw, name)
    if problems:
        return None, problems

    def at(path):
        return f" (line {lines[path]})" if path in lines else ""

    if not isinstance(data, dict):
        return None, [Problem(name, "", "the screening protocol is a mapping (reviewers, exclusion_reasons)")]
    for k in data:
        if k not in ("reviewers", "exclusion_reasons"):
            problems.append(Problem(name, str(k)[:40], f"unknown key{at(str(k))}"))
    reviewers = {"ta": 1, "ft": 1}
    rv = data.get("reviewers", {})
    if not isinstance(rv, dict):
        problems.append(Problem(name, "reviewers", f"a mapping {{ta: N, ft: N}}{at('reviewers')}"))
    else:
        for k, v in rv.items():
            if k not in STAGES:
                problems.append(Problem(name, f"reviewers.{str(k)[:20]}", f"a stage is ta or ft{at('reviewers.' + str(k))}"))
            elif isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 5:
                problems.append(Problem(name, f"reviewers.{k}", f"a whole number from 1 to 5{at('reviewers.' + k)}"))
            else:
                reviewers[k] = v
    reasons: dict[str, str] = {}
    rs = data.get("exclusion_reasons", {})
    if not isinstance(rs, dict):
        problems.append(Problem(name, "exclusion_reasons", f"a mapping of reason id: description{at('exclusion_reasons')}"))
    else:
        for k, v in rs.items():
            path = f"exclusion_reasons.{str(k)[:48]}"
            if not isinstance(k, str) or not REASON_ID.match(k):
                problems.append(Problem(name, path, f"{excerpt(str(k))} is not a reason id (lower-case letters, digits "
                                                    f"and '_', starting with a letter){at(path)}"))
            elif k == NOT_RETRIEVED:
                problems.append(Problem(name, path, f"{NOT_RETRIEVED} is always on the list; leave it out{at(path)}"))
            elif not isinstance(v, str) or not v.strip() or len(v) > 500:
                problems.append(Problem(name, path, f"a description (text, up to 500 characters){at(path)}"))
            else:
                reasons[k] = v.strip()
    if problems:
        return None, problems
    return Protocol(reviewers, reasons), []


def protocol_text(reviewers: int = 1, reasons: dict[str, str] | None = None) -> str:
    """A ``protocol.yaml`` to start from (``livemeta screen init``)."""
    import yaml

    reasons = reasons if reasons is not None else {
        "wrong_population": "Not advanced NSCLC, or not after progression on prior PD-(L)1 therapy",
        "wrong_intervention": "No PD-(L)1 inhibitor given again after progression (no rechallenge)",
        "wrong_design": "Not a clinical trial (randomised or single-arm) with outcomes of rechallenge",
        "wrong_outcome": "No overall survival, progression-free survival, response or safety outcome",
        "duplicate_report": "A report whose data are already in another report of the same trial",
        "not_primary_research": "A review, editorial, commentary or protocol without results",
    }
    head = ("# The screening protocol of this evidence project (livemeta screen --help).\n"
            "# reviewers: independent reviewers per record at title/abstract (ta) and full text (ft);\n"
            "# exclusion_reasons: the controlled list a full-text exclusion names one of\n"
            f"# ({NOT_RETRIEVED}: the full text could not be obtained, is always on it).\n")
    return head + yaml.safe_dump({"reviewers": {"ta": reviewers, "ft": reviewers}, "exclusion_reasons": reasons},
                                 sort_keys=False, allow_unicode=True, width=100)


# ---------------------------------------------------------------------------------------------
# decisions/*.csv
# ---------------------------------------------------------------------------------------------

_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:?\d{2})?$")


def parse_time(text: str) -> dt.datetime | None:
    """An ISO 8601 time (``2026-03-02T09:14:05Z``, an offset, or none: UTC) as naive UTC; None if not one."""
    m = _TIME.match(text.strip())
    if not m:
        return None
    zone = m.group(3) or "Z"
    zone = "+00:00" if zone == "Z" else (zone if ":" in zone else zone[:3] + ":" + zone[3:])
    try:
        t = dt.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{zone}")
    except ValueError:
        return None
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def fmt_time(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond:06d}".rstrip("0") if t.microsecond else "") + "Z"


def _cell(row: dict, key: str) -> str | None:
    v = row.get(key)
    if v is None:
        return None
    v = v.strip()
    return v or None


def parse_decisions(raw: bytes, name: str, protocol: Protocol) -> tuple[list[Decision], list[Problem]]:
    """The decisions of one ``decisions/*.csv`` file, each row checked (all or nothing)."""
    from ..search.records import Problems

    if len(raw) > MAX_BYTES:
        return [], [Problem(name, "", f"{len(raw):,} bytes; a decisions file is at most {MAX_BYTES // 2**20} MB")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem(name, "", f"not UTF-8 text (byte {exc.start})")]
    if "\x00" in text:
        return [], [Problem(name, "", "binary content (a NUL character): not a CSV file")]
    problems = Problems(name)
    out: list[Decision] = []
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_CELL * 2)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = reader.fieldnames or []
        missing = [c for c in ("record_id", "stage", "decision", "reviewer", "decided_at") if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        if missing or unknown:
            what = (f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}" if missing else "") + \
                   ("; " if missing and unknown else "") + \
                   (f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(excerpt(u, 30) for u in unknown[:5])}"
                    if unknown else "")
            return [], [Problem(name, "", f"{what} (the columns are {','.join(COLUMNS)})")]
        seen: dict[tuple, int] = {}
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                msg = "a field longer than 20,000 characters" if "field larger" in str(exc) else str(exc)
                problems.add(f"rows[{len(out)}]", f"{msg} (line {reader.line_num})")
                break
            line = reader.line_num
            if len(out) >= MAX_ROWS:
                problems.add("", f"more than {MAX_ROWS:,} decisions in one file")
                break
            d, reason = _decision(row, name, line, protocol)
            if d is None:
                problems.add(f"rows[{line - 2}]{reason[0]}", f"{reason[1]} (line {line})")
                continue
            if d.key() in seen:
                problems.add(f"rows[{line - 2}]", f"the same decision (record, stage, reviewer, time, role) as line "
                                                  f"{seen[d.key()]} (line {line})")
                continue
            seen[d.key()] = line
            out.append(d)
    finally:
        csv.field_size_limit(limit)
    return (out, []) if not problems else ([], problems.closed())


def _decision(row: dict, name: str, line: int, protocol: Protocol) -> tuple[Decision | None, tuple[str, str]]:
    if None in row:
        return None, ("", "more cells than columns")
    for k, v in row.items():
        if v is not None and len(v) > MAX_CELL:
            return None, (f".{k}", f"{len(v):,} characters; at most {MAX_CELL:,}")
    rid = _cell(row, "record_id")
    if not rid or not RECORD_ID.match(rid):
        return None, (".record_id", f"{excerpt(rid or '')} is not a record id (RUN/N)")
    stage = _cell(row, "stage")
    if stage not in STAGES:
        return None, (".stage", f"{excerpt(stage or '')}: ta (title and abstract) or ft (full text)")
    decision = _cell(row, "decision")
    if decision not in DECISIONS:
        return None, (".decision", f"{excerpt(decision or '')}: include, exclude or maybe")
    reviewer = _cell(row, "reviewer")
    if not reviewer or len(reviewer) > 200:
        return None, (".reviewer", "required: who decided (up to 200 characters)")
    when = parse_time(_cell(row, "decided_at") or "")
    if when is None:
        return None, (".decided_at", f"{excerpt(_cell(row, 'decided_at') or '')} is not a time "
                                     "(YYYY-MM-DDTHH:MM:SSZ)")
    role = _cell(row, "role") or "independent"
    if role not in ROLES:
        return None, (".role", f"{excerpt(role)}: independent or consensus")
    reason = _cell(row, "reason")
    if stage == "ft" and decision == "exclude":
        if not reason:
            return None, (".reason", "a full-text exclusion names its reason from the protocol's list"
                                     + (f" ({', '.join([*protocol.reasons, NOT_RETRIEVED])})" if protocol.reasons else
                                        f" (screening/{PROTOCOL_FILE} lists none yet; {NOT_RETRIEVED} is always allowed)"))
        if not protocol.allows(reason):
            return None, (".reason", f"{excerpt(reason)} is not on the protocol's list of exclusion reasons ("
                                     f"{', '.join([*protocol.reasons, NOT_RETRIEVED])})")
    elif reason == NOT_RETRIEVED:
        return None, (".reason", f"{NOT_RETRIEVED} is a full-text exclusion's reason")
    seconds = _cell(row, "seconds")
    secs = None
    if seconds is not None:
        try:
            secs = float(seconds)
        except ValueError:
            secs = -1.0
        if not math.isfinite(secs) or not 0 <= secs <= 86_400:
            return None, (".seconds", f"{excerpt(seconds)} is not a time in seconds (0 to 86,400)")
    trial = _cell(row, "trial_id")
    if trial is not None and not TRIAL_ID.match(trial):
        return None, (".trial_id", f"{excerpt(trial)} is not a trial id")
    if trial is not None and not (stage == "ft" and decision == "include"):
        return None, (".trial_id", "only a full-text inclusion links a record to a trial")
    return Decision(rid, stage, decision, reason, reviewer, when, role, secs, trial, _cell(row, "note"),
                    _cell(row, "source") or "livemeta", name, line), ("", "")


def decisions_text(decisions: list[Decision], header: bool = True) -> str:
    """Decisions as lines of a decisions file (with the header row when ``header``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if header:
        w.writerow(COLUMNS)
    for d in decisions:
        secs = "" if d.seconds is None else (f"{d.seconds:g}")
        w.writerow([d.record_id, d.stage, d.decision, d.reason or "", d.reviewer, fmt_time(d.decided_at), d.role, secs,
                    d.trial_id or "", d.note or "", d.source])
    return buf.getvalue()


def reviewer_file(reviewer: str) -> str:
    """The decisions file of a reviewer (``decisions/a-reviewer.csv``)."""
    from ..search.runs import slug

    return f"{DECISIONS_FOLDER}/{slug(reviewer, 60)}.csv"
