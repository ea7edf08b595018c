"""Identifier normalisation: the rules the study files' checks share (NFKC, format characters,
DOI without resolver and lower-case, PMID as an integer, NCT upper-case)."""

from __future__ import annotations

import pytest

from livemeta.search import ids


@pytest.mark.parametrize("raw, want", [
    ("10.1136/jitc-2022-006055", "10.1136/jitc-2022-006055"),
    ("https://doi.org/10.1136/JITC-2022-006055", "10.1136/jitc-2022-006055"),
    ("http://dx.doi.org/10.1002/cpp.2398", "10.1002/cpp.2398"),
    ("doi:10.1002/cpp.2398.", "10.1002/cpp.2398"),
    ("DOI 10.1002/cpp.2398", "10.1002/cpp.2398"),
    ("10.1136/jitc-2022\u200b-006055", "10.1136/jitc-2022-006055"),  # zero-width space
    ("\uff11\uff10.1136/jitc-2022-006055", "10.1136/jitc-2022-006055"),  # full-width digits
    ("10.1186/1471-2105-7-10 [doi]", "10.1186/1471-2105-7-10"),
    ("not a doi", None), ("", None), (None, None), ("11.1234/x", None),
])
def test_doi(raw, want):
    assert ids.doi(raw) == want


@pytest.mark.parametrize("raw, want", [("38552197", "38552197"), ("038552197", "38552197"), (38552197, "38552197"),
                                       (" 12230038 ", "12230038"), ("0", None), ("PMC123", None), ("12a", None),
                                       (True, None), (-5, None)])
def test_pmid(raw, want):
    assert ids.pmid(raw) == want


def test_nct_ids_found_in_text():
    assert ids.nct("nct04471428") == "NCT04471428"
    assert ids.nct("NCT0447142") is None
    text = "Registered at ClinicalTrials.gov (NCT 04471428) and nct02210780; again NCT04471428; NCT044714281 is not one"
    assert ids.nct_ids_in(text, "ClinicalTrials.gov/NCT02552212") == ["NCT04471428", "NCT02210780", "NCT02552212"]
    assert ids.nct_ids_in(None, "", "no trial here") == []
