"""pooling.sequential.brentq runs scipy.optimize.brentq's algorithm step for step: the same root,
bit for bit, and the same evaluations, on functions of many shapes (the sequential designs solve
their boundaries with it, without importing scipy.optimize)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special

from livemeta.pooling.sequential import brentq

EPS4 = 4 * np.finfo(float).eps


def _cases():
    rng = np.random.default_rng(20261126)
    for i in range(300):
        a, b = sorted(rng.uniform(-5, 5, 2))
        c = rng.uniform(a, b)
        kind = i % 6
        if kind == 0:
            yield f"linear {i}", (lambda x, c=c: 3.0 * (x - c)), a, b
        elif kind == 1:
            yield f"cubic {i}", (lambda x, c=c: (x - c) ** 3 + 0.1 * (x - c)), a, b
        elif kind == 2:
            yield f"normal tail {i}", (lambda x, c=c: special.ndtr(x) - special.ndtr(c)), a, b
        elif kind == 3:
            yield f"exp {i}", (lambda x, c=c: math.expm1(x - c)), a, b
        elif kind == 4:
            yield f"flat {i}", (lambda x, c=c: math.tanh(20 * (x - c)) ** 3), a, b
        else:
            yield f"step-like {i}", (lambda x, c=c: math.atan(1e4 * (x - c))), a, b


@pytest.mark.parametrize("xtol", [1e-12, 2e-12, 1e-6])
def test_same_root_and_evaluations_as_scipy(xtol):
    n = 0
    for name, f, a, b in _cases():
        mine, theirs = [], []
        got = brentq(lambda x: mine.append(x) or f(x), a, b, xtol=xtol, rtol=EPS4, maxiter=500)
        want = optimize.brentq(lambda x: theirs.append(x) or f(x), a, b, xtol=xtol, rtol=EPS4, maxiter=500)
        assert got == want, name
        assert mine == theirs, name
        n += 1
    assert n == 300


def test_ends_and_errors_as_scipy():
    assert brentq(lambda x: x, 0.0, 1.0, xtol=1e-12, rtol=EPS4, maxiter=10) == 0.0
    assert brentq(lambda x: x - 1.0, 0.0, 1.0, xtol=1e-12, rtol=EPS4, maxiter=10) == 1.0
    with pytest.raises(ValueError, match="different signs"):
        brentq(lambda x: x * x + 1.0, -1.0, 1.0, xtol=1e-12, rtol=EPS4, maxiter=10)
    with pytest.raises(RuntimeError, match="converge"):
        brentq(lambda x: math.atan(1e4 * (x - 0.3)), -5.0, 5.0, xtol=1e-15, rtol=EPS4, maxiter=3)
