"""Meta-regression: metafor's ``rma(yi, vi, mods = ~ x1 + x2, method, test)``.

Pure numpy/scipy.  :func:`metareg` fits one mixed-effects (or, with
``method="FE"``, fixed-effects) meta-regression; :func:`metareg_many` fits
thousands at once (one moderator formula, any number of analyses) through the
same vectorised engine.  tau^2 comes from the package's one tau^2 engine
(:mod:`livemeta.pooling._tau2`), so every estimator, control setting and
stopping rule is the one of the intercept-only :func:`~livemeta.pooling.pool`.

What is computed, as metafor 3.8 ``rma.uni`` and ``predict.rma``:

* coefficients, their variance-covariance matrix, z or Knapp-Hartung t tests
  and CIs (``test="knha"``: t(k - p), ``vb`` scaled by ``RSS / (k - p)``,
  set to 0 when RSS <= machine epsilon, not truncated);
* the omnibus moderator test ``QM`` (chi-square on m df, or F(m, k - p) under
  ``knha``) of the coefficients ``btt`` (default: all but the intercept);
* residual heterogeneity ``QE`` on k - p df, residual tau^2 and its se,
  I^2 and H^2 from the typical within-study variance ``(k - p) / tr(P)``;
* pseudo R^2 (metafor's default ``r2def = "1"``):
  ``max(0, 100 (tau2_RE - tau2) / tau2_RE)`` with ``tau2_RE`` from the
  intercept-only model by the same method (0 when ``tau2_RE`` is 0); for
  ``method="FE"`` the adjusted R^2 of the weighted least-squares fit;
  only for models with an intercept and at least one moderator;
* predictions at given moderator values with CI and prediction interval
  ``pred +- crit * sqrt(se^2 + tau2)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from ._dist import norm_isf
from ._tau2 import _EPS, _Control, _DesignModel, _Segments, estimate_tau2, i2_h2

__all__ = ["MetaRegResult", "Prediction", "metareg", "metareg_many", "design_matrix"]


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class Prediction:
    """Predicted values at given moderator values (metafor ``predict.rma``).

    ``x`` holds the rows of the design matrix (intercept column included).
    ``pi_low``/``pi_high``: ``pred +- crit * sqrt(se^2 + tau2)``.
    """

    x: np.ndarray
    pred: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    level: float
    dist: str

    def to_frame(self, names: Sequence[str] | None = None):
        """One row per prediction: the moderator values then pred, se, CI, PI."""
        import pandas as pd

        cols = list(names) if names is not None else [f"x{j}" for j in range(self.x.shape[1])]
        df = pd.DataFrame(self.x, columns=cols)
        for key in ("pred", "se", "ci_low", "ci_high", "pi_low", "pi_high"):
            df[key] = getattr(self, key)
        return df


@dataclass(frozen=True)
class MetaRegResult:
    """One fitted meta-regression (fields named after metafor's ``rma`` object).

    Attributes
    ----------
    names : tuple of str
        Coefficient names (``"intrcpt"`` first when the model has one).
    beta, se, stat, pval, ci_low, ci_high : np.ndarray, shape (p,)
        Coefficients, standard errors, z or t statistics, p values, CIs.
    vb : np.ndarray, shape (p, p)
        Variance-covariance matrix of the coefficients (Knapp-Hartung
        scaled under ``test="knha"``).
    df : float
        ``k - p`` under ``knha``, else ``nan``.
    tau2, tau2_se, tau : float
        Residual between-study variance, its se and its square root.
    i2, h2 : float
        Residual I^2 (percent) and H^2.
    r2 : float
        Pseudo R^2 in percent (``nan`` where metafor reports none).
    qe, qe_df, qe_p : float, int, float
        Test for residual heterogeneity.
    qm, qm_df, qm_df2, qm_p, qm_dist : float, int, int or None, float, str
        Omnibus test of the coefficients ``btt``: chi-square on ``qm_df`` df,
        or F(``qm_df``, ``qm_df2``) under ``knha`` (``qm`` is then the F
        statistic, metafor's ``QM``).
    btt : tuple of int
        0-based indices of the tested coefficients.
    weights : tuple of float
        Per-study weights in percent (metafor ``weights(res)``).
    x : np.ndarray, shape (k, p)
        The design matrix.
    """

    method: str
    test: str
    level: float
    k: int
    p: int
    names: tuple
    intercept: bool
    beta: np.ndarray = field(repr=False)
    se: np.ndarray = field(repr=False)
    stat: np.ndarray = field(repr=False)
    pval: np.ndarray = field(repr=False)
    ci_low: np.ndarray = field(repr=False)
    ci_high: np.ndarray = field(repr=False)
    vb: np.ndarray = field(repr=False)
    df: float
    tau2: float
    tau2_se: float
    tau: float
    i2: float
    h2: float
    r2: float
    qe: float
    qe_df: int
    qe_p: float
    qm: float
    qm_df: int
    qm_df2: int | None
    qm_p: float
    qm_dist: str
    btt: tuple
    converged: bool
    n_iter: int
    message: str
    scale: str = "identity"
    weights: tuple = field(default=(), repr=False)
    x: np.ndarray = field(default=None, repr=False)

    def predict(self, newmods=None, *, level: float | None = None) -> Prediction:
        """Predictions at moderator values ``newmods`` (metafor ``predict(res, newmods)``).

        ``newmods`` has one row per prediction and one column per moderator
        (without the intercept, which is added when the model has one), or a
        mapping name -> values.  ``None`` predicts at every study (the
        fitted values).  ``level`` defaults to the model's.
        """
        lev = self.level if level is None else float(level)
        if newmods is None:
            xn = self.x
        else:
            xn = _new_rows(newmods, self)
        pred = xn @ self.beta
        vpred = np.einsum("ij,jk,ik->i", xn, self.vb, xn)
        vpred = np.where(vpred < 0, np.nan, vpred)
        se = np.sqrt(vpred)
        alpha = 1.0 - lev
        if self.test == "knha":
            dfr = self.k - self.p
            crit = -special.stdtrit(dfr, alpha / 2.0) if dfr > 0 else np.nan
            dist = f"t({dfr})"
        else:
            crit = norm_isf(alpha / 2.0)
            dist = "normal"
        half_pi = crit * np.sqrt(vpred + self.tau2)
        return Prediction(x=xn, pred=pred, se=se, ci_low=pred - crit * se, ci_high=pred + crit * se,
                          pi_low=pred - half_pi, pi_high=pred + half_pi, level=lev, dist=dist)

    def coef_frame(self):
        """One row per coefficient: name, estimate, se, stat, pval, ci_low, ci_high."""
        import pandas as pd

        return pd.DataFrame({"name": list(self.names), "estimate": self.beta, "se": self.se,
                             "stat": self.stat, "pval": self.pval, "ci_low": self.ci_low,
                             "ci_high": self.ci_high})

    def to_dict(self) -> dict[str, Any]:
        """Scalars and per-coefficient lists (JSON-ready)."""
        out: dict[str, Any] = {}
        for f in self.__dataclass_fields__:
            val = getattr(self, f)
            if f in ("x",):
                continue
            if isinstance(val, np.ndarray):
                val = val.tolist()
            elif isinstance(val, tuple):
                val = list(val)
            out[f] = val
        return out


# ------------------------------------------------------------------ design
def design_matrix(mods, k: int, *, intercept: bool = True, names: Sequence[str] | None = None):
    """Design matrix and coefficient names from moderators.

    ``mods``: ``None`` (intercept only), a 1-D array (one moderator), a 2-D
    array (k x m) or a mapping name -> array.  Returns ``(X, names)``.
    """
    cols: list[np.ndarray] = []
    labels: list[str] = []
    if mods is not None:
        if isinstance(mods, Mapping):
            for key, val in mods.items():
                cols.append(np.asarray(val, dtype=float).ravel())
                labels.append(str(key))
        else:
            arr = np.asarray(mods, dtype=float)
            if arr.ndim == 1:
                arr = arr[:, None]
            if arr.ndim != 2:
                raise ValueError(f"mods must be 1-D or 2-D, got shape {arr.shape}")
            cols.extend(arr[:, j] for j in range(arr.shape[1]))
            labels.extend(f"mods{j + 1}" if arr.shape[1] > 1 else "mods" for j in range(arr.shape[1]))
        if names is not None:
            if len(names) != len(labels):
                raise ValueError(f"{len(names)} names for {len(labels)} moderators")
            labels = [str(n) for n in names]
    for name, c in zip(labels, cols):
        if c.size != k:
            raise ValueError(f"moderator {name!r} has {c.size} values for {k} studies")
        bad = np.flatnonzero(~np.isfinite(c))
        if bad.size:
            raise ValueError(f"moderator {name!r} is missing or not finite at index {int(bad[0])}")
    if intercept:
        cols.insert(0, np.ones(k))
        labels.insert(0, "intrcpt")
    if not cols:
        raise ValueError("the model has no coefficient (no intercept and no moderator)")
    return np.column_stack(cols), tuple(labels)


def _new_rows(newmods, res: MetaRegResult) -> np.ndarray:
    mod_names = res.names[1:] if res.intercept else res.names
    if isinstance(newmods, Mapping):
        missing = [n for n in mod_names if n not in newmods]
        if missing:
            raise ValueError(f"newmods lacks moderator(s) {missing}")
        arr = np.column_stack([np.asarray(newmods[n], dtype=float).ravel() for n in mod_names])
    else:
        arr = np.asarray(newmods, dtype=float)
        if arr.ndim == 0:
            arr = arr.reshape(1, 1)
        elif arr.ndim == 1:
            arr = arr[:, None] if len(mod_names) == 1 else arr[None, :]
    if arr.shape[1] != len(mod_names):
        raise ValueError(f"newmods has {arr.shape[1]} columns for {len(mod_names)} moderators")
    if res.intercept:
        arr = np.column_stack([np.ones(arr.shape[0]), arr])
    return arr


def _check_btt(btt, p: int, intercept: bool) -> tuple:
    if btt is None:
        if p > 1:
            return tuple(range(1, p)) if intercept else tuple(range(p))
        return (0,)
    out = tuple(sorted({int(b) for b in btt}))
    if not out or out[0] < 0 or out[-1] >= p:
        raise ValueError(f"btt must index coefficients 0..{p - 1}, got {btt!r}")
    return out


# ------------------------------------------------------------------ engine
def _fit_design(seg: _Segments, y, v, x, *, method: str, test: str, level: float, ctl: _Control,
                btt: tuple, intercept: bool, r2: bool = True) -> dict[str, Any]:
    """Fit every analysis of ``seg`` with design rows ``x``; per-analysis arrays."""
    from .core import _fit

    model = _DesignModel(seg, v, x)
    G, p = seg.G, model.p
    kf = seg.kf
    dfr = kf - p
    multi = seg.k > p
    est = estimate_tau2(model, y, method, ctl)
    conv = est.converged
    tau2 = est.tau2
    alpha = 1.0 - level
    with np.errstate(all="ignore"):
        t_ok = np.where(conv, tau2, 0.0)
        w = 1.0 / (v + seg.rep(t_ok))
        st = model.state(w)
        beta = model.coef(st, y)
        vb = st.A.copy()
        knha = test == "knha"
        s2w = np.ones(G)
        if knha:
            rss = model.rss(st, y)
            s2w = np.where(rss <= _EPS, 0.0, rss / dfr)
            vb = vb * s2w[:, None, None]
        se = np.sqrt(np.einsum("gii->gi", vb))
        stat = beta / se
        bt = list(btt)
        m = len(bt)
        bsub = beta[:, bt]
        vsub = vb[:, bt][:, :, bt]
        qm = np.full(G, np.nan)
        pd_ok = np.all(np.linalg.eigvalsh(np.nan_to_num(vsub)) > 0, axis=1)
        if pd_ok.any():
            sol = np.linalg.solve(vsub[pd_ok], bsub[pd_ok][:, :, None])[:, :, 0]
            qm[pd_ok] = np.einsum("gi,gi->g", bsub[pd_ok], sol)
        if knha:
            qm = qm / m
            ok_df = dfr > 0
            dsafe = np.where(ok_df, dfr, 1.0)
            qm_p = np.where(ok_df, special.fdtrc(m, dsafe, qm), np.nan)
            pval = np.where(ok_df[:, None], 2.0 * special.stdtr(dsafe[:, None], -np.abs(stat)), np.nan)
            crit = np.where(ok_df, -special.stdtrit(dsafe, alpha / 2.0), np.nan)[:, None]
        else:
            qm_p = special.chdtrc(m, qm)
            pval = 2.0 * special.ndtr(-np.abs(stat))
            crit = norm_isf(alpha / 2.0)
        ci_low = beta - crit * se
        ci_high = beta + crit * se

        qe = est.qe
        qe_p = np.where(multi, special.chdtrc(np.maximum(dfr, 1.0), qe), 1.0)
        i2, h2 = i2_h2(method, est, dfr)

        r2v = np.full(G, np.nan)
        if r2 and intercept and p > 1:
            if method == "FE":
                W0 = est.w0_sum
                w0 = 1.0 / v
                ybar = seg.sum(w0 * y) / W0
                dev = y - seg.rep(ybar)
                tss = seg.sum(w0 * dev * dev)
                rss_fe = model.rss(st, y)  # tau2 = 0: st has the weights 1 / vi
                adj = 1.0 - (rss_fe / tss) * (kf - 1.0) / dfr
                const = seg.sum((y - seg.rep(seg.sum(y) / kf)) ** 2) == 0.0
                r2v = np.where(const, 0.0, np.maximum(0.0, 100.0 * adj))
                r2v = np.where(multi | const, r2v, np.nan)  # k = p: lm's adjusted R^2 is NaN
            else:
                res0 = _fit(seg, y, v, method=method, test=test, level=level, pi="default", ctl=ctl)
                t_re = res0["tau2"]
                r2v = np.where(t_re == 0.0, 0.0, np.maximum(0.0, 100.0 * (t_re - tau2) / t_re))
                r2v = np.where(res0["converged"] & conv, r2v, np.nan)

        weights = 100.0 * w / seg.rep(st.W)

    bad = ~conv
    if bad.any():
        for arr in (beta, se, stat, pval, ci_low, ci_high):
            arr[bad] = np.nan
        vb[bad] = np.nan
        for arr in (qm, qm_p, i2, h2, r2v):
            arr[bad] = np.nan
        weights[seg.rep(bad)] = np.nan
    notes = est.notes
    if method == "FE" and test == "knha":
        for g in range(G):
            notes[g].append("Knapp-Hartung is not meant for FE models (metafor warns the same)")
    return {
        "k": seg.k, "p": p, "beta": beta, "vb": vb, "se": se, "stat": stat, "pval": pval,
        "ci_low": ci_low, "ci_high": ci_high, "df": np.where(knha, dfr, np.nan), "s2w": s2w,
        "tau2": tau2, "tau2_se": est.tau2_se, "i2": i2, "h2": h2, "r2": r2v,
        "qe": qe, "qe_df": (seg.k - p), "qe_p": qe_p, "qm": qm, "qm_df": m,
        "qm_df2": (seg.k - p) if knha else None, "qm_p": qm_p,
        "converged": conv, "n_iter": est.n_iter, "message": ["; ".join(n) for n in notes],
        "weights": weights,
    }


def _check_args(method, test, level, control):
    from .core import _check_level, _check_method, _check_test

    return _check_method(method), _check_test(test), _check_level(level), _Control.make(control)


def _check_design(X: np.ndarray, k: int, p: int, method: str, where: str = "") -> None:
    need = p if method == "FE" else p + 1
    if k < need:
        raise ValueError(f"{where}{k} studies for {p} coefficient(s) (+ tau2): metafor stops with "
                         "'Number of parameters to be estimated is larger than the number of observations'")
    if np.linalg.matrix_rank(X) < p:
        raise ValueError(f"{where}the design matrix is not of full column rank "
                         "(a moderator is constant or a combination of the others)")


def metareg(yi, vi, mods=None, *, intercept: bool = True, names: Sequence[str] | None = None,
            method: str = "REML", test: str = "z", level: float = 0.95, btt=None,
            control: Mapping[str, Any] | None = None, scale: str = "identity") -> MetaRegResult:
    """Fit ``rma(yi, vi, mods = ~ ..., method, test, level)``.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and sampling variances (finite, ``vi > 0``).
    mods : None, array_like or mapping
        Moderators: one column per moderator (1-D for one), or a mapping
        name -> values.  Factors must be coded as dummy columns by the caller.
    intercept : bool
        Add an intercept column (metafor's default).  ``False`` is
        ``mods = ~ ... - 1``.
    names : sequence of str, optional
        Moderator names (default: the mapping keys, else ``mods1``...).
    method : {"FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS"}
    test : {"z", "knha"}
    level : float
        Confidence level in (0, 1).
    btt : sequence of int, optional
        0-based indices of the coefficients tested by ``QM`` (default: all
        but the intercept).
    control : mapping, optional
        As :func:`~livemeta.pooling.pool` (metafor ``control=list(...)``).
    scale : str
        Label of the scale of ``yi`` (e.g. ``"log"``).

    Raises
    ------
    ValueError
        Bad input, fewer studies than coefficients (+1 for tau2), or a design
        matrix that is not of full column rank.
    """
    from .core import validate_inputs

    y, v = validate_inputs(yi, vi)
    method, test, level, ctl = _check_args(method, test, level, control)
    k = y.size
    X, labels = design_matrix(mods, k, intercept=intercept, names=names)
    p = X.shape[1]
    _check_design(X, k, p, method)
    bt = _check_btt(btt, p, intercept)
    seg = _Segments(np.array([k]))
    out = _fit_design(seg, y, v, X, method=method, test=test, level=level, ctl=ctl, btt=bt,
                      intercept=intercept)
    qm_df2 = out["qm_df2"]
    return MetaRegResult(
        method=method, test=test, level=level, k=k, p=p, names=labels, intercept=intercept,
        beta=out["beta"][0], se=out["se"][0], stat=out["stat"][0], pval=out["pval"][0],
        ci_low=out["ci_low"][0], ci_high=out["ci_high"][0], vb=out["vb"][0],
        df=float(out["df"][0]), tau2=float(out["tau2"][0]), tau2_se=float(out["tau2_se"][0]),
        tau=float(np.sqrt(out["tau2"][0])), i2=float(out["i2"][0]), h2=float(out["h2"][0]),
        r2=float(out["r2"][0]), qe=float(out["qe"][0]), qe_df=int(out["qe_df"][0]),
        qe_p=float(out["qe_p"][0]), qm=float(out["qm"][0]), qm_df=int(out["qm_df"]),
        qm_df2=None if qm_df2 is None else int(qm_df2[0]), qm_p=float(out["qm_p"][0]),
        qm_dist="F" if test == "knha" else "chi2", btt=bt, converged=bool(out["converged"][0]),
        n_iter=int(out["n_iter"][0]), message=out["message"][0], scale=str(scale),
        weights=tuple(float(w) for w in out["weights"]), x=X,
    )


def metareg_many(frame, by: str | Sequence[str] | None, mods: Sequence[str], yi: str = "yi",
                 vi: str = "vi", *, intercept: bool = True, method: str = "REML", test: str = "z",
                 level: float = 0.95, btt=None, control: Mapping[str, Any] | None = None):
    """Fit the same meta-regression in every group of ``frame``, vectorised.

    Each group gives what :func:`metareg` gives for its rows (same engine).
    ``mods`` names the moderator columns.  Returns a :class:`pandas.DataFrame`
    with one row per group: the ``by`` columns, ``k``, ``tau2``, ``tau2_se``,
    ``i2``, ``h2``, ``r2``, ``qe``, ``qe_df``, ``qe_p``, ``qm``, ``qm_df``,
    ``qm_p``, ``converged``, ``message`` and, per coefficient ``c``,
    ``beta_c``, ``se_c``, ``pval_c``, ``ci_low_c``, ``ci_high_c``.  A group
    that cannot be fitted (too few studies, rank-deficient design) raises
    :class:`ValueError` naming it: the batch is all or nothing.
    """
    import pandas as pd

    from .batch import group_rows

    method, test, level, ctl = _check_args(method, test, level, control)
    by = [by] if isinstance(by, str) else list(by or [])
    mods = list(mods)
    missing = [c for c in [*by, yi, vi, *mods] if c not in frame.columns]
    if missing:
        raise ValueError(f"metareg_many: column(s) not in frame: {missing}")
    cols = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            for c in [yi, vi, *mods]}
    for c, arr in cols.items():
        bad = ~np.isfinite(arr) | ((arr <= 0) if c == vi else False)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{c} at row {pos} (index {frame.index[pos]!r}) = {arr[pos]!r} "
                             "is missing, not finite" + (" or <= 0" if c == vi else ""))
    keys, k, order = group_rows(frame, by)
    X = np.column_stack([np.ones(len(frame))] * intercept + [cols[c] for c in mods])[order]
    labels = (["intrcpt"] if intercept else []) + mods
    p = X.shape[1]
    seg = _Segments(k)
    for g in range(seg.G):
        rows = slice(seg.starts[g], seg.starts[g] + k[g])
        where = f"group {keys.iloc[g].to_dict() if by else 0}: "
        _check_design(X[rows], int(k[g]), p, method, where)
    bt = _check_btt(btt, p, intercept)
    out = _fit_design(seg, cols[yi][order], cols[vi][order], X, method=method, test=test,
                      level=level, ctl=ctl, btt=bt, intercept=intercept)
    res = {"k": out["k"], "tau2": out["tau2"], "tau2_se": out["tau2_se"], "i2": out["i2"],
           "h2": out["h2"], "r2": out["r2"], "qe": out["qe"], "qe_df": out["qe_df"],
           "qe_p": out["qe_p"], "qm": out["qm"], "qm_df": np.full(seg.G, out["qm_df"]),
           "qm_p": out["qm_p"], "converged": out["converged"], "message": out["message"]}
    for j, name in enumerate(labels):
        for key in ("beta", "se", "pval", "ci_low", "ci_high"):
            res[f"{key}_{name}"] = out[key][:, j]
    return pd.concat([keys.reset_index(drop=True), pd.DataFrame(res)], axis=1)
