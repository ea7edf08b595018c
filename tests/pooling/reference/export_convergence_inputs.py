"""Write convergence_inputs.csv: the random analyses where the iterative estimators stop (issue 15).

The benchmark's 10,000 random analyses (``benchmarks/bench_pooling.py::make_frame(10000)``, seed
2024: k = 3..20, true tau2 in 0, 0.02, 0.1, 0.5, vi over three orders of magnitude): every analysis
where ``pool_many`` reported REML, EB or ML as not converged when this file was made (18 REML, 85 EB,
1 ML; 102 analyses), and the first 50 analyses as controls. ``make_reference_convergence.R`` fits
each with metafor, which stops on exactly those (a run over all 10,000 found the same sets).

    .venv/bin/python tests/pooling/reference/export_convergence_inputs.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "benchmarks"))


def main() -> None:
    from bench_pooling import make_frame

    from livemeta.pooling import pool_many

    frame = make_frame(10_000)
    stopped = set()
    for method in ("REML", "EB", "ML"):
        res = pool_many(frame, by="analysis", method=method)
        stopped |= set(res.loc[~res["converged"], "analysis"].tolist())
    keep = sorted(stopped | set(range(50)))
    out = frame[frame["analysis"].isin(keep)]
    with open(HERE / "convergence_inputs.csv", "w", encoding="utf-8") as f:
        f.write("analysis,yi,vi\n")
        for a, y, v in out.itertuples(index=False):
            f.write(f"{a},{y!r},{v!r}\n")
    print(f"wrote {len(keep)} analyses ({len(stopped)} where an iterative estimator stops), {len(out)} rows")


if __name__ == "__main__":
    main()
