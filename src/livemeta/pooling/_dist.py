"""Distribution functions from ``scipy.special`` (avoids importing ``scipy.stats``).

:func:`norm_isf` is the one normal quantile of the Python layer and :func:`z_crit` the one critical
value of a CI level: the pooling engine, the effect sizes, the reports and GRADE read them (the SQL
layer's are the ``qnorm`` and ``z_crit`` macros of queries/macros.sql, held to these in
tests/test_views.py).
"""

from __future__ import annotations

import numpy as np
from scipy import special


def norm_sf(x):
    """Upper tail of N(0, 1) (R ``pnorm(x, lower.tail = FALSE)``)."""
    return special.ndtr(-np.asarray(x, dtype=float))


def norm_isf(a):
    """Upper-tail quantile of N(0, 1) (R ``qnorm(a, lower.tail = FALSE)``)."""
    return -special.ndtri(np.asarray(a, dtype=float))


def z_crit(level):
    """The two-sided normal critical value of a CI level given as a fraction (1.959964 for 0.95), as
    metafor computes it: ``qnorm(alpha / 2, lower.tail = FALSE)``, ``alpha = 1 - level``. A float
    for a float level, an array for an array."""
    z = norm_isf((1.0 - np.asarray(level, dtype=float)) / 2.0)
    return float(z) if np.ndim(z) == 0 else z


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
