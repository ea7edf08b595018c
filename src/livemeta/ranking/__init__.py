"""Screening prioritisation: metrics and the stopping aid (the ranking model follows)."""

from __future__ import annotations

from .stopping import StoppingEstimate, h0_p_value, stopping_estimate

__all__ = ["StoppingEstimate", "h0_p_value", "stopping_estimate"]
