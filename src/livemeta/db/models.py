"""Typed read access for Python users: SQLModel classes over the as-of views.

The DDL in ``schema/`` defines the tables and ``queries/views/`` what a revision shows; these classes
map the views (``tests/db/test_models.py`` fails when a view and its class disagree on a column or
its type), so that a session opened as of a revision reads the evidence as it was then, typed:

>>> from sqlmodel import select
>>> from livemeta.db.models import Trial, session
>>> with session("data/livemeta.duckdb", as_of="review-2025") as s:      # doctest: +SKIP
...     trial = s.exec(select(Trial).where(Trial.trial_id == "contact-01")).one()
...     [(o.endpoint, o.estimate) for o in trial.outcomes]

A :class:`Trial` has its ``sources``, ``arms``, ``resistance_definitions``, ``outcomes`` and
``adverse_events``. The classes only read: the evidence changes through ``livemeta ingest`` (git),
never through a session. ``livemeta.open(...).trials()`` returns them too.

SQLAlchemy and SQLModel are imported only by this module, never on the command line's start path.
"""

# no `from __future__ import annotations`: SQLModel reads the relationship annotations as types
import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from pydantic import NaiveDatetime
from sqlalchemy import ARRAY, Column, String, event
from sqlmodel import Field, Relationship, Session, SQLModel, create_engine


def _children(cls_name: str) -> object:
    """A trial's rows of one view: joined on trial_id, read-only (the views have no foreign keys)."""
    return Relationship(sa_relationship_kwargs={
        "primaryjoin": f"foreign({cls_name}.trial_id) == Trial.trial_id",
        "viewonly": True,
        "lazy": "selectin",
    })


class Source(SQLModel, table=True):
    __tablename__ = "sources"
    valid_from: int
    valid_to: int | None = None
    trial_id: str = Field(primary_key=True)
    source_id: str = Field(primary_key=True)
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
    valid_from: int
    valid_to: int | None = None
    trial_id: str = Field(primary_key=True)
    arm_id: str = Field(primary_key=True)
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
    valid_from: int
    valid_to: int | None = None
    trial_id: str = Field(primary_key=True)
    definition_id: str = Field(primary_key=True)
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
    threshold_comparator: str | None = None  # '>=', '>', '<=' or '<' (None: no threshold, or a format-1 file)


class Outcome(SQLModel, table=True):
    __tablename__ = "outcomes"
    valid_from: int
    valid_to: int | None = None
    trial_id: str = Field(primary_key=True)
    outcome_id: str = Field(primary_key=True)
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
    ci_level: float | None = None  # percent, as printed (95), unlike the pooling engine's level (0.95)
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
    # 0005_reported_statistics
    o_minus_e: float | None = None
    oe_variance: float | None = None
    logrank_chisq: float | None = None
    total_events: int | None = None
    allocation_ratio: float | None = None
    hr_direction: str | None = None


class AdverseEvent(SQLModel, table=True):
    __tablename__ = "adverse_events"
    valid_from: int
    valid_to: int | None = None
    trial_id: str = Field(primary_key=True)
    ae_id: str = Field(primary_key=True)
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


class Trial(SQLModel, table=True):
    __tablename__ = "trials"
    valid_from: int
    valid_to: int | None = None
    trial_id: str = Field(primary_key=True)
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
    source_id: str | None = None

    sources: list[Source] = _children("Source")
    arms: list[Arm] = _children("Arm")
    resistance_definitions: list[ResistanceDefinition] = _children("ResistanceDefinition")
    outcomes: list[Outcome] = _children("Outcome")
    adverse_events: list[AdverseEvent] = _children("AdverseEvent")


class Revision(SQLModel, table=True):
    __tablename__ = "revisions"
    revision_id: int = Field(primary_key=True)
    created_at: NaiveDatetime  # UTC: the commit's time
    author: str
    kind: str  # what kind of change: 'evidence', 'analyses only', 'evidence and analyses', 'start', 'no change'
    note: str | None = None  # the review's own words about it
    changes: list[str] | None = Field(default=None, sa_column=Column(ARRAY(String)))  # 'evidence', 'analyses'
    changed_files: list[str] | None = Field(default=None, sa_column=Column(ARRAY(String)))
    livemeta_version: str
    commit_sha: str | None = None
    status: str | None = None
    trials_added: int
    trials_superseded: int
    trials_removed: int


class Version(SQLModel, table=True):
    __tablename__ = "versions"
    name: str = Field(primary_key=True)
    revision_id: int
    commit_sha: str
    description: str | None = None
    created_at: NaiveDatetime


class PooledEstimate(SQLModel, table=True):
    __tablename__ = "pooled_estimates"
    analysis_id: str = Field(primary_key=True)
    revision_id: int
    stratum: str = Field(primary_key=True)
    measure: str
    k: int
    trials: list[str] = Field(sa_column=Column(ARRAY(String)))
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    pi_low: float | None = None
    pi_high: float | None = None
    p: float | None = None
    tau2: float | None = None
    i2: float | None = None
    q: float | None = None
    q_df: int | None = None
    q_p: float | None = None
    q_between: float | None = None
    df_between: int | None = None
    p_between: float | None = None
    method: str
    test: str
    log_estimate: float | None = None
    se: float | None = None
    scale: str
    converged: bool
    message: str | None = None
    method_spec: str
    # sequential monitoring (0005), where the analyses file asks for it
    monitoring_crossed: str | None = None
    monitoring_z: float | None = None
    monitoring_bound: float | None = None
    monitoring_fraction: float | None = None
    monitoring_spec: str | None = None
    # the rule and model behind it (0009)
    monitoring_target: float | None = None
    monitoring_model: str | None = None
    monitoring_heterogeneity: str | None = None
    monitoring_overrun: str | None = None


#: the classes, by the view each maps
VIEW_MODELS = {m.__tablename__: m for m in (Trial, Source, Arm, ResistanceDefinition, Outcome, AdverseEvent,
                                            Revision, Version, PooledEstimate)}


@contextlib.contextmanager
def session(db_path: Path | str, *, as_of: str | int | None = None, wait: float = 10.0) -> Iterator[Session]:
    """A read-only SQLModel session whose views show the database as of ``as_of`` (a revision id,
    a date or a version name; default: current)."""
    from .database import connect
    from .revisions import resolve_revision, set_as_of

    with connect(db_path, read_only=True, wait=wait) as con:  # the lock check and the name of the revision
        revision = resolve_revision(con, as_of) if as_of is not None else None
    engine = create_engine(f"duckdb:///{Path(db_path)}", connect_args={"read_only": True})

    @event.listens_for(engine, "connect")
    def _as_of(dbapi_connection, _record):
        set_as_of(dbapi_connection, revision)

    try:
        with Session(engine) as s:
            yield s
    finally:
        engine.dispose()
