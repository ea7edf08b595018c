"""Analyses as data (``queries/analyses.yaml``): run them on any revision and store the results."""

from .run import AnalysisResult, load_rows, run_analysis
from .spec import Analyses, AnalysisSpec, Published, load_specs, parse_analyses, select_specs
from .store import StoredEstimates, analyses_at, result_rows, store_results, stored_results, write_results

__all__ = [
    "Analyses",
    "AnalysisResult",
    "AnalysisSpec",
    "Published",
    "StoredEstimates",
    "analyses_at",
    "load_rows",
    "load_specs",
    "parse_analyses",
    "result_rows",
    "run_analysis",
    "select_specs",
    "store_results",
    "stored_results",
    "write_results",
]
