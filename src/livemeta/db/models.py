"""SQLModel classes over the ``history`` tables, for Python users of the database.

The DDL in ``schema/`` is the single source of truth; these classes mirror it and
``tests/db/test_models.py`` fails when the two disagree (a column, type, nullability or key).
Reading the current state is the job of the views; with the models, filter on ``valid_to``:

>>> from sqlmodel import select
>>> from livemeta.db.models import Trial, session
>>> with session("data/livemeta.duckdb") as s:                          # doctest: +SKIP
...     names = s.exec(select(Trial.name).where(Trial.valid_to.is_(None))).all()

SQLAlchemy and SQLModel are imported only by this module, never on the command line's start path.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from pydantic import NaiveDatetime
from sqlalchemy import ARRAY, BigInteger, Column, Sequence, String
from sqlmodel import Field, Session, SQLModel, create_engine

ROW_ID_SEQ = Sequence("row_id_seq", schema="history")


def _row_id() -> object:
    return Field(default=None, sa_column=Column(BigInteger, ROW_ID_SEQ, primary_key=True, server_default=ROW_ID_SEQ.next_value()))


class SchemaMigration(SQLModel, table=True):
    __tablename__ = "schema_migrations"
    __table_args__ = {"schema": "history"}
    version: int = Field(primary_key=True)
    name: str
    sha256: str
    applied_at: NaiveDatetime  # UTC, stored without time zone


class Revision(SQLModel, table=True):
    __tablename__ = "revisions"
    __table_args__ = {"schema": "history"}
    revision_id: int = Field(primary_key=True)
    created_at: NaiveDatetime  # UTC, stored without time zone
    author: str
    message: str
    kind: str
    livemeta_version: str


class RevisionFile(SQLModel, table=True):
    __tablename__ = "revision_files"
    __table_args__ = {"schema": "history"}
    revision_id: int = Field(primary_key=True, foreign_key="history.revisions.revision_id")
    path: str
    sha256: str
    trial_id: str = Field(primary_key=True)
    action: str


class Commit(SQLModel, table=True):
    __tablename__ = "commits"
    __table_args__ = {"schema": "history"}
    seq: int = Field(primary_key=True)
    commit_sha: str = Field(unique=True)
    revision_id: int = Field(foreign_key="history.revisions.revision_id")
    makes_revision: bool
    status: str
    author_email: str | None = None
    analyses_sha256: str | None = None


class RevisionProblem(SQLModel, table=True):
    __tablename__ = "revision_problems"
    __table_args__ = {"schema": "history"}
    revision_id: int = Field(primary_key=True, foreign_key="history.revisions.revision_id")
    problem_no: int = Field(primary_key=True)
    file: str
    path: str | None = None
    reason: str


class AnalysisFile(SQLModel, table=True):
    __tablename__ = "analysis_files"
    __table_args__ = {"schema": "history"}
    sha256: str = Field(primary_key=True)
    text: str


class Version(SQLModel, table=True):
    __tablename__ = "versions"
    __table_args__ = {"schema": "history"}
    name: str = Field(primary_key=True)
    revision_id: int = Field(foreign_key="history.revisions.revision_id")
    commit_sha: str
    description: str | None = None


class Trial(SQLModel, table=True):
    __tablename__ = "trials"
    __table_args__ = {"schema": "history"}
    row_id: int | None = _row_id()
    valid_from: int = Field(foreign_key="history.revisions.revision_id")
    valid_to: int | None = None
    trial_id: str
    name: str
    nct_id: str | None = None
    other_ids: str | None = None
    design: str
    phase: str | None = None
    randomised_n: int | None = None
    first_published: str | None = None
    first_publication_date: dt.date | None = None
    first_publication_precision: str | None = None
    status: str
    inclusion: str
    inclusion_reason: str | None = None
    population: str | None = None
    verified: bool
    note: str | None = None
    source_id: str | None = None  # added by migration 0003


class Source(SQLModel, table=True):
    __tablename__ = "sources"
    __table_args__ = {"schema": "history"}
    row_id: int | None = _row_id()
    valid_from: int = Field(foreign_key="history.revisions.revision_id")
    valid_to: int | None = None
    trial_id: str
    source_id: str
    kind: str
    citation: str
    year: int | None = None
    doi: str | None = None
    pmid: str | None = None
    nct_id: str | None = None
    url: str | None = None
    note: str | None = None


class Arm(SQLModel, table=True):
    __tablename__ = "arms"
    __table_args__ = {"schema": "history"}
    row_id: int | None = _row_id()
    valid_from: int = Field(foreign_key="history.revisions.revision_id")
    valid_to: int | None = None
    trial_id: str
    arm_id: str
    role: str
    regimen: str
    pd1_agent: str | None = None
    partners: list[str] | None = Field(default=None, sa_column=Column(ARRAY(String)))
    treatment_class: str
    control_type: str | None = None
    n_randomised: int | None = None
    n_safety: int | None = None
    source_id: str | None = None
    verified: bool
    note: str | None = None


class ResistanceDefinition(SQLModel, table=True):
    __tablename__ = "resistance_definitions"
    __table_args__ = {"schema": "history"}
    row_id: int | None = _row_id()
    valid_from: int = Field(foreign_key="history.revisions.revision_id")
    valid_to: int | None = None
    trial_id: str
    definition_id: str
    scope: str
    population: str
    category: str
    criterion_kind: str
    threshold: float | None = None
    threshold_unit: str | None = None
    definition: str
    source_id: str | None = None
    verified: bool
    note: str | None = None


class Outcome(SQLModel, table=True):
    __tablename__ = "outcomes"
    __table_args__ = {"schema": "history"}
    row_id: int | None = _row_id()
    valid_from: int = Field(foreign_key="history.revisions.revision_id")
    valid_to: int | None = None
    trial_id: str
    outcome_id: str
    endpoint: str
    measure: str
    population: str
    definition_id: str | None = None
    subgroup: str | None = None
    experimental_arm_id: str
    control_arm_id: str | None = None
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    ci_level_alternative: float | None = None
    dispute: str | None = None
    p_value: float | None = None
    p_sided: str | None = None
    experimental_events: int | None = None
    experimental_n: int | None = None
    control_events: int | None = None
    control_n: int | None = None
    experimental_median: float | None = None
    control_median: float | None = None
    median_unit: str | None = None
    assessment: str | None = None
    analysis: str | None = None
    data_cutoff: dt.date | None = None
    source_id: str
    location: str | None = None
    raw_text: str
    verified: bool
    note: str | None = None


class AdverseEvent(SQLModel, table=True):
    __tablename__ = "adverse_events"
    __table_args__ = {"schema": "history"}
    row_id: int | None = _row_id()
    valid_from: int = Field(foreign_key="history.revisions.revision_id")
    valid_to: int | None = None
    trial_id: str
    ae_id: str
    arm_id: str
    term: str
    kind: str
    grade_band: str
    treatment_related: bool
    subjects_affected: int | None = None
    subjects_at_risk: int | None = None
    percent: float | None = None
    source_id: str
    location: str | None = None
    raw_text: str
    verified: bool
    note: str | None = None


class RiskOfBias(SQLModel, table=True):
    """One risk-of-bias assessment (RoB 2: d1..d5; ROBINS-I: d1..d7), migration 0005."""

    __tablename__ = "risk_of_bias"
    __table_args__ = {"schema": "history"}
    row_id: int | None = _row_id()
    valid_from: int = Field(foreign_key="history.revisions.revision_id")
    valid_to: int | None = None
    trial_id: str
    assessment_id: str
    tool: str
    endpoint: str
    result_id: str | None = None
    role: str
    assessor: str
    assessed_on: dt.date | None = None
    source_id: str
    d1_judgement: str
    d1_support: str
    d2_judgement: str
    d2_support: str
    d3_judgement: str
    d3_support: str
    d4_judgement: str
    d4_support: str
    d5_judgement: str
    d5_support: str
    d6_judgement: str | None = None
    d6_support: str | None = None
    d7_judgement: str | None = None
    d7_support: str | None = None
    overall_judgement: str
    overall_support: str
    note: str | None = None


class PooledEstimate(SQLModel, table=True):
    __tablename__ = "pooled_estimates"
    __table_args__ = {"schema": "history"}
    analysis_id: str = Field(primary_key=True)
    revision_id: int = Field(primary_key=True, foreign_key="history.revisions.revision_id")
    stratum: str = Field(primary_key=True)
    computed_at: NaiveDatetime  # UTC, stored without time zone
    livemeta_version: str
    view_name: str
    measure: str
    scale: str
    method: str
    test: str
    level: float
    pi_dist: str | None = None
    zero_cell_rule: str | None = None
    ci_level_choice: str | None = None
    method_spec: str
    k: int
    trials: list[str] = Field(sa_column=Column(ARRAY(String), nullable=False))
    estimate: float | None = None
    se: float | None = None
    stat: float | None = None
    p: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    pi_low: float | None = None
    pi_high: float | None = None
    tau2: float | None = None
    i2: float | None = None
    h2: float | None = None
    q: float | None = None
    q_df: int | None = None
    q_p: float | None = None
    converged: bool
    message: str | None = None
    q_between: float | None = None
    df_between: int | None = None
    p_between: float | None = None


@contextlib.contextmanager
def session(db_path: Path | str, *, read_only: bool = True) -> Iterator[Session]:
    """A SQLModel session on the database file (read-only by default). Hold it briefly."""
    engine = create_engine(f"duckdb:///{Path(db_path)}", connect_args={"read_only": read_only})
    try:
        with Session(engine) as s:
            yield s
    finally:
        engine.dispose()
