"""Drafts from real ClinicalTrials.gov records: every number checked against the record itself.

The records are in fixtures/ (see its README). Where a test needs a case the real records lack (a
reversed hazard ratio, a response-rate count), it edits a deep copy of a real record and says so.
"""

from __future__ import annotations

import copy

import pytest

from livemeta.errors import ValidationFailed
from livemeta.importers.ctgov import draft_from_record, ratio_direction
from livemeta.importers.ctgov_record import RecordError, parse_record

from .conftest import RECORDS, ROLES, fill, load_record, resolve

V1 = "FullStudiesResponse.FullStudies[0].Study"


def _measures(record: dict) -> list[dict]:
    if "FullStudiesResponse" in record:
        return resolve(record, f"{V1}.ResultsSection.OutcomeMeasuresModule.OutcomeMeasureList.OutcomeMeasure")
    return record["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"]


def _num(text) -> float:
    return float(str(text).lstrip("= "))


# ---------------------------------------------------------------------------------------------
# the drafts validate and ingest once the documented fields are filled


def test_unfilled_drafts_fail_exactly_at_the_fields_they_say_to_fill(drafts, tmp_path):
    from livemeta.ingest import validate_files

    for n, d in drafts.items():
        path = tmp_path / f"{n}.yaml"
        path.write_text(d.text, encoding="utf-8")
        with pytest.raises(ValidationFailed) as exc:
            validate_files([path])
        assert {p.path for p in exc.value.problems} == {f.path for f in d.to_fill}, n
        for f in d.to_fill:  # the header lists each one
            assert f"#   - {f.path}:" in d.text, f.path


def test_filled_drafts_validate_and_ingest_as_one_batch(drafts, filled_files, tmp_path):
    from livemeta.db import connect
    from livemeta.ingest import ingest_files, validate_files

    for n, d in drafts.items():
        _, filled = fill(d.text, ROLES[n])
        assert filled == [f.path for f in d.to_fill], n
    files = [filled_files[n] for n in RECORDS]
    report = validate_files(files)
    assert sorted(report.trials) == ["arrow", "c-axspand", "nct02210780", "nih-hvx6"]
    db = tmp_path / "drafts.duckdb"
    ingested = ingest_files(db, files, message="four ClinicalTrials.gov drafts", author="tester")
    assert ingested.revision == 1
    assert ingested.rows == {
        "trials": 4, "sources": 4, "arms": 2 + 2 + 1 + 9, "resistance_definitions": 0,
        "outcomes": 4, "adverse_events": 22 + 94 + 3 + 351, "risk_of_bias": 0,
    }
    with connect(db, read_only=True) as con:
        rows = con.execute(
            "select trial_id, nct_id, design, status, inclusion, verified from trials order by trial_id").fetchall()
    assert rows == [
        ("arrow", "NCT02028676", "rct", "completed", "candidate", False),
        ("c-axspand", "NCT02552212", "rct", "completed", "candidate", False),
        ("nct02210780", "NCT02210780", "rct", "completed", "candidate", False),
        ("nih-hvx6", "NCT05594173", "single_arm", "completed", "candidate", False),
    ]


def test_draft_text_reads_back_as_the_draft(drafts, tmp_path):
    """The YAML written (comments, numbers as printed, quoting) is the study the importer built."""
    from livemeta.ingest import load_study

    for n, d in drafts.items():
        path = tmp_path / f"{n}.yaml"
        path.write_text(d.text, encoding="utf-8")
        assert load_study(path) == d.data, n


def test_everything_is_unverified_and_cites_the_record(drafts):
    for n, d in drafts.items():
        data = d.data
        (source,) = data["sources"]
        assert source["kind"] == "registry_record" and source["nct_id"] == n
        assert source["id"] == f"ctgov-{d.last_update}" and d.last_update in source["citation"]
        assert data["trial"]["verified"] is False and data["trial"]["source"] == source["id"]
        for key in ("arms", "outcomes", "adverse_events"):
            for row in data[key]:
                assert row["verified"] is False and row["source"] == source["id"], (n, key, row["id"])
                if key != "arms":
                    resolve(load_record(n), row["location"])  # the location is a path of the record
                    assert row["raw_text"]


# ---------------------------------------------------------------------------------------------
# every number equals the record's


def test_trial_and_arm_counts_equal_the_record(drafts):
    for n, d in drafts.items():
        record = load_record(n)
        assert int(resolve(record, d.locations["trial.randomised_n"])) == d.data["trial"]["randomised_n"]
        for i, arm in enumerate(d.data["arms"]):
            for key in ("n_randomised", "n_safety"):
                if arm[key] is not None:
                    assert int(resolve(record, d.locations[f"arms[{i}].{key}"])) == arm[key], (n, i, key)
    # anchors read from the records by eye
    assert [(a["id"], a["n_randomised"], a["n_safety"]) for a in drafts["NCT02552212"].data["arms"]] == [
        ("placebo", 158, 158), ("czp_200_mg_q2w", 159, 159)]
    assert drafts["NCT02210780"].data["trial"]["randomised_n"] == 194
    arrow = {a["id"]: (a["n_randomised"], a["n_safety"]) for a in drafts["NCT02028676"].data["arms"]}
    assert arrow["clinically_driven_monitoring_cdm"] == (606, 606)
    assert arrow["laboratory_plus_clinical_monitoring_lcm"] == (600, 600)
    # the other randomisations of the factorial design enter later: counts in the note, not n
    assert arrow["arm_a_abacavir_abc_lamivudine_3tc_nnrti"] == (None, None)
    assert sum(n for n, _ in arrow.values() if n) == 1206


def _ae_fields(record: dict, location: str, kind: str, term: str):
    node = resolve(record, location)
    if kind == "aggregate":
        serious = term == "serious adverse events"
        if "FullStudiesResponse" in record:
            pre = "EventGroupSerious" if serious else "EventGroupOther"
        else:
            pre = "serious" if serious else "other"
        return node[f"{pre}NumAffected"], node[f"{pre}NumAtRisk"]
    if "FullStudiesResponse" in record:
        pre = "SeriousEventStats" if ".SeriousEventList." in location else "OtherEventStats"
        return node[f"{pre}NumAffected"], node[f"{pre}NumAtRisk"]
    return node["numAffected"], node["numAtRisk"]


def test_every_adverse_event_count_equals_the_record(drafts):
    for n, d in drafts.items():
        record = load_record(n)
        for ae in d.data["adverse_events"]:
            affected, at_risk = _ae_fields(record, ae["location"], ae["kind"], ae["term"])
            assert (ae["subjects_affected"], ae["subjects_at_risk"]) == (int(affected), int(at_risk)), (n, ae["id"])
            if ae["kind"] == "term":  # the term is the record's, with its seriousness
                parent = ae["location"].rsplit(".", 2)[0] if "FullStudiesResponse" in record else ae["location"].rsplit(".", 1)[0]
                event = resolve(record, parent)
                name = event.get("term") or event.get("SeriousEventTerm") or event.get("OtherEventTerm")
                serious = ".seriousEvents[" in ae["location"] or ".SeriousEventList." in ae["location"]
                assert ae["term"] == ("serious: " if serious else "non-serious: ") + name


def _ae_stats(record: dict, seriousness: str) -> list[dict]:
    if "FullStudiesResponse" in record:
        cap = "Serious" if seriousness == "serious" else "Other"
        events = resolve(record, f"{V1}.ResultsSection.AdverseEventsModule.{cap}EventList.{cap}Event")
        return [s | {"groupId": s[f"{cap}EventStatsGroupId"]} for e in events for s in e[f"{cap}EventStatsList"][f"{cap}EventStats"]]
    events = record["resultsSection"]["adverseEventsModule"].get(f"{seriousness}Events", [])
    return [s for e in events for s in e["stats"]]


@pytest.mark.parametrize("nct, groups", [
    ("NCT02210780", {"EG000", "EG001"}),
    ("NCT02552212", {"EG000", "EG001"}),  # Placebo (SS), CZP 200 mg Q2W (SS); not the open-label groups
    ("NCT05594173", {"EG000"}),
    ("NCT02028676", {f"EG00{i}" for i in range(9)}),
])
def test_every_term_of_the_matched_groups_is_drafted(drafts, nct, groups):
    record = load_record(nct)
    stats = [s for kind in ("serious", "other") for s in _ae_stats(record, kind) if s["groupId"] in groups]
    rows = drafts[nct].data["adverse_events"]
    assert len([r for r in rows if r["kind"] == "term"]) == len(stats)
    assert len([r for r in rows if r["kind"] == "aggregate"]) == 2 * len(groups)


def test_adverse_event_anchors(drafts):
    rows = {r["id"]: r for r in drafts["NCT02210780"].data["adverse_events"]}
    # read from the record: seriousEvents[0] "Serum sickness-like reaction", EG001 1 of 97
    r = rows["sae_serum_sickness_like_reaction_dupilumab_300_mg_qw"]
    assert (r["term"], r["subjects_affected"], r["subjects_at_risk"]) == ("serious: Serum sickness-like reaction", 1, 97)
    assert r["location"] == "resultsSection.adverseEventsModule.seriousEvents[0].stats[1]"
    assert (rows["oae_all_placebo_qw"]["subjects_affected"], rows["oae_all_placebo_qw"]["subjects_at_risk"]) == (29, 97)
    assert rows["sae_all_dupilumab_300_mg_qw"]["subjects_affected"] == 3
    arrow = {r["id"]: r for r in drafts["NCT02028676"].data["adverse_events"]}
    assert (arrow["sae_all_clinically_driven_monitoring_cdm"]["subjects_affected"],
            arrow["sae_all_clinically_driven_monitoring_cdm"]["subjects_at_risk"]) == (147, 606)


def test_every_outcome_number_equals_the_record(drafts):
    for n, d in drafts.items():
        record = load_record(n)
        v1 = "FullStudiesResponse" in record
        for o in d.data["outcomes"]:
            a = resolve(record, o["location"])
            names = {"paramValue": "ParamValue", "ciLowerLimit": "CILowerLimit", "ciUpperLimit": "CIUpperLimit",
                     "ciPctValue": "CIPctValue", "pValue": "PValue"}
            value = (lambda k: a["OutcomeAnalysis" + names[k]]) if v1 else a.get  # noqa: B023
            assert o["estimate"] == float(value("paramValue"))
            assert (o["ci_low"], o["ci_high"], o["ci_level"]) == (
                float(value("ciLowerLimit")), float(value("ciUpperLimit")), float(value("ciPctValue")))
            assert o["p_value"] == _num(value("pValue"))


def test_arrow_hazard_ratios(drafts):
    """ARROW (legacy v1): the four OS hazard ratios, values read from the record by eye."""
    d = drafts["NCT02028676"]
    got = {(o["experimental_arm"], o["control_arm"]): (o["estimate"], o["ci_low"], o["ci_high"], o["ci_level"], o["p_value"],
                                                      o["experimental_events"], o["experimental_n"], o["control_events"],
                                                      o["control_n"], o["endpoint"], o["measure"], o["population"])
           for o in d.data["outcomes"]}
    assert got == {
        # OutcomeMeasure[9] 'LCM vs CDM, Induction ART: All-cause Mortality', "Hazard ratio is CDM vs LCM"
        ("clinically_driven_monitoring_cdm", "laboratory_plus_clinical_monitoring_lcm"):
            (0.84, 0.49, 1.44, 95, 0.45, 25, 606, 29, 600, "os", "HR", "subgroup"),
        # same measure, "Hazard ratio is Arm B vs A" and "Arm C vs A"
        ("arm_b_zdv_abc_3tc_nnrti_abc_3tc_nnrti_ma", "arm_a_abacavir_abc_lamivudine_3tc_nnrti"):
            (0.66, 0.33, 1.31, 95, 0.23, 14, 404, 20, 397, "os", "HR", "subgroup"),
        ("arm_c_zdv_abc_3tc_nnrti_zdv_abc_3tc_main", "arm_a_abacavir_abc_lamivudine_3tc_nnrti"):
            (0.97, 0.52, 1.81, 95, 0.93, 20, 405, 20, 397, "os", "HR", "subgroup"),
        # OutcomeMeasure[50] 'Cotrimoxazole: All-cause Mortality', "Hazard ratio is stop vs continue"
        ("stopped_cotrimoxazole_prophylaxis", "continued_cotrimoxazole_prophylaxis"):
            (0.69, 0.12, 4.15, 95, 0.68, 2, 382, 3, 376, "os", "HR", "subgroup"),
    }
    for o in d.data["outcomes"]:  # several comparisons: the extractor names the main one
        assert o["subgroup"].startswith("comparison: ")
        assert "Log Rank" in o["note"] or "Regression, Cox" in o["note"]
        assert "2-Sided" in o["note"]
    assert "outcomes[0].population" not in {f.path for f in d.to_fill}  # valid as drafted
    assert "# CHECK: the record compares several pairs of arms" in d.text


def test_outcome_events_and_n_equal_the_record(drafts):
    """events / n of each mapped row are the measure's count and denominator of its two groups."""
    record = load_record("NCT02028676")
    for o in drafts["NCT02028676"].data["outcomes"]:
        analysis = resolve(record, o["location"])
        measure = resolve(record, o["location"].rsplit(".", 2)[0])
        ids = analysis["OutcomeAnalysisGroupIdList"]["OutcomeAnalysisGroupId"]
        counts = {m["OutcomeMeasurementGroupId"]: int(m["OutcomeMeasurementValue"]) for m in
                  measure["OutcomeClassList"]["OutcomeClass"][0]["OutcomeCategoryList"]["OutcomeCategory"][0]
                  ["OutcomeMeasurementList"]["OutcomeMeasurement"]}
        denoms = {c["OutcomeDenomCountGroupId"]: int(c["OutcomeDenomCountValue"]) for c in
                  measure["OutcomeDenomList"]["OutcomeDenom"][0]["OutcomeDenomCountList"]["OutcomeDenomCount"]}
        assert {(o["experimental_events"], o["experimental_n"]), (o["control_events"], o["control_n"])} == {
            (counts[g], denoms[g]) for g in ids}


# ---------------------------------------------------------------------------------------------
# what is not mapped is listed, never guessed


def test_measures_that_are_not_endpoints_are_listed_as_comments(drafts):
    for n, d in drafts.items():
        record = load_record(n)
        comments = [line for line in d.text.splitlines() if line.startswith("#")]
        mapped = {o["location"] for o in d.data["outcomes"]}
        for i, m in enumerate(_measures(record)):
            title = m.get("title") or m.get("OutcomeMeasureTitle")
            listed = any(f"[{i}] '{title[:60]}" in c for c in comments)
            assert listed or any(f"[{i}]." in loc for loc in mapped), (n, i, title)
    # NCT02552212's odds ratios are analyses of non-endpoint measures: listed with their numbers
    assert 'paramType "Odds Ratio (OR)", paramValue "15.231"' in drafts["NCT02552212"].text
    assert drafts["NCT02552212"].data["outcomes"] == []
    # ARROW's primary 'progression to WHO stage 4 or death' is not PFS: listed, not mapped
    assert "'LCM vs CDM: Disease Progression to a New WHO Stage 4 Event or Death' (primary" in drafts["NCT02028676"].text


def test_roles_come_from_the_registered_arm_types(drafts):
    # both arms of NCT02210780 are registered EXPERIMENTAL (placebo too): roles left to the extractor
    d = drafts["NCT02210780"]
    assert [a["role"] for a in d.data["arms"]] == [None, None]
    assert [f.path for f in d.to_fill if f.path.endswith("role")] == ["arms[0].role", "arms[1].role"]
    assert any("do not give an experimental and a control arm" in u for u in d.unmapped)
    # NCT02552212: 'CZP 200 mg Q2W' matches the registered 'Certolizumab Pegol 200 mg Q2W' by its description
    d = drafts["NCT02552212"]
    assert [(a["id"], a["role"]) for a in d.data["arms"]] == [("placebo", "control"), ("czp_200_mg_q2w", "experimental")]
    assert "matched by same description" in d.data["arms"][1]["note"]
    assert any("FG002 'SFE OL CZP 200 mg Q2W'" in u and "not an arm" in u for u in d.unmapped)
    assert any("EG002 'Placebo->OL CZP (SS)' matches no arm" in u for u in d.unmapped)
    assert drafts["NCT05594173"].data["trial"]["design"] == "single_arm"
    assert drafts["NCT05594173"].data["arms"][0]["role"] == "single"


def _edited(nct: str) -> dict:
    """A deep copy of a real record, for a test to edit (each test says what it changes)."""
    return copy.deepcopy(load_record(nct))


def _arrow_analysis(record: dict, m: int, a: int) -> dict:
    return resolve(record, f"{V1}.ResultsSection.OutcomeMeasuresModule.OutcomeMeasureList.OutcomeMeasure[{m}]"
                           f".OutcomeAnalysisList.OutcomeAnalysis[{a}]")


def test_a_ratio_given_as_control_vs_experimental_is_not_mapped():
    record = _edited("NCT02028676")  # EDITED copy: the estimate comment reversed
    _arrow_analysis(record, 9, 0)["OutcomeAnalysisEstimateComment"] = "Hazard ratio is LCM vs CDM"
    d = draft_from_record(record)
    assert "clinically_driven_monitoring_cdm" not in {o["experimental_arm"] for o in d.data["outcomes"]}
    assert any("control vs experimental" in u and "invert it by hand" in u for u in d.unmapped)
    assert len(d.data["outcomes"]) == 3


@pytest.mark.parametrize("comment, statistical, reason", [
    (None, None, "does not say which group is the numerator"),
    ("Hazard ratio is CDM vs LCM", "HR of LCM versus CDM", "state the direction both ways"),
])
def test_a_ratio_without_a_clear_direction_is_not_mapped(comment, statistical, reason):
    record = _edited("NCT02028676")  # EDITED copy: the comments of one analysis replaced
    a = _arrow_analysis(record, 9, 0)
    a.pop("OutcomeAnalysisEstimateComment")
    a.pop("OutcomeAnalysisStatisticalComment", None)
    if comment:
        a["OutcomeAnalysisEstimateComment"] = comment
    if statistical:
        a["OutcomeAnalysisStatisticalComment"] = statistical
    d = draft_from_record(record)
    assert len(d.data["outcomes"]) == 3
    assert any(reason in u for u in d.unmapped)


@pytest.mark.parametrize("comment", [
    "A hazard ratio <1 favors the stop arm",
    "HR > 1 favours continued prophylaxis",
])
def test_a_direction_stated_as_what_favours(comment):
    record = _edited("NCT02028676")  # EDITED copy: the direction stated as what a ratio below/above 1 favours
    _arrow_analysis(record, 50, 0)["OutcomeAnalysisEstimateComment"] = comment
    d = draft_from_record(record)
    (o,) = [o for o in d.data["outcomes"] if o["experimental_arm"] == "stopped_cotrimoxazole_prophylaxis"]
    assert (o["estimate"], o["control_arm"]) == (0.69, "continued_cotrimoxazole_prophylaxis")
    assert comment in o["note"]


def test_a_log_hazard_ratio_is_not_a_hazard_ratio():
    record = _edited("NCT02028676")  # EDITED copy: the registry's other parameter, "Hazard Ratio, log"
    _arrow_analysis(record, 50, 0)["OutcomeAnalysisParamType"] = "Hazard Ratio, log"
    d = draft_from_record(record)
    assert "stopped_cotrimoxazole_prophylaxis" not in {o["experimental_arm"] for o in d.data["outcomes"]}
    assert any("'Cotrimoxazole: All-cause Mortality'" in u and "without a hazard-ratio analysis" in u for u in d.unmapped)


def test_two_candidates_for_one_comparison_are_left_to_the_extractor():
    record = _edited("NCT02028676")  # EDITED copy: a second (e.g. unadjusted) HR for stop vs continue
    analyses = resolve(record, f"{V1}.ResultsSection.OutcomeMeasuresModule.OutcomeMeasureList.OutcomeMeasure[50]"
                               ".OutcomeAnalysisList.OutcomeAnalysis")
    analyses.append(copy.deepcopy(analyses[0]) | {"OutcomeAnalysisParamValue": "0.70"})
    d = draft_from_record(record)
    assert "stopped_cotrimoxazole_prophylaxis" not in {o["experimental_arm"] for o in d.data["outcomes"]}
    assert any("2 candidates, choose one" in u for u in d.unmapped)


def test_one_comparison_is_the_overall_population():
    record = _edited("NCT02028676")  # EDITED copy: only the cotrimoxazole mortality HR left
    m9 = resolve(record, f"{V1}.ResultsSection.OutcomeMeasuresModule.OutcomeMeasureList.OutcomeMeasure[9]")
    m9["OutcomeMeasureTitle"] = "LCM vs CDM, Induction ART: deaths"
    (o,) = draft_from_record(record).data["outcomes"]
    assert (o["population"], o["estimate"], "subgroup" in o) == ("overall", 0.69, False)


def test_response_counts_map_to_responders_of_n():
    """The ORR rule on real counts: NCT02552212's measure 27 is a count of participants with one
    category; this EDITED copy retitles it as a response rate."""
    record = _edited("NCT02552212")
    m = record["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][27]
    m["title"] = "Objective Response Rate (ORR)"
    (o,) = draft_from_record(record).data["outcomes"]
    # OG001 'CZP 200 mg Q2W (FAS)' 4 of 159, OG000 'Placebo (FAS)' 8 of 158 (matched by the trailing label)
    assert (o["endpoint"], o["measure"], o["population"], o["experimental_arm"], o["control_arm"]) == (
        "orr", "proportion", "overall", "czp_200_mg_q2w", "placebo")
    assert (o["experimental_events"], o["experimental_n"], o["control_events"], o["control_n"]) == (4, 159, 8, 158)
    values = {x["groupId"]: int(x["value"]) for x in m["classes"][0]["categories"][0]["measurements"]}
    assert (values["OG001"], values["OG000"]) == (4, 8)
    assert "estimate" not in o  # a proportion is never computed
    assert 'paramValue "0.484"' in o["note"]  # the record's odds ratio is quoted, not mapped


def test_a_percentage_is_never_turned_into_a_count():
    record = _edited("NCT02210780")  # EDITED copy: a percentage measure retitled as a response rate
    m = record["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][3]
    m["title"] = "Objective response rate"
    record["protocolSection"]["armsInterventionsModule"]["armGroups"][0]["type"] = "PLACEBO_COMPARATOR"
    d = draft_from_record(record)
    assert d.data["outcomes"] == []
    assert any("not a count of participants" in u for u in d.unmapped)


def test_medians_in_months_go_with_the_hazard_ratio():
    record = _edited("NCT02028676")  # EDITED copy: measure 50 made a median in months
    m = resolve(record, f"{V1}.ResultsSection.OutcomeMeasuresModule.OutcomeMeasureList.OutcomeMeasure[50]")
    m["OutcomeMeasureParamType"], m["OutcomeMeasureUnitOfMeasure"] = "Median", "months"
    cells = m["OutcomeClassList"]["OutcomeClass"][0]["OutcomeCategoryList"]["OutcomeCategory"][0]["OutcomeMeasurementList"]["OutcomeMeasurement"]
    cells[0]["OutcomeMeasurementValue"], cells[1]["OutcomeMeasurementValue"] = "10.5", "NA"
    (o,) = [o for o in draft_from_record(record).data["outcomes"] if o["experimental_arm"] == "stopped_cotrimoxazole_prophylaxis"]
    assert (o.get("experimental_median"), o["control_median"], o["median_unit"]) == (None, 10.5, "months")
    assert "experimental_events" not in o


def test_direction_from_real_comments():
    arrow = parse_record(load_record("NCT02028676"))
    a = arrow.measures[9].analyses[0]
    assert ratio_direction(a, ["Clinically Driven Monitoring (CDM)", "Laboratory Plus Clinical Monitoring (LCM)"])[0] == 0
    assert ratio_direction(a, ["Laboratory Plus Clinical Monitoring (LCM)", "Clinically Driven Monitoring (CDM)"])[0] == 1
    stop = arrow.measures[50].analyses[0]
    assert ratio_direction(stop, ["Stopped Cotrimoxazole Prophylaxis", "Continued Cotrimoxazole Prophylaxis"])[0] == 0
    czp = parse_record(load_record("NCT02552212")).measures[0].analyses[0]  # "Odds ratio: CZP/Placebo ..."
    assert ratio_direction(czp, ["CZP 200 mg Q2W", "Placebo"])[0] == 0
    dup = parse_record(load_record("NCT02210780")).measures[3].analyses[0]  # "Dupilumab 300 mg qw vs. Placebo qw"
    assert ratio_direction(dup, ["Placebo qw", "Dupilumab 300 mg qw"])[0] == 1


# ---------------------------------------------------------------------------------------------
# layouts and refusals


def test_both_layouts_read_to_the_same_model():
    v1 = parse_record(load_record("NCT02028676"))
    v2 = parse_record(load_record("NCT02210780"))
    assert (v1.layout, v1.nct_id, v1.last_update, v1.enrollment.count, v1.phases) == (
        "legacy v1", "NCT02028676", "2014-06-06", 1206, ["Phase 4"])
    assert (v2.layout, v2.nct_id, v2.last_update, v2.enrollment.count, v2.phases) == (
        "API v2", "NCT02210780", "2020-05-07", 194, ["PHASE2"])
    assert v1.dates["start"][0] == "2007-03"  # "March 2007"
    assert [g.id for g in v1.event_groups] == [f"EG00{i}" for i in range(9)]


@pytest.mark.parametrize("data, path, reason", [
    ([], "", "top level is not a JSON object"),
    ({"a": 1}, "", "not a ClinicalTrials.gov study record"),
    ({"FullStudiesResponse": {"FullStudies": []}}, "FullStudiesResponse.FullStudies", "holds no study"),
    ({"studies": [{}, {}]}, "studies", "2 studies: import one study record at a time"),
    ({"protocolSection": {"identificationModule": {"nctId": "NCT123"}}}, "protocolSection.identificationModule.nctId",
     "no valid NCT id"),
])
def test_what_is_not_one_study_record_is_refused(data, path, reason):
    with pytest.raises(RecordError) as exc:
        parse_record(data)
    assert exc.value.path == path and reason in exc.value.reason


def test_a_v1_response_with_two_studies_is_refused():
    record = load_record("NCT02028676")
    studies = record["FullStudiesResponse"]["FullStudies"]
    record = {"FullStudiesResponse": {"FullStudies": studies * 2}}  # EDITED: the study twice
    with pytest.raises(RecordError, match="holds 2 studies"):
        parse_record(record)


def test_the_draft_is_deterministic(drafts):
    again = draft_from_record(load_record("NCT02552212"), origin="NCT02552212.json")
    assert again.text == drafts["NCT02552212"].text


def test_groups_adding_up_to_more_than_the_enrolment_keep_their_counts_in_notes():
    record = _edited("NCT02210780")  # EDITED copy: enrolment 150, fewer than the 97 + 97 who started
    record["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = 150
    d = draft_from_record(record)
    assert [(a["n_randomised"], a["n_safety"]) for a in d.data["arms"]] == [(None, None), (None, None)]
    assert all("n_randomised 97 kept in this note only" in a["note"] for a in d.data["arms"])
    assert any("add up to more than the enrolment 150" in u for u in d.unmapped)


def test_a_record_without_results_drafts_the_registered_arms(tmp_path):
    from livemeta.ingest import validate_files

    record = _edited("NCT02552212")  # EDITED copy: the results section removed (a trial not yet reported)
    del record["resultsSection"]
    record["protocolSection"]["statusModule"]["overallStatus"] = "ACTIVE_NOT_RECRUITING"
    d = draft_from_record(record)
    assert [(a["id"], a["role"], a["n_randomised"]) for a in d.data["arms"]] == [
        ("certolizumab_pegol_200_mg_q2w", "experimental", None), ("placebo", "control", None)]
    assert d.data["outcomes"] == [] and d.data["adverse_events"] == []
    assert d.data["trial"]["status"] == "ongoing"
    path = tmp_path / "draft.yaml"
    path.write_text(fill(d.text, {})[0])
    assert validate_files([path]).ok


@pytest.mark.parametrize("registry, status", [
    ("COMPLETED", "completed"), ("TERMINATED", "terminated"), ("RECRUITING", "recruiting"),
    ("ENROLLING_BY_INVITATION", "recruiting"), ("ACTIVE_NOT_RECRUITING", "ongoing"), ("SUSPENDED", "unknown"),
    ("WITHDRAWN", "unknown"), ("UNKNOWN", "unknown"),
])
def test_registry_status(registry, status):
    record = _edited("NCT05594173")  # EDITED copy: the overall status set
    record["protocolSection"]["statusModule"]["overallStatus"] = registry
    trial = draft_from_record(record).data["trial"]
    assert trial["status"] == status and f"registry status {registry}" in trial["note"]
