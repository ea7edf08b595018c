"""Draft a livemeta study file from a ClinicalTrials.gov study record (``livemeta import ctgov``).

:func:`draft_from_record` is a pure function: a record (the parsed JSON of an API v2 study, or a
legacy v1 ``FullStudiesResponse`` holding one study) in, a :class:`Draft` out (the study as a dict,
its YAML text with comments for the extractor, the fields to fill in and what was not mapped).
Nothing is read from or written to disk or the database here.

What is mapped, and how (everything ``verified: false``; every number cites the record: the source
``ctgov-<last update date>`` with the NCT id, ``location`` = the record path, ``raw_text`` = the
record's fields as written):

- **trial**: NCT id, name (acronym, else brief title), other ids, design (``rct`` when the
  allocation is RANDOMIZED, else ``single_arm``), phase, enrolment as ``randomised_n`` (only when
  ACTUAL), status (COMPLETED, TERMINATED, ACTIVE_NOT_RECRUITING, RECRUITING, ENROLLING_BY_INVITATION;
  any other status is ``unknown`` with the registry's word in the note), dates in the note.
  ``inclusion`` is ``candidate`` (screening is a person's judgement, never the registry's).
- **arms**: the participant-flow groups that start the first period or match a registered arm
  group (else the registered arm groups, when the record has no results). A results group matches
  a registered arm (or an arm) when exactly one has the same title, else the same description,
  else the same title once a trailing ``(...)`` label (``Placebo (SS)``) is dropped, else the same
  label before a colon (``Arm A: ...``). Roles come from the registered arm type (EXPERIMENTAL ->
  experimental; ACTIVE/PLACEBO/SHAM_COMPARATOR, NO_INTERVENTION -> control); when the types do not
  give an rct an experimental and a control arm, the roles are left for the extractor.
  ``n_randomised`` = STARTED of the first period, ``n_safety`` = the matching adverse-event group's
  participants at risk; a group entering later (another randomisation of a factorial design, an
  extension) keeps its counts in the note, so the arms never add up to more than the enrolment.
- **outcomes**, only where unambiguous: a measure whose title names exactly one of OS (overall
  survival, all-cause mortality), PFS, ORR (objective / overall response rate), DCR; for OS and PFS
  each hazard-ratio analysis of exactly two arms, one experimental and one control, whose comments
  state the direction as experimental vs control (``Hazard ratio is CDM vs LCM``, ``CZP/Placebo``,
  ``<1 favors CZP``; a ratio given control vs experimental is left to the extractor, never inverted):
  estimate, CI (two-sided only), CI level, p-value (when printed as a number), events / n and
  medians (months or weeks) from the same measure; for ORR and DCR the responders of n per arm from
  a count of participants with a single category. One comparison with more than one candidate
  (two OS measures, stratified and unstratified analyses) is left to the extractor. When the
  mapped rows compare more than one pair of arms, each is a ``subgroup`` named after its pair and
  the extractor names the trial's main comparison.
- **adverse events** per arm: serious and other (non-serious, above the frequency threshold)
  participants affected of at risk, in total and per term (``serious: Glaucoma``; organ system,
  vocabulary and assessment in the note); all-cause, any grade, as the registry reports them.

Everything else (other measures, other analyses, unmatched groups, deaths) is listed in the draft
as comments, never guessed into a field.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from .ctgov_record import (
    Analysis,
    ArmGroup,
    EventGroup,
    Measure,
    Record,
    Val,
    enum,
    number,
    parse_record,
)
from .draft_yaml import render

__all__ = ["Draft", "FillIn", "draft_from_record", "SOURCE_KIND"]

SOURCE_KIND = "registry_record"

ROLE_BY_TYPE = {
    "EXPERIMENTAL": "experimental",
    "ACTIVE_COMPARATOR": "control",
    "PLACEBO_COMPARATOR": "control",
    "SHAM_COMPARATOR": "control",
    "NO_INTERVENTION": "control",
}

STATUS = {
    "COMPLETED": "completed",
    "TERMINATED": "terminated",
    "ACTIVE_NOT_RECRUITING": "ongoing",
    "RECRUITING": "recruiting",
    "ENROLLING_BY_INVITATION": "recruiting",
}

ENDPOINTS = (  # abbreviations count only in capitals ("per os" is not OS)
    ("os", re.compile(r"\boverall survival\b|(?-i:\bOS\b)|\ball[- ]cause mortality\b|\bdeath from any cause\b", re.I)),
    ("pfs", re.compile(r"\bprogression[- ]free survival\b|(?-i:\bPFS\b)", re.I)),
    ("orr", re.compile(r"\bobjective (tumou?r )?response\b|\boverall response rate\b|(?-i:\bORR\b)", re.I)),
    ("dcr", re.compile(r"\bdisease control rate\b|(?-i:\bDCR\b)", re.I)),
)
_NOT_A_RATE = re.compile(r"\bduration\b|\btime to\b", re.I)
#: the registry's parameter "Hazard Ratio (HR)"; not "Hazard Ratio, log" (a log hazard ratio)
_HAZARD = re.compile(r"^\s*hazard ratio\s*(\(hr\))?\s*$", re.I)

#: fields a draft never takes from the record (judgements, local ids): --compare skips them
NOT_FROM_RECORD = {("trials", "inclusion"), ("trials", "inclusion_reason"), ("trials", "id")}


@dataclass(frozen=True)
class FillIn:
    """A field the extractor must fill in before the draft validates: its record path and a hint."""

    path: str
    hint: str


@dataclass
class Draft:
    """A draft study file: the study (``data``), its YAML text, and what the extractor must do."""

    nct_id: str
    layout: str
    last_update: str | None
    source_id: str
    data: dict
    text: str
    to_fill: list[FillIn]
    to_check: list[str]
    unmapped: list[str]
    numbers: dict[str, str] = field(repr=False, default_factory=dict)
    #: the record path each trial and arm value was read from, by draft path (``trial.status``)
    locations: dict[str, str] = field(repr=False, default_factory=dict)

    def summary(self) -> str:
        d = self.data
        parts = [f"{len(d['arms'])} arms", f"{len(d.get('outcomes') or [])} outcomes",
                 f"{len(d.get('adverse_events') or [])} adverse events"]
        lines = [f"draft of {self.nct_id} ({self.layout} record, last updated {self.last_update or 'unknown'}): "
                 + ", ".join(parts) + f"; {sum(1 for u in self.unmapped if not u.startswith(' '))} items not mapped (listed as comments)"]
        if self.to_fill:
            lines.append("fill in before `livemeta validate`: " + ", ".join(f.path for f in self.to_fill))
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# small helpers

def _norm(text: str | None) -> str:
    return " ".join(text.casefold().split()) if text else ""


def slug(text: str, limit: int = 40) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")
    s = s[:limit].rstrip("_")
    return s or "x"


def _local_id(*parts: str) -> str:
    """A valid local id (<= 64 characters, deterministic) from slug parts."""
    full = "_".join(p for p in parts if p)
    if len(full) <= 64:
        return full
    digest = hashlib.sha1(full.encode()).hexdigest()[:8]
    return full[:55].rstrip("_") + "_" + digest


def _unique(ident: str, taken: set[str]) -> str:
    out, i = ident, 2
    while out in taken:
        suffix = f"_{i}"
        out = ident[: 64 - len(suffix)] + suffix
        i += 1
    taken.add(out)
    return out


def _q(text: str | None, limit: int = 160) -> str:
    """Record text for a comment or note: one line, shortened."""
    t = " ".join((text or "").split())
    return t if len(t) <= limit else t[: limit - 3] + "..."


def _field(v: Val | None) -> str:
    """``paramValue "0.84"``: a record field as written, named by its last path segment."""
    if v is None:
        return ""
    name = re.sub(r"\[\d+\]$", "", v.path.rsplit(".", 1)[-1])
    return f'{name} "{v.raw}"'


def _fields(*vals: Val | None) -> str:
    return ", ".join(x for x in (_field(v) for v in vals) if x)


def _p_value(v: Val | None) -> int | float | None:
    if v is None:
        return None
    t = v.raw.strip()
    if t.startswith("="):
        t = t[1:].strip()
    p = number(t)
    return p if p is not None and 0 <= p <= 1 else None


def _phase(phases: list[str]) -> str | None:
    out = []
    for p in phases:
        e = enum(p) or ""
        m = re.fullmatch(r"(EARLY_)?PHASE_?(\d)", e)
        if m:
            out.append(("early " if m.group(1) else "") + m.group(2))
    return "/".join(out) or None


# ---------------------------------------------------------------------------------------------
# matching results groups to arms


_TRAILING_LABEL = re.compile(r"^(.*\S)\s*\([^()]{1,20}\)$")
_LEADING_LABEL = re.compile(r"^([^:]{1,30}):")


def _strip_label(title: str) -> str:
    m = _TRAILING_LABEL.match(title.strip())
    return _norm(m.group(1)) if m else ""


def _lead(title: str) -> str:
    m = _LEADING_LABEL.match(title.strip())
    return _norm(m.group(1)) if m else ""


_RULES = (
    ("same title", lambda g, t: _norm(g[0]) == _norm(t[0])),
    ("same description", lambda g, t: bool(g[1]) and _norm(g[1]) == _norm(t[1])),
    ("same title but for a trailing label", lambda g, t: bool(_strip_label(g[0])) and _strip_label(g[0]) == _norm(t[0])),
    ("same label before the colon", lambda g, t: bool(_lead(g[0])) and _lead(g[0]) == _lead(t[0])),
)


def match_groups(groups: list[tuple[str, str | None]], targets: list[tuple[str, str | None]]) -> dict[int, tuple[int, str]]:
    """Each group (title, description) -> (target index, rule) when exactly one target matches.

    The rules are tried in order; a rule that matches several targets stops the search for that
    group. A target matched by two groups keeps neither (one arm, one group).
    """
    found: dict[int, tuple[int, str]] = {}
    for gi, g in enumerate(groups):
        for how, rule in _RULES:
            hits = [ti for ti, t in enumerate(targets) if rule(g, t)]
            if len(hits) == 1:
                found[gi] = (hits[0], how)
            if hits:
                break
    by_target: dict[int, list[int]] = {}
    for gi, (ti, _) in found.items():
        by_target.setdefault(ti, []).append(gi)
    return {gi: v for gi, v in found.items() if len(by_target[v[0]]) == 1}


# ---------------------------------------------------------------------------------------------
# direction of a ratio: which group is the numerator, from the analysis' comments

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SEP = re.compile(r"\s+(?:vs\.?|versus|compared (?:with|to)|relative to)\s+|(?<=[A-Za-z0-9)])\s*/\s*(?=[A-Za-z0-9(])", re.I)
_DIRECTION_FIELDS = ("estimateComment", "groupDescription", "statisticalComment")


def _word_matches(word: str, title_words: set[str]) -> bool:
    return word in title_words or (len(word) >= 4 and any(w.startswith(word) for w in title_words))


def _resolve(words: list[str], groups: list[set[str]]) -> int | None:
    """The one group all ``words`` belong to, else None."""
    if not words:
        return None
    hits = [i for i, g in enumerate(groups) if all(_word_matches(w, g) for w in words)]
    return hits[0] if len(hits) == 1 else None


def _side(words: list[str], groups: list[set[str]]) -> list[str]:
    """The run of words (from the separator outwards) that occur in some group title."""
    out = []
    for w in words:
        if not any(_word_matches(w, g) for g in groups):
            break
        out.append(w)
    return out


_FAVOURS = re.compile(r"(<|>|\bless than|\bgreater than)\s*1(?:\.0+)?\s+(?:favou?rs?|is in favou?r of)\s+(?:the\s+)?", re.I)


def ratio_direction(analysis: Analysis, titles: list[str]) -> tuple[int | None, str]:
    """Which of the two groups (by index in ``titles``) is the ratio's numerator, and the evidence.

    The analysis' estimate comment, group description and statistical comment are searched for
    ``A vs B`` / ``A versus B`` / ``A compared with B`` / ``A relative to B`` / ``A/B`` (A is the
    numerator) and ``<1 favors A`` (A is the numerator) / ``>1 favors B`` (B is the reference), where
    A and B name the groups: every word of A occurs in exactly one group's title (words of four
    letters or more may abbreviate a title word: ``stop`` for ``Stopped``). All statements found
    must agree. Returns (None, reason) when no statement, or conflicting ones, are found.
    """
    groups = [set(_WORD.findall(t.casefold())) for t in titles]
    found: dict[int, str] = {}
    for name in _DIRECTION_FIELDS:
        text = analysis.text(name)
        if not text:
            continue
        why = f'{name} "{_q(text, 120)}"'
        for m in _SEP.finditer(text):
            left = list(reversed(_WORD.findall(text[: m.start()].casefold())))
            right = _WORD.findall(text[m.end():].casefold())
            a = _resolve(_side(left, groups), groups)
            b = _resolve(_side(right, groups), groups)
            if a is not None and b is not None and a != b:
                found.setdefault(a, why)
        for m in _FAVOURS.finditer(text):
            g = _resolve(_side(_WORD.findall(text[m.end():].casefold()), groups), groups)
            if g is not None:
                below_one = m.group(1).strip().lower() in ("<", "less than")
                found.setdefault(g if below_one else 1 - g, why)
    if len(found) == 1:
        (num, why), = found.items()
        return num, why
    if not found:
        return None, ("the analysis does not say which group is the numerator (no 'A vs B' or '<1 favors A' "
                      "naming the groups in its comments)")
    return None, "the analysis' comments state the direction both ways"


# ---------------------------------------------------------------------------------------------
# the builder


@dataclass
class _Arm:
    id: str
    title: str
    description: str | None
    flow_id: str | None
    registered: ArmGroup | None
    registered_how: str | None
    role: str | None = None
    entry: tuple[int, Val] | None = None  # (period index, STARTED) of the period the group entered
    n_safety: Val | None = None
    ae_group: EventGroup | None = None
    ae_how: str | None = None


@dataclass
class _Candidate:
    endpoint: str
    measure: str
    exp: _Arm
    ctl: _Arm | None
    row: dict
    numbers: dict[str, str]
    label: str  # where it comes from, for messages


class _Builder:
    def __init__(self, rec: Record, origin: str | None):
        self.rec = rec
        self.origin = origin
        self.fill: list[FillIn] = []
        self.check: list[str] = []
        self.unmapped: list[str] = []
        self.inline: dict[str, str] = {}
        self.numbers: dict[str, str] = {}
        self.locations: dict[str, str] = {}
        lu = rec.last_update
        self.source_id = f"ctgov-{lu}" if lu else "ctgov"
        self.design = "rct" if rec.allocation is not None and enum(rec.allocation.raw) == "RANDOMIZED" else "single_arm"

    # -- trial and source ------------------------------------------------------------------
    def source(self) -> dict:
        r = self.rec
        lu = r.last_update
        title = r.brief_title or r.official_title or r.nct_id
        posted = r.dates.get("results_first_posted", (None, None))[0]
        citation = f"ClinicalTrials.gov {r.nct_id}: {title}. Record last updated {lu or 'unknown'}"
        if posted:
            citation += f"; results first posted {posted}"
        note = f"{r.layout} study record; `location` of each value is its path in this record"
        if self.origin:
            note += f"; imported from {self.origin}"
        src = {"id": self.source_id, "kind": SOURCE_KIND, "citation": citation}
        if lu:
            src["year"] = int(lu[:4])
        src.update({"nct_id": r.nct_id, "url": f"https://clinicaltrials.gov/study/{r.nct_id}", "note": note})
        return src

    def trial(self) -> dict:
        r = self.rec
        name = r.acronym or r.brief_title or r.nct_id
        tid = slug(r.acronym, 64).replace("_", "-") if r.acronym else r.nct_id.lower()
        others = []
        if r.org_study_id:
            others.append(f"{r.org_study_id} (organisation's study id)")
        others += [f"{i} ({t})" if t else i for i, t in r.secondary_ids]
        notes = []
        n = None
        if r.enrollment is not None:
            if r.enrollment_type == "ACTUAL" and r.enrollment.count is not None:
                n = r.enrollment.count
                notes.append(f"randomised_n = actual enrolment ({r.enrollment.path} = {r.enrollment.raw})")
            else:
                notes.append(f"enrolment {r.enrollment.raw} is {r.enrollment_type or 'of unstated type'}, not an actual count: randomised_n left empty")
        status_raw = r.overall_status.raw if r.overall_status else None
        status = STATUS.get(enum(status_raw) or "", "unknown")
        notes.append(f"registry status {status_raw or 'not given'}" + (f" (why stopped: {_q(r.why_stopped)})" if r.why_stopped else ""))
        if self.design == "single_arm":
            how = f"allocation {r.allocation.raw}" if r.allocation else "no allocation given"
            notes.append(f"design single_arm: {how}; study type {r.study_type or 'not given'}")
        if r.intervention_model:
            notes.append(f"intervention model {r.intervention_model}")
        dates = "; ".join(f"{k.replace('_', ' ')} {iso or v.raw}" for k, (iso, v) in r.dates.items())
        if dates:
            notes.append(f"dates: {dates}")
        if r.conditions:
            notes.append("conditions: " + ", ".join(r.conditions))
        t = {
            "id": tid,
            "name": name,
            "nct_id": r.nct_id,
            "other_ids": "; ".join(others) or None,
            "design": self.design,
            "phase": _phase(r.phases),
            "randomised_n": n,
            "first_published": None,
            "status": status,
            "inclusion": "candidate",
            "inclusion_reason": "drafted from the ClinicalTrials.gov record; not yet screened",
            "population": None,
            "verified": False,
            "source": self.source_id,
            "note": "; ".join(notes),
        }
        for key, val in (("status", r.overall_status), ("randomised_n", r.enrollment), ("design", r.allocation)):
            if val is not None:
                self.locations[f"trial.{key}"] = val.path
        self.locations["trial.nct_id"] = r.nct_path
        posted = r.dates.get("results_first_posted", (None, None))[0]
        self.inline["trial.first_published"] = (
            f"CHECK: first public report of results (results first posted on ClinicalTrials.gov {posted})"
            if posted else "CHECK: first public report of results"
        )
        self.inline["trial.inclusion"] = "CHECK: candidate until screened (included | candidate | excluded | after_review)"
        self.inline["trial.population"] = "CHECK: the trial's population as printed"
        self.check += ["trial.inclusion", "trial.first_published", "trial.population"]
        return t

    # -- arms ----------------------------------------------------------------------------------
    def arms(self) -> list[_Arm]:
        r = self.rec
        registered = [(a.label, a.description) for a in r.arm_groups]
        arms: list[_Arm] = []
        taken: set[str] = set()
        if r.flow_groups:
            groups = r.flow_groups
            matched = match_groups([(g.title, g.description) for g in groups], registered)
            for gi, g in enumerate(groups):
                entry = None
                for pi, per in enumerate(r.periods):
                    v = per.started.get(g.id)
                    if v is not None and (v.count or 0) > 0:
                        entry = (pi, v)
                        break
                reg = r.arm_groups[matched[gi][0]] if gi in matched else None
                if (entry is not None and entry[0] == 0) or reg is not None or not r.periods:
                    arms.append(_Arm(_unique(slug(g.title), taken), g.title, g.description, g.id, reg,
                                     matched[gi][1] if gi in matched else None, entry=entry))
                else:
                    where = (f"enters in period {entry[0]} '{_q(r.periods[entry[0]].title, 60)}' ({entry[1].raw} started)"
                             if entry else "starts no one")
                    self.unmapped.append(f"participant-flow group {g.id} '{_q(g.title, 80)}' {where} and matches no registered arm: "
                                         "not an arm here; its outcome and adverse-event data are not imported")
        else:
            for a in r.arm_groups:
                arms.append(_Arm(_unique(slug(a.label), taken), a.label, a.description, None, a, "registered arm group"))
            if r.has_results:
                self.unmapped.append("the results have no participant flow: arms are the registered arm groups, without counts")
        return arms

    def roles(self, arms: list[_Arm]) -> None:
        if self.design == "single_arm":
            for a in arms:
                a.role = "single"
            return
        for a in arms:
            a.role = ROLE_BY_TYPE.get(a.registered.type) if a.registered and a.registered.type else None
        roles = {a.role for a in arms}
        if "experimental" not in roles or "control" not in roles:
            types = ", ".join(f"'{_q(a.title, 40)}': {a.registered.type_raw if a.registered else 'no registered arm'}" for a in arms)
            for a in arms:
                a.role = None
            self.unmapped.append(f"arm roles: the registered arm types ({types}) do not give an experimental and a control arm; "
                                 "no outcome is mapped until the roles are known")

    def arm_rows(self, arms: list[_Arm], total: int | None) -> list[dict]:
        r = self.rec
        ev_matched = match_groups([(g.title, g.description) for g in r.event_groups], [(a.title, a.description) for a in arms])
        for gi, (ai, how) in ev_matched.items():
            arms[ai].ae_group = r.event_groups[gi]
            arms[ai].ae_how = how
        for gi, g in enumerate(r.event_groups):
            if gi not in ev_matched:
                counts = _fields(g.serious_affected, g.serious_at_risk, g.other_affected, g.other_at_risk)
                self.unmapped.append(f"adverse-event group {g.id} '{_q(g.title, 80)}' matches no arm: its adverse events are not imported ({counts})")
        rows = []
        for i, a in enumerate(arms):
            notes = []
            if a.registered:
                notes.append(f"registered arm '{_q(a.registered.label, 80)}' ({a.registered.type_raw}; {a.registered.path}; matched by {a.registered_how})")
                if a.registered.interventions:
                    notes.append("interventions: " + "; ".join(a.registered.interventions))
            elif a.flow_id:
                notes.append("matches no registered arm group")
            n_rand = None
            if a.entry is not None:
                pi, v = a.entry
                per = r.periods[pi]
                text = f"participant flow {a.flow_id} STARTED {v.raw} in period '{_q(per.title, 60)}' ({v.path})"
                if pi == 0:
                    n_rand = v
                    notes.append(f"n_randomised: {text}")
                else:
                    notes.append(f"{text}: a later period (another randomisation or an extension), so not n_randomised")
            if a.ae_group is not None:
                g = a.ae_group
                a.n_safety = g.serious_at_risk or g.other_at_risk
                notes.append(f"adverse-event group {g.id} '{_q(g.title, 60)}' (matched by {a.ae_how}): "
                             + _fields(g.serious_at_risk, g.other_at_risk))
                if a.entry is not None and a.entry[0] != 0:
                    a.n_safety = None
            row = {
                "id": a.id,
                "role": a.role,
                "regimen": a.title,
                "pd1_agent": None,
                "partners": [],
                "treatment_class": None,
                **({"control_type": None} if a.role == "control" else {}),
                "n_randomised": n_rand.count if n_rand else None,
                "n_safety": a.n_safety.count if a.n_safety else None,
                "source": self.source_id,
                "verified": False,
                "note": "; ".join(notes) or None,
            }
            if a.role == "control":
                self.inline[f"arms[{i}].control_type"] = "CHECK: docetaxel | docetaxel_ramucirumab | investigator_choice | placebo_docetaxel | other"
            rows.append(row)
            for key, val in (("n_randomised", n_rand), ("n_safety", a.n_safety if row["n_safety"] is not None else None)):
                if val is not None:
                    self.locations[f"arms[{i}].{key}"] = val.path
            if a.registered is not None:
                self.locations[f"arms[{i}].role"] = a.registered.path
            if a.flow_id is not None:
                self.locations[f"arms[{i}].regimen"] = next(g.path for g in r.flow_groups if g.id == a.flow_id)
            if a.role is None:
                self.fill.append(FillIn(f"arms[{i}].role", "experimental | control (the registry does not say)"))
                self.inline[f"arms[{i}].role"] = "FILL IN: experimental | control"
            self.fill.append(FillIn(f"arms[{i}].treatment_class", "the class of what is given with the PD-(L)1 agent; none when nothing is (see ingest/template.yaml)"))
            self.inline[f"arms[{i}].treatment_class"] = (
                "FILL IN: chemotherapy | antiangiogenic | multitarget_tki | dual_checkpoint | bispecific | adc | vaccine "
                "| epigenetic | investigational_io | other | none")
            self.inline[f"arms[{i}].pd1_agent"] = "CHECK: the arm's PD-(L)1 drug, if any; partners: the drugs given with it"
        self._guard_totals(rows, total)
        self.check.append("arms[*].pd1_agent, partners and (control arms) control_type")
        return rows

    def _guard_totals(self, rows: list[dict], total: int | None) -> None:
        """The arms' counts must not add up to more than randomised_n (the trials suite checks it),
        nor a single arm's n_safety exceed its n_randomised (the arms suite)."""
        for key in ("n_randomised", "n_safety"):
            values = [r[key] for r in rows if r[key] is not None]
            over_total = total is not None and sum(values) > total
            over_arm = self.design == "single_arm" and key == "n_safety" and any(
                r["n_safety"] is not None and r["n_randomised"] is not None and r["n_safety"] > r["n_randomised"] for r in rows)
            if over_total or over_arm:
                for r in rows:
                    if r[key] is not None:
                        r["note"] = (r["note"] + "; " if r["note"] else "") + f"{key} {r[key]} kept in this note only: the groups overlap"
                        r[key] = None
                what = f"more than the enrolment {total}" if over_total else "more than an arm's n_randomised"
                self.unmapped.append(f"arms: the groups' {key} add up to {what} (overlapping groups): "
                                     f"{key} left empty, the counts are in the arms' notes")

    # -- outcomes ------------------------------------------------------------------------------
    def _endpoint(self, m: Measure) -> tuple[str | None, str]:
        hits = [ep for ep, rx in ENDPOINTS if rx.search(m.title)]
        if len(hits) != 1:
            return None, ("names no endpoint livemeta stores (os, pfs, orr, dcr)" if not hits
                          else f"names more than one endpoint ({', '.join(hits)})")
        ep = hits[0]
        if ep in ("orr", "dcr") and _NOT_A_RATE.search(m.title):
            return None, "a duration or time to response, not a response rate"
        return ep, ""

    def _measure_arms(self, m: Measure, arms: list[_Arm]) -> dict[str, _Arm]:
        found = match_groups([(g.title, g.description) for g in m.groups], [(a.title, a.description) for a in arms])
        return {m.groups[gi].id: arms[ai] for gi, (ai, _) in found.items()}

    @staticmethod
    def _is_count(m: Measure) -> bool:
        unit = (m.unit or "").strip().lower()
        return m.param_type == "COUNT_OF_PARTICIPANTS" or (m.param_type == "NUMBER" and unit.startswith("participant"))

    def _per_group(self, m: Measure) -> dict[str, Val]:
        """The one value per group of a measure with a single category (else empty)."""
        if len(m.categories) != 1:
            return {}
        return {x.group_id: x.value for x in m.categories[0].measurements if x.value is not None}

    def _analysis_line(self, a: Analysis) -> str:
        return _fields(a.get("paramType"), a.get("paramValue"), a.get("ciPctValue"), a.get("ciNumSides"),
                       a.get("ciLowerLimit"), a.get("ciUpperLimit"), a.get("pValue"), a.get("statisticalMethod"))

    def _measure_line(self, m: Measure) -> str:
        return (f"outcome measure {m.path} '{_q(m.title, 140)}' ({(m.type or '').lower()}; "
                f"{m.param_type_raw or 'no parameter'}, {m.unit or 'no unit'})")

    def outcomes(self, arms: list[_Arm]) -> list[dict]:
        cands: list[_Candidate] = []
        for m in self.rec.measures:
            head = self._measure_line(m)
            if m.reporting_status and m.reporting_status != "POSTED":
                self.unmapped.append(f"{head}: not posted ({m.reporting_status})")
                continue
            ep, why = self._endpoint(m)
            if ep is None:
                self.unmapped.append(f"{head}: {why}")
                for a in m.analyses:
                    self.unmapped.append(f"    analysis {a.path.rsplit('.', 1)[-1]} of groups {', '.join(a.group_ids)}: {self._analysis_line(a)}")
                continue
            by_group = self._measure_arms(m, arms)
            if ep in ("os", "pfs"):
                cands += self._hr_candidates(m, ep, by_group, head)
            else:
                cands += self._count_candidates(m, ep, by_group, head)
        # one candidate per comparison, else the extractor chooses
        keys: dict[tuple, list[_Candidate]] = {}
        for c in cands:
            keys.setdefault((c.endpoint, c.measure, c.exp.id, c.ctl.id if c.ctl else None), []).append(c)
        kept = []
        for key, group in keys.items():
            if len(group) == 1:
                kept.append(group[0])
            else:
                where = "; ".join(c.label for c in group)
                self.unmapped.append(f"{key[0]} {key[1]} of {key[2]}" + (f" vs {key[3]}" if key[3] else "")
                                     + f": {len(group)} candidates, choose one: {where}")
        pairs = sorted({(c.exp.id, c.ctl.id) for c in kept if c.ctl is not None})
        rows, taken = [], set()
        for c in kept:
            row = c.row
            if c.ctl is not None and len(pairs) > 1:
                row["population"] = "subgroup"
                row["subgroup"] = f"comparison: {c.exp.title} vs {c.ctl.title}"
            else:
                row["population"] = "overall"
            row["id"] = _unique(_local_id(c.endpoint, "hr" if c.measure == "HR" else "n", c.exp.id,
                                          ("vs_" + c.ctl.id) if c.ctl else ""), taken)
            i = len(rows)
            ordered = {k: row[k] for k in _OUTCOME_ORDER if k in row}
            rows.append(ordered)
            for k, text in c.numbers.items():
                self.numbers[f"outcomes[{i}].{k}"] = text
            if row["population"] == "subgroup":
                self.inline[f"outcomes[{i}].population"] = "CHECK: the record compares several pairs of arms; make the trial's main comparison 'overall'"
        if len(pairs) > 1:
            self.check.append("outcomes[*].population (several comparisons)")
        return rows

    def _hr_candidates(self, m: Measure, ep: str, by_group: dict[str, _Arm], head: str) -> list[_Candidate]:
        out = []
        hr = [a for a in m.analyses if _HAZARD.search(a.text("paramType") or "")]
        if not hr:
            self.unmapped.append(f"{head}: {ep} measure without a hazard-ratio analysis")
        for a in m.analyses:
            if a not in hr:
                self.unmapped.append(f"{head}: analysis {a.path.rsplit('.', 1)[-1]} is not a hazard ratio: {self._analysis_line(a)}")
        for a in hr:
            c, why = self._hr_row(m, ep, a, by_group)
            if c is None:
                self.unmapped.append(f"{head}: {ep} HR not mapped: {why}")
                self.unmapped.append(f"    {self._analysis_line(a)}")
            else:
                out.append(c)
        return out

    def _pair(self, ids: list[str], by_group: dict[str, _Arm], m: Measure) -> tuple[tuple[str, str] | None, str]:
        """(experimental group id, control group id) of a two-group comparison, or the reason why not."""
        if len(ids) != 2:
            return None, f"compares {len(ids)} groups, not two"
        missing = [g for g in ids if g not in by_group]
        if missing:
            titles = {g.id: g.title for g in m.groups}
            return None, "outcome group " + ", ".join(f"{g} '{_q(titles.get(g, g), 60)}'" for g in missing) + " matches no arm"
        roles = {by_group[g].role: g for g in ids}
        if set(roles) != {"experimental", "control"}:
            return None, "the two groups are not one experimental and one control arm (roles: " + ", ".join(
                str(by_group[g].role) for g in ids) + ")"
        return (roles["experimental"], roles["control"]), ""

    def _hr_row(self, m: Measure, ep: str, a: Analysis, by_group: dict[str, _Arm]) -> tuple[_Candidate | None, str]:
        pair, why = self._pair(a.group_ids, by_group, m)
        if pair is None:
            return None, why
        exp_g, ctl_g = pair
        titles = {g.id: g.title for g in m.groups}
        num, evidence = ratio_direction(a, [titles[exp_g], titles[ctl_g]])
        if num is None:
            return None, evidence
        if num != 0:
            return None, (f"the record gives the ratio as control vs experimental ({evidence}); livemeta stores "
                          "experimental vs control: invert it by hand if you take it")
        est = a.get("paramValue")
        if est is None or est.number is None or est.number <= 0:
            return None, "no positive estimate"
        row: dict[str, Any] = {"endpoint": ep, "measure": "HR", "experimental_arm": by_group[exp_g].id,
                               "control_arm": by_group[ctl_g].id, "estimate": est.number}
        nums = {"estimate": est.raw}
        notes = [f"mapped from '{_q(m.title, 140)}' ({(m.type or '').lower()} outcome measure; hazard-ratio analysis)"]
        if ep == "os" and not re.search(r"overall survival|\bOS\b", m.title, re.I):
            notes.append("an all-cause death hazard ratio taken as OS")
        notes.append(f"direction experimental vs control from {evidence}")
        sides = enum(a.text("ciNumSides"))
        lo, hi, lvl = a.get("ciLowerLimit"), a.get("ciUpperLimit"), a.get("ciPctValue")
        if sides in ("TWO_SIDED", "2_SIDED") and lo and hi and lo.number is not None and hi.number is not None:
            row.update(ci_low=lo.number, ci_high=hi.number)
            nums.update(ci_low=lo.raw, ci_high=hi.raw)
            if lvl is not None and lvl.number is not None:
                row["ci_level"] = lvl.number
                nums["ci_level"] = lvl.raw
            notes.append(f"CI {a.text('ciNumSides')}")
        elif lo or hi:
            notes.append(f"CI not stored: {a.text('ciNumSides') or 'sidedness not given'} ({_fields(lo, hi)})")
        p = _p_value(a.get("pValue"))
        if p is not None:
            row["p_value"] = p
            nums["p_value"] = a.text("pValue").lstrip("= ")
        elif a.get("pValue") is not None:
            notes.append(f"p-value printed as '{a.text('pValue')}' (not a number: p_value left empty)")
        if a.get("pValue") is not None:
            notes.append(f"p-value method: {a.text('statisticalMethod') or 'not given'}; its sidedness is not given by the registry")
        self._counts_into(m, row, nums, notes, exp_g, ctl_g)
        return self._candidate(m, ep, "HR", by_group[exp_g], by_group[ctl_g], row, nums, notes, a, [exp_g, ctl_g]), ""

    def _counts_into(self, m: Measure, row: dict, nums: dict, notes: list[str], exp_g: str, ctl_g: str | None) -> None:
        """n (denominators), events (a count of participants) and medians of the measure's groups."""
        values = self._per_group(m)
        unit = (m.unit or "").strip().lower()
        for side, g in (("experimental", exp_g), ("control", ctl_g)):
            if g is None:
                continue
            n = m.denoms.get(g)
            if n is not None and n.count is not None:
                row[f"{side}_n"] = n.count
            v = values.get(g)
            if v is None:
                continue
            if self._is_count(m) and v.count is not None:
                row[f"{side}_events"] = v.count
            elif m.param_type == "MEDIAN" and unit in ("months", "month", "weeks", "week") and v.number is not None and v.number > 0:
                row[f"{side}_median"] = v.number
                nums[f"{side}_median"] = v.raw
                row["median_unit"] = "months" if unit.startswith("month") else "weeks"
        if self._is_count(m) and len(m.categories) > 1:
            notes.append(f"{len(m.categories)} categories of counts: events not taken")
        if m.population:
            notes.append(f"analysis population: {_q(m.population, 200)}")

    def _candidate(self, m: Measure, ep: str, measure: str, exp: _Arm, ctl: _Arm | None, row: dict, nums: dict,
                   notes: list[str], a: Analysis | None, gids: list[str]) -> _Candidate:
        raw = [f"'{_q(m.title, 140)}'"]
        if a is not None:
            raw.append(self._analysis_line(a) + (f", {_field(a.get('estimateComment'))}" if a.get("estimateComment") else ""))
        per_group = self._per_group(m)
        titles = {g.id: g.title for g in m.groups}
        for g in gids:
            bits = [f"{g} '{_q(titles[g], 60)}'"]
            if g in per_group:
                bits.append(_field(per_group[g]))
            if g in m.denoms:
                bits.append(_field(m.denoms[g]) + (f" {m.denom_units}" if m.denom_units else ""))
            raw.append(" ".join(bits))
        location = a.path if a is not None else m.path
        row.update(source=self.source_id, location=location, raw_text="; ".join(raw), verified=False, note="; ".join(notes))
        return _Candidate(ep, measure, exp, ctl, row, nums, location)

    def _count_candidates(self, m: Measure, ep: str, by_group: dict[str, _Arm], head: str) -> list[_Candidate]:
        if not self._is_count(m):
            self.unmapped.append(f"{head}: {ep} measure is not a count of participants (percentages are never turned into counts)")
            return []
        values = self._per_group(m)
        if not values:
            self.unmapped.append(f"{head}: {ep} measure has {len(m.categories)} categories, not one count per group")
            return []
        groups = [g for g in m.groups if g.id in by_group and g.id in values and g.id in m.denoms]
        for g in m.groups:
            if g not in groups:
                self.unmapped.append(f"{head}: group {g.id} '{_q(g.title, 60)}' matches no arm or has no count and denominator")
        notes_extra = [f"{self._analysis_line(a)}" for a in m.analyses]
        out = []
        if self.design == "single_arm":
            for g in groups:
                arm = by_group[g.id]
                row = {"endpoint": ep, "measure": "proportion", "experimental_arm": arm.id}
                notes = [f"responders of n mapped from '{_q(m.title, 140)}' (count of participants)"] + notes_extra
                self._counts_into(m, row, {}, notes, g.id, None)
                out.append(self._candidate(m, ep, "proportion", arm, None, row, {}, notes, None, [g.id]))
            return out
        exp = [g for g in groups if by_group[g.id].role == "experimental"]
        ctl = [g for g in groups if by_group[g.id].role == "control"]
        if len(exp) != 1 or len(ctl) != 1:
            self.unmapped.append(f"{head}: {ep} counts of {len(exp)} experimental and {len(ctl)} control arms: "
                                 "not one comparison, choose the pair")
            return []
        row = {"endpoint": ep, "measure": "proportion", "experimental_arm": by_group[exp[0].id].id,
               "control_arm": by_group[ctl[0].id].id}
        notes = [f"responders of n mapped from '{_q(m.title, 140)}' (count of participants)"]
        if notes_extra:
            notes.append("analyses: " + " | ".join(notes_extra))
        self._counts_into(m, row, {}, notes, exp[0].id, ctl[0].id)
        return [self._candidate(m, ep, "proportion", by_group[exp[0].id], by_group[ctl[0].id], row, {}, notes, None,
                                [exp[0].id, ctl[0].id])]

    # -- adverse events ------------------------------------------------------------------------
    def adverse_events(self, arms: list[_Arm]) -> list[dict]:
        r = self.rec
        rows: list[dict] = []
        taken: set[str] = set()
        thr = r.ae_threshold
        by_group = {a.ae_group.id: a for a in arms if a.ae_group is not None}
        for a in arms:
            g = a.ae_group
            if g is None:
                continue
            for seriousness, aff, risk in (("serious", g.serious_affected, g.serious_at_risk),
                                           ("other", g.other_affected, g.other_at_risk)):
                if aff is None or aff.count is None:
                    continue
                term = ("serious adverse events" if seriousness == "serious"
                        else f"other (non-serious) adverse events, frequency threshold {thr or 'not given'}%")
                rows.append(self._ae_row(
                    _unique(_local_id("sae" if seriousness == "serious" else "oae", "all", a.id), taken), a, term, "aggregate",
                    aff, risk, g.path, f"{g.id} '{_q(g.title, 60)}': {_fields(aff, risk)}",
                    f"participants with at least one {'serious' if seriousness == 'serious' else 'other (non-serious)'} "
                    f"adverse event; all-cause, as the registry reports them"
                    + (f"; time frame: {_q(r.ae_time_frame, 200)}" if r.ae_time_frame else "")))
            if g.deaths_affected is not None:
                self.unmapped.append(f"deaths (all causes), adverse-event group {g.id} '{_q(g.title, 60)}': "
                                     f"{_fields(g.deaths_affected, g.deaths_at_risk)}")
        for e in r.events:
            for s in e.stats:
                arm = by_group.get(s.group_id)
                if arm is None or s.affected is None or s.affected.count is None:
                    continue
                prefix = "sae" if e.seriousness == "serious" else "oae"
                term = f"{'serious' if e.seriousness == 'serious' else 'non-serious'}: {e.term}"
                bits = [f"{'serious' if e.seriousness == 'serious' else 'other (non-serious)'} adverse event, all-cause"]
                if e.organ_system:
                    bits.append(f"organ system: {e.organ_system}")
                if e.vocabulary:
                    bits.append(f"vocabulary: {e.vocabulary}")
                if e.assessment:
                    bits.append(f"assessment: {e.assessment}")
                rows.append(self._ae_row(
                    _unique(_local_id(prefix, slug(e.term, 30), arm.id), taken), arm, term, "term",
                    s.affected, s.at_risk, s.path,
                    f"'{_q(e.term, 100)}' ({_q(e.organ_system, 80)}) {s.group_id} '{_q(arm.ae_group.title, 60)}': "
                    + _fields(s.affected, s.at_risk, s.events),
                    "; ".join(bits)))
        return rows

    def _ae_row(self, ident, arm: _Arm, term, kind, aff: Val, risk: Val | None, location, raw, note) -> dict:
        return {
            "id": ident,
            "arm": arm.id,
            "term": term,
            "kind": kind,
            "grade_band": "any",
            "treatment_related": False,
            "subjects_affected": aff.count,
            "subjects_at_risk": risk.count if risk is not None else None,
            "source": self.source_id,
            "location": location,
            "raw_text": raw,
            "verified": False,
            "note": note,
        }

    # -- all -----------------------------------------------------------------------------------
    def build(self) -> Draft:
        r = self.rec
        trial = self.trial()
        arms = self.arms()
        if not arms:
            arms = [_Arm("arm", "", None, None, None, None)]
            self.unmapped.append("the record has no arm groups and no results groups: one arm to describe by hand")
        self.roles(arms)
        arm_rows = self.arm_rows(arms, trial["randomised_n"])
        for i, a in enumerate(arms):
            if not a.title:
                arm_rows[i]["regimen"] = None
                self.fill.append(FillIn(f"arms[{i}].regimen", "the regimen as printed"))
                self.inline[f"arms[{i}].regimen"] = "FILL IN: the regimen as printed"
        outcomes = self.outcomes(arms)
        aes = self.adverse_events(arms)
        data = {
            "livemeta_study": 2,
            "trial": trial,
            "sources": [self.source()],
            "arms": arm_rows,
            "outcomes": outcomes,
            "adverse_events": aes,
        }
        header = self._header()
        mapped = "Outcomes mapped where unambiguous (rules: src/livemeta/importers/ctgov.py)."
        notes = [mapped, "Not mapped (for the extractor: copy by hand what applies, never guess):"]
        notes += [f"      {_q(u, 400)}" if u.startswith(" ") else f"  - {_q(u, 400)}" for u in self.unmapped] or ["  (nothing)"]
        before = {
            "outcomes": notes,
            "adverse_events": [f"Adverse events per arm as the registry reports them: all-cause, any grade; 'other' = "
                               f"non-serious events above the {r.ae_threshold or '?'}% frequency threshold."],
        }
        text = render(data, header=header, before=before, inline=self.inline, numbers=self.numbers)
        return Draft(
            nct_id=r.nct_id, layout=r.layout, last_update=r.last_update, source_id=self.source_id, data=data, text=text,
            to_fill=self.fill, to_check=self.check, unmapped=self.unmapped, numbers=dict(self.numbers),
            locations=dict(self.locations),
        )

    def _header(self) -> list[str]:
        r = self.rec
        lines = [
            f"DRAFT study file from ClinicalTrials.gov {r.nct_id} ({r.layout} record, last updated {r.last_update or 'unknown'}),",
            "made by `livemeta import ctgov`. Nothing here is verified: every value is `verified: false` until a",
            "person has checked it against the record (source, location = record path, raw_text = the record's fields).",
            "",
        ]
        if self.fill:
            lines.append("FILL IN before `livemeta validate` (the registry does not give them):")
            lines += [f"  - {f.path}: {f.hint}" for f in self.fill]
        else:
            lines.append("Nothing must be filled in for `livemeta validate` to pass.")
        lines.append("CHECK (judgements and facts the registry lacks): " + ", ".join(self.check) + "; resistance_definitions (none in the registry).")
        n = sum(1 for u in self.unmapped if not u.startswith(" "))
        lines.append(f"{n} items of the record are not mapped: listed as comments above `outcomes:`.")
        return lines


_OUTCOME_ORDER = (
    "id", "endpoint", "measure", "population", "subgroup", "experimental_arm", "control_arm", "estimate", "ci_low",
    "ci_high", "ci_level", "p_value", "experimental_events", "experimental_n", "control_events", "control_n",
    "experimental_median", "control_median", "median_unit", "source", "location", "raw_text", "verified", "note",
)


def draft_from_record(record: Any, *, origin: str | None = None) -> Draft:
    """A draft study file from a ClinicalTrials.gov record (parsed JSON). Pure: no I/O.

    ``origin`` (a file name or URL) is only quoted in the source's note. Raises
    :class:`~livemeta.importers.ctgov_record.RecordError` for what is not a study record.
    """
    return _Builder(parse_record(record), origin).build()
