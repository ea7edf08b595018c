"""Sequential monitoring of the bundled analyses: ``livemeta monitor``, the API and the report.

The boundaries are pinned to rpact in tests/pooling/test_sequential_reference.py; here the looks
(first publication), the information, the z of the analysis's own model and the errors.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from livemeta import api
from livemeta.cli import main
from livemeta.errors import LivemetaError
from livemeta.pooling import pool
from livemeta.pooling.sequential import group_sequential_design, required_information


def test_monitor_os_by_first_publication(bundled_db):
    spec, revision, run, table = api.monitor(bundled_db, "os")
    mon = run.main
    assert revision == api.revisions(bundled_db)[-1].revision_id and spec.id == "os"
    assert list(mon.looks) == sorted(mon.looks) and mon.looks[0] == "2022"
    rows = api.query(bundled_db, "select trial_id, first_published, yi, vi from analysis_rct_os "
                                 "where inclusion = 'included'").rows
    assert int(mon.k[-1]) == len(rows) == 7
    assert mon.information[-1] == pytest.approx(sum(1 / r[3] for r in rows), rel=1e-12)
    # the D2 adjustment assumes the DerSimonian-Laird model: z comes from it (the analysis pools FE)
    assert spec.method == "FE" and mon.model == "DL" and mon.heterogeneity == "D2 (DL)"
    for j, look in enumerate(mon.looks):
        sel = [r for r in rows if r[1] <= look]
        dl = pool([r[2] for r in sel], [r[3] for r in sel], method="DL")
        assert mon.z[j] == pytest.approx(dl.estimate / dl.se, rel=1e-12)
    assert mon.required_information == pytest.approx(required_information(math.log(0.8)), rel=1e-14)
    below = [f for f in mon.fraction if f < 1]
    d = group_sequential_design(below + [1.0], alpha=0.05, sided=2, characteristics=False)
    assert -mon.efficacy_bound[0] == pytest.approx(d.critical_values[0], abs=1e-12)
    assert table["trials_added"].iloc[0] == "Lung-MAP S1800A"
    assert np.allclose(table["ratio"], np.exp(mon.estimate))
    # the analyses file's target, with where it comes from
    assert run.settings.target == 0.8 and run.settings.target_source == "analyses file"


def test_monitor_cli_table_json_and_plot(bundled_db, tmp_path):
    runner = CliRunner()
    out = runner.invoke(main, ["monitor", "os", "--db", str(bundled_db), "--plot", str(tmp_path / "tsa.png")])
    assert out.exit_code == 0, out.output
    text = out.output
    assert "Target HR 0.80 (set in the analyses file" in text
    assert "required information 157.6" in text and "efficacy boundary crossed at look 2024" in text
    assert "z from the DerSimonian-Laird random-effects model, the model the D2 adjustment assumes" in text
    assert "alpha-preserving" in text and "here look 2024 (|z| >= 2.30), 1 later look not tested" in text
    assert "spent per side as rpact does" in text and "at fraction 0.28 the boundary is 4.08" in text
    assert "gives 3.70" in text
    assert "At the 95% CI limit of the pooled DL estimate, HR 0.82:" in text
    assert "Looks are calendar years of first publication" in text and "2024: CONTACT-01, SAFFRON-301, SAPPHIRE" in text
    assert "not tested" in text.splitlines()[[i for i, line in enumerate(text.splitlines()) if line.startswith("2025")][0]]
    assert (tmp_path / "tsa.png").stat().st_size > 10_000 and (tmp_path / "tsa.svg").exists()
    # an override says it is one
    over = runner.invoke(main, ["monitor", "os", "--target-hr", "0.9", "--db", str(bundled_db)])
    assert over.exit_code == 0, over.output
    assert ("Target HR 0.90 (a command-line override of the analyses file's HR 0.80; its justification does not "
            "apply)") in over.output
    # the TSA software's rule, with what it spends
    fb = runner.invoke(main, ["monitor", "os", "--overrun", "final-boundary", "--db", str(bundled_db)])
    assert fb.exit_code == 0 and "the boundaries as applied spend 8.2% against the nominal 5%" in fb.output
    js = runner.invoke(main, ["monitor", "pfs", "--target-hr", "0.8", "--one-sided", "--alpha", "0.025",
                              "--futility", "OF", "--json", "--db", str(bundled_db)])
    assert js.exit_code == 0, js.output
    d = json.loads(js.output)
    assert d["analysis"] == "pfs" and d["sided"] == 1 and d["futility"] == "bsOF" and d["model"] == "DL"
    assert d["target_source"] == "command line" and d["project_target"] == 0.8
    assert d["overrun"] == "alpha_preserving" and d["ci_limit"]["level"] == pytest.approx(0.95)
    assert len(d["design"]["futility_bounds"]) == len(d["design"]["critical_values"]) - 1
    assert any(line.startswith("Looks are calendar years") for line in d["notes"])


def test_every_overrun_rule_has_its_words():
    from livemeta.analysis import spec
    from livemeta.analysis.monitoring import DEFAULTS, OVERRUN_LABELS
    from livemeta.pooling.sequential import OVERRUN_RULES, monitor

    assert set(OVERRUN_LABELS) == set(OVERRUN_RULES) == set(spec.OVERRUN_RULES)
    assert DEFAULTS["overrun"] == "alpha_preserving"
    assert monitor.__kwdefaults__["overrun"] == DEFAULTS["overrun"] and monitor.__kwdefaults__["estimator"] == "DL"


def test_no_target_anywhere_is_a_user_error(bundled_db):
    runner = CliRunner()
    out = runner.invoke(main, ["monitor", "orr", "--db", str(bundled_db)])
    assert out.exit_code != 0 and "has no monitoring target in the analyses file" in out.output
    assert "--target-hr" in out.output and "Traceback" not in out.output
    ok = runner.invoke(main, ["monitor", "orr", "--target-hr", "1.25", "--db", str(bundled_db)])
    assert ok.exit_code == 0 and "no target in the analyses file" in ok.output


def test_monitor_refuses_what_it_cannot_do(bundled_db):
    runner = CliRunner()
    bad = runner.invoke(main, ["monitor", "single_arm_orr_by_class", "--target-hr", "0.8", "--db", str(bundled_db)])
    assert bad.exit_code != 0 and "needs a comparison" in bad.output and "Traceback" not in bad.output
    with pytest.raises(LivemetaError, match="events"):
        api.monitor(bundled_db, "os_acquired", target=0.8, information="events")
    het = runner.invoke(main, ["monitor", "os", "--target-hr", "0.8", "--heterogeneity", "tau", "--db", str(bundled_db)])
    assert het.exit_code == 2 and "D2, I2, none" in het.output


def test_report_has_monitoring_and_metaregression(bundled_report):
    text = (bundled_report / "index.html").read_text()
    assert text.count("Sequential monitoring (secondary analysis)") == 3  # os, pfs, os_acquired
    # the moderators as a reader names them (not the view's column names)
    assert "Meta-regression on minimum prior PD-(L)1 exposure" in text
    assert "Meta-regression on treatment class" in text
    figs = {p.name for p in (bundled_report / "figures").iterdir()}
    assert {"monitoring_os.png", "monitoring_pfs.png", "monitoring_os_acquired.png",
            "bubble_os_by_prior_io.png", "bubble_os_by_partner.png"} <= figs


def test_monitoring_is_stored_per_revision_and_diff_flags_a_crossing(made_once, tmp_path):
    """os_acquired has not crossed its boundary in the bundled history; a new acquired-resistance
    trial with OS HR 0.70 (0.56-0.88), ingested into a clone, takes it across: stored at its
    revision, flagged by diff and log."""
    import yaml

    from livemeta.paths import resource
    from tests.conftest import copy_of_bundled

    proj = copy_of_bundled(made_once, tmp_path / "repo")  # a clone of this repository, built
    last = api.build(proj).revision
    db = proj.database
    before = api.query(db, "select monitoring_crossed, monitoring_fraction from pooled_estimates "
                           "where analysis_id = 'os_acquired'").rows[0]
    assert before[0] == "" and before[1] < 1
    d = yaml.safe_load(resource("ingest", "template.yaml").read_text())
    d["trial"].update(id="newacq-01", nct_id=None, first_published="2026-01")
    d["sources"][0]["year"] = 2026
    os_ = d["outcomes"][0]
    os_.update(estimate=0.70, ci_low=0.56, ci_high=0.88, ci_level=95, p_value=0.002,
               raw_text="HR 0.70 (95% CI 0.56-0.88); P = .002")
    path = proj.studies / "newacq.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    api.ingest([path], message="add NEWACQ-01", project=proj)
    after = api.query(db, "select revision_id, monitoring_crossed, monitoring_spec from pooled_estimates "
                          "where analysis_id = 'os_acquired'").rows[0]
    assert after[0] == last + 1 and after[1] == "efficacy"
    assert json.loads(after[2])["target"] == pytest.approx(0.8) and json.loads(after[2])["latest_look"] == "2026-01"
    change = next(a for a in api.diff(db).analyses if a.analysis == "os_acquired")
    assert "sequential efficacy boundary crossed" in change.flags
    assert any("os_acquired: " in line and "sequential efficacy boundary crossed" in line
               for e in api.log(db) for line in e.changes)
    # analyses without monitoring store nothing there
    assert api.query(db, "select count(*) from pooled_estimates where analysis_id = 'os_re' "
                         "and monitoring_crossed is not null").rows[0][0] == 0


def test_monitoring_names_the_flagged_inputs_it_uses(bundled_db):
    """Lung-MAP S1800A's variance implies more events than patients (issue 23's implausible-input flag):
    the monitoring of OS, which pools it, says so beside its result as the pooled table and the report
    do; the JSON carries the same line."""
    _, _, run, _ = api.monitor(bundled_db, "os")
    flagged = [n for n in run.notes if n.startswith("Flagged input: ")]
    assert flagged == ["Flagged input: Lung-MAP S1800A (variance implies more events than patients randomised; "
                       "CI's implied P disagrees with the printed P)."]
    out = CliRunner().invoke(main, ["monitor", "os", "--db", str(bundled_db)])
    assert out.exit_code == 0 and flagged[0] in out.output
    data = json.loads(CliRunner().invoke(main, ["monitor", "os", "--json", "--db", str(bundled_db)]).output)
    assert flagged[0] in data["notes"]
