"""A resistance threshold carries its direction (threshold_comparator), printed as recorded.

Issue 20: the characteristics table printed every threshold as '≥', so Lung-MAP S1400F's
primary-resistance subgroup read "≥ 24 weeks" beside its definition "<24 wk". Format 2 study files
require the direction with a threshold; format 1 files (the history before the field existed)
are read as before and say that the direction is not recorded.
"""

from __future__ import annotations

import yaml

from livemeta import api
from livemeta.ingest import ingest_files
from livemeta.paths import resource
from livemeta.reports.characteristics import threshold_text


def _study(version: int, comparator: str | None) -> str:
    d = yaml.safe_load(resource("ingest", "template.yaml").read_text())
    d["livemeta_study"] = version
    d["resistance_definitions"].append(dict(
        id="primary_sub", scope="subgroup", population="progressed within 16 weeks", category="primary",
        criterion_kind="prior_io_duration", threshold=16, threshold_comparator=comparator, threshold_unit="weeks",
        definition="primary resistance = <16 weeks on prior immunotherapy", source="paper", verified=True))
    if comparator is None:
        del d["resistance_definitions"][-1]["threshold_comparator"]
        del d["resistance_definitions"][0]["threshold_comparator"]
    return yaml.safe_dump(d, sort_keys=False)


def test_the_direction_is_stored_and_printed_as_recorded(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(_study(2, "<"))
    db = tmp_path / "t.duckdb"
    ingest_files(db, [path], message="t", author="t")
    rows = api.query(db, "select definition_id, threshold, threshold_comparator from resistance_definitions order by 1").rows
    assert rows == [("eligibility", 4.0, ">="), ("primary_sub", 16.0, "<")]
    by_id = {r[0]: dict(threshold=r[1], threshold_comparator=r[2], threshold_unit=u)
             for r, u in zip(rows, ("months", "weeks"))}
    assert threshold_text(by_id["primary_sub"]) == " < 16 weeks"
    assert threshold_text(by_id["eligibility"]) == " ≥ 4 months"
    # a maximum is not a minimum prior exposure: the trial's own (>= 4 months) is the moderator
    assert api.query(db, "select min_prior_io_months from analysis_rct_os").rows == [(4.0,)]


def test_a_format_1_file_is_read_as_before_and_says_the_direction_is_not_recorded(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(_study(1, None))
    api.validate([path])  # no problem raised
    db = tmp_path / "t.duckdb"
    ingest_files(db, [path], message="t", author="t")
    rows = api.query(db, "select definition_id, threshold_comparator from resistance_definitions order by 1").rows
    assert rows == [("eligibility", None), ("primary_sub", None)]
    assert threshold_text({"threshold": 16.0, "threshold_comparator": None, "threshold_unit": "weeks"}) == \
        " threshold 16 weeks (direction not recorded)"


def test_format_2_refuses_a_threshold_without_its_direction(tmp_path):
    from livemeta.errors import ValidationFailed

    path = tmp_path / "t.yaml"
    path.write_text(_study(2, None))
    db = tmp_path / "t.duckdb"
    try:
        ingest_files(db, [path], message="t", author="t")
    except ValidationFailed as exc:
        reasons = sorted(p.path for p in exc.problems)
    else:
        raise AssertionError("a threshold without a direction was ingested")
    assert reasons == ["resistance_definitions[0].threshold_comparator", "resistance_definitions[1].threshold_comparator"]
    assert not db.exists()
