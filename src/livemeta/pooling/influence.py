"""Influence diagnostics: metafor's ``influence(rma(yi, vi, ...))``.

For the intercept model (and for a meta-regression, ``mods=``), each study is
left out in turn and the model refitted with the same method, test and
controls; the k refits run together through the vectorised engine (one
analysis per left-out study).  As metafor 3.8 ``influence.rma.uni``:

* ``rstudent``: externally standardised residual
  ``(y_i - x_i'b_(-i)) / sqrt(v_i s2w_(-i) + x_i' V_(-i) x_i + tau2_(-i) s2w_(-i))``
  (``s2w`` the Knapp-Hartung factor, 1 under ``test="z"``);
* ``dffits``: ``(x_i'b - x_i'b_(-i)) / sqrt(s2w_(-i) h_i (tau2_(-i) + v_i))``;
* ``cook_d``: ``(b - b_(-i))' V^-1 (b - b_(-i))`` over all coefficients;
* ``cov_r``: ``det V_(-i) / det V``;
* ``tau2_del``, ``qe_del``: tau2 and QE without study i;
* ``hat``: ``w_i x_i'(X'WX)^-1 x_i``; ``weight``: weights in percent;
* ``dfbetas``: ``(b - b_(-i)) / sqrt(s2w_(-i) diag((X'W_(-i)X)^-1))`` with
  ``W_(-i)`` the weights of all k studies at ``tau2_(-i)``;
* ``baujat_x``, ``baujat_y``: the coordinates of metafor's ``baujat()`` plot: the study's
  contribution to heterogeneity ``(y_i - x_i'b)^2 / (tau2 + v_i)`` and its influence on the
  fitted value ``(x_i'b_(-i) - x_i'b)^2 / x_i' V_(-i) x_i``;
* ``is_infl``: metafor's flag (marked ``*`` in its printout):
  ``|dffits| > 3 sqrt(p / (k - p))``, or ``pchisq(cook_d, p) > 0.5``, or
  ``hat > 3 p / k``, or any ``|dfbetas| > 1``.

A refit that fails (too few studies, not converged) gives ``nan`` in its
row, as metafor gives ``NA``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from ._tau2 import _EPS, _DesignModel, _Segments

__all__ = ["InfluenceResult", "influence"]


@dataclass(frozen=True)
class InfluenceResult:
    """Per-study influence diagnostics (metafor ``influence()``; arrays of length k)."""

    method: str
    test: str
    k: int
    p: int
    names: tuple
    rstudent: np.ndarray = field(repr=False)
    dffits: np.ndarray = field(repr=False)
    cook_d: np.ndarray = field(repr=False)
    cov_r: np.ndarray = field(repr=False)
    tau2_del: np.ndarray = field(repr=False)
    qe_del: np.ndarray = field(repr=False)
    hat: np.ndarray = field(repr=False)
    weight: np.ndarray = field(repr=False)
    dfbetas: np.ndarray = field(repr=False)  # k x p
    is_infl: np.ndarray = field(repr=False)
    baujat_x: np.ndarray = field(repr=False, default=None)
    baujat_y: np.ndarray = field(repr=False, default=None)
    tau2: float = float("nan")
    qe: float = float("nan")

    def to_frame(self, labels: Sequence[str] | None = None):
        """One row per study: the diagnostics, ``dfbetas_<coef>`` and ``influential``."""
        import pandas as pd

        df = pd.DataFrame({
            "study": list(labels) if labels is not None else list(range(self.k)),
            "rstudent": self.rstudent, "dffits": self.dffits, "cook_d": self.cook_d,
            "cov_r": self.cov_r, "tau2_del": self.tau2_del, "qe_del": self.qe_del,
            "hat": self.hat, "weight": self.weight,
        })
        for j, name in enumerate(self.names):
            df[f"dfbetas_{name}"] = self.dfbetas[:, j]
        df["baujat_x"] = self.baujat_x
        df["baujat_y"] = self.baujat_y
        df["influential"] = self.is_infl
        return df


def influence(yi, vi, mods=None, *, intercept: bool = True, names: Sequence[str] | None = None,
              method: str = "REML", test: str = "z", level: float = 0.95,
              control: Mapping[str, Any] | None = None) -> InfluenceResult:
    """Influence diagnostics of ``rma(yi, vi, mods, method, test)`` (metafor ``influence()``).

    Parameters are those of :func:`~livemeta.pooling.metareg` (``mods=None``
    is the intercept model).  Needs k >= 2.
    """
    from .metareg import _check_args, _fit_design, metareg

    full = metareg(yi, vi, mods, intercept=intercept, names=names, method=method, test=test,
                   level=level, control=control)
    if not full.converged:
        raise ValueError(f"the model did not converge ({full.message}); no influence diagnostics")
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    X = full.x
    k, p = X.shape
    if k < 2:
        raise ValueError("influence diagnostics need k >= 2 studies (metafor stops because k = 1)")
    method_u, test_u, level_u, ctl = _check_args(method, test, level, control)
    btt = tuple(range(p))  # influence(): every coefficient (int.incl = FALSE)
    nan = np.full(k, np.nan)
    # ---- the k leave-one-out fits at once: analysis i = all studies but i
    rows = np.array([j for i in range(k) for j in range(k) if j != i])
    seg = _Segments(np.full(k, k - 1))
    need = p if method_u == "FE" else p + 1
    if k - 1 >= need and all(np.linalg.matrix_rank(np.delete(X, i, axis=0)) == p for i in range(k)):
        out = _fit_design(seg, y[rows], v[rows], X[rows], method=method_u, test=test_u,
                          level=level_u, ctl=ctl, btt=btt, intercept=intercept, r2=False)
        conv = out["converged"]
        beta_del = out["beta"]  # k x p
        vb_del = out["vb"]  # k x p x p
        tau2_del = np.where(conv, out["tau2"], np.nan)
        qe_del = np.where(conv, out["qe"], np.nan)
        s2w_del = out["s2w"]
    else:  # metafor: every refit stops ("Number of parameters ...") -> NA
        beta_del = np.full((k, p), np.nan)
        vb_del = np.full((k, p, p), np.nan)
        tau2_del = qe_del = s2w_del = nan
    with np.errstate(all="ignore"):
        b = full.beta
        w = 1.0 / (v + full.tau2)
        A = np.linalg.inv(X.T @ (X * w[:, None]))
        hat = w * np.einsum("ij,jk,ik->i", X, A, X)
        pred_full = X @ b
        delpred = np.einsum("ij,ij->i", X, beta_del)
        vdelpred = np.einsum("ij,ijk,ik->i", X, vb_del, X)
        dffits = (pred_full - delpred) / np.sqrt(s2w_del * hat * (tau2_del + v))
        # vb of the full model with tau2_del[i] plugged in, for DFBETAS
        model = _DesignModel(_Segments(np.full(k, k)), np.tile(v, k), np.tile(X, (k, 1)))
        st = model.state(1.0 / (np.tile(v, k) + np.repeat(tau2_del, k)))
        dfb = b[None, :] - beta_del
        dfbetas = dfb / np.sqrt(s2w_del[:, None] * np.einsum("gii->gi", st.A))
        svb = np.linalg.inv(full.vb)
        cook_d = np.einsum("gi,ij,gj->g", dfb, svb, dfb)
        cov_r = np.linalg.det(vb_del) / np.linalg.det(full.vb)
        resid = y - delpred
        resid = np.where(np.abs(resid) < 100 * _EPS, 0.0, resid)
        seresid = np.sqrt(v * s2w_del + vdelpred + tau2_del * s2w_del)
        rstudent = resid / seresid
        baujat_x = (y - pred_full) ** 2 / (full.tau2 + v)
        baujat_y = (delpred - pred_full) ** 2 / vdelpred
        is_infl = ((np.abs(dffits) > 3.0 * np.sqrt(p / (k - p)))
                   | (special.chdtr(p, cook_d) > 0.5)
                   | (hat > 3.0 * p / k)
                   | np.any(np.abs(dfbetas) > 1.0, axis=1))
    return InfluenceResult(
        method=full.method, test=full.test, k=k, p=p, names=full.names, rstudent=rstudent,
        dffits=dffits, cook_d=cook_d, cov_r=cov_r, tau2_del=tau2_del, qe_del=qe_del, hat=hat,
        weight=np.array(full.weights), dfbetas=dfbetas, is_infl=np.asarray(is_infl, bool),
        tau2=full.tau2, qe=full.qe, baujat_x=baujat_x, baujat_y=baujat_y,
    )
