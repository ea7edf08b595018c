"""Which record to screen next: a project's records and decisions read for the ranking model
(:mod:`livemeta.ranking`), behind ``livemeta screen rank`` and ``livemeta screen next``.

**The records** of a stage are those ``screen export --all`` lists (not duplicates; at full text
those passed to it), their title, abstract and keywords the model's features. **Pending** are those
``screen export`` lists: no final decision at the stage yet (awaiting a reviewer and in conflict
included); for a reviewer, also not decided by that reviewer yet.

**Labels** (what the model learns from), per record at the stage:

- the final decision (``screening_status``: the reviewers the protocol asks for agree, or a
  consensus decision settled it) when it is include (1) or exclude (0);
- else, with a reviewer, that reviewer's own latest decision (include or exclude);
- nothing else: a ``maybe``, a full-text exclusion for ``not_retrieved`` (no judgement of the
  record), a record in conflict or awaiting a second reviewer (the team's view: other reviewers'
  unsettled decisions are not read, so that one reviewer's order does not carry another's
  judgements before they are settled).

They are taken in the order they were made (the stopping aid reads that order): a record at the
time of the reviewer's own decision on it where there is one, else of its latest decision at the
stage (when it was settled).

**What is read**: the decisions committed (the database, as of a revision, as ``screen status``
reads them); with a reviewer, and at the current revision of the project's own database, also the
reviewer's decisions file in the working tree (``screening/decisions/REVIEWER.csv``, checked as
``screen commit`` will check it), whose lines not committed yet (a ``screen next`` session) count.

**The stopping aid** counts the labelled records as screened and the pending ones as unscreened
(Callaghan & Müller-Hansen 2020; :mod:`livemeta.ranking.stopping`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import LivemetaError, ValidationFailed, excerpt
from .files import NOT_RETRIEVED, NOT_RETRIEVED_LABEL, STAGE_NAMES, STAGES, Protocol, parse_decisions, reviewer_file

__all__ = ["ASSUMPTION", "Entry", "RankedRecord", "ScreeningInput", "ScreeningQueue", "ScreeningRanking", "load",
           "stopping_line", "target_line"]


@dataclass(frozen=True)
class Entry:
    """A record to screen, with what a reviewer reads of it."""

    record_id: str
    title: str
    abstract: str
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    year: int | None = None
    journal: str | None = None


@dataclass
class ScreeningInput:
    """What :func:`load` read: the stage's records, the labels in decision order, the pending records."""

    stage: str
    reviewer: str | None
    revision: int
    entries: list[Entry]  # every record of the stage, in `screen export`'s order
    labels: dict[str, int]  # record id -> 1 include / 0 exclude, in the order decided
    pending: list[str]  # in `screen export`'s order
    reasons: dict[str, str]  # the protocol's full-text exclusion reasons by id, not_retrieved last
    reads: str  # what was read, in words
    uncommitted: int = 0  # the reviewer's decisions read from the working tree and not in the database
    decisions_file: str | None = None  # the reviewer's file (project-relative), when read


def _label(decision: str | None, reason: str | None) -> int | None:
    if decision == "include":
        return 1
    if decision == "exclude" and reason != NOT_RETRIEVED:
        return 0
    return None


def load(db: Path, *, stage: str = "ta", reviewer: str | None = None, as_of=None, project=None,
         wait: float = 10.0) -> ScreeningInput:
    """Read the records and decisions of ``stage`` (see the module's docstring). ``project``: the
    :class:`~livemeta.project.Project` whose working tree holds the reviewer's file (read only when
    ``db`` is its database and ``as_of`` is None)."""
    from ..db import connect, resolve_revision, set_as_of
    from ..sql import named

    if stage not in STAGES:
        raise LivemetaError(f"unknown stage {excerpt(str(stage))}: ta (title and abstract) or ft (full text)")
    if reviewer is not None:
        reviewer = reviewer.strip()
        if not reviewer:
            raise LivemetaError("the reviewer's name is empty", hint="--reviewer NAME, as in the decisions files")
    tree = None
    if reviewer is not None and as_of is None and project is not None and Path(db).resolve() == project.database:
        tree = project.screening / reviewer_file(reviewer)
    with connect(db, read_only=True, wait=wait) as con:
        revision = resolve_revision(con, as_of)
        set_as_of(con, revision)
        try:
            rows = con.execute(named("screening_rank"), [stage, reviewer]).fetchall()
            protocol = con.execute(named("view_rows").format(view="screening_protocol")).fetchall()
            screened_as = (dict((r[0], r[1]) for r in con.execute(named("screening_candidates")).fetchall())
                           if tree is not None and tree.is_file() else {})
        finally:
            set_as_of(con, None)
    if not rows:
        if stage == "ta":
            raise LivemetaError(f"no records to screen at revision {revision}: no search records (or all duplicates)",
                                hint="`livemeta search add FILE... -m MESSAGE` records a search run")
        raise LivemetaError(f"no records to screen at the full-text stage at revision {revision}: none was included "
                            "(or marked maybe) at title and abstract", hint="screen the titles and abstracts first "
                                                                            "(`livemeta screen next --stage ta`)")
    reasons = dict(sorted((i, label) for item, i, label in protocol if item == "exclusion_reason" and i != NOT_RETRIEVED))
    reasons[NOT_RETRIEVED] = NOT_RETRIEVED_LABEL

    own: dict[str, tuple] = {}  # record -> (decision, reason, time, line): the reviewer's latest
    for rid, *_, own_decision, own_reason, own_at in rows:
        if own_decision is not None:
            own[rid] = (own_decision, own_reason, own_at, 0)
    uncommitted, rel = 0, None
    if tree is not None:
        rel = project.rel(tree)
        if tree.is_file():
            found, problems = parse_decisions(tree.read_bytes(), rel, Protocol(reasons=dict(reasons)))
            if problems:
                raise ValidationFailed(problems)
            stored, ids = dict(own), {r[0] for r in rows}
            for d in found:
                target = screened_as.get(d.record_id)
                if d.reviewer != reviewer or d.stage != stage or target not in ids:
                    continue
                if target not in stored or d.decided_at > stored[target][2]:
                    uncommitted += 1
                have = own.get(target)
                if have is None or (d.decided_at, d.line) >= (have[2], have[3]):
                    own[target] = (d.decision, d.reason, d.decided_at, d.line)

    entries, labelled, pending = [], [], []
    for i, (rid, title, abstract, keywords, authors, year, journal, is_pending, final, final_reason, settled_at,
            *_) in enumerate(rows):
        entries.append(Entry(rid, title or "", abstract or "", tuple(keywords or ()), tuple(authors or ()), year,
                             journal))
        mine = own.get(rid) if reviewer is not None else None
        label = _label(final, final_reason)
        if label is None and mine is not None:
            label = _label(mine[0], mine[1])
        if label is not None:
            when = (mine[2], mine[3]) if mine is not None else (settled_at, 0)
            labelled.append((when, i, rid, label))
        elif is_pending and mine is None:
            pending.append(rid)
    labelled.sort(key=lambda t: (t[0][0] or dt.datetime.min, t[0][1], t[1]))
    labels = {rid: label for _, _, rid, label in labelled}

    committed = f"the decisions committed up to revision {revision}"
    if reviewer is None:
        reads = f"{committed} (as `screen status` reads them; decisions not committed are not read)"
    elif tree is not None:
        state = (f"{uncommitted} decision{'s' if uncommitted != 1 else ''} not committed" if tree.is_file()
                 else "not written yet")
        reads = f"{committed}, and {reviewer}'s decisions file in the working tree ({rel}: {state})"
    else:
        why = ("an earlier revision" if as_of is not None else "no evidence project here" if project is None
               else "the database is not the project's own")
        reads = f"{committed} ({why}: no decisions file of the working tree is read)"
    return ScreeningInput(stage, reviewer, revision, entries, labels, pending, reasons, reads, uncommitted, rel)


def stopping_line(stop) -> str:
    """The stopping aid in one line, as ``screen rank`` and ``screen next`` print it."""
    conf = f"{stop.confidence * 100:g}%"
    n = stop.includes_left_upper
    head = f"estimated at most {n} include{'s' if n != 1 else ''} left ({conf} confidence, Callaghan & Müller-Hansen 2020)"
    if stop.recall_lower is None:
        return head + "; recall not estimable yet (no include found)"
    recall = math.floor(stop.recall_lower * 1000) / 10  # never rounded up
    return head + f"; recall at least {recall:.1f}%"


def target_line(stop) -> str:
    """Whether the recall target is reached, with the p value."""
    target = f"{stop.recall_target * 100:g}%"
    alpha = 1 - stop.confidence
    if stop.target_reached:
        return f"the {target} recall target is reached (p = {stop.p_value:.3g} < {alpha:.2g})"
    return f"the {target} recall target is not shown to be reached (p = {stop.p_value:.3g})"


ASSUMPTION = ("a statistical estimate, not a promise: it assumes the records were screened in the model's order "
              "(it means nothing for decisions made in another order, e.g. imported from another tool)")


@dataclass(frozen=True)
class RankedRecord:
    rank: int
    record_id: str
    score: float | None
    entry: Entry


@dataclass(frozen=True)
class ScreeningRanking:
    """The pending records of a stage, likeliest include first, with the stopping aid."""

    stage: str
    reviewer: str | None
    revision: int
    reads: str
    ranking: object  # livemeta.ranking.Ranking
    records: list[RankedRecord]  # the first ``limit`` (all when no limit)
    counts: dict

    @property
    def stopping(self):
        return self.ranking.stopping

    @property
    def random_order(self) -> bool:
        """No include decided yet: a seeded random order, not a model's."""
        return self.ranking.scores is None

    @property
    def ordered_by(self) -> str:
        if self.random_order:
            return "seeded random order: no include decided yet, so no model to rank with"
        return "the ranking model, retrained on the decisions read"

    def to_dict(self) -> dict:
        stop = self.stopping.to_dict()
        stop.update(statement=stopping_line(self.stopping), target=target_line(self.stopping), assumption=ASSUMPTION)
        return {
            "stage": self.stage, "stage_name": STAGE_NAMES[self.stage], "reviewer": self.reviewer,
            "revision": self.revision, "reads": self.reads, "ordered_by": self.ordered_by,
            "model": self.ranking.model, "counts": dict(self.counts), "stopping": stop,
            "records": [{"rank": r.rank, "record_id": r.record_id, "score": r.score, "title": r.entry.title}
                        for r in self.records],
        }


class ScreeningQueue:
    """A stage's records and decisions held for a screening session: :meth:`rank` retrains the model
    on the labels so far; :meth:`record` adds a decision made, :meth:`skip` passes a record over for
    the session. The features are computed once (the first :meth:`rank`)."""

    def __init__(self, data: ScreeningInput, seed: int = 0):
        self.data = data
        self.seed = seed
        self.labels = dict(data.labels)
        self.pending = dict.fromkeys(data.pending)
        self.skipped: dict[str, None] = {}
        self.entries = {e.record_id: e for e in data.entries}
        self._ranker = None

    @property
    def ranker(self):
        if self._ranker is None:
            from ..ranking.model import Ranker
            from ..ranking.records import Record

            self._ranker = Ranker([Record(e.record_id, e.title, e.abstract, e.keywords) for e in self.data.entries],
                                  seed=self.seed)
        return self._ranker

    def rank(self, limit: int | None = None) -> ScreeningRanking:
        """Retrain on the labels so far and order the pending records (skipped ones left out of the
        order, still unscreened for the stopping aid)."""
        ranking = self.ranker.rank(self.labels, candidates=list(self.pending))
        scores = ranking.scores if ranking.scores is not None else [None] * len(ranking.order)
        kept = [(rid, s) for rid, s in zip(ranking.order, scores) if rid not in self.skipped]
        if limit is not None:
            kept = kept[:limit]
        records = [RankedRecord(i, rid, s, self.entries[rid]) for i, (rid, s) in enumerate(kept, 1)]
        includes = sum(self.labels.values())
        n, decided, pending = len(self.entries), len(self.labels), len(self.pending) - len(self.skipped)
        counts = {"records": n, "decided": decided, "includes": includes, "excludes": decided - includes,
                  "pending": pending, "skipped": len(self.skipped), "other": n - decided - len(self.pending)}
        d = self.data
        return ScreeningRanking(d.stage, d.reviewer, d.revision, d.reads, ranking, records, counts)

    def record(self, record_id: str, decision: str, reason: str | None = None) -> None:
        """A decision made on a pending record: it leaves the queue, and include or exclude is a label
        (the latest)."""
        self.pending.pop(record_id, None)
        self.skipped.pop(record_id, None)
        self.labels.pop(record_id, None)
        label = _label(decision, reason)
        if label is not None:
            self.labels[record_id] = label

    def skip(self, record_id: str) -> None:
        if record_id in self.pending:
            self.skipped[record_id] = None

