"""How a result's method is said beside its numbers (no pandas, numpy or the engine: ``livemeta log``
and ``diff`` read stored results with it)."""

from __future__ import annotations


def pi_label(method: str | None, test: str | None, pi_dist: str | None, k: int | None) -> str:
    """What a prediction interval is, beside every one shown: its tau² estimator and its
    distribution, 'REML, t(k-1) = t(4), HKSJ', 'DL, z'; 'fixed effect: = CI' (no tau²)."""
    if method == "FE":
        return "fixed effect: = CI"
    dist = pi_dist or "normal"
    if dist == "normal":
        text = "z"
    elif dist in ("t(k-1)", "t(k-2)") and k is not None:
        text = f"{dist} = t({k - (1 if dist == 't(k-1)' else 2)})"
    else:
        text = dist
    return f"{method}, {text}" + (", HKSJ" if test == "knha" and dist == "t(k-1)" else "")
