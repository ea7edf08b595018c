"""Benchmark of the vectorised pooler (not a timed test; run by hand).

    python benchmarks/bench_pooling.py [--n 10000] [--repeat 3]

* ``pool_many(method="REML")`` on 10,000 random analyses with k = 3..20
  studies (target: < 1 s on a 2-core machine);
* fits per second of a Python loop over statsmodels'
  ``statsmodels.stats.meta_analysis.combine_effects(..., method_re="pm")``
  versus ``pool_many(method="PM")`` (target: >= 20x).  statsmodels is only
  needed here (optional extra ``bench``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from livemeta.pooling import pool, pool_many


def make_frame(n: int, seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = rng.integers(3, 21, size=n)
    gid = np.repeat(np.arange(n), k)
    tau2 = rng.choice([0.0, 0.02, 0.1, 0.5], size=n)[gid]
    vi = 10.0 ** rng.uniform(-2.5, 0.5, size=gid.size)
    mu = rng.uniform(-1, 1, size=n)[gid]
    yi = rng.normal(mu, np.sqrt(vi + tau2))
    return pd.DataFrame({"analysis": gid, "yi": yi, "vi": vi})


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="number of analyses")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sm-fits", type=int, default=1000, help="analyses fitted by the statsmodels loop")
    args = ap.parse_args(argv)

    frame = make_frame(args.n)
    n_rows = len(frame)
    print(f"{args.n} analyses, {n_rows} studies (k = 3..20)")

    for method in ("REML", "DL", "PM", "ML", "EB"):
        t = best_of(lambda: pool_many(frame, by="analysis", method=method), args.repeat)
        out = pool_many(frame, by="analysis", method=method)
        flag = "  (target < 1 s)" if method == "REML" else ""
        print(
            f"pool_many {method:<4}: {t:7.3f} s  {args.n / t:10.0f} fits/s  "
            f"converged {int(out['converged'].sum())}/{args.n}{flag}"
        )

    # single-analysis API, for scale
    groups = [g for _, g in frame.groupby("analysis")][: min(1000, args.n)]
    t = best_of(lambda: [pool(g["yi"].to_numpy(), g["vi"].to_numpy(), method="REML") for g in groups], 1)
    print(f"pool() loop REML: {len(groups) / t:10.0f} fits/s")

    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:  # pragma: no cover - optional extra
        print("statsmodels not installed (pip install livemeta[bench]): skipping the comparison")
        return
    m = min(args.sm_fits, args.n)
    arrays = [(g["yi"].to_numpy(), g["vi"].to_numpy()) for g in groups[:m]]
    if len(arrays) < m:
        arrays = [(g["yi"].to_numpy(), g["vi"].to_numpy()) for _, g in frame.groupby("analysis")][:m]

    def sm_loop():
        for y, v in arrays:
            combine_effects(y, v, method_re="pm")

    t_sm = best_of(sm_loop, 1)
    t_lm = best_of(lambda: pool_many(frame, by="analysis", method="PM"), args.repeat)
    sm_rate = m / t_sm
    lm_rate = args.n / t_lm
    print(f"statsmodels combine_effects(method_re='pm') loop: {sm_rate:10.0f} fits/s ({m} fits)")
    print(f"livemeta pool_many(method='PM'):                  {lm_rate:10.0f} fits/s ({args.n} fits)")
    print(f"ratio: {lm_rate / sm_rate:.1f}x faster per fit (target >= 20x)")

    # sanity: both agree on tau2 where it is positive (statsmodels iterates PM to its own tolerance)
    for y, v in arrays:
        lm = pool(y, v, method="PM")
        if lm.tau2 > 0:
            sm = combine_effects(y, v, method_re="pm")
            print(f"check (k={y.size}): PM tau2 statsmodels {sm.tau2:.6g}, livemeta {lm.tau2:.6g}")
            break

if __name__ == "__main__":
    main()
