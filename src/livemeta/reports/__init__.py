"""The static report: forest, funnel and cumulative forest plots, and the HTML/Markdown report.

``livemeta.reports.plots`` imports matplotlib (Agg backend), so this package is imported only by the
report command; ``import livemeta`` and the other commands never load it.

    from livemeta.reports import build_report
    build_report(results, revision_info={...}, out_dir="report")
"""

from __future__ import annotations

__all__ = ["build_report"]


def build_report(*args, **kwargs):
    """See :func:`livemeta.reports.report.build_report` (imported lazily: it loads matplotlib)."""
    from .report import build_report as _build

    return _build(*args, **kwargs)
