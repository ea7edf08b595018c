"""livemeta: a living evidence database for PD-(L)1 rechallenge in advanced NSCLC.

For notebooks (see :mod:`livemeta.evidence`)::

    import livemeta
    ev = livemeta.open()                    # the evidence project here, read-only
    ev.sql("select * from trials")          # a pandas DataFrame
    ev.analysis("os").forest_plot()
    livemeta.pool(yi, vi, method="REML")    # the pooling engine on arrays

The names below are imported on first use, so that ``livemeta --help`` and ``livemeta query``
start without pandas, scipy or matplotlib.
"""

__version__ = "0.1.0"

_LAZY = {
    "open": ("livemeta.evidence", "open"),
    "Evidence": ("livemeta.evidence", "Evidence"),
    "meta_analysis": ("livemeta.evidence", "meta_analysis"),
    "pool": ("livemeta.pooling", "pool"),
    "forest_plot": ("livemeta.reports.plots", "forest_plot"),
    "api": ("livemeta.api", None),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        return mod if attr is None else getattr(mod, attr)
    raise AttributeError(f"module 'livemeta' has no attribute {name!r}")
