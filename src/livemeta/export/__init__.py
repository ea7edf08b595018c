"""``livemeta export``: one revision of the evidence as a documented data package that reproduces in R.

The package (the Frictionless layout: ``datapackage.json`` describing CSV tables) holds:

* ``data/<table>.csv``: the evidence as of the revision, one file per view (trials, sources, arms,
  resistance definitions, outcomes, adverse events, risk of bias), without the history's
  bookkeeping (``valid_to`` would tell the future of an earlier revision);
* ``data/analyses.csv``: every analysis in force, with its method (estimator, test, level,
  prediction interval, subgroups) and its full specification;
* ``data/analysis_rows.csv``: the rows each analysis pooled, with the numbers as printed (estimate
  and CI at the level read, 2x2 counts, responders of n) and the ``yi``/``vi`` livemeta computed;
* ``data/pooled_estimates.csv``: the numbers stored at the revision (analysis scale);
* ``reproduce.R``: recomputes every effect size and every pooled estimate with metafor from these
  files alone and compares them with the stored numbers (``Rscript reproduce.R``);
* ``README.md``.

``datapackage.json`` gives each file's SHA-256 and byte count, its columns with their types, and
the revision (id, date, commit, kind of change, the review's note on it) and the version names that
name it. The same revision always gives the same files, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .. import __version__
from ..db.revisions import set_as_of
from ..errors import LivemetaError
from ..safe import CSV_RULE, frame_csv, md_text
from ..words import count
from ..sql import named, view_frame

#: the evidence views exported, with the columns that identify a row
EVIDENCE = {
    "trials": ["trial_id"],
    "sources": ["trial_id", "source_id"],
    "arms": ["trial_id", "arm_id"],
    "resistance_definitions": ["trial_id", "definition_id"],
    "outcomes": ["trial_id", "outcome_id"],
    "adverse_events": ["trial_id", "ae_id"],
    "risk_of_bias": ["trial_id", "assessment_id", "domain"],
}
DESCRIPTIONS = {
    "trials": "One row per trial: identity, design, phase, publication, status, inclusion.",
    "sources": "The sources each trial's numbers come from: citation, DOI, PMID, NCT id, URL.",
    "arms": "The arms of each trial: role, regimen as printed, PD-(L)1 agent, partners, treatment class, n.",
    "resistance_definitions": "Resistance definitions: scope, category, criterion, threshold, the definition verbatim.",
    "outcomes": "Outcomes as printed: endpoint, measure, estimate and CI with its level, counts, medians, source.",
    "adverse_events": "Adverse events per arm: term or aggregate, grade band, subjects affected and at risk.",
    "risk_of_bias": "Risk-of-bias judgements (RoB 2, ROBINS-I), one row per assessment and domain.",
    "analyses": "The analyses in force: measure, estimator, test, level, prediction interval, subgroups, specification.",
    "analysis_rows": "The rows each analysis pooled: the numbers as printed, the rule that made yi/vi from them "
                     "(derivation) with its inputs, yi/vi, the weight, and each study's estimate and interval as shown.",
    "pooled_estimates": "The pooled estimates stored at this revision (on the analysis scale: log or logit), each "
                        "prediction interval labelled with its estimator and distribution (pi_label).",
}
PACKAGE_FILES = ("datapackage.json", "README.md", "reproduce.R", "reproduced.csv", "reproduced.json")


@dataclass
class Export:
    """What ``livemeta export`` wrote."""

    folder: Path
    revision: int
    versions: list[str]
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256
    analyses: int = 0
    rows: int = 0

    def summary(self) -> str:
        names = f" (version {', '.join(self.versions)})" if self.versions else ""
        return (f"wrote the data package of revision {self.revision}{names} to {self.folder}: "
                f"{count(len(self.files), 'table')}, {count(self.analyses, 'analysis')}; reproduce them with "
                f"`Rscript {self.folder / 'reproduce.R'}`")


def _plain(v):
    if isinstance(v, (list, tuple, np.ndarray)):
        return "; ".join(str(x) for x in v)
    return v


def _table(df: pd.DataFrame) -> pd.DataFrame:
    """A view's rows as written: no bookkeeping, lists joined with '; ', dates as YYYY-MM-DD."""
    df = df.drop(columns=[c for c in ("valid_from", "valid_to", "row_id") if c in df.columns])
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].map(_plain)
        elif pd.api.types.is_datetime64_any_dtype(df[col]):
            df[col] = df[col].dt.strftime("%Y-%m-%d")
    return df


def _field_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    return "string"


#: what an HR row's derivation reads besides the printed HR and CI (queries/views/analysis_rct_hr.sql):
#: exported with the rule's name (``derivation``) so that reproduce.R applies the same rule to them
HR_INPUTS = ("p_value", "p_sided", "o_minus_e", "oe_variance", "logrank_chisq", "events", "allocation", "direction")


def analysis_rows(result) -> pd.DataFrame:
    """The rows an analysis pooled: its inputs as printed, the rule that made each effect size from
    them (``derivation``: for a hazard ratio ci, p_value, oe_v, logrank_chisq, p_events or
    logrank_events with the numbers it reads; counts for 2x2 tables and proportions), the yi/vi
    livemeta computed, the weight, and the study as every output shows it
    (:func:`~livemeta.analysis.studies.study_table`: ``shown_estimate``, ``shown_ci_low``,
    ``shown_ci_high`` on the display scale, ``interval`` printed / derived / computed, and the
    participants compared)."""
    from ..analysis.studies import level_read, study_table

    spec, st = result.spec, result.studies
    shown = study_table(result)
    out = pd.DataFrame({"analysis_id": spec.id, "trial_id": st["trial_id"], "label": st["label"],
                        "outcome_id": st["outcome_id"] if "outcome_id" in st.columns else None,
                        "subgroup": st[spec.subgroup].fillna("(none)").astype(str) if spec.subgroup else None})
    if spec.measure == "HR":
        out["estimate"], out["ci_low"], out["ci_high"] = st["estimate"], st["ci_low"], st["ci_high"]
        out["ci_level_read"] = [level_read(r, spec) for r in st.to_dict("records")]
        out["derivation"] = shown["derivation"].to_numpy()
        for col in HR_INPUTS:
            out[col] = st[col] if col in st.columns else None
    elif spec.measure in ("OR", "RR"):
        for c in ("ai", "bi", "ci", "di"):
            out[c] = _counts(st[c])
        out["derivation"] = "counts"
    else:
        out["xi"], out["ni"] = _counts(st["xi"]), _counts(st["ni"])
        # how many cohorts of the trial the row stands for, combined as the analysis says (cohorts)
        out["cohorts"] = _counts(st["cohorts"]) if "cohorts" in st.columns else _counts(pd.Series(1, index=st.index))
        out["derivation"] = "counts"
    out["yi"], out["vi"], out["weight"] = st["yi"], st["vi"], st["weight"]
    for col in ("estimate", "ci_low", "ci_high"):
        out[f"shown_{col}"] = shown[col].to_numpy()
    out["interval"] = shown["interval"].to_numpy()
    out["participants"] = _counts(pd.Series(shown["participants"].to_numpy(float), index=out.index))
    return out


def _counts(col: pd.Series) -> pd.Series:
    """Counts as whole numbers in the CSV (19, not 19.0), empty where another analysis has none."""
    return pd.to_numeric(col).round().astype("Int64")


def _analyses_table(specs) -> pd.DataFrame:
    return pd.DataFrame([{
        "analysis_id": s.id, "title": s.title, "view": s.view, "measure": s.measure, "scale": s.scale,
        "method": s.method, "test": s.test, "level": s.level, "pi": s.pi, "ci_level": s.ci_level,
        "subgroup": s.subgroup, "subgroup_tau2": s.subgroup_tau2, "sensitivity_of": s.sensitivity_of,
        "cohorts": s.cohort_rule if s.measure == "proportion" else None,
        "filters": json.dumps(s.filters, sort_keys=True), "exclude": json.dumps(s.exclude, sort_keys=True),
        "method_spec": s.method_spec(),
    } for s in specs])


def _check_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "datapackage.json").exists())):
        raise LivemetaError(f"{out} exists and is not a livemeta data package; nothing was written",
                            hint="choose a new or empty folder (an earlier export to it is replaced)")


#: the columns of data/pooled_estimates.csv, in order
STORED_COLUMNS = ["analysis_id", "stratum", "measure", "scale", "method", "test", "level", "pi_dist", "pi_label", "k",
                  "trials", "estimate", "se", "stat", "p", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "h2", "q",
                  "q_df", "q_p", "converged", "q_between", "df_between", "p_between", "method_spec"]


def _stored_estimates(con: duckdb.DuckDBPyConnection, revision: int, ids: list[str]) -> pd.DataFrame:
    """The estimates of analyses ``ids`` in force at ``revision`` (analysis scale), each analysis's
    overall row first."""
    from ..analysis import stored_results

    from ..analysis.labels import pi_label

    df = stored_results(con, revision, ids)
    df = df.assign(_later=df["stratum"] != "overall").sort_values(["analysis_id", "_later", "stratum"], kind="stable")
    df["pi_label"] = [pi_label(m, t, d, int(k)) if k else None  # no studies: no interval
                      for m, t, d, k in zip(df["method"], df["test"], df["pi_dist"], df["k"])]
    return df[STORED_COLUMNS].reset_index(drop=True)


def export_package(con: duckdb.DuckDBPyConnection, revision: int, out: Path | str, *, revisions) -> Export:
    """Write the data package of ``revision`` into ``out`` (new, empty, or an earlier export)."""
    from ..analysis import analyses_at, run_analysis, select_specs

    out = Path(out)
    _check_folder(out)
    info = next(r for r in revisions if r.revision_id == revision)
    specs = select_specs(analyses_at(con, revision).specs, None)
    stored = _stored_estimates(con, revision, [s.id for s in specs])
    if stored.empty:
        raise LivemetaError(f"no pooled estimates are stored at revision {revision}",
                            hint=f"store them with `livemeta pool --as-of {revision}`, then export again")
    views: dict = {}
    results = [run_analysis(con, s, revision, views) for s in specs]
    set_as_of(con, revision)
    try:
        tables = {name: _table(view_frame(con, name)) for name in EVIDENCE}
    finally:
        set_as_of(con, None)
    tables["analyses"] = _analyses_table(specs)
    rows = [analysis_rows(r) for r in results if r.k]
    tables["analysis_rows"] = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["analysis_id"])
    tables["pooled_estimates"] = _table(stored)
    commit = con.execute(named("export_commit"), [revision]).fetchone()
    versions = [name for name, rev, *_ in con.execute(named("versions")).fetchall() if rev == revision]

    if out.exists():  # an earlier export: replace it whole
        for name in PACKAGE_FILES:
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "data", ignore_errors=True)
    resources, files = _write_tables(out, tables)
    name = "livemeta-" + (versions[-1] if versions else f"revision-{revision}")
    package = {
        "profile": "tabular-data-package",
        "name": name,
        "title": f"livemeta evidence, revision {revision}" + (f" (version {', '.join(versions)})" if versions else ""),
        "version": versions[-1] if versions else f"revision-{revision}",
        "created": info.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "livemeta": {"revision": revision, "commit": commit[0] if commit else None, "versions": versions,
                     "revision_kind": info.label, "revision_note": info.note, "revision_author": info.author,
                     "exported_by": f"livemeta {__version__}", "text_cells": CSV_RULE},
        "resources": resources,
    }
    (out / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    shutil.copyfile(Path(__file__).with_name("reproduce.R"), out / "reproduce.R")
    (out / "README.md").write_text(_readme(package, len(specs)), encoding="utf-8")
    return Export(out, revision, versions, files, len([r for r in results if r.k]), len(tables["analysis_rows"]))


def _write_tables(out: Path, tables: dict[str, pd.DataFrame]) -> tuple[list[dict], dict[str, str]]:
    """Each table as ``data/<name>.csv`` and its Frictionless resource (columns, types, hash)."""
    (out / "data").mkdir(parents=True, exist_ok=True)
    resources, files = [], {}
    keys = {**EVIDENCE, "analyses": ["analysis_id"], "analysis_rows": None, "pooled_estimates": ["analysis_id", "stratum"]}
    for name, df in tables.items():
        path = out / "data" / f"{name}.csv"
        path.write_text(frame_csv(df), encoding="utf-8", newline="")  # no spreadsheet formulas (CSV_RULE)
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        files[f"data/{name}.csv"] = digest
        schema = {"fields": [{"name": c, "type": _field_type(df[c])} for c in df.columns]}
        if keys.get(name):
            schema["primaryKey"] = keys[name]
        resources.append({"name": name, "path": f"data/{name}.csv", "profile": "tabular-data-resource",
                          "description": DESCRIPTIONS[name], "format": "csv", "mediatype": "text/csv",
                          "encoding": "utf-8", "bytes": len(data), "hash": f"sha256:{digest}", "schema": schema})
    return resources, files


def _readme(package: dict, n_analyses: int) -> str:
    lm = package["livemeta"]
    lines = [f"# {package['title']}", "",
             f"A data package written by `livemeta export` ({lm['exported_by']}) from revision {lm['revision']} "
             f"(commit {lm['commit']}, {package['created']}; {lm['revision_kind'] or 'evidence'}): "
             + md_text(lm['revision_note'].splitlines()[0] if lm['revision_note'] else '(no revision note)'),
             "", "`datapackage.json` (Frictionless tabular data package) describes every file: its columns and types, "
             "its SHA-256 and size.", "", md_text(CSV_RULE) + " `reproduce.R` reads them back exactly.", "",
             "| file | what it holds |", "|---|---|"]
    lines += [f"| `{r['path']}` | {r['description']} |" for r in package["resources"]]
    lines += ["", f"`Rscript reproduce.R` recomputes the effect sizes and the {n_analyses} pooled analyses with metafor "
              "from these files alone and compares every number with the stored one (1e-8 for closed-form estimators, "
              "1e-6 for iterative ones); it writes `reproduced.csv` and `reproduced.json` and exits with status 1 "
              "when a number differs.", ""]
    return "\n".join(lines)
