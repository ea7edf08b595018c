"""Analyses as data (``queries/analyses.yaml``): run them on any revision and store the results."""

from .run import AnalysisResult, load_rows, run_analysis
from .spec import AnalysisSpec, Published, load_specs, select_specs
from .store import result_rows, store_results, stored_results

__all__ = [
    "AnalysisResult",
    "AnalysisSpec",
    "Published",
    "load_rows",
    "load_specs",
    "result_rows",
    "run_analysis",
    "select_specs",
    "store_results",
    "stored_results",
]
