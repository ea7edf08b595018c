"""Regenerate the committed output of the exported reproduce.R (R, metafor) for every revision of the
bundled history and of the consistency scenario (tests/consistency/scenario.py).

    .venv/bin/python tests/export/reference/make_reproduced.py      (needs Rscript with metafor)

A clone of this repository is built and each of its revisions exported; the scenario's project is
built in a temporary folder and each of its revisions exported; reproduce.R (the script the
package carries, src/livemeta/export/reproduce.R) runs on every package, and must pass. Its
reproduced.json of each revision (every number metafor computed, at %.17g, with the MD5 of the
inputs it read) is written into bundled_history_reproduced.json and scenario_reproduced.json, with
the SHA-256 of the reproduce.R that made them. The tests read these files: CI checks the stored
numbers of every revision against metafor's without R, and that the committed output was made by
today's reproduce.R.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SCRIPT = REPO / "src" / "livemeta" / "export" / "reproduce.R"
OUTPUTS = {"bundled": HERE / "bundled_history_reproduced.json", "scenario": HERE / "scenario_reproduced.json"}


def script_sha256() -> str:
    return hashlib.sha256(SCRIPT.read_bytes()).hexdigest()


def reproduce_every_revision(db: Path, work: Path) -> dict[str, dict]:
    """reproduce.R's output for the package of every revision of ``db`` (it must pass)."""
    from livemeta import api

    out = {}
    for r in api.revisions(db):
        package = work / f"revision-{r.revision_id}"
        api.export(db, package, as_of=r.revision_id)
        run = subprocess.run(["Rscript", str(package / "reproduce.R")], capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"reproduce.R failed at revision {r.revision_id} of {db}:\n{run.stdout}{run.stderr}")
        print(f"revision {r.revision_id}: {run.stdout.strip()}")
        out[str(r.revision_id)] = json.loads((package / "reproduced.json").read_text())
    return out


def main() -> None:
    sys.path.insert(0, str(REPO))
    from livemeta import api
    from tests.consistency.scenario import scenario_project

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clone = tmp / "clone"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        api.build(clone, db=tmp / "bundled.duckdb")
        runs = {"bundled": reproduce_every_revision(tmp / "bundled.duckdb", tmp / "bundled")}
        proj = scenario_project(tmp / "scenario")
        runs["scenario"] = reproduce_every_revision(proj.database, tmp / "scenario-packages")
    for name, revisions in runs.items():
        doc = {"generated_by": "tests/export/reference/make_reproduced.py: reproduce.R of each revision's data package",
               "reproduce_R_sha256": script_sha256(), "revisions": revisions}
        OUTPUTS[name].write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {OUTPUTS[name]} ({len(revisions)} revisions)")


if __name__ == "__main__":
    main()
