"""Subgroup analyses and the test for subgroup differences.

Two models (``tau2=``):

``"separate"`` (RevMan / R ``meta`` style)
    Each subgroup is pooled on its own with :func:`~livemeta.pooling.pool`
    (its own tau^2).  The test for subgroup differences is Cochran's Q of the
    subgroup estimates with fixed-effect weights ``1 / se_g^2``:
    ``Q_between = sum w_g (est_g - est_w)^2`` on ``G - 1`` df, i.e.
    ``rma(yi = est_g, sei = se_g, method = "FE")$QE``.

``"common"`` (metafor's moderator model)
    One mixed-effects model with a tau^2 common to all subgroups.  The test is
    the omnibus ``QM`` of ``rma(yi, vi, mods = ~ factor(g), method, test)`` on
    ``G - 1`` df (chi-square, or F(G - 1, k - G) with ``test="knha"``), and the
    per-group estimates are the coefficients of
    ``rma(yi, vi, mods = ~ factor(g) - 1, method, test)``.

Groups are ordered by ``sorted()`` of their distinct labels, as R's
``factor()`` orders levels for plain ASCII labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from . import _dist as _d

from ._validate import check_finite_positive
from .results import PoolResult

__all__ = ["SubgroupResult", "pool_subgroups"]


@dataclass(frozen=True)
class SubgroupResult:
    """Per-subgroup results and the test for subgroup differences.

    Attributes
    ----------
    tau2_model : {"separate", "common"}
    method, test, level : as passed.
    groups : tuple
        Group labels in output order.
    subgroups : dict
        ``label -> PoolResult``.  Under ``"common"`` the estimate, se, test
        and CI are the cell-means coefficients of the moderator model,
        ``tau2`` the common tau^2, and ``q``/``q_df``/``q_p`` the within-group
        Cochran Q (fixed-effect weights).
    q_between, q_between_df, q_between_p : float, int, float
        Test for subgroup differences (``Q_between`` or metafor's ``QM``).
    q_between_df2 : int or None
        Denominator df of the F test (``common`` with ``test="knha"``), else None.
    q_between_dist : {"chi2", "F"}
    tau2 : float
        Common tau^2 (``"common"``); ``nan`` under ``"separate"``.
    qe, qe_df, qe_p : float, int, float
        Residual heterogeneity: metafor's ``QE`` of the moderator model
        (both models; it does not depend on tau^2).
    overall : PoolResult
        All studies pooled ignoring the groups (same method/test/level).
    """

    tau2_model: str
    method: str
    test: str
    level: float
    groups: tuple
    subgroups: dict = field(repr=False)
    q_between: float
    q_between_df: int
    q_between_p: float
    q_between_df2: int | None
    q_between_dist: str
    tau2: float
    qe: float
    qe_df: int
    qe_p: float
    overall: PoolResult = field(repr=False)

    def to_frame(self):
        """One row per subgroup (the PoolResult columns plus ``group``), then the
        test for subgroup differences in columns ``q_between*`` on every row."""
        import pandas as pd

        rows = []
        for g in self.groups:
            d = self.subgroups[g].to_dict(include_weights=False)
            rows.append({"group": g, **d})
        df = pd.DataFrame(rows)
        df["tau2_model"] = self.tau2_model
        df["q_between"] = self.q_between
        df["q_between_df"] = self.q_between_df
        df["q_between_p"] = self.q_between_p
        return df


def _inputs(yi, vi, groups):
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    g = np.asarray(groups, dtype=object).ravel()
    if not (y.size == v.size == g.size):
        raise ValueError(f"yi, vi and groups differ in length: {y.size}, {v.size}, {g.size}")
    check_finite_positive(y, v)
    for i, x in enumerate(g):
        if x is None or (isinstance(x, float) and np.isnan(x)):
            raise ValueError(f"missing group label at index {i}")
    labels = tuple(sorted(set(g.tolist())))
    if len(labels) < 2:
        raise ValueError("need at least two subgroups")
    return y, v, g, labels


def pool_subgroups(yi, vi, groups, *, method="REML", test="z", level=0.95,
                   tau2="separate", scale="identity") -> SubgroupResult:
    """Subgroup meta-analysis with a test for subgroup differences.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and sampling variances.
    groups : array_like
        Subgroup label of each study (hashable, sortable).
    method : str
        tau^2 estimator (as :func:`~livemeta.pooling.pool`).  With
        ``tau2="common"``: FE, DL, HE, HS, SJ, ML, REML, EB, PM.
    test : {"z", "knha"}
    level : float
        Confidence level in (0, 1).
    tau2 : {"separate", "common"}
        See the module docstring.  ``"separate"`` matches per-group
        ``rma(yi, vi, subset = g == level, method)`` plus
        ``rma(yi = est, sei = se, method = "FE")$QE``; ``"common"`` matches
        ``rma(yi, vi, mods = ~ factor(g), method, test)$QM`` and
        ``rma(yi, vi, mods = ~ factor(g) - 1, method, test)``.
    scale : str
        Scale label passed to :func:`~livemeta.pooling.pool` (e.g. ``"log"``).
    """
    from .core import pool
    from .metareg import metareg

    if tau2 not in ("separate", "common"):
        raise ValueError("tau2 must be 'separate' or 'common'")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    y, v, g, labels = _inputs(yi, vi, groups)
    G = len(labels)
    masks = [g == lab for lab in labels]
    X = np.column_stack([m.astype(float) for m in masks])  # cell-means design
    k = y.size
    if k <= G and tau2 == "common":
        raise ValueError("common tau2 model needs more studies than subgroups")
    # residual heterogeneity QE of the moderator model (independent of tau^2)
    fe = metareg(y, v, X, intercept=False, method="FE")
    qe, qe_p = fe.qe, fe.qe_p
    overall = pool(y, v, method=method, test=test, level=level, scale=scale)

    if tau2 == "separate":
        sub = {lab: pool(y[m], v[m], method=method, test=test, level=level, scale=scale)
               for lab, m in zip(labels, masks)}
        est = np.array([sub[lab].estimate for lab in labels])
        se = np.array([sub[lab].se for lab in labels])
        w = 1.0 / se**2
        mu = np.sum(w * est) / np.sum(w)
        qb = float(np.sum(w * (est - mu) ** 2))
        return SubgroupResult(
            tau2_model="separate", method=overall.method, test=test, level=level,
            groups=labels, subgroups=sub, q_between=qb, q_between_df=G - 1,
            q_between_p=float(_d.chi2_sf(qb, G - 1)), q_between_df2=None,
            q_between_dist="chi2", tau2=float("nan"), qe=qe, qe_df=k - G, qe_p=qe_p,
            overall=overall,
        )

    # common tau^2: metafor moderator model
    # ~ factor(g): intercept + G-1 dummies; ~ factor(g) - 1: cell means
    fit_i = metareg(y, v, X[:, 1:], method=method, test=test, level=level)
    fit_c = metareg(y, v, X, intercept=False, method=method, test=test, level=level)
    t2 = fit_c.tau2
    nan = float("nan")
    if test == "knha":
        ddf = k - G
        crit_pi = _d.t_isf((1 - level) / 2, ddf)
        pi_dist = "t(k-p)"  # residual df of the moderator model, k - G
    else:
        ddf = nan
        crit_pi = _d.norm_isf((1 - level) / 2)
        pi_dist = "normal"
    sub = {}
    for j, (lab, m) in enumerate(zip(labels, masks)):
        yg, vg = y[m], v[m]
        kg = int(m.sum())
        wfe = 1.0 / vg
        if kg > 1:
            mu = np.sum(wfe * yg) / wfe.sum()
            qg = float(np.sum(wfe * (yg - mu) ** 2))
            qg_p = float(_d.chi2_sf(qg, kg - 1))
            i2q = max(0.0, 100 * (qg - (kg - 1)) / qg) if qg > 0 else 0.0
            vt = (kg - 1) / (wfe.sum() - np.sum(wfe**2) / wfe.sum())
        else:
            qg, qg_p, i2q, vt = 0.0, 1.0, 0.0, nan
        if fit_c.method in ("FE", "EE", "CE") or kg == 1:
            i2, h2 = (i2q, qg / (kg - 1)) if kg > 1 else (0.0, 1.0)
        else:
            i2, h2 = 100 * t2 / (vt + t2), t2 / vt + 1
        b, s = float(fit_c.beta[j]), float(fit_c.se[j])
        half = crit_pi * np.sqrt(s**2 + t2)
        wg = 1.0 / (vg + t2)
        sub[lab] = PoolResult(
            method=fit_c.method, test=test, level=float(level), k=kg, estimate=b, se=s,
            stat=float(fit_c.stat[j]), df=float(ddf), p=float(fit_c.pval[j]),
            ci_low=float(fit_c.ci_low[j]), ci_high=float(fit_c.ci_high[j]), tau2=float(t2),
            tau2_se=nan, tau=float(np.sqrt(t2)), i2=float(i2), h2=float(h2), i2_q=float(i2q),
            q=qg, q_df=kg - 1, q_p=qg_p, pi_low=float(b - half), pi_high=float(b + half),
            pi_dist=pi_dist, scale=str(scale), converged=fit_c.converged, n_iter=0,
            message="cell-means coefficient of rma(yi, vi, mods = ~ factor(g) - 1) "
                    "with a common tau2" + (f"; {fit_c.message}" if fit_c.message else ""),
            weights=tuple(float(x) for x in 100 * wg / wg.sum()),
        )
    return SubgroupResult(
        tau2_model="common", method=fit_c.method, test=test, level=level, groups=labels,
        subgroups=sub, q_between=fit_i.qm, q_between_df=G - 1, q_between_p=fit_i.qm_p,
        q_between_df2=(k - G) if test == "knha" else None,
        q_between_dist="F" if test == "knha" else "chi2", tau2=float(fit_i.tau2),
        qe=qe, qe_df=k - G, qe_p=qe_p, overall=overall,
    )
