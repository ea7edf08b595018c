"""``livemeta diff``: what changed between two revisions, and how the pooled estimates moved.

Evidence rows are compared through the views read as of each revision, matched on their natural
keys (trial, then the local id of each arm, outcome, ...), only for the trials whose version
differs. Pooled estimates are the ones stored for each revision (``history.pooled_estimates``: the
newest stored at or before it); an analysis without a stored result is recomputed from the rows as
they were (:class:`EstimateHistory`). The overall result of each analysis is compared, and for subgroup
analyses the test for subgroup differences (flagged when it crosses p = 0.05).

**What moved an estimate.** Only a change of the evidence moves a conclusion. An analysis whose
specification is the same at both revisions is flagged (direction, significance, a sequential
boundary, ...) only when evidence changed between them. An analysis added, removed or changed (what
it pools or how: view, filters, method, monitoring, ...) is listed as such, never as a conclusion
change; when the evidence changed too, the analysis as it is at the later revision is computed on
the earlier evidence, and what the evidence did to it is flagged. A revision that changed the
analyses only therefore shows what changed in the analyses and no moved estimate.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import duckdb

from ..db.revisions import resolve_revision
from ..errors import LivemetaError
from ..words import count

if TYPE_CHECKING:  # (annotations only: log and diff of stored estimates need no pandas)
    import pandas as pd

# view -> natural key within a trial; fields never compared (bookkeeping)
TABLES = {
    "trials": ("trial_id",),
    "sources": ("trial_id", "source_id"),
    "arms": ("trial_id", "arm_id"),
    "resistance_definitions": ("trial_id", "definition_id"),
    "outcomes": ("trial_id", "outcome_id"),
    "adverse_events": ("trial_id", "ae_id"),
    "risk_of_bias": ("trial_id", "assessment_id"),
}
_IGNORED = {"valid_from", "valid_to"}


@dataclass(frozen=True)
class FieldChange:
    table: str
    key: str
    field: str
    old: object
    new: object
    source: str | None


@dataclass(frozen=True)
class TrialChange:
    trial_id: str
    name: str
    kind: str  # added | removed | corrected | new data cut
    changes: list[FieldChange] = field(default_factory=list)
    rows_added: list[str] = field(default_factory=list)
    rows_removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AnalysisChange:
    analysis: str
    measure: str
    old: dict | None
    new: dict | None
    flags: list[str]  # what the evidence did to it (see the module's docstring)
    change: str | None = None  # the analysis itself: 'added', 'removed', 'changed: method, monitoring'
    #: an analysis that changed, on the earlier revision's evidence (when the evidence changed too)
    evidence_before: dict | None = None

    def shown(self, d: dict | None) -> str:
        """An estimate as diff prints it."""
        return _est(d, self.measure)


@dataclass(frozen=True)
class RevisionInfo:
    """One revision of the range a diff covers: what kind of change it is and the review's note."""

    revision: int
    created_at: str
    author: str
    kind: str  # 'evidence', 'analyses only', ... (Revision.label)
    note: str | None
    changed_files: list[str]
    changes: list[str] | None = None  # the kinds of project file it changed (None: not recorded)

    def line(self) -> str:
        files = f" ({', '.join(self.changed_files)})" if self.changed_files else ""
        # every line of the note: a merge's note is one line per commit it brings (each a note of its own)
        note = " ".join(line.strip() for line in self.note.splitlines() if line.strip()) if self.note else "(no note)"
        return f"revision {self.revision} — {self.kind}{files} — {self.created_at}, {self.author} — {note}"


@dataclass(frozen=True)
class RevisionDiff:
    from_revision: int
    to_revision: int
    trials: list[TrialChange]
    analyses: list[AnalysisChange]
    revisions: list[RevisionInfo] = field(default_factory=list)  # those after from_revision, up to to_revision
    screening: dict | None = None  # stage -> {count: (from, to)} (livemeta.screening.counts.screening_diff)

    @property
    def evidence_unchanged(self) -> bool:
        """No revision of the range changed the evidence (each changed the analyses, say, only)."""
        return bool(self.revisions) and all(r.changes is not None and "evidence" not in r.changes
                                            for r in self.revisions)

    def spec_changes(self) -> dict[str, list[str]]:
        """The analyses added, changed and removed in the range: {'added': [...], ...} (present keys only)."""
        out: dict[str, list[str]] = {}
        for a in self.analyses:
            if a.change:
                what, _, detail = a.change.partition(": ")
                out.setdefault(what, []).append(f"{a.analysis} ({detail})" if detail else a.analysis)
        return out

    def to_dict(self) -> dict:
        return _clean(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str)

    def to_markdown(self) -> str:
        out = [f"# Changes from revision {self.from_revision} to revision {self.to_revision}", ""]
        if self.revisions:
            out += ["## Revisions", ""]
            out += [f"- {r.line()}" for r in self.revisions]
            if self.evidence_unchanged:
                out += ["", "The evidence did not change: no estimate moved because of evidence, and no conclusion "
                            "changed. What changed in the analyses is listed below."]
            out.append("")
        out += ["## Trials", ""]
        if not self.trials:
            out.append("No trial was added, removed or superseded.")
        for t in self.trials:
            out.append(f"- **{t.name}** (`{t.trial_id}`): {t.kind}")
            for c in t.changes:
                src = f" (source: {c.source})" if c.source else ""
                out.append(f"  - {c.table} `{c.key}` {c.field}: {_show(c.old)} → {_show(c.new)}{src}")
            for r in t.rows_added:
                out.append(f"  - added {r}")
            for r in t.rows_removed:
                out.append(f"  - removed {r}")
        specs = self.spec_changes()
        if specs:
            out += ["", "## Analyses changed", ""]
            out += [f"- {what}: {', '.join(ids)}" for what, ids in specs.items()]
        out += ["", "## Pooled estimates", ""]
        changed = [a for a in self.analyses if a.flags]
        out.append("| analysis | before | after | k | τ² | I² | flags |")
        out.append("|---|---|---|---|---|---|---|")
        for a in self.analyses:
            flags = ", ".join(_flag_text(a, f) for f in a.flags)
            if a.change:
                flags = f"analysis {a.change}" + (f"; the evidence: {flags}" if flags else "")
            out.append(
                f"| {a.analysis} | {_est(a.old, a.measure)} | {_est(a.new, a.measure)} | {_pair(a, 'k', '{}')} "
                f"| {_pair(a, 'tau2', PRINTED['tau2'])} | {_pair(a, 'i2', PRINTED['i2'] + '%')} "
                f"| {flags or '—'} |"
            )
        out += ["", f"{len(changed)} of {count(len(self.analyses), 'analysis')} moved with the evidence"
                    + (f"; {sum(1 for a in self.analyses if a.change)} changed themselves." if specs else ".")]
        recomputed = sorted({a.analysis for a in self.analyses for d in (a.old, a.new) if d and d.get("recomputed")})
        if recomputed:
            out.append(f"Recomputed (not stored at that revision): {', '.join(recomputed)}.")
        if self.screening:
            out += ["", "## Screening", "", "| stage | records | included | excluded | maybe | not screened | awaiting "
                    "a reviewer | in conflict | resolved | kappa |", "|---|---|---|---|---|---|---|---|---|---|"]
            for stage, c in self.screening.items():
                cells = [f"{a} → {b}" if a != b else f"{b}" for a, b in
                         (c[k] for k in ("records", "included", "excluded", "maybe", "undecided", "awaiting",
                                         "conflicts", "resolved"))]
                ka, kb = (("—" if k is None else f"{k:.3f}") for k in c["kappa"])
                cells.append(f"{ka} → {kb}" if ka != kb else kb)
                out.append(f"| {stage} | " + " | ".join(cells) + " |")
        return "\n".join(out)


def _flag_text(a: AnalysisChange, flag: str) -> str:
    """A flag as printed: a prediction interval's flag says which interval (estimator, distribution)."""
    label = (a.new or {}).get("pi_label") or (a.old or {}).get("pi_label")
    return f"{flag} ({label})" if flag.startswith("prediction interval") and label else flag


def _clean(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def _show(v) -> str:
    return "—" if v is None else f"`{v}`"


FIXED_EFFECT = "FE"
#: what a fixed-effect analysis shows for tau²: the model has none (I² still describes the studies)
NO_TAU2 = "none (fixed effect)"
#: how diff prints each number of an estimate; a change that does not show at this precision is
#: not flagged (a reader cannot see it)
PRINTED = {"estimate": "{:.2f}", "ci_low": "{:.2f}", "ci_high": "{:.2f}", "pi_low": "{:.2f}", "pi_high": "{:.2f}",
           "tau2": "{:.4f}", "i2": "{:.0f}"}


_RATIO_KEYS = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")


def printed(d: dict | None, key: str, measure: str = "HR") -> str | None:
    """``d[key]`` as diff prints it (None when missing); proportions in percent to one decimal."""
    v = None if d is None else d.get(key)
    if v is None:
        return None
    if measure == "proportion" and key in _RATIO_KEYS:
        return f"{100 * v:.1f}"
    return PRINTED[key].format(v)


def _moved(old: dict, new: dict, keys, measure: str) -> bool:
    return any(printed(old, k, measure) != printed(new, k, measure) for k in keys)


def _est(d: dict | None, measure: str) -> str:
    if not d or d.get("estimate") is None:
        return "—"
    est, lo, hi = (printed(d, k, measure) for k in ("estimate", "ci_low", "ci_high"))
    if measure == "proportion":
        return f"{est}% ({lo}–{hi})"
    return f"{measure} {est} ({lo}–{hi})"


def _pair(a: AnalysisChange, key: str, fmt: str) -> str:
    def one(d):
        if key == "tau2" and d is not None and d.get("method") == FIXED_EFFECT and d.get("estimate") is not None:
            return NO_TAU2
        v = None if d is None else d.get(key)
        return "—" if v is None else fmt.format(v)

    old, new = one(a.old), one(a.new)
    return new if old == new else f"{old} → {new}"


def _normal(v):
    """Comparable plain values: NaN/NaT as None, arrays as lists, timestamps as dates (pandas is
    imported only for a pandas value: reading stored estimates needs none)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if type(v).__module__.startswith("pandas"):
        import pandas as pd

        if v is pd.NaT:
            return None
        if isinstance(v, pd.Timestamp):
            return v.date().isoformat()
    if hasattr(v, "tolist"):
        v = v.tolist()
    return v


def _rows(df: pd.DataFrame, key: tuple[str, ...]) -> dict[str, dict[tuple, dict]]:
    """Row dicts by trial id, then by natural key."""
    out: dict[str, dict[tuple, dict]] = {}
    for rec in df.to_dict("records"):
        out.setdefault(rec["trial_id"], {})[tuple(rec[k] for k in key)] = {
            k: _normal(v) for k, v in rec.items() if k not in _IGNORED}
    return out


def _field_changes(tid: str, old: dict[str, dict], new: dict[str, dict]) -> TrialChange:
    """One trial's two versions compared table by table (``old``/``new``: table -> its row dicts)."""
    changes, added, removed = [], [], []
    new_cut = False
    for table, key in TABLES.items():
        a, b = old.get(table, {}), new.get(table, {})
        for k in sorted(b.keys() - a.keys(), key=str):
            added.append(f"{table} `{'/'.join(map(str, k[1:])) or tid}`")
        for k in sorted(a.keys() - b.keys(), key=str):
            removed.append(f"{table} `{'/'.join(map(str, k[1:])) or tid}`")
        for k in sorted(a.keys() & b.keys(), key=str):
            for f, new_value in b[k].items():
                if f in key or a[k].get(f) == new_value:
                    continue
                if f == "data_cutoff":
                    new_cut = True
                label = "/".join(map(str, k[1:])) or tid
                changes.append(FieldChange(table, label, f, a[k].get(f), new_value, b[k].get("source_id")))
    name = new["trials"][(tid,)]["name"]
    return TrialChange(tid, name, "new data cut" if new_cut else "corrected", changes, added, removed)


def _trial_changes(con: duckdb.DuckDBPyConnection, from_r: int, to_r: int) -> list[TrialChange]:
    """The trials added, removed or superseded from ``from_r`` to ``to_r``: the trials of both
    revisions are read whole (id, name, the revision their version is valid from), the other tables
    only for the trials whose version differs, so the cost follows what changed."""
    from ..analysis.run import read_view

    old_t, new_t = read_view(con, "trials", from_r), read_view(con, "trials", to_r)
    old_from = dict(zip(old_t["trial_id"], old_t["valid_from"]))
    new_from = dict(zip(new_t["trial_id"], new_t["valid_from"]))
    names = dict(zip(old_t["trial_id"], old_t["name"])) | dict(zip(new_t["trial_id"], new_t["name"]))
    changed = sorted(t for t in new_from.keys() & old_from.keys() if new_from[t] != old_from[t])
    versions: dict[str, dict[str, dict[str, dict]]] = {"old": {}, "new": {}}
    if changed:
        for side, revision in (("old", from_r), ("new", to_r)):
            for table, key in TABLES.items():
                for tid, rows in _rows(read_view(con, table, revision, changed), key).items():
                    versions[side].setdefault(tid, {})[table] = rows
    out = []
    for tid in sorted(new_from):
        if tid not in old_from:
            out.append(TrialChange(tid, names[tid], "added"))
        elif tid in versions["new"]:
            out.append(_field_changes(tid, versions["old"].get(tid, {}), versions["new"][tid]))
    for tid in sorted(old_from.keys() - new_from.keys()):
        out.append(TrialChange(tid, names[tid], "removed"))
    return out


def _crosses_null(lo, hi, null):
    return lo is not None and hi is not None and lo <= null <= hi


def analysis_flags(old: dict | None, new: dict | None, measure: str) -> list[str]:
    """Flags for a moved estimate: new / dropped analysis, direction, significance, prediction
    interval (only where it differs from the CI, i.e. random effects), the test for subgroup
    differences (crossing p = 0.05), a sequential-monitoring boundary crossed (secondary), and what
    else moved, as a reader sees it: an estimate, CI, prediction interval, tau² or I² that moved
    below the precision diff prints (:data:`PRINTED`) is not flagged."""
    if old is None and new is None:
        return []
    if old is None or old.get("estimate") is None:
        return ["new estimate"] if new and new.get("estimate") is not None else []
    if new is None or new.get("estimate") is None:
        return ["no longer estimable"]
    null = None if measure == "proportion" else 1.0
    flags = []
    if null is not None and (old["estimate"] - null) * (new["estimate"] - null) < 0:
        flags.append("direction changed")
    if null is not None:
        was = _crosses_null(old["ci_low"], old["ci_high"], null)
        now = _crosses_null(new["ci_low"], new["ci_high"], null)
        if was != now:
            flags.append("now significant" if not now else "no longer significant")

    def has_pi(d):  # a prediction interval of its own (random effects); under FE it equals the CI
        return (d.get("pi_low"), d.get("pi_high")) != (d.get("ci_low"), d.get("ci_high"))

    if (has_pi(old) or has_pi(new)) and _moved(old, new, ("pi_low", "pi_high"), measure):
        if null is not None and _crosses_null(old.get("pi_low"), old.get("pi_high"), null) != _crosses_null(
            new.get("pi_low"), new.get("pi_high"), null
        ):
            flags.append("prediction interval now " + (
                "crosses" if _crosses_null(new.get("pi_low"), new.get("pi_high"), null) else "excludes") + " the null")
        else:
            flags.append("prediction interval changed")
    pb_old, pb_new = old.get("p_between"), new.get("p_between")
    if pb_old is not None and pb_new is not None and (pb_old < 0.05) != (pb_new < 0.05):
        flags.append("subgroup difference " + ("now significant" if pb_new < 0.05 else "no longer significant"))
    elif (pb_old is None) != (pb_new is None):
        flags.append("test for subgroup differences " + ("now possible" if pb_new is not None else "no longer possible"))
    mc_old, mc_new = old.get("monitoring_crossed"), new.get("monitoring_crossed")
    if mc_new and mc_new != mc_old:  # sequential monitoring (secondary): a boundary crossed now
        flags.append(f"sequential {mc_new} boundary crossed")
    elif mc_old and not mc_new and mc_new is not None:
        flags.append(f"sequential {mc_old} boundary no longer crossed")
    if old.get("k") != new.get("k"):
        flags.append(f"k {old.get('k')} → {new.get('k')}")
    if _moved(old, new, ("estimate", "ci_low", "ci_high"), measure):
        flags.append("estimate moved")
    if _moved(old, new, ("tau2", "i2"), measure):
        flags.append("heterogeneity changed")
    return flags


#: the flags that say an analysis's conclusion changed (with "subgroup difference ..." and
#: "sequential ..." flags)
CONCLUSION_FLAGS = ("direction changed", "now significant", "no longer significant", "new estimate", "no longer estimable")

_ESTIMATE_KEYS = ("measure", "k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2",
                  "monitoring_crossed")


class EstimateHistory:
    """The overall result of every analysis in force at any revision, from one read of the stored
    results (on the ratio scale), so that reading many revisions costs one query.

    At a revision where every analysis was computed (``history.pooled_revisions``), an analysis's
    result is the one stored at the newest revision at or before it (a result is stored when it
    changes). Elsewhere (a database written before every revision was pooled) only a result stored
    at exactly that revision counts; otherwise the analysis is recomputed from the rows as they
    were then, and marked ``recomputed``.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        from ..analysis.store import analyses_by_revision, pooled_revisions
        from ..db import schema_version
        from ..sql import named

        self.con = con
        cur = con.execute(named("stored_overall_estimates"))
        cols = [d[0] for d in cur.description]
        self.stored: dict[str, list[tuple[int, dict]]] = {}
        for values in cur.fetchall():
            row = dict(zip(cols, values))
            self.stored.setdefault(row["analysis_id"], []).append((row["revision_id"], row))
        self.pooled = pooled_revisions(con) if schema_version(con) >= 7 else set()
        self._texts = analyses_by_revision(con)
        self._parsed: dict = {}
        self._specs: dict[int, list] = {}
        self._views: dict = {}  # the analysis views' rows by (view, revision), read once (run_analysis's cache)
        #: revision -> the kinds of project file it changed (None: not recorded: counted as evidence)
        self.changes = {r: (tuple(c) if c is not None else None) for r, c in con.execute(named("revision_changes")).fetchall()}

    def _stored_at(self, analysis_id: str, revision: int) -> dict | None:
        import bisect

        rows = self.stored.get(analysis_id, [])
        i = bisect.bisect_right([r for r, _ in rows], revision)
        if i == 0:
            return None
        rev, row = rows[i - 1]
        return row if rev == revision or revision in self.pooled else None

    def specs(self, revision: int) -> list:
        """The analyses in force at ``revision`` (the analyses file its commit had)."""
        from ..analysis.spec import select_specs
        from ..analysis.store import analyses_at, parse_kept

        if revision not in self._specs:
            text = self._texts.get(revision)
            analyses = analyses_at(self.con, revision) if text is None else parse_kept(text, revision, self._parsed)
            self._specs[revision] = select_specs(analyses.specs, None)
        return self._specs[revision]

    def at(self, revision: int) -> dict[str, dict]:
        """The overall result of every analysis in force at ``revision`` (with ``pi_label``: what its
        prediction interval is, :func:`~livemeta.analysis.labels.pi_label`)."""
        from ..analysis.labels import pi_label

        out = {}
        for spec in self.specs(revision):
            row = self._stored_at(spec.id, revision)
            if row is not None:
                out[spec.id] = {k: _normal(row[k]) for k in _ESTIMATE_KEYS} | {
                    "p_between": _normal(row["p_between"]), "recomputed": False, "method": spec.method,
                    "pi_label": pi_label(row["method"], row["test"], row["pi_dist"], row["k"])}
            else:
                out[spec.id] = self.computed(spec, revision)
        return out

    def computed(self, spec, revision: int) -> dict:
        """``spec`` computed from the rows as they were at ``revision`` (marked ``recomputed``)."""
        from ..analysis.present import summary
        from ..analysis.run import run_analysis

        s = summary(run_analysis(self.con, spec, revision, self._views))
        between = s.get("test_for_subgroup_differences") or {}
        return {k: s[k] for k in _ESTIMATE_KEYS} | {"p_between": between.get("p"), "recomputed": True,
                                                    "method": spec.method, "pi_label": (s["pi"] or {}).get("label")}

    def evidence_changed(self, from_r: int, to_r: int) -> bool:
        """Whether a revision after ``from_r``, up to ``to_r``, changed the evidence."""
        return any(c is None or "evidence" in c for r, c in self.changes.items() if from_r < r <= to_r)

    def compare(self, from_r: int, to_r: int) -> list[AnalysisChange]:
        """Every analysis in force at either revision, with what the evidence did to it (see the
        module's docstring) and what changed in the analysis itself."""
        e_old, e_new = self.at(from_r), self.at(to_r)
        s_old = {s.id: s for s in self.specs(from_r)}
        s_new = {s.id: s for s in self.specs(to_r)}
        evidence = self.evidence_changed(from_r, to_r)
        out = []
        for aid in sorted(e_new.keys() | e_old.keys()):
            o, n = e_old.get(aid), e_new.get(aid)
            measure = (n or o)["measure"]
            change = spec_change(s_old.get(aid), s_new.get(aid))
            before, flags = None, []
            if change is None:
                flags = analysis_flags(o, n, measure) if evidence else []
            elif evidence and aid in s_new:
                try:
                    before = self.computed(s_new[aid], from_r)
                except LivemetaError:
                    before = None
                flags = analysis_flags(before, n, measure)
            out.append(AnalysisChange(aid, measure, o, n, flags, change, before))
        return out


def _estimates(con: duckdb.DuckDBPyConnection, revision: int) -> dict[str, dict]:
    """The overall result of every analysis in force at ``revision`` (ratio scale): see
    :class:`EstimateHistory`."""
    return EstimateHistory(con).at(revision)


#: what an analysis pools and how, by the fields of its specification (its title and the review's
#: published figure change neither)
_NOT_POOLED = ("title", "published")


def spec_change(old, new) -> str | None:
    """What changed in an analysis between two revisions: 'added', 'removed', 'changed: method,
    monitoring' (the fields of its specification that changed what it pools or how), or None."""
    if old == new:
        return None
    if old is None:
        return "added"
    if new is None:
        return "removed"
    a, b = asdict(old), asdict(new)
    fields = [k for k in a if k not in _NOT_POOLED and a[k] != b[k]]
    return f"changed: {', '.join(fields)}" if fields else None


def revision_infos(con: duckdb.DuckDBPyConnection, from_r: int, to_r: int) -> list[RevisionInfo]:
    """The revisions after ``from_r`` up to ``to_r``: kind and note (:class:`RevisionInfo`)."""
    from ..db import list_revisions

    return [RevisionInfo(r.revision_id, f"{r.created_at:%Y-%m-%d}", r.author, r.label or "evidence", r.note,
                         list(r.changed_files), list(r.changes) if r.changes is not None else None)
            for r in list_revisions(con) if from_r < r.revision_id <= to_r]


def diff(con: duckdb.DuckDBPyConnection, from_rev: str | int | None = None, to_rev: str | int | None = None) -> RevisionDiff:
    """Changes from ``from_rev`` (default: the revision before ``to_rev``) to ``to_rev`` (default: current)."""
    to_r = resolve_revision(con, to_rev)
    if from_rev is None:
        if to_r <= 1:
            raise LivemetaError("there is no earlier revision to compare with", hint="see `livemeta log`")
        from_r = to_r - 1
    else:
        from_r = resolve_revision(con, from_rev)
    if from_r >= to_r:
        raise LivemetaError(
            f"diff compares an earlier revision with a later one; got FROM {from_r} and TO {to_r}",
            hint=f"livemeta diff {min(from_r, to_r)} {max(from_r, to_r)}" if from_r != to_r else "see `livemeta log`",
        )
    trials = _trial_changes(con, from_r, to_r)
    analyses = EstimateHistory(con).compare(from_r, to_r)
    from ..db import schema_version
    from ..screening.counts import screening_diff

    screening = screening_diff(con, from_r, to_r) if schema_version(con) >= 10 else None
    return RevisionDiff(from_r, to_r, trials, analyses, revision_infos(con, from_r, to_r), screening)


def is_conclusion(flag: str) -> bool:
    """Whether a flag says an analysis's conclusion changed (direction, significance, estimability,
    the test for subgroup differences, a sequential boundary)."""
    return flag in CONCLUSION_FLAGS or flag.startswith("subgroup difference") or flag.startswith("sequential")


def conclusion_changes(con: duckdb.DuckDBPyConnection, revision: int, estimates: EstimateHistory | None = None,
                       compared: list[AnalysisChange] | None = None) -> list[str]:
    """Analyses whose conclusion the evidence changed at ``revision`` against the one before: 'os:
    now significant'. ``estimates``: one :class:`EstimateHistory` shared across revisions
    (``livemeta log``); ``compared``: :meth:`EstimateHistory.compare` of the two, when already made."""
    if revision <= 1:
        return []
    estimates = estimates or EstimateHistory(con)
    out = []
    for a in compared if compared is not None else estimates.compare(revision - 1, revision):
        flags = [f for f in a.flags if is_conclusion(f)]
        if flags:
            out.append(f"{a.analysis}{' (as changed at this revision)' if a.change else ''}: {', '.join(flags)}")
    return out
