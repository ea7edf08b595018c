"""livemeta in a notebook: open the evidence as of any revision, query it, run analyses, plot them.

    import livemeta

    ev = livemeta.open()                               # the project here: its database, current
    old = ev.at("review-2025")                         # the same evidence as of a version
    ev.sql("select trial_id, name from trials")        # a pandas DataFrame (read-only SQL)
    os_ = ev.analysis("os")                            # an analysis in force, at ev.revision
    os_.to_frame()                                     # one tidy row per stratum
    os_.forest_plot()                                  # a matplotlib Figure
    ev.analysis({"id": "os_reml", "title": "OS, REML", "view": "analysis_rct_os", "measure": "HR",
                 "method": "REML", "test": "knha"})    # an ad hoc analysis: the keys of analyses.yaml
    ev.estimates()                                     # every analysis in force, one tidy frame
    [t.name for t in ev.trials()]                      # typed Trial objects with arms, outcomes, ...
    livemeta.pool(yi, vi, method="REML")               # the engine on arrays (metafor's rma)
    livemeta.meta_analysis(yi, vi, labels=[...], measure="HR").forest_plot()

An :class:`Evidence` only reads: it opens the database for each call and closes it at once, so it
never keeps a writer (``livemeta ingest``) waiting. The evidence changes through ``livemeta
ingest`` and git.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .analysis.run import AnalysisResult
from .errors import LivemetaError
from .project import Project, find_project


@dataclass(frozen=True)
class Analysis(AnalysisResult):
    """An :class:`~livemeta.analysis.run.AnalysisResult` as a notebook gets it: the same numbers,
    with the drawing convenience of the layer above the analyses (``forest_plot()``)."""

    @classmethod
    def of(cls, result: AnalysisResult) -> Analysis:
        from dataclasses import fields

        return cls(**{f.name: getattr(result, f.name) for f in fields(AnalysisResult)})

    def forest_plot(self, **kw):
        """The forest plot of this result (a matplotlib Figure; see :func:`livemeta.reports.plots.forest_plot`)."""
        from .reports.plots import forest_plot

        return forest_plot(self, **kw)


@dataclass(frozen=True)
class Evidence:
    """The evidence database ``db`` read as of ``revision`` (the project it belongs to, if known)."""

    db: Path
    revision: int
    project: Project | None = None
    wait: float = 10.0

    # -- where and when -------------------------------------------------------------------------
    def at(self, as_of: str | int) -> Evidence:
        """The same evidence as of another revision: an id, a date (YYYY-MM-DD) or a version name."""
        return open(db=self.db, project=self.project, as_of=as_of, wait=self.wait)

    def versions(self) -> pd.DataFrame:
        """The named versions up to this revision."""
        return self.sql("select * from versions")

    def revisions(self) -> pd.DataFrame:
        """The revisions up to this one, with their commits."""
        return self.sql("select * from revisions")

    # -- reading --------------------------------------------------------------------------------
    def sql(self, query: str, *, timeout: float = 30.0) -> pd.DataFrame:
        """Read-only SQL on the views as of this revision, as a DataFrame."""
        from .query import run_query

        return run_query(self.db, query, as_of=self.revision, wait=self.wait, timeout=timeout).to_frame()

    def trials(self) -> list:
        """Every trial of this revision as a typed :class:`livemeta.db.models.Trial`, with its
        sources, arms, resistance definitions, outcomes and adverse events."""
        from sqlmodel import select

        from .db.models import Trial, session

        with session(self.db, as_of=self.revision, wait=self.wait) as s:
            trials = s.exec(select(Trial).order_by(Trial.trial_id)).all()
            for t in trials:  # load every child list before the session closes
                _ = (t.sources, t.arms, t.resistance_definitions, t.outcomes, t.adverse_events)
            s.expunge_all()
        return list(trials)

    # -- analyses -------------------------------------------------------------------------------
    @property
    def analyses(self) -> list:
        """The analyses in force at this revision (:class:`livemeta.analysis.AnalysisSpec`)."""
        from .analysis import analyses_at
        from .db import connect

        with connect(self.db, read_only=True, wait=self.wait) as con:
            return analyses_at(con, self.revision).specs

    def analysis(self, spec: str | dict):
        """One analysis computed at this revision: the id of an analysis in force, or an ad hoc one
        given as a mapping with the keys of an analyses file entry (id, title, view, measure,
        method, test, filters, subgroup, ...). Returns an :class:`~livemeta.analysis.AnalysisResult`
        (``to_frame()``), as an :class:`Analysis` (``forest_plot()`` too)."""
        from .analysis import analyses_at, run_analysis, select_specs
        from .analysis.spec import spec_from_dict
        from .db import connect

        with connect(self.db, read_only=True, wait=self.wait) as con:
            if isinstance(spec, str):
                (chosen,) = select_specs(analyses_at(con, self.revision).specs, [spec])
            else:
                chosen = spec_from_dict({"title": spec.get("id", "ad hoc analysis"), **spec}, None, "ad hoc analysis")
            return Analysis.of(run_analysis(con, chosen, self.revision))

    def estimates(self, ids: list[str] | None = None) -> pd.DataFrame:
        """Every analysis in force (or ``ids``) at this revision: one tidy frame, a row per stratum."""
        from .analysis import analyses_at, run_analysis, select_specs
        from .db import connect

        with connect(self.db, read_only=True, wait=self.wait) as con:
            views: dict = {}
            results = [run_analysis(con, s, self.revision, views) for s in select_specs(analyses_at(con, self.revision).specs, ids)]
        return pd.concat([r.to_frame() for r in results], ignore_index=True)

    def diff(self, other: Evidence | str | int | None = None):
        """What changed from ``other`` (an Evidence, a revision or a version; default the revision
        before) to this revision (:class:`livemeta.living.diff.RevisionDiff`)."""
        from .api import diff

        frm = other.revision if isinstance(other, Evidence) else other
        return diff(self.db, frm, self.revision, wait=self.wait)


def open(target: Path | str | None = None, *, project: Path | str | Project | None = None,
         db: Path | str | None = None, as_of: str | int | None = None, wait: float = 10.0) -> Evidence:  # noqa: A001
    """The evidence, read-only, as of ``as_of`` (a revision id, a date or a version name; default the
    current revision). ``target`` is a database file or a project (folder or livemeta.yaml);
    without one, the project is found from the working directory (or ``$LIVEMETA_PROJECT``)."""
    from .api import database_path
    from .db import connect, resolve_revision

    if target is not None:
        t = Path(target)
        if t.suffix == ".duckdb" or (t.is_file() and t.name != "livemeta.yaml"):
            db = t
        else:
            project = t
    proj = project if isinstance(project, Project) or project is None else find_project(project)
    if proj is None and db is None:
        proj = find_project()
    path = database_path(db, proj)
    if not path.exists():
        raise LivemetaError(f"no database at {path}", hint="build it from the project's history with `livemeta build`")
    with connect(path, read_only=True, wait=wait) as con:
        revision = resolve_revision(con, as_of)
    return Evidence(path, revision, proj, wait)


def meta_analysis(yi, vi, *, labels=None, measure: str = "HR", method: str = "REML", test: str = "z",
                  level: float = 0.95, title: str = "meta-analysis"):
    """An analysis of arrays (``yi`` on the analysis scale: ln HR/OR/RR, logit proportion; ``vi``
    their variances), as an :class:`Analysis` that has ``to_frame()`` and ``forest_plot()`` like
    the analyses of the database."""
    import numpy as np

    from .analysis.spec import AnalysisSpec, _choice, MEASURES, METHODS, TESTS
    from .pooling import pool

    _choice(measure, MEASURES, "measure")
    _choice(method, METHODS, "method")
    _choice(test, TESTS, "test")
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    labels = list(labels) if labels is not None else [f"study {i + 1}" for i in range(len(yi))]
    spec = AnalysisSpec(id=title, title=title, view="(arrays)", measure=measure, method=method, test=test, level=level)
    result = pool(yi, vi, method=method, test=test, level=level, scale=spec.scale)
    studies = pd.DataFrame({"trial_id": labels, "label": labels, "yi": yi, "vi": vi,
                            "weight": np.asarray(result.weights, float)})
    return Analysis(spec, 0, studies, result)
