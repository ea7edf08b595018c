"""`livemeta screen simulate`: the JSON it prints, its determinism, and hostile input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from livemeta.cli import main
from livemeta.ranking import metrics
from livemeta.ranking.dataset import read_labelled_csv
from tests.conftest import REPO

FIXTURE = REPO / "tests/ranking/data/nsaids100.csv"
TRUTH = dict(zip(read_labelled_csv(FIXTURE).ids, read_labelled_csv(FIXTURE).labels.tolist()))


def simulate(*args: str):
    return CliRunner().invoke(main, ["screen", "simulate", *args])


@pytest.fixture(scope="module")
def result():
    out = simulate(str(FIXTURE), "--prior-record-id", "15", "1", "--seed", "1", "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_json_shape(result):
    assert {"order", "wss95", "recall10", "recall25", "seconds"} <= set(result)
    assert result["priors"] == [15, 1] and result["seed"] == 1
    assert (result["records"], result["includes"]) == (100, 16)
    order = result["order"]
    assert order[:2] == [15, 1]  # priors first
    assert sorted(order) == list(range(1, 101))  # every record once, ids as in the file (integers)
    assert isinstance(result["seconds"], float) and result["seconds"] > 0
    assert list(result)[-1] == "order"


def test_metrics_are_insights_on_the_order(result):
    labels = [TRUTH[i] for i in result["order"][2:]]
    assert result["wss95"] == metrics.wss(labels, 0.95)
    assert result["recall10"] == metrics.recall(labels, 0.10)
    assert result["recall25"] == metrics.recall(labels, 0.25)
    found = [i for i, rid in enumerate(result["order"]) if TRUTH[rid]]
    assert result["last_include_at"] == found[-1] + 1


def test_the_values(result):
    # 16 includes, 98 records after the priors; the 14th include after them (the last t with t/15 <= 0.95)
    # is the 30th record screened after them, where random order expects it at the 89th: WSS@95 = (88 -
    # 29) / 98. ASReview 2.2's
    # default model reaches 58/98 from the same priors (reference/insights_metrics.json).
    assert result["wss95"] == pytest.approx(59 / 98, abs=1e-12)
    assert result["recall10"] == pytest.approx(4 / 15)
    assert result["recall25"] == pytest.approx(11 / 15)


def test_deterministic_for_a_seed_and_the_option_forms(result):
    again = simulate(str(FIXTURE), "--prior-record-id", "15", "--prior-record-id", "1", "--seed", "1", "--json")
    assert json.loads(again.output)["order"] == result["order"]


def test_human_output():
    out = simulate(str(FIXTURE), "--prior-record-id", "15", "1", "--seed", "1")
    assert out.exit_code == 0
    assert "100 records, 16 includes; priors 15, 1; seed 1" in out.output
    assert "WSS@95 0.602   recall@10% 0.267   recall@25% 0.733" in out.output


def test_no_include_after_the_priors(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("record_id,title,abstract,label_included\n1,a b,c,1\n2,d e,f,0\n3,g h,i,0\n")
    out = json.loads(simulate(str(path), "--prior-record-id", "1", "--json").output)
    assert out["wss95"] is None and out["recall10"] is None
    assert out["order"][0] == 1 and sorted(out["order"]) == [1, 2, 3]


HOSTILE = {
    "missing_columns": ("record_id,title,label_included\n1,a,1\n", "no column abstract"),
    "labels_not_0_1": ("record_id,title,abstract,label_included\n1,a,b,1\n2,c,d,2\n", "line 3.label_included: '2'"),
    "empty": ("", "empty"),
    "duplicate_ids": ("record_id,title,abstract,label_included\n1,a,b,1\n1,c,d,0\n", "'1' is also on line 2"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_exit_non_zero_without_traceback(name, tmp_path):
    text, expected = HOSTILE[name]
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    done = subprocess.run([sys.executable, "-m", "livemeta", "screen", "simulate", str(path), "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"error: {path}" in done.stderr and expected in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_prior_and_missing_file(tmp_path):
    out = simulate(str(FIXTURE), "--prior-record-id", "15", "4000", "--json")
    assert out.exit_code == 1 and "prior record_id '4000' is not in the dataset" in out.output
    assert isinstance(out.exception, SystemExit)
    out = simulate(str(FIXTURE), "--prior-record-id", "15", "15")
    assert out.exit_code == 1 and "given twice" in out.output
    out = simulate(str(tmp_path / "nope.csv"))
    assert out.exit_code == 1 and "no such file" in out.output


def test_light_commands_do_not_import_scikit_learn():
    code = ("import sys\nfrom livemeta.cli import main\n"
            "for argv in (['--help'], ['screen', '--help'], ['screen', 'simulate', '--help']):\n"
            "    try:\n        main(argv, standalone_mode=False)\n    except SystemExit:\n        pass\n"
            "print('SKLEARN', 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "SKLEARN False" in out.stdout, out.stdout + out.stderr
