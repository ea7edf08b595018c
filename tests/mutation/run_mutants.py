"""Mutation check: each mutant below once passed every test (issues 10 and 20). Apply each to a copy of
the checkout, run the tests that should catch it, and report whether they do.

    .venv/bin/python tests/mutation/run_mutants.py          # all mutants
    .venv/bin/python tests/mutation/run_mutants.py rollback # those whose name contains 'rollback'

The checkout (tracked and untracked files, as they are now) is copied to a temporary folder; the
tests run there with PYTHONPATH and LIVEMETA_HOME pointing at the copy, so the checkout itself is
never modified. First the selected tests run on the unmutated copy (they must pass), then once per
mutant. A mutant is "killed" when its tests fail, "survived" when they pass. Exit status 0 only
when every mutant is killed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def replace_once(old: str, new: str) -> Callable[[str], str]:
    def patch(text: str) -> str:
        n = text.count(old)
        if n != 1:
            raise ValueError(f"expected the pattern once, found it {n} times: {old!r}")
        return text.replace(old, new)

    return patch


def edit_suite(change: Callable[[list[dict]], list[dict]]) -> Callable[[str], str]:
    """A change to an expectation suite's list of expectations (the file is JSON)."""

    def patch(text: str) -> str:
        suite = json.loads(text)
        before = json.dumps(suite["expectations"])
        suite["expectations"] = change(suite["expectations"])
        if json.dumps(suite["expectations"]) == before:
            raise ValueError("the suite change matched nothing")
        return json.dumps(suite, indent=2) + "\n"

    return patch


def _ratio_rule(e: dict, a: str, b: str) -> bool:
    kw = e["kwargs"]
    cond = json.dumps(kw.get("row_condition", {}))
    return (e["type"] == "expect_column_pair_values_a_to_be_greater_than_b" and kw.get("column_A") == a
            and kw.get("column_B") == b and '"HR"' in cond)


def _weaken_estimate_above_ci_low(expectations: list[dict]) -> list[dict]:
    for e in expectations:
        if _ratio_rule(e, "estimate", "ci_low"):
            e["kwargs"]["or_equal"] = True
    return expectations


def _weaken_ci_order(expectations: list[dict]) -> list[dict]:
    for e in expectations:
        kw = e["kwargs"]
        if kw.get("column_A") == "ci_high" and kw.get("column_B") == "ci_low" and not kw.get("row_condition"):
            kw["or_equal"] = True
    return expectations


def _drop_control_events_rule(expectations: list[dict]) -> list[dict]:
    return [e for e in expectations
            if not (e["kwargs"].get("column_A") == "control_n" and e["kwargs"].get("column_B") == "control_events")]


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    patch: Callable[[str], str]
    tests: tuple[str, ...]  # pytest arguments


MUTANTS = [
    Mutant(
        "ratio estimate > ci_low weakened to >=",
        "ingest/expectations/outcomes.json",
        edit_suite(_weaken_estimate_above_ci_low),
        ("tests/ingest/test_bad_corpus.py", "-k", "hr_estimate_equals_ci_low"),
    ),
    Mutant(
        "rule control_events <= control_n deleted",
        "ingest/expectations/outcomes.json",
        edit_suite(_drop_control_events_rule),
        ("tests/ingest/test_bad_corpus.py", "-k", "control_events_over_n"),
    ),
    Mutant(
        "AE percent tolerance doubled",
        "src/livemeta/ingest/frames.py",
        replace_once('half = np.array(ae_steps, dtype="float64") / 2 if', 'half = np.array(ae_steps, dtype="float64") if'),
        ("tests/ingest/test_bad_corpus.py", "-k", "percent_half_step_off"),
    ),
    Mutant(
        "metafor's ll0check switched off",
        "src/livemeta/pooling/_tau2.py",
        replace_once('if method in ("ML", "REML") and ctl.ll0check:', 'if method in ("ML", "REML") and False:'),
        ("tests/pooling/test_core_reference.py", "-k", "ll0check"),
    ),
    Mutant(
        "ROLLBACK removed from the write path",
        "src/livemeta/db/connection.py",
        replace_once("    except BaseException:\n        rollback(con)\n        raise\n",
                     "    except BaseException:\n        raise  # mutant: no ROLLBACK\n"),
        ("tests/ingest/test_ingest.py", "-k", "failing_write"),
    ),
    Mutant(
        "CI ci_high > ci_low weakened to >=",
        "ingest/expectations/outcomes.json",
        edit_suite(_weaken_ci_order),
        ("tests/ingest/test_bad_corpus.py", "-k", "zero_width"),
    ),
    Mutant(
        "identifiers keep invisible characters",
        "src/livemeta/ingest/identifiers.py",
        replace_once('return _drop_ignorable(unicodedata.normalize("NFKC", _drop_ignorable(str(text)))).strip()',
                     'return unicodedata.normalize("NFKC", str(text)).strip()'),
        ("tests/ingest/test_identity.py", "-k", "zero-width"),
    ),
    Mutant(
        "names compared without UTS #39 skeletons",
        "src/livemeta/ingest/identifiers.py",
        replace_once('key = _letters(unicodedata.normalize("NFKC", skeleton(form)).casefold())',
                     'key = _letters(unicodedata.normalize("NFKC", form).casefold())'),
        ("tests/ingest/test_identity.py", "-k", "Cyrillic"),
    ),
    Mutant(
        "as-of boundary valid_to > rev made >=",
        "queries/macros.sql",
        replace_once("valid_to > as_of_revision()", "valid_to >= as_of_revision()"),
        ("tests/db/test_revisions.py",),
    ),
    # issue 20: each displayed-number defect, reintroduced
    Mutant(
        "risk-of-bias join without the endpoint",
        "queries/views/analysis_risk_of_bias.sql",
        replace_once("ON rb.trial_id = o.trial_id AND rb.endpoint = o.endpoint", "ON rb.trial_id = o.trial_id"),
        ("tests/test_views.py", "-k", "risk_of_bias"),
    ),
    Mutant(
        "printed interval beside a derived variance",
        "src/livemeta/analysis/studies.py",
        replace_once('    if derivation in (None, "ci") and _printed_is_pooled(row, spec):',
                     '    if _num(row.get("ci_low")) is not None and level_read(row, spec) == 100 * spec.level:'),
        ("tests/analysis/test_studies.py", "-k", "never_shown"),
    ),
    Mutant(
        "every threshold printed as a minimum",
        "src/livemeta/reports/characteristics.py",
        replace_once('    return f" {COMPARATOR_SIGNS[comparator]} {amount}"', '    return f" ≥ {amount}"'),
        ("tests/ingest/test_threshold_direction.py",),
    ),
    Mutant(
        "a trial's cohorts pooled as independent",
        "src/livemeta/analysis/run.py",
        replace_once('    if spec.measure != "proportion" or df.empty or "arm_id" not in df.columns:\n        return df\n',
                     '    if True:  # mutant: every cohort a row of its own\n        return df\n'),
        ("tests/analysis/test_run.py", "-k", "cohorts"),
    ),
    Mutant(
        "reproduce.R reads every HR variance from its CI",
        "src/livemeta/export/reproduce.R",
        replace_once('  if (measure == "HR") return(hr_effect_sizes(s))',
                     '  if (measure == "HR") return(list(yi = log(s$estimate), vi = ((log(s$ci_high) - log(s$ci_low)) / '
                     '(2 * qnorm(1 - (1 - s$ci_level_read / 100) / 2)))^2))'),
        ("tests/consistency/test_consistency.py", "-k", "todays_reproduce"),
    ),
]


def copy_checkout(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def run_tests(copy: Path, args: tuple[str, ...]) -> tuple[int, float, str]:
    env = {**os.environ, "PYTHONPATH": str(copy / "src"), "LIVEMETA_HOME": str(copy), "GX_ANALYTICS_ENABLED": "false"}
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args],
                          cwd=copy, env=env, capture_output=True, text=True)
    last = (done.stdout.strip().splitlines() or [""])[-1]
    return done.returncode, time.monotonic() - start, last


def main(argv: list[str]) -> int:
    chosen = [m for m in MUTANTS if not argv or any(a in m.name for a in argv)]
    with tempfile.TemporaryDirectory(prefix="livemeta-mutants-") as tmp:
        copy = Path(tmp)
        copy_checkout(copy)
        where = subprocess.run([sys.executable, "-c", "import livemeta; print(livemeta.__file__)"],
                               env={**os.environ, "PYTHONPATH": str(copy / "src")}, capture_output=True, text=True)
        if not where.stdout.startswith(str(copy)):
            print(f"the copy's livemeta is not the one imported: {where.stdout.strip()}", file=sys.stderr)
            return 2
        failures = 0
        print(f"{'mutant':<42} {'result':<9} {'time':>6}  tests")
        for m in chosen:
            target = copy / m.path
            original = target.read_text(encoding="utf-8")
            code, secs, last = run_tests(copy, m.tests)
            if code != 0:
                print(f"{m.name:<42} {'BASELINE':<9} {secs:5.1f}s  the tests fail without the mutant: {last}")
                failures += 1
                continue
            target.write_text(m.patch(original), encoding="utf-8")
            try:
                code, secs, last = run_tests(copy, m.tests)
            finally:
                target.write_text(original, encoding="utf-8")
            result = {0: "SURVIVED", 1: "killed"}.get(code, f"error {code}")
            failures += result != "killed"
            print(f"{m.name:<42} {result:<9} {secs:5.1f}s  {' '.join(m.tests)}: {last}")
        print(f"{len(chosen) - failures} of {len(chosen)} mutants killed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
