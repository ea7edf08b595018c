"""Analyses as data (``queries/analyses.yaml``): run them on any revision and store the results.

The names below are loaded when first used: reading the analyses in force or the stored estimates
(``livemeta log``) needs neither pandas nor the pooling engine.
"""

from importlib import import_module

_WHERE = {
    "AnalysisResult": "run", "load_rows": "run", "run_analysis": "run",
    "Analyses": "spec", "AnalysisSpec": "spec", "Published": "spec", "load_specs": "spec", "parse_analyses": "spec",
    "select_specs": "spec",
    "StoredEstimates": "store", "analyses_at": "store", "result_rows": "store", "store_results": "store",
    "stored_results": "store", "write_results": "store",
}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_WHERE)
