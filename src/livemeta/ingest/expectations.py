"""The great-expectations suites (``ingest/expectations/<table>.json``) run over a whole batch.

Each suite is a GX expectation suite written as data: ``{"name", "meta", "expectations": [{"type",
"kwargs", "meta": {"field", "reason"}}]}``. ``kwargs`` are the expectation's own arguments
(``row_condition`` as a serialised GX condition); the placeholders ``"$today"``, ``"$min_date"``
(1990-01-01) and ``"$this_year"`` are filled in when the suite is loaded. ``meta.field`` names the
field of the record a failing row is reported at, and ``meta.reason`` is the message, formatted with
the row's values (``{estimate}``, ``{_trial_randomised_n}``, ...).

The batch's frames (see :mod:`livemeta.ingest.frames`) are validated once per table (the failing
expectations again with ``result_format`` COMPLETE), and every unexpected row index is mapped back to
``FILE: outcomes[2].estimate: REASON`` through the frame's ``_study`` and ``_path`` columns.
Great-expectations is imported here, lazily: it takes seconds to import.
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
            spec = suite_definition(name)
            subs = _placeholders()
            expectations = [
                {"type": e["type"], "kwargs": _fill(e["kwargs"], subs), "meta": e.get("meta", {})}
                for e in spec["expectations"]
            ]
            self._suites[key] = self.gx.ExpectationSuite(name=spec["name"], expectations=expectations)
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


def check_batch(batch: Batch) -> list[Problem]:
    """Run every suite over the batch; the failing rows as problems, in file and record order."""
    found: dict[tuple[int, str, str], Problem] = {}
    for table in SUITES:
        df = batch.frames[table]
        if df.empty:
            continue
        for r in _gx().validate(table, df):
            meta = r.expectation_config.meta or {}
            info = r.exception_info or {}
            if info.get("raised_exception"):
                raise LivemetaError(
                    f"expectation {r.expectation_config.type} of suite {table} failed to run: "
                    f"{info.get('exception_message')}"
                )
            for idx in r.result.get("unexpected_index_list") or []:
                row = df.loc[idx]
                study = batch.studies[int(row["_study"])]
                path = f"{row['_path']}.{meta['field']}" if meta.get("field") else row["_path"]
                try:
                    reason = meta.get("reason", r.expectation_config.type).format_map(_message_values(row))
                except (KeyError, ValueError, IndexError):
                    reason = meta.get("reason", r.expectation_config.type)
                key = (int(row["_study"]), path, reason)
                found.setdefault(key, study.problem(path, reason))
    return [found[k] for k in sorted(found, key=lambda k: (k[0], batch.studies[k[0]].line_of(k[1]) or 0, k[1]))]
