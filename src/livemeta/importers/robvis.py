"""Risk-of-bias judgements in robvis's CSV layout (``livemeta rob import`` and ``livemeta rob export``).

robvis (McGuinness & Higgins, Res Syn Meth 2021; the R package that draws Cochrane's traffic-light
and summary plots) reads one row per study: ``Study,D1,D2,D3,D4,D5,Overall`` for RoB 2,
``Study,D1,...,D7,Overall`` for ROBINS-I, and an optional last column ``Weight`` (the study's weight,
for the weighted summary plot). Judgements are words: ``Low``, ``Some concerns``, ``High``, ``No
information``; ROBINS-I ``Low``, ``Moderate``, ``Serious``, ``Critical``, ``No information``.

Import turns such a file into ``risk_of_bias`` entries of the study files it names (by trial id or
name), as one role's assessment of one outcome; the file carries no support text, so every
judgement says where it came from. Nothing is written unless asked, and then all or nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LivemetaError, Problem, ValidationFailed
from ..safe import csv_text, csv_uncell

#: livemeta's judgement -> robvis's word
WORDS = {
    "low": "Low",
    "some_concerns": "Some concerns",
    "high": "High",
    "moderate": "Moderate",
    "serious": "Serious",
    "critical": "Critical",
    "no_information": "No information",
}
_FROM_WORD = {re.sub(r"[^a-z]", "", w.lower()): k for k, w in WORDS.items()}
TOOL_DOMAINS = {"rob2": 5, "robins_i": 7}
TOOL_NAMES = {"rob2": "RoB 2", "robins_i": "ROBINS-I"}


def header(tool: str, weighted: bool = False) -> list[str]:
    """robvis's columns for ``tool``: Study, D1..Dn, Overall[, Weight]."""
    return ["Study", *(f"D{i}" for i in range(1, TOOL_DOMAINS[tool] + 1)), "Overall"] + (["Weight"] if weighted else [])


def check_date(text: str, option: str) -> None:
    """Refuse an assessment date that is not a real date written YYYY-MM-DD, saying why."""
    from ..ingest.structure import date_problem

    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        why = "is not a date written YYYY-MM-DD"
    else:
        why = date_problem(text)
        why = why and f"is not a real date: it {why}"
    if why:
        raise LivemetaError(f"{option} {text!r} {why}", hint="give the day the judgements were made, as YYYY-MM-DD")


def judgement(word: str) -> str | None:
    """robvis's word (any case, spaces or underscores) as livemeta's judgement; None if unknown."""
    return _FROM_WORD.get(re.sub(r"[^a-z]", "", str(word).lower()))


@dataclass(frozen=True)
class Row:
    """One study of a robvis file: its label, judgement per domain (D1.., Overall) and weight."""

    line: int
    study: str
    judgements: dict[str, str]
    weight: float | None = None


def parse(text: str, name: str, tool: str) -> list[Row]:
    """The rows of a robvis CSV for ``tool``; :class:`ValidationFailed` naming every bad cell."""
    from ..ingest.structure import ROB_JUDGEMENTS

    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        rows = list(reader)
    except csv.Error as exc:
        limit = csv.field_size_limit()
        reason = (f"a cell of more than {limit:,} characters: a robvis file holds study names and judgements"
                  if "field larger than field limit" in str(exc) else f"not valid CSV ({exc})")
        raise ValidationFailed([Problem(name, f"line {reader.line_num}", reason)]) from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ValidationFailed([Problem(name, "", "empty: a robvis file has a header row and one row per study")])
    if len(rows) == 1:
        raise ValidationFailed([Problem(name, "", "no study rows: the file has its header and nothing under it "
                                        "(a robvis file has one row per study)")])
    head = [c.strip() for c in rows[0]]
    want = header(tool)
    weighted = head == header(tool, weighted=True)
    if head != want and not weighted:
        raise ValidationFailed([Problem(name, "line 1", f"the header is {','.join(head)!r}; robvis's {TOOL_NAMES[tool]} "
                                        f"layout is {','.join(want)!r} (optionally followed by ',Weight')")])
    allowed = (*ROB_JUDGEMENTS[tool], "no_information")
    problems, out, seen = [], [], {}
    for n, raw in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in raw] + [""] * (len(head) - len(raw))
        if len(raw) > len(head):
            problems.append(Problem(name, f"line {n}", f"{len(raw)} cells; the header has {len(head)}"))
            continue
        study = csv_uncell(cells[0])  # a name written by to_csv against spreadsheet formulas
        if not study:
            problems.append(Problem(name, f"line {n}.Study", "no study name"))
            continue
        if study in seen:
            problems.append(Problem(name, f"line {n}.Study", f"{study!r} is also on line {seen[study]}"))
        seen.setdefault(study, n)
        judged = {}
        for col, cell in zip(head[1:len(want)], cells[1:len(want)]):
            j = judgement(cell)
            if j not in allowed:
                words = ", ".join(WORDS[a] for a in allowed)
                problems.append(Problem(name, f"line {n}.{col}", f"{cell!r} is not a {TOOL_NAMES[tool]} judgement ({words})"))
            judged[col] = j
        weight = None
        if weighted:
            try:
                weight = float(cells[-1])
            except ValueError:
                problems.append(Problem(name, f"line {n}.Weight", f"{cells[-1]!r} is not a number"))
        out.append(Row(n, study, judged, weight))
    if problems:
        raise ValidationFailed(problems)
    return out


def to_csv(records: list[dict], tool: str, weighted: bool = False) -> str:
    """robvis CSV text from records with ``study``, ``d1_judgement``.., ``overall_judgement`` and
    (when ``weighted``) ``weight``."""
    n, out = TOOL_DOMAINS[tool], []
    for r in records:
        row = [r["study"], *(WORDS[r[f"d{i}_judgement"]] for i in range(1, n + 1)), WORDS[r["overall_judgement"]]]
        if weighted:
            row.append(f"{r['weight']:.2f}")
        out.append(row)
    return csv_text(header(tool, weighted), out)  # a study name is never a spreadsheet formula


# --------------------------------------------------------------------------------------- import
@dataclass
class Imported:
    """What an import drafted: per study file, the entry's YAML text and the trial it adds to."""

    entries: dict[Path, str] = field(default_factory=dict)
    trials: dict[Path, str] = field(default_factory=dict)
    written: bool = False

    def summary(self) -> str:
        names = ", ".join(sorted(self.trials.values()))
        n = len(self.entries)
        if self.written:
            return (f"added a risk_of_bias entry to {n} study file{'s' if n != 1 else ''} ({names}); "
                    "check them, then `livemeta ingest FILES --supersede -m MESSAGE`")
        return f"would add a risk_of_bias entry to {n} study file{'s' if n != 1 else ''} ({names}); nothing was written (pass --write)"


def _match(studies, label: str):
    from ..ingest.identifiers import name_keys

    keys = set(name_keys(label))
    hits = [s for s in studies if s.trial_id == label or keys & set(name_keys(s.data["trial"].get("name", "")))]
    return hits[0] if len(hits) == 1 else None


def entry_text(entry: dict) -> str:
    """One risk_of_bias list item as YAML (two-space list indent, flow mappings per domain)."""
    q = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731  (a JSON string is a YAML string)
    lines = [f"  - id: {entry['id']}"]
    for key in ("tool", "endpoint", "role"):
        lines.append(f"    {key}: {entry[key]}")
    lines.append(f"    assessor: {q(entry['assessor'])}")
    if entry.get("assessed_on"):
        lines.append(f"    assessed_on: {q(entry['assessed_on'])}")
    lines.append(f"    source: {entry['source']}")
    lines.append("    domains:")
    for d, v in entry["domains"].items():
        lines.append(f"      {d}: {{judgement: {v['judgement']}, support: {q(v['support'])}}}")
    o = entry["overall"]
    lines.append(f"    overall: {{judgement: {o['judgement']}, support: {q(o['support'])}}}")
    return "\n".join(lines) + "\n"


def draft(rows: list[Row], studies, *, csv_name: str, tool: str, endpoint: str, role: str, assessor: str,
          source: str | None = None, assessed_on: str | None = None) -> tuple[list[tuple], list[Problem]]:
    """The entry each row adds to its study file: [(StudyFile, entry)], and the problems (a study
    not found, a trial already assessed in that role, no source to cite)."""
    problems: list[Problem] = []
    out = []
    for row in rows:
        study = _match(studies, row.study)
        where = f"line {row.line}.Study"
        if study is None:
            problems.append(Problem(csv_name, where, f"{row.study!r} names no trial of the project (by id or name)"))
            continue
        if any(a.get("endpoint") == endpoint and a.get("role") == role for a in study.data.get("risk_of_bias") or []):
            problems.append(Problem(csv_name, where, f"{study.name} has a {role} assessment of {endpoint} already"))
            continue
        sources = [s["id"] for s in study.data.get("sources") or []]
        src = source if source is not None else (sources[0] if len(sources) == 1 else None)
        if src is None or src not in sources:
            problems.append(Problem(csv_name, where, f"which source of {study.name} were the judgements made on? "
                                    f"give --source (one of: {', '.join(sources)})"))
            continue
        support = f"robvis CSV {csv_name}, line {row.line} ({row.study}): no support text recorded"
        n = TOOL_DOMAINS[tool]
        entry = {
            "id": f"{endpoint}-{role.replace('_', '-')}", "tool": tool, "endpoint": endpoint, "role": role,
            "assessor": assessor, "assessed_on": assessed_on, "source": src,
            "domains": {f"D{i}": {"judgement": row.judgements[f"D{i}"], "support": support} for i in range(1, n + 1)},
            "overall": {"judgement": row.judgements["Overall"], "support": support},
        }
        out.append((study, entry))
    return out, problems


def apply(study, entry: dict) -> str:
    """The study file's new text with ``entry`` added (YAML keeps its layout; JSON is rewritten)."""
    text = study.path.read_text(encoding="utf-8")
    if study.path.suffix == ".json":
        data = json.loads(text)
        data.setdefault("risk_of_bias", []).append({k: v for k, v in entry.items() if v is not None})
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    from ..yamltext import append_to_list

    body = text if text.endswith("\n") else text + "\n"
    if not re.search(r"^risk_of_bias\s*:", body, re.M):
        body += "\n"  # a blank line before the new section
    return append_to_list(body, "risk_of_bias", entry_text({k: v for k, v in entry.items() if v is not None}))


def check_choice(value: str, allowed, what: str) -> str:
    if value not in allowed:
        raise LivemetaError(f"{what} {value!r} is not one of: {', '.join(allowed)}")
    return value
