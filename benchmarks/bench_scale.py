"""Costs that grow with the work (issue 15): every step of a living review at 100, 1,000 and 10,000 trials.

For each size a generated evidence project (``livemeta.ingest.synthetic.mixed_study``: 70% RCTs with
OS, PFS, ORR, OS in resistance subgroups and grade >=3 AEs, 30% single-arm trials with ORR; every
analysis of livemeta's own analyses.yaml has data) is made in git over ``--revisions`` revisions
(default 51):

- revision 1: the project starts (no trial); revision 2: one commit adds all the trials;
- revisions 3 to 50: one trial added (even) or one trial's OS corrected (odd), one commit each;
- revision 51: a new data cut of 20 trials (their OS and its cut-off date change), one commit.

Every command runs as a real process (as a user runs it), timed with its peak memory (RSS):

- ``build`` from nothing (the whole history replayed: every revision validated, written, pooled);
- ``pool`` (every analysis, checked against the stored numbers), ``cumulative os``;
- ``diff`` (revision 50 to 51: 20 superseded trials), ``log`` (51 revisions), and ``log`` of a clone
  of the project reset to its revision 4 (to show that log is flat in the number of revisions);
- the stored estimates: rows and trial ids stored per one-trial revision, and the database's size.

Then, in this process, one ``pool()`` call (DerSimonian-Laird, k = 10) beside a statsmodels
``combine_effects`` call and a PyMARE ``DerSimonianLaird().fit`` call (intercept only) (PyMARE is not a dependency:
``pip install pymare`` into the venv to include it).

    .venv/bin/python benchmarks/bench_scale.py [--trials 100 1000 10000] [--work DIR] [--repeat 1]

``--work DIR`` keeps the generated projects there (and reuses them on the next run).
Targets (issue 15), at 10,000 trials: build < 20 s and 800 MB; pool < 2 s and 400 MB; cumulative < 1 s;
diff < 2 s; log < 1 s at revision 51 and flat in revisions; stored estimates per revision growing
with what changed (a one-trial revision stores rows and trial ids in proportion to the analyses and
trials it changed, not to the base); one pool() call < 50 us, faster than statsmodels and PyMARE.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

import yaml

ENV = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
       "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
SUPERSEDED = 20


def run(cwd: Path, *args: str) -> tuple[float, float]:
    """Run a livemeta command; (seconds, peak RSS in MB of the process and what it waited for)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "livemeta", *args], cwd=cwd, env=ENV, stdout=out, stderr=out)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            out.seek(0)
            raise SystemExit(f"livemeta {' '.join(args)} failed in {cwd}:\n{out.read().decode(errors='replace')[-3000:]}")
    return took, usage.ru_maxrss / 1024


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout


def _write(path: Path, d: dict) -> None:
    path.write_text(yaml.safe_dump(d, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _new_os(d: dict, shift: int, cutoff: str | None = None) -> dict:
    from livemeta.ingest.synthetic import _HRS

    os_ = next(o for o in d["outcomes"] if o["id"] == "os")
    est, lo, hi = _HRS[(int(d["trial"]["id"][-5:]) + shift) % len(_HRS)]
    os_.update(estimate=est, ci_low=lo, ci_high=hi, raw_text=f"HR {est} (95% CI {lo}-{hi})")
    if cutoff:
        os_["data_cutoff"] = cutoff
    return d


def generated_project(root: Path, trials: int, revisions: int) -> Path:
    """The mixed base of ``trials`` trials over ``revisions`` revisions (see the module docstring)."""
    from livemeta.ingest.synthetic import mixed_study
    from livemeta.project import new_project

    folder = root / f"mixed-{trials}"
    if (folder / "livemeta.yaml").exists():
        return folder
    proj, _ = new_project(folder, name=f"generated mixed base, {trials} trials")
    studies = proj.studies
    for i in range(1, trials + 1):
        _write(studies / f"mixed-{i:05d}.yaml", mixed_study(i))
    git(folder, "add", "studies")
    git(folder, "commit", "-q", "-m", f"{trials} trials")
    rcts = [i for i in range(1, trials + 1) if i % 10 not in (0, 3, 6)]
    for r in range(3, revisions):
        if r % 2 == 1:
            i = trials + r
            _write(studies / f"mixed-{i:05d}.yaml", mixed_study(i))
            git(folder, "add", "studies")
            git(folder, "commit", "-q", "-m", f"add mixed-{i:05d}")
        else:
            i = rcts[r % len(rcts)]
            _write(studies / f"mixed-{i:05d}.yaml", _new_os(mixed_study(i), 7))
            git(folder, "commit", "-q", "-am", f"correct the OS of mixed-{i:05d}")
    cut = rcts[-SUPERSEDED:]
    for i in cut:
        _write(studies / f"mixed-{i:05d}.yaml", _new_os(mixed_study(i), 4, cutoff="2025-06-30"))
    git(folder, "commit", "-q", "-am", f"new data cut of {len(cut)} trials")
    return folder


def stored_growth(db: Path) -> dict:
    """Estimate rows and trial ids stored per one-trial revision (3..50; median), under either
    layout: trial lists in each row (before issue 15) or ranges in history.pooled_trials (an id
    counted when it enters or leaves a stratum)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'history' AND table_name = 'pooled_estimates'").fetchall()}
        per = {rid: [n, 0] for rid, n in con.execute(
            "SELECT revision_id, count(*) FROM history.pooled_estimates GROUP BY ALL").fetchall()}
        if "trials" in cols:
            ids = con.execute("SELECT revision_id, sum(len(trials)) FROM history.pooled_estimates GROUP BY ALL").fetchall()
        else:
            ids = con.execute(
                "SELECT r, count(*) FROM (SELECT valid_from AS r FROM history.pooled_trials UNION ALL "
                "SELECT valid_to FROM history.pooled_trials WHERE valid_to IS NOT NULL) GROUP BY ALL").fetchall()
        for rid, n in ids:
            per.setdefault(rid, [0, 0])[1] = n
    finally:
        con.close()
    one = [per.get(r, (0, 0)) for r in range(3, 51)]
    return {"rows per revision": statistics.median(n for n, _ in one),
            "trial ids per revision": statistics.median(i for _, i in one)}


def measure(folder: Path, revisions: int, repeat: int) -> dict:
    db = folder / "livemeta.duckdb"
    out: dict = {}
    builds = []
    for _ in range(repeat):
        for f in folder.glob("livemeta.duckdb*"):
            f.unlink()
        builds.append(run(folder, "build"))
    out["build, 51 revisions"] = min(builds)
    out["pool"] = min(run(folder, "pool") for _ in range(repeat))
    out["cumulative"] = min(run(folder, "cumulative", "os") for _ in range(repeat))
    out["diff"] = min(run(folder, "diff", str(revisions - 1), str(revisions)) for _ in range(repeat))
    out["log"] = min(run(folder, "log") for _ in range(repeat))
    out["stored"] = stored_growth(db)
    two = at_revision(folder, 2)
    out["build, trials in one commit"] = min(run(two, "build") for _ in range(repeat))
    # the database's growth per revision after the base: (size at 51 - size at 2) / 49
    out["stored"]["MB per revision"] = (db.stat().st_size - (two / "livemeta.duckdb").stat().st_size) / 1e6 / (revisions - 2)
    out["stored"]["MB"] = db.stat().st_size / 1e6
    early = at_revision(folder, 4)
    run(early, "build")
    out["log at revision 4"] = min(run(early, "log") for _ in range(repeat))
    for extra in folder.parent.glob(folder.name + "-at-*"):
        shutil.rmtree(extra, ignore_errors=True)
    return out


def at_revision(folder: Path, revision: int) -> Path:
    """A clone of the generated project reset to the commit of ``revision`` (one commit each), without
    a database."""
    clone = folder.with_name(f"{folder.name}-at-{revision}")
    if not clone.exists():
        git(folder.parent, "clone", "-q", str(folder), str(clone))
        commits = git(clone, "rev-list", "--reverse", "HEAD").split()
        git(clone, "reset", "-q", "--hard", commits[revision - 1])
    for f in clone.glob("livemeta.duckdb*"):
        f.unlink()
    return clone


def pool_call(k: int = 10, number: int = 2000) -> dict[str, float]:
    """Microseconds per call of one DL pool of k studies: livemeta, statsmodels, PyMARE."""
    import numpy as np

    from livemeta.pooling import pool

    rng = np.random.default_rng(15)
    vi = 10.0 ** rng.uniform(-2, -0.5, k)
    yi = rng.normal(-0.1, np.sqrt(vi + 0.02))
    calls = {"livemeta pool(method='DL')": lambda: pool(yi, vi, method="DL")}
    try:
        from statsmodels.stats.meta_analysis import combine_effects

        calls["statsmodels combine_effects(method_re='dl')"] = lambda: combine_effects(yi, vi, method_re="dl")
    except ImportError:
        pass
    try:
        from pymare.estimators import DerSimonianLaird

        y2, v2, x2 = yi[:, None], vi[:, None], np.ones((k, 1))
        calls["PyMARE DerSimonianLaird().fit(y, v, X)"] = lambda: DerSimonianLaird().fit(y2, v2, x2)
    except ImportError:
        pass
    out = {}
    for name, fn in calls.items():
        fn()
        out[name] = min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6
    return out


TARGETS = {  # at 10,000 trials: (seconds, MB) or None
    "build, trials in one commit": (20.0, 800.0),
    "build, 51 revisions": (None, None),
    "pool": (2.0, 400.0),
    "cumulative": (1.0, None),
    "diff": (2.0, None),
    "log": (1.0, None),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--revisions", type=int, default=51)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--work", type=Path, help="keep the generated projects here (reused when present)")
    ap.add_argument("--save", type=Path, help="also write the figures to this JSON file (as each size is measured)")
    ap.add_argument("--table", type=Path, help="print the table of a JSON file written by --save, measure nothing")
    args = ap.parse_args()
    if args.table:
        saved = json.loads(args.table.read_text())
        print_table({int(n): r for n, r in saved["sizes"].items()}, saved.get("pool_call", {}))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="livemeta-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    results = {}
    try:
        for n in args.trials:
            t0 = time.perf_counter()
            folder = generated_project(work, n, args.revisions)
            print(f"[{n} trials: project ready in {time.perf_counter() - t0:.0f} s]", file=sys.stderr)
            results[n] = measure(folder, args.revisions, args.repeat)
            print(f"[{n} trials measured: {results[n]}]", file=sys.stderr)
            if args.save:
                args.save.write_text(json.dumps({"sizes": results}, indent=1))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    calls = pool_call()
    if args.save:
        args.save.write_text(json.dumps({"sizes": results, "pool_call": calls}, indent=1))
    print_table(results, calls)


def print_table(results: dict, calls: dict) -> None:
    """The issue's table: each step at each size, its target at 10,000 trials and whether it is met."""
    sizes = list(results)
    big = max(sizes)
    print("| step | " + " | ".join(f"{n:,} trials" for n in sizes) + f" | target at 10,000 | met at {big:,} |")
    print("|---|" + "---|" * (len(sizes) + 2))
    for step in ("build, trials in one commit", "build, 51 revisions", "pool", "cumulative", "diff", "log",
                 "log at revision 4"):
        cells = [f"{results[n][step][0]:.2f} s, {results[n][step][1]:.0f} MB" for n in sizes]
        target = TARGETS.get(step)
        if step == "log at revision 4":
            flat = results[big]["log"][0] <= 1.5 * results[big][step][0] + 0.2
            text, met = "log flat in revisions (51 vs 4)", "yes" if flat else "NO"
        elif target[0] is None:
            text, met = "(reported)", ""
        else:
            secs, mb = target
            ok = results[big][step][0] < secs and (mb is None or results[big][step][1] < mb)
            text = f"< {secs:g} s" + (f", < {mb:g} MB" if mb else "")
            met = "yes" if ok else "NO"
        print(f"| {step} | " + " | ".join(cells) + f" | {text} | {met} |")
    labels = {"rows per revision": "estimate rows stored per one-trial revision (median)",
              "trial ids per revision": "trial ids stored per one-trial revision (median)",
              "MB per revision": "database growth per revision after the base (MB)", "MB": "database size (MB)"}
    for key, label in labels.items():
        cells = [f"{results[n]['stored'][key]:,.2f}" if "MB" in key else f"{results[n]['stored'][key]:,.0f}" for n in sizes]
        print(f"| {label} | " + " | ".join(cells) + f" | {'' if key == 'MB' else 'grows with what changed'} | |")
    print()
    if not calls:
        return
    calls = dict(calls)
    ours = calls.pop("livemeta pool(method='DL')")
    print("| one pool() call, DL, k = 10 | µs per call |")
    print("|---|---|")
    print(f"| livemeta pool(method='DL') | {ours:.1f} (target < 50, faster than each below: "
          f"{'yes' if ours < 50 and all(ours < v for v in calls.values()) else 'NO'}) |")
    for name, us in calls.items():
        print(f"| {name} | {us:.1f} |")


if __name__ == "__main__":
    main()
