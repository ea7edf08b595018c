"""De-duplication rules: identifiers first, then title + year + first author; a person's keep-apart
always wins (even through other matches), merges are recorded with their reason; trials' reports."""

from __future__ import annotations

from livemeta.search.dedup import DedupRecord, Override, TrialIdentity, dedup, normal_title, surname

TITLE = "Sintilimab plus anlotinib after progression on first-line immunotherapy in advanced NSCLC: a phase II trial"


def rec(rid, i, *, title=TITLE, year=2023, author="Zhang, L", doi=None, pmid=None, ncts=(), registry=False, first=2):
    return DedupRecord(rid, (first, "2026-03-01", rid.split("/")[0], i), first, title, year, author, doi, pmid, tuple(ncts),
                       registry)


def links_of(links, status="merged", relation="duplicate"):
    return {(link.record_id, link.target, link.reason) for link in links if link.status == status and link.relation == relation}


def test_identifiers_then_titles():
    records = [
        rec("a/1", 1, doi="10.1/x"), rec("b/1", 1, doi="10.1/x", title=TITLE + "."),  # same DOI
        rec("a/2", 2, title="Another trial of something else entirely", pmid="123", author="Li, J"),
        rec("b/2", 2, title="Another trial of something else entirely (ABSTRACT)", pmid="123", author="Li, J"),
        rec("a/3", 3, title="Pembrolizumab rechallenge in NSCLC: real-world outcomes of 120 patients", author="Roe, K"),
        rec("b/3", 3, title="Pembrolizumab re-challenge in NSCLC: real world outcomes of 120 patients", author="Roe K."),
    ]
    got = links_of(dedup(records))
    assert got == {("b/1", "a/1", "doi"), ("b/2", "a/2", "pmid"), ("b/3", "a/3", "title")}


def test_titles_do_not_merge_against_identifiers_years_or_authors():
    base = rec("a/1", 1, doi="10.1/x")
    assert not links_of(dedup([base, rec("b/1", 1, doi="10.1/y")]))  # different DOIs
    assert not links_of(dedup([base, rec("b/1", 1, year=2021)]))  # different years
    assert not links_of(dedup([base, rec("b/1", 1, author="Wang, Q")]))  # different first authors
    assert links_of(dedup([base, rec("b/1", 1, year=None, author=None)])) == {("b/1", "a/1", "title")}
    short = [rec("a/1", 1, title="Editorial", year=2020), rec("b/1", 1, title="Editorial", year=None)]
    assert not links_of(dedup(short))  # a short title merges only with year and author present and equal
    assert normal_title("Re-challenge <i>with</i> PD-1:  Ångström!") == "re challenge with pd 1 angstrom"
    assert (surname("Liu R."), surname("de Hoon, M J L"), surname("Harry Mangalam")) == ("liu", "dehoon", "mangalam")


def test_one_doi_with_unlike_titles_is_kept_apart_not_merged():
    records = [rec("a/1", 1, doi="10.1200/jco.2024.42.16_suppl.9001", title="Abstract one about lung cancer immunotherapy"),
               rec("a/2", 2, doi="10.1200/jco.2024.42.16_suppl.9001", title="A different abstract on breast cancer surgery")]
    links = dedup(records)
    assert not links_of(links)
    (kept,) = [link for link in links if link.status == "kept_apart"]
    assert (kept.record_id, kept.target, kept.reason, kept.decided_by) == ("a/2", "a/1", "doi", "livemeta")


def test_keep_apart_reverses_a_merge_even_through_a_third_record():
    records = [rec("a/1", 1, doi="10.1/x"), rec("b/1", 1, doi="10.1/x"), rec("c/1", 1, pmid="9", doi=None),
               rec("d/1", 1, pmid="9", doi="10.1/x")]
    assert links_of(dedup(records)) == {("b/1", "a/1", "doi"), ("d/1", "a/1", "doi"), ("c/1", "a/1", "pmid")}  # via d/1
    apart = [Override("keep_apart", "a/1", "c/1", "conference abstract vs paper", "A. Reviewer")]
    links = dedup(records, overrides=apart)
    groups = links_of(links)
    assert ("c/1", "a/1", "pmid") not in groups and ("b/1", "a/1", "doi") in groups
    assert not any(t == "a/1" for r, t, _ in groups if r == "c/1")  # c never ends in a/1's group
    kept = [link for link in links if link.status == "kept_apart"]
    assert [(k.record_id, k.target, k.reason, k.decided_by) for k in kept] == [("c/1", "a/1", "manual", "A. Reviewer")]
    merged = dedup([rec("a/1", 1, title="Totally different one"), rec("b/1", 1, title="Nothing alike at all here")],
                   overrides=[Override("merge", "a/1", "b/1", "translated title", "B. Reviewer")])
    assert links_of(merged) == {("b/1", "a/1", "manual")}


def test_registry_records_and_trials():
    records = [rec("ctgov/1", 1, ncts=["NCT04471428"], registry=True, title="A registry entry", author=None),
               rec("ctgov2/1", 1, ncts=["NCT04471428"], registry=True, title="A registry entry, updated", author=None),
               rec("pm/1", 1, pmid="38552197", title="CONTACT-01 paper", first=2),
               rec("pm/2", 2, pmid="11111111", title="A new report naming NCT02210780", ncts=["NCT02210780"], first=2)]
    trials = [TrialIdentity("contact-01", "pmid", "38552197", 1), TrialIdentity("contact-01", "nct_id", "NCT04471428", 1),
              TrialIdentity("later-01", "nct_id", "NCT02210780", 5)]
    links = dedup(records, trials)
    assert links_of(links) == {("ctgov2/1", "ctgov/1", "nct_id"), ("pm/1", "contact-01", "pmid")}
    same = links_of(links, relation="same_trial")
    assert same == {("ctgov/1", "contact-01", "nct_id"), ("pm/2", "later-01", "nct_id")}
    # the trial's source came after the run: the record is a report of it, not a duplicate
    late = dedup([rec("pm/1", 1, pmid="38552197", first=2)], [TrialIdentity("contact-01", "pmid", "38552197", 3)])
    assert links_of(late) == set() and links_of(late, relation="same_trial") == {("pm/1", "contact-01", "pmid")}


def test_large_blocks_use_cdist_with_the_same_result():
    from livemeta.search import dedup as d

    records = [rec(f"a/{i}", i, title=f"Study number {i:05d} of immunotherapy rechallenge outcomes", author="Smith, J")
               for i in range(1, 200)]
    records.append(rec("b/1", 1, title="Study number 00007 of immunotherapy rechallenge outcomes.", author="Smith J"))
    assert d._CDIST_FROM < 200  # one block of 200 titles: compared by cdist
    assert links_of(dedup(records)) == {("b/1", "a/7", "title")}  # 0.98 alike, but other numbers: not the same
