"""The cost of `livemeta report` on the bundled base and on generated bases of 100 and 1,000 trials.

Every command is a real process, as a user runs it. For each base: the database is built first
(not timed), then

- ``report (fresh)``: ``livemeta report --out DIR`` into an empty folder (every figure drawn);
- ``report (unchanged)``: the same command again, nothing changed (no figure redrawn);
- ``report (one trial added)``: after one more trial is ingested, the report again into the same
  folder (only the figures whose inputs changed are redrawn).

    .venv/bin/python benchmarks/bench_report.py [--sizes 100 1000] [--repeat 3]

Targets (issue 11): a fresh report in 3 s bundled, 5 s at 100 trials and 20 s at 1,000.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_history import REPO, git, livemeta, print_table  # noqa: E402


def generated_project(root: Path, trials: int) -> Path:
    """A project of ``trials`` synthetic RCTs, all added by one commit."""
    from livemeta.ingest.synthetic import study
    from livemeta.project import new_project

    proj, _ = new_project(root / f"generated-{trials}", name=f"generated, {trials} trials")
    for i in range(1, trials + 1):
        (proj.studies / f"synthetic-{i:05d}.yaml").write_text(yaml.safe_dump(study(i), sort_keys=False))
    git(proj.root, "add", "studies")
    git(proj.root, "commit", "-q", "-m", f"{trials} trials")
    return proj.root


def fresh(root: Path, out: Path, repeat: int) -> float:
    took = []
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        took.append(livemeta(root, "report", "--out", str(out)))
    return statistics.median(took)


def measure(name: str, root: Path, repeat: int) -> dict:
    from livemeta.ingest.synthetic import study
    from livemeta.project import load_project

    livemeta(root, "build")
    out = root / "report-bench"
    row = {"base": name, "report (fresh)": fresh(root, out, repeat)}
    row["report (unchanged)"] = statistics.median(livemeta(root, "report", "--out", str(out)) for _ in range(repeat))
    studies = load_project(root).studies
    d = study(99_999)
    path = studies / "bench-new.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    livemeta(root, "ingest", str(path), "-m", "add one trial")
    row["report (one trial added)"] = livemeta(root, "report", "--out", str(out))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100, 1000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="livemeta-bench-") as tmp:
        tmp = Path(tmp)
        bundled = tmp / "bundled"
        git(tmp, "clone", "-q", str(REPO), str(bundled))
        rows.append(measure("bundled (this repository)", bundled, args.repeat))
        for n in args.sizes:
            rows.append(measure(f"generated: {n} trials", generated_project(tmp, n), args.repeat))
    print_table(rows, ["base", "report (fresh)", "report (unchanged)", "report (one trial added)"])


if __name__ == "__main__":
    main()
