"""Synthetic study files for tests and the ingest benchmark: the template with varied ids and numbers.

Every generated file is valid: the numbers vary over a set of real, internally consistent hazard
ratios (estimate and 95% CI as printed in the bundled evidence) and arm sizes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml

from ..paths import resource

# (estimate, ci_low, ci_high) as printed by RCTs of the bundled evidence (rct_outcomes.csv)
_HRS = [
    (0.88, 0.68, 1.16), (0.74, 0.59, 0.92), (0.98, 0.78, 1.23), (0.89, 0.7, 1.12), (0.86, 0.7, 1.05),
    (1.08, 0.89, 1.32), (0.69, 0.51, 0.92), (0.99, 0.81, 1.22), (0.82, 0.56, 1.22), (1.09, 0.85, 1.39),
    (1.02, 0.75, 1.39), (0.82, 0.62, 1.07), (0.76, 0.5, 1.15), (0.77, 0.53, 1.13), (1.4, 0.96, 2.02),
]


def template() -> dict:
    return yaml.safe_load(resource("ingest", "template.yaml").read_text(encoding="utf-8"))


def study(i: int, base: dict | None = None) -> dict:
    """The i-th synthetic study (trial id ``synthetic-NNNNN``, NCT id ``NCT9NNNNNNN``, its own
    DOI and PMID)."""
    d = copy.deepcopy(base or template())
    d["trial"]["id"] = f"synthetic-{i:05d}"
    d["trial"]["name"] = f"SYNTHETIC-{i:05d}"
    d["trial"]["nct_id"] = f"NCT9{i:07d}"
    for j, src in enumerate(d.get("sources") or []):
        if src.get("doi"):
            src["doi"] = f"10.9999/synthetic.{i:05d}.{j}"
        if src.get("pmid"):
            src["pmid"] = f"9{i:05d}{j:02d}"
        if src.get("url"):  # the template's is a PubMed page: each study's own, as a source's URL names it
            src["url"] = f"https://pubmed.ncbi.nlm.nih.gov/{src['pmid']}" if src.get("pmid") else None
    n_exp, n_ctl = 100 + i % 97, 90 + i % 89
    d["trial"]["randomised_n"] = n_exp + n_ctl + i % 5
    arms = d["arms"]
    arms[0]["n_randomised"], arms[1]["n_randomised"] = n_exp, n_ctl
    arms[0]["n_safety"], arms[1]["n_safety"] = n_exp - i % 3, n_ctl - i % 4
    est, lo, hi = _HRS[i % len(_HRS)]
    os_ = d["outcomes"][0]
    os_.update(estimate=est, ci_low=lo, ci_high=hi, raw_text=f"HR {est} (95% CI {lo}-{hi})")
    orr = d["outcomes"][1]
    orr.update(
        experimental_events=n_exp // 6, experimental_n=n_exp, control_events=n_ctl // 7, control_n=n_ctl,
        raw_text=f"ORR {n_exp // 6}/{n_exp} vs {n_ctl // 7}/{n_ctl}",
    )
    for ae, arm in zip(d["adverse_events"], arms):
        at_risk = arm["n_safety"]
        affected = at_risk * (30 + i % 20) // 100
        ae.update(subjects_affected=affected, subjects_at_risk=at_risk, percent=round(100 * affected / at_risk, 1))
        ae["raw_text"] = f"{affected} ({ae['percent']}%)"
    return d


def write_studies(folder: Path | str, n: int, *, start: int = 0, json_every: int = 10) -> list[Path]:
    """Write ``n`` synthetic study files into ``folder`` (every ``json_every``-th as JSON)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = template()
    paths = []
    for i in range(start, start + n):
        d = study(i, base)
        if json_every and i % json_every == json_every - 1:
            path = folder / f"synthetic-{i:05d}.json"
            path.write_text(json.dumps(d, indent=2), encoding="utf-8")
        else:
            path = folder / f"synthetic-{i:05d}.yaml"
            path.write_text(yaml.safe_dump(d, sort_keys=False, allow_unicode=True), encoding="utf-8")
        paths.append(path)
    return paths


# --- a mixed base: RCTs with every analysed endpoint, and single-arm trials ---------------------------

_CLASSES = ("chemotherapy", "antiangiogenic", "multitarget_tki", "dual_checkpoint", "bispecific", "adc")


def _ratio(i: int, shift: int = 0) -> tuple[float, float, float]:
    return _HRS[(i + shift) % len(_HRS)]


def _hr_outcome(oid: str, endpoint: str, i: int, shift: int, **extra) -> dict:
    est, lo, hi = _ratio(i, shift)
    return {
        "id": oid, "endpoint": endpoint, "measure": "HR", "population": extra.pop("population", "overall"),
        **extra,
        "experimental_arm": "experimental", "control_arm": "control",
        "estimate": est, "ci_low": lo, "ci_high": hi, "ci_level": 95,
        "source": "paper", "location": "Fig. 2", "raw_text": f"HR {est} (95% CI {lo}-{hi})", "verified": True,
    }


def _g3(aid: str, arm: str, at_risk: int, pct: int) -> dict:
    affected = at_risk * pct // 100
    return {
        "id": aid, "arm": arm, "term": "treatment-related adverse events", "kind": "aggregate", "grade_band": ">=3",
        "treatment_related": True, "subjects_affected": affected, "subjects_at_risk": at_risk,
        "percent": round(100 * affected / at_risk, 1), "source": "paper", "location": "Table 3",
        "raw_text": f"grade >=3 TRAEs {affected} ({round(100 * affected / at_risk, 1)}%)", "verified": True,
    }


def mixed_study(i: int) -> dict:
    """The i-th study of the generated mixed base (trial id ``mixed-NNNNN``): 70% RCTs (OS and PFS
    hazard ratios, ORR counts per arm, OS in acquired- and primary-resistance subgroups for half of
    them, grade >=3 treatment-related AEs per arm) and 30% single-arm trials (ORR responders of n,
    grade >=3 AEs), in six treatment classes, first published 2015-2025, so that every analysis of
    livemeta's own ``analyses.yaml`` has data. A few OS intervals carry a disputed level (80%) and a
    few values are unverified, as in real evidence. Numbers vary over real, internally consistent
    hazard ratios and arm sizes; the files are valid study files."""
    single = i % 10 in (0, 3, 6)
    cls = _CLASSES[(i // 10) % len(_CLASSES)]
    n_exp, n_ctl = 100 + i % 97, 90 + i % 89
    d: dict = {
        "livemeta_study": 2,
        "trial": {
            "id": f"mixed-{i:05d}", "name": f"MIXED-{i:05d}", "nct_id": f"NCT9{i:07d}",
            "design": "single_arm" if single else "rct", "phase": "2" if single else "3",
            "randomised_n": n_exp if single else n_exp + n_ctl,
            "first_published": f"{2015 + i % 11}-{1 + (i // 11) % 12:02d}",
            "status": "completed", "inclusion": "included",
            "population": "advanced NSCLC progressing after anti-PD-(L)1 therapy", "verified": True, "source": "paper",
        },
        "sources": [{
            "id": "paper", "kind": "journal_article", "citation": f"Author A et al. J Synth Oncol 2024;{i}:1-10",
            "year": 2015 + i % 11, "doi": f"10.9999/mixed.{i:05d}", "pmid": f"9{i:07d}",
        }],
    }
    exp_arm = {
        "id": "experimental", "role": "single" if single else "experimental", "regimen": f"drug {cls} + pembrolizumab",
        "pd1_agent": "pembrolizumab", "partners": [f"drug {cls}"], "treatment_class": cls,
        "n_randomised": n_exp, "n_safety": n_exp - i % 3, "source": "paper", "verified": True,
    }
    if single:
        d["arms"] = [exp_arm]
        d["resistance_definitions"] = []
        d["outcomes"] = [{
            "id": "orr", "endpoint": "orr", "measure": "proportion", "population": "overall",
            "experimental_arm": "experimental", "experimental_events": n_exp * (5 + i % 30) // 100,
            "experimental_n": n_exp, "source": "paper", "location": "Table 2",
            "raw_text": f"ORR {n_exp * (5 + i % 30) // 100}/{n_exp}", "verified": True,
        }]
        d["adverse_events"] = []  # no analysis pools single-arm adverse events
        return d
    d["arms"] = [exp_arm, {
        "id": "control", "role": "control", "regimen": "docetaxel 75 mg/m2 q3w", "pd1_agent": None, "partners": [],
        "treatment_class": "none", "control_type": "docetaxel", "n_randomised": n_ctl, "n_safety": n_ctl - i % 4,
        "source": "paper", "verified": True,
    }]
    acquired_trial = i % 3 == 0
    d["resistance_definitions"] = [{
        "id": "eligibility", "scope": "trial", "population": "all randomised patients",
        "category": "acquired" if acquired_trial else "unselected", "criterion_kind": "prior_io_duration",
        "threshold": 4 if acquired_trial else None, "threshold_comparator": ">=" if acquired_trial else None,
        "threshold_unit": "months" if acquired_trial else None,
        "definition": ">=4 months on a checkpoint inhibitor, then progression" if acquired_trial else "any prior checkpoint inhibitor",
        "source": "paper", "verified": True,
    }]
    os_ = _hr_outcome("os", "os", i, 0)
    if i % 50 == 7:
        os_["ci_level_alternative"] = 80
        os_["dispute"] = "the one-sided P printed beside the interval fits an 80% interval"
    if i % 20 == 1:
        os_["verified"] = False
        os_["note"] = "read in a congress abstract"
    d["outcomes"] = [os_, _hr_outcome("pfs", "pfs", i, 5)]
    d["outcomes"].append({
        "id": "orr", "endpoint": "orr", "measure": "proportion", "population": "overall",
        "experimental_arm": "experimental", "control_arm": "control",
        "experimental_events": n_exp // 6, "experimental_n": n_exp, "control_events": n_ctl // 7, "control_n": n_ctl,
        "source": "paper", "location": "Table 2", "raw_text": f"ORR {n_exp // 6}/{n_exp} vs {n_ctl // 7}/{n_ctl}",
        "verified": True,
    })
    if i % 2 == 1:
        for did, cat, shift in (("acquired", "acquired", 3), ("primary", "primary", 9)):
            d["resistance_definitions"].append({
                "id": did, "scope": "subgroup", "population": f"{cat}-resistance subgroup", "category": cat,
                "criterion_kind": "best_response", "definition": f"{cat} resistance as the trial defined it",
                "source": "paper", "verified": True,
            })
            d["outcomes"].append(_hr_outcome(f"os_{did}", "os", i, shift, population="resistance", definition=did))
    d["adverse_events"] = [
        _g3("g3_trae_exp", "experimental", exp_arm["n_safety"], 30 + i % 20),
        _g3("g3_trae_ctl", "control", d["arms"][1]["n_safety"], 35 + i % 15),
    ]
    return d


def write_mixed(folder: Path | str, n: int, *, start: int = 1) -> list[Path]:
    """Write ``n`` studies of the mixed base (:func:`mixed_study`) into ``folder`` as YAML."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        path = folder / f"mixed-{i:05d}.yaml"
        path.write_text(yaml.safe_dump(mixed_study(i), sort_keys=False, allow_unicode=True), encoding="utf-8")
        paths.append(path)
    return paths
