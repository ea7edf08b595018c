"""The ``livemeta`` command: a thin click layer over :mod:`livemeta.api`.

Every command takes ``--db PATH`` (or ``LIVEMETA_DB``; default ``data/livemeta.duckdb``) and
``--wait SECONDS`` (how long to wait for a database locked by another process). User errors are
printed as one message with a hint, never as a traceback, and exit non-zero.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from . import __version__, api
from .errors import LivemetaError


class _Group(click.Group):
    """Prints :class:`LivemetaError` as ``error: ...`` and exits with its code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LivemetaError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


def _db_options(f):
    f = click.option(
        "--project",
        "project",
        type=click.Path(path_type=Path),
        envvar="LIVEMETA_PROJECT",
        default=None,
        help="The evidence project (its folder or livemeta.yaml) [env LIVEMETA_PROJECT; default: the nearest "
        "livemeta.yaml in this folder or its parents].",
    )(f)
    f = click.option(
        "--wait",
        type=click.FloatRange(min=0),
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

    Every commit that changed the study files or the analyses file is one revision (its message,
    author and time); every analysis is pooled and stored at each. A database that already
    follows the history only gets the new commits. Refuses, writing nothing, when the database
    holds revisions the repository cannot reproduce (see --backup) or when a merge changed the
    same trial on both sides (see `livemeta resolve`).
    """
    with _progress("build") as step:
        report = api.build(project, db=db, backup=backup, wait=wait, progress=step)
    _print_applied(report.applied)
    for old, new, sha in report.renumbered:
        click.echo(f"revision {old} (commit {sha[:9]}) is now revision {new}: the history was merged")
    if report.damaged:
        click.echo(f"the old database could not be read ({report.damaged}); it was rebuilt", err=True)
    if report.backup:
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
                   "`livemeta ingest FILE -m MESSAGE` validates and commits a study file.", err=True)


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
    click.echo(f"{report.database} agrees with the repository at {report.head[:9]}: {report.revisions} revisions, "
               f"{report.tables} tables, {report.rows} evidence rows and {report.estimates} stored estimates "
               f"identical to a fresh replay ({report.seconds:.1f} s)")


@main.command("new-project")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", required=True, help="What the review is about.")
def new_project(folder, name):
    """Create an evidence project in FOLDER: livemeta.yaml, studies/, analyses.yaml and a git repository
    with its first commit (where the history starts)."""
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
def template():
    """Print the annotated study-file template (ingest/template.yaml)."""
    click.echo(api.template_text(), nl=False)


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
@click.option("-m", "--message", default=None, help="What this revision adds and why (the commit message).")
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
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds for running, fetching and formatting before the query is stopped.")
@click.option("--max-rows", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="Refuse a result with more rows.")
@click.option("--max-mb", type=click.FloatRange(min=0.001), default=100.0, show_default=True,
              help="Refuse a result holding more megabytes of values.")
def query(db, wait, project, sql, fmt, as_of, timeout, max_rows, max_mb):
    """Run read-only SQL against the views (see `livemeta views`).

    \b
    livemeta query "select trial_id, name, inclusion from trials"
    livemeta query "select * from outcomes where endpoint = 'os'" --format csv
    livemeta query "select count(*) from trials" --as-of 1
    """
    import time

    deadline = time.monotonic() + timeout
    result = api.query(_db(db, project), sql, as_of=as_of, wait=wait, timeout=timeout, max_rows=max_rows, max_mb=max_mb)
    click.echo(result.format(fmt, deadline=deadline, timeout=timeout))


@main.command()
@click.option("--no-columns", is_flag=True, help="Names and descriptions only.")
def views(no_columns):
    """List the named views (queries/views/) with their descriptions and columns."""
    import textwrap

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
@click.option("--method", type=click.Choice(["FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS"]), default=None,
              help="Override the estimator (the variant is stored under its own id, e.g. os[method=REML]).")
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
            click.echo(f"+{n} trial{'s' if n != 1 else ''} since {run.version}: {', '.join(run.since)}; "
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
        return float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use D2, I2, none or a number in [0, 1)") from None


@main.command()
@_db_options
@click.argument("analysis")
@click.option("--target-hr", "target", type=click.FloatRange(min=0, min_open=True), required=True,
              help="The clinically relevant effect as a ratio (HR, or OR / RR for those analyses), e.g. 0.80.")
@click.option("--alpha", type=click.FloatRange(0, 0.5, min_open=True, max_open=True), default=0.05, show_default=True,
              help="Type I error (two-sided unless --one-sided).")
@click.option("--power", type=click.FloatRange(0.5, 1, max_open=True), default=0.8, show_default=True)
@click.option("--one-sided", is_flag=True, help="One-sided monitoring in the direction of the target.")
@click.option("--heterogeneity", default="D2", show_default=True, callback=lambda _c, _p, v: _heterogeneity(v),
              help="Adjustment of the required information: D2 (diversity), I2, none, or a number in [0, 1).")
@click.option("--information", type=click.Choice(["inverse-variance", "events"]), default="inverse-variance",
              show_default=True, help="Accrued information: sum of 1/vi, or events/4 (log hazard ratios).")
@click.option("--spending", type=click.Choice(["OF", "P"]), default="OF", show_default=True,
              help="Lan-DeMets alpha spending: O'Brien-Fleming or Pocock type.")
@click.option("--futility", type=click.Choice(["none", "OF", "P"]), default="none", show_default=True,
              help="Beta-spending futility boundaries (with --one-sided).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the TSA plot (PNG; an SVG is written beside it).")
@click.option("--as-of", default=None, help="Monitor the evidence as of a revision id or date.")
@click.option("--json", "as_json", is_flag=True, help="Print the monitoring as JSON.")
def monitor(db, wait, project, analysis, target, alpha, power, one_sided, heterogeneity, information, spending, futility,
            plot, as_of, as_json):
    """Sequential monitoring (trial sequential analysis) of ANALYSIS by first publication date.

    \b
    livemeta monitor os --target-hr 0.80
    livemeta monitor os --target-hr 0.80 --alpha 0.05 --power 0.9 --plot tsa-os.png
    livemeta monitor os --target-hr 0.80 --one-sided --alpha 0.025 --futility OF
    """
    import json as _json
    import math

    spec, revision, mon, table = api.monitor(
        _db(db, project), analysis, target=target, alpha=alpha, power=power, sided=1 if one_sided else 2,
        heterogeneity=heterogeneity, information=information.replace("-", "_"), type_of_design=f"as{spending}",
        futility="none" if futility == "none" else f"bs{futility}", as_of=as_of, wait=wait)
    if as_json:
        click.echo(_json.dumps({"analysis": spec.id, "revision": revision, **mon.to_dict()}, indent=2,
                               default=lambda x: None if isinstance(x, float) and not math.isfinite(x) else str(x)))
    else:
        click.echo(f"{spec.id}: {spec.title} (revision {revision})")
        click.echo(f"target {spec.measure} {target:g}; alpha {alpha:g} {'one' if one_sided else 'two'}-sided, power "
                   f"{power:g}; required information {mon.required_information:.1f}, adjusted by {mon.heterogeneity} "
                   f"= {mon.adjustment:.3f}: {mon.required_information_adjusted:.1f} ({mon.information_kind})")
        shown = table.assign(
            information=table["information"].map(lambda v: f"{v:.1f}"),
            fraction=table["fraction"].map(lambda v: f"{v:.3f}"),
            ratio=table["ratio"].map(lambda v: f"{v:.3f}"),
            z=table["z"].map(lambda v: f"{v:.3f}"),
            efficacy_bound=table["efficacy_bound"].map(lambda v: f"{v:.3f}"),
            harm_bound=table["harm_bound"].map(lambda v: "" if v != v else f"{v:.3f}"),
            futility_bound=table["futility_bound"].map(lambda v: "" if v != v else f"{v:.3f}"),
            alpha_spent=table["alpha_spent"].map(lambda v: f"{v:.2g}"))
        if futility == "none":
            shown = shown.drop(columns=["futility_bound"])
        if one_sided:
            shown = shown.drop(columns=["harm_bound"])
        click.echo(shown.to_string(index=False))
        click.echo(f"{mon.conclusion} (sequential monitoring is a secondary analysis)")
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
    """List the revisions, oldest first: commit, author, message, the versions that name each, the
    analyses whose conclusion changed at it, and why a revision was rejected when replayed."""
    _note(db, project)
    for e in api.log(_db(db, project), wait=wait):
        r = e.revision
        sha = e.commit[:9] if e.commit else r.kind
        subject = r.message.splitlines()[0] if r.message else ""
        click.echo(f"{r.revision_id:>4}  {r.created_at:%Y-%m-%d %H:%M:%S}  {sha:<9}  {r.author}: {subject}")
        for name in e.versions:
            click.echo(f"        version {name}")
        if e.status == "rejected":
            click.echo("        REJECTED when replayed under today's validation; what failed was not applied:")
            for p in e.problems:
                click.echo(f"          {p}")
        for c in e.changes:
            click.echo(f"        conclusion changed: {c}")


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
    json give every digit. The first row (one trial) is that trial's interval as printed.
    """
    from .query import QueryResult

    from .living.cumulative import rounded

    spec, revision, table = api.cumulative(_db(db, project), analysis, as_of=as_of, wait=wait)
    shown = rounded(table, spec.measure) if fmt in ("table", "markdown") else table  # machines get every digit
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


@main.group("screen")
def screen_group():
    """Screening with a ranking model that puts likely includes first.

    \b
    livemeta screen simulate DATASET.csv --prior-record-id 12 345 --seed 1 --json
    """


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
def screen_simulate(dataset, prior_ids, seed, as_json):
    """Replay a labelled DATASET as a reviewer screening with the ranking model would.

    DATASET is a CSV with columns record_id, title, abstract, optional keywords (MeSH terms or
    keywords separated by ;) and label_included (0 or 1). The prior records come first; then one
    record at a time, the one the model (retrained on every label so far) ranks first, until the last
    include is found; the rest follow in the last ranking. Prints work saved over sampling at 95%
    recall and recall after 10% and 25% of the records, as ASReview Insights defines them (priors
    left out), and the seconds spent.
    """
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
