"""The bundled evidence base (data/studies): every number has a source, the flags and disputes of
the facts it was curated from stay visible, and the gaps are recorded rather than filled."""

from __future__ import annotations

import pytest
import yaml

from livemeta import api
from livemeta.paths import resource

from tests.conftest import REPO

FILES = sorted(REPO.joinpath("data", "studies").glob("*.yaml"))
STUDIES = {p.stem: yaml.safe_load(p.read_text()) for p in FILES}
NUMBERS = {
    "arms": ("n_randomised", "n_safety"),
    "resistance_definitions": ("threshold",),
    "outcomes": ("estimate", "ci_low", "ci_high", "experimental_events", "experimental_n", "control_events",
                 "control_n", "experimental_median", "control_median", "p_value"),
    "adverse_events": ("subjects_affected", "subjects_at_risk", "percent"),
}


def test_the_bundled_trials():
    assert len(FILES) == 34
    by_status = {}
    for s in STUDIES.values():
        by_status.setdefault((s["trial"]["design"], s["trial"]["inclusion"]), []).append(s["trial"]["id"])
    assert sorted(by_status[("rct", "included")]) == [
        "contact-01", "keyvibe-002", "leap-008", "lung-map-s1800a", "pragmatica-lung-s2302", "saffron-301", "sapphire"]
    assert sorted(by_status[("rct", "candidate")]) == ["ea5191", "lung-map-s1800d"]
    assert by_status[("rct", "excluded")] == ["alter-l016-l018"]
    assert len(by_status[("rct", "after_review")]) == 5


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_every_number_has_a_source(name):
    study = STUDIES[name]
    source_ids = {s["id"] for s in study["sources"]}
    assert study["trial"]["source"] in source_ids
    for s in study["sources"]:
        assert any(s.get(k) for k in ("url", "doi", "pmid", "nct_id")), s["id"]
    for key, fields in NUMBERS.items():
        for rec in study.get(key) or []:
            if any(rec.get(f) is not None for f in fields):
                assert rec.get("source") in source_ids, f"{name}: {key} {rec['id']}"
            if key in ("outcomes", "adverse_events"):
                assert rec["raw_text"].strip()


def test_s1800a_interval_is_stored_as_printed_with_the_dispute(bundled_db):
    res = api.query(bundled_db, "select ci_level, ci_level_alternative, dispute, verified, p_sided from outcomes "
                                "where trial_id = 'lung-map-s1800a' and endpoint = 'os'")
    (level, alternative, dispute, verified, sided), = res.rows
    assert (level, alternative, verified, sided) == (95, 80, False, "one")
    assert "one-sided" in dispute


def test_back_calculated_counts_stay_unverified(bundled_db):
    res = api.query(bundled_db, "select trial_id, verified from outcomes where endpoint = 'orr' and "
                                "trial_id in ('sapphire', 'saffron-301') order by trial_id")
    assert res.rows == [("saffron-301", False), ("sapphire", False)]


def test_design_level_resistance_is_a_definition_not_a_duplicated_outcome(bundled_db):
    res = api.query(bundled_db, "select trial_id from resistance_definitions where scope = 'trial' and "
                                "category = 'acquired' and trial_id in (select trial_id from trials where inclusion = "
                                "'included' and design = 'rct') order by 1")
    assert [r[0] for r in res.rows] == ["lung-map-s1800a", "pragmatica-lung-s2302", "sapphire"]
    dup = api.query(bundled_db, "select count(*) from outcomes where population = 'resistance' and trial_id in "
                                "('sapphire', 'lung-map-s1800a', 'pragmatica-lung-s2302')")
    assert dup.rows == [(0,)]
    rows = api.query(bundled_db, "select trial_id, basis, mapped from analysis_os_by_resistance where inclusion = 'included' order by 1")
    assert rows.rows == [("lung-map-s1800a", "eligibility", True), ("pragmatica-lung-s2302", "eligibility", True),
                         ("sapphire", "eligibility", True)]


def test_keyvibe_shared_control_is_counted_once(bundled_db):
    res = api.query(bundled_db, "select count(*) from analysis_rct_pfs where trial_id = 'keyvibe-002'")
    assert res.rows == [(1,)]
    other = api.query(bundled_db, "select population, subgroup from outcomes where trial_id = 'keyvibe-002' and "
                                  "endpoint = 'pfs' and population <> 'overall'")
    assert len(other.rows) == 1 and other.rows[0][0] == "subgroup"


def test_missing_values_are_missing_not_zero(bundled_db):
    res = api.query(bundled_db, "select experimental_n, control_n from outcomes where trial_id = 'leap-008' and endpoint = 'os'")
    assert res.rows == [(None, None)]
    gaps = api.query(bundled_db, "select missing from evidence_gaps where trial_id = 'lung-map-s1800d'")
    assert gaps.rows == [("OS HR with CI, PFS HR with CI, ORR counts per arm, grade >=3 TRAE counts per arm",)]


# --- provenance of the bundled evidence (issue 21) -------------------------------------------------

#: the primary publication of each included trial, as its public record shows it (PubMed, PMC, DOAJ or
#: the journal's page): DOI and PMID where one was seen (None where not)
PRIMARY = {
    "contact-01": ("10.1200/JCO.23.02166", "38552197"),
    "leap-008": ("10.1016/j.jtho.2025.05.020", "40473109"),
    "lung-map-s1800a": ("10.1200/JCO.22.00912", "35658002"),
    "sapphire": ("10.1016/j.annonc.2023.10.004", "37866811"),
    "hudson-durvalumab-ceralasertib": ("10.1038/s41591-024-02808-y", "38351187"),
    "lung-map-s1400f": ("10.1136/jitc-2021-002973", "34429332"),
    "ak104-202": ("10.1016/j.lungcan.2023.107355", "37677918"),
    "saffron-103": ("10.1136/jitc-2022-006055", None),
    "sintilimab-anlotinib-after-1l-io": ("10.1002/cam4.71191", None),
    "camrelizumab-apatinib-2l": ("10.1111/1759-7714.14113", "34409776"),
    "encore-601-nsclc": (None, "33203644"),
}


@pytest.mark.parametrize("trial", sorted(PRIMARY))
def test_included_trials_cite_their_primary_publication(trial):
    study = STUDIES[trial]
    doi, pmid = PRIMARY[trial]
    articles = [s for s in study["sources"] if s["kind"] == "journal_article"]
    assert any((s.get("doi") or "").lower() == (doi or "").lower() and s.get("pmid") == pmid for s in articles), articles


def test_no_source_on_a_staging_copy_but_the_one_whose_publication_was_not_found():
    """Sources on hosts flagged as staging copies (ingest/hosts.yaml): only ALTER-L016/L018's, whose
    note says why it stays."""
    from livemeta.ingest.identifiers import flagged_hosts, host_of

    staging = [e for e in flagged_hosts() if e.kind == "staging"]
    found = []
    for trial, study in sorted(STUDIES.items()):
        for s in study["sources"]:
            host = host_of(s["url"]) if s.get("url") else None
            if host and any(e.matches(host) for e in staging):
                found.append((trial, host, "staging server" in (s.get("note") or "")))
    assert found == [("alter-l016-l018", "stage.medifind.com", True)]
