"""The inputs of every monitored analysis of the bundled evidence base, read from the study files alone.

Writes ``monitoring_inputs.csv`` next to this file: one row per (monitored analysis, trial) with the
hazard ratio as printed (CI and its level, or the P the analysis reads the variance from), the
trial's first publication as the study file records it, and the analysis's monitoring settings from
``queries/analyses.yaml`` (target, alpha, power; defaults 0.05 two-sided and 0.8 where the file is
silent). ``make_monitoring_reference.R`` computes the trial sequential analyses from it with metafor
and rpact; ``tests/living/test_monitoring_reference.py`` checks livemeta's monitoring against them.

Independent of livemeta: PyYAML and the standard library, and the row selection of
``tests/analysis/reference/derive_inputs.py`` (itself independent of livemeta), loaded by path.

    python tests/living/reference/derive_monitoring_inputs.py [OUT_DIR]   # from the repository root
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
OUT = HERE / "monitoring_inputs.csv"
COLUMNS = ["analysis", "trial_id", "first_published", "hr", "ci_low", "ci_high", "ci_level", "p_value", "p_sided",
           "target", "alpha", "power"]


def _derive_inputs():
    spec = importlib.util.spec_from_file_location(
        "derive_inputs", ROOT / "tests" / "analysis" / "reference" / "derive_inputs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def derive(root: Path = ROOT) -> list[dict]:
    """The rows of every analysis with a ``monitoring:`` block, in the order they are pooled."""
    d = _derive_inputs()
    project = yaml.safe_load((root / "livemeta.yaml").read_text(encoding="utf-8"))
    ev = d.Evidence.read(root / project["studies"])
    rows = []
    for spec in d.specs(root / project["analyses"]):
        mon = spec.get("monitoring")
        if not mon:
            continue
        if spec["measure"] != "HR":
            raise ValueError(f"analysis {spec['id']}: make_monitoring_reference.R handles hazard ratios only")
        for r in d.select(d.VIEWS[spec["view"]](ev), spec):
            row = d.csv_row(spec, r)
            rows.append({**{k: row[k] for k in COLUMNS if k in row}, "first_published": r["first_published"] or "",
                         "target": repr(float(mon["target"])), "alpha": repr(float(mon.get("alpha", 0.05))),
                         "power": repr(float(mon.get("power", 0.8)))})
    return rows


def main(argv: list[str]) -> int:
    """``derive_monitoring_inputs.py [OUT_DIR]``: write monitoring_inputs.csv here, or into OUT_DIR."""
    _derive_inputs().write(derive(), Path(argv[0]) / OUT.name if argv else OUT, COLUMNS)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
