"""The Python API behind the command line: every ``livemeta`` command is one call here.

Heavy modules (great-expectations, pandas, matplotlib, the pooling engine) are imported inside the
functions that need them, so that ``livemeta query`` and ``livemeta --help`` start fast.
"""

from __future__ import annotations

import os
from pathlib import Path

from dataclasses import dataclass, field

from .db import connect, list_revisions, resolve_revision, set_as_of, views
from .db.revisions import Revision
from .errors import LivemetaError
from .paths import resource
from .query import QueryResult, run_query
from .sql import named

__all__ = [
    "PoolRun",
    "analyses",
    "build",
    "pool",
    "init",
    "ingest",
    "monitor",
    "query",
    "revisions",
    "study_files",
    "template_text",
    "validate",
    "view_list",
]


def init(db_path: Path | str, *, wait: float = 10.0) -> int:
    """Create or upgrade the database at ``db_path``; returns its schema version. Idempotent."""
    from .db import schema_version

    with connect(db_path, wait=wait) as con:
        return schema_version(con)


def template_text() -> str:
    """The annotated study-file template (``ingest/template.yaml``)."""
    return resource("ingest", "template.yaml").read_text(encoding="utf-8")


def study_files(folder: Path | str | None = None) -> list[Path]:
    """The study files (``*.yaml``, ``*.yml``, ``*.json``) of a folder, default ``data/studies``."""
    folder = Path(folder) if folder else resource("data", "studies")
    if not folder.is_dir():
        raise LivemetaError(f"{folder}: not a folder of study files")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
    if not files:
        raise LivemetaError(f"{folder}: no study files (*.yaml, *.json) found")
    return files


def validate(
    paths: list[Path | str], *, db_path: Path | str | None = None, supersede: bool = False, wait: float = 10.0
):
    """Validate study files without writing; against the database too when ``db_path`` exists.

    Raises :class:`~livemeta.errors.ValidationFailed` listing every problem.
    """
    from .ingest import validate_files

    if db_path is not None and Path(db_path).exists():
        with connect(db_path, read_only=True, wait=wait) as con:
            return validate_files(paths, con=con, supersede=supersede)
    if supersede:
        raise LivemetaError(
            f"--supersede replaces trials in a database, and there is none at {db_path}",
            hint="give the database with --db, or validate without --supersede",
        )
    return validate_files(paths)


def ingest(
    db_path: Path | str,
    paths: list[Path | str],
    *,
    message: str,
    author: str | None = None,
    supersede: bool = False,
    dry_run: bool = False,
    refresh: bool = True,
    progress=None,
    wait: float = 10.0,
):
    """Validate and add study files as one revision (all or nothing), then re-pool.

    ``progress`` (optional) is called with a step name len(paths) + 2 times.

    After a successful (not dry-run) ingest every analysis of ``queries/analyses.yaml`` is
    recomputed and stored under the new revision, unless ``refresh`` is False. Returns the ingest
    report and the :class:`PoolRun` (None when not refreshed).
    """
    from .db import default_author
    from .ingest import ingest_files

    report = ingest_files(
        db_path,
        paths,
        message=message,
        author=author or default_author(),
        supersede=supersede,
        dry_run=dry_run,
        wait=wait,
        **({"progress": progress} if progress else {}),
    )
    run = None
    if refresh and not dry_run:
        try:
            run = refresh_estimates(db_path, wait=wait)
        except LivemetaError as exc:
            raise LivemetaError(
                f"revision {report.revision} was written, but pooling it failed: {exc.message}",
                hint=(exc.hint + "; " if exc.hint else "") + "after fixing, run `livemeta pool` to store the estimates",
            ) from None
    return report, run


def refresh_estimates(db_path: Path | str, *, wait: float = 10.0) -> PoolRun:
    """Recompute every analysis at the current revision and store the results."""
    return pool(db_path, wait=wait)


def build(
    db_path: Path | str,
    *,
    studies: Path | str | None = None,
    author: str | None = None,
    wait: float = 10.0,
):
    """(Re)create the database from a folder of study files (default ``data/studies``).

    The new database is built beside the old one (revision 1, every analysis pooled and stored)
    and moved into place only when complete, so a failed build leaves the old database as it was.
    Returns the ingest report and the :class:`PoolRun`.
    """
    from .db import default_author
    from .ingest import ingest_files

    db_path = Path(db_path)
    files = study_files(studies)
    if db_path.exists():  # make sure nobody is writing it before we replace it
        with connect(db_path, wait=wait, migrate=False):
            pass
    tmp = db_path.with_name(db_path.name + ".building")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        report = ingest_files(
            tmp,
            files,
            message=f"build from {len(files)} study files",
            author=author or default_author(),
            kind="build",
            wait=wait,
        )
        run = refresh_estimates(tmp, wait=wait)
        os.replace(tmp, db_path)
        Path(str(db_path) + ".wal").unlink(missing_ok=True)
    finally:
        for leftover in (tmp, Path(str(tmp) + ".wal")):
            leftover.unlink(missing_ok=True)
    return report, run


def query(
    db_path: Path | str, sql: str, *, as_of: str | int | None = None, wait: float = 10.0, timeout: float = 30.0
) -> QueryResult:
    """Run read-only SQL (see :func:`livemeta.query.run_query`)."""
    return run_query(db_path, sql, as_of=as_of, wait=wait, timeout=timeout)


def view_list():
    """The named views of ``queries/views/`` with their one-line descriptions."""
    return views()


def revisions(db_path: Path | str, *, wait: float = 10.0) -> list[Revision]:
    with connect(db_path, read_only=True, wait=wait) as con:
        return list_revisions(con)


@dataclass(frozen=True)
class PoolRun:
    """The results of ``livemeta pool``: one :class:`~livemeta.analysis.AnalysisResult` per analysis.

    ``stored`` says what was done with them: ``"stored"`` (current revision), or for ``--as-of``
    ``"identical"`` (recomputed numbers equal, bit for bit, to those stored at that revision),
    ``"not stored"`` (nothing was stored for it) or ``"differs"`` with ``mismatches`` listed.
    """

    revision: int
    results: list = field(repr=False)
    stored: str
    mismatches: list[str] = field(default_factory=list)


def analyses():
    """The analyses defined in ``queries/analyses.yaml``."""
    from .analysis import load_specs

    return load_specs()


def _specs(ids, method, test, exclude_unverified, reported_intervals_only=False):
    from .analysis import load_specs, select_specs

    chosen = select_specs(load_specs(), ids)
    return [s.variant(method=method, test=test, exclude_unverified=exclude_unverified,
                      reported_intervals_only=reported_intervals_only) for s in chosen]


def _compare_stored(results, stored) -> list[str]:
    from .analysis import result_rows

    keys = ("k", "trials", "method_spec", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q", "p")
    have = {(r.analysis_id, r.stratum): r for r in stored.itertuples(index=False)}
    out = []
    for res in results:
        for row in result_rows(res):
            old = have.get((row["analysis_id"], row["stratum"]))
            if old is None:
                out.append(f"{row['analysis_id']} [{row['stratum']}]: not stored at revision {res.revision}")
                continue
            for key in keys:
                a, b = row[key], getattr(old, key)
                if key == "trials":
                    a, b = list(a), list(b)
                same = (a is None and (b is None or b != b)) or a == b
                if not same:
                    out.append(f"{row['analysis_id']} [{row['stratum']}] {key}: stored {b!r}, recomputed {a!r}")
    return out


def pool(
    db_path: Path | str,
    ids: list[str] | tuple[str, ...] | None = None,
    *,
    method: str | None = None,
    test: str | None = None,
    exclude_unverified: bool = False,
    as_of: str | int | None = None,
    store: bool = True,
    wait: float = 10.0,
    reported_intervals_only: bool = False,
) -> PoolRun:
    """Run analyses of ``queries/analyses.yaml`` (all, or ``ids``).

    On the current revision the results are stored in ``history.pooled_estimates`` (a variant made
    by ``method``/``test``/``exclude_unverified``/``reported_intervals_only`` is stored under its own
    id, e.g. ``os[method=REML]``). With ``as_of`` (a revision id or a date) the analyses are recomputed from
    the rows as they were then, on a read-only connection, and compared with the stored numbers.
    """
    from .analysis import run_analysis, store_results, stored_results

    specs = _specs(ids, method, test, exclude_unverified, reported_intervals_only)
    if as_of is None:
        with connect(db_path, read_only=not store, wait=wait) as con:
            revision = resolve_revision(con, None)
            results = [run_analysis(con, s, revision) for s in specs]
            if store:
                store_results(con, results)
        return PoolRun(revision, results, "stored" if store else "not stored")
    with connect(db_path, read_only=True, wait=wait) as con:
        revision = resolve_revision(con, as_of)
        results = [run_analysis(con, s, revision) for s in specs]
        stored = stored_results(con, revision, [s.id for s in specs])
    if stored.empty:
        return PoolRun(revision, results, "not stored")
    mismatches = _compare_stored(results, stored)
    return PoolRun(revision, results, "differs" if mismatches else "identical", mismatches)


def diff(db_path: Path | str, from_rev: str | int | None = None, to_rev: str | int | None = None, *, wait: float = 10.0):
    """What changed between two revisions (default: the previous one against the current one)."""
    from .living.diff import diff as _diff

    with connect(db_path, read_only=True, wait=wait) as con:
        return _diff(con, from_rev, to_rev)


def log(db_path: Path | str, *, wait: float = 10.0) -> list[tuple[Revision, list[str]]]:
    """Every revision with the analyses whose conclusion changed at it (direction or significance)."""
    from .living.diff import conclusion_changes

    with connect(db_path, read_only=True, wait=wait) as con:
        revs = list_revisions(con)
        return [(r, conclusion_changes(con, r.revision_id)) for r in revs]


def cumulative(db_path: Path | str, analysis: str, *, as_of: str | int | None = None, wait: float = 10.0):
    """Cumulative meta-analysis of one analysis by first publication date: (spec, revision, table)."""
    from .analysis import load_specs, select_specs
    from .living.cumulative import cumulative_table

    (spec,) = select_specs(load_specs(), [analysis])
    with connect(db_path, read_only=True, wait=wait) as con:
        revision = resolve_revision(con, as_of)
        return spec, revision, cumulative_table(con, spec, revision)


def monitor(
    db_path: Path | str,
    analysis: str,
    *,
    target: float,
    alpha: float = 0.05,
    power: float = 0.8,
    sided: int = 2,
    heterogeneity: str | float = "D2",
    information: str = "inverse_variance",
    type_of_design: str = "asOF",
    futility: str = "none",
    as_of: str | int | None = None,
    wait: float = 10.0,
):
    """Sequential monitoring (trial sequential analysis) of one analysis, looks by first publication.

    ``target`` is the clinically relevant effect on the ratio scale (e.g. HR 0.80). Returns
    ``(spec, revision, monitoring, table)``: the :class:`~livemeta.pooling.sequential.Monitoring`
    and its table (one row per look).
    """
    from .analysis import load_specs, run_analysis, select_specs
    from .living.monitoring import MonitoringSettings, monitor_result, monitoring_table

    (spec,) = select_specs(load_specs(), [analysis])
    settings = MonitoringSettings(target=target, alpha=alpha, power=power, sided=sided, heterogeneity=heterogeneity,
                                  information=information, type_of_design=type_of_design, futility=futility)
    with connect(db_path, read_only=True, wait=wait) as con:
        revision = resolve_revision(con, as_of)
        result = run_analysis(con, spec, revision)
    mon = monitor_result(result, settings)
    return spec, revision, mon, monitoring_table(result, mon)


def report(
    db_path: Path | str,
    out_dir: Path | str,
    *,
    as_of: str | int | None = None,
    progress=None,
    wait: float = 10.0,
) -> Path:
    """Write the static report (HTML, Markdown, PNG and SVG figures) of every analysis to ``out_dir``.

    ``progress`` is an optional callable taking a step name (the CLI draws a progress bar with it).
    Returns the path of ``index.html``.
    """
    from .analysis import load_specs, run_analysis, select_specs
    from .reports.report import build_report

    with connect(db_path, read_only=True, wait=wait) as con:
        revision = resolve_revision(con, as_of)
        info = next(r for r in list_revisions(con) if r.revision_id == revision)
        specs = select_specs(load_specs(), None)
        results = []
        for spec in specs:
            if progress:
                progress(f"pooling {spec.id}")
            results.append(run_analysis(con, spec, revision))
        set_as_of(con, revision)
        gaps = con.execute(named("report_gaps")).df()
        counts = con.execute(named("report_counts")).df()
    return build_report(results, revision_info=info, out_dir=Path(out_dir), gaps=gaps, counts=counts, progress=progress)
