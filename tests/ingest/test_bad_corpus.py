"""The bad-input corpus: every file of bad/ must be refused with its message and record path, and
leave every table of the database exactly as it was. Plus cases made at test time (a 50 MB file,
a missing path, a folder, batch and database conflicts)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml

from livemeta.errors import Problem, ValidationFailed
from livemeta.ingest import ingest_files, validate_files

from .conftest import BASE, HERE, TEMPLATE, table_state

BAD = HERE / "bad"
MANIFEST = yaml.safe_load((BAD / "expected.yaml").read_text(encoding="utf-8"))


def _refused(db, paths, *, supersede=False) -> list[Problem]:
    """Ingest must fail with ValidationFailed and change no table; returns the problems."""
    before = table_state(db)
    with pytest.raises(ValidationFailed) as info:
        ingest_files(db, paths, message="must fail", author="tester", supersede=supersede)
    assert table_state(db) == before
    problems = info.value.problems
    assert problems and all(isinstance(p, Problem) for p in problems)
    assert "nothing was written" in str(info.value)
    return problems


def _assert_has(problems, file, message, path):
    shown = "\n".join(str(p) for p in problems)
    hits = [p for p in problems if p.file == str(file) and message in p.reason and p.path == path]
    assert hits, f"expected {path!r}: ...{message}... in:\n{shown}"
    for p in problems:  # every problem renders as FILE: PATH: REASON, with no traceback text
        assert str(p).startswith(str(p.file)) and "Traceback" not in str(p)


def test_manifest_covers_the_folder():
    files = {p.name for p in BAD.iterdir() if p.name != "expected.yaml"}
    assert len(MANIFEST) >= 30
    assert files == set(MANIFEST), (files ^ set(MANIFEST))
    for name, case in MANIFEST.items():
        assert case.get("message") and isinstance(case.get("path"), str), name


def test_base_file_is_valid():
    """Every bad file is base.yaml with one error: the base itself must pass."""
    assert validate_files([BASE]).ok


@pytest.mark.parametrize("name", list(MANIFEST))
def test_bad_file_is_refused(name, seeded_db):
    case = MANIFEST[name]
    path = BAD / name
    problems = _refused(seeded_db, [path])
    _assert_has(problems, path, case["message"], case["path"])


# one file per stage: reading, schema, rules within the file, expectation suites
@pytest.mark.parametrize("name", ["alias_bomb.yaml", "nan.json", "unknown_key.yaml", "unknown_arm.yaml", "asymmetric_ci.yaml"])
def test_validate_reports_what_ingest_reports(name):
    case, path = MANIFEST[name], BAD / name
    report = validate_files([path], raise_on_problems=False)
    assert not report.ok
    _assert_has(report.problems, path, case["message"], case["path"])
    with pytest.raises(ValidationFailed):
        validate_files([path])


def test_bad_file_spoils_a_good_batch(seeded_db, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(TEMPLATE.read_text().replace("example-01", "good-02").replace("NCT00000000", "NCT00000002"))
    problems = _refused(seeded_db, [good, BAD / "events_over_n.yaml"])
    assert {p.file for p in problems} == {str(BAD / "events_over_n.yaml")}


# --- cases made at test time ------------------------------------------------------------------


def test_huge_file_is_refused_before_reading(seeded_db, tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.write(b"livemeta_study: 1\nnote: '")
        fh.seek(50 * 1024 * 1024)
        fh.write(b"'\n")
    start = time.perf_counter()
    problems = _refused(seeded_db, [big])
    _assert_has(problems, big, "the limit is 5 MB", "")
    assert time.perf_counter() - start < 5


def test_missing_path(seeded_db, tmp_path):
    missing = tmp_path / "nope.yaml"
    _assert_has(_refused(seeded_db, [missing]), missing, "no such file", "")


def test_folder(seeded_db, tmp_path):
    _assert_has(_refused(seeded_db, [tmp_path]), tmp_path, "is a folder", "")


def test_same_trial_twice_in_one_batch(seeded_db, tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    text = TEMPLATE.read_text().replace("example-01", "twice-01").replace("NCT00000000", "NCT00000003")
    a.write_text(text)
    b.write_text(text.replace("NCT00000003", "NCT00000004"))
    problems = _refused(seeded_db, [a, b])
    _assert_has(problems, a, "trial twice-01 is in more than one file of this batch", "trial.id")
    _assert_has(problems, b, "trial twice-01 is in more than one file of this batch", "trial.id")


def test_same_nct_twice_in_one_batch(seeded_db, tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(TEMPLATE.read_text().replace("example-01", "nct-a").replace("NCT00000000", "NCT00000005"))
    b.write_text(TEMPLATE.read_text().replace("example-01", "nct-b").replace("NCT00000000", "NCT00000005"))
    _assert_has(_refused(seeded_db, [a, b]), b, "trial 'nct-a' in this batch already has the NCT id 'NCT00000005'", "trial.nct_id")


def test_trial_already_in_db_without_supersede(seeded_db):
    _assert_has(_refused(seeded_db, [TEMPLATE]), TEMPLATE, "is already in the database (revision 1); pass --supersede", "trial.id")


def test_supersede_of_unknown_trial(seeded_db, tmp_path):
    new = tmp_path / "new.yaml"
    new.write_text(TEMPLATE.read_text().replace("example-01", "new-01").replace("NCT00000000", "NCT00000006"))
    _assert_has(_refused(seeded_db, [new], supersede=True), new, "--supersede was given but trial 'new-01' is not in the database", "trial.id")


def test_nct_of_another_trial_in_db(seeded_db, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(TEMPLATE.read_text().replace("example-01", "other-01"))  # keeps NCT00000000
    problems = _refused(seeded_db, [other])
    _assert_has(problems, other, "trial 'example-01' in the database already has the NCT id 'NCT00000000'", "trial.nct_id")
    _assert_has(problems, other, "trial 'example-01' in the database already has the PMID '00000000'; a companion "
                "publication of a trial is one more source of that trial", "sources[0].pmid")


def test_supersede_without_change(seeded_db, tmp_path):
    same = tmp_path / "same.yaml"  # same content, different comments and layout
    same.write_text(yaml.safe_dump(yaml.safe_load(TEMPLATE.read_text()), sort_keys=True))
    _assert_has(_refused(seeded_db, [same], supersede=True), same, "no change", "trial.id")


# --- hostile input: what a message may quote, and what one file may do to a batch -------------


def test_messages_quote_only_short_escaped_excerpts(seeded_db):
    for name in ("huge_integer.yaml", "huge_integer.json", "long_unknown_key.yaml", "lone_surrogate.json"):
        with pytest.raises(ValidationFailed) as info:
            validate_files([BAD / name])
        text = str(info.value)
        assert "9" * 30 not in text and "secret_" * 6 not in text, text
        assert "\ud800" not in text and len(text) < 800, text
        text.encode("utf-8")  # printable as it is: the surrogate is escaped


def test_a_symlink_to_a_system_file_does_not_echo_it(tmp_path):
    secret = tmp_path / "credentials"
    secret.write_text("api_key: sk-live-0123456789\nhost: db.internal\n")
    targets = [secret] + [p for p in (Path("/etc/passwd"), Path("/etc/os-release")) if p.is_file()]
    for i, target in enumerate(targets):
        link = tmp_path / f"study-{i}.yaml"
        link.symlink_to(target)
        with pytest.raises(ValidationFailed) as info:
            validate_files([link])
        text = str(info.value)
        first_line = target.read_text(errors="replace").splitlines()[0]
        assert str(link) in text
        text = text.replace(str(link), "")
        for word in re.findall(r"[A-Za-z0-9_-]{4,}", first_line):
            assert word not in text, (word, text)


def test_one_failing_file_is_named_and_the_rest_of_the_batch_reported(tmp_path, monkeypatch):
    """A file that livemeta fails to check (a bug, a value no rule foresaw) is reported as a problem
    of that file, beside the other files' problems, instead of ending the report with a traceback."""
    from livemeta.ingest import frames, structure

    good = tmp_path / "good.yaml"
    good.write_text(TEMPLATE.read_text().replace("example-01", "good-02").replace("NCT00000000", "NCT00000002"))
    odd = tmp_path / "odd.yaml"
    odd.write_text(TEMPLATE.read_text().replace("example-01", "odd-03").replace("NCT00000000", "NCT00000003"))
    bad = BAD / "events_over_n.yaml"

    real_rules = structure.rule_problems

    def rules(study):
        if study.trial_id == "odd-03":
            raise KeyError("surprise")
        return real_rules(study)

    monkeypatch.setattr(structure, "rule_problems", rules)
    report = validate_files([good, odd, bad], raise_on_problems=False)
    assert {p.file for p in report.problems} == {str(odd), str(bad)}
    (odd_problem,) = [p for p in report.problems if p.file == str(odd)]
    assert odd_problem.path == "" and "could not be checked: KeyError: 'surprise'" in odd_problem.reason
    monkeypatch.setattr(structure, "rule_problems", real_rules)

    # the same for a failure while building the batch's tables, which reads every file at once
    real_build = frames.build_batch

    def build(studies):
        if any(s.trial_id == "odd-03" for s in studies):
            raise ValueError("time data '2023-10-01\n' does not match format '%Y-%m-%d'")  # a real newline
        return real_build(studies)

    monkeypatch.setattr(frames, "build_batch", build)
    report = validate_files([good, odd, bad], raise_on_problems=False)
    assert {p.file for p in report.problems} == {str(odd), str(bad)}
    (odd_problem,) = [p for p in report.problems if p.file == str(odd)]
    assert "could not be checked: ValueError: time data '2023-10-01\\n' does not match" in odd_problem.reason


def test_a_single_failing_file_is_named_too(tmp_path, monkeypatch):
    from livemeta.ingest import frames

    def build(studies):
        raise ValueError("no rule foresaw this")

    monkeypatch.setattr(frames, "build_batch", build)
    with pytest.raises(ValidationFailed) as info:
        validate_files([TEMPLATE])
    (problem,) = info.value.problems
    assert problem.file == str(TEMPLATE) and "could not be checked: ValueError: no rule foresaw this" in problem.reason


# --- the CI ordering rule, held both ways (issue 21) -----------------------------------------------


@pytest.mark.parametrize("name", ["ci_bounds_swapped.yaml", "ci_bounds_swapped_proportion.yaml", "ci_zero_width.yaml"])
@pytest.mark.parametrize("engine", ["fast", "gx"])
def test_a_ci_out_of_order_is_one_problem(name, engine):
    """Swapped bounds, or a CI of zero width, are reported once, as the ordering rule (frames.py
    keeps the containment and symmetry checks quiet then), by both engines."""
    case, path = MANIFEST[name], BAD / name
    report = validate_files([path], raise_on_problems=False, engine=engine)
    assert [(p.path, case["message"] in p.reason) for p in report.problems] == [(case["path"], True)], report.summary()


@pytest.mark.parametrize("measure, outcome, estimate, low, high", [
    ("HR", 0, 0.85, 1.03, 0.70), ("HR", 0, 1.20, 1.03, 0.70), ("OR", 0, 0.85, 1.03, 0.70), ("RR", 0, None, 1.03, 0.70),
    ("proportion", 1, 0.16, 0.22, 0.11), ("proportion", 1, 0.30, 0.22, 0.11), ("HR", 0, 0.85, 0.85, 0.85),
])
def test_swapped_bounds_give_the_one_message_frames_promises(tmp_path, measure, outcome, estimate, low, high):
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data["outcomes"][outcome].update(measure=measure, estimate=estimate, ci_low=low, ci_high=high, ci_level=95)
    path = tmp_path / "swapped.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    report = validate_files([path], raise_on_problems=False)
    assert [(p.path, p.reason.split(" (line")[0]) for p in report.problems] == [
        (f"outcomes[{outcome}].ci_high", f"ci_high {high:g} is not above ci_low {low:g}")
    ], report.summary()
