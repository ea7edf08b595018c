"""De-duplication of search records: within a run, across runs and against the trials in the database.

Records are the same report (relation ``duplicate``) when, in this order:

1. their **DOI** is the same (normalised, :mod:`livemeta.search.ids`);
2. their **PMID** is the same;
3. both are **registry records** of the same NCT id (ClinicalTrials.gov exports);
4. their **titles** are alike: normalised titles (NFKD without accents, case-folded, punctuation as
   spaces) with a similarity of at least :data:`TITLE_SIMILARITY` (rapidfuzz's normalised
   Indel similarity) and the same numbers in the same order ("part 1" is not "part 2", "cohort A7"
   not "cohort A8"), the same year or one of them without it, and the same first author's surname or
   one of them without authors; titles under :data:`MIN_TITLE` characters must be equal, with year
   and first author present and equal;
5. a person merged them (``merge`` in ``searches/duplicates.yaml``).

Identifiers overrule titles: two records with different DOIs (or PMIDs) are never merged by their
titles, and two records with one DOI (or PMID) but unlike titles (rapidfuzz's partial ratio, which
forgives a subtitle one database drops, under :data:`ID_TITLE_FLOOR`, as when a database gives
conference abstracts the DOI of their supplement) are not merged but shown as kept apart. A pair a person **kept apart** (``keep_apart`` in ``duplicates.yaml``) never ends in one
group, however other pairs would connect it: every merge is reversible by a committed decision.

Each group of duplicates keeps its first record (the earliest run, then the position in it): the
others link to it with the reason of their strongest match. A group whose DOI or PMID is a source of
a trial in the database **before the run was added** is a duplicate of that report (already
screened); when the trial came later, or matches by an NCT id (in the record's ids, secondary ids or
abstract), the group is linked to the trial as ``same_trial``: a report of a known trial, still
screened. Groups that share an NCT id link to the first of them as ``same_trial`` too (reports of
one trial).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

#: titles at least this similar (0-1, rapidfuzz ratio / 100) are the same report when year and
#: first author agree
TITLE_SIMILARITY = 0.90
#: two records with one DOI or PMID whose titles are less alike than this (partial ratio / 100) are kept apart
ID_TITLE_FLOOR = 0.75
#: shorter normalised titles merge only when equal, with year and first author present and equal
MIN_TITLE = 25
#: a blocking group larger than this is compared with rapidfuzz's vectorised cdist
_CDIST_FROM = 64

PRIORITY = {"doi": 0, "pmid": 1, "nct_id": 2, "title": 3, "manual": 4}


@dataclass(frozen=True)
class DedupRecord:
    """What de-duplication reads of a record; ``order`` sorts the records (first = kept)."""

    record_id: str
    order: tuple
    first_revision: int  # the revision its run was added
    title: str | None
    year: int | None
    first_author: str | None
    doi: str | None
    pmid: str | None
    nct_ids: tuple[str, ...] = ()
    registry: bool = False  # a registry record (its NCT id is its identity)


@dataclass(frozen=True)
class TrialIdentity:
    """An identifier of a trial in the database and the first revision it was there."""

    trial_id: str
    kind: str  # doi | pmid | nct_id
    value: str
    since: int


@dataclass(frozen=True)
class Override:
    """A person's decision from ``searches/duplicates.yaml``: ``merge`` or ``keep_apart``."""

    action: str
    a: str
    b: str
    reason: str
    by: str | None = None


@dataclass(frozen=True)
class Link:
    """One row of ``history.record_links``."""

    record_id: str
    target_kind: str  # record | trial
    target: str
    relation: str  # duplicate | same_trial
    status: str  # merged | kept_apart
    reason: str  # doi | pmid | nct_id | title | manual
    detail: str
    score: float | None = None
    decided_by: str | None = None

    def key(self) -> tuple:
        return (self.record_id, self.target, self.relation, self.status)


def normal_title(title: str | None) -> str:
    """A title compared: NFKD without combining marks, case-folded, non-alphanumerics as spaces."""
    if not title:
        return ""
    t = title
    if not t.isascii():
        t = unicodedata.normalize("NFKD", t)
        t = "".join(ch for ch in t if not unicodedata.combining(ch))
    t = t.casefold()
    if "<" in t:
        t = _MARKUP.sub(" ", t)  # markup some exports keep (<sup>, <i>)
    return " ".join(_NON_ALNUM.sub(" ", t).split())


_NUMBERS = re.compile(r"\d+")
_MARKUP = re.compile(r"<[^>]{1,20}>")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")


def surname(author: str | None) -> str | None:
    """The first author's surname, normalised (``"Liu R."`` -> ``liu``, ``"de Hoon, M J L"`` -> ``dehoon``)."""
    if not author:
        return None
    a = author.strip()
    if "," in a:
        name = a.split(",", 1)[0]
    else:
        parts = a.split()
        if len(parts) > 1 and _INITIALS.match(parts[-1].replace(".", "") or "x"):
            name = " ".join(parts[:-1])
        elif len(parts) > 1 and _INITIALS.match(parts[0].replace(".", "") or "x"):
            name = " ".join(parts[1:])
        else:
            name = parts[-1] if parts else a
    n = normal_title(name).replace(" ", "")
    return n or None


class _Groups:
    """Union-find with cannot-link pairs (a person's ``keep_apart``)."""

    def __init__(self, ids: list[str]):
        self.parent = {i: i for i in ids}
        self.cannot: dict[str, set[str]] = defaultdict(set)

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def forbid(self, a: str, b: str) -> None:
        self.cannot[a].add(b)
        self.cannot[b].add(a)

    def blocked(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        return any(self.find(y) == rb for x in self._members(ra) for y in self.cannot.get(x, ()))

    def _members(self, root: str):
        # members that carry a cannot-link pair (few): checked lazily
        return [x for x in self.cannot if self.find(x) == root]

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.cannot and self.blocked(a, b):
            return False
        self.parent[rb] = ra
        return True


def _similarity(a: str, b: str) -> float:
    from rapidfuzz.fuzz import ratio

    return ratio(a, b) / 100.0


def _compatible(r: DedupRecord, s: DedupRecord, sur: dict[str, str | None]) -> bool:
    if r.doi and s.doi and r.doi != s.doi:
        return False
    if r.pmid and s.pmid and r.pmid != s.pmid:
        return False
    if r.year is not None and s.year is not None and r.year != s.year:
        return False
    a, b = sur[r.record_id], sur[s.record_id]
    return not (a and b and a != b)


def dedup(records: list[DedupRecord], trials: list[TrialIdentity] = (), overrides: list[Override] = ()) -> list[Link]:
    """The links between ``records`` (and to ``trials``) as the module's docstring defines them,
    sorted by record id."""
    by_id = {r.record_id: r for r in records}
    order = sorted(records, key=lambda r: r.order)
    rank = {r.record_id: i for i, r in enumerate(order)}
    groups = _Groups([r.record_id for r in order])
    titles = {r.record_id: normal_title(r.title) for r in records}
    sur = {r.record_id: surname(r.first_author) for r in records}
    kept_apart: dict[tuple[str, str], Override] = {}
    for o in overrides:
        if o.a in by_id and o.b in by_id and o.action == "keep_apart":
            groups.forbid(o.a, o.b)
            kept_apart[tuple(sorted((o.a, o.b)))] = o

    edges: list[tuple[int, str, str, str, float | None]] = []  # priority, a, b, detail, score
    notes: list[Link] = []

    def by_key(key_of, reason: str):
        buckets: dict[str, list[str]] = defaultdict(list)
        for r in order:
            k = key_of(r)
            if k:
                buckets[k].append(r.record_id)
        for k, members in buckets.items():
            if len(members) < 2:
                continue
            first = members[0]
            for other in members[1:]:
                ta, tb = titles[first], titles[other]
                if ta and tb and reason in ("doi", "pmid"):
                    from rapidfuzz.fuzz import partial_ratio

                    score = partial_ratio(ta, tb) / 100.0
                    if score < ID_TITLE_FLOOR:
                        notes.append(Link(other, "record", first, "duplicate", "kept_apart", reason,
                                          f"same {reason.upper()} {k}, unlike titles (similarity {score:.2f}): not merged",
                                          round(score, 4), "livemeta"))
                        continue
                edges.append((PRIORITY[reason], other, first, f"{reason.replace('_', ' ')} {k}", None))

    by_key(lambda r: r.doi, "doi")
    by_key(lambda r: r.pmid, "pmid")
    by_key(lambda r: r.nct_ids[0] if r.registry and r.nct_ids else None, "nct_id")
    _title_edges(order, titles, sur, edges)
    for o in overrides:
        if o.action == "merge" and o.a in by_id and o.b in by_id:
            a, b = sorted((o.a, o.b), key=rank.__getitem__)
            edges.append((PRIORITY["manual"], b, a, f"merged by {o.by or 'a reviewer'}: {o.reason}", None))

    edges.sort(key=lambda e: (e[0], rank[e[1]], rank[e[2]]))
    best: dict[str, tuple] = {}
    for prio, a, b, detail, score in edges:
        pair = tuple(sorted((a, b)))
        if pair in kept_apart:
            continue
        if groups.union(b, a):
            for x, y in ((a, b), (b, a)):
                if x not in best or (prio, rank[y]) < (best[x][0], rank[best[x][1]]):
                    best[x] = (prio, y, detail, score)

    members: dict[str, list[str]] = defaultdict(list)
    for r in order:
        members[groups.find(r.record_id)].append(r.record_id)
    links: list[Link] = list(notes)
    for o in kept_apart.values():
        a, b = sorted((o.a, o.b), key=rank.__getitem__)
        links.append(Link(b, "record", a, "duplicate", "kept_apart", "manual",
                          f"kept apart by {o.by or 'a reviewer'}: {o.reason}", None, o.by))
    reason_name = {v: k for k, v in PRIORITY.items()}
    for root, ms in members.items():
        first = ms[0]
        for m in ms[1:]:
            prio, partner, detail, score = best[m]
            via = "" if partner == first else f" (via {partner})"
            links.append(Link(m, "record", first, "duplicate", "merged", reason_name[prio], detail + via, score,
                              "livemeta" if prio != PRIORITY["manual"] else None))
    links += _trial_links(members, by_id, trials)
    return sorted(links, key=lambda link: (link.record_id, link.target, link.relation, link.status))


def _title_edges(order: list[DedupRecord], titles: dict, sur: dict, edges: list) -> None:
    """Candidate pairs by blocks (year + first author; the title's first 24 characters), kept when
    their titles are alike and nothing contradicts them."""
    blocks: dict[tuple, list[DedupRecord]] = defaultdict(list)
    for r in order:
        t = titles[r.record_id]
        if not t:
            continue
        blocks[("p", t[:24])].append(r)
        if r.year is not None and sur[r.record_id]:
            blocks[("ya", r.year, sur[r.record_id])].append(r)
    seen: set[tuple[str, str]] = set()
    for members in blocks.values():
        if len(members) < 2:
            continue
        for i, j, score in _alike_pairs(members, titles):
            r, s = members[i], members[j]
            pair = (r.record_id, s.record_id)
            if pair in seen:
                continue
            seen.add(pair)
            ta, tb = titles[r.record_id], titles[s.record_id]
            if _NUMBERS.findall(ta) != _NUMBERS.findall(tb):
                continue
            if min(len(ta), len(tb)) < MIN_TITLE:
                if ta != tb or r.year is None or r.year != s.year or not sur[r.record_id] or \
                        sur[r.record_id] != sur[s.record_id]:
                    continue
            if not _compatible(r, s, sur):
                continue
            edges.append((PRIORITY["title"], s.record_id, r.record_id,
                          f"title similarity {score:.2f}, year {r.year or s.year or 'n/a'}, first author "
                          f"{sur[r.record_id] or sur[s.record_id] or 'n/a'}", round(score, 4)))


def _alike_pairs(members: list[DedupRecord], titles: dict) -> list[tuple[int, int, float]]:
    """(i, j, similarity) with i < j for the pairs of a block whose titles reach TITLE_SIMILARITY."""
    texts = [titles[m.record_id] for m in members]
    out = []
    if len(members) < _CDIST_FROM:
        from rapidfuzz.fuzz import ratio

        cutoff = TITLE_SIMILARITY * 100
        for i in range(len(texts)):
            for j in range(i + 1, len(texts)):
                s = ratio(texts[i], texts[j], score_cutoff=cutoff)
                if s:
                    out.append((i, j, s / 100.0))
        return out
    import numpy as np
    from rapidfuzz.fuzz import ratio
    from rapidfuzz.process import cdist

    scores = cdist(texts, texts, scorer=ratio, score_cutoff=TITLE_SIMILARITY * 100, dtype=np.uint8, workers=1)
    ii, jj = np.nonzero(np.triu(scores, k=1))
    for i, j in zip(ii.tolist(), jj.tolist()):
        out.append((i, j, _similarity(texts[i], texts[j])))
    return out


def _trial_links(members: dict[str, list[str]], by_id: dict[str, DedupRecord], trials: list[TrialIdentity]) -> list[Link]:
    """Each group's link to the trials of the database, and between groups sharing an NCT id."""
    index: dict[tuple[str, str], list[TrialIdentity]] = defaultdict(list)
    for t in trials:
        index[(t.kind, t.value)].append(t)
    out: list[Link] = []
    first_by_nct: dict[str, str] = {}
    for root, ms in sorted(members.items(), key=lambda kv: by_id[kv[1][0]].order):
        first = ms[0]
        rec = by_id[first]
        dois = {by_id[m].doi for m in ms if by_id[m].doi}
        pmids = {by_id[m].pmid for m in ms if by_id[m].pmid}
        ncts = list(dict.fromkeys(n for m in ms for n in by_id[m].nct_ids))
        found: dict[str, tuple[str, str, bool]] = {}  # trial -> (reason, value, known before the run)
        for kind, values in (("doi", sorted(dois)), ("pmid", sorted(pmids))):
            for v in values:
                for t in index.get((kind, v), ()):
                    before = t.since < rec.first_revision
                    old = found.get(t.trial_id)
                    if old is None or (before and not old[2]):
                        found[t.trial_id] = (kind, v, before)
        duplicate_of = sorted((tid for tid, (_, _, before) in found.items() if before))
        if duplicate_of:
            tid = duplicate_of[0]
            kind, v, _ = found[tid]
            more = f"; also {', '.join(duplicate_of[1:])}" if len(duplicate_of) > 1 else ""
            out.append(Link(first, "trial", tid, "duplicate", "merged", kind,
                            f"{kind.upper()} {v} is a source of trial {tid} in the database before this run{more}",
                            None, "livemeta"))
            continue
        same = {tid: f"{kind.upper()} {v}" for tid, (kind, v, _) in found.items()}
        for n in ncts:
            for t in index.get(("nct_id", n), ()):
                same.setdefault(t.trial_id, f"NCT id {n}")
        for tid, what in sorted(same.items()):
            reason = "nct_id" if what.startswith("NCT") else what.split()[0].lower()
            out.append(Link(first, "trial", tid, "same_trial", "merged", reason,
                            f"{what}: a report of trial {tid}", None, "livemeta"))
        for n in ncts:
            other = first_by_nct.setdefault(n, first)
            if other != first:
                out.append(Link(first, "record", other, "same_trial", "merged", "nct_id",
                                f"NCT id {n}: a report of the same trial", None, "livemeta"))
                break
    return out
