"""A batch of study files as one pandas DataFrame per database table.

Each frame has the table's columns (file keys renamed: ``id`` -> ``trial_id``/``arm_id``/...,
``source`` -> ``source_id``, ``arm`` -> ``arm_id``, ``experimental_arm`` -> ``experimental_arm_id``,
``control_arm`` -> ``control_arm_id``, outcome ``definition`` -> ``definition_id``) plus helper
columns starting with ``_``: ``_study`` (index of the file in the batch), ``_file``, ``_path`` (the
record, e.g. ``outcomes[2]``) and values derived for the expectation suites. The helper columns are
dropped before writing.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from ._common import StudyFile, fmt

TABLES = ("trials", "sources", "arms", "resistance_definitions", "outcomes", "adverse_events", "risk_of_bias")

#: file list -> (table, id column)
ID_COLUMN = {
    "trials": "trial_id",
    "sources": "source_id",
    "arms": "arm_id",
    "resistance_definitions": "definition_id",
    "outcomes": "outcome_id",
    "adverse_events": "ae_id",
    "risk_of_bias": "assessment_id",
}

_RENAME = {
    "trials": {"source": "source_id"},
    "sources": {},
    "arms": {"source": "source_id"},
    "resistance_definitions": {"source": "source_id"},  # `definition` is the verbatim text here
    "outcomes": {
        "source": "source_id",
        "definition": "definition_id",
        "experimental_arm": "experimental_arm_id",
        "control_arm": "control_arm_id",
    },
    "adverse_events": {"source": "source_id", "arm": "arm_id"},
    "risk_of_bias": {"source": "source_id", "result": "result_id"},
}

_SCHEMA_DEF = {
    "trials": "trial",
    "sources": "source",
    "arms": "arm",
    "resistance_definitions": "resistance_definition",
    "outcomes": "outcome",
    "adverse_events": "adverse_event",
    "risk_of_bias": "risk_of_bias",
}

_NUMERIC = {
    "trials": ("randomised_n",),
    "sources": ("year",),
    "arms": ("n_randomised", "n_safety"),
    "resistance_definitions": ("threshold",),
    "outcomes": (
        "estimate", "ci_low", "ci_high", "ci_level", "ci_level_alternative", "p_value",
        "experimental_events", "experimental_n", "control_events", "control_n",
        "experimental_median", "control_median",
        "o_minus_e", "oe_variance", "logrank_chisq", "total_events", "allocation_ratio",
    ),
    "adverse_events": ("subjects_affected", "subjects_at_risk", "percent"),
    "risk_of_bias": (),
}

#: the domains of a risk-of-bias assessment as the study file names them (RoB 2: D1-D5; ROBINS-I: D1-D7)
ROB_DOMAINS = tuple(f"D{i}" for i in range(1, 8))


def _rob_columns(prop: str) -> list[str]:
    """A risk-of-bias property as table columns: ``domains`` -> d1_judgement, d1_support, ...;
    ``overall`` -> overall_judgement, overall_support."""
    if prop == "domains":
        return [f"{d.lower()}_{part}" for d in ROB_DOMAINS for part in ("judgement", "support")]
    if prop == "overall":
        return ["overall_judgement", "overall_support"]
    return [_RENAME["risk_of_bias"].get(prop, prop)]


def _rob_record(item: dict) -> dict:
    """A study file's risk-of-bias assessment flattened into its table's columns."""
    rec = {}
    for k, v in item.items():
        if k == "domains":
            for d in ROB_DOMAINS:
                judged = (v or {}).get(d) or {}
                rec[f"{d.lower()}_judgement"] = judged.get("judgement")
                rec[f"{d.lower()}_support"] = judged.get("support")
        elif k == "overall":
            rec["overall_judgement"], rec["overall_support"] = v.get("judgement"), v.get("support")
        elif k != "id":
            rec[_RENAME["risk_of_bias"].get(k, k)] = v
    return rec


def columns(table: str) -> list[str]:
    """The database columns a table's frame carries (all but row_id, valid_from, valid_to)."""
    from .structure import schema

    props = list(schema()["$defs"][_SCHEMA_DEF[table]]["properties"])
    if table == "trials":
        cols = ["trial_id"] + [_RENAME["trials"].get(p, p) for p in props if p != "id"]
        at = cols.index("first_published") + 1
        return cols[:at] + ["first_publication_date", "first_publication_precision"] + cols[at:]
    if table == "risk_of_bias":
        return ["trial_id", ID_COLUMN[table]] + [c for p in props if p != "id" for c in _rob_columns(p)]
    rename = _RENAME[table]
    return ["trial_id", ID_COLUMN[table]] + [rename.get(p, p) for p in props if p != "id"]


def printed_step(value, text: str | None = None) -> float:
    """The rounding step of a number as written: "0.85" -> 0.01, "0.70" -> 0.01, 3 -> 1.

    ``text`` is the number as written in the file when known (YAML and JSON keep it); without it
    the shortest repr of the value is used, which loses trailing zeros (0.70 -> 0.1, lenient).
    """
    if value is None or isinstance(value, bool):
        return math.nan
    if isinstance(value, int):
        return 1.0
    try:
        exp = Decimal((text or repr(float(value))).replace("_", "")).as_tuple().exponent
    except (InvalidOperation, ValueError):
        exp = Decimal(repr(float(value))).as_tuple().exponent
    if not isinstance(exp, int):
        return math.nan
    return 10.0 ** min(exp, 0)


_PRECISION = {1: "year", 2: "month", 3: "day"}


def _publication(text):
    if text is None:
        return None, None
    parts = text.split("-")
    y, m, d = int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2]) if len(parts) > 2 else 1
    return dt.date(y, m, d), _PRECISION[len(parts)]


@dataclass
class Batch:
    studies: list[StudyFile]
    frames: dict[str, pd.DataFrame]

    def db_frame(self, table: str) -> pd.DataFrame:
        """The frame with only the database columns."""
        return self.frames[table][columns(table)]

    def row_counts(self) -> dict[str, int]:
        return {t: len(f) for t, f in self.frames.items()}


def build_batch(studies: list[StudyFile]) -> Batch:
    """One frame per table for a batch of structurally valid study files."""
    records: dict[str, list[dict]] = {t: [] for t in TABLES}
    steps: list[tuple[float, float, float]] = []  # rounding steps of estimate, ci_low, ci_high
    ae_steps: list[float] = []
    for i, study in enumerate(studies):
        d = study.data
        trial = dict(d["trial"])
        tid = trial.pop("id")
        date, precision = _publication(trial.get("first_published"))
        rec = {"trial_id": tid, **{_RENAME["trials"].get(k, k): v for k, v in trial.items()},  # source -> source_id
               "first_publication_date": date, "first_publication_precision": precision}
        rec.update(_study=i, _file=study.name, _path="trial")
        records["trials"].append(rec)
        for table in TABLES[1:]:
            rename = _RENAME[table]
            idcol = ID_COLUMN[table]
            for j, item in enumerate(d.get(table) or []):
                rec = {"trial_id": tid, idcol: item["id"]}
                if table == "risk_of_bias":
                    rec.update(_rob_record(item))
                for k, v in item.items() if table != "risk_of_bias" else ():
                    if k != "id":
                        rec[rename.get(k, k)] = v
                rec.update(_study=i, _file=study.name, _path=f"{table}[{j}]")
                records[table].append(rec)
                if table == "outcomes":
                    for k in ("estimate", "ci_low", "ci_high"):  # as written, for messages
                        rec[f"_{k}_text"] = study.numbers.get(f"{table}[{j}].{k}") or fmt(item.get(k))
                    steps.append(
                        tuple(
                            printed_step(item.get(k), study.numbers.get(f"{table}[{j}].{k}"))
                            for k in ("estimate", "ci_low", "ci_high")
                        )
                    )
                elif table == "adverse_events":
                    ae_steps.append(printed_step(item.get("percent"), study.numbers.get(f"{table}[{j}].percent")))

    frames: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        cols = columns(table) + ["_study", "_file", "_path"]
        if table == "outcomes":
            cols += ["_estimate_text", "_ci_low_text", "_ci_high_text"]
        df = pd.DataFrame.from_records(records[table], columns=cols)
        for col in _NUMERIC[table]:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
        if table == "arms":
            df["partners"] = [p if isinstance(p, list) else [] for p in df["partners"]]
        frames[table] = df

    t = frames["trials"]
    t["first_publication_date"] = pd.to_datetime(t["first_publication_date"])
    arms = frames["arms"]
    sums = arms.groupby("_study")[["n_randomised", "n_safety"]].sum(min_count=1)
    t["_arms_n_randomised"] = t["_study"].map(sums["n_randomised"]).astype("float64")
    t["_arms_n_safety"] = t["_study"].map(sums["n_safety"]).astype("float64")
    _arm_sizes(arms, frames["outcomes"], frames["adverse_events"])

    rob = frames["risk_of_bias"]
    rob["assessed_on"] = pd.to_datetime(rob["assessed_on"], format="%Y-%m-%d")
    o = frames["outcomes"]
    o["data_cutoff"] = pd.to_datetime(o["data_cutoff"], format="%Y-%m-%d")
    o["_trial_randomised_n"] = o["_study"].map(t.set_index("_study")["randomised_n"]).astype("float64")
    o["_arms_n"] = o[["experimental_n", "control_n"]].sum(axis=1, min_count=1)
    # "no" only when both bounds are given and ci_low >= ci_high: the containment and symmetry
    # checks then stay quiet and the suite reports the swapped bounds alone
    o["_ci_ordered"] = np.where(o["ci_low"] >= o["ci_high"], "no", "yes")
    _ci_symmetry(o, np.array(steps, dtype="float64").reshape(-1, 3))

    ae = frames["adverse_events"]
    calc = 100.0 * ae["subjects_affected"] / ae["subjects_at_risk"].where(ae["subjects_at_risk"] > 0)
    ae["_percent_calc"] = calc.round(2)
    half = np.array(ae_steps, dtype="float64") / 2 if len(ae) else np.array([], dtype="float64")
    ae["_percent_excess"] = (ae["percent"] - calc).abs() - half - 1e-9

    return Batch(studies=studies, frames=frames)


def _arm_sizes(arms: pd.DataFrame, o: pd.DataFrame, ae: pd.DataFrame) -> None:
    """The sizes of the arms an outcome or adverse event counts, and how many patients a randomised
    arm can have treated.

    A patient in an arm's safety population was randomised to some arm: to this one, or to another
    arm whose safety population lacks that patient. So an arm's n_safety is at most its n_randomised
    plus the patients the trial's other arms randomised and did not treat, sum over them of
    max(0, n_randomised - n_safety) (``_n_safety_room``; unknown when an other arm's sizes are).
    """
    both = arms["n_randomised"].notna() & arms["n_safety"].notna()
    gap = (arms["n_randomised"] - arms["n_safety"]).clip(lower=0).where(both)
    per_study = gap.groupby(arms["_study"]).sum(min_count=1)
    unknown = (~both).groupby(arms["_study"]).sum()
    others = arms["_study"].map(per_study) - gap.fillna(0)
    others_unknown = arms["_study"].map(unknown) - (~both).astype(int)
    arms["_others_untreated"] = np.where(others_unknown == 0, others.fillna(0), np.nan)
    arms["_n_safety_room"] = arms["n_randomised"] + arms["_others_untreated"]

    key = arms.set_index(["_study", "arm_id"])
    for side in ("experimental", "control"):
        idx = pd.MultiIndex.from_arrays([o["_study"], o[f"{side}_arm_id"]])
        rand = key["n_randomised"].reindex(idx).to_numpy(dtype="float64")
        safe = key["n_safety"].reindex(idx).to_numpy(dtype="float64")
        o[f"_{side}_arm_n_randomised"] = rand
        o[f"_{side}_arm_n_safety"] = safe
        o[f"_{side}_arm_n"] = np.fmax(rand, safe)  # an as-treated analysis may count n_safety
    idx = pd.MultiIndex.from_arrays([ae["_study"], ae["arm_id"]])
    ae["_arm_n_randomised"] = key["n_randomised"].reindex(idx).to_numpy(dtype="float64")
    ae["_arm_n_safety"] = key["n_safety"].reindex(idx).to_numpy(dtype="float64")


def _ci_symmetry(o: pd.DataFrame, steps: np.ndarray) -> None:
    """How far an estimate is from its CI's geometric midpoint beyond what rounding explains.

    A ratio's CI is symmetric on the log scale: ln(est) = (ln lo + ln hi) / 2. The printed values
    are rounded, each to its printed precision but never assumed finer than 2 decimals, so each
    true value lies within half a step of the printed one. ``_ci_excess`` is the distance of 0 from
    the interval [min, max] that ln(est) - (ln lo + ln hi) / 2 can take over those roundings: <= 0
    means rounding explains the asymmetry. ``_ci_midpoint`` is the estimate the CI implies.
    """
    n = len(o)
    if n == 0:
        o["_ci_excess"] = pd.Series(dtype="float64")
        o["_ci_midpoint"] = pd.Series(dtype="float64")
        return
    est, lo, hi = (o[c].to_numpy(dtype="float64") for c in ("estimate", "ci_low", "ci_high"))
    half = np.maximum(np.nan_to_num(steps, nan=0.01), 0.01) / 2
    tiny = 1e-300
    ratio = o["measure"].isin(["HR", "OR", "RR"]).to_numpy() & (est > 0) & (lo > 0) & (hi > 0) & (lo < hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        d_min = np.log(np.maximum(est - half[:, 0], tiny)) - (np.log(lo + half[:, 1]) + np.log(hi + half[:, 2])) / 2
        d_max = np.log(est + half[:, 0]) - (
            np.log(np.maximum(lo - half[:, 1], tiny)) + np.log(np.maximum(hi - half[:, 2], tiny))
        ) / 2
        excess = np.maximum(d_min, -d_max) - 1e-12
        mid = np.exp((np.log(lo) + np.log(hi)) / 2)
    o["_ci_excess"] = np.where(ratio, excess, np.nan)
    o["_ci_midpoint"] = np.where(ratio, np.round(mid, 3), np.nan)
