"""A generated evidence project whose history exercises every derivation and the unit of analysis.

Built the same way every time (livemeta.ingest.synthetic's mixed base, then fixed edits), in a git
repository through ``livemeta ingest``, so that its exports are the same bytes wherever it is built
(the committed R output of reference/ is checked against them):

* revision 1: the project's first commit (no trial: every analysis empty), with livemeta's own
  analyses (those of the bundled project: every reading of a disputed CI, monitoring, moderators);
* revision 2: twelve trials, among them one judged for risk of bias on OS and on ORR (mixed-00001),
  hazard ratios derived from a two-sided P (mixed-00002),
  from O - E and V (mixed-00004), from a log-rank chi-square (mixed-00005), from a P with the
  events per arm (mixed-00008), a CI whose level is disputed and a one-sided P beside it
  (mixed-00007, read three ways by os, os_s1800a_80 and os_s1800a_p), and a single-arm trial with
  three cohorts (mixed-00003, one trial in the pooled proportion);
* revision 3: a new trial (mixed-00014) whose HR comes from a log-rank chi-square with the total
  events (no HR printed);
* revision 4: a corrected CI (mixed-00001's OS, HR 0.74: 0.59-0.92 read again as 0.60-0.91).
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import yaml

from livemeta.paths import resource

#: the trials of revision 2 (mixed_study numbers)
FIRST = range(1, 13)
NEW_TRIAL = 14


def _os(d: dict) -> dict:
    return next(o for o in d["outcomes"] if o["id"] == "os")


def _without_ci(o: dict) -> None:
    for k in ("ci_low", "ci_high", "ci_level", "ci_level_alternative", "dispute"):
        o.pop(k, None)


def study(i: int) -> dict:
    """Study ``i`` of the scenario: the mixed base's, with the edits of the module docstring."""
    from livemeta.ingest.synthetic import mixed_study

    d = copy.deepcopy(mixed_study(i))
    if i == 1:  # judged for OS (low) and ORR (high): each analysis row carries its own endpoint's judgement
        rob = yaml.safe_load(resource("ingest", "template.yaml").read_text(encoding="utf-8"))["risk_of_bias"][0]
        orr = copy.deepcopy(rob) | {"id": "orr-consensus", "endpoint": "orr", "result": "orr",
                                    "overall": {"judgement": "high", "support": "Open-label assessment of response"}}
        orr["domains"]["D4"] = {"judgement": "high", "support": "Investigator-assessed response, open label"}
        d["risk_of_bias"] = [rob, orr]
    elif i == 2:  # HR 0.80, two-sided P = 0.04, no CI
        o = _os(d)
        _without_ci(o)
        o.update(estimate=0.80, p_value=0.04, p_sided="two", raw_text="HR 0.80; P = .04")
    elif i == 4:  # log-rank O - E and V only
        o = _os(d)
        _without_ci(o)
        del o["estimate"]
        o.update(o_minus_e=-8.2, oe_variance=40.1, raw_text="O - E = -8.2, V = 40.1 (log-rank)")
    elif i == 5:  # HR with a log-rank chi-square
        o = _os(d)
        _without_ci(o)
        o.update(estimate=0.86, logrank_chisq=3.9, raw_text="HR 0.86; log-rank chi-square 3.9")
    elif i == 8:  # P with the events per arm, the HR's side of 1 as printed
        o = _os(d)
        _without_ci(o)
        del o["estimate"]
        n_e, n_c = d["arms"][0]["n_randomised"], d["arms"][1]["n_randomised"]
        o.update(p_value=0.02, p_sided="two", experimental_events=80, experimental_n=n_e, control_events=95,
                 control_n=n_c, hr_direction="below_1", raw_text=f"deaths 80/{n_e} vs 95/{n_c}; P = .02 (log-rank)")
    elif i == 7:  # a disputed CI level (mixed base) with the one-sided P printed beside it
        o = _os(d)
        assert o.get("ci_level_alternative") == 80
        o.update(p_value=0.46, p_sided="one")
    elif i == 3:  # a single-arm trial with three cohorts
        assert d["trial"]["design"] == "single_arm"
        arm, orr = d["arms"][0], d["outcomes"][0]
        d["trial"]["randomised_n"] += 40 + 38
        for k, (resp, n) in enumerate(((7, 40), (4, 38)), start=2):
            d["arms"].append(copy.deepcopy(arm) | dict(id=f"cohort_{k}", regimen=f"{arm['regimen']}, cohort {k}",
                                                       n_randomised=n, n_safety=n))
            d["outcomes"].append(copy.deepcopy(orr) | dict(id=f"orr_{k}", experimental_arm=f"cohort_{k}",
                                                           experimental_events=resp, experimental_n=n,
                                                           raw_text=f"ORR {resp}/{n}"))
    elif i == NEW_TRIAL:  # no HR printed: a log-rank chi-square with the total events
        o = _os(d)
        _without_ci(o)
        del o["estimate"]
        o.update(logrank_chisq=5.1, total_events=150, hr_direction="below_1",
                 raw_text="log-rank chi-square 5.1 (150 deaths), favouring the experimental arm")
    return d


def _write(folder: Path, d: dict) -> Path:
    path = folder / f"{d['trial']['id']}.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def scenario_project(root: Path):
    """Build the scenario's project (git repository and database) in ``root``; returns the Project."""
    from livemeta import api
    from livemeta.project import new_project

    proj, _ = new_project(root, name="Consistency scenario: derived variances, cohorts, a new trial, a corrected CI")
    # livemeta's own analyses (the bundled project's): every reading of a disputed CI, monitoring, meta-regression
    proj.analyses.write_text(resource("queries", "analyses.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    subprocess.run(["git", "-C", str(proj.root), "commit", "-q", "--amend", "--no-edit", "-a"], check=True)  # revision 1
    paths = [_write(proj.studies, study(i)) for i in FIRST]
    api.ingest(paths, message="Twelve trials, some with hazard ratios derived from what they report", project=proj)
    api.ingest([_write(proj.studies, study(NEW_TRIAL))], message="A new trial, its HR from a log-rank chi-square",
               project=proj)
    corrected = study(1)
    _os(corrected).update(ci_low=0.60, ci_high=0.91, raw_text=f"HR {_os(corrected)['estimate']} (95% CI 0.60-0.91)")
    api.ingest([_write(proj.studies, corrected)], message="mixed-00001: the OS interval read again from the paper",
               project=proj, supersede=True)
    return proj
