"""Counting the screening: the PRISMA 2020 flow of a version from its records, and progress per revision.

:func:`flow_counts` counts the records of the search runs a version added (those added after the
previous version's revision, up to its own) as the ``screening_flow`` view places them, as of the
version's revision: records identified per source, duplicates removed, screened, excluded at
title/abstract, awaiting screening, reports sought, not retrieved, assessed, excluded at full text
with reasons, awaiting a full-text decision, reports and studies included (a study is the trial an
included record reports; a record not linked to a trial counts as its own study), and new studies
(not included at the previous version). Every box is a count of rows; :meth:`FlowFromRecords.checks`
says that they add up.

:func:`progress` says what a revision did to the screening (``livemeta log``), and
:func:`screening_diff` how it moved between two revisions (``livemeta diff``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import duckdb

from ..db.revisions import set_as_of
from ..sql import named


@dataclass(frozen=True)
class FlowFromRecords:
    """One version's PRISMA 2020 counts, counted from its search records."""

    runs: tuple[str, ...]
    identified: dict[str, int]  # by source, in order of appearance
    duplicates: int
    ta_excluded: int
    ta_pending: int
    not_retrieved: int
    ft_excluded: dict[str, int]  # by reason
    ft_pending: int
    included: int  # reports (records) included
    studies: tuple[str, ...]  # trial ids (or record ids of reports not linked to a trial)
    new_studies: tuple[str, ...]

    @property
    def identified_total(self) -> int:
        return sum(self.identified.values())

    @property
    def screened(self) -> int:
        return self.identified_total - self.duplicates

    @property
    def sought(self) -> int:
        return self.not_retrieved + self.assessed + self.ft_pending

    @property
    def assessed(self) -> int:
        return sum(self.ft_excluded.values()) + self.included

    def checks(self) -> list[str]:
        """The PRISMA identities, each as 'a = b + c' with its numbers; a failed one starts with 'FAILS'."""
        rows = [
            ("records identified", self.identified_total, ("duplicates removed", self.duplicates),
             ("records screened", self.screened)),
            ("records screened", self.screened, ("excluded at screening", self.ta_excluded),
             ("awaiting screening", self.ta_pending), ("reports sought", self.sought)),
            ("reports sought", self.sought, ("not retrieved", self.not_retrieved), ("assessed", self.assessed),
             ("awaiting a full-text decision", self.ft_pending)),
            ("reports assessed", self.assessed, ("excluded with reasons", sum(self.ft_excluded.values())),
             ("reports included", self.included)),
        ]
        out = []
        for name, total, *parts in rows:
            ok = total == sum(n for _, n in parts)
            out.append(("" if ok else "FAILS ") + f"{name} {total} = " + " + ".join(f"{p} {n}" for p, n in parts))
        return out


def flow_counts(con: duckdb.DuckDBPyConnection, revision: int, previous: int | None,
                included_before: set[str] = frozenset()) -> FlowFromRecords | None:
    """The counts of the runs added after revision ``previous`` (None: from the start) up to
    ``revision``, as of ``revision``; None when there are no such runs (then the flow's search boxes
    are 'not recorded')."""
    set_as_of(con, revision)
    try:
        rows = con.execute(named("prisma_flow_rows"), [previous or 0]).fetchall()
    finally:
        set_as_of(con, None)
    if not rows:
        return None
    identified: Counter = Counter()
    flows: Counter = Counter()
    reasons: Counter = Counter()
    runs: dict[str, None] = {}
    studies: dict[str, None] = {}
    for run_id, source, flow, reason, trial_id, record_id in rows:
        runs.setdefault(run_id)
        identified[source] += 1
        flows[flow] += 1
        if flow == "ft_excluded":
            reasons[reason] += 1
        if flow == "included":
            studies.setdefault(trial_id or record_id)
    return FlowFromRecords(
        tuple(runs), dict(identified), flows["duplicate"], flows["ta_excluded"], flows["ta_pending"],
        flows["not_retrieved"], dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))), flows["ft_pending"],
        flows["included"], tuple(studies), tuple(s for s in studies if s not in included_before),
    )


# ---------------------------------------------------------------------------------------------
# Progress per revision (log) and between revisions (diff)
# ---------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """The screening as of one revision: what the revision added and where the stages stand."""

    revision: int
    runs_added: int = 0
    records_added: int = 0
    decisions_added: dict[str, int] = field(default_factory=dict)  # stage -> n
    decisions_withdrawn: int = 0
    stages: dict[str, dict] = field(default_factory=dict)  # stage -> screening_summary row
    kappa: dict[str, tuple[int, float | None]] = field(default_factory=dict)  # stage -> (pairs, kappa)

    @property
    def changed(self) -> bool:
        return bool(self.runs_added or self.records_added or self.decisions_added or self.decisions_withdrawn)

    def line(self) -> str:
        parts = []
        if self.runs_added or self.records_added:
            parts.append(f"+{self.runs_added} search run{'s' if self.runs_added != 1 else ''} "
                         f"({self.records_added} records)")
        if self.decisions_added:
            n = sum(self.decisions_added.values())
            parts.append(f"+{n} decision{'s' if n != 1 else ''} ("
                         + ", ".join(f"{s} {k}" for s, k in sorted(self.decisions_added.items(), reverse=True)) + ")")
        if self.decisions_withdrawn:
            parts.append(f"{self.decisions_withdrawn} withdrawn")
        for stage in ("ta", "ft"):
            s = self.stages.get(stage)
            if not s or not s["records"]:
                continue
            done = s["included"] + s["excluded"] + s["maybe"]
            text = f"{stage} {done}/{s['records']} decided"
            if s["conflicts"]:
                text += f", {s['conflicts']} conflict{'s' if s['conflicts'] != 1 else ''}"
            if stage in self.kappa and self.kappa[stage][1] is not None:
                text += f", kappa {self.kappa[stage][1]:.2f}"
            parts.append(text)
        return "; ".join(parts)


def _summary(con, revision: int) -> tuple[dict, dict]:
    set_as_of(con, revision)
    try:
        cur = con.execute(named("screening_summary"))
        cols = [d[0] for d in cur.description]
        stages = {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}
        kappa = {stage: (pairs, k) for stage, pairs, _, _, k in con.execute(named("view_rows").format(view="screening_agreement")).fetchall()}
    finally:
        set_as_of(con, None)
    return stages, kappa


def progress(con: duckdb.DuckDBPyConnection, revision: int) -> Progress | None:
    """What ``revision`` did to the searches and the screening, and where the stages stand after it;
    None when it changed neither."""
    row = con.execute(named("screening_progress"), [revision]).fetchone()
    runs, records, ta, ft, withdrawn = row
    p = Progress(revision, runs, records, {k: v for k, v in (("ta", ta), ("ft", ft)) if v}, withdrawn)
    if not p.changed:
        return None
    p.stages, p.kappa = _summary(con, revision)
    return p


def screening_diff(con: duckdb.DuckDBPyConnection, from_r: int, to_r: int) -> dict | None:
    """The screening at two revisions, per stage: records, decided, included, excluded, conflicts
    and kappa at each (None when neither has search records)."""
    a, ka = _summary(con, from_r)
    b, kb = _summary(con, to_r)
    if not a and not b:
        return None
    out = {}
    for stage in ("ta", "ft"):
        old, new = a.get(stage), b.get(stage)
        if old is None and new is None:
            continue
        keys = ("records", "included", "excluded", "maybe", "undecided", "awaiting", "conflicts", "resolved")
        out[stage] = {k: ((old or {}).get(k, 0), (new or {}).get(k, 0)) for k in keys}
        out[stage]["kappa"] = (ka.get(stage, (0, None))[1], kb.get(stage, (0, None))[1])
    return out
