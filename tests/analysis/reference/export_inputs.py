"""Export the printed inputs of every analysis of queries/analyses.yaml on the bundled evidence base.

Writes ``bundled_inputs.csv`` next to this file: one row per (analysis, study) with the numbers as
printed (HR and its CI with the CI level the analysis reads it at, the p-value and its sidedness
where the analysis reads the HR's variance from it, or the 2x2 / single-arm counts)
and the subgroup value. ``make_bundled_reference.R`` pools them with metafor, independently of
livemeta's views and pooling code; ``tests/analysis/test_bundled_reference.py`` checks that this
file is still what the bundled data give, so the reference cannot go stale silently.

    python tests/analysis/reference/export_inputs.py   # needs a build: it makes one in a temp dir
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
COLUMNS = ["analysis", "trial_id", "measure", "method", "test", "subgroup", "hr", "ci_low", "ci_high", "ci_level",
           "ai", "n1i", "ci", "n2i", "xi", "ni", "p_value", "p_sided", "moderators", "moderator_values"]


def rows_for(con, specs):
    from livemeta.analysis import load_rows

    out = []
    for spec in specs:
        df = load_rows(con, spec, None)
        for rec in df.to_dict("records"):
            row = {c: "" for c in COLUMNS}
            row.update(analysis=spec.id, trial_id=rec["trial_id"], measure=spec.measure, method=spec.method,
                       test=spec.test, subgroup=rec.get(spec.subgroup, "") if spec.subgroup else "")
            if spec.moderators:  # name:num or name:factor, and the values as printed ('' = missing)
                kinds = [f"{m}:{'num' if pd.api.types.is_numeric_dtype(df[m]) else 'factor'}" for m in spec.moderators]
                values = ["" if pd.isna(rec[m]) else (repr(float(rec[m])) if k.endswith(":num") else str(rec[m]))
                          for m, k in zip(spec.moderators, kinds)]
                row.update(moderators="+".join(kinds), moderator_values=";".join(values))
            if spec.measure == "HR":
                alternative = rec["ci_level_alternative"]
                level = alternative if spec.ci_level == "alternative" and not pd.isna(alternative) else rec["ci_level"]
                row.update(hr=repr(float(rec["estimate"])), ci_low=repr(float(rec["ci_low"])),
                           ci_high=repr(float(rec["ci_high"])), ci_level=repr(float(level)))
                if spec.ci_level == "p_value" and rec["derivation_p_value"] == "p_value":  # read from the P
                    row.update(p_value=repr(float(rec["p_value"])), p_sided=rec["p_sided"])
            elif spec.measure in ("OR", "RR"):
                row.update(ai=int(rec["ai"]), n1i=int(rec["n1i"]), ci=int(rec["ci"]), n2i=int(rec["n2i"]))
            else:
                row.update(xi=int(rec["xi"]), ni=int(rec["ni"]))
            out.append(row)
    return out


def export(db_path) -> list[dict]:
    from livemeta.analysis import load_specs
    from livemeta.db import connect

    with connect(db_path, read_only=True) as con:
        return rows_for(con, load_specs())


def write(rows, path=HERE / "bundled_inputs.csv") -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main() -> int:
    from livemeta import api

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ref.duckdb"
        api.build(db)
        write(export(db))
    return 0


if __name__ == "__main__":
    sys.exit(main())
