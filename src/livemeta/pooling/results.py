"""Result object of the core estimator (:func:`livemeta.pooling.pool`).

:class:`PoolResult` is a frozen dataclass: every field is a plain Python
scalar (``float``, ``int``, ``bool`` or ``str``) except ``weights`` (a tuple
of per-study percentages).  ``to_dict()`` and ``to_frame()`` give the same
uniform shape for every estimator, and :func:`livemeta.pooling.pool_many`
returns one row per analysis with exactly the columns of ``to_frame()``.

The names follow metafor where it has one::

    estimate  <- res$beta        se      <- res$se
    stat      <- res$zval        p       <- res$pval
    ci_low    <- res$ci.lb       ci_high <- res$ci.ub
    tau2      <- res$tau2        tau2_se <- res$se.tau2
    i2        <- res$I2          h2      <- res$H2
    q         <- res$QE          q_p     <- res$QEp
    pi_low    <- predict(res)$pi.lb  pi_high <- predict(res)$pi.ub
    weights   <- weights(res)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["PoolResult", "SCALAR_FIELDS"]


@dataclass(frozen=True, slots=True)
class PoolResult:
    """Pooled estimate of one meta-analysis (intercept-only ``rma.uni`` model).

    Attributes
    ----------
    method : str
        Heterogeneity estimator (``"FE"``, ``"DL"``, ``"REML"``, ``"ML"``,
        ``"PM"``, ``"EB"``, ``"SJ"``, ``"HE"``, ``"HS"``).
    test : str
        ``"z"`` or ``"knha"`` as actually used (metafor switches to ``"z"``
        when ``k == 1``; ``message`` then says so).
    level : float
        Confidence level of ``ci_low``/``ci_high`` and ``pi_low``/``pi_high``.
    k : int
        Number of studies.
    estimate, se : float
        Pooled estimate and its standard error (Knapp-Hartung adjusted under
        ``test="knha"``; metafor does not truncate the adjustment).
    stat : float
        Wald statistic ``estimate / se`` (z, or t with ``df`` degrees of
        freedom under ``knha``).
    df : float
        ``k - 1`` under ``test="knha"``, ``nan`` under ``test="z"``.
    p : float
        Two-sided p value of ``stat``.
    ci_low, ci_high : float
        Confidence interval of the pooled estimate.
    tau2, tau2_se, tau : float
        Between-study variance, metafor's standard error of it
        (``res$se.tau2``; ``nan`` for FE and ``k == 1``) and ``sqrt(tau2)``.
    i2, h2 : float
        I^2 (percent) and H^2 as metafor reports them: from ``tau2`` and the
        typical within-study variance for random-effects methods, from Q for
        ``method="FE"``.
    i2_q : float
        Higgins & Thompson I^2 from Q, ``max(0, (q - q_df) / q)``, in percent
        (0 when ``q == 0``).
    q, q_df, q_p : float, int, float
        Cochran's Q (inverse-variance weights), its degrees of freedom and
        chi-square p value.
    pi_low, pi_high : float
        Prediction interval (metafor ``predict()``); equals the CI for FE.
    pi_dist : str
        Reference distribution of the prediction interval: ``"normal"``,
        ``"t(k-1)"`` or ``"t(k-2)"``.
    scale : str
        Scale of ``estimate`` (a label, e.g. ``"log"`` for log ratios;
        see :meth:`back_transformed`).
    converged : bool
        ``False`` when an iterative estimator failed (metafor stops with an
        error there).  All tau2-dependent fields are then ``nan``; ``q``,
        ``q_df``, ``q_p`` and ``i2_q`` are still reported.
    n_iter : int
        Fisher-scoring / root-finder iterations (0 for closed forms).
    message : str
        Empty, or why the fit did not converge / what was adjusted.
    weights : tuple of float
        Per-study weights in percent (sum to 100), metafor ``weights(res)``.
    """

    method: str
    test: str
    level: float
    k: int
    estimate: float
    se: float
    stat: float
    df: float
    p: float
    ci_low: float
    ci_high: float
    tau2: float
    tau2_se: float
    tau: float
    i2: float
    h2: float
    i2_q: float
    q: float
    q_df: int
    q_p: float
    pi_low: float
    pi_high: float
    pi_dist: str
    scale: str
    converged: bool
    n_iter: int
    message: str
    weights: tuple[float, ...] = ()

    # ------------------------------------------------------------------ views
    def to_dict(self, *, include_weights: bool = True) -> dict[str, Any]:
        """All fields as a plain ``dict`` (``weights`` as a list). The fields are scalars: read as
        they are, without ``dataclasses.asdict``'s deep copy (of the weights, too)."""
        out = {name: getattr(self, name) for name in SCALAR_FIELDS}
        if include_weights:
            out["weights"] = list(self.weights)
        return out

    def to_frame(self):
        """One-row tidy :class:`pandas.DataFrame` of the scalar fields.

        The columns (``SCALAR_FIELDS``) are the same for every estimator and
        identical to the result columns of :func:`~livemeta.pooling.pool_many`.
        Per-study ``weights`` are left out (they are not one value per row).
        """
        import pandas as pd

        return pd.DataFrame([self.to_dict(include_weights=False)], columns=list(SCALAR_FIELDS))

    def back_transformed(self) -> dict[str, float]:
        """Estimate, CI and PI mapped back with :func:`~livemeta.pooling.back_transform`.

        Returns a dict with ``estimate``, ``ci_low``, ``ci_high``, ``pi_low``,
        ``pi_high`` on the natural scale (``exp`` for ``scale="log"``).
        """
        from .effects import back_transform

        keys = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
        return {key: float(back_transform(getattr(self, key), self.scale)) for key in keys}

    @property
    def significant(self) -> bool:
        """``p < 1 - level`` (``False`` when ``p`` is nan)."""
        return (not math.isnan(self.p)) and self.p < 1.0 - self.level


#: Names of the scalar fields, in order (the columns of ``to_frame()``).
SCALAR_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PoolResult) if f.name != "weights")
