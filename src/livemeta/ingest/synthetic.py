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
