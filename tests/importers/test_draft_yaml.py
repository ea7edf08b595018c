"""The draft writer: what it writes reads back through livemeta's own YAML reader as the same values."""

from __future__ import annotations

import pytest

from livemeta.importers.draft_yaml import render, scalar
from livemeta.ingest.parse import decode, parse_yaml

AWKWARD = [
    "plain", "null", "Yes", "no", "~", "2024-06", "NCT01234567", "0.5", "012", "1:20", "# not a comment",
    "key: value", "- item", "quote \" and backslash \\", "line\nbreak", "tab\there", "≥4-fold", "bell\x07",
    "next line\x85", "line sep\u2028", "BOM\ufeff", "emoji \U0001F600", " leading space", "trailing space ", "",
    "'single'", "{braces}", "[brackets]", "@at", "`tick`", "%percent", "&anchor", "*alias", "!tag", "|pipe", ">fold",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_text_reads_back_unchanged(text):
    data, _, _ = parse_yaml(decode(f"key: {scalar(text)}\n".encode("utf-8")))
    assert data == {"key": text}


def test_numbers_keep_the_text_they_were_printed_with():
    study = {"outcomes": [{"id": "os", "estimate": 1.2, "ci_low": 0.7, "ci_high": 2.0, "p_value": 0.05, "n": 97, "verified": False}]}
    numbers = {"outcomes[0].estimate": "1.20", "outcomes[0].ci_low": "0.70", "outcomes[0].ci_high": "2.00"}
    text = render(study, header=["a header"], before={"outcomes": ["before outcomes"]},
                  inline={"outcomes[0].estimate": "FILL IN: x"}, numbers=numbers)
    assert "    estimate: 1.20  # FILL IN: x\n" in text
    data, _, printed = parse_yaml(text)
    assert data == study
    assert printed["outcomes[0].estimate"] == "1.20" and printed["outcomes[0].ci_high"] == "2.00"
    assert text.startswith("# a header\n\n# before outcomes\noutcomes:\n  - id: os\n")


def test_a_number_text_that_disagrees_with_the_value_is_not_used():
    assert scalar(0.84, "0.85") == "0.84"
    assert scalar(0.5, "5e-1") == "0.5"  # not a plain decimal
    assert scalar(None) == "null" and scalar(True) == "true" and scalar(3) == "3"
