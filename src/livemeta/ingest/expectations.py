"""The great-expectations suites (``ingest/expectations/<table>.json``) run over a whole batch.

Each suite is a GX expectation suite written as data: ``{"name", "meta", "expectations": [{"type",
"kwargs", "meta": {"field", "reason"}}]}``. ``kwargs`` are the expectation's own arguments
(``row_condition`` as a serialised GX condition); the placeholders ``"$today"``, ``"$min_date"``
(1990-01-01) and ``"$this_year"`` are filled in when the suite is loaded. ``meta.field`` names the
field of the record a failing row is reported at, and ``meta.reason`` is the message, formatted with
the row's values (``{estimate}``, ``{_trial_randomised_n}``, ...).

The batch's frames (see :mod:`livemeta.ingest.frames`) are validated once per table, and every
unexpected row index is mapped back to ``FILE: outcomes[2].estimate: REASON`` through the frame's
``_study`` and ``_path`` columns.

Two engines run the same suites. ``fast`` (the default) evaluates the four expectation types the
suites use (values between, not null, unique, column pair A > B), with GX's row conditions and
its handling of missing values, on the pandas frames directly: no GX import (about 2.5 s). ``gx``
runs them through great-expectations itself (an ephemeral context; ``livemeta validate --engine
gx``), and ``tests/ingest/test_expectation_engines.py`` holds the two to the same answers, row for
row, over the bad-input corpus and generated batches. A suite using any other expectation type is
run by GX.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
from typing import Any

import pandas as pd

from ..errors import LivemetaError, Problem
from ..paths import resource
from ._common import fmt
from .frames import Batch

SUITES = ("trials", "sources", "arms", "resistance_definitions", "outcomes", "adverse_events")
MIN_DATE = dt.date(1990, 1, 1)


def _placeholders() -> dict[str, Any]:
    today = dt.date.today()
    return {
        "$today": pd.Timestamp(today),
        "$min_date": pd.Timestamp(MIN_DATE),
        "$this_year": today.year,
    }


def _fill(value, subs):
    if isinstance(value, str) and value in subs:
        return subs[value]
    if isinstance(value, dict):
        return {k: _fill(v, subs) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, subs) for v in value]
    return value


def suite_definition(name: str) -> dict:
    """The suite as written in ``ingest/expectations/<name>.json``."""
    path = resource("ingest", "expectations", f"{name}.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LivemetaError(f"cannot read expectation suite {path}: {exc}") from None


class _GX:
    """One ephemeral GX context per process, with a pandas asset per table."""

    def __init__(self):
        os.environ["GX_ANALYTICS_ENABLED"] = "false"
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas("livemeta_batch")
        self.batches = {}
        for table in SUITES:
            asset = source.add_dataframe_asset(table)
            self.batches[table] = asset.add_batch_definition_whole_dataframe(f"{table}_batch")
        self._suites: dict[tuple[str, dt.date], Any] = {}

    def suite(self, name: str):
        key = (name, dt.date.today())
        if key not in self._suites:
            self._suites[key] = self.gx.ExpectationSuite(name=suite_definition(name)["name"], expectations=_filled_suite(name))
        return self._suites[key]

    def validate(self, table: str, df: pd.DataFrame) -> list:
        """The results of the expectations that failed, with their unexpected rows.

        A first pass with ``BOOLEAN_ONLY`` (twice as fast) finds the failing expectations; only
        they run again with ``COMPLETE`` to list their rows. A valid batch pays for one pass.
        """
        batch = self.batches[table].get_batch(batch_parameters={"dataframe": df})
        first = batch.validate(self.suite(table), result_format={"result_format": "BOOLEAN_ONLY"})
        failing = [r.expectation_config for r in first.results if not r.success]
        if not failing:
            return []
        suite = self.gx.ExpectationSuite(
            name=f"{table}_failing",
            expectations=[{"type": c.type, "kwargs": c.kwargs, "meta": c.meta} for c in failing],
        )
        second = batch.validate(suite, result_format={"result_format": "COMPLETE"})
        return [r for r in second.results if not r.success]


@functools.cache
def _gx() -> _GX:
    return _GX()


def _message_values(row: pd.Series) -> dict[str, str]:
    out = {}
    for k, v in row.items():
        if isinstance(v, str):
            out[k] = v
        elif v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
            out[k] = "null"
        elif isinstance(v, pd.Timestamp):
            out[k] = v.date().isoformat()
        else:
            out[k] = fmt(v.item() if hasattr(v, "item") else v)
    return out


ENGINES = ("fast", "gx")


def _condition_mask(cond: dict, df: pd.DataFrame) -> pd.Series:
    """A GX row condition (comparison, nullity, and, or) as a boolean mask over ``df``."""
    kind = cond["type"]
    if kind in ("and", "or"):
        masks = [_condition_mask(c, df) for c in cond["conditions"]]
        out = masks[0]
        for m in masks[1:]:
            out = (out & m) if kind == "and" else (out | m)
        return out
    col = df[cond["column"]["name"]]
    if kind == "nullity":
        return col.isna() if cond["is_null"] else col.notna()
    if kind == "comparison":
        op, value = cond["operator"], cond["parameter"]
        if op == "IN":
            return col.isin(value)
        if op == "NOT IN":
            return ~col.isin(value) & col.notna()
        compare = {"==": col.eq, "!=": col.ne, "<": col.lt, "<=": col.le, ">": col.gt, ">=": col.ge}[op]
        return (compare(value) & col.notna()).astype(bool)
    raise LivemetaError(f"row condition of type {kind!r} is not supported by the fast engine")


def _unexpected(kind: str, kw: dict, df: pd.DataFrame) -> list:
    """The index labels of the rows that fail one expectation (GX's semantics)."""
    rows = df
    if kw.get("row_condition") is not None:
        rows = df[_condition_mask(kw["row_condition"], df)]
    if kind == "expect_column_values_to_not_be_null":
        return list(rows.index[rows[kw["column"]].isna()])
    if kind == "expect_column_values_to_be_unique":
        col = rows[kw["column"]]
        present = col[col.notna()]
        return list(present.index[present.duplicated(keep=False)])
    if kind == "expect_column_values_to_be_between":
        col = rows[kw["column"]]
        col = col[col.notna()]
        bad = pd.Series(False, index=col.index)
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if lo is not None:
            bad |= (col <= lo) if kw.get("strict_min") else (col < lo)
        if hi is not None:
            bad |= (col >= hi) if kw.get("strict_max") else (col > hi)
        return list(col.index[bad.to_numpy(bool)])
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = rows[kw["column_A"]], rows[kw["column_B"]]
        ignore = kw.get("ignore_row_if", "both_values_are_missing")
        if ignore == "either_value_is_missing":
            keep = a.notna() & b.notna()
        elif ignore == "both_values_are_missing":
            keep = a.notna() | b.notna()
        else:
            keep = pd.Series(True, index=rows.index)
        a, b = a[keep], b[keep]
        ok = (a >= b) if kw.get("or_equal") else (a > b)
        return list(a.index[~ok.fillna(False).to_numpy(bool)])
    raise LivemetaError(f"expectation {kind} is not supported by the fast engine")


_FAST = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_be_between",
    "expect_column_pair_values_a_to_be_greater_than_b",
}


def _filled_suite(name: str) -> list[dict]:
    subs = _placeholders()
    return [{"type": e["type"], "kwargs": _fill(e["kwargs"], subs), "meta": e.get("meta", {})}
            for e in suite_definition(name)["expectations"]]


def _failures(table: str, df: pd.DataFrame, engine: str) -> list[tuple[dict, list]]:
    """(meta, unexpected row labels) of every failing expectation of the table's suite."""
    expectations = _filled_suite(table)
    if engine == "fast" and all(e["type"] in _FAST for e in expectations):
        out = []
        for e in expectations:
            bad = _unexpected(e["type"], e["kwargs"], df)
            if bad:
                out.append(({**e["meta"], "_type": e["type"]}, bad))
        return out
    out = []
    for r in _gx().validate(table, df):
        meta = dict(r.expectation_config.meta or {})
        info = r.exception_info or {}
        if info.get("raised_exception"):
            raise LivemetaError(
                f"expectation {r.expectation_config.type} of suite {table} failed to run: "
                f"{info.get('exception_message')}"
            )
        out.append(({**meta, "_type": r.expectation_config.type}, list(r.result.get("unexpected_index_list") or [])))
    return out


def check_batch(batch: Batch, engine: str = "fast") -> list[Problem]:
    """Run every suite over the batch; the failing rows as problems, in file and record order."""
    if engine not in ENGINES:
        raise LivemetaError(f"unknown expectation engine {engine!r}", hint=f"choose one of: {', '.join(ENGINES)}")
    found: dict[tuple[int, str, str], Problem] = {}
    for table in SUITES:
        df = batch.frames[table]
        if df.empty:
            continue
        for meta, indices in _failures(table, df, engine):
            for idx in indices:
                row = df.loc[idx]
                study = batch.studies[int(row["_study"])]
                path = f"{row['_path']}.{meta['field']}" if meta.get("field") else row["_path"]
                try:
                    reason = meta.get("reason", meta["_type"]).format_map(_message_values(row))
                except (KeyError, ValueError, IndexError):
                    reason = meta.get("reason", meta["_type"])
                key = (int(row["_study"]), path, reason)
                found.setdefault(key, study.problem(path, reason))
    return [found[k] for k in sorted(found, key=lambda k: (k[0], batch.studies[k[0]].line_of(k[1]) or 0, k[1]))]
