"""pool_many (vectorised across analyses) agrees with pool() on every group.

Tolerances (``|pool_many - pool| <= tol * max(1, |pool|)``):

* ``1e-10`` for closed-form estimators (FE, DL, HE, SJ, HS): the same engine
  on the same numbers, only summation order can differ;
* ``1e-8`` for iterative ones (REML, ML, PM, EB): a rounding difference could
  in principle move a stopping decision of the iteration.

(In practice the segment sums do not depend on the other segments and the
two agree bit for bit.)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from livemeta.pooling import METHODS, SCALAR_FIELDS, TESTS, PoolResult, pool, pool_many

ITERATIVE = {"REML", "ML", "PM", "EB"}
NUMERIC = [
    f
    for f in SCALAR_FIELDS
    if f not in {"method", "test", "pi_dist", "scale", "message", "converged", "k", "q_df", "n_iter"}
]


def random_frame(n_groups: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = rng.integers(1, 26, size=n_groups)
    k[:3] = [1, 2, 2]
    gid = np.repeat(np.arange(n_groups), k)
    tau2 = rng.choice([0.0, 0.0, 0.05, 0.5, 3.0], size=n_groups)[gid]
    vi = 10.0 ** rng.uniform(-3, 1, size=gid.size)
    yi = rng.normal(rng.uniform(-1, 1, size=n_groups)[gid], np.sqrt(vi + tau2))
    # a group with identical effects
    yi[gid == 5] = 0.25
    frame = pd.DataFrame({"outcome": np.where(gid % 2 == 0, "OS", "PFS"), "g": gid, "yi": yi, "vi": vi})
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # rows shuffled


FRAME = random_frame(300, seed=11)


def _close(a: float, b: float, tol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(b))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", TESTS)
def test_pool_many_equals_pool(method, test):
    out = pool_many(FRAME, by=["outcome", "g"], method=method, test=test)
    assert list(out.columns) == ["outcome", "g", *SCALAR_FIELDS]
    assert len(out) == FRAME["g"].nunique()
    tol = 1e-8 if method in ITERATIVE else 1e-10
    for row in out.itertuples(index=False):
        sub = FRAME[(FRAME["outcome"] == row.outcome) & (FRAME["g"] == row.g)]
        ref = pool(sub["yi"].to_numpy(), sub["vi"].to_numpy(), method=method, test=test)
        for f in NUMERIC:
            assert _close(float(getattr(row, f)), float(getattr(ref, f)), tol), (row.g, f)
        assert row.k == ref.k and row.q_df == ref.q_df
        assert bool(row.converged) == ref.converged
        assert row.n_iter == ref.n_iter
        assert row.test == ref.test and row.pi_dist == ref.pi_dist
        assert row.message == ref.message


@pytest.mark.parametrize("pi", ["normal", "t(k-1)", "t(k-2)"])
def test_pool_many_pi_options(pi):
    out = pool_many(FRAME, by="g", method="DL", pi=pi).set_index("g")
    for g in (0, 1, 7, 42):
        sub = FRAME[FRAME["g"] == g]
        ref = pool(sub["yi"], sub["vi"], method="DL", pi=pi)
        assert _close(out.loc[g, "pi_low"], ref.pi_low, 1e-10)
        assert _close(out.loc[g, "pi_high"], ref.pi_high, 1e-10)
        assert out.loc[g, "pi_dist"] == pi


def test_columns_match_to_frame():
    res = pool([0.1, 0.3, -0.2], [0.05, 0.1, 0.2], method="REML")
    out = pool_many(pd.DataFrame({"yi": [0.1, 0.3, -0.2], "vi": [0.05, 0.1, 0.2]}), method="REML")
    assert list(out.columns) == list(res.to_frame().columns) == list(SCALAR_FIELDS)
    for f in NUMERIC:
        assert _close(float(out.loc[0, f]), float(getattr(res, f)), 1e-12)


def test_group_keys_sorted_with_missing_key():
    frame = pd.DataFrame(
        {
            "drug": ["b", "a", "a", None, None, "b"],
            "yi": [0.1, 0.2, 0.4, -0.1, 0.3, 0.5],
            "vi": [0.1, 0.2, 0.1, 0.3, 0.2, 0.1],
        }
    )
    out = pool_many(frame, by="drug", method="DL")
    assert out["drug"].iloc[:2].tolist() == ["a", "b"]
    assert pd.isna(out["drug"].iloc[2])
    assert out["k"].tolist() == [2, 2, 2]
    ref = pool([0.2, 0.4], [0.2, 0.1], method="DL")
    assert _close(out["estimate"].iloc[0], ref.estimate, 1e-12)


def test_nonconverged_group_isolated():
    out = pool_many(FRAME, by="g", method="REML", control={"maxiter": 2})
    full = pool_many(FRAME, by="g", method="REML")
    bad = ~out["converged"]
    assert bad.any() and (~bad).any()
    assert out.loc[bad, "estimate"].isna().all()
    assert out.loc[bad, "message"].str.contains("Fisher scoring").all()
    assert out.loc[bad, "q"].notna().all()
    good = out[~bad]
    np.testing.assert_allclose(good["estimate"], full.loc[~bad, "estimate"], rtol=1e-12)


def test_errors_name_the_row():
    frame = pd.DataFrame({"g": [1, 1, 2], "yi": [0.1, 0.2, 0.3], "vi": [0.1, -0.2, 0.1]}, index=[10, 11, 12])
    with pytest.raises(ValueError, match=r"vi at row 1 \(index 11\)"):
        pool_many(frame, by="g")
    frame.loc[12, "vi"] = 0.1
    frame.loc[11, "vi"] = 0.1
    frame.loc[12, "yi"] = np.nan
    with pytest.raises(ValueError, match=r"yi at row 2 \(index 12\)"):
        pool_many(frame, by="g")
    with pytest.raises(ValueError, match="not in frame"):
        pool_many(frame, by="nope")
    with pytest.raises(ValueError, match="unknown method"):
        pool_many(frame.dropna(), by="g", method="XX")


def test_empty_and_single_group():
    empty = pool_many(pd.DataFrame({"g": [], "yi": [], "vi": []}), by="g")
    assert list(empty.columns) == ["g", *SCALAR_FIELDS] and len(empty) == 0
    one = pool_many(FRAME[FRAME["g"] == 3], method="PM")
    sub = FRAME[FRAME["g"] == 3]
    ref = pool(sub["yi"], sub["vi"], method="PM")
    assert len(one) == 1 and _close(one["tau2"].iloc[0], ref.tau2, 1e-12)


def test_many_groups_vectorised_quickly():
    """10,000 analyses in one call (no per-group Python loop): a smoke test, not a timing."""
    rng = np.random.default_rng(3)
    k = rng.integers(3, 21, size=10_000)
    gid = np.repeat(np.arange(k.size), k)
    vi = 10 ** rng.uniform(-2, 0, size=gid.size)
    frame = pd.DataFrame({"g": gid, "yi": rng.normal(0, np.sqrt(vi + 0.1)), "vi": vi})
    out = pool_many(frame, by="g", method="REML")
    assert len(out) == 10_000
    assert out["converged"].mean() > 0.99
    assert isinstance(pool(frame["yi"][:5], frame["vi"][:5]), PoolResult)
