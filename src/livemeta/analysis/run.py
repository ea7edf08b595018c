"""Running an analysis: rows from its view (as of a revision) -> effect sizes -> pooling.

The view gives analysis-ready rows; this module only applies the analysis's filters, turns counts
into effect sizes with the pooling engine's escalc equivalents and pools. No SQL is written here:
the rows come from the named view through DuckDB's relational API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import duckdb
import numpy as np
import pandas as pd

from ..db.revisions import set_as_of
from ..errors import LivemetaError
from ..pooling import PoolResult, pool
from ..pooling.effects import log_or, log_rr, logit_proportion
from ..pooling.glmm import pool_glmm
from ..pooling.metareg import MetaRegResult, metareg
from ..pooling.subgroups import SubgroupResult, pool_subgroups
from ..words import count
from .spec import AnalysisSpec

#: How a hazard-ratio analysis reads a CI whose level is disputed (``ci_level`` of the spec): the
#: view's variance column and the column saying how each row's yi / vi were derived
#: (queries/views/analysis_rct_hr.sql).
HR_READINGS = {
    "printed": ("vi", "derivation"),
    "alternative": ("vi_alternative", "derivation"),
    "p_value": ("vi_p_value", "derivation_p_value"),
}


@dataclass(frozen=True)
class AnalysisResult:
    """One analysis computed at one revision.

    ``studies`` holds the rows pooled (trial_id, label, yi, vi, weight in percent, and the view's
    descriptive columns); ``overall`` the pooled result of all of them (None when k = 0);
    ``subgroups`` the subgroup analysis when the spec names a subgroup column; ``metareg`` the
    meta-regression on the spec's ``moderators`` (``metareg_note`` says which rows it left out, or
    why it could not be fitted); ``monitoring`` the sequential monitoring when the spec asks for it
    (``monitoring_note`` says why there is none).
    """

    spec: AnalysisSpec
    revision: int
    studies: pd.DataFrame = field(repr=False)
    overall: PoolResult | None
    subgroups: SubgroupResult | None = None
    note: str | None = None
    metareg: MetaRegResult | None = None
    metareg_note: str | None = None
    monitoring: object | None = None  # livemeta.analysis.monitoring.MonitoringRun (spec `monitoring:`)
    monitoring_note: str | None = None

    @property
    def k(self) -> int:
        return len(self.studies)

    @cached_property
    def input_flags(self) -> list:
        """The implausible inputs this analysis pools, as it reads them
        (:func:`livemeta.analysis.caveats.input_flags`): every output shows them beside the estimate."""
        from .caveats import input_flags

        return input_flags(self)

    @cached_property
    def caveats(self) -> list:
        """Caveats of few studies for the model, meta-regression and subgroups
        (:func:`livemeta.analysis.caveats.caveats`)."""
        from .caveats import caveats

        return caveats(self)

    @cached_property
    def trials(self) -> list[str]:
        """The trials pooled, in the order pooled (several rows of one trial: one trial)."""
        return list(dict.fromkeys(self.studies["trial_id"].tolist()))

    def to_frame(self) -> pd.DataFrame:
        """One tidy row per stratum ('overall', then each subgroup): the numbers as stored (analysis
        scale: ``estimate``, ``ci_low``, ...) and on the ratio (or proportion) scale (``*_ratio``),
        with the method that made them."""
        from ..pooling import back_transform
        from .store import result_rows

        df = pd.DataFrame(result_rows(self)).drop(columns=["computed_at"])
        for col in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
            df[f"{col}_{'proportion' if self.spec.scale == 'logit' else 'ratio'}"] = [
                None if v is None else float(back_transform(v, scale=self.spec.scale)) for v in df[col]]
        return df


def _filter(df: pd.DataFrame, spec: AnalysisSpec) -> pd.DataFrame:
    """Keep rows matching every ``filters`` entry, then drop rows matching any ``exclude`` entry."""
    for keep, conditions in ((True, spec.filters), (False, spec.exclude)):
        for column, wanted in conditions.items():
            if column not in df.columns:
                raise LivemetaError(
                    f"analysis {spec.id}: {'filter' if keep else 'exclude'} on {column!r}, which view {spec.view} does not have",
                    hint=f"columns: {', '.join(df.columns)}",
                )
            match = df[column].isin(wanted if isinstance(wanted, list) else [wanted])
            df = df[match if keep else ~match]
    return df


def _effect_sizes(df: pd.DataFrame, spec: AnalysisSpec) -> tuple[np.ndarray, np.ndarray]:
    if spec.measure == "HR":
        return df["yi"].to_numpy(float), df[HR_READINGS[spec.ci_level][0]].to_numpy(float)
    if spec.measure in ("OR", "RR"):
        cells = [df[c].to_numpy(float) for c in ("ai", "bi", "ci", "di")]
        es = (log_or if spec.measure == "OR" else log_rr)(*cells)
        return np.asarray(es.yi, float), np.asarray(es.vi, float)
    es = logit_proportion(df["xi"].to_numpy(float), df["ni"].to_numpy(float))
    return np.asarray(es.yi, float), np.asarray(es.vi, float)


#: The order an analysis pools its rows in: first publication, trial id and label, then a key that
#: tells the rows of one trial apart (which of them a view has), so that the order never depends on
#: how the view's rows were read. The stored trial lists (``stored_pooled_estimates.sql``) follow it.
ORDER = ("first_publication_date", "trial_id", "label", "outcome_id", "resistance_category", "arm_id", "ae_id_experimental")


def read_view(
    con: duckdb.DuckDBPyConnection, view: str, revision: int | None, trial_ids: list[str] | None = None
) -> pd.DataFrame:
    """A view's rows as of ``revision`` (None: current), only those of ``trial_ids`` when given."""
    from ..sql import named, view_frame

    set_as_of(con, revision)
    try:
        if trial_ids is None:
            return view_frame(con, view)
        return con.execute(named("view_rows_of_trials").format(view=view.replace('"', '""')), [list(trial_ids)]).df()
    finally:
        set_as_of(con, None)


def load_rows(
    con: duckdb.DuckDBPyConnection, spec: AnalysisSpec, revision: int | None, views: dict | None = None
) -> pd.DataFrame:
    """The view's rows as of ``revision`` (None: current), filtered as the analysis says, in
    :data:`ORDER`.

    ``views`` (optional) caches each view's rows by (view, revision) across analyses that share it,
    and by (view, revision, "ordered") in that order: a view is sorted once, not once per analysis
    (the stable sort makes filtering then sorting and sorting then filtering the same rows in the
    same order).
    """
    key = (spec.view, revision)
    df = views.get((*key, "ordered")) if views is not None else None
    if df is None:
        df = views[key] if views is not None and key in views else read_view(con, spec.view, revision)
        order = [c for c in ORDER if c in df.columns]
        df = df.sort_values(order, kind="stable", na_position="last")
        if views is not None:
            views[(*key, "ordered")] = df
    return one_row_per_trial(_filter(df, spec).reset_index(drop=True), spec)


#: the columns of a pooled proportion's row that add up when a trial's cohorts are combined
_SUMMED = ("xi", "ni")


def one_row_per_trial(df: pd.DataFrame, spec: AnalysisSpec) -> pd.DataFrame:
    """The unit of analysis of a pooled proportion: each trial once (``spec.cohort_rule``).

    A single-arm view has a row per arm (cohort); a trial with several enters once: ``combine``
    sums their responders and patients into one row (other columns keep their value where the
    cohorts agree, else their values joined with '; '; ``verified`` only when every cohort is;
    the label says how many were combined), ``largest`` keeps the cohort with most patients. The
    column ``cohorts`` says how many cohorts each row stands for. Other measures pool one
    comparison per trial already and are returned as they are."""
    if spec.measure != "proportion" or df.empty or "arm_id" not in df.columns:
        return df
    counts = df.groupby("trial_id", sort=False)["trial_id"].transform("size")
    if (counts == 1).all():
        return df.assign(cohorts=1)
    rows = []
    for _, group in df.groupby("trial_id", sort=False):
        n = len(group)
        if n == 1:
            rows.append(group.iloc[0].to_dict() | {"cohorts": 1})
            continue
        name = str(group["trial"].iloc[0]) if "trial" in group.columns else str(group["trial_id"].iloc[0])
        if spec.cohort_rule == "largest":
            row = group.loc[group["ni"].astype(float).idxmax()].to_dict()
            row["label"] = f"{row['label']} (largest of {n} cohorts)"
        else:
            row = {}
            for col in group.columns:
                values = list(dict.fromkeys(v for v in group[col].tolist() if not _missing(v)))
                if col in _SUMMED:
                    row[col] = group[col].sum()
                elif col == "verified":
                    row[col] = bool(group[col].fillna(False).astype(bool).all())
                elif len(values) <= 1:
                    row[col] = values[0] if values else group[col].iloc[0]
                else:
                    row[col] = "; ".join(map(str, values)) if all(isinstance(v, str) for v in values) else group[col].iloc[0]
            row["label"] = f"{name} ({n} cohorts combined)"
        rows.append(row | {"cohorts": n})
    out = pd.DataFrame(rows)
    for col in df.columns:  # keep each column's type where the values allow it
        try:
            out[col] = out[col].astype(df[col].dtype)
        except (TypeError, ValueError):
            pass
    return out


def _missing(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def run_analysis(con: duckdb.DuckDBPyConnection, spec: AnalysisSpec, revision: int, views: dict | None = None) -> AnalysisResult:
    """Compute ``spec`` from the database as it was at ``revision`` (with its sequential monitoring
    when the spec names a target; ``views``: see :func:`load_rows`)."""
    result = _run(con, spec, revision, views)
    if not spec.monitoring or result.overall is None:
        return result
    from dataclasses import replace

    from .monitoring import monitor_result, settings_for

    try:
        return replace(result, monitoring=monitor_result(result, settings_for(spec)))
    except LivemetaError as exc:
        return replace(result, monitoring_note=exc.message)


def _run(con: duckdb.DuckDBPyConnection, spec: AnalysisSpec, revision: int, views: dict | None = None) -> AnalysisResult:
    df = load_rows(con, spec, revision, views)
    if df.empty:
        return AnalysisResult(spec, revision, df.assign(yi=[], vi=[], weight=[]), None)
    yi, vi = _effect_sizes(df, spec)
    bad = ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0))
    if bad.any():
        row = df[bad].iloc[0]
        where = f"trial {row['trial_id']}" + (f", outcome {row['outcome_id']}" if "outcome_id" in df.columns else "")
        raise LivemetaError(
            f"analysis {spec.id}: {where} gives no usable effect size (yi {yi[bad][0]!r}, vi {vi[bad][0]!r})",
            hint=f"check its numbers with `livemeta query \"select * from {spec.view} where trial_id = '{row['trial_id']}'\"`",
        )
    df = df.assign(yi=yi, vi=vi)
    if spec.measure == "HR" and HR_READINGS[spec.ci_level][1] in df.columns:
        df = df.assign(derivation=df[HR_READINGS[spec.ci_level][1]])
    kw = dict(method=spec.method, test=spec.test, level=spec.level, scale=spec.scale)
    if spec.method == "GLMM":  # the binomial-normal model of the counts (spec.py allows proportions only)
        overall = pool_glmm(df["xi"].to_numpy(float), df["ni"].to_numpy(float), level=spec.level)
        return AnalysisResult(spec, revision, df.assign(weight=np.asarray(overall.weights, float)), overall)
    overall = pool(yi, vi, pi=spec.pi, **kw)
    df = df.assign(weight=np.asarray(overall.weights, float))
    reg, reg_note = _metaregression(df, spec) if spec.moderators else (None, None)
    subgroups = None
    if spec.subgroup:
        if spec.subgroup not in df.columns:
            raise LivemetaError(f"analysis {spec.id}: subgroup column {spec.subgroup!r} is not in view {spec.view}")
        groups = df[spec.subgroup].fillna("(none)").astype(str).to_numpy()
        present = sorted(set(groups))
        if len(present) < 2:
            note = f"only one subgroup ({present[0]}) has data: no test for subgroup differences"
            return AnalysisResult(spec, revision, df, overall, None, note, reg, reg_note)
        subgroups = pool_subgroups(yi, vi, groups, tau2=spec.subgroup_tau2, **kw)
    return AnalysisResult(spec, revision, df, overall, subgroups, None, reg, reg_note)


def moderator_columns(df: pd.DataFrame, spec: AnalysisSpec) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The moderators of ``spec`` as design columns, and which rows have all of them.

    A numeric view column is used as it is; any other column is a factor coded as R's
    ``factor()`` does in a model formula: its levels sorted, one 0/1 column per level but the
    first (the reference), named column + level.
    """
    cols: dict[str, np.ndarray] = {}
    complete = np.ones(len(df), dtype=bool)
    for name in spec.moderators:
        if name not in df.columns:
            raise LivemetaError(f"analysis {spec.id}: moderator {name!r} is not a column of view {spec.view}",
                                hint=f"columns: {', '.join(df.columns)}")
        col = df[name]
        complete &= col.notna().to_numpy()
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            cols[name] = col.to_numpy(float)
        else:
            values = col.astype("string")
            for level in sorted(values.dropna().unique())[1:]:
                cols[f"{name}{level}"] = (values == level).fillna(False).to_numpy(float)
    return cols, complete


def _metaregression(df: pd.DataFrame, spec: AnalysisSpec) -> tuple[MetaRegResult | None, str | None]:
    """``rma(yi, vi, mods = ~ moderators, method, test)`` on the rows with every moderator."""
    cols, complete = moderator_columns(df, spec)
    notes = []
    if not complete.all():
        left = ", ".join(df.loc[~complete, "trial_id"].astype(str))
        notes.append(f"left out of the meta-regression for a missing moderator value: {left}")
    k = int(complete.sum())
    mods = {name: x[complete] for name, x in cols.items() if k and np.ptp(x[complete]) > 0}
    dropped = sorted(set(cols) - set(mods))
    if dropped:
        notes.append(f"constant over the studies left, so not estimable: {', '.join(dropped)}")
    need = len(mods) + 1 + (spec.method != "FE")
    if not mods:
        notes.append("no meta-regression: " + ("no study has every moderator" if k == 0 else
                                               "one study has every moderator" if k == 1 else
                                               f"no moderator varies over the {k} studies that have every one"))
        return None, "; ".join(notes)
    if k < need:
        notes.append(f"no meta-regression: {count(k, 'study')} for {count(len(mods), 'moderator column')}; "
                     f"at least {need} needed")
        return None, "; ".join(notes)
    try:
        reg = metareg(df.loc[complete, "yi"].to_numpy(float), df.loc[complete, "vi"].to_numpy(float), mods,
                      method=spec.method, test=spec.test, level=spec.level, scale=spec.scale)
    except ValueError as exc:  # e.g. moderators that are combinations of one another
        notes.append(f"no meta-regression: {exc}")
        return None, "; ".join(notes)
    return reg, "; ".join(notes) or None
