"""livemeta's screening model beside ASReview LAB's default, side by side in one run (issue 22).

    python benchmarks/bench_screening.py [--datasets DIR] [--seeds 1 2 3] [--venvs DIR]
                                         [--asreview-literal-ids] [--skip-asreview] [--json FILE]

1. Installs ASReview into venvs of its own under ``--venvs`` (default ``~/.cache/livemeta-bench``):
   ``asreview`` (the current PyPI release, simulated with its default model) and
   ``asreview-insights`` for the metrics (Insights 1.6 requires asreview 2.x, so it gets a second
   venv with the asreview it resolves). Both are reused by later runs.
2. For every dataset in ``--datasets`` (default: the four Cohen et al. 2006 files of
   ``/work/shared/screening``) and seed s: the priors are one included and one excluded record_id,
   each drawn by ``random.Random(s).choice`` from the ids in file order, the included one first.
   ``livemeta screen simulate DATASET --prior-record-id INC EXC --seed s --json`` and
   ``asreview simulate DATASET --prior-record-id ... --seed s`` screen from the same two records.
   ASReview numbers records 0, 1, ... in file order whatever the file's record_id column says, so
   its ``--prior-record-id`` gets those numbers; the priors it recorded are checked to be the same
   records. (``--asreview-literal-ids`` also runs ASReview with the file's ids passed as they are,
   which makes it start from other records, one row further on: that is how the issue's ASReview
   figures were made.)
3. Both tools' label sequences (priors left out, padded with zeros to the records that are not
   priors, as Insights does) are scored by asreview-insights itself (``_wss``, ``_recall``) and by
   livemeta.ranking.metrics, which must agree exactly.
4. Times a retrain-and-rank step (``Ranker.rank``: retrain, score, order, stopping estimate) at
   2,000 and 100,000 records (synthetic corpora assembled from the shipped records' titles,
   abstract sentences and MeSH lists; a record is an include when its title is an included
   record's) after 200 to 20,000 records drawn at random were labelled and ``screen simulate`` of a 2,000-record dataset (the four datasets in one file, the
   ADHD review's includes as the includes, and 119 synthetic records) with both tools.

Seconds per run are the wall time of each tool's process (start-up, reading, features,
simulation). Targets: mean WSS@95 at or above ASReview's; a step <= 50 ms at 2,000 records and
<= 1 s at 100,000; ``screen simulate`` of 2,000 records <= 30 s.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

DATASETS = Path("/work/shared/screening")
ISSUE_ASREVIEW = {"ADHD": 0.646, "Antihistamines": 0.218, "NSAIDS": 0.681, "UrinaryIncontinence": 0.391}
INSIGHTS_CODE = """
import json, sys
from asreviewcontrib.insights.metrics import _recall, _wss
out = []
for labels in json.load(open(sys.argv[1])):
    out.append([float(_wss(labels, 0.95)), float(_recall(labels, 0.10)), float(_recall(labels, 0.25))])
json.dump(out, open(sys.argv[2], "w"))
"""


# --- set-up -------------------------------------------------------------------------------------

def venv(path: Path, packages: list[str]) -> Path:
    python = path / "bin" / "python"
    if not python.exists():
        print(f"creating {path} with {' '.join(packages)} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    return python


def version_of(python: Path, package: str) -> str:
    code = f"from importlib.metadata import version; print(version({package!r}))"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def priors_for(rows: list[dict], seed: int) -> list[str]:
    """One included and one excluded record_id, drawn by random.Random(seed).choice from the ids in
    file order, the included one first."""
    rng = random.Random(seed)
    included = [r["record_id"] for r in rows if r["label_included"].strip() == "1"]
    excluded = [r["record_id"] for r in rows if r["label_included"].strip() == "0"]
    return [rng.choice(included), rng.choice(excluded)]


def padded(labels_after_priors: list[int], n_records: int, n_priors: int) -> list[int]:
    return labels_after_priors + [0] * (n_records - n_priors - len(labels_after_priors))


# --- the two tools ------------------------------------------------------------------------------

def timed_run(argv: list[str], cwd: Path | None = None) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run a process; its wall time and CPU time (user + system, its children included): on a machine
    shared with other jobs the CPU time is what the run costs, the wall time what it took."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, wall, cpu


def run_livemeta(dataset: Path, prior_ids: list[str], seed: int, rows: list[dict]) -> dict:
    argv = [sys.executable, "-m", "livemeta", "screen", "simulate", str(dataset), "--prior-record-id", *prior_ids,
            "--seed", str(seed), "--json"]
    done, wall, cpu = timed_run(argv)
    if done.returncode != 0:
        raise SystemExit(f"livemeta failed on {dataset.name}: {done.stderr}")
    out = json.loads(done.stdout)
    label = {r["record_id"]: int(r["label_included"]) for r in rows}
    order = [str(i) for i in out["order"]]
    assert order[:2] == prior_ids and sorted(order) == sorted(label), "livemeta's order is not every record once"
    return {"labels": [label[i] for i in order[2:]], "seconds": wall, "cpu": cpu, "inner_seconds": out["seconds"],
            "own": [out["wss95"], out["recall10"], out["recall25"]]}


def asreview_order(project: Path) -> list[tuple[int, int, bool]]:
    """(record number, label, is prior) in the order ASReview labelled them, from the project file."""
    with zipfile.ZipFile(project) as z, tempfile.TemporaryDirectory() as tmp:
        member = next(n for n in z.namelist() if n.endswith("results.db"))
        z.extract(member, tmp)
        con = sqlite3.connect(Path(tmp) / member)
        rows = con.execute("SELECT record_id, label, querier IS NULL FROM results ORDER BY rowid").fetchall()
        con.close()
    return [(int(r), int(lab), bool(p)) for r, lab, p in rows]


def run_asreview(python: Path, dataset: Path, prior_ids: list[str], seed: int, rows: list[dict],
                 literal: bool = False) -> dict:
    row_of = {r["record_id"]: i for i, r in enumerate(rows)}
    ids = prior_ids if literal else [str(row_of[p]) for p in prior_ids]
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "sim.asreview"
        argv = [str(python), "-m", "asreview", "simulate", str(dataset), "--prior-record-id", *ids,
                "--seed", str(seed), "-o", str(project)]
        done, wall, cpu = timed_run(argv, cwd=Path(tmp))  # asreview leaves a cache file where it runs
        if done.returncode != 0:
            raise SystemExit(f"asreview failed on {dataset.name}: {done.stderr[-2000:]}")
        screened = asreview_order(project)
    got_priors = [r for r, _, prior in screened if prior]
    if not literal:
        assert got_priors == [row_of[p] for p in prior_ids], (got_priors, prior_ids)
        for r, lab, _ in screened:  # ASReview's labels are the file's: its record r is row r
            assert lab == int(rows[r]["label_included"])
    labels = [lab for _, lab, prior in screened if not prior]
    return {"labels": padded(labels, len(rows), len(got_priors)), "seconds": wall, "cpu": cpu,
            "prior_labels": [int(rows[r]["label_included"]) for r in got_priors]}


def insights_metrics(python: Path, sequences: list[list[int]]) -> list[list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.json", Path(tmp) / "out.json"
        src.write_text(json.dumps(sequences))
        subprocess.run([str(python), "-c", INSIGHTS_CODE, str(src), str(dst)], check=True)
        return json.loads(dst.read_text())


# --- synthetic corpora and timing -----------------------------------------------------------------

def text_pool(datasets: list[Path]):
    """The shipped records' titles (with their labels), abstract sentences and keyword lists."""
    titles, included, sentences, keywords = [], [], [], []
    for path in datasets:
        for r in read_rows(path):
            titles.append(r["title"])
            included.append(r["label_included"].strip() == "1")
            sentences.extend(s.strip() + "." for s in r["abstract"].split(". ") if s.strip())
            keywords.append(r.get("keywords", ""))
    return titles, np.array(included), sentences, keywords


def synthetic_records(n: int, pool, seed: int, start_id: int = 1):
    """Records assembled from the shipped records' parts: a title, 5-12 abstract sentences and a
    keyword list, each drawn at random (so words and word pairs occur as often as in real records),
    and their labels: an include when the title is an included record's (about 6%)."""
    from livemeta.ranking import Record

    titles, included, sentences, keywords = pool
    rng = np.random.default_rng(seed)
    out, labels = [], np.zeros(n, dtype=np.int8)
    for i in range(n):
        t = rng.integers(len(titles))
        parts = rng.integers(0, len(sentences), rng.integers(5, 13))
        out.append(Record(start_id + i, titles[t], " ".join(sentences[j] for j in parts),
                          keywords[rng.integers(len(keywords))]))
        labels[i] = included[t]
    return out, labels


def time_step(ranker, truth: np.ndarray, n_labelled: int, repeat: int, seed: int = 0) -> tuple[float, float, int]:
    """Seconds of one Ranker.rank() (retrain, score, order, stopping estimate) after ``n_labelled``
    records drawn at random were labelled with their true labels, wall and CPU: the medians of
    ``repeat`` runs after a first; and the number of includes among them."""
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(ranker), n_labelled, replace=False)
    labels = {ranker.records[i].record_id: int(truth[i]) for i in picked}
    ranker.rank(labels)
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        ranker.rank(labels)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), int(truth[picked].sum())


def combined_dataset(datasets: list[Path], out: Path, pool) -> Path:
    """The four datasets in one file of 2,000 records: the ADHD review's includes are the includes,
    every other record (the other reviews' and 119 synthetic ones) an exclude."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["record_id", "title", "abstract", "keywords", "label_included"])
    n = 0
    for path in datasets:
        adhd = "ADHD" in path.name
        for r in read_rows(path):
            n += 1
            w.writerow([n, r["title"], r["abstract"], r.get("keywords", ""), r["label_included"] if adhd else "0"])
    for rec in synthetic_records(2000 - n, pool, seed=2000, start_id=n + 1)[0]:
        w.writerow([rec.record_id, rec.title, rec.abstract, "; ".join(rec.keywords), "0"])
    out.write_text(buf.getvalue())
    return out


def compare(files, seeds, asr, ins, literal: bool) -> list[dict]:
    """Both tools on every dataset and seed, scored and printed."""
    runs = []
    for path in files:
        name = path.stem.split("-", 1)[-1]
        rows = read_rows(path)
        for seed in seeds:
            prior_ids = priors_for(rows, seed)
            run = {"dataset": name, "seed": seed, "priors": prior_ids, "records": len(rows)}
            run["livemeta"] = run_livemeta(path, prior_ids, seed, rows)
            if asr:
                run["asreview"] = run_asreview(asr, path, prior_ids, seed, rows)
                if literal:
                    run["asreview_literal"] = run_asreview(asr, path, prior_ids, seed, rows, literal=True)
            print(f"{name:20s} seed {seed} priors {prior_ids}: livemeta {secs(run['livemeta'])}"
                  + (f", ASReview {secs(run['asreview'])}" if asr else ""), flush=True)
            runs.append(run)

    tools = [t for t in ("livemeta", "asreview", "asreview_literal") if t in runs[0]]
    from livemeta.ranking import metrics

    for run in runs:
        for tool in tools:
            labels = run[tool]["labels"]
            run[tool]["metrics"] = [metrics.wss(labels, 0.95), metrics.recall(labels, 0.10),
                                    metrics.recall(labels, 0.25)]
    if ins:
        seqs = [run[t]["labels"] for run in runs for t in tools]
        got = iter(insights_metrics(ins, seqs))
        for run in runs:
            for tool in tools:
                by_insights = next(got)
                assert by_insights == run[tool]["metrics"], (run["dataset"], run["seed"], tool, by_insights)
        print("metrics computed by asreview-insights; livemeta.ranking.metrics gives the same numbers exactly")
    for run in runs:
        assert run["livemeta"]["own"] == run["livemeta"]["metrics"], "screen simulate's own metrics differ"

    names = {"livemeta": "livemeta", "asreview": "ASReview (same priors)", "asreview_literal": "ASReview (ids literal)"}
    print("\nper run: WSS@95 / recall@10% / recall@25% / seconds (wall, CPU)")
    for run in runs:
        cells = [f"{names[t]} {fmt(run[t]['metrics'][0])} / {fmt(run[t]['metrics'][1])} / "
                 f"{fmt(run[t]['metrics'][2])} / {secs(run[t])}" for t in tools]
        print(f"  {run['dataset']:20s} {run['seed']}  " + "   ".join(cells))
    print("\nmean over seeds " + ", ".join(str(s) for s in seeds)
          + ": WSS@95 / recall@10% / recall@25% / seconds per run (wall, CPU)")
    datasets = list(dict.fromkeys(r["dataset"] for r in runs))
    for label, subset in [*((d, [r for r in runs if r["dataset"] == d]) for d in datasets), ("overall", runs)]:
        cells = []
        for t in tools:
            m = np.mean([r[t]["metrics"] for r in subset], axis=0)
            mean = {k: float(np.mean([r[t][k] for r in subset])) for k in ("seconds", "cpu")}
            cells.append(f"{names[t]} {m[0]:.3f} / {m[1]:.3f} / {m[2]:.3f} / {secs(mean)}")
        issue = (f"   (issue: {np.mean(list(ISSUE_ASREVIEW.values())):.3f})" if label == "overall"
                 else f"   (issue: {ISSUE_ASREVIEW[label]:.3f})" if label in ISSUE_ASREVIEW else "")
        print(f"  {label:20s} " + "   ".join(cells) + issue)

    return runs


# --- report -------------------------------------------------------------------------------------

def fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def secs(run: dict) -> str:
    return f"{run['seconds']:.1f} s ({run['cpu']:.1f} s CPU)"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", type=Path, default=DATASETS)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--venvs", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "livemeta-bench")
    ap.add_argument("--asreview-literal-ids", action="store_true",
                    help="also run ASReview with the file's record_ids passed as they are (the issue's figures)")
    ap.add_argument("--skip-asreview", action="store_true", help="livemeta only (no venv, no comparison)")
    ap.add_argument("--skip-timing", action="store_true", help="no step timing, no 2,000-record simulation")
    ap.add_argument("--skip-comparison", action="store_true", help="the timing only")
    ap.add_argument("--json", type=Path, default=None, help="write every run's figures here")
    args = ap.parse_args(argv)

    files = sorted(args.datasets.glob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV files in {args.datasets}")
    asr = ins = None
    if not args.skip_asreview:
        asr = venv(args.venvs / "asreview", ["asreview"])
        ins = venv(args.venvs / "insights", ["asreview-insights"])
        print(f"ASReview {version_of(asr, 'asreview')} (simulation, default model); asreview-insights "
              f"{version_of(ins, 'asreview-insights')} with asreview {version_of(ins, 'asreview')} (metrics)")

    runs = compare(files, args.seeds, asr, ins, args.asreview_literal_ids) if not args.skip_comparison else []

    timing = {}
    if not args.skip_timing:
        pool = text_pool(files)
        print("\nretrain-and-rank step (Ranker.rank: retrain, score, order, stopping estimate), median of 5:")
        from livemeta.ranking import Ranker

        for size, cases, target in [(2000, [200, 1000, 1999], 0.05), (100_000, [1000, 5000, 20000], 1.0)]:
            records, truth = synthetic_records(size, pool, seed=size)
            start = time.perf_counter()
            ranker = Ranker(records)
            feats = time.perf_counter() - start
            timing[f"features_{size}"] = feats
            print(f"  {size:7,d} records: features computed once in {feats:.1f} s", flush=True)
            for n_lab in cases:
                step, cpu, n_inc = time_step(ranker, truth, n_lab, repeat=5)
                timing[f"{size}/{n_lab}"] = {"step": step, "step_cpu": cpu, "includes": n_inc}
                print(f"  {size:7,d} records, {n_lab:6,d} labelled ({n_inc} includes): {step * 1000:7.1f} ms "
                      f"({cpu * 1000:.1f} ms CPU; target <= {target * 1000:.0f} ms)", flush=True)
            del ranker, records
        with tempfile.TemporaryDirectory() as tmp:
            combined = combined_dataset(files, Path(tmp) / "combined-2000.csv", pool)
            rows = read_rows(combined)
            prior_ids = priors_for(rows, 1)
            lm = run_livemeta(combined, prior_ids, 1, rows)
            line = f"\nscreen simulate of 2,000 records (the four datasets + 119 synthetic): livemeta {secs(lm)}"
            timing["simulate_2000"] = {"livemeta": {"seconds": lm["seconds"], "cpu": lm["cpu"]}}
            if asr:
                ar = run_asreview(asr, combined, prior_ids, 1, rows)
                timing["simulate_2000"]["asreview"] = {"seconds": ar["seconds"], "cpu": ar["cpu"]}
                line += f", ASReview {secs(ar)}"
            print(line + " (target <= 30 s)")
    if args.json:
        for run in runs:
            for t in ("livemeta", "asreview", "asreview_literal"):
                run.get(t, {}).pop("labels", None)
        args.json.write_text(json.dumps({"runs": runs, "timing": timing}, indent=1))


if __name__ == "__main__":
    main()
