"""diff flags only what a reader can see: a number that moved below the precision diff prints is
not a change (issue 11: `estimate moved` was flagged for 0.88534 -> 0.88557)."""

from __future__ import annotations

from livemeta.living.diff import AnalysisChange, RevisionDiff, analysis_flags, printed


def est(e, lo, hi, k=5, pi=None, tau2=0.0, i2=0.0):
    pl, ph = pi or (lo, hi)
    return dict(estimate=e, ci_low=lo, ci_high=hi, pi_low=pl, pi_high=ph, k=k, tau2=tau2, i2=i2)


def test_a_move_below_the_printed_precision_is_not_flagged():
    assert analysis_flags(est(0.88534, 0.79, 0.98), est(0.88557, 0.79, 0.98), "HR") == []
    assert analysis_flags(est(0.8840, 0.79, 0.98), est(0.8862, 0.79, 0.98), "HR") == ["estimate moved"]  # 0.88 -> 0.89
    assert analysis_flags(est(0.88, 0.79, 0.98), est(0.88, 0.791, 0.98), "HR") == []
    assert printed(est(0.88534, 0, 1), "estimate") == "0.89" and printed(est(0.2, 0, 1), "i2") == "0"


def test_heterogeneity_and_prediction_interval_at_printed_precision():
    a = est(0.8, 0.7, 0.9, pi=(0.601, 1.04), tau2=0.01234, i2=40.2)
    assert analysis_flags(a, est(0.8, 0.7, 0.9, pi=(0.6012, 1.0404), tau2=0.01231, i2=40.4), "HR") == []
    assert analysis_flags(a, est(0.8, 0.7, 0.9, pi=(0.601, 1.04), tau2=0.0125, i2=40.2), "HR") == ["heterogeneity changed"]
    assert analysis_flags(a, est(0.8, 0.7, 0.9, pi=(0.61, 1.04), tau2=0.01234, i2=40.2), "HR") == [
        "prediction interval changed"]


def test_proportions_are_compared_and_printed_in_percent():
    assert analysis_flags(est(0.1234, 0.09, 0.17), est(0.1232, 0.09, 0.17), "proportion") == []  # 12.3% both
    assert analysis_flags(est(0.1234, 0.09, 0.17), est(0.1251, 0.09, 0.17), "proportion") == ["estimate moved"]
    d = RevisionDiff(1, 2, [], [AnalysisChange("sa", "proportion", est(0.1234, 0.09, 0.17), est(0.1251, 0.09, 0.17),
                                               ["estimate moved"])])
    assert "| sa | 12.3% (9.0–17.0) | 12.5% (9.0–17.0) |" in d.to_markdown()
