"""Distribution functions from ``scipy.special`` (avoids importing ``scipy.stats``)."""

from __future__ import annotations

import numpy as np
from scipy import special


def norm_sf(x):
    """Upper tail of N(0, 1) (R ``pnorm(x, lower.tail = FALSE)``)."""
    return special.ndtr(-np.asarray(x, dtype=float))


def norm_isf(a):
    """Upper-tail quantile of N(0, 1) (R ``qnorm(a, lower.tail = FALSE)``)."""
    return -special.ndtri(np.asarray(a, dtype=float))


def chi2_sf(x, df):
    """Upper tail of chi-square(df) (R ``pchisq(x, df, lower.tail = FALSE)``)."""
    return special.chdtrc(df, x)


def t_sf(x, df):
    """Upper tail of Student t(df) (R ``pt(x, df, lower.tail = FALSE)``)."""
    return special.stdtr(df, -np.asarray(x, dtype=float))


def t_isf(a, df):
    """Upper-tail quantile of t(df) (R ``qt(a, df, lower.tail = FALSE)``)."""
    return -special.stdtrit(df, np.asarray(a, dtype=float))


def f_sf(x, df1, df2):
    """Upper tail of F(df1, df2) (R ``pf(x, df1, df2, lower.tail = FALSE)``)."""
    return special.fdtrc(df1, df2, x)
