"""Hand-made AnalysisResult objects shared by test_plots.py and test_report.py.

Plain helpers (no matplotlib): the published OS hazard ratios of the bundled evidence, the frame
built from such rows, and an AnalysisResult pooled from a frame as ``run_analysis`` would.
"""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd

from livemeta.analysis.run import AnalysisResult
from livemeta.analysis.spec import AnalysisSpec
from livemeta.pooling import pool
from livemeta.pooling.subgroups import pool_subgroups

Z = 1.959963984540054

# OS hazard ratios as published (rct_outcomes.csv of the bundled evidence)
OS = [
    ("lung-map-s1800a", "Lung-MAP S1800A", 0.69, 0.51, 0.92, "antiangiogenic", "investigator_choice", False, 2022),
    ("keyvibe-002", "KEYVIBE-002", 0.76, 0.50, 1.15, "dual_checkpoint", "placebo_docetaxel", True, 2023),
    ("leap-008", "LEAP-008", 0.98, 0.78, 1.23, "multitarget_tki", "docetaxel", True, 2023),
    ("contact-01", "CONTACT-01", 0.88, 0.68, 1.16, "multitarget_tki", "docetaxel", True, 2024),
    ("saffron-301", "SAFFRON-301", 1.02, 0.75, 1.39, "multitarget_tki", "docetaxel", True, 2024),
    ("sapphire", "SAPPHIRE", 0.86, 0.70, 1.05, "multitarget_tki", "docetaxel", True, 2024),
    ("pragmatica-lung-s2302", "Pragmatica-Lung S2302", 0.99, 0.81, 1.22, "antiangiogenic", "investigator_choice",
     True, 2025),
]


def hr_frame(rows) -> pd.DataFrame:
    """Studies frame from rows shaped like :data:`OS` (HR and 95% CI, yi = ln HR)."""
    df = pd.DataFrame(rows, columns=["trial_id", "label", "estimate", "ci_low", "ci_high", "treatment_class",
                                     "control_type", "verified", "first_published"])
    df["first_publication_date"] = pd.to_datetime(df["first_published"].astype(str) + "-01-01")
    df["ci_level"] = 95.0
    df["yi"] = np.log(df["estimate"])
    df["vi"] = ((np.log(df["ci_high"]) - np.log(df["ci_low"])) / (2 * Z)) ** 2
    return df


def make_result(df: pd.DataFrame, *, id, revision, measure="HR", method="FE", test="z", subgroup=None,
                sensitivity_of=None, published=None, title=None, view="analysis_rct_os",
                filters=None) -> AnalysisResult:
    """Pool ``df`` (with yi, vi) into the AnalysisResult ``run_analysis`` would give at ``revision``.

    ``title`` defaults to "Analysis <id>", ``filters`` to the spec's default (none).
    """
    spec = AnalysisSpec(id=id, title=title or f"Analysis {id}", view=view, measure=measure, method=method,
                        test=test, subgroup=subgroup, sensitivity_of=sensitivity_of, published=published,
                        **({} if filters is None else {"filters": filters}))
    if df.empty:
        return AnalysisResult(spec, revision, df.assign(yi=[], vi=[], weight=[]), None)
    yi, vi = df["yi"].to_numpy(float), df["vi"].to_numpy(float)
    kw = dict(method=method, test=test, level=0.95, scale=spec.scale)
    overall = pool(yi, vi, **kw)
    df = df.assign(weight=np.asarray(overall.weights, float))
    sg = pool_subgroups(yi, vi, df[subgroup].astype(str).to_numpy(), **kw) if subgroup else None
    return AnalysisResult(spec, revision, df, overall, sg)


def png_size(path) -> tuple[int, int]:
    """(width, height) of a PNG file; asserts the PNG signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])
