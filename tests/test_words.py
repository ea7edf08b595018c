"""What livemeta prints reads as English and names what it counts (issue 21, the newcomer's rough
edges): counts in the number they take, meta-regression coefficients by name, no tau² for a
fixed-effect analysis, the trials whose n is unknown, and which way the monitoring plot favours."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from livemeta.cli import main
from livemeta.words import column_word, count, plural_of


def test_count_takes_the_number_of_its_noun():
    assert [count(n, "trial") for n in (0, 1, 2)] == ["0 trials", "1 trial", "2 trials"]
    assert count(1, "RCT") == "1 RCT" and count(3, "RCT") == "3 RCTs"
    assert count(1, "study") == "1 study" and count(0, "study") == "0 studies"
    assert count(1, "single-arm trial") == "1 single-arm trial" and count(2, "analysis") == "2 analyses"
    assert plural_of("moderator column") == "moderator columns" and plural_of("day") == "days"


def test_coefficients_and_columns_by_name():
    assert column_word("min_prior_io_months") == "minimum prior PD-(L)1 exposure required (months)"


def test_a_meta_regression_of_one_study_says_so_in_english():
    from livemeta.analysis.run import _metaregression
    from livemeta.analysis.spec import AnalysisSpec

    spec = AnalysisSpec(id="m", title="m", view="analysis_rct_os", measure="HR", method="REML",
                        moderators=("min_prior_io_months",))
    df = pd.DataFrame({"trial_id": ["a"], "yi": [-0.1], "vi": [0.02], "min_prior_io_months": [3.0]})
    reg, note = _metaregression(df, spec)
    assert reg is None and note.endswith("; no meta-regression: one study has every moderator")
    df = pd.DataFrame({"trial_id": ["a", "b"], "yi": [-0.1, 0.1], "vi": [0.02, 0.03], "min_prior_io_months": [3.0, 6.0]})
    reg, note = _metaregression(df, spec)
    assert reg is None and note == "no meta-regression: 2 studies for 1 moderator column; at least 3 needed"


@pytest.mark.slow
def test_pool_diff_and_cumulative_print_readable_words(bundled_db):
    runner = CliRunner()
    out = runner.invoke(main, ["pool", "os_by_partner", "os_by_prior_io", "--db", str(bundled_db)])
    assert out.exit_code == 0, out.output
    assert not re.search(r"treatment_class|min_prior_io_months|prior_io_minimum", out.stdout)
    assert re.search(r"treatment class: dual checkpoint vs antiangiogenic \(ratio of HRs\): 0\.87 \(0\.44–1\.73\)",
                     out.stdout)
    assert ("minimum prior PD-(L)1 exposure: required vs none required (ratio of HRs): 0.94 (0.72–1.22)"
            in out.stdout)
    # a fixed-effect analysis has no tau²: said so; a random-effects one prints its tau²
    out = runner.invoke(main, ["diff", "review-2025", "--db", str(bundled_db)])
    rows = {line.split("|")[1].strip(): line.split("|") for line in out.stdout.splitlines() if line.startswith("| ")}
    assert rows["os"][5].strip() == "none (fixed effect)" and re.fullmatch(r" \d+% ", rows["os"][6])
    assert re.fullmatch(r" \d\.\d{4} ", rows["os_re"][5])
    assert "0.0000" not in rows["os"][5]
    out = runner.invoke(main, ["cumulative", "os", "--db", str(bundled_db)])
    lines = out.stdout.splitlines()
    assert all("none (fixed effect)" in line for line in lines[2:-1]) and "0.0000" not in out.stdout
    out = runner.invoke(main, ["cumulative", "os_re", "--db", str(bundled_db)])
    assert "none (fixed effect)" not in out.stdout and re.search(r"\b0\.\d{4}\b", out.stdout)


def test_the_monitoring_plot_says_which_way_favours_rechallenge():
    from livemeta.reports.display import z_sides

    assert z_sides("HR") == ("favours rechallenge", "favours control")
    assert z_sides("OR") == ("favours control", "favours rechallenge")
    from livemeta.pooling.sequential import monitor
    from livemeta.reports import plots

    mon = monitor(np.log([0.69, 0.76, 0.98, 0.88]), np.array([0.023, 0.046, 0.013, 0.018]), [1, 2, 3, 4],
                  target=np.log(0.8))
    fig = plots.monitoring_plot(mon, title="OS", measure="HR")
    assert fig.axes[0].get_ylabel() == "Cumulative z\nbelow 0: favours rechallenge · above 0: favours control"
