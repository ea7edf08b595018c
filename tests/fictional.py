"""A fictional evidence project for the tests of risk of bias, GRADE, the report and the export.

Nine fictional RCTs named "Study 1" ... "Study 9" (the study names of robvis's example data), made
from the study-file template with the hazard ratios of :mod:`livemeta.ingest.synthetic`, first
published 2015 ... 2023; their risk of bias for OS is robvis's own example (``data_rob2.csv``),
imported with ``livemeta rob import`` as a consensus. No judgement here is about a real trial.
"""

from __future__ import annotations

from pathlib import Path

import yaml

FIXTURES = Path(__file__).resolve().parent / "importers" / "fixtures" / "robvis"
ROB2_CSV = FIXTURES / "data_rob2.csv"
ROBINS_I_CSV = FIXTURES / "data_robins_i.csv"
#: robvis's example overall RoB 2 judgements of Study 1 ... Study 9 (data_rob2.csv)
ROB2_OVERALL = ["low", "some_concerns", "some_concerns", "high", "high", "high", "high", "some_concerns", "high"]


def fictional_study(i: int) -> dict:
    """Fictional RCT number ``i`` (from 1): the template with its own ids and numbers, no RoB."""
    from livemeta.ingest.synthetic import study

    d = study(i)
    d["trial"]["name"] = f"Study {i}"
    d["trial"]["first_published"] = str(2014 + i)
    d.pop("risk_of_bias", None)
    return d


def fictional_project(root: Path, n: int = 9, *, rob: bool = True):
    """A project of ``n`` fictional RCTs (revision 2, after the project's first commit) and, with
    ``rob``, robvis's example RoB 2 judgements of OS (of its first ``n`` studies, n <= 9) as their
    consensus assessments (revision 3)."""
    from livemeta import api
    from livemeta.project import new_project

    proj, _ = new_project(root, name="A fictional review")
    paths = []
    for i in range(1, n + 1):
        path = proj.studies / f"study-{i}.yaml"
        path.write_text(yaml.safe_dump(fictional_study(i), sort_keys=False), encoding="utf-8")
        paths.append(path)
    api.ingest(paths, message=f"{n} fictional trials", project=proj)
    if rob:
        csv_file = ROB2_CSV
        if n < 9:  # robvis's first n studies
            csv_file = root.parent / f"{root.name}-rob2-{n}.csv"
            csv_file.write_text("\n".join(ROB2_CSV.read_text().splitlines()[: n + 1]) + "\n")
        api.rob_import(csv_file, tool="rob2", endpoint="os", role="consensus", assessor="A. Reviewer; B. Reviewer",
                       assessed_on="2026-01-15", project=proj, write=True)
        api.ingest(paths, message="RoB 2 of OS (robvis example judgements)", project=proj, supersede=True)
    return proj
