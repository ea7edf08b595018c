"""Small-study effects: Egger's regression test and trim-and-fill.

* :func:`egger_test` returns two clearly labelled variants:

  ``classical``
      Egger et al. (1997): ordinary least squares of the standard normal
      deviate ``yi / sei`` on the precision ``1 / sei``; the intercept is tested
      with a t test on ``k - 2`` df.  Identical to metafor's
      ``regtest(yi, vi, model = "lm")`` (its ``zval`` is the intercept's t, its
      ``est`` the slope, i.e. the "limit" effect as sei -> 0).
  ``rma``
      metafor's default ``regtest(rma(yi, vi, method = <method>))``:
      ``model = "rma"``, predictor ``"sei"``, i.e. the meta-regression
      ``rma(yi, vi, mods = ~ sqrt(vi), method = <method>, test = <test>)``.
      With ``method="FE"`` this is a weighted regression with a z test; with a
      random-effects method it is a mixed-effects meta-regression (tau^2
      re-estimated in the model with the ``sei`` moderator).  The test is on the
      ``sei`` coefficient; the intercept is the limit estimate.

* :func:`trimfill` re-implements ``trimfill.rma.uni`` (Duval & Tweedie,
  estimators L0, R0, Q0) for an intercept-only model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from . import _dist as _d

from ._validate import yi_vi

__all__ = ["EggerClassical", "RegTestRMA", "EggerResult", "egger_test",
           "TrimFillResult", "trimfill"]


def _check_level(level):
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")


@dataclass(frozen=True)
class EggerClassical:
    """Egger (1997): OLS of yi/sei on 1/sei; matches ``regtest(yi, vi, model = "lm")``.

    ``intercept``/``t``/``p`` are the bias test (t on ``df = k - 2``);
    ``slope`` is the limit estimate (``regtest``'s ``est``) with its t-based CI.
    """

    intercept: float
    intercept_se: float
    t: float
    df: int
    p: float
    slope: float
    slope_se: float
    slope_ci_low: float
    slope_ci_high: float
    sigma: float


@dataclass(frozen=True)
class RegTestRMA:
    """``regtest(rma(yi, vi, method, test))`` (model = "rma", predictor = "sei").

    ``coef_sei``/``stat``/``p`` test the sei moderator (z, or t on ``df = k - 2``
    when ``test="knha"``); ``limit_estimate`` and its CI are the intercept.
    """

    method: str
    test: str
    coef_sei: float
    se: float
    stat: float
    df: int | None
    p: float
    limit_estimate: float
    limit_ci_low: float
    limit_ci_high: float
    tau2: float


@dataclass(frozen=True)
class EggerResult:
    """Both variants of Egger's test for one set of studies."""

    k: int
    level: float
    classical: EggerClassical
    rma: RegTestRMA

    def to_dict(self) -> dict:
        return asdict(self)

    def to_frame(self):
        """One row per variant (``classical``, ``rma``) with common column names."""
        import pandas as pd

        c, r = self.classical, self.rma
        return pd.DataFrame(
            [
                dict(variant="classical", model="lm", method=None, test="t", k=self.k,
                     coef=c.intercept, se=c.intercept_se, stat=c.t, df=c.df, p=c.p,
                     limit_estimate=c.slope, limit_ci_low=c.slope_ci_low,
                     limit_ci_high=c.slope_ci_high, tau2=None),
                dict(variant="rma", model="rma", method=r.method, test=r.test, k=self.k,
                     coef=r.coef_sei, se=r.se, stat=r.stat, df=r.df, p=r.p,
                     limit_estimate=r.limit_estimate, limit_ci_low=r.limit_ci_low,
                     limit_ci_high=r.limit_ci_high, tau2=r.tau2),
            ]
        )


def egger_test(yi, vi, *, method="REML", test="z", level=0.95) -> EggerResult:
    """Egger's regression test for funnel-plot asymmetry, both variants.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and sampling variances (k >= 3).
    method : str
        tau^2 estimator of the ``rma`` variant (``"FE"``, ``"DL"``, ``"REML"``,
        ``"ML"``, ``"HE"``, ``"HS"``, ``"SJ"``, ``"EB"``, ``"PM"``).  The default
        ``"REML"`` is what ``regtest(yi, vi)`` uses; pass the method of your
        pooled model to match ``regtest(rma(yi, vi, method = method))``.
    test : {"z", "knha"}
        Test of the ``rma`` variant.
    level : float
        Confidence level for the limit estimates.

    Returns
    -------
    EggerResult
        ``.classical`` matches ``regtest(yi, vi, model = "lm")`` and
        ``.rma`` matches ``regtest(rma(yi, vi, method = method, test = test))``.
    """
    y, v = yi_vi(yi, vi)
    _check_level(level)
    k = y.size
    if k < 3:
        raise ValueError(f"Egger's test needs k >= 3 studies, got {k}")
    sei = np.sqrt(v)
    # classical: OLS of y/se on [1, 1/se]  (== WLS of y on [1, se], weights 1/v)
    X = np.column_stack([np.ones(k), 1.0 / sei])
    z = y / sei
    xtx_inv = np.linalg.inv(X.T @ X)
    b = xtx_inv @ X.T @ z
    df = k - 2
    resid = z - X @ b
    s2 = float(resid @ resid) / df
    se_b = np.sqrt(np.diag(xtx_inv) * s2)
    t = b[0] / se_b[0]
    crit = _d.t_isf((1 - level) / 2, df)
    classical = EggerClassical(
        intercept=float(b[0]), intercept_se=float(se_b[0]), t=float(t), df=df,
        p=float(2 * _d.t_sf(abs(t), df)), slope=float(b[1]), slope_se=float(se_b[1]),
        slope_ci_low=float(b[1] - crit * se_b[1]), slope_ci_high=float(b[1] + crit * se_b[1]),
        sigma=float(np.sqrt(s2)),
    )
    from .metareg import metareg

    fit = metareg(y, v, sei, method=method, test=test, level=level)
    rma = RegTestRMA(
        method=fit.method, test=test, coef_sei=float(fit.beta[1]), se=float(fit.se[1]),
        stat=float(fit.stat[1]), df=(k - 2) if test == "knha" else None, p=float(fit.pval[1]),
        limit_estimate=float(fit.beta[0]), limit_ci_low=float(fit.ci_low[0]),
        limit_ci_high=float(fit.ci_high[0]), tau2=fit.tau2,
    )
    return EggerResult(k=k, level=level, classical=classical, rma=rma)


# --------------------------------------------------------------------------- trim and fill
@dataclass(frozen=True)
class TrimFillResult:
    """Result of :func:`trimfill` (fields as in metafor's ``rma.uni.trimfill``).

    ``yi``/``vi`` hold the observed studies (input order) followed by the ``k0``
    filled ones; ``filled`` flags the latter.  ``pooled`` is the model refitted
    on the filled data (the original model when ``k0 == 0``).
    """

    k0: int
    se_k0: float
    p_k0: float
    side: str
    estimator: str
    yi: np.ndarray
    vi: np.ndarray
    filled: np.ndarray
    pooled: object  # PoolResult
    iterations: int

    def to_frame(self):
        """Per-study frame (``yi``, ``vi``, ``filled``) of the filled data set."""
        import pandas as pd

        return pd.DataFrame({"yi": self.yi, "vi": self.vi, "filled": self.filled})


def _ranks_first(x):
    """R's rank(x, ties.method = "first")."""
    order = np.argsort(x, kind="stable")
    r = np.empty(x.size, dtype=float)
    r[order] = np.arange(1, x.size + 1)
    return r


def trimfill(yi, vi, *, side=None, estimator="L0", method="REML", test="z", level=0.95,
             scale="identity", maxiter=100) -> TrimFillResult:
    """Duval and Tweedie's trim-and-fill, as ``trimfill(rma(yi, vi, method, test))``.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and sampling variances.
    side : {None, "left", "right"}
        Side on which studies are missing.  ``None`` (default) chooses it as
        metafor does: from the sign of the sei slope in
        ``rma(yi, vi, mods = ~ sqrt(vi), method)`` (negative -> ``"right"``).
    estimator : {"L0", "R0", "Q0"}
        Estimator of the number of missing studies.
    method, test, level, scale
        The model (``pool(..., method, test, level, scale)``) used while
        trimming and for the final fit on the filled data.
    maxiter : int
        Maximum number of trim iterations.

    Notes
    -----
    Studies are sorted with a stable sort and ranked with ties broken by
    position, as R's ``sort(..., index.return = TRUE)`` and
    ``rank(..., ties.method = "first")`` do.  Filled studies are the
    reflections ``2 * beta - yi`` of the ``k0`` most extreme studies about the
    trimmed estimate ``beta``, with the same ``vi``.
    """
    from .core import pool
    from .metareg import metareg

    y0, v0 = yi_vi(yi, vi)
    _check_level(level)
    estimator = estimator.upper()
    if estimator not in ("L0", "R0", "Q0"):
        raise ValueError("estimator must be 'L0', 'R0' or 'Q0'")
    k = y0.size
    if k < 2:
        raise ValueError("trim-and-fill needs k >= 2 studies")
    if side is None:
        fit = metareg(y0, v0, np.sqrt(v0), method=method)
        side = "right" if fit.beta[1] < 0 else "left"
    elif side not in ("left", "right"):
        raise ValueError("side must be None, 'left' or 'right'")

    y = -y0 if side == "right" else y0.copy()
    ix = np.argsort(y, kind="stable")
    y, v = y[ix], v0[ix]
    k0_sav, k0, it = -1, 0, 0
    se_k0 = float("nan")
    beta = float("nan")
    while k0 != k0_sav:
        k0_sav = k0
        it += 1
        if it > maxiter:
            raise RuntimeError("trim and fill algorithm did not converge")
        beta = pool(y[: k - k0], v[: k - k0], method=method).estimate
        yc = y - beta
        r = _ranks_first(np.abs(yc))
        rs = np.sign(yc) * r
        if estimator == "R0":
            k0f = (k - np.max(-rs[rs < 0])) - 1 if np.any(rs < 0) else float(k - 1)
            se = np.sqrt(2 * max(0.0, k0f) + 2)
        else:
            sr = float(np.sum(rs[rs > 0]))
            if estimator == "L0":
                k0f = (4 * sr - k * (k + 1)) / (2 * k - 1)
            else:
                k0f = k - 0.5 - np.sqrt(2 * k**2 - 4 * sr + 0.25)
            var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0f**3 + 27 * k0f**2 + 17 * k0f
                      - 18 * k * k0f**2 - 18 * k * k0f + 6 * k**2 * k0f) / 24
            if estimator == "L0":
                se = 4 * np.sqrt(var_sr) / (2 * k - 1)
            else:
                se = 2 * np.sqrt(var_sr) / np.sqrt((k - 0.5) ** 2 - k0f * (2 * k - k0f - 1))
        k0 = int(max(0, _r_round(k0f)))
        se_k0 = float(max(0.0, se))

    if estimator == "R0":
        m = np.arange(-1, k0)
        from scipy.special import comb

        p_k0 = float(1 - np.sum(comb(m + 1, m + 1) * 0.5 ** (m + 2)))
    else:
        p_k0 = float("nan")

    if k0 > 0:
        # reflect the k0 most extreme studies about beta (R: -1 * yi.c[(k-k0+1):k])
        yc = y - beta
        yc = (yc - beta) if side == "left" else -(yc - beta)
        fill_y = -yc[k - k0:]
        fill_v = v[k - k0:]
        y_all = np.concatenate([y0, fill_y])
        v_all = np.concatenate([v0, fill_v])
    else:
        y_all, v_all = y0.copy(), v0.copy()
    filled = np.r_[np.zeros(k, bool), np.ones(k0, bool)]
    pooled = pool(y_all, v_all, method=method, test=test, level=level, scale=scale)
    return TrimFillResult(k0=k0, se_k0=se_k0, p_k0=p_k0, side=side, estimator=estimator,
                          yi=y_all, vi=v_all, filled=filled, pooled=pooled, iterations=it)


def _r_round(x: float) -> float:
    """R's round() to integer (IEC 60559: halves to even), as np.round."""
    return float(np.round(x))
