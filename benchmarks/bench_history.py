"""The costs of a git-backed history: rebuild the whole history, update by one trial, verify.

Two bases, each in a temporary folder, every command a real process (as a user runs it):

- the bundled evidence project (a clone of this repository: its revisions in git);
- a generated project of ``--trials`` synthetic RCTs (default 1,000) over ``--revisions`` revisions
  (default 50): the first commit adds them all, each later commit adds one trial or corrects one.

For each: ``livemeta build`` from nothing (the whole history replayed, every analysis pooled at every
revision), ``livemeta build`` again (up to date), one ``livemeta ingest`` of a new trial (validate,
commit, replay, pool), and ``livemeta verify`` (a second full replay, compared table by table).

    .venv/bin/python benchmarks/bench_history.py [--trials 1000] [--revisions 50] [--repeat 3]

Targets (issue 9): one-trial update 1.5 s bundled and 2 s at 1,000 trials; a rebuild of the whole
history 10 s bundled and 60 s for 1,000 trials over 50 revisions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
       "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}


def run(cwd: Path, *args: str) -> float:
    start = time.perf_counter()
    out = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    took = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed in {cwd}:\n{out.stdout}\n{out.stderr}")
    return took


def livemeta(cwd: Path, *args: str) -> float:
    return run(cwd, sys.executable, "-m", "livemeta", *args)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True)


def generated_project(root: Path, trials: int, revisions: int) -> Path:
    from livemeta.ingest.synthetic import study
    from livemeta.project import new_project

    proj, _ = new_project(root / "generated", name="generated")
    for i in range(1, trials + 1):
        (proj.studies / f"synthetic-{i:05d}.yaml").write_text(yaml.safe_dump(study(i), sort_keys=False))
    git(proj.root, "add", "studies")
    git(proj.root, "commit", "-q", "-m", f"{trials} trials")
    for r in range(revisions - 1):
        if r % 2 == 0:
            i = trials + 1 + r
            (proj.studies / f"synthetic-{i:05d}.yaml").write_text(yaml.safe_dump(study(i), sort_keys=False))
            git(proj.root, "add", "studies")
            git(proj.root, "commit", "-q", "-m", f"add synthetic-{i:05d}")
        else:
            path = proj.studies / f"synthetic-{r + 1:05d}.yaml"
            d = yaml.safe_load(path.read_text())
            d["trial"]["note"] = f"corrected in revision {r + 2}"
            path.write_text(yaml.safe_dump(d, sort_keys=False))
            git(proj.root, "commit", "-q", "-am", f"correct synthetic-{r + 1:05d}")
    return proj.root


def measure(name: str, root: Path, new_trial: dict, repeat: int) -> dict:
    rebuild = []
    for _ in range(repeat):
        for f in list(root.glob("**/*.duckdb*")):
            f.unlink()
        rebuild.append(livemeta(root, "build"))
    again = livemeta(root, "build")
    from livemeta.project import load_project

    studies = load_project(root).studies
    updates = []
    for k in range(repeat):
        d = dict(new_trial)
        d["trial"] = dict(new_trial["trial"], id=f"bench-new-{k}", name=f"BENCH-NEW-{k}", nct_id=f"NCT8{k:07d}")
        d["sources"] = [dict(s, doi=None, pmid=f"8{k:07d}") for s in new_trial["sources"]]
        path = studies / f"bench-new-{k}.yaml"
        path.write_text(yaml.safe_dump(d, sort_keys=False))
        updates.append(livemeta(root, "ingest", str(path), "-m", f"add bench-new-{k}"))
    verify = livemeta(root, "verify")
    return {"base": name, "rebuild": statistics.median(rebuild), "up to date": again,
            "one-trial update": statistics.median(updates), "verify": verify}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--revisions", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from livemeta.ingest.synthetic import template

    rows = []
    with tempfile.TemporaryDirectory(prefix="livemeta-bench-") as tmp:
        tmp = Path(tmp)
        bundled = tmp / "bundled"
        git(tmp, "clone", "-q", str(REPO), str(bundled))
        rows.append(measure("bundled (this repository)", bundled, template(), args.repeat))
        gen = generated_project(tmp, args.trials, args.revisions)
        rows.append(measure(f"generated: {args.trials} trials, {args.revisions} revisions", gen, template(), args.repeat))
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(rows, ["base", "rebuild", "up to date", "one-trial update", "verify"])


def print_table(rows: list[dict], cols: list[str]) -> None:
    """A Markdown table of the measurements (seconds to two decimals)."""
    print(" | ".join(cols))
    print(" | ".join("---" for _ in cols))
    for r in rows:
        print(" | ".join(r[c] if isinstance(r[c], str) else f"{r[c]:.2f} s" for c in cols))


if __name__ == "__main__":
    main()
