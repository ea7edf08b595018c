"""Ingest: study file -> parse -> structure -> expectation suites -> database checks -> one revision.

- :func:`load_study` reads one file (YAML or JSON, hardened; see :mod:`.parse`).
- :func:`validate_files` runs every check that writes nothing; with a connection, the checks
  against the database too.
- :func:`ingest_files` validates a batch and writes it as one new revision, all or nothing.

Every problem is a :class:`livemeta.errors.Problem` naming the file, the record path
(``outcomes[2].ci_high``) and the reason; a batch with any problem raises
:class:`livemeta.errors.ValidationFailed` carrying them all, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LivemetaError, Problem, StorageFailed, ValidationFailed
from ..words import count
from .parse import StudyBlob, load_study, read_study

if TYPE_CHECKING:
    import duckdb

    from .frames import Batch

__all__ = [
    "IngestReport",
    "StudyBlob",
    "ValidationReport",
    "ingest_files",
    "load_study",
    "validate_files",
]

_TABLE_LABELS = {
    "trials": "trials",
    "sources": "sources",
    "arms": "arms",
    "resistance_definitions": "resistance definitions",
    "outcomes": "outcomes",
    "adverse_events": "adverse events",
    "risk_of_bias": "risk-of-bias assessments",
}


def _rows_text(rows: dict[str, int]) -> str:
    return ", ".join(f"{n} {_TABLE_LABELS.get(t, t)}" for t, n in rows.items())


def _ids(ids: list[str], limit: int = 10) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f", ... ({len(ids) - limit} more)" if len(ids) > limit else "")


@dataclass
class ValidationReport:
    """The outcome of :func:`validate_files`."""

    files: list[str]
    trials: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    added: list[str] | None = None  # None when not checked against a database
    superseded: list[str] | None = None
    batch: Batch | None = field(default=None, repr=False)
    #: valid rows that no analysis in force reads (livemeta.analysis.coverage.Unused), with why
    unused: list = field(default_factory=list)
    #: what is valid but should be looked at (livemeta.ingest.plausibility: an implausible hazard ratio;
    #: a source on a staging or aggregator host): warned of, never refused
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.problems:
            lines = [str(p) for p in self.problems]
            n = len(self.problems)
            bad = len({p.file for p in self.problems})
            lines.append(f"{n} problem{'s' if n != 1 else ''} in {bad} of {len(self.files)} file{'s' if len(self.files) != 1 else ''}")
            return "\n".join(lines)
        n = len(self.files)
        text = f"{count(n, 'file')} valid: {count(len(self.trials), 'trial')} ({_ids(self.trials)}); {_rows_text(self.rows)}"
        if self.added is not None:
            text += f"\nagainst the database: {len(self.added)} new"
            if self.superseded:
                text += f", {len(self.superseded)} superseding ({_ids(self.superseded)})"
        return text + "".join(f"\nwarning: {w}" for w in self.warnings) + "".join(f"\nnote: {u}" for u in self.unused)

    def raise_for_problems(self) -> None:
        if self.problems:
            raise ValidationFailed(self.problems)


@dataclass
class IngestReport:
    """The outcome of :func:`ingest_files`: the revision written (None for a dry run)."""

    revision: int | None
    dry_run: bool
    files: list[str]
    added: list[str]
    superseded: list[str]
    rows: dict[str, int]

    def summary(self) -> str:
        parts = []
        if self.added:
            parts.append(f"{count(len(self.added), 'trial')} added ({_ids(self.added)})")
        if self.superseded:
            parts.append(f"{len(self.superseded)} superseded ({_ids(self.superseded)})")
        what = "; ".join(parts) or "nothing"
        rows = _rows_text(self.rows)
        if self.dry_run:
            return f"dry run: would write {what}; rows: {rows}. Nothing was written."
        return f"revision {self.revision}: {what}; rows: {rows}"


def _noop(_name: str) -> None:
    pass


def _prepare(paths, progress=_noop, engine: str = "fast") -> tuple[list[str], list[Problem], Batch | None]:
    """Parse, check structure and run the expectation suites over the batch.

    ``progress`` is called once per file read and once for the suites (len(paths) + 1 steps).
    """
    from .structure import check_structure

    paths = list(paths)
    names = [p.name if isinstance(p, StudyBlob) else str(p) for p in paths]
    if not names:
        raise LivemetaError("no study files given")
    problems: list[Problem] = []
    good = []
    for path in paths:
        progress(f"read {Path(path.name if isinstance(path, StudyBlob) else path).name}")
        try:
            study, found = read_study(path)
            if study is not None:
                found = check_structure(study)
        except Exception as exc:  # a bug or a value no rule foresaw: name the file, check the others
            study, found = None, [_unchecked(path.name if isinstance(path, StudyBlob) else str(path), exc)]
        problems.extend(found)
        if study is not None and not found:
            good.append(study)
    batch = None
    progress("expectation suites")
    if good:
        batch, found = _check_batch(good, engine)
        problems.extend(found)
    order = {n: i for i, n in enumerate(names)}
    problems.sort(key=lambda p: order.get(p.file, len(order)))  # stable: keeps order within a file
    return names, problems, batch


def _unchecked(name: str, exc: Exception) -> Problem:
    from ..errors import excerpt

    return Problem(name, "", f"could not be checked: {type(exc).__name__}: {excerpt(str(exc), 120)[1:-1]} "
                             "(a livemeta bug: please report it with this file)")


def _check_batch(good: list, engine: str = "fast") -> tuple[Batch | None, list[Problem]]:
    """The batch's tables, the expectation suites over them and the identities of its trials. When
    that fails on something no rule foresaw, each file is tried alone to name the ones that fail
    (the others are still checked)."""
    from .checks import identity_problems
    from .expectations import check_batch
    from .frames import build_batch

    try:
        batch = build_batch(good)
        return batch, check_batch(batch, engine) + form_problems(batch) + identity_problems(None, batch, set())
    except LivemetaError:
        raise
    except Exception as exc:
        together = exc
    failed, fine = [], []
    for study in good:
        try:
            check_batch(build_batch([study]), engine)
            fine.append(study)
        except LivemetaError:
            raise
        except Exception as exc:
            failed.append(_unchecked(study.name, exc))
    if not failed:  # the files fail only together: no file to name
        raise together
    batch, found = _check_batch(fine, engine) if fine else (None, [])
    return batch, failed + found


def form_problems(batch: Batch) -> list[Problem]:
    """Identifiers not written in the form to use (:func:`.identifiers.form_problems`): checked with
    the batch, so that a disguised identifier is reported beside the trial that already holds it."""
    from .identifiers import form_problems as found

    return [study.problem(p, r) for study in batch.studies for p, r in found(study.data["sources"])]


def warnings_of(batch: Batch | None) -> list[Problem]:
    """Sources on a staging or aggregator host (``ingest/hosts.yaml``): valid, but worth a look."""
    from .identifiers import host_warnings

    if batch is None:
        return []
    return [study.problem(p, r) for study in batch.studies for p, r in host_warnings(study.data["sources"])]


def _check_db(con, batch: Batch | None, supersede: bool):
    from .checks import Plan, check_against_db

    if batch is None:
        return [], Plan()
    return check_against_db(con, batch, supersede=supersede)


def validate_files(
    paths: list[Path | str],
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    supersede: bool = False,
    raise_on_problems: bool = True,
    progress=_noop,
    engine: str = "fast",
) -> ValidationReport:
    """Validate study files without writing anything.

    With ``con`` (read-only is enough) the batch is also checked against the database as an
    ingest with ``supersede`` would be. Raises :class:`ValidationFailed` listing every problem,
    unless ``raise_on_problems`` is false (then the report carries them). ``progress`` is called
    with a step name len(paths) + 1 times. ``engine`` runs the expectation suites (see
    :mod:`.expectations`).
    """
    names, problems, batch = _prepare(paths, progress, engine)
    report = ValidationReport(files=names, problems=problems, batch=batch)
    if batch is not None:
        from .plausibility import plausibility_warnings

        report.trials = [s.trial_id for s in batch.studies]
        report.rows = batch.row_counts()
        report.warnings = plausibility_warnings(batch) + warnings_of(batch)
    if con is not None:
        db_problems, plan = _check_db(con, batch, supersede)
        report.problems.extend(db_problems)
        report.added, report.superseded = plan.added, plan.superseded
    if raise_on_problems:
        report.raise_for_problems()
    return report


def ingest_files(
    db: Path | str | duckdb.DuckDBPyConnection,
    paths: list[Path | str],
    *,
    message: str,
    author: str,
    supersede: bool = False,
    dry_run: bool = False,
    wait: float = 10.0,
    kind: str = "ingest",
    progress=_noop,
) -> IngestReport:
    """Validate the batch and write it as one revision (all or nothing).

    ``db`` is a database path (opened, migrated and closed here, waiting up to ``wait`` seconds
    for a lock) or an open writable connection. ``supersede`` replaces trials already in the
    database (and then every file of the batch must replace one). ``dry_run`` runs every check
    and reports what would be written, writing nothing. Raises :class:`ValidationFailed`.
    ``progress`` is called with a step name len(paths) + 2 times (a progress bar's ticks).
    """
    import duckdb

    from ..db import connect

    if not (message or "").strip():
        raise LivemetaError("a revision needs a message", hint='pass -m "what this revision adds and why"')
    if not (author or "").strip():
        raise LivemetaError("a revision needs an author", hint="pass author=\"Name\"")
    names, problems, batch = _prepare(paths, progress)
    if problems:
        raise ValidationFailed(problems)

    def run(con) -> IngestReport:
        from .write import write_batch

        db_problems, plan = _check_db(con, batch, supersede) if con is not None else _check_db_none(batch, supersede)
        if db_problems:
            raise ValidationFailed(db_problems)
        progress("write" if not dry_run else "dry run")
        revision = None
        if not dry_run:
            revision = write_batch(con, batch, plan, author=author, message=message, kind=kind)
        return IngestReport(
            revision=revision,
            dry_run=dry_run,
            files=names,
            added=plan.added,
            superseded=plan.superseded,
            rows=batch.row_counts(),
        )

    if isinstance(db, duckdb.DuckDBPyConnection):
        return run(db)
    if dry_run:
        if not Path(db).exists():
            return run(None)
        with connect(db, read_only=True, wait=wait) as con:
            return run(con)
    try:
        with connect(db, wait=wait) as con:
            return run(con)
    except StorageFailed as exc:  # a failure before the write says so itself (write_batch)
        if exc.outcome is not None:
            raise
        raise StorageFailed(f"{exc.message}; nothing of this batch was written", hint=exc.hint,
                            outcome="nothing of this batch was written") from None


def _check_db_none(batch: Batch, supersede: bool):
    """Database checks for a dry run without a database: everything is new."""
    from .checks import Plan

    plan = Plan()
    problems = []
    for study in batch.studies:
        if supersede:
            problems.append(
                study.problem("trial.id", f"--supersede was given but trial {study.trial_id!r} is not in the database (there is none yet)")
            )
        else:
            plan.actions[study.trial_id] = "added"
    return problems, plan
