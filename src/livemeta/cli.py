"""The ``livemeta`` command: a thin click layer over :mod:`livemeta.api`.

Every command takes ``--db PATH`` (or ``LIVEMETA_DB``; default ``data/livemeta.duckdb``) and
``--wait SECONDS`` (how long to wait for a database locked by another process). User errors are
printed as one message with a hint, never as a traceback, and exit non-zero.
"""

from __future__ import annotations

import functools
import shutil
import sys
from pathlib import Path

import click

from . import __version__, api
from .errors import LivemetaError
from .words import count


class _Group(click.Group):
    """Prints :class:`LivemetaError` as ``error: ...`` and exits with its code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LivemetaError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


def _project_option(f, help: str = "The evidence project (its folder or livemeta.yaml) [env LIVEMETA_PROJECT; "
                    "default: the nearest livemeta.yaml in this folder or its parents].", envvar="LIVEMETA_PROJECT"):
    return click.option("--project", "project", type=click.Path(path_type=Path), envvar=envvar, default=None,
                        help=help)(f)


class _Finite(click.FloatRange):
    """A float option within its range, and finite: click's FloatRange lets ``nan`` through (every
    comparison with it is false), which would switch a limit off."""

    def convert(self, value, param, ctx):
        import math

        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{rv!r} is not a finite number; give a value in the range {self._describe_range()}.", param, ctx)
        return rv


def _limit(name: str):
    """The click type of a query limit: its range from :data:`livemeta.query.LIMITS`."""
    from .query import LIMITS

    _, low, high, _ = LIMITS[name]
    return click.IntRange(low, high) if isinstance(low, int) else _Finite(low, high)


def _db_options(f):
    f = _project_option(f)
    f = click.option(
        "--wait",
        type=_Finite(min=0, max=86_400),
        default=10.0,
        show_default=True,
        help="Seconds to keep retrying while another process holds the database.",
    )(f)
    f = click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="LIVEMETA_DB",
        default=None,
        help="Database file [env LIVEMETA_DB; default: the project's database].",
    )(f)
    return f


def _db(db: Path | None, project: Path | None = None) -> Path:
    return api.database_path(db, project)


def _note(db: Path | None, project: Path | None) -> None:
    """Warn on stderr when the project's database lags behind its git history."""
    from .project import find_project

    try:
        proj = find_project(project)
    except LivemetaError:
        return
    note = api.status_note(proj, _db(db, project)) if proj is not None else None
    if note:
        click.echo(f"note: {note}", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="livemeta")
def main():
    """livemeta: a living evidence database for PD-(L)1 rechallenge in advanced NSCLC.

    Study files (one per trial, YAML or JSON) are validated and ingested as revisions into a
    DuckDB database; SQL views and the pooling engine keep the meta-analysis current.

    Every revision is a git commit of an evidence project (livemeta.yaml, study files, analyses);
    the database is a cache that `livemeta build` rebuilds from the history.

    \b
    Start with:  livemeta build && livemeta pool
    Explore:     livemeta views; livemeta query "select name, inclusion from trials"
    Add a trial: livemeta template > data/studies/new.yaml; livemeta ingest data/studies/new.yaml -m "add NEW"
    """


@main.command()
@_db_options
def init(db, wait, project):
    """Create the database, or upgrade it to the newest schema (idempotent)."""
    path = _db(db, project)
    version = api.init(path, wait=wait)
    click.echo(f"{path}: schema version {version}")


@main.command()
@_db_options
@click.option("--backup", is_flag=True,
              help="When the database holds revisions the repository cannot reproduce, move it aside "
              "(kept as FILE.<time>.bak) and rebuild, instead of refusing.")
def build(db, wait, project, backup):
    """Build the database from the project's git history, or bring it up to date.

    Every commit that changed the project's files (study files: an evidence revision; the analyses,
    GRADE or project file: an analyses revision) is one revision, with its author, time and the
    review's note; every analysis is pooled and stored at each. A database that already follows
    the history only gets the new commits. When the history was rewritten (a rebase, a reset, a
    switch of branch), names the revisions that leave it, keeps the old file as a .bak and says how
    to get them back. Refuses, writing nothing, when the database holds revisions the repository
    cannot reproduce (see --backup) or when a merge changed the same trial on both sides (see
    `livemeta resolve`).
    """
    with _progress("build") as step:
        report = api.build(project, db=db, backup=backup, wait=wait, progress=step)
    _print_applied(report.applied)
    for old, new, sha in report.renumbered:
        click.echo(f"revision {old} (commit {sha[:9]}) is now revision {new}: the history was merged")
    for old, new, sha, merge in report.folded:
        click.echo(f"revision {old} (commit {sha[:9]}) is now part of revision {new}: merge {merge[:9]} brings "
                   "its branch as one revision")
    for line in report.dropped_lines():
        click.echo(f"warning: {line}", err=True)
    if report.busy:
        click.echo(f"note: {report.busy} is in progress: this is the history as it stands mid-way; build again "
                   "when it is finished or aborted", err=True)
    if report.damaged:
        click.echo(f"the old database could not be read ({report.damaged}); it was rebuilt", err=True)
    if report.backup and not report.dropped:
        click.echo(f"the old database was kept as {report.backup}")
    head = report.head[:9]
    click.echo(f"{report.database}: {report.mode}, revision {report.revision} (repository at {head})")
    if report.earlier_commits:
        click.echo(f"({report.earlier_commits} earlier commits changed the studies folder before the project "
                   "file existed; the history starts with the commit that added it)")
    _print_uncommitted(report.uncommitted)


def _print_applied(applied) -> None:
    for a in applied:
        if a.status == "rejected":
            click.echo(f"warning: {a.line()}:", err=True)
            for p in a.problems:
                click.echo(f"  {p}", err=True)
        else:
            click.echo(a.line())


def _print_uncommitted(uncommitted) -> None:
    if uncommitted:
        files = ", ".join(f"{p} ({kind})" for kind, p in uncommitted)
        click.echo(f"note: not in the history, because not committed: {files}. "
                   "`livemeta ingest FILE -m MESSAGE` validates and commits a study file"
                   + ("; `livemeta screen commit -m MESSAGE` the search and screening files"
                      if any(p.split("/", 1)[0] in ("searches", "screening") for _, p in uncommitted) else "") + ".",
                   err=True)


@main.command()
@_db_options
def verify(db, wait, project):
    """Check that the database agrees with the repository.

    Replays the whole git history into a fresh database and compares every table with this one:
    revisions (ids, messages, authors, times), evidence rows, versions and every stored pooled
    estimate, float for float. Exit status 1 with each difference listed.
    """
    report = api.verify(project, db=db, wait=wait)
    for a in report.rejected:
        click.echo(f"note: {a.line()}", err=True)
    _print_uncommitted(report.uncommitted)
    if not report.ok:
        click.echo(f"{report.database} differs from the repository ({report.head[:9]}):")
        for d in report.differences:
            click.echo(f"  {d}")
        raise SystemExit(1)
    click.echo(f"{report.database} agrees with the repository at {report.head[:9]}: {count(report.revisions, 'revision')}, "
               f"{report.tables} tables, {report.rows} evidence rows and {report.estimates} stored estimates "
               f"identical to a fresh replay ({report.seconds:.1f} s)")


@main.command("new-project")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--name", required=True, help="What the review is about.")
@functools.partial(_project_option, help="The folder of the new project (the same as FOLDER).", envvar=None)
def new_project(folder, name, project):
    """Create an evidence project in FOLDER (or --project): livemeta.yaml, studies/, neutral analyses in
    analyses.yaml (no published figures: add the ones you compare with) and a git repository with its
    first commit (where the history starts)."""
    if folder is not None and project is not None and Path(folder).resolve() != Path(project).resolve():
        raise click.UsageError(f"FOLDER {folder} and --project {project} name two folders: give one")
    folder = folder or project
    if folder is None:
        raise click.UsageError("name the folder of the new project: livemeta new-project DIR --name NAME")
    proj, sha = api.new_project(folder, name=name)
    click.echo(f"created the evidence project {proj.root}" + (f" (commit {sha[:9]})" if sha else ""))
    if not sha:
        click.echo("note: not committed: commit it (`git add -A && git commit`) to start the history", err=True)
    click.echo(f"next: cd {folder} && livemeta template > studies/TRIAL.yaml, fill it in, "
               "then livemeta ingest studies/TRIAL.yaml -m \"add TRIAL\"")


@main.group()
def version():
    """Named versions of the evidence (a published review, each published update)."""


@version.command("list")
@_db_options
def version_list(db, wait, project):
    """List the named versions with the revision each names."""
    rows = api.versions(_db(db, project), wait=wait)
    if not rows:
        click.echo("no named versions")
    for name, rev, sha, desc in rows:
        click.echo(f"{name:<20} revision {rev:<4} {sha[:9]}  {desc or ''}".rstrip())


@version.command("add")
@_db_options
@click.argument("name")
@click.option("-m", "--message", "description", required=True, help="What this version is (e.g. the publication).")
def version_add(db, wait, project, name, description):
    """Name the evidence as committed now as version NAME (adds it to livemeta.yaml and commits that)."""
    report = api.version_add(name, description=description, project=project, db=db, wait=wait)
    _print_applied(report.applied)
    click.echo(f"version {name} names revision {report.revision}")


@main.command()
@_db_options
@click.argument("trials", nargs=-1, required=True)
@click.option("-m", "--message", default=None, help="What was reviewed and decided.")
def resolve(db, wait, project, trials, message):
    """Record that the merge conflict on TRIALS was reviewed (after correcting their study files if
    needed): commits them with a Livemeta-Resolves trailer, then updates the database."""
    report = api.resolve(list(trials), message=message or "", project=project, db=db, wait=wait)
    _print_applied(report.applied)
    click.echo(f"{report.database}: {report.mode}, revision {report.revision}")


@main.command()
@_project_option
def template(project):
    """Print the annotated study-file template (ingest/template.yaml; the same for every project)."""
    _check_project(project)
    click.echo(api.template_text(), nl=False)


def _check_project(project: Path | None) -> None:
    """A project named by --project (or LIVEMETA_PROJECT) must be one, even where the command reads
    nothing of it: a wrong folder is said, never ignored."""
    if project is not None:
        from .project import load_project

        load_project(project)


@main.command()
@_db_options
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--supersede", is_flag=True, help="The files are corrections or new data cuts of trials already in the database.")
@click.option("--engine", type=click.Choice(["fast", "gx"]), default="fast", show_default=True,
              help="Run the expectation suites with livemeta's evaluator or with great-expectations itself.")
def validate(db, wait, project, files, supersede, engine):
    """Validate study FILES without writing anything.

    Checks structure, vocabularies, cross-references, the expectation suites and, when the
    database exists, duplicates against it; notes the rows no analysis would read, with why.
    Exit status 2 when a file is invalid.
    """
    report = api.validate(list(files), project=project, db=db, supersede=supersede, wait=wait, engine=engine)
    click.echo(report.summary())


@main.command()
@_db_options
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-m", "--message", default=None,
              help="What this revision adds and why (the commit message, and the revision's note).")
@click.option("--author", default=None, help='Who makes the revision ("Name" or "Name <email>") [default: git\'s user].')
@click.option("--dry-run", is_flag=True, help="Validate and report what would change; commit and write nothing.")
@click.option("--supersede", is_flag=True, help="Replace trials already in the database (a correction or a new data cut).")
def ingest(db, wait, project, files, message, author, dry_run, supersede):
    """Validate study FILES of the project, commit them to git as one commit, and add that commit to
    the database as one revision (all or nothing), every analysis pooled at it.

    The files must be in the project's studies folder. Commits made elsewhere (pulled from a
    teammate) are added first.
    """
    if message is None:
        names = ", ".join(Path(f).name for f in files[:3]) + (" ..." if len(files) > 3 else "")
        message = f"ingest {names}"
    with _progress("ingest", total=len(files) + 2) as step:
        result = api.ingest(list(files), message=message, project=project, db=db, author=author,
                            supersede=supersede, dry_run=dry_run, progress=step, wait=wait)
    for a in result.caught_up:
        if a.status == "rejected":
            _print_applied([a])
    click.echo(result.summary())
    if result.commit:
        click.echo(f"committed {result.commit[:9]}; every analysis pooled at revision {result.revision}; "
                   "`livemeta diff` shows what moved")


@main.command()
@_db_options
@click.argument("sql")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "markdown"]),
    default="table",
    show_default=True,
)
@click.option("--as-of", default=None, help="Read the views as of a revision id, a date (YYYY-MM-DD, UTC) or a version name.")
@click.option("--timeout", type=_limit("timeout"), default=30.0, show_default=True,
              help="Seconds for running, fetching and formatting before the query is stopped.")
@click.option("--max-rows", type=_limit("max_rows"), default=1_000_000, show_default=True,
              help="Refuse a result with more rows.")
@click.option("--max-mb", type=_limit("max_mb"), default=100.0, show_default=True,
              help="Refuse a result holding more megabytes of values.")
@click.option("--max-memory-mb", type=_limit("max_memory_mb"), default=2000.0, show_default=True,
              help="Stop a query that needs more megabytes of memory while it runs.")
def query(db, wait, project, sql, fmt, as_of, timeout, max_rows, max_mb, max_memory_mb):
    """Run read-only SQL against the views (see `livemeta views`).

    \b
    livemeta query "select trial_id, name, inclusion from trials"
    livemeta query "select * from outcomes where endpoint = 'os'" --format csv
    livemeta query "select count(*) from trials" --as-of 1
    """
    import time

    deadline = time.monotonic() + timeout
    result = api.query(_db(db, project), sql, as_of=as_of, wait=wait, timeout=timeout, max_rows=max_rows, max_mb=max_mb,
                       max_memory_mb=max_memory_mb)
    click.echo(result.format(fmt, deadline=deadline, timeout=timeout))


@main.command()
@_project_option
@click.option("--no-columns", is_flag=True, help="Names and descriptions only.")
def views(project, no_columns):
    """List the named views (queries/views/) with their descriptions and columns (the same for every
    project)."""
    import textwrap

    _check_project(project)
    items = api.view_list()
    columns = {} if no_columns else api.view_columns()
    name_w = max(len(v.name) for v in items)
    total = shutil.get_terminal_size().columns if sys.stdout.isatty() else 100
    text_w = max(total - name_w - 2, 40)
    for v in items:
        lines = textwrap.wrap(v.description, text_w, break_long_words=False, break_on_hyphens=False) or [""]
        click.echo(f"{v.name.ljust(name_w)}  {lines[0]}")
        for more in lines[1:]:
            click.echo(f"{'':{name_w}}  {more}")
        if v.name in columns:
            cols = textwrap.wrap("columns: " + ", ".join(columns[v.name]), text_w, subsequent_indent="  ",
                                 break_long_words=False, break_on_hyphens=False)
            for c in cols:
                click.echo(f"{'':{name_w}}  {c}")


@main.command()
@_db_options
@click.argument("analyses", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per analysis.")
@click.option("--method", type=click.Choice(["FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS", "GLMM"]),
              default=None, help="Override the estimator (the variant is shown under its own id, e.g. "
              "os[method=REML]; GLMM: proportions by the binomial-normal model).")
@click.option("--test", "test_", type=click.Choice(["z", "knha"]), default=None, help="Override the CI test.")
@click.option("--exclude-unverified", is_flag=True, help="Leave out values marked verified: false.")
@click.option("--reported-intervals-only", is_flag=True,
              help="Hazard ratios with a reported CI only (none derived from p-values or log-rank statistics).")
@click.option("--exclude-high-rob", is_flag=True,
              help="Leave out trials at high risk of bias (RoB 2 high, ROBINS-I serious or critical); not assessed stay.")
@click.option("--as-of", default=None, help="Recompute as of a revision id, date (UTC) or version name, and compare with the stored numbers.")
@click.option("--list", "list_", is_flag=True, help="List the analyses in force and exit.")
@click.option("-v", "--verbose", is_flag=True, help="Name the trials behind each estimate.")
def pool(db, wait, project, analyses, as_json, method, test_, exclude_unverified, reported_intervals_only, exclude_high_rob,
         as_of, list_, verbose):
    """Run the meta-analyses (all, or the ANALYSES named) and check them against the stored numbers.

    Every revision stores its estimates when it is built; `pool` recomputes them and says whether
    they are identical, bit for bit (a revision without stored numbers gets them). Beside each
    estimate: the same analysis at the version the published figures belong to (e.g.
    review-2025), the published figure, and how many trials came since. On a terminal the table
    fits its width; the method codes are explained under it.

    \b
    livemeta pool                       every analysis in force
    livemeta pool os --verbose          with the trials behind each estimate
    livemeta pool os pfs --json
    livemeta pool os --method REML --test knha   a variant (shown, not stored)
    livemeta pool os --reported-intervals-only
    livemeta pool --as-of review-2025   the numbers of a version (or a revision, or a date)
    """
    from .analysis.present import to_json, to_table

    path = _db(db, project)
    if list_:
        for spec in api.analyses(path, as_of=as_of, wait=wait):
            extra = f"  (sensitivity of {spec.sensitivity_of})" if spec.sensitivity_of else ""
            click.echo(f"{spec.id:<26} {spec.title}{extra}")
        return
    _note(db, project)
    run = api.pool(path, analyses, method=method, test=test_, exclude_unverified=exclude_unverified,
                   reported_intervals_only=reported_intervals_only, exclude_high_rob=exclude_high_rob,
                   as_of=as_of, wait=wait)
    if as_json:
        click.echo(to_json(run.results, run.reference, run.version))
    else:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        click.echo(to_table(run.results, run.reference, run.version, width=width, verbose=verbose))
    if run.version_revision is not None and not as_json:
        pooled = {t for r in run.results for t in r.trials}
        n = len(run.since)
        if run.since:
            in_analysis = [t for t in run.since if t in pooled]
            click.echo(f"+{count(n, 'trial')} since {run.version}: {', '.join(run.since)}; "
                       + (f"{len(in_analysis)} of them in an analysis" if in_analysis else "none of them in an analysis yet"))
        elif run.revision != run.version_revision:
            click.echo(f"no trial added since {run.version}")
    if run.version and run.version_revision is None:
        click.echo(f"note: the published figures belong to version {run.version}, which this database does not "
                   "name; they are compared with the current estimates", err=True)
    if run.stored == "identical":
        click.echo(f"identical to the numbers stored at revision {run.revision}", err=True)
    elif run.stored == "stored":
        click.echo(f"no numbers were stored at revision {run.revision}: stored them now", err=True)
    elif run.stored == "not stored":
        click.echo("variants are computed and shown, not stored", err=True)
    else:
        click.echo(f"differs from the numbers stored at revision {run.revision}:", err=True)
        for m in run.mismatches:
            click.echo(f"  {m}", err=True)
        raise SystemExit(1)


def _heterogeneity(value: str):
    if value in ("D2", "I2", "none"):
        return value
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0 <= number < 1:  # also refuses nan and inf
        raise click.BadParameter(f"{value!r}: use D2, I2, none or a number in [0, 1)")
    return number


@main.command()
@_db_options
@click.argument("analysis")
@click.option("--target-hr", "target", type=_Finite(min=0, min_open=True), default=None,
              help="Override the analyses file's target for this run: the effect as a ratio (HR, or OR / RR), "
                   "e.g. 0.85. Printed as an override.")
@click.option("--alpha", type=_Finite(0, 0.5, min_open=True, max_open=True), default=None,
              help="Type I error (two-sided unless --one-sided)  [analyses file, else 0.05]")
@click.option("--power", type=_Finite(0.5, 1, max_open=True), default=None,
              help="[analyses file, else 0.8]")
@click.option("--one-sided", is_flag=True, help="One-sided monitoring in the direction of the target.")
@click.option("--heterogeneity", default=None, callback=lambda _c, _p, v: None if v is None else _heterogeneity(v),
              help="Adjustment of the required information: D2 (diversity), I2, none, or a number in [0, 1); "
                   "with an adjustment z comes from the random-effects model, with none from the fixed-effect "
                   "model  [analyses file, else D2]")
@click.option("--estimator", type=click.Choice(["DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS"]), default=None,
              help="tau2 estimator of the random-effects model behind the adjustment and z  [analyses file, else DL]")
@click.option("--information", type=click.Choice(["inverse-variance", "events"]), default=None,
              help="Accrued information: sum of 1/vi, or events/4 (log hazard ratios)  [inverse-variance]")
@click.option("--spending", type=click.Choice(["OF", "P"]), default=None,
              help="Lan-DeMets alpha spending: O'Brien-Fleming or Pocock type  [OF]")
@click.option("--futility", type=click.Choice(["none", "OF", "P"]), default=None,
              help="Beta-spending futility boundaries (with --one-sided)  [none]")
@click.option("--overrun", type=click.Choice(["alpha-preserving", "final-boundary"]), default=None,
              help="Looks past the required information: the first is the final analysis with what is left of "
                   "alpha, or the planned final boundary is reused (TSA software)  [analyses file, else "
                   "alpha-preserving]")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the TSA plot (PNG; an SVG is written beside it).")
@click.option("--as-of", default=None, help="Monitor the evidence as of a revision id or date.")
@click.option("--json", "as_json", is_flag=True, help="Print the monitoring as JSON.")
def monitor(db, wait, project, analysis, target, alpha, power, one_sided, heterogeneity, estimator, information,
            spending, futility, overrun, plot, as_of, as_json):
    """Sequential monitoring (trial sequential analysis) of ANALYSIS by first publication date.

    The settings (target and its justification, alpha, power, heterogeneity, estimator, over-run rule)
    are the analysis's `monitoring:` block of the analyses file; options override them for this run.

    \b
    livemeta monitor os
    livemeta monitor os --target-hr 0.85 --plot tsa-os.png
    livemeta monitor os --overrun final-boundary
    livemeta monitor os --one-sided --alpha 0.025 --futility OF
    """
    import json as _json
    import math

    from .analysis.monitoring import summary_lines

    spec, revision, run, table = api.monitor(
        _db(db, project), analysis, target=target, alpha=alpha, power=power, sided=1 if one_sided else None,
        heterogeneity=heterogeneity, estimator=estimator,
        information=None if information is None else information.replace("-", "_"),
        type_of_design=None if spending is None else f"as{spending}",
        futility=None if futility is None else ("none" if futility == "none" else f"bs{futility}"),
        overrun=None if overrun is None else overrun.replace("-", "_"), as_of=as_of, wait=wait)
    mon = run.main
    if as_json:
        s = run.settings
        click.echo(_json.dumps({
            "analysis": spec.id, "revision": revision,
            "target_source": s.target_source, "justification": s.justification, "project_target": s.project_target,
            **mon.to_dict(),
            "ci_limit": None if run.ci_limit is None else {
                "level": run.ci_level, "ratio": math.exp(run.ci_limit), **run.at_ci_limit.to_dict()},
            "ci_limit_note": run.ci_limit_note, "notes": list(run.notes), "summary": summary_lines(run, spec.measure),
        }, indent=2, default=lambda x: None if isinstance(x, float) and not math.isfinite(x) else str(x)))
    else:
        click.echo(f"{spec.id}: {spec.title} (revision {revision})")
        lines = summary_lines(run, spec.measure)
        for line in lines[:4]:
            click.echo(line)

        def bound(v):
            return "not tested" if v != v else f"{v:.3f}"
        shown = table.assign(
            information=table["information"].map(lambda v: f"{v:.1f}"),
            fraction=table["fraction"].map(lambda v: f"{v:.3f}"),
            ratio=table["ratio"].map(lambda v: f"{v:.3f}"),
            z=table["z"].map(lambda v: f"{v:.3f}"),
            efficacy_bound=table["efficacy_bound"].map(bound),
            harm_bound=table["harm_bound"].map(bound),
            futility_bound=table["futility_bound"].map(lambda v: "" if v != v else f"{v:.3f}"),
            alpha_spent=table["alpha_spent"].map(lambda v: f"{v:.2g}"))
        if mon.futility == "none":
            shown = shown.drop(columns=["futility_bound"])
        if mon.sided == 1:
            shown = shown.drop(columns=["harm_bound"])
        click.echo(shown.to_string(index=False))
        for line in lines[4:]:
            click.echo(line)
        click.echo("Sequential monitoring is a secondary analysis.")
    if plot is not None:
        from .reports.plots import monitoring_plot, save

        png, svg = save(monitoring_plot(mon, title=spec.title, measure=spec.measure,
                                        footer=f"livemeta · {spec.id} · revision {revision}"), plot.with_suffix(""))
        click.echo(f"wrote {png} and {svg}", err=True)


@main.command()
@_db_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("report"), show_default=True,
              help="Folder to write index.html, report.md and figures/ into.")
@click.option("--as-of", default=None, help="Report the evidence as of a revision id or date.")
def report(db, wait, project, out, as_of):
    """Write the static report: what's new, the GRADE summary of findings, pooled estimates, the PRISMA
    flow, study characteristics with references, risk of bias, forest, funnel and cumulative plots,
    evidence gaps.

    Figures whose inputs did not change since the last report written to --out are kept, not
    redrawn. Shows a progress bar on a terminal; quiet when piped.
    """
    from .project import find_project

    _note(db, project)
    with _progress("report") as step:
        index = api.report(_db(db, project), out, as_of=as_of, progress=step, wait=wait, project=find_project(project))
    click.echo(f"wrote {index}")


@main.command()
@_db_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the data package into (new, empty, or an earlier export, replaced).")
@click.option("--as-of", default=None, help="A revision id, date (UTC) or version name [default: the current revision].")
def export(db, wait, project, out, as_of):
    """Write a data package of one revision or version, reproducible in R.

    CSV tables of the evidence, the analyses, the rows each analysis pooled and the stored pooled
    estimates, described by datapackage.json (Frictionless: columns, types, SHA-256 of every file,
    the revision, its commit and version names); reproduce.R recomputes every analysis with metafor
    from those files alone and compares it with the stored numbers (`Rscript DIR/reproduce.R`).
    """
    result = api.export(_db(db, project), out, as_of=as_of, wait=wait)
    click.echo(result.summary())


class _progress:
    """A progress bar on a terminal (stderr), nothing when piped: ``with _progress("x", total=n) as step: step("a")``.

    With no total, a step counter is shown instead of a bar.
    """

    def __init__(self, label: str, total: int | None = None):
        self.label = label
        self.total = total
        self.tty = sys.stderr.isatty()
        self.n = 0

    def __enter__(self):
        return self

    def line(self, name: str) -> str:
        if self.total:
            done = min(self.n / self.total, 1.0)
            bar = "#" * int(done * 30)
            return f"{self.label} [{bar:<30}] {self.n}/{self.total} {name}"[:110]
        return f"{self.label} [{self.n}] {name}"[:110]

    def __call__(self, name: str) -> None:
        self.n += 1
        if self.tty:
            click.echo(f"\r\033[K{self.line(name)}", nl=False, err=True)

    def __exit__(self, *exc):
        if self.tty and self.n:
            click.echo("\r\033[K", nl=False, err=True)
        return False


@main.command()
@_db_options
def log(db, wait, project):
    """List the revisions, oldest first: commit, what kind of change each is (evidence, analyses
    only, ...), author and the review's note on it, the versions that name each, the analyses it
    added or changed, the analyses whose conclusion the evidence changed at it, and why a revision
    was rejected when replayed."""
    _note(db, project)
    for e in api.log(_db(db, project), wait=wait):
        r = e.revision
        sha = e.commit[:9] if e.commit else r.kind
        note = r.note.splitlines() if r.note else ["(no note)"]
        click.echo(f"{r.revision_id:>4}  {r.created_at:%Y-%m-%d %H:%M:%S}  {sha:<9}  {r.label or 'evidence'}  "
                   f"{r.author}: {note[0]}")
        for line in note[1:]:
            if line.strip():
                click.echo(f"        {line}")
        for name in e.version_notes or e.versions:
            click.echo(f"        version {name}")
        if r.changed_files:
            click.echo(f"        changed: {', '.join(r.changed_files)}")
        for c in e.analyses:
            click.echo(f"        analysis {c}")
        if e.status == "rejected":
            click.echo("        REJECTED when replayed under today's validation; what failed was not applied:")
            for p in e.problems:
                click.echo(f"          {p}")
        for c in e.changes:
            click.echo(f"        conclusion changed: {c}")
        if e.screening:
            click.echo(f"        screening: {e.screening}")


@main.command()
@_db_options
@click.argument("from_rev", required=False)
@click.argument("to_rev", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON for machines instead of Markdown.")
def diff(db, wait, project, from_rev, to_rev, as_json):
    """What changed from revision FROM_REV to TO_REV (default: the previous revision to the current one).

    Trials added, removed or superseded (field by field: old value, new value, source), and for
    every analysis the old and new estimate, CI, tau2, I2 and k, flagging a change of direction, of
    statistical significance and of the prediction interval. Revisions are ids, dates or version
    names (`livemeta diff review-2025` shows what changed since the review).
    """
    _note(db, project)
    result = api.diff(_db(db, project), from_rev, to_rev, wait=wait)
    click.echo(result.to_json() if as_json else result.to_markdown())


@main.command()
@_db_options
@click.argument("analysis")
@click.option("--as-of", default=None, help="A revision id or date.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw a cumulative forest plot (PNG; an SVG is written beside it).")
def cumulative(db, wait, project, analysis, as_of, fmt, plot):
    """Cumulative meta-analysis of ANALYSIS, adding trials by first publication date.

    The table rounds as the report prints (ratios to two decimals, proportions in percent); csv and
    json give every digit. The first row (one trial) is that trial's interval as the forest plot
    shows it: as printed when the printed CI is what was pooled, else the one its pooled variance
    implies.
    """
    from .query import QueryResult

    from .living.cumulative import rounded

    spec, revision, table = api.cumulative(_db(db, project), analysis, as_of=as_of, wait=wait)
    shown = rounded(table, spec.measure, spec.method) if fmt in ("table", "markdown") else table  # machines: every digit
    rows = [tuple(None if v != v else v for v in r) for r in shown.itertuples(index=False)]
    click.echo(QueryResult(list(shown.columns), rows, revision).format(fmt))
    if plot is not None:
        from .reports.plots import cumulative_plot, save

        fig = cumulative_plot(table, title=f"Cumulative meta-analysis: {spec.title}", measure=spec.measure,
                              footer=f"revision {revision} · livemeta {__version__}")
        written = save(fig, plot.with_suffix(""))
        click.echo(f"wrote {', '.join(str(p) for p in written)}", err=True)


@main.group("import")
def import_group():
    """Draft study files from other sources; never writes the database.

    \b
    livemeta import ctgov NCT01234567.json --out data/studies/new.yaml
    livemeta import ctgov --nct NCT01234567 --out data/studies/new.yaml
    livemeta import ctgov NCT01234567.json --compare
    """


@import_group.command("ctgov")
@_db_options
@click.argument("record", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--nct", default=None, help="Fetch the record of this NCT id from the ClinicalTrials.gov API instead of a file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the draft here [default: print it].")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@click.option("--compare", is_flag=True,
              help="Do not draft: list what the record adds to or changes in the trial already in the database.")
@click.option("--save-record", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also save the record as read or fetched (JSON), e.g. to keep the version a draft came from.")
def import_ctgov(db, wait, project, record, nct, out, force, compare, save_record):
    """Draft a study file from a ClinicalTrials.gov study RECORD (API v2 or legacy v1 JSON).

    The draft holds the trial, the arms (results groups), the outcomes that map unambiguously
    (OS/PFS hazard ratios, ORR/DCR responders of n) and the adverse events per arm; every value is
    verified: false and cites the record (NCT id, last-update date, field path, raw text). What does
    not map is listed as comments; the fields the registry lacks are marked FILL IN. Fill them, then
    `livemeta validate` and `livemeta ingest`. With --compare, nothing is drafted: the record is set
    against the stored trial with its NCT id, field by field, and nothing is written.
    """
    if compare:
        if out is not None:
            raise LivemetaError("--compare writes nothing: it takes no --out")
        result = api.compare_ctgov(_db(db, project), record, nct=nct, wait=wait)
        click.echo(result.summary())
        return
    draft = api.import_ctgov(record, nct=nct, out=out, force=force, save_record=save_record)
    if out is None:
        click.echo(draft.text, nl=False)
        click.echo(draft.summary(), err=True)
    else:
        click.echo(draft.summary())
        click.echo(f"wrote {out} (a draft: fill it in, then `livemeta validate {out}`)")


@main.group("rob")
def rob_group():
    """Risk-of-bias assessments in robvis's CSV layout (Study,D1..D5,Overall[,Weight]).

    \b
    livemeta rob export --endpoint os --analysis os > rob2-os.csv       robvis's rob_summary(weighted = TRUE)
    livemeta rob import judgements.csv --endpoint os --role reviewer_1 --assessor "A. Reviewer" --write
    livemeta query "select * from risk_of_bias_disagreements"         where two assessors disagree
    """


_TOOL = click.option("--tool", type=click.Choice(["rob2", "robins_i"]), default="rob2", show_default=True,
                     help="RoB 2 (randomised trials, D1-D5) or ROBINS-I (non-randomised, D1-D7).")
_ENDPOINT = click.option("--endpoint", type=click.Choice(["os", "pfs", "orr", "dcr", "safety"]), required=True,
                         help="The outcome assessed.")


@rob_group.command("import")
@_db_options
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@_TOOL
@_ENDPOINT
@click.option("--role", type=click.Choice(["reviewer_1", "reviewer_2", "consensus"]), required=True,
              help="Whose judgements the file holds.")
@click.option("--assessor", required=True, help="Who judged (for a consensus: both names).")
@click.option("--source", default=None, help="The source id (of each study file) the judgements rest on "
              "[default: the trial's only source].")
@click.option("--date", "assessed_on", default=None, help="When (YYYY-MM-DD).")
@click.option("--write", is_flag=True, help="Write the entries into the study files (else: show them).")
def rob_import(db, wait, project, csv_file, tool, endpoint, role, assessor, source, assessed_on, write):
    """Add the judgements of a robvis CSV to the study files of the trials it names.

    Each row's Study is a trial id or name of the project. robvis files carry no support text: each
    judgement says it came from this file. All rows or none (exit status 2 naming each problem);
    then `livemeta ingest FILES --supersede -m MESSAGE` records them.
    """
    result = api.rob_import(csv_file, tool=tool, endpoint=endpoint, role=role, assessor=assessor, source=source,
                            assessed_on=assessed_on, project=project, write=write)
    if not write:
        for path, text in result.entries.items():
            click.echo(f"# {path}")
            click.echo(text, nl=False)
    click.echo(result.summary(), err=not write)


@rob_group.command("export")
@_db_options
@_TOOL
@_ENDPOINT
@click.option("--analysis", default=None, help="Add robvis's Weight column: each trial's weight (%) in this analysis.")
@click.option("--as-of", default=None, help="A revision id, date (UTC) or version name.")
def rob_export(db, wait, project, tool, endpoint, analysis, as_of):
    """Print the judgements in force (consensus, else a single assessor's) as robvis CSV."""
    text, notes = api.rob_export(_db(db, project), tool=tool, endpoint=endpoint, analysis=analysis, as_of=as_of,
                                 wait=wait)
    click.echo(text, nl=False)
    for n in notes:
        click.echo(f"note: {n}", err=True)


# ---------------------------------------------------------------------------------------------
# Searches and screening
# ---------------------------------------------------------------------------------------------


@main.group("search")
def search_group():
    """Search runs as files of the project (searches/RUN/), de-duplicated as they arrive.

    \b
    livemeta search add embase.ris --source Embase --query "..." --date 2026-03-01 -m "Embase, March update"
    livemeta query "select * from searches"
    livemeta query "select record_id, duplicate_of, duplicate_reason from search_records where duplicate_of is not null"
    livemeta search keep-apart RUN/3 OTHER/7 --reason "abstract and paper report different cuts" -m "..."
    """


def _print_front(result, what: str) -> None:
    for a in result.caught_up:
        click.echo(f"caught up: {a.line()}")
    for a in result.applied:
        _print_applied([a])
    if result.commit:
        click.echo(f"committed {result.commit[:9]}: revision {result.revision}")
    elif result.written:
        click.echo(f"wrote {', '.join(result.written)} (not committed: `livemeta screen commit -m MESSAGE` makes "
                   f"{what} a revision)")


@search_group.command("add")
@_db_options
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", required=True, help="The database or register searched (Embase, MEDLINE via PubMed, ...).")
@click.option("--query", required=True, help="The query as it was run.")
@click.option("--date", "date", required=True, help="When the search was run (YYYY-MM-DD).")
@click.option("-m", "--message", required=True, help="The commit message: what was searched and why.")
@click.option("--id", "run_id", default=None, help="The run's id [default: SOURCE-DATE].")
@click.option("--note", default=None, help="A note kept with the run (limits, filters, who ran it).")
@click.option("--format", "fmt", type=click.Choice(["ris", "medline", "pubmed-xml", "ctgov", "csv"]), default=None,
              help="The files' format [default: recognised from their content].")
@click.option("--encoding", default=None, help="The files' text encoding when not UTF-8 (e.g. cp1252).")
@click.option("--author", default=None, help='Who records it ("Name" or "Name <email>") [default: git\'s user].')
def search_add(db, wait, project, files, source, query, date, message, run_id, note, fmt, encoding, author):
    """Record a search run: the export FILES (RIS, PubMed MEDLINE/.nbib or XML, ClinicalTrials.gov JSON,
    CSV) with the database, query and date, as searches/RUN/ committed to git and replayed as a
    revision; its records are de-duplicated against each other, earlier runs and the trials in the
    database. A file that is not valid is refused (exit status 2) and nothing is written."""
    result = api.search_add(list(files), source=source, query=query, date=date, message=message, project=project,
                            db=db, run_id=run_id, note=note, format=fmt, encoding=encoding, author=author, wait=wait)
    run, d = result.details["run"], result.details["duplicates"]
    _print_front(result, "the run")
    click.echo(f"search {run.run_id}: {len(run.records)} records from {len(run.files)} file"
               f"{'s' if len(run.files) != 1 else ''}; duplicates: {d['within_run']} within the run, "
               f"{d['other_runs']} of earlier runs, {d['in_database']} of reports already in the database; "
               f"{d['reports_of_trials']} report{'s' if d['reports_of_trials'] != 1 else ''} of trials in the database")


def _override(action):
    @_db_options
    @click.argument("record_a")
    @click.argument("record_b")
    @click.option("--reason", required=True, help="Why.")
    @click.option("--by", default=None, help="Who decided.")
    @click.option("-m", "--message", default=None, help="Commit now as a revision with this message.")
    def command(db, wait, project, record_a, record_b, reason, by, message):
        result = api.search_override(action, record_a, record_b, reason=reason, by=by, message=message,
                                     project=project, db=db, wait=wait)
        _print_front(result, "the decision")

    return command


search_group.command("keep-apart", help="Reverse a merge: RECORD_A and RECORD_B are different reports "
                     "(searches/duplicates.yaml).")(_override("keep_apart"))
search_group.command("merge", help="Merge RECORD_A and RECORD_B, duplicates the rules missed "
                     "(searches/duplicates.yaml).")(_override("merge"))


@main.group("screen")
def screen_group():
    """Screening decisions as files of the project (screening/), title/abstract (ta) and full text (ft).

    \b
    livemeta screen init --reviewers 2 -m "Screening protocol: two reviewers"
    livemeta screen decide RUN/12 --stage ta --decision include --reviewer "A. Reviewer"
    livemeta screen commit -m "A. Reviewer: title/abstract screening of the March update"
    livemeta screen import asreview-export.csv --from asreview --reviewer "B. Reviewer" -m "..."
    livemeta query "select * from screening_conflicts"
    livemeta screen resolve RUN/12 --stage ta --decision include --reviewer "C. Arbiter" -m "..."
    livemeta screen status
    livemeta screen next --reviewer "A. Reviewer"      # one record at a time, likeliest include first
    livemeta screen rank --json
    livemeta screen simulate DATASET.csv --prior-record-id 12 345 --seed 1 --json
    """


_STAGE = click.option("--stage", type=click.Choice(["ta", "ft"]), required=True,
                      help="ta: title and abstract; ft: full text.")
_DECISION = click.option("--decision", type=click.Choice(["include", "exclude", "maybe"]), required=True)
_MESSAGE = click.option("-m", "--message", default=None,
                        help="Commit now as a revision with this message [default: write the file only].")


@screen_group.command("decide")
@_db_options
@click.argument("records", nargs=-1, required=True)
@_STAGE
@_DECISION
@click.option("--reviewer", required=True, help="Who decides.")
@click.option("--reason", default=None, help="Full-text exclusion: a reason id of the protocol's list (or not_retrieved).")
@click.option("--trial", "trial_id", default=None, help="Full-text inclusion: the trial (study file id) the record reports.")
@click.option("--seconds", type=click.FloatRange(min=0, max=86400), default=None, help="Time spent on the record.")
@click.option("--note", default=None)
@click.option("--role", type=click.Choice(["independent", "consensus"]), default="independent", show_default=True)
@_MESSAGE
def screen_decide(db, wait, project, records, stage, decision, reviewer, reason, trial_id, seconds, note, role, message):
    """Record REVIEWER's decision on each of RECORDS (ids RUN/N) at a stage."""
    result = api.screen_decide(list(records), stage=stage, decision=decision, reviewer=reviewer, reason=reason,
                               trial_id=trial_id, seconds=seconds, note=note, role=role, message=message,
                               project=project, db=db, wait=wait)
    _print_front(result, "the decisions")


@screen_group.command("resolve")
@_db_options
@click.argument("record")
@_STAGE
@_DECISION
@click.option("--reviewer", required=True, help="Who resolves (not one of the reviewers in conflict).")
@click.option("--reason", default=None)
@click.option("--trial", "trial_id", default=None)
@click.option("--note", default=None)
@_MESSAGE
def screen_resolve(db, wait, project, record, stage, decision, reviewer, reason, trial_id, note, message):
    """Resolve the conflict on RECORD at a stage with a third (consensus) decision."""
    result = api.screen_resolve(record, stage=stage, decision=decision, reviewer=reviewer, reason=reason,
                                trial_id=trial_id, note=note, message=message, project=project, db=db, wait=wait)
    _print_front(result, "the resolution")


@screen_group.command("import")
@_db_options
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--from", "tool", type=click.Choice(["asreview", "rayyan", "covidence"]), required=True)
@click.option("--stage", type=click.Choice(["ta", "ft"]), default="ta", show_default=True)
@click.option("--reviewer", default=None, help="Who decided (ASReview without user names; Covidence: e.g. 'Covidence consensus').")
@click.option("--decision", type=click.Choice(["include", "exclude", "maybe"]), default=None,
              help="Covidence: the list the file is (its decision for every row).")
@click.option("--role", type=click.Choice(["independent", "consensus"]), default=None,
              help="[default: independent; consensus for Covidence]")
@click.option("--encoding", default=None)
@_MESSAGE
def screen_import(db, wait, project, file, tool, stage, reviewer, decision, role, encoding, message):
    """Import the screening decisions of an ASReview, Rayyan or Covidence export, matched to the
    project's records (livemeta_id, DOI, PMID, title); all rows or none."""
    result = api.screen_import(file, tool=tool, stage=stage, reviewer=reviewer, decision=decision, role=role,
                               encoding=encoding, message=message, project=project, db=db, wait=wait)
    n = len(result.details["decisions"])
    _print_front(result, "the decisions")
    click.echo(f"{n} decision{'s' if n != 1 else ''} imported from {Path(file).name}")


@screen_group.command("init")
@_db_options
@click.option("--reviewers", type=click.IntRange(1, 5), default=2, show_default=True,
              help="Independent reviewers per record at each stage.")
@_MESSAGE
def screen_init(db, wait, project, reviewers, message):
    """Write screening/protocol.yaml (reviewers per stage, a list of exclusion reasons to edit)."""
    result = api.screen_init(reviewers=reviewers, message=message, project=project, db=db, wait=wait)
    _print_front(result, "the protocol")


@screen_group.command("commit")
@_db_options
@click.option("-m", "--message", required=True)
@click.option("--author", default=None)
def screen_commit(db, wait, project, message, author):
    """Commit the search and screening files changed in the working tree (checked first) as one revision."""
    result = api.screen_commit(message=message, project=project, db=db, author=author, wait=wait)
    _print_front(result, "them")


@screen_group.command("export")
@_db_options
@click.option("--stage", type=click.Choice(["ta", "ft"]), default="ta", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "ris"]), default="csv", show_default=True)
@click.option("--all", "all_records", is_flag=True, help="Also the records decided already.")
@click.option("--as-of", default=None)
def screen_export(db, wait, project, stage, fmt, all_records, as_of):
    """Print the records to screen (not duplicates) for ASReview, Rayyan or Covidence, with their
    livemeta ids (which `screen import` matches on)."""
    click.echo(api.screen_export(_db(db, project), stage=stage, fmt=fmt, pending_only=not all_records, as_of=as_of,
                                 wait=wait), nl=False)


@screen_group.command("status")
@_db_options
@click.option("--as-of", default=None)
def screen_status(db, wait, project, as_of):
    """Screening progress per stage, conflicts, the reviewers' agreement (Cohen's kappa) and time spent."""
    _note(db, project)
    revision, summary, agreement = api.screen_status(_db(db, project), as_of=as_of, wait=wait)
    from .screening.files import STAGE_NAMES

    click.echo(f"screening at revision {revision}")
    kappa = {a["stage"]: a for a in agreement}
    for s in summary:
        line = (f"{STAGE_NAMES[s['stage']]}: {s['records']} records; {s['included']} included, {s['excluded']} "
                f"excluded, {s['maybe']} maybe; {s['undecided']} not screened, {s['awaiting']} awaiting a reviewer, "
                f"{s['conflicts']} in conflict ({s['resolved']} resolved)")
        a = kappa.get(s["stage"])
        if a and a["pairs"]:
            k = "not defined" if a["kappa"] is None else f"{a['kappa']:.3f}"
            line += f"; Cohen's kappa {k} over {a['pairs']} records with two reviewers"
        if s["timed"]:
            line += f"; median {s['median_seconds']:.0f} s per decision ({s['timed']} timed)"
        click.echo(line)
    if not summary:
        click.echo("no search records")


_RANK_READS = (
    "Reads the search records of the stage (not duplicates; at ft those passed to full text) and the decisions "
    "committed, as `screen status` does (the project's database; --as-of an earlier revision); with --reviewer, at "
    "the current revision, also that reviewer's decisions file in the working tree, its lines not committed "
    "included. The model learns from each record's final decision (include or exclude), else the reviewer's own; "
    "a maybe, a full text not retrieved, and other reviewers' decisions not settled yet teach it nothing.")


@screen_group.command("rank", help=(
    "The records still to screen at a stage, likeliest include first, by the ranking model retrained on the "
    "decisions so far (a linear SVM on TF-IDF of title, abstract and keywords; see the README), with the "
    "stopping aid: the estimated number of includes left and the recall reached (Callaghan & Müller-Hansen "
    "2020; an estimate, not a promise). With no include decided yet the order is a seeded random one.\n\n"
    + _RANK_READS))
@_db_options
@click.option("--stage", type=click.Choice(["ta", "ft"]), default="ta", show_default=True,
              help="ta: title and abstract; ft: full text.")
@click.option("--reviewer", default=None, help="Rank what this reviewer has still to screen (their own decisions "
              "count, also those not committed).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N records.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: the records in order (record_id, "
              "score, title), the stopping estimate with its method, the model, the counts, what was read.")
@click.option("--as-of", default=None, help="A revision, date or version (the decisions committed then).")
def screen_rank(db, wait, project, stage, reviewer, limit, as_json, as_of):
    import json

    from .screening.terminal import rank_table

    _note(db, project)
    ranking = api.screen_rank(_db(db, project), stage=stage, reviewer=reviewer, as_of=as_of, limit=limit,
                              project=project, wait=wait)
    if as_json:
        click.echo(json.dumps(ranking.to_dict()))  # ASCII: no character of a title reaches the terminal raw
        return
    click.echo(rank_table(ranking))


@screen_group.command("next", help=(
    "Screen at the terminal, one record at a time: the record the ranking model puts first (title, authors, "
    "abstract, keywords, and the stopping aid: the estimated number of includes left and the recall reached, "
    "Callaghan & Müller-Hansen 2020), one key per decision: i include, e exclude (at ft then the reason, a "
    "number of the protocol's list), m maybe, s skip (not recorded), q quit. Each decision, with the seconds "
    "spent on it, is appended to screening/decisions/REVIEWER.csv and not committed (`livemeta screen commit "
    "-m MESSAGE` makes the session a revision); the model retrains before the next record. Keys are read from "
    "the terminal, or one character at a time from standard input when it is not one.\n\n" + _RANK_READS))
@_db_options
@click.option("--reviewer", required=True, help="Who screens.")
@click.option("--stage", type=click.Choice(["ta", "ft"]), default="ta", show_default=True,
              help="ta: title and abstract; ft: full text.")
def screen_next(db, wait, project, reviewer, stage):
    import datetime as dt

    from .screening import terminal

    _note(db, project)
    path = _db(db, project)
    queue = api.screen_queue(path, stage=stage, reviewer=reviewer, project=project, wait=wait)

    def decide(record_id, decision, reason, seconds):
        # the time to the millisecond, so that a session's decisions keep their order
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        at = now.replace(microsecond=now.microsecond // 1000 * 1000)
        result = api.screen_decide([record_id], stage=stage, decision=decision, reviewer=reviewer, reason=reason,
                                   seconds=seconds, project=project, db=db, wait=wait, at=at)
        return result.written

    terminal.run(queue, decide)


def _spread(args: list[str], option: str) -> list[str]:
    """``OPTION A B C`` as ``OPTION A OPTION B OPTION C``: an option that takes the values up to the
    next option, as ASReview's ``--prior-record-id`` does (click options take one value each)."""
    out, i = [], 0
    while i < len(args):
        out.append(args[i])
        if args[i] == "--":
            out.extend(args[i + 1:])
            break
        if args[i] == option:
            j = i + 1
            while j < len(args) and not args[j].startswith("-"):
                if j > i + 1:
                    out.append(option)
                out.append(args[j])
                j += 1
            i = j
            continue
        i += 1
    return out


class _SimulateCommand(click.Command):
    def parse_args(self, ctx, args):
        return super().parse_args(ctx, _spread(list(args), "--prior-record-id"))


@screen_group.command("simulate", cls=_SimulateCommand)
@click.argument("dataset", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--prior-record-id", "prior_ids", multiple=True, metavar="ID...",
              help="Records known before screening starts (record_id values; several after one option, or the "
              "option repeated). Screened first, left out of the metrics.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the random choices (the order before an include is known, presumed excludes, the "
              "order in which the solver visits the records).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the order screened, the metrics).")
@_project_option
def screen_simulate(dataset, prior_ids, seed, as_json, project):
    """Replay a labelled DATASET as a reviewer screening with the ranking model would.

    DATASET is a CSV with columns record_id, title, abstract, optional keywords (MeSH terms or
    keywords separated by ;) and label_included (0 or 1). The prior records come first; then one
    record at a time, the one the model (retrained on every label so far) ranks first, until the last
    include is found; the rest follow in the last ranking. Prints work saved over sampling at 95%
    recall and recall after 10% and 25% of the records, as ASReview Insights defines them (priors
    left out), and the seconds spent.
    """
    _check_project(project)  # (a labelled dataset, no project: a project named must still be one)
    import json

    result = api.screen_simulate(dataset, list(prior_ids), seed=seed)
    if as_json:
        d = result.to_dict()
        out = {"dataset": str(dataset), **{k: d[k] for k in d if k != "order"}, "order": d["order"]}
        click.echo(json.dumps(out, ensure_ascii=False))
        return

    def fmt(v):
        return "undefined (no include after the priors)" if v is None else f"{v:.3f}"

    click.echo(f"{dataset}: {result.records} records, {result.includes} includes; priors "
               f"{', '.join(str(p) for p in result.priors) or 'none'}; seed {result.seed}")
    click.echo(f"WSS@95 {fmt(result.wss95)}   recall@10% {fmt(result.recall10)}   recall@25% {fmt(result.recall25)}")
    click.echo(f"last include found after {result.last_include_at} of {result.records} records; "
               f"{result.seconds:.1f} s")
    click.echo(f"model: {result.model}")

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
