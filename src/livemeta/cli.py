"""The ``livemeta`` command: a thin click layer over :mod:`livemeta.api`.

Every command takes ``--db PATH`` (or ``LIVEMETA_DB``; default ``data/livemeta.duckdb``) and
``--wait SECONDS`` (how long to wait for a database locked by another process). User errors are
printed as one message with a hint, never as a traceback, and exit non-zero.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__, api
from .errors import LivemetaError
from .paths import default_db_path


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
        help="Database file [env LIVEMETA_DB; default data/livemeta.duckdb].",
    )(f)
    return f


def _db(db: Path | None) -> Path:
    return db if db is not None else default_db_path()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="livemeta")
def main():
    """livemeta: a living evidence database for PD-(L)1 rechallenge in advanced NSCLC.

    Study files (one per trial, YAML or JSON) are validated and ingested as revisions into a
    DuckDB database; SQL views and the pooling engine keep the meta-analysis current.

    \b
    Start with:  livemeta build && livemeta pool
    Explore:     livemeta views; livemeta query "select name, inclusion from trials"
    Add a trial: livemeta template > new.yaml; livemeta ingest new.yaml -m "add NEW trial"
    """


@main.command()
@_db_options
def init(db, wait):
    """Create the database, or upgrade it to the newest schema (idempotent)."""
    path = _db(db)
    version = api.init(path, wait=wait)
    click.echo(f"{path}: schema version {version}")


@main.command()
@_db_options
@click.option(
    "--studies",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of study files [default: data/studies].",
)
def build(db, wait, studies):
    """(Re)create the database from the bundled study files in data/studies/."""
    path = _db(db)
    report, run = api.build(path, studies=studies, wait=wait)
    click.echo(report.summary())
    click.echo(f"pooled {len(run.results)} analyses at revision {run.revision}")
    click.echo(f"built {path}")


@main.command()
def template():
    """Print the annotated study-file template (ingest/template.yaml)."""
    click.echo(api.template_text(), nl=False)


@main.command()
@_db_options
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--supersede", is_flag=True, help="The files are corrections or new data cuts of trials already in the database.")
def validate(db, wait, files, supersede):
    """Validate study FILES without writing anything.

    Checks structure, vocabularies, cross-references, the expectation suites and, when the
    database exists, duplicates against it. Exit status 2 when a file is invalid.
    """
    report = api.validate(list(files), db_path=_db(db), supersede=supersede, wait=wait)
    click.echo(report.summary())


@main.command()
@_db_options
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-m", "--message", default=None, help="What this revision adds and why.")
@click.option("--author", default=None, help="Who makes the revision [default: $LIVEMETA_AUTHOR or login name].")
@click.option("--dry-run", is_flag=True, help="Validate and report what would change; write nothing.")
@click.option("--supersede", is_flag=True, help="Replace trials already in the database (a correction or a new data cut).")
@click.option("--no-refresh", is_flag=True, help="Do not recompute the pooled estimates after ingesting.")
def ingest(db, wait, files, message, author, dry_run, supersede, no_refresh):
    """Validate study FILES and add them as one revision (all or nothing)."""
    if message is None:
        names = ", ".join(Path(f).name for f in files[:3]) + (" ..." if len(files) > 3 else "")
        message = f"ingest {names}"
    with _progress("ingest", total=len(files) + 2) as step:
        report, run = api.ingest(
            _db(db), list(files), message=message, author=author, supersede=supersede, dry_run=dry_run,
            refresh=not no_refresh, progress=step, wait=wait,
        )
    click.echo(report.summary())
    if run is not None:
        click.echo(f"pooled {len(run.results)} analyses at revision {run.revision}; `livemeta diff` shows what moved")


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
@click.option("--as-of", default=None, help="Read the views as of a revision id or a date (YYYY-MM-DD, UTC).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds before the query is stopped.")
def query(db, wait, sql, fmt, as_of, timeout):
    """Run read-only SQL against the views (see `livemeta views`).

    \b
    livemeta query "select trial_id, name, inclusion from trials"
    livemeta query "select * from outcomes where endpoint = 'os'" --format csv
    livemeta query "select count(*) from trials" --as-of 1
    """
    result = api.query(_db(db), sql, as_of=as_of, wait=wait, timeout=timeout)
    click.echo(result.format(fmt))


@main.command()
def views():
    """List the named views (queries/views/) with their descriptions."""
    items = api.view_list()
    width = max(len(v.name) for v in items)
    for v in items:
        click.echo(f"{v.name.ljust(width)}  {v.description}")


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
@click.option("--as-of", default=None, help="Recompute as of a revision id or date (UTC) and compare with the stored numbers.")
@click.option("--list", "list_", is_flag=True, help="List the analyses of queries/analyses.yaml and exit.")
def pool(db, wait, analyses, as_json, method, test_, exclude_unverified, reported_intervals_only, as_of, list_):
    """Run the meta-analyses (all, or the ANALYSES named) and store the results.

    \b
    livemeta pool                       every analysis of queries/analyses.yaml
    livemeta pool os pfs --json
    livemeta pool os --exclude-unverified
    livemeta pool os --reported-intervals-only
    livemeta pool --as-of 1             the numbers as they were at revision 1
    """
    from .analysis.present import to_json, to_table

    if list_:
        for spec in api.analyses():
            extra = f"  (sensitivity of {spec.sensitivity_of})" if spec.sensitivity_of else ""
            click.echo(f"{spec.id:<26} {spec.title}{extra}")
        return
    run = api.pool(_db(db), analyses, method=method, test=test_, exclude_unverified=exclude_unverified,
                   as_of=as_of, wait=wait, reported_intervals_only=reported_intervals_only)
    if as_json:
        click.echo(to_json(run.results))
    else:
        click.echo(to_table(run.results))
    if as_of is not None:
        if run.stored == "identical":
            click.echo(f"identical to the numbers stored at revision {run.revision}", err=True)
        elif run.stored == "not stored":
            click.echo(f"no numbers were stored at revision {run.revision} to compare with", err=True)
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
def monitor(db, wait, analysis, target, alpha, power, one_sided, heterogeneity, information, spending, futility,
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
        _db(db), analysis, target=target, alpha=alpha, power=power, sided=1 if one_sided else 2,
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
def report(db, wait, out, as_of):
    """Write the static report: forest and funnel plots, summary of findings, counts and gaps.

    Shows a progress bar on a terminal; quiet when piped.
    """
    with _progress("report") as step:
        index = api.report(_db(db), out, as_of=as_of, progress=step, wait=wait)
    click.echo(f"wrote {index}")


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
def log(db, wait):
    """List the revisions, oldest first, with the analyses whose conclusion changed at each."""
    for r, changes in api.log(_db(db), wait=wait):
        click.echo(f"{r.revision_id:>4}  {r.created_at:%Y-%m-%d %H:%M:%S}  {r.kind:<6}  {r.author}: {r.message}")
        for c in changes:
            click.echo(f"        conclusion changed: {c}")


@main.command()
@_db_options
@click.argument("from_rev", required=False)
@click.argument("to_rev", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON for machines instead of Markdown.")
def diff(db, wait, from_rev, to_rev, as_json):
    """What changed from revision FROM_REV to TO_REV (default: the previous revision to the current one).

    Trials added, removed or superseded (field by field: old value, new value, source), and for
    every analysis the old and new estimate, CI, tau2, I2 and k, flagging a change of direction, of
    statistical significance and of the prediction interval. Revisions are ids or dates.
    """
    result = api.diff(_db(db), from_rev, to_rev, wait=wait)
    click.echo(result.to_json() if as_json else result.to_markdown())


@main.command()
@_db_options
@click.argument("analysis")
@click.option("--as-of", default=None, help="A revision id or date.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw a cumulative forest plot (PNG; an SVG is written beside it).")
def cumulative(db, wait, analysis, as_of, fmt, plot):
    """Cumulative meta-analysis of ANALYSIS, adding trials by first publication date."""
    from .query import QueryResult

    spec, revision, table = api.cumulative(_db(db), analysis, as_of=as_of, wait=wait)
    rows = [tuple(None if v != v else v for v in r) for r in table.itertuples(index=False)]
    click.echo(QueryResult(list(table.columns), rows, revision).format(fmt))
    if plot is not None:
        from .reports.plots import cumulative_plot, save

        fig = cumulative_plot(table, title=f"Cumulative meta-analysis: {spec.title}", measure=spec.measure,
                              footer=f"revision {revision} · livemeta {__version__}")
        written = save(fig, plot.with_suffix(""))
        click.echo(f"wrote {', '.join(str(p) for p in written)}", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
