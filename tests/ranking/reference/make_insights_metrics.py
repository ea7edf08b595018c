"""Write insights_metrics.json: screening metrics computed by ASReview Insights itself, the reference
for livemeta.ranking.metrics (tests/ranking/test_metrics.py reads it; the tests never need ASReview).

Run with a Python that has asreview-insights installed (it pins asreview 2.x):

    python3 -m venv /tmp/insights && /tmp/insights/bin/pip install "asreview-insights==1.6.1"
    /tmp/insights/bin/python tests/ranking/reference/make_insights_metrics.py [OUT_DIR]

Two kinds of case:

* ``sequences``: label sequences (hand-made edge cases and seeded random ones) given to Insights'
  ``_recall`` and ``_wss``, the functions its ``asreview metrics`` command applies to a project's
  labels;
* ``simulation``: ``asreview simulate`` of tests/ranking/data/nsaids100.csv with two priors (by row
  number, ``--prior-idx``), then Insights' public ``get_metrics`` on the project file, beside the
  labels in the order ASReview screened them (priors flagged): the whole path, including how
  Insights leaves the priors out and pads a simulation that stopped at the last include.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from asreview import open_state
from asreviewcontrib.insights.metrics import _recall, _wss, get_metrics

HERE = Path(__file__).resolve().parent
DATASET = HERE.parent / "data" / "nsaids100.csv"
RECALL_AT = [0.0, 0.005, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]
WSS_AT = [0.5, 0.9, 0.95, 1.0]
PRIOR_IDX = [14, 0]  # rows 14 (record_id 15, an include) and 0 (record_id 1, an exclude)


def sequences() -> list[list[int]]:
    cases = [
        [1, 0],
        [0, 1],
        [1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 1],
        [0, 1, 0, 0, 1, 0, 0, 0, 0, 1],
        [1] + [0] * 99,
        [0] * 99 + [1],
        [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0],
    ]
    rng = random.Random(2006)
    for n, p in [(37, 0.2), (100, 0.05), (311, 0.05), (849, 0.023), (1000, 0.01), (2000, 0.03)]:
        labels = [1 if rng.random() < p else 0 for _ in range(n)]
        if not any(labels):
            labels[rng.randrange(n)] = 1
        cases.append(labels)
    return cases


def simulation(out: Path) -> dict:
    project = out / "nsaids100.asreview"
    subprocess.run([sys.executable, "-m", "asreview", "simulate", str(DATASET), "--prior-idx",
                    *map(str, PRIOR_IDX), "--seed", "1", "-o", str(project)], check=True, capture_output=True,
                   cwd=out)  # asreview leaves a cache file in its working folder
    with open_state(project) as state:
        table = state.get_results_table(columns=["record_id", "label", "querier"], priors=True)
    rows = [(int(r), int(lab), q is None) for r, lab, q in
            zip(table["record_id"], table["label"], table["querier"].where(table["querier"].notna(), None))]
    metrics = get_metrics(project, recall=RECALL_AT, wss=WSS_AT)
    items = {item["id"]: item["value"] for item in metrics["data"]["items"]}
    return {
        "dataset": "tests/ranking/data/nsaids100.csv",
        "prior_idx": PRIOR_IDX,
        "command": f"asreview simulate nsaids100.csv --prior-idx {' '.join(map(str, PRIOR_IDX))} --seed 1",
        "screened": [{"row": r, "label": int(lab), "prior": bool(prior)} for r, lab, prior in rows],
        "recall": [[at, float(v)] for at, v in items["recall"]],
        "wss": [[at, float(v)] for at, v in items["wss"]],
    }


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    out.mkdir(parents=True, exist_ok=True)
    seqs = []
    for labels in sequences():
        seqs.append({
            "labels": labels,
            "recall": [[at, float(_recall(labels, at))] for at in RECALL_AT],
            "wss": [[at, float(_wss(labels, at))] for at in WSS_AT],
        })
    with tempfile.TemporaryDirectory() as tmp:
        sim = simulation(Path(tmp))
    ref = {
        "generator": "tests/ranking/reference/make_insights_metrics.py",
        "asreview_version": version("asreview"),
        "asreview_insights_version": version("asreview-insights"),
        "numpy_version": version("numpy"),
        "python_version": sys.version.split()[0],
        "sequences": seqs,
        "simulation": sim,
    }
    (out / "insights_metrics.json").write_text(json.dumps(ref, indent=1) + "\n")


if __name__ == "__main__":
    main()
