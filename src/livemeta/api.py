"""The Python API behind the command line: every ``livemeta`` command is one call here.

Commands that change the evidence work on an evidence project (:mod:`livemeta.project`), whose
history is its git history (:mod:`livemeta.living.history`); commands that read work on a database
file alone. ``project`` arguments take a folder or project file (None: found from the working
directory, ``$LIVEMETA_PROJECT``); ``db`` overrides the project's database (``$LIVEMETA_DB``).

Heavy modules (great-expectations, pandas, matplotlib, the pooling engine) are imported inside the
functions that need them, so that ``livemeta query`` and ``livemeta --help`` start fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .db import as_of as reading
from .db import connect, list_revisions, resolve_revision, set_as_of, views
from .db.revisions import Revision, _has_versions
from .errors import LivemetaError, NotInitialised, Problem, StorageFailed, ValidationFailed
from .paths import resource
from .project import Project, find_project, require_project
from .query import QueryResult, run_query
from .sql import named
from .words import count

__all__ = [
    "IngestResult",
    "LogEntry",
    "PoolRun",
    "analyses",
    "build",
    "compare_ctgov",
    "ctgov_draft",
    "cumulative",
    "database_path",
    "diff",
    "export",
    "import_ctgov",
    "ingest",
    "init",
    "log",
    "monitor",
    "new_project",
    "pool",
    "query",
    "report",
    "resolve",
    "revisions",
    "rob_export",
    "rob_import",
    "screen_queue",
    "screen_rank",
    "screen_simulate",
    "study_files",
    "template_text",
    "validate",
    "verify",
    "version_add",
    "versions",
    "view_columns",
    "view_list",
]


# ---------------------------------------------------------------------------------------------
# Where things are
# ---------------------------------------------------------------------------------------------


def database_path(db: Path | str | None = None, project: Project | Path | str | None = None) -> Path:
    """The database to use: ``db``, else ``$LIVEMETA_DB``, else the project's database."""
    if db is not None:
        return Path(db)
    if os.environ.get("LIVEMETA_DB"):
        return Path(os.environ["LIVEMETA_DB"])
    proj = project if isinstance(project, Project) else find_project(project)
    if proj is None:
        raise NotInitialised(
            "no database given and no evidence project here (no livemeta.yaml in this folder or its parents)",
            hint="pass --db FILE, or run inside a project (--project DIR)",
        )
    return proj.database


def _project(project: Project | Path | str | None) -> Project:
    return project if isinstance(project, Project) else require_project(project)


def init(db_path: Path | str, *, wait: float = 10.0) -> int:
    """Create or upgrade the database at ``db_path``; returns its schema version. Idempotent."""
    from .db import schema_version

    with connect(db_path, wait=wait) as con:
        return schema_version(con)


def template_text() -> str:
    """The annotated study-file template (``ingest/template.yaml``)."""
    return resource("ingest", "template.yaml").read_text(encoding="utf-8")


def study_files(folder: Path | str) -> list[Path]:
    """The study files (``*.yaml``, ``*.yml``, ``*.json``) of a folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LivemetaError(f"{folder}: not a folder of study files")
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json") and p.is_file())


def new_project(folder: Path | str, *, name: str) -> tuple[Project, str | None]:
    """Scaffold an evidence project (see :func:`livemeta.project.new_project`)."""
    from .project import new_project as _new

    return _new(folder, name=name)


# ---------------------------------------------------------------------------------------------
# Building, checking and changing the history
# ---------------------------------------------------------------------------------------------


def build(project=None, *, db: Path | str | None = None, backup: bool = False, wait: float = 10.0, progress=None):
    """Bring the database in step with the project's git history (see :func:`livemeta.living.history.sync`).

    Returns a :class:`~livemeta.living.history.SyncReport`.
    """
    from .living.history import sync

    proj = _project(project)
    return sync(proj, database_path(db, proj), wait=wait, backup=backup, progress=progress)


def verify(project=None, *, db: Path | str | None = None, wait: float = 10.0):
    """Compare the database with a fresh replay of the repository (:mod:`livemeta.living.verify`)."""
    from .living.verify import verify as _verify

    proj = _project(project)
    return _verify(proj, database_path(db, proj), wait=wait)


def _holders(con) -> dict[str, str]:
    from .db import schema_version

    return dict(con.execute(named("current_trial_files")).fetchall()) if schema_version(con) >= 4 else {}


def _check_files(con, project: Project | None, paths, supersede: bool, progress=None, coverage: bool = True,
                 engine: str = "fast"):
    """Every check of an ingest, writing nothing: the validation report with all problems, and
    (``coverage``) the rows no analysis would read."""
    from .ingest import validate_files
    from .ingest.checks import held_elsewhere

    kw = {"progress": progress} if progress else {}
    report = validate_files(paths, con=con, supersede=supersede, raise_on_problems=False, engine=engine, **kw)
    if con is not None and project is not None and report.batch is not None:
        report.problems += held_elsewhere(
            report.batch, _holders(con), lambda s: project.rel(s.path), lambda p: (project.root / p).exists()
        )
    if coverage and not report.problems and report.batch is not None:
        from .analysis import load_specs
        from .analysis.coverage import batch_use

        specs = load_specs(project.analyses if project is not None else None)
        report.unused = batch_use(report.batch, specs)
    return report


def validate(paths: list[Path | str], *, project=None, db: Path | str | None = None, supersede: bool = False,
             wait: float = 10.0, engine: str = "fast"):
    """Validate study files without writing; against the database too when it exists. ``engine``
    runs the expectation suites: ``fast`` or ``gx`` (great-expectations itself).

    Raises :class:`~livemeta.errors.ValidationFailed` listing every problem.
    """
    proj = project if isinstance(project, Project) else find_project(project)
    try:
        path = database_path(db, proj)
    except NotInitialised:
        path = None
    if path is not None and path.exists():
        with connect(path, read_only=True, wait=wait) as con:
            report = _check_files(con, proj, paths, supersede, engine=engine)
    elif supersede:
        raise LivemetaError(
            f"--supersede replaces trials in a database, and there is none at {path}",
            hint="build it with `livemeta build`, or validate without --supersede",
        )
    else:
        report = _check_files(None, proj, paths, supersede, engine=engine)
    report.raise_for_problems()
    return report


def refuse_unless_on_a_branch(project: Project, command: str) -> None:
    """Refuse (nothing committed, nothing written) to commit to the evidence history while git is in
    the middle of a merge, rebase, cherry-pick, revert or bisect, or on a detached HEAD: a commit
    made then is replaced or dropped when the operation ends (a rebase aborted deletes the file),
    or belongs to no branch and leaves the history at the next switch."""
    from .gitrepo import Git

    git = Git.find(project.root)
    if git is None or git.head() is None:
        return  # no history to protect: read_history says what to do
    busy = git.in_progress()
    if busy is not None:
        what, how = busy
        raise LivemetaError(f"{command} refused: {what} is in progress in {git.root}; nothing was committed or written",
                            hint=f"finish it or undo it ({how}), then run `livemeta {command}` again")
    if git.branch() is None:
        raise LivemetaError(
            f"{command} refused: HEAD is detached (no branch is checked out in {git.root}), so the commit would "
            "belong to no branch; nothing was committed or written",
            hint=f"switch to a branch (`git switch BRANCH`, or `git switch -c NEW-BRANCH` to start one here), then "
            f"run `livemeta {command}` again")


@dataclass
class IngestResult:
    """What ``livemeta ingest`` did: the validation, the commit, and the revisions replayed."""

    report: object  # livemeta.ingest.ValidationReport
    dry_run: bool
    commit: str | None = None
    applied: list = field(default_factory=list)  # livemeta.living.history.Applied
    caught_up: list = field(default_factory=list)  # commits of others replayed first

    @property
    def revision(self) -> int | None:
        revs = [a.revision for a in self.applied if a.makes_revision]
        return revs[-1] if revs else None

    def summary(self) -> str:
        r = self.report
        lines = []
        for a in self.caught_up:
            lines.append(f"caught up: {a.line()}")
        lines += [f"warning: {w}" for w in r.warnings]
        lines += [f"note: {u}" for u in r.unused]
        if self.dry_run:
            what = []
            if r.added:
                what.append(f"add {count(len(r.added), 'trial')} ({', '.join(r.added)})")
            if r.superseded:
                what.append(f"supersede {len(r.superseded)} ({', '.join(r.superseded)})")
            lines.append(f"dry run: would {' and '.join(what) or 'change nothing'}. Nothing was committed or written.")
            return "\n".join(lines)
        for a in self.applied:
            lines.append(a.line())
        return "\n".join(lines)


def ingest(
    paths: list[Path | str],
    *,
    message: str,
    project=None,
    db: Path | str | None = None,
    author: str | None = None,
    supersede: bool = False,
    dry_run: bool = False,
    progress=None,
    wait: float = 10.0,
) -> IngestResult:
    """Validate study files of the project, commit them to git as one commit, and replay that commit
    into the database as a new revision (every analysis pooled and stored at it).

    The files must be in the project's studies folder. The database is first brought up to date
    with commits made elsewhere (a teammate's, pulled). Everything happens while this process holds
    the database, so two ingests run one after the other. Nothing is committed when a file is
    invalid (:class:`ValidationFailed`, every problem listed) or with ``dry_run``.
    """
    from .living.history import HistoryError, check_conflicts, read_history, replay

    if not (message or "").strip():
        raise LivemetaError("a revision needs a message", hint='pass -m "what this revision adds and why"')
    proj = _project(project)
    path = database_path(db, proj)
    files = [Path(p) for p in paths]
    if not files:
        raise LivemetaError("no study files given")
    if not dry_run:
        refuse_unless_on_a_branch(proj, "ingest")
    for f in files:
        if not proj.in_studies(f):
            raise LivemetaError(
                f"{f}: not in the project's studies folder ({proj.rel(proj.studies)}/)",
                hint=f"study files live in {proj.rel(proj.studies)}/: move it there and ingest it from there",
            )
    sha = None
    try:
        with connect(path, wait=wait) as con:  # held to the end: one ingest at a time
            history = read_history(proj)
            check_conflicts(history)
            stored = con.execute(named("commits")).fetchall()
            shas = [s.commit.sha for s in history.steps]
            if [r[1] for r in stored] != shas[: len(stored)] or con.execute(named("legacy_revisions")).fetchall():
                raise HistoryError(
                    f"{path} does not follow this repository's history",
                    hint="run `livemeta build` first (it says what it would change)",
                )
            caught_up = replay(con, history, history.steps[len(stored):])
            report = _check_files(con, proj, files, supersede, progress, coverage=False)
            report.raise_for_problems()
            if dry_run:
                return IngestResult(report, True, caught_up=caught_up)
            git = history.git
            rel = [git.relative(f) for f in files]
            if not git.uncommitted(rel):
                raise LivemetaError(
                    f"nothing to commit: {', '.join(str(f) for f in files)} "
                    f"{'is' if len(files) == 1 else 'are'} as committed already",
                    hint="edit the file first; `livemeta log` shows the revision that has it",
                )
            if progress:
                progress("commit")
            sha = git.commit(rel, message, author=author)
            after = read_history(proj)
            applied = replay(con, after, after.steps[len(stored) + len(caught_up):])
    except StorageFailed as exc:
        if sha is None:
            raise StorageFailed(f"{exc.message}; nothing was committed to git or written to the database",
                                hint=exc.hint) from None
        raise StorageFailed(
            f"committed {sha[:9]} to git (the evidence is safe there), but the database could not record it: "
            f"{exc.message}",
            hint="free some disk space, then run `livemeta build`: it replays the commit",
        ) from None
    if report.batch is not None and applied:
        from .analysis.coverage import unused

        report.unused = unused(report.batch, applied[-1].results, [r.spec for r in applied[-1].results])
    return IngestResult(report, False, sha, applied, caught_up)


def version_add(name: str, *, description: str, project=None, db: Path | str | None = None, wait: float = 10.0):
    """Name the evidence as it stands (the last committed revision) as version ``name``: adds it to
    the project file's ``versions`` and commits that, then updates the database."""
    from .living.history import HistoryError
    from .project import VERSION_NAME, parse_project_text

    proj = _project(project)
    if not VERSION_NAME.match(name):
        raise LivemetaError(
            f"{name!r} is not a version name",
            hint="lower-case letters, digits, '.', '_' and '-', starting with a letter (e.g. review-2025)",
        )
    if any(v.name == name for v in proj.versions):
        raise LivemetaError(f"version {name!r} is already named in {proj.file.name}")
    refuse_unless_on_a_branch(proj, "version add")
    from .gitrepo import Git

    git = Git.find(proj.root)
    if git is None:
        raise HistoryError(f"{proj.root} is not in a git repository", hint="versions are commits: run `git init` first")
    rel = git.relative(proj.file)
    if git.uncommitted([rel]):
        raise LivemetaError(f"{proj.file.name} has uncommitted changes", hint="commit or undo them first")
    text = proj.file.read_text(encoding="utf-8")
    new_text = _append_version(text, name, description)
    parse_project_text(new_text, str(proj.file))
    proj.file.write_text(new_text, encoding="utf-8")
    try:
        git.commit([rel], f"Name version {name}: {description}".strip().rstrip(":"))
    except LivemetaError:
        proj.file.write_text(text, encoding="utf-8")
        raise
    return build(proj, db=db, wait=wait)


def _append_version(text: str, name: str, description: str) -> str:
    """The project file's text with one more ``versions`` entry, comments kept."""
    import json

    from .yamltext import append_to_list

    entry = f"  - name: {name}\n"
    if description:
        entry += f"    description: {json.dumps(description, ensure_ascii=False)}\n"
    return append_to_list(text, "versions", entry)


def resolve(trials: list[str], *, message: str, project=None, db: Path | str | None = None, wait: float = 10.0):
    """Record that a merge conflict on ``trials`` was reviewed: commits the trials' study files as
    they are now (with any correction made) and a ``Livemeta-Resolves`` trailer per trial, then
    updates the database."""
    from .living.history import RESOLVES, read_history

    proj = _project(project)
    _no_unfinished_merge(proj, trials)  # (the more precise refusal: git left the study file unmerged)
    refuse_unless_on_a_branch(proj, "resolve")
    history = read_history(proj)
    open_conflicts = {c.trial_id: c for c in history.unresolved}
    unknown = [t for t in trials if t not in open_conflicts]
    if unknown:
        known = ", ".join(sorted(open_conflicts)) or "none"
        raise LivemetaError(f"no unresolved merge conflict on {', '.join(unknown)}", hint=f"unresolved conflicts: {known}")
    git = history.git
    paths = [git.relative(proj.root / open_conflicts[t].path) for t in trials]
    changed = [p for _, p in git.uncommitted(paths)]
    body = (message or f"Resolve the merge conflict on {', '.join(trials)}").strip()
    body += "\n\n" + "\n".join(f"{RESOLVES}: {t}" for t in trials)
    git.commit(changed, body, allow_empty=not changed)
    return build(proj, db=db, wait=wait)


def _no_unfinished_merge(proj: Project, trials: list[str]) -> None:
    """Refuse to resolve while git itself has not merged a study file (a conflict left ``UU``): the
    file holds conflict markers, and the merge that livemeta reviews is not a commit yet."""
    from .gitrepo import Git
    from .living.history import _trial_of

    git = Git.find(proj.root)
    if git is None:
        return
    unmerged = git.unmerged([git.relative(proj.studies)])
    if not unmerged:
        return
    named = []
    for state, path in unmerged:
        ours = git.run("show", f":2:{path}", check=False) or git.run("show", f"HEAD:{path}", check=False)
        tid = _trial_of(ours or None, path)
        named.append((tid if not tid.startswith("file ") else Path(path).stem, state, path))
    asked = [(t, st, p) for t, st, p in named if t in trials or Path(p).stem in trials] or named
    files = ", ".join(f"{p} ({st})" for _, st, p in asked)
    first = asked[0][2]
    raise LivemetaError(
        f"git has not finished merging {files}: the file holds git's conflict markers and the merge is not "
        f"committed yet, so there is no merged trial for livemeta to review; nothing was done",
        hint=f"edit {first} to keep the right values and remove the <<<<<<< ======= >>>>>>> lines, then "
        f"`git add {first}` and `git commit` to finish the merge; then `livemeta build` names the trials the merge "
        f"changed on both sides, and `livemeta resolve {' '.join(sorted({t for t, _, _ in asked}))} -m \"...\"` records "
        "your review",
    )


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def query(
    db_path: Path | str, sql: str, *, as_of: str | int | None = None, wait: float = 10.0, timeout: float = 30.0,
    **limits,
) -> QueryResult:
    """Run read-only SQL (see :func:`livemeta.query.run_query`; ``limits``: max_rows, max_mb, max_memory_mb)."""
    return run_query(db_path, sql, as_of=as_of, wait=wait, timeout=timeout, **limits)


def view_list():
    """The named views of ``queries/views/`` with their descriptions (the first sentence of each)."""
    return views()


def view_columns() -> dict[str, list[str]]:
    """The columns of every named view (today's schema, no database needed)."""
    from .db.migrations import view_columns as _columns

    return _columns()


def revisions(db_path: Path | str, *, wait: float = 10.0) -> list[Revision]:
    with connect(db_path, read_only=True, wait=wait) as con:
        return list_revisions(con)


def versions(db_path: Path | str, *, wait: float = 10.0) -> list[tuple[str, int, str, str | None]]:
    """The named versions: (name, revision, commit, description)."""
    with connect(db_path, read_only=True, wait=wait) as con:
        return [tuple(r) for r in con.execute(named("versions")).fetchall()]


@dataclass(frozen=True)
class PoolRun:
    """The results of ``livemeta pool``: one :class:`~livemeta.analysis.AnalysisResult` per analysis.

    ``stored`` says how they compare with the numbers stored at that revision: ``"identical"``
    (recomputed numbers equal, bit for bit, to those stored), ``"stored"`` (none were stored:
    now they are), ``"differs"`` with ``mismatches`` listed, or ``"not stored"`` (variants
    made by ``method``/``test``/``exclude_unverified``, computed and shown only).
    ``reference`` holds each analysis at the version the published figures belong to
    (``published_version`` of the analyses file), when the database names it.
    """

    revision: int
    results: list = field(repr=False)
    stored: str
    mismatches: list[str] = field(default_factory=list)
    version: str | None = None
    version_revision: int | None = None
    reference: dict = field(default_factory=dict, repr=False)
    since: list[str] = field(default_factory=list)  # trials in the database now and not at the version


def analyses(db_path: Path | str | None = None, *, as_of=None, wait: float = 10.0):
    """The analyses in force at a revision of the database (default: current), or livemeta's own."""
    from .analysis import analyses_at, load_specs

    if db_path is None or not Path(db_path).exists():
        return load_specs()
    with connect(db_path, read_only=True, wait=wait) as con:
        return analyses_at(con, resolve_revision(con, as_of)).specs


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
    wait: float = 10.0,
    reported_intervals_only: bool = False,
    exclude_high_rob: bool = False,
) -> PoolRun:
    """Run the analyses in force at a revision (all, or ``ids``; default the current revision) and
    compare them with the numbers stored there, bit for bit.

    A revision without stored numbers (a database written before they were stored with every
    revision) gets them now. Variants made by ``method``/``test``/``exclude_unverified``/
    ``reported_intervals_only`` are computed and returned, never stored: the stored numbers are
    those the history reproduces.
    """
    from .analysis import analyses_at, run_analysis, select_specs, store_results, stored_results
    from .analysis.store import stored_after

    with connect(db_path, read_only=True, wait=wait) as con:
        revision = resolve_revision(con, as_of)
        in_force = analyses_at(con, revision)
        chosen = select_specs(in_force.specs, ids)
        def vary(s):
            return s.variant(method=method, test=test, exclude_unverified=exclude_unverified,
                             reported_intervals_only=reported_intervals_only, exclude_high_rob=exclude_high_rob)

        specs = [vary(s) for s in chosen]
        views: dict = {}
        results = [run_analysis(con, s, revision, views) for s in specs]
        base = [r for r, s in zip(results, chosen) if r.spec is s]
        stored = stored_results(con, revision, [r.spec.id for r in base])
        version, version_rev, reference = _reference(con, in_force, chosen, vary)
        since = []
        if version_rev is not None:
            now, then = (_trial_ids(con, r) for r in (revision, version_rev))
            since = [t for t in now if t not in then]
    if not base:
        state, mismatches = "not stored", []
    elif stored.empty:
        with connect(db_path, wait=wait) as con:
            if stored_after(con, revision, [r.spec.id for r in base]):  # stored later: the ranges of trials start there
                state = "not stored"
            else:
                store_results(con, base, complete=ids is None)
                state = "stored"
        mismatches = []
    else:
        mismatches = _compare_stored(base, stored)
        state = "differs" if mismatches else "identical"
    return PoolRun(revision, results, state, mismatches, version, version_rev, reference, since)


def _trial_ids(con, revision: int) -> list[str]:
    set_as_of(con, revision)
    try:
        return [r[0] for r in con.execute(named("trial_ids")).fetchall()]
    finally:
        set_as_of(con, None)


def _reference(con, in_force, chosen, vary):
    """Each analysis at the version its published figures belong to, with the analyses in force
    there (and the same variant): (version name, its revision, {analysis id: result})."""
    from .analysis import analyses_at, run_analysis

    name = in_force.published_version
    if not name:
        return None, None, {}
    row = con.execute(named("version_revision"), [name]).fetchone() if _has_versions(con) else None
    if row is None:
        return name, None, {}
    rev = row[0]
    then = {s.id: s for s in analyses_at(con, rev).specs}
    out, views = {}, {}  # each view read once at that revision (run_analysis's cache), not once per analysis
    for spec in chosen:
        if spec.id in then:
            varied = vary(then[spec.id])
            out[vary(spec).id] = run_analysis(con, varied, rev, views)
    return name, rev, out


def diff(db_path: Path | str, from_rev: str | int | None = None, to_rev: str | int | None = None, *, wait: float = 10.0):
    """What changed between two revisions or versions (default: the previous revision against the current one)."""
    from .living.diff import diff as _diff

    with connect(db_path, read_only=True, wait=wait) as con:
        return _diff(con, from_rev, to_rev)


@dataclass(frozen=True)
class LogEntry:
    """One revision of ``livemeta log``."""

    revision: Revision  # with its kind (``label``, ``changes``) and the review's ``note``
    commit: str | None
    status: str | None  # applied | rejected (None: written before the history moved to git)
    versions: list[str]
    problems: list[str]
    changes: list[str]  # the analyses whose conclusion the evidence changed at it
    analyses: list[str] = field(default_factory=list)  # the analyses it added, changed or removed
    version_notes: list[str] = field(default_factory=list)  # 'review-2025: description' of the versions naming it
    screening: str | None = None  # what it did to the searches and the screening (livemeta.screening.counts)


def log(db_path: Path | str, *, wait: float = 10.0) -> list[LogEntry]:
    """Every revision with its commit, what kind of change it is and the review's note on it,
    whether it was applied or rejected (and why), the versions that name it, the analyses it
    added, changed or removed, and the analyses whose conclusion the evidence changed at it."""
    from .living.diff import EstimateHistory, conclusion_changes

    with connect(db_path, read_only=True, wait=wait) as con:
        estimates = EstimateHistory(con)
        if not _has_versions(con):
            return [LogEntry(r, None, None, [], [], conclusion_changes(con, r.revision_id, estimates))
                    for r in list_revisions(con)]
        problems: dict[int, list[str]] = {}
        for rid, file, path, reason in con.execute(named("revision_problems")).fetchall():
            problems.setdefault(rid, []).append(f"{file}: {path}: {reason}" if path else f"{file}: {reason}")
        from .db import schema_version
        from .screening.counts import progress

        screening = schema_version(con) >= 10
        labels = {r.revision_id: r.label for r in list_revisions(con)}
        out = []
        for (rid, created, author, message, kind, version, kinds, note, files, sha, status, names,
             descriptions) in con.execute(named("revision_log")).fetchall():
            rev = Revision(rid, created, author, message, kind, version, tuple(kinds) if kinds is not None else None,
                           note, tuple(files or ()), labels.get(rid))
            compared = estimates.compare(rid - 1, rid) if rid > 1 else []
            specs = [f"{a.analysis}: {a.change}" for a in compared if a.change]
            p = progress(con, rid) if screening else None
            out.append(LogEntry(rev, sha, status, list(names), problems.get(rid, []),
                                conclusion_changes(con, rid, estimates, compared), specs,
                                [f"{n}: {d}" if d else n for n, d in zip(names, descriptions)],
                                p.line() if p is not None else None))
        return out


def cumulative(db_path: Path | str, analysis: str, *, as_of: str | int | None = None, wait: float = 10.0):
    """Cumulative meta-analysis of one analysis by first publication date: (spec, revision, table)."""
    from .analysis import analyses_at, select_specs
    from .living.cumulative import cumulative_table

    with connect(db_path, read_only=True, wait=wait) as con:
        revision = resolve_revision(con, as_of)
        (spec,) = select_specs(analyses_at(con, revision).specs, [analysis])
        return spec, revision, cumulative_table(con, spec, revision)


def monitor(
    db_path: Path | str,
    analysis: str,
    *,
    target: float | None = None,
    alpha: float | None = None,
    power: float | None = None,
    sided: int | None = None,
    heterogeneity: str | float | None = None,
    estimator: str | None = None,
    information: str | None = None,
    type_of_design: str | None = None,
    futility: str | None = None,
    overrun: str | None = None,
    as_of: str | int | None = None,
    wait: float = 10.0,
):
    """Sequential monitoring (trial sequential analysis) of one analysis, looks by first publication.

    The settings are the analysis's ``monitoring:`` block of the analyses file in force at the
    revision (defaults: :data:`livemeta.analysis.monitoring.DEFAULTS`); each argument given overrides
    its setting. ``target`` (the ratio, e.g. HR 0.80) overrides the analyses file's target and is
    reported as an override. Returns ``(spec, revision, run, table)``: the
    :class:`~livemeta.analysis.monitoring.MonitoringRun` (``run.main`` at the target, ``run.at_ci_limit``
    at the pooled CI limit) and the table of ``run.main`` (one row per look).
    """
    from dataclasses import replace

    from .analysis import analyses_at, run_analysis, select_specs
    from .analysis.monitoring import monitor_result, monitoring_table, settings_for

    with connect(db_path, read_only=True, wait=wait) as con:
        revision = resolve_revision(con, as_of)
        (spec,) = select_specs(analyses_at(con, revision).specs, [analysis])
        settings = settings_for(spec, target=target, alpha=alpha, power=power, sided=sided,
                                heterogeneity=heterogeneity, estimator=estimator, information=information,
                                type_of_design=type_of_design, futility=futility, overrun=overrun)
        result = run_analysis(con, replace(spec, monitoring=None), revision)
    run = monitor_result(result, settings, characteristics=True)
    return spec, revision, run, monitoring_table(result, run.main)


def report(
    db_path: Path | str,
    out_dir: Path | str,
    *,
    as_of: str | int | None = None,
    progress=None,
    wait: float = 10.0,
    project=None,
) -> Path:
    """Write the static report (HTML, Markdown, PNG and SVG figures) of every analysis to ``out_dir``.

    With the evidence ``project`` (a :class:`~livemeta.project.Project`; None: the report goes
    without its GRADE file and screening counts) the summary of findings follows its GRADE file and
    the PRISMA flow its versions' screening counts. Figures unchanged since the last report written
    to ``out_dir`` are kept. ``progress`` is an optional callable taking a step name (the CLI draws
    a progress bar with it). Returns the path of ``index.html``.
    """
    from .analysis import run  # noqa: F401 - pandas, numpy and scipy, loaded once: the workers are forked with them
    from .reports import report as _writer  # noqa: F401
    from .reports.figures import Workers

    proj = project if isinstance(project, Project) or project is None else find_project(project)
    # a first report into out_dir, or one after the data changed, draws many figures: its workers
    # start now (before the database is opened) and load matplotlib while the analyses run
    workers = Workers.ahead_of(Path(out_dir) / "figures", data=db_path)
    try:
        return _report(db_path, Path(out_dir), as_of, progress, wait, proj, workers)
    finally:
        if workers is not None:
            workers.close()


def _report(db_path, out_dir: Path, as_of, progress, wait: float, proj, workers) -> Path:
    """The report, each analysis's section written as soon as its results (and its sensitivity
    analyses') are computed, so that the workers draw its figures while the next are computed. With
    no workers started ahead, the sections wait until the database is closed: workers are never
    forked while it is open."""
    from .analysis import analyses_at, run_analysis, select_specs
    from .reports.gather import gather_rest, gather_views, rob_variant
    from .reports.report import Arrivals, ReportWriter

    step = progress or (lambda _name: None)
    with connect(db_path, read_only=True, wait=wait) as con:
        revision = resolve_revision(con, as_of)
        revisions = list_revisions(con)
        info = next(r for r in revisions if r.revision_id == revision)
        specs = select_specs(analyses_at(con, revision).specs, None)
        inputs = gather_views(con, revision, proj)
        writer = ReportWriter(revision_info=info, out_dir=out_dir, inputs=inputs, progress=progress, workers=workers)
        try:
            results, views, ready = [], {}, []
            arrivals = Arrivals(specs)
            for spec in specs:
                step(f"pooling {spec.id}")
                results.append(run_analysis(con, spec, revision, views))
                for main, sens in arrivals.arrive(results[-1]):
                    variant = rob_variant(con, main, revision, views)
                    if variant is not None:
                        inputs.rob_variants[main.spec.id] = variant
                    if workers is not None:
                        writer.add(main, sens)  # its figures go to the workers now
                    else:
                        ready.append((main, sens))
            step("reading the evidence")
            gather_rest(inputs, con, revision, revisions=revisions, project=proj)
            set_as_of(con, revision)
            gaps = con.execute(named("report_gaps")).df()
            counts = con.execute(named("report_counts")).df()
        except BaseException:
            writer.close()
            raise
    try:
        for main, sens in ready:
            writer.add(main, sens)
        return writer.finish(results, gaps=gaps, counts=counts)
    finally:
        writer.close()


def status_note(project: Project | None, db_path: Path) -> str | None:
    """A warning when the database lags behind the project's git history (None when in step, or
    when there is no project or git to compare with)."""
    from .living.history import HistoryError, read_history, uncommitted_at

    if project is None or not Path(db_path).exists() or Path(db_path).resolve() != project.database:
        return None
    try:
        with connect(db_path, read_only=True, wait=2.0) as con:
            if not _has_versions(con):
                return "this database was written before livemeta kept its history in git: run `livemeta build`"
            stored = [r[1] for r in con.execute(named("commits")).fetchall()]
        # the database replayed up to HEAD: in step (the history itself is read only when it is not)
        pending = uncommitted_at(project, stored[-1]) if stored else None
        if pending is None:
            history = read_history(project)
            shas = [s.commit.sha for s in history.steps]
            pending = history.uncommitted if stored == shas else None
    except (HistoryError, LivemetaError):
        return None
    if pending is not None:
        if pending:
            front = (project.rel(project.searches) + "/", project.rel(project.screening) + "/")
            how = ["ingest them with `livemeta ingest`"] if any(not p.startswith(front) for _, p in pending) else []
            how += ["commit the search and screening files with `livemeta screen commit -m ...`"] \
                if any(p.startswith(front) for _, p in pending) else []
            return ("not in the history (uncommitted): " + ", ".join(f"{p} ({k})" for k, p in pending)
                    + " — " + "; ".join(how))
        return None
    if stored == shas[: len(stored)]:
        n = len(shas) - len(stored)
        return f"the database is {n} commit{'s' if n != 1 else ''} behind the repository: run `livemeta build`"
    return "the database does not follow this repository's history: run `livemeta build`"


def ctgov_draft(
    record: Path | str | None = None,
    *,
    nct: str | None = None,
    base_url: str | None = None,
    save_record: Path | str | None = None,
):
    """A draft study file from a ClinicalTrials.gov record: a file, or ``nct`` fetched from the API.

    Returns a :class:`livemeta.importers.ctgov.Draft`; writes nothing but ``save_record`` (the record
    as fetched, when given). Raises :class:`~livemeta.errors.ValidationFailed` for a file that is
    not a study record, :class:`~livemeta.errors.LivemetaError` when the API cannot be reached.
    """
    from .errors import Problem, ValidationFailed
    from .importers.ctgov import draft_from_record
    from .importers.ctgov_io import fetch_record, read_record_file
    from .importers.ctgov_record import RecordError

    if (record is None) == (nct is None):
        raise LivemetaError("give a record file or --nct NCT... (one of them)",
                            hint="livemeta import ctgov NCT01234567.json, or livemeta import ctgov --nct NCT01234567")
    if record is not None:
        data, origin = read_record_file(record), str(record)
    else:
        data, origin = fetch_record(nct, base_url=base_url)
    try:
        draft = draft_from_record(data, origin=origin)
    except RecordError as exc:
        raise ValidationFailed([Problem(origin, exc.path, exc.reason)]) from None
    if save_record is not None:
        import json

        _write_output(save_record, json.dumps(data, indent=2, ensure_ascii=False) + "\n", "--save-record")
    return draft


def _writable(path: Path | str, option: str) -> None:
    """Refuse, before any work, an output file whose folder does not exist (or is not a folder)."""
    folder = Path(path).parent
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise LivemetaError(f"cannot write {path}: the folder {folder} {what}; nothing was written",
                            hint=f"create the folder first (mkdir -p {folder}), or choose another {option}")


def _write_output(path: Path | str, text: str, option: str) -> None:
    """Write a command's output file; a failure (a folder gone meanwhile, no permission, a full disk)
    is a message naming the file and the option, not a traceback."""
    _writable(path, option)
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LivemetaError(f"cannot write {path}: {exc.strerror or exc}", hint=f"choose another {option}") from None


def import_ctgov(
    record: Path | str | None = None,
    *,
    nct: str | None = None,
    out: Path | str | None = None,
    force: bool = False,
    base_url: str | None = None,
    save_record: Path | str | None = None,
):
    """``livemeta import ctgov``: the draft of a record, written to ``out`` when given.

    Never writes the database. An existing ``out`` is refused unless ``force``. Returns the
    :class:`~livemeta.importers.ctgov.Draft` (its ``text`` is the study file).
    """
    if out is not None and Path(out).exists() and not force:
        raise LivemetaError(f"{out} exists; the draft was not written", hint="choose another --out, or pass --force to overwrite it")
    for path, option in ((out, "--out"), (save_record, "--save-record")):
        if path is not None:
            _writable(path, option)  # before a record is fetched or read: nothing is lost
    draft = ctgov_draft(record, nct=nct, base_url=base_url, save_record=save_record)
    if out is not None:
        _write_output(out, draft.text, "--out")
    return draft


def compare_ctgov(
    db_path: Path | str,
    record: Path | str | None = None,
    *,
    nct: str | None = None,
    base_url: str | None = None,
    wait: float = 10.0,
):
    """``livemeta import ctgov --compare``: what the record adds to or changes in the stored trial.

    Reads the database (read only) and writes nothing. Returns a
    :class:`livemeta.importers.compare.Comparison`.
    """
    from .errors import NotInitialised
    from .living.compare import compare_draft

    draft = ctgov_draft(record, nct=nct, base_url=base_url)
    if not Path(db_path).exists():
        raise NotInitialised(f"{db_path}: no database to compare with", hint="give it with --db, or build one with `livemeta build`")
    with connect(db_path, read_only=True, wait=wait) as con:
        return compare_draft(con, draft)


# ---------------------------------------------------------------------------------------------
# Risk of bias in robvis's layout (issue 11)
# ---------------------------------------------------------------------------------------------

ROB_TOOLS = ("rob2", "robins_i")
ROB_ENDPOINTS = ("os", "pfs", "orr", "dcr", "safety")
ROB_ROLES = ("reviewer_1", "reviewer_2", "consensus")


def rob_import(
    csv_path: Path | str,
    *,
    tool: str,
    endpoint: str,
    role: str,
    assessor: str,
    source: str | None = None,
    assessed_on: str | None = None,
    project=None,
    write: bool = False,
):
    """Draft ``risk_of_bias`` entries from a robvis CSV into the project's study files.

    Each row's study is matched to a trial of the project by id or name; the entry records the
    judgements as ``role``'s assessment of ``endpoint`` with ``tool``, citing ``source`` (a source
    id; may be left out when the trial has one source). All rows or none: any problem raises
    :class:`ValidationFailed` and nothing is written; so is a study file the entry would make
    invalid. With ``write`` the files are written (then ``livemeta ingest --supersede``); without,
    the drafts are returned. Returns a :class:`livemeta.importers.robvis.Imported`.
    """
    from .importers import robvis
    from .ingest import StudyBlob, validate_files
    from .ingest.parse import read_study

    robvis.check_choice(tool, ROB_TOOLS, "--tool")
    robvis.check_choice(endpoint, ROB_ENDPOINTS, "--endpoint")
    robvis.check_choice(role, ROB_ROLES, "--role")
    if not (assessor or "").strip():
        raise LivemetaError("an assessment needs its assessor", hint='pass --assessor "Name" (for a consensus: both names)')
    if assessed_on is not None:
        robvis.check_date(assessed_on, "--date")
    proj = _project(project)
    path = Path(csv_path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed([Problem(str(csv_path), "", f"cannot be read: {exc}")]) from None
    rows = robvis.parse(text, str(csv_path), tool)
    studies, problems = [], []
    for p in study_files(proj.studies):
        study, found = read_study(p)
        problems += found
        if study is not None:
            studies.append(study)
    if problems:
        raise ValidationFailed(problems)
    drafted, problems = robvis.draft(rows, studies, csv_name=path.name, tool=tool, endpoint=endpoint, role=role,
                                     assessor=assessor.strip(), source=source, assessed_on=assessed_on)
    if problems:
        raise ValidationFailed(problems)
    new_text = {s.path: robvis.apply(s, entry) for s, entry in drafted}
    validate_files([StudyBlob(str(p), t.encode("utf-8")) for p, t in new_text.items()])
    result = robvis.Imported({s.path: robvis.entry_text(e) for s, e in drafted}, {s.path: s.trial_id for s, _ in drafted})
    if write:
        for p, t in new_text.items():
            p.write_text(t, encoding="utf-8")
        result.written = True
    return result


def rob_export(db_path: Path | str, *, tool: str, endpoint: str, analysis: str | None = None,
               as_of: str | int | None = None, wait: float = 10.0) -> tuple[str, list[str]]:
    """The judgements in force for ``tool`` and ``endpoint`` as robvis CSV (``Study,D1..,Overall``),
    with a ``Weight`` column (the trial's weight in percent) when ``analysis`` names one. Returns the
    text and notes (trials left out, and why)."""
    import pandas as pd

    from .importers import robvis

    robvis.check_choice(tool, ROB_TOOLS, "--tool")
    robvis.check_choice(endpoint, ROB_ENDPOINTS, "--endpoint")
    notes: list[str] = []
    with connect(db_path, read_only=True, wait=wait) as con:
        with reading(con, as_of) as revision:
            frame = con.execute(named("rob_in_force"), [tool, endpoint]).df()
        weights = None
        if analysis is not None:
            from .analysis import analyses_at, run_analysis, select_specs

            (spec,) = select_specs(analyses_at(con, revision).specs, [analysis])
            res = run_analysis(con, spec, revision)
            weights = res.studies.groupby("trial_id")["weight"].sum() if res.k else pd.Series(dtype=float)
    records = frame.to_dict("records")
    if weights is not None:
        left_out = [r["study"] for r in records if r["trial_id"] not in weights.index]
        if left_out:
            notes.append(f"not in analysis {analysis} (no weight), left out: {', '.join(left_out)}")
        records = [dict(r, weight=float(weights[r["trial_id"]])) for r in records if r["trial_id"] in weights.index]
    if not records:
        notes.append(f"no trial has a {robvis.TOOL_NAMES[tool]} judgement of {endpoint} in force at revision {revision}")
    return robvis.to_csv(records, tool, weighted=weights is not None), notes


# ---------------------------------------------------------------------------------------------
# The data package (issue 11)
# ---------------------------------------------------------------------------------------------


def export(db_path: Path | str, out_dir: Path | str, *, as_of: str | int | None = None, wait: float = 10.0):
    """Write the data package of a revision or version (default: the current revision) to
    ``out_dir``: CSV tables with ``datapackage.json`` (Frictionless layout, content hashes, the
    revision and its version names) and ``reproduce.R``, which reproduces every stored analysis with
    metafor from those files alone. Returns a :class:`livemeta.export.Export`."""
    from .export import export_package

    with connect(db_path, read_only=True, wait=wait) as con:
        revision = resolve_revision(con, as_of)
        return export_package(con, revision, out_dir, revisions=list_revisions(con))


# ---------------------------------------------------------------------------------------------
# Searches and screening (issue 22): livemeta.search and livemeta.screening
# ---------------------------------------------------------------------------------------------


def search_add(paths: list[Path | str], *, source: str, query: str, date: str, message: str | None, project=None,
               db: Path | str | None = None, run_id: str | None = None, note: str | None = None,
               format: str | None = None, encoding: str | None = None, author: str | None = None, wait: float = 10.0):
    """Record a search run from export files (RIS, MEDLINE, PubMed XML, ClinicalTrials.gov JSON, CSV)
    as ``searches/RUN/``, commit it and replay it as a revision, de-duplicated against the records and
    trials in the database. Nothing is written when a file is not valid (ValidationFailed). Returns
    a :class:`livemeta.front.workflow.FrontResult`; ``details['duplicates']`` counts the run's
    duplicates by kind."""
    from .front.search import search_add as _add

    proj = _project(project)
    path = database_path(db, proj)
    result = _add(proj, path, list(paths), source=source, query=query, date=date, message=message, run_id=run_id,
                  note=note, format=format, encoding=encoding, author=author, wait=wait)
    run_id = result.details["run"].run_id
    counted = result.change.duplicates.get(run_id) if result.change is not None else None
    if counted is None:  # (the replay counts them as it adds the run)
        with connect(path, read_only=True, wait=wait) as con:
            cur = con.execute(named("search_run_duplicates"), [run_id])
            counted = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    result.details["duplicates"] = counted
    return result


def search_override(action: str, a: str, b: str, *, reason: str, by: str | None = None, message: str | None = None,
                    project=None, db: Path | str | None = None, author: str | None = None, wait: float = 10.0):
    """Keep two records apart (``keep_apart``: reverse a merge) or merge them (``merge``), recorded in
    ``searches/duplicates.yaml`` with the reason; committed with ``message``."""
    from .front.search import override_pair

    proj = _project(project)
    return override_pair(proj, database_path(db, proj), action, a, b, reason=reason, by=by, message=message,
                         author=author, wait=wait)


def screen_decide(records: list[str], *, stage: str, decision: str, reviewer: str, reason: str | None = None,
                  trial_id: str | None = None, seconds: float | None = None, note: str | None = None,
                  role: str = "independent", message: str | None = None, project=None, db: Path | str | None = None,
                  author: str | None = None, wait: float = 10.0, at=None):
    """Record a screening decision on each record (appended to the reviewer's file; committed as a
    revision with ``message``, else left for ``screen_commit``). ``at``: the time decided (naive
    UTC datetime; default now, to the second)."""
    from .front.decide import decide

    proj = _project(project)
    return decide(proj, database_path(db, proj), list(records), stage=stage, decision=decision, reviewer=reviewer,
                  reason=reason, trial_id=trial_id, seconds=seconds, note=note, role=role, message=message,
                  author=author, wait=wait, at=at)


def screen_resolve(record: str, *, stage: str, decision: str, reviewer: str, reason: str | None = None,
                   trial_id: str | None = None, note: str | None = None, message: str | None = None, project=None,
                   db: Path | str | None = None, author: str | None = None, wait: float = 10.0):
    """Resolve a screening conflict by a third (consensus) decision."""
    from .front.decide import resolve

    proj = _project(project)
    return resolve(proj, database_path(db, proj), record, stage=stage, decision=decision, reviewer=reviewer,
                   reason=reason, trial_id=trial_id, note=note, message=message, author=author, wait=wait)


def screen_import(file: Path | str, *, tool: str, stage: str = "ta", reviewer: str | None = None,
                  decision: str | None = None, role: str | None = None, encoding: str | None = None,
                  message: str | None = None, project=None, db: Path | str | None = None, author: str | None = None,
                  wait: float = 10.0):
    """Import the screening decisions of an ASReview, Rayyan or Covidence export (all rows or none)."""
    from .front.decide import import_decisions

    proj = _project(project)
    return import_decisions(proj, database_path(db, proj), file, tool=tool, stage=stage, reviewer=reviewer,
                            decision=decision, role=role, encoding=encoding, message=message, author=author, wait=wait)


def screen_init(*, reviewers: int = 2, message: str | None = None, project=None, db: Path | str | None = None,
                author: str | None = None, wait: float = 10.0):
    """Write the screening protocol (reviewers per stage, exclusion reasons) and commit it with ``message``."""
    from .front.decide import init

    proj = _project(project)
    return init(proj, database_path(db, proj), reviewers=reviewers, message=message, author=author, wait=wait)


def screen_commit(*, message: str, project=None, db: Path | str | None = None, author: str | None = None,
                  wait: float = 10.0):
    """Commit the search and screening files changed in the working tree as one revision."""
    from .front.decide import commit

    proj = _project(project)
    return commit(proj, database_path(db, proj), message=message, author=author, wait=wait)


def screen_export(db_path: Path | str, *, stage: str = "ta", fmt: str = "csv", pending_only: bool = True,
                  as_of: str | int | None = None, wait: float = 10.0) -> str:
    """The records to screen at a stage as CSV or RIS for ASReview, Rayyan or Covidence (with each
    record's livemeta id, which ``screen_import`` matches on)."""
    from .front.decide import export_records

    return export_records(Path(db_path), stage=stage, fmt=fmt, pending_only=pending_only, as_of=as_of, wait=wait)


def screen_status(db_path: Path | str, *, as_of: str | int | None = None, wait: float = 10.0):
    """Screening progress per stage and the reviewers' agreement (Cohen's kappa), as of a revision:
    ``(revision, summary rows, agreement rows)`` as lists of dicts."""
    with connect(db_path, read_only=True, wait=wait) as con:
        with reading(con, as_of) as revision:
            out = []
            for statement in (named("screening_summary"), named("view_rows").format(view="screening_agreement")):
                cur = con.execute(statement)
                cols = [d[0] for d in cur.description]
                out.append([dict(zip(cols, r)) for r in cur.fetchall()])
    return revision, out[0], out[1]


def screen_queue(db_path: Path | str, *, stage: str = "ta", reviewer: str | None = None,
                 as_of: str | int | None = None, project=None, wait: float = 10.0):
    """The records of a stage and the decisions made, held for a screening session
    (:class:`livemeta.screening.rank.ScreeningQueue`: ``rank()`` retrains the ranking model and
    orders the pending records, ``record()`` adds a decision made). What is read: the decisions
    committed as of ``as_of`` (as ``screen_status``); with ``reviewer``, at the current revision of
    the project's own database, also that reviewer's decisions file in the working tree
    (``project``: a folder or project file; None: found from the working directory)."""
    from .screening.rank import ScreeningQueue, load

    proj = None
    if reviewer is not None and as_of is None:
        proj = project if isinstance(project, Project) else find_project(project)
    return ScreeningQueue(load(Path(db_path), stage=stage, reviewer=reviewer, as_of=as_of, project=proj, wait=wait))


def screen_rank(db_path: Path | str, *, stage: str = "ta", reviewer: str | None = None,
                as_of: str | int | None = None, limit: int | None = None, project=None, wait: float = 10.0):
    """The records still to screen at a stage, likeliest include first, by the ranking model retrained
    on the decisions read (see :func:`screen_queue`), with the stopping aid (Callaghan & Müller-Hansen
    2020): a :class:`livemeta.screening.rank.ScreeningRanking` (``to_dict()`` for JSON). With no
    include decided yet the order is a seeded random one. ``limit``: the first N records only."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise LivemetaError(f"limit {limit!r}: a whole number of records, 1 or more")
    return screen_queue(db_path, stage=stage, reviewer=reviewer, as_of=as_of, project=project, wait=wait).rank(limit)


def screen_simulate(dataset: Path | str, prior_ids: list[str] | tuple[str, ...] = (), *, seed: int = 0):
    """Replay a labelled dataset (CSV: record_id, title, abstract, optional keywords, label_included)
    with the ranking model from the prior records, one record at a time
    (:func:`livemeta.ranking.simulate`); raises :class:`ValidationFailed` for a bad file and
    :class:`LivemetaError` for an unknown prior."""
    from .ranking.dataset import read_labelled_csv
    from .ranking.simulation import resolve_priors, simulate

    data = read_labelled_csv(dataset)
    try:
        resolve_priors(data.records, prior_ids)
    except ValueError as exc:
        raise LivemetaError(f"{dataset}: {exc}", hint="--prior-record-id takes ids of the record_id column") from None
    return simulate(data.records, data.labels, prior_ids, seed=seed)
