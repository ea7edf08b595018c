"""Nothing valid is silently ignored: the outcome and adverse-event rows that no analysis reads.

Which rows are read is not guessed from rules: the batch is written into a scratch in-memory
database and every analysis in force is run on it; a row is *used* when some analysis pooled it
(its ``outcome_id``, or the adverse events of its 2x2 table). For each row left over, the reason
is the first condition below that explains it, with the fix; a row no condition explains is still
reported ("no analysis in force reads it").
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ..errors import LivemetaError
from ..ingest.frames import Batch

#: the endpoint each analysis view reads
_VIEW_ENDPOINT = {
    "analysis_rct_os": "os",
    "analysis_rct_pfs": "pfs",
    "analysis_os_by_resistance": "os",
    "analysis_rct_orr": "orr",
    "analysis_single_arm_orr": "orr",
}


@dataclass(frozen=True)
class Unused:
    """A valid row that no analysis in force reads."""

    file: str
    path: str
    reason: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: read by no analysis: {self.reason}; {self.fix}"


def used_rows(results) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(trial_id, outcome_id) and (trial_id, ae_id) of every row the analyses pooled."""
    outcomes, aes = set(), set()
    for r in results:
        df = r.studies
        if "outcome_id" in df.columns:
            outcomes.update(zip(df["trial_id"], df["outcome_id"]))
        for col in ("ae_id_experimental", "ae_id_control"):
            if col in df.columns:
                aes.update(zip(df["trial_id"], df[col]))
    return outcomes, aes


def _admitted(specs) -> set[str] | None:
    """The trial inclusions some analysis admits (None: some analysis admits every one)."""
    out: set[str] = set()
    for s in specs:
        want = s.filters.get("inclusion")
        if want is None:
            return None
        out.update(want if isinstance(want, list) else [want])
    return out


def _missing(row, keys) -> list[str]:
    return [k for k in keys if row.get(k) is None or (isinstance(row.get(k), float) and row[k] != row[k])]


def _outcome_reason(o: dict, trial: dict, categories: dict, specs) -> tuple[str, str]:
    admitted = _admitted(specs)
    endpoints = {_VIEW_ENDPOINT[s.view] for s in specs if s.view in _VIEW_ENDPOINT}
    ep, measure, pop = o["endpoint"], o["measure"], o["population"]
    if admitted is not None and trial["inclusion"] not in admitted:
        return (f"its trial's inclusion is {trial['inclusion']!r} and the analyses pool {', '.join(sorted(admitted))} trials",
                "nothing to fix while the trial is not included")
    if ep not in endpoints:
        return f"no analysis in force pools {ep.upper()}", "add one to the analyses file, or keep the row as a record"
    if trial["design"] == "single_arm":
        if ep != "orr":
            return f"no analysis pools {ep.upper()} of single-arm trials", "keep the row as a record"
        if pop != "overall":
            return "single-arm response is pooled for whole arms only", "keep the row as a record of the subgroup"
        miss = _missing(o, ("experimental_events", "experimental_n"))
        return (f"single-arm response is pooled from responders of n; missing: {', '.join(miss)}" if miss
                else "its arm or measure is not one the single-arm analysis reads",
                "add the counts from the source" if miss else "check the row's arm and measure (proportion)")
    if ep == "orr":
        miss = _missing(o, ("experimental_events", "experimental_n", "control_events", "control_n"))
        if miss:
            return (f"the ORR analysis pools responders of n in both arms; missing: {', '.join(miss)}",
                    "add the per-arm counts from the source (an odds ratio with its CI alone is not pooled)")
        if pop != "overall":
            return "the ORR analysis pools whole-trial comparisons only", "keep the row as a record of the subgroup"
        return "its arms are not the trial's randomised comparison", "check experimental_arm and control_arm"
    if measure != "HR":
        return f"the {ep.upper()} analyses pool hazard ratios and this row's measure is {measure}", "give the hazard ratio with its CI"
    miss = _missing(o, ("estimate", "ci_low", "ci_high", "ci_level"))
    if miss:
        return (f"a hazard ratio is pooled from its estimate and CI; missing: {', '.join(miss)}",
                "add them from the source (a p-value alone is not pooled)")
    if pop == "subgroup":
        return (f"no analysis pools named subgroups ({o.get('subgroup')!r})",
                "add a subgroup analysis to the analyses file, or keep the row as a record")
    if pop == "resistance":
        cat = categories.get(o.get("definition_id"))
        if ep != "os":
            return f"no analysis pools {ep.upper()} by resistance", "keep the row as a record"
        if cat not in ("primary", "acquired"):
            return (f"only primary and acquired resistance subgroups are pooled; its definition's category is {cat!r}",
                    "keep the row as a record")
        return ("another row of the trial already stands for that resistance category",
                "one row per trial and category is pooled: keep the first definition")
    return "its arms are not the trial's randomised comparison (a third arm)", "record it as a subgroup of the trial"


def _ae_reason(a: dict, trial: dict, specs) -> tuple[str, str]:
    admitted = _admitted(specs)
    if not any(s.view == "analysis_rct_ae_g3" for s in specs):
        return "no analysis in force pools adverse events", "keep the row as a record"
    if admitted is not None and trial["inclusion"] not in admitted:
        return (f"its trial's inclusion is {trial['inclusion']!r} and the analyses pool {', '.join(sorted(admitted))} trials",
                "nothing to fix while the trial is not included")
    if trial["design"] != "rct":
        return "adverse events of single-arm trials are not pooled", "keep the row as a record"
    if a["kind"] != "aggregate":
        return "adverse events by term are not pooled (only aggregate grade >= 3 treatment-related rows)", "keep the row as a record"
    if not a["treatment_related"] or a["grade_band"] not in (">=3", "3-4", "3"):
        return "only grade >= 3 treatment-related adverse events are pooled", "keep the row as a record"
    miss = _missing(a, ("subjects_affected", "subjects_at_risk"))
    if miss:
        return f"adverse events are pooled from subjects affected of at risk; missing: {', '.join(miss)}", "add the counts from the source"
    return ("the other arm of the randomised comparison reports no row in the same grade band",
            "add the other arm's count in that grade band, if the source gives it")


def unused(batch: Batch, results, specs) -> list[Unused]:
    """Every outcome and adverse-event row of ``batch`` that none of ``results`` pooled, with why."""
    used_o, used_ae = used_rows(results)
    trials = {r["trial_id"]: r for r in batch.frames["trials"].to_dict("records")}
    defs = batch.frames["resistance_definitions"]
    categories_of = {}
    for r in defs.to_dict("records"):
        categories_of.setdefault(r["trial_id"], {})[r["definition_id"]] = r["category"]
    out = []
    for o in batch.frames["outcomes"].to_dict("records"):
        if (o["trial_id"], o["outcome_id"]) not in used_o:
            reason, fix = _outcome_reason(o, trials[o["trial_id"]], categories_of.get(o["trial_id"], {}), specs)
            out.append(Unused(o["_file"], o["_path"], reason, fix))
    for a in batch.frames["adverse_events"].to_dict("records"):
        if (a["trial_id"], a["ae_id"]) not in used_ae:
            reason, fix = _ae_reason(a, trials[a["trial_id"]], specs)
            out.append(Unused(a["_file"], a["_path"], reason, fix))
    order = {s.name: i for i, s in enumerate(batch.studies)}
    return sorted(out, key=lambda u: order.get(u.file, 0))  # by file; within one, outcomes then events


def batch_use(batch: Batch, specs) -> list[Unused]:
    """:func:`unused` for a batch not written anywhere: it is written into a scratch in-memory
    database and every analysis of ``specs`` is run on it."""
    from ..db import apply_migrations, install_views
    from ..ingest.checks import Plan
    from ..ingest.write import write_batch
    from .run import run_analysis

    con = duckdb.connect(":memory:")
    try:
        apply_migrations(con)
        install_views(con)
        plan = Plan({s.trial_id: "added" for s in batch.studies})
        revision = write_batch(con, batch, plan, author="livemeta", message="scratch")
        results, views = [], {}  # each view read once (run_analysis's cache)
        for spec in specs:
            try:
                results.append(run_analysis(con, spec, revision, views))
            except LivemetaError:  # an unpoolable row: reported by pooling itself, and here as unused
                continue
    finally:
        con.close()
    return unused(batch, results, specs)


__all__ = ["Unused", "batch_use", "unused", "used_rows"]
