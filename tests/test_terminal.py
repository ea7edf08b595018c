"""What the user sees at the terminal (issue 11 §7): pool names the trials and fits the terminal,
explains its method codes and shows sensitivity analyses by title; single-arm pooling counts trials,
not arms; cumulative prints rounded figures with the printed interval of the first trial; views
lists each view's columns without cutting a description mid-word; the adverse-event rates view."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from livemeta import api
from livemeta.analysis.present import _short, to_table
from livemeta.cli import main


@pytest.fixture(scope="module")
def run(bundled_db):
    return api.pool(bundled_db)


@pytest.mark.parametrize("width", [80, 100, 132, 200])
def test_pool_table_fits_the_terminal(run, width):
    text = to_table(run.results, run.reference, run.version, width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    # nothing a reader needs is cut: each published text and comparison is there whole
    flat = " ".join(text.split())
    assert "differs: estimate 0.88 vs 0.89; ci low 0.79 vs 0.81; ci high 0.98 vs 0.99" in flat
    for res in run.results:  # every analysis id, whole
        assert f"[{res.spec.id}]" in text if res.spec.sensitivity_of else f"\n{res.spec.id} " in text


def test_pool_table_explains_codes_titles_trials_and_cohorts(run):
    text = to_table(run.results, run.reference, run.version, width=None, verbose=True)
    assert "methods: FE = fixed effect (inverse variance); z = normal-theory CI; REML = random effects, restricted " \
           "maximum-likelihood tau²; knha = Hartung-Knapp-Sidik-Jonkman t-based CI" in text
    assert "  ↳ OS, random effects (REML… [os_re]" in text  # titles cut to fit 60 characters, ids whole
    assert "    trials: Lung-MAP S1800A, KEYVIBE-002, LEAP-008, CONTACT-01, SAFFRON-301, SAPPHIRE, Pragmatica-Lung " \
           "S2302" in text
    sa = next(line for line in text.splitlines() if line.startswith("single_arm_orr_by_class"))
    # trials, not arms, each trial once (its 3 cohorts combined: 8/78), the rule beside the count; percent
    assert "6 single-arm trials (8 cohorts, combined per trial)" in sa and "12.4% (8.9–17.0)" in sa
    assert ("    unit of analysis: each trial once, cohorts combined (responders and patients summed): durvalumab + "
            "tremelimumab +/- radiotherapy (NCT02888743): 3 cohorts") in text
    assert "    dual checkpoint  " in text and "1 single-arm trial " in text and "(3 cohorts)" not in text
    assert "    PD-(L)1 alone " in text and "    none " not in text
    assert "note: only one subgroup (acquired) has data: no test for subgroup differences" in text


def test_pool_verbose_from_the_cli(bundled_db):
    out = CliRunner().invoke(main, ["pool", "pfs", "--verbose", "--db", str(bundled_db)])
    assert out.exit_code == 0, out.output
    assert "    trials: KEYVIBE-002, LEAP-008, CONTACT-01, SAFFRON-301, SAPPHIRE" in out.stdout
    quiet = CliRunner().invoke(main, ["pool", "pfs", "--db", str(bundled_db)])
    assert "trials: KEYVIBE" not in quiet.stdout and "(--verbose names the trials" in quiet.stdout


def test_short_cuts_at_a_word_boundary():
    assert _short("interaction test acquired vs primary not significant", 24) == "interaction test…"
    assert _short("short", 24) == "short"


def test_cumulative_prints_rounded_figures_and_the_first_interval_as_printed(bundled_db):
    out = CliRunner().invoke(main, ["cumulative", "os", "--db", str(bundled_db)])
    assert out.exit_code == 0, out.output
    first = out.stdout.splitlines()[2].split()
    # Lung-MAP S1800A alone: HR 0.69 (0.51-0.92) as printed, not recomputed from its log scale
    assert first[:2] == ["1", "lung-map-s1800a"] and "0.69" in first and "0.51" in first and "0.92" in first
    last = out.stdout.splitlines()[8].split()
    # a fixed-effect analysis has no tau²: said so, not printed as 0.0000
    assert last[-8:] == ["0.90", "0.82", "0.99", "0.028", "none", "(fixed", "effect)", "0%"]
    csv = CliRunner().invoke(main, ["cumulative", "os", "--format", "csv", "--db", str(bundled_db)])
    row = csv.stdout.splitlines()[1].split(",")
    assert row[5:8] == ["0.69", "0.51", "0.92"]  # machines get every digit (here exactly the printed ones)
    assert len(csv.stdout.splitlines()[7].split(",")[5]) > 6


def test_views_lists_columns_and_whole_descriptions(tmp_path):
    out = CliRunner().invoke(main, ["views"])
    assert out.exit_code == 0, out.output
    text = out.stdout
    flat = " ".join(text.split())
    assert ("analysis_rct_ae_g3 RCT grade >=3 treatment-related adverse events as 2x2 counts (experimental vs control "
            "arm of the trial's randomised comparison)") in flat
    assert "columns: trial_id, trial, design, inclusion, arm_id, role, regimen" in flat
    assert "risk_of_bias_disagreements" in text
    for line in text.splitlines():
        assert len(line) <= 100
    short = CliRunner().invoke(main, ["views", "--no-columns"]).stdout
    assert "columns:" not in short


def test_adverse_event_rates_view(bundled_db):
    rows = api.query(bundled_db, "select arm_id, role, grade_band, treatment_related, subjects_affected, "
                                 "subjects_at_risk, percent_calculated, percent_printed from adverse_event_rates "
                                 "where trial_id = 'contact-01' and treatment_related").rows
    # CONTACT-01's grade 3-4 treatment-related AEs in the atezolizumab + cabozantinib arm: 73 of 185, 39.5%
    assert rows == [("atezo_cabo", "experimental", "3-4", True, 73, 185, 39.5, 39.5)]
