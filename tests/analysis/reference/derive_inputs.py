"""The printed inputs of every analysis of the bundled evidence base, read from the study files alone.

Writes ``bundled_inputs.csv`` next to this file: one row per (analysis, study) with the numbers as
printed (HR and its CI with the CI level the analysis reads it at, the p-value and its sidedness
where the analysis reads the HR's variance from it, or the 2x2 / single-arm counts), the subgroup
value and the moderators. ``make_bundled_reference.R`` pools them with metafor;
``tests/analysis/test_bundled_reference.py`` checks that this file is what the study files give and
that livemeta's pooled numbers equal metafor's on it.

This is an independent derivation: it imports no livemeta module (PyYAML and the standard library
only) and reads ``data/studies`` and ``queries/analyses.yaml`` itself. The selection each analysis
makes is written here from the documented rules (the comments of queries/views/*.sql and
queries/analyses.yaml, the README and data/README.md), not from livemeta's views, so that a bug in a
view shows as a mismatch between livemeta's pooled numbers and metafor's.

The rules, per view an analysis names:

- ``analysis_rct_os`` / ``analysis_rct_pfs``: RCTs (``design: rct``); hazard ratios (``measure: HR``)
  of the endpoint for the whole randomised comparison (``population: overall``, a control arm); one
  row per trial. The HR is read from its CI when both bounds are printed (``derivation: ci``), else
  from the printed P with the HR (``p_value``); the other readings (O - E and V, log-rank statistics,
  events) are not written to the CSV (an error says so).
- ``analysis_rct_orr``: RCTs; ORR (``measure`` proportion, OR or RR) of the randomised comparison
  (``population: overall``) with responders and n in both arms.
- ``analysis_rct_ae_g3``: RCTs; aggregate treatment-related grade >=3 adverse events with counts in
  both arms of the randomised comparison, both arms in the same grade band: '>=3' where both report
  it, else '3-4', else '3'.
- The randomised comparison of an RCT: an arm pair named by an overall outcome of the trial; failing
  that, its only experimental arm against its only control arm. A third arm (KEYVIBE-002's V/P
  alone, LEAP-008's lenvatinib alone) is never one.
- ``analysis_single_arm_orr``: single-arm trials; ORR proportions (``population: overall``) with
  responders of n, one row per arm (whole arms, not subgroups), the arm's treatment class. A
  pooled proportion takes each trial once (``cohorts`` of the analysis, default ``combine``: a
  trial's cohorts summed into one row; ``largest``: its largest cohort).
- ``analysis_os_by_resistance``: RCT OS by resistance category (primary / acquired): a reported
  subgroup or cohort outcome (``population: resistance``) tied to a definition of that category;
  otherwise, when the trial's eligibility required acquired resistance (a ``scope: trial``
  definition of category acquired), its whole-trial OS stands for the acquired category. One row
  per trial and category: a reported subgroup before the eligibility mapping, then the first
  definition id.
- Columns the analyses filter, group or regress on: ``inclusion`` (the trial's), ``verified`` (the
  outcome's), ``derivation``, ``trial_id``, ``treatment_class`` (the experimental arm's),
  ``resistance_category``, ``prior_io_minimum`` and ``min_prior_io_months``, from what the
  trial's eligibility (its ``scope: trial`` definitions) required of the prior PD-(L)1 therapy:
  ``required`` when a prior_io_duration, time_to_progression or best_response criterion has a
  threshold that is a minimum (``threshold_comparator`` >= or >; a format-1 file's threshold,
  without one, counts), ``none required`` for an eligibility criterion without one, missing
  otherwise (a best response or treatment-free interval without a threshold, a maximum);
  ``min_prior_io_months`` that threshold in months (days / 30.4375, weeks * 7 / 30.4375; the
  largest where a trial has several), missing when none was required.
- An analysis keeps the rows matching every ``filters`` entry (default: ``inclusion: included``; an
  analysis's own ``filters`` replace the default), then drops those matching any ``exclude`` entry.
  A disputed CI level (``ci_level_alternative``) is read as printed, at the alternative level
  (``ci_level: alternative``), or replaced by the variance from the printed P where the outcome
  gives the P and its sidedness (``ci_level: p_value``; Lung-MAP S1800A).
- Rows are ordered as livemeta pools them: by first publication (``first_published`` YYYY, YYYY-MM
  or YYYY-MM-DD, a partial date at its first day; undated last), then trial id, then label (the
  trial's name, or for a single-arm trial with several arms "name: regimen").

    python tests/analysis/reference/derive_inputs.py   # from the repository root; then the R script
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
OUT = HERE / "bundled_inputs.csv"
COLUMNS = ["analysis", "trial_id", "measure", "method", "test", "subgroup", "hr", "ci_low", "ci_high", "ci_level",
           "ai", "n1i", "ci", "n2i", "xi", "ni", "p_value", "p_sided", "moderators", "moderator_values"]
#: columns of the view rows that are numbers (a moderator of these is numeric, of any other a factor)
NUMERIC = {"min_prior_io_months"}
#: criteria whose threshold is a minimum time on, or benefit from, prior PD-(L)1
TIMED = ("prior_io_duration", "time_to_progression", "best_response")


def _minimum(d: dict) -> bool:
    """A definition that requires a minimum of prior PD-(L)1: a timed criterion with a threshold whose
    direction is >= or > (a format-1 file records none: read as a minimum, as before)."""
    return d["criterion_kind"] in TIMED and d.get("threshold") is not None \
        and d.get("threshold_comparator", ">=") in (">=", ">")
#: months per unit of a resistance threshold
MONTHS = {"months": 1.0, "weeks": 7 / 30.4375, "days": 1 / 30.4375}
#: what make_bundled_reference.R reproduces (metafor's rma defaults and one rma() per subgroup)
SUPPORTED = {"level": 0.95, "pi": "default", "subgroup_tau2": "separate"}


class Evidence:
    """The study files of a project, as plain dicts."""

    def __init__(self, studies: list[dict]):
        self.trials = {s["trial"]["id"]: s for s in studies}

    @classmethod
    def read(cls, folder: Path) -> Evidence:
        studies = []
        for path in sorted(folder.iterdir()):
            if path.suffix in (".yaml", ".yml"):
                studies.append(yaml.safe_load(path.read_text(encoding="utf-8")))
            elif path.suffix == ".json":
                studies.append(json.loads(path.read_text(encoding="utf-8")))
        return cls(studies)

    def studies(self, design: str):
        return [s for s in self.trials.values() if s["trial"]["design"] == design]

    @staticmethod
    def arms(study) -> dict:
        return {a["id"]: a for a in study.get("arms") or []}

    @staticmethod
    def comparisons(study) -> set[tuple[str, str]]:
        """The randomised comparisons (experimental arm, control arm) of an RCT."""
        named = {(o["experimental_arm"], o["control_arm"]) for o in study.get("outcomes") or []
                 if o["population"] == "overall" and o.get("control_arm")}
        if named:
            return named
        roles = [a["role"] for a in study.get("arms") or []]
        if roles.count("experimental") == 1 and roles.count("control") == 1:
            arms = {a["role"]: a["id"] for a in study["arms"]}
            return {(arms["experimental"], arms["control"])}
        return set()

    @staticmethod
    def min_prior_io_months(study) -> float | None:
        values = [d["threshold"] * MONTHS[d["threshold_unit"]] for d in study.get("resistance_definitions") or []
                  if d["scope"] == "trial" and _minimum(d)]
        return max(values) if values else None

    @staticmethod
    def prior_io_minimum(study) -> str | None:
        defs = [d for d in study.get("resistance_definitions") or [] if d["scope"] == "trial"]
        if any(_minimum(d) for d in defs):
            return "required"
        if any(d["criterion_kind"] == "eligibility" and d.get("threshold") is None for d in defs):
            return "none required"
        return None


def _row(study, outcome, arm, **extra) -> dict:
    t = study["trial"]
    label = t["name"]
    if outcome.get("population", "overall") != "overall":
        label += f" ({outcome.get('subgroup') or outcome.get('definition')})"
    return {"trial_id": t["id"], "label": label, "first_published": t.get("first_published"),
            "inclusion": t["inclusion"], "verified": outcome.get("verified"), "treatment_class": arm["treatment_class"],
            "outcome": outcome, **extra}


def _p_gives_z(o) -> bool:
    """Whether the printed P gives a positive z: z_{1-p/2} (two-sided) or z_{1-p} (one-sided)."""
    p, sided = o.get("p_value"), o.get("p_sided")
    return p is not None and ((sided == "two" and 0 < p < 1) or (sided == "one" and 0 < p < 0.5))


def _hr_from_p(o) -> bool:
    """Whether the HR's variance can be read from the printed P and HR: (ln HR / z)^2."""
    est = o.get("estimate")
    return est is not None and est > 0 and est != 1 and _p_gives_z(o)


def _derivation(o) -> str | None:
    """How ln HR and its variance are read from what the outcome prints, in the documented order of
    preference (queries/views/analysis_rct_hr.sql)."""
    est, chisq = o.get("estimate"), o.get("logrank_chisq")
    ratio = est is not None and est > 0 and est != 1
    events = o.get("total_events") is not None or (o.get("experimental_events") is not None
                                                    and o.get("control_events") is not None)
    direction = (est is not None and est != 1) or o.get("hr_direction") in ("below_1", "above_1")
    if o.get("ci_low") is not None and o.get("ci_high") is not None:
        return "ci"
    if o.get("o_minus_e") is not None and (o.get("oe_variance") or 0) > 0:
        return "oe_v"
    if _hr_from_p(o):
        return "p_value"
    if ratio and chisq is not None and chisq > 0:
        return "logrank_chisq"
    if _p_gives_z(o) and events and direction:
        return "p_events"
    if chisq is not None and chisq > 0 and events and direction:
        return "logrank_events"
    return None


def rct_hr(ev: Evidence, endpoint: str, population: str) -> list[dict]:
    rows = []
    for s in ev.studies("rct"):
        arms = ev.arms(s)
        for o in s.get("outcomes") or []:
            if (o["measure"] == "HR" and o.get("control_arm") and o["endpoint"] == endpoint
                    and o["population"] == population and _derivation(o)):
                rows.append(_row(s, o, arms[o["experimental_arm"]], derivation=_derivation(o),
                                 min_prior_io_months=ev.min_prior_io_months(s),
                                 prior_io_minimum=ev.prior_io_minimum(s)))
    if population == "overall":
        seen = [r["trial_id"] for r in rows]
        twice = sorted({t for t in seen if seen.count(t) > 1})
        if twice:
            raise ValueError(f"{endpoint}: more than one overall HR in {', '.join(twice)} (one row per trial)")
    return rows


def os_by_resistance(ev: Evidence) -> list[dict]:
    chosen: dict[tuple[str, str], dict] = {}
    for r in rct_hr(ev, "os", "resistance"):  # reported subgroups and cohorts
        study = ev.trials[r["trial_id"]]
        definition = next(d for d in study.get("resistance_definitions") or [] if d["id"] == r["outcome"]["definition"])
        if definition["category"] in ("primary", "acquired"):
            key = (r["trial_id"], definition["category"])
            if key not in chosen or definition["id"] < chosen[key]["outcome"]["definition"]:
                chosen[key] = {**r, "resistance_category": definition["category"]}
    for r in rct_hr(ev, "os", "overall"):  # the eligibility mapping
        study = ev.trials[r["trial_id"]]
        acquired = any(d["scope"] == "trial" and d["category"] == "acquired" for d in study.get("resistance_definitions") or [])
        if acquired and (r["trial_id"], "acquired") not in chosen:
            chosen[(r["trial_id"], "acquired")] = {**r, "resistance_category": "acquired"}
    return list(chosen.values())


def rct_orr(ev: Evidence) -> list[dict]:
    rows = []
    for s in ev.studies("rct"):
        arms, pairs = ev.arms(s), ev.comparisons(s)
        for o in s.get("outcomes") or []:
            counts = [o.get(k) for k in ("experimental_events", "experimental_n", "control_events", "control_n")]
            if (o["endpoint"] == "orr" and o["measure"] in ("proportion", "OR", "RR") and o["population"] == "overall"
                    and (o["experimental_arm"], o.get("control_arm")) in pairs and None not in counts):
                ai, n1i, ci, n2i = counts
                rows.append(_row(s, o, arms[o["experimental_arm"]], ai=ai, n1i=n1i, ci=ci, n2i=n2i))
    return rows


def rct_ae_g3(ev: Evidence) -> list[dict]:
    rows = []
    for s in ev.studies("rct"):
        arms = ev.arms(s)
        g3 = [a for a in s.get("adverse_events") or [] if a["kind"] == "aggregate" and a.get("treatment_related")
              and a["grade_band"] in (">=3", "3-4", "3") and a.get("subjects_affected") is not None
              and a.get("subjects_at_risk") is not None]
        candidates = []
        for exp, ctl in ev.comparisons(s):
            for x in g3:
                for y in g3:
                    if x["arm"] == exp and y["arm"] == ctl and x["grade_band"] == y["grade_band"]:
                        candidates.append(([">=3", "3-4", "3"].index(x["grade_band"]), x["id"], y["id"], x, y, exp))
        if candidates:
            *_, x, y, exp = min(candidates, key=lambda c: c[:3])
            outcome = {"verified": bool(x.get("verified")) and bool(y.get("verified"))}
            rows.append(_row(s, outcome, arms[exp], ai=x["subjects_affected"], n1i=x["subjects_at_risk"],
                             ci=y["subjects_affected"], n2i=y["subjects_at_risk"]))
    return rows


def single_arm_orr(ev: Evidence) -> list[dict]:
    rows = []
    for s in ev.studies("single_arm"):
        arms = ev.arms(s)
        for o in s.get("outcomes") or []:
            if (o["endpoint"] == "orr" and o["measure"] == "proportion" and o["population"] == "overall"
                    and o.get("experimental_events") is not None and o.get("experimental_n") is not None):
                arm = arms[o["experimental_arm"]]
                label = s["trial"]["name"] + (f": {arm['regimen']}" if len(arms) > 1 else "")
                rows.append({**_row(s, o, arm, xi=o["experimental_events"], ni=o["experimental_n"]), "label": label})
    return rows


VIEWS = {
    "analysis_rct_os": lambda ev: rct_hr(ev, "os", "overall"),
    "analysis_rct_pfs": lambda ev: rct_hr(ev, "pfs", "overall"),
    "analysis_rct_orr": rct_orr,
    "analysis_rct_ae_g3": rct_ae_g3,
    "analysis_single_arm_orr": single_arm_orr,
    "analysis_os_by_resistance": os_by_resistance,
}


def _publication(text) -> tuple:
    if text is None:
        return (1, 0, 0, 0)
    parts = [int(p) for p in str(text).split("-")] + [1, 1]
    return (0, *parts[:3])


def select(rows: list[dict], spec: dict) -> list[dict]:
    """The rows an analysis pools, in livemeta's order."""
    for keep, conditions in ((True, spec["filters"]), (False, spec.get("exclude") or {})):
        for column, wanted in conditions.items():
            wanted = wanted if isinstance(wanted, list) else [wanted]
            if any(column not in r for r in rows):
                raise ValueError(f"analysis {spec['id']}: no column {column!r} in view {spec['view']}")
            rows = [r for r in rows if (r[column] in wanted) == keep]
    return sorted(rows, key=lambda r: (_publication(r["first_published"]), r["trial_id"], r["label"]))


def _num(x) -> str:
    return repr(float(x))


def csv_row(spec: dict, r: dict) -> dict:
    row = dict.fromkeys(COLUMNS, "")
    row.update(analysis=spec["id"], trial_id=r["trial_id"], measure=spec["measure"], method=spec["method"],
               test=spec["test"], subgroup=str(r[spec["subgroup"]] or "") if spec.get("subgroup") else "")
    if spec.get("moderators"):  # name:num or name:factor, and the values as printed ('' = missing)
        kinds = [f"{m}:{'num' if m in NUMERIC else 'factor'}" for m in spec["moderators"]]
        values = ["" if r[m] is None else (_num(r[m]) if m in NUMERIC else str(r[m])) for m in spec["moderators"]]
        row.update(moderators="+".join(kinds), moderator_values=";".join(values))
    if spec["measure"] == "HR":
        o = r["outcome"]
        if r["derivation"] not in ("ci", "p_value"):
            raise ValueError(f"analysis {spec['id']}: {r['trial_id']} reads its HR by {r['derivation']}, which "
                             "make_bundled_reference.R does not compute (extend both scripts)")
        row.update(hr=_num(o["estimate"]))
        if r["derivation"] == "ci":
            alternative = o.get("ci_level_alternative")
            level = alternative if spec["ci_level"] == "alternative" and alternative is not None else o["ci_level"]
            row.update(ci_low=_num(o["ci_low"]), ci_high=_num(o["ci_high"]), ci_level=_num(level))
        from_p = r["derivation"] == "p_value" or (
            spec["ci_level"] == "p_value" and o.get("ci_level_alternative") is not None and _hr_from_p(o))
        if from_p:  # the variance read from the printed P
            row.update(p_value=_num(o["p_value"]), p_sided=o["p_sided"])
    elif spec["measure"] in ("OR", "RR"):
        row.update(ai=int(r["ai"]), n1i=int(r["n1i"]), ci=int(r["ci"]), n2i=int(r["n2i"]))
    else:
        row.update(xi=int(r["xi"]), ni=int(r["ni"]))
    return row


def specs(path: Path) -> list[dict]:
    """The analyses of an analyses file, each with its defaults (an analysis's own key replaces the
    default's; metafor's rma defaults where neither says: REML, z)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    base = {"method": "REML", "test": "z", "ci_level": "printed", "filters": {"inclusion": "included"}, **SUPPORTED}
    out = []
    for raw in doc["analyses"]:
        spec = {**base, **(doc.get("defaults") or {}), **raw}
        for key, value in SUPPORTED.items():
            if spec[key] != value:
                raise ValueError(f"analysis {spec['id']}: {key} {spec[key]!r}, which make_bundled_reference.R does not do")
        out.append(spec)
    return out


def derive(root: Path = ROOT) -> list[dict]:
    """Every analysis's input rows, for the evidence project at ``root`` (its livemeta.yaml names the
    studies folder and the analyses file)."""
    project = yaml.safe_load((root / "livemeta.yaml").read_text(encoding="utf-8"))
    ev = Evidence.read(root / project["studies"])
    rows = []
    for spec in specs(root / project["analyses"]):
        if spec["view"] not in VIEWS:
            raise ValueError(f"analysis {spec['id']}: view {spec['view']} has no independent derivation here")
        rows += [csv_row(spec, r) for r in per_trial(select(VIEWS[spec["view"]](ev), spec), spec)]
    return rows


def per_trial(rows: list[dict], spec: dict) -> list[dict]:
    """The unit of analysis of a pooled proportion (``cohorts`` of the analysis, default combine):
    each trial once, its cohorts combined (responders and patients summed; a column whose cohorts
    differ has their values joined with '; ') or its largest cohort (most patients, the first on a
    tie). Rows keep the order of each trial's first cohort."""
    if spec["measure"] != "proportion":
        return rows
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["trial_id"], []).append(r)
    out = []
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
        elif spec.get("cohorts", "combine") == "largest":
            out.append(max(group, key=lambda r: (r["ni"], -group.index(r))))
        else:
            row = dict(group[0])
            for key in group[0]:
                if key in ("xi", "ni"):
                    row[key] = sum(r[key] for r in group)
                    continue
                values = list(dict.fromkeys(r[key] for r in group if isinstance(r[key], str)))
                if len(values) > 1:
                    row[key] = "; ".join(values)
            out.append(row)
    return out


def write(rows: list[dict], path: Path = OUT, columns: list[str] = COLUMNS) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str]) -> int:
    """``derive_inputs.py [OUT_DIR]``: write bundled_inputs.csv here, or into OUT_DIR."""
    write(derive(), Path(argv[0]) / OUT.name if argv else OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
