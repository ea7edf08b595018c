"""What the report shows beyond the pooled analyses, read from the database as of one revision.

:func:`gather` reads the evidence views (trials, arms, resistance definitions, outcomes, adverse
events, sources, risk of bias), the named versions with each version's trials (for the PRISMA
flow), the changes since the previous version (for "What's new") and the project's GRADE file, into
one :class:`ReportInputs` that :func:`livemeta.reports.report.build_report` renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from ..db.revisions import set_as_of
from ..sql import named, view_frame

EVIDENCE_VIEWS = ("trials", "arms", "resistance_definitions", "outcomes", "adverse_events", "sources",
                  "risk_of_bias", "risk_of_bias_in_force")


@dataclass
class VersionColumn:
    """One column of the PRISMA flow: a named version (or the living revision after the last one)."""

    name: str
    revision: int
    date: str
    trials: pd.DataFrame  # the trials view at that revision (trial_id, name, design, inclusion, reason)
    previous: VersionColumn | None = None
    screening: dict | None = None  # the counts the project file records for it (PRISMA boxes)
    living: bool = False  # the report's revision, beyond the last named version
    records: object = None  # livemeta.screening.counts.FlowFromRecords: its search runs' records, counted


@dataclass
class ReportInputs:
    """Everything the report needs beyond the analyses (see :func:`gather`)."""

    views: dict[str, pd.DataFrame]
    versions: list[VersionColumn] = field(default_factory=list)
    screening: dict | None = None  # the screening at the report's revision (livemeta.api.screen_status's rows)
    whats_new: object | None = None  # livemeta.living.diff.RevisionDiff
    whats_new_label: str | None = None  # "since version review-2025"
    grade: list | None = None  # livemeta.analysis.grade.OutcomeGrade
    grade_file: str | None = None
    rob_variants: dict = field(default_factory=dict)  # analysis id -> AnalysisResult without high RoB

    def view(self, name: str) -> pd.DataFrame:
        return self.views[name]


def _views(con: duckdb.DuckDBPyConnection, revision: int) -> dict[str, pd.DataFrame]:
    set_as_of(con, revision)
    try:
        return {name: view_frame(con, name) for name in EVIDENCE_VIEWS}
    finally:
        set_as_of(con, None)


def _trials_at(con, revision: int) -> pd.DataFrame:
    set_as_of(con, revision)
    try:
        return view_frame(con, "trials")[["trial_id", "name", "design", "inclusion", "inclusion_reason"]]
    finally:
        set_as_of(con, None)


def version_columns(con, revision: int, info_by_revision: dict[int, str], screening: dict[str, dict]) -> list[VersionColumn]:
    """The named versions up to ``revision``, then the living revision when it is past the last one."""
    cols: list[VersionColumn] = []
    for name, rev, _sha, _desc in con.execute(named("versions")).fetchall():
        if rev > revision:
            continue
        cols.append(VersionColumn(name, rev, info_by_revision.get(rev, ""), _trials_at(con, rev),
                                  cols[-1] if cols else None, screening.get(name)))
    if not cols or cols[-1].revision < revision:
        cols.append(VersionColumn(f"revision {revision}", revision, info_by_revision.get(revision, ""),
                                  _trials_at(con, revision), cols[-1] if cols else None, None, living=True))
    from ..screening.counts import flow_counts

    for col in cols:  # each column counts the records of the search runs added since the one before
        prev = col.previous
        before = set(prev.trials.loc[prev.trials["inclusion"] == "included", "trial_id"]) if prev is not None else set()
        col.records = flow_counts(con, col.revision, prev.revision if prev is not None else None, before)
    return cols


def whats_new(con, revision: int, versions: list[VersionColumn]):
    """The changes this revision brings: since the version before it (the report of a named version)
    or since the last version (a living revision); since the previous revision without versions.
    Returns (RevisionDiff or None, label)."""
    from ..living.diff import diff

    current = versions[-1] if versions else None
    base = None
    if current is not None and current.revision == revision and current.previous is not None:
        base = current.previous
        label = f"since version {base.name}" if not base.living else f"since revision {base.revision}"
        return diff(con, base.revision, revision), label
    if revision > 1:
        return diff(con, revision - 1, revision), f"since revision {revision - 1}"
    return None, "the first revision: nothing earlier to compare with"


def gather(con: duckdb.DuckDBPyConnection, revision: int, *, revisions, project=None, results=(),
           views: dict | None = None) -> ReportInputs:
    """Read the report's inputs as of ``revision`` (``revisions``: the database's revisions, for
    dates; ``project``: the evidence project, for its GRADE file and screening counts; ``results``:
    the analyses, for their variants without trials at high risk of bias; ``views``: the analysis
    views already read for ``results``, see :func:`~livemeta.analysis.run.load_rows`, so that each
    is read once). The steps :func:`gather_views`, :func:`rob_variant` and :func:`gather_rest`, in
    one call.
    """
    inputs = gather_views(con, revision, project)
    gather_rest(inputs, con, revision, revisions=revisions, project=project)
    views = {} if views is None else views
    for res in results:
        variant = rob_variant(con, res, revision, views)
        if variant is not None:
            inputs.rob_variants[res.spec.id] = variant
    return inputs


def gather_views(con: duckdb.DuckDBPyConnection, revision: int, project=None) -> ReportInputs:
    """The report's inputs with the evidence views as of ``revision`` (what the references and the
    characteristics tables are made from) and the project's GRADE file (a file that is not valid
    stops the report here, before anything is written); the rest is added by :func:`gather_rest`."""
    inputs = ReportInputs(_views(con, revision))
    _read_grade(inputs, project)
    return inputs


def gather_rest(inputs: ReportInputs, con: duckdb.DuckDBPyConnection, revision: int, *, revisions,
                project=None) -> None:
    """Add the versions (PRISMA columns) and what's new to ``inputs``."""
    from .doc import fmt_date

    dates = {r.revision_id: fmt_date(r.created_at) for r in revisions}
    screening = {v.name: v.screening for v in getattr(project, "versions", ()) if v.screening}
    inputs.versions = version_columns(con, revision, dates, screening)
    inputs.whats_new, inputs.whats_new_label = whats_new(con, revision, inputs.versions)
    inputs.screening = screening_at(con, revision)


def screening_at(con, revision: int) -> dict | None:
    """The screening at ``revision`` for the report's screening section: its progress per stage
    (screening_summary), agreement (screening_agreement) and full-text exclusion reasons; None
    without search records."""
    from ..screening.counts import _summary

    stages, kappa = _summary(con, revision)
    if not stages:
        return None
    return {"stages": stages, "kappa": kappa}


def rob_variant(con: duckdb.DuckDBPyConnection, result, revision: int, views: dict):
    """``result``'s analysis without the trials at high risk of bias (computed without its
    sequential monitoring: the report shows its summary row only), or None: a sensitivity analysis,
    no studies, no risk-of-bias column, or no such variant."""
    from dataclasses import replace

    from ..analysis import run_analysis

    spec = result.spec
    if spec.sensitivity_of or result.k == 0 or "rob_overall" not in result.studies.columns:
        return None
    variant = spec.variant(exclude_high_rob=True)
    if variant is spec:
        return None
    return run_analysis(con, replace(variant, monitoring=None), revision, views)


def _read_grade(inputs: ReportInputs, project) -> None:
    """The project's GRADE file, when it names one; a file that cannot be read or is not valid
    stops the report (exit status 2), naming the file and the reason."""
    from ..analysis.grade import parse_grade
    from ..errors import LivemetaError, Problem, ValidationFailed

    path: Path | None = getattr(project, "grade", None)
    if path is None:
        return
    name = project.rel(path)
    try:
        inputs.grade = parse_grade(path.read_text(encoding="utf-8"), name)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed([Problem(name, "", f"cannot be read: {exc}")]) from None
    except LivemetaError as exc:
        raise ValidationFailed([Problem(name, "", exc.message.removeprefix(f"{name}: "))]) from None
    inputs.grade_file = name
