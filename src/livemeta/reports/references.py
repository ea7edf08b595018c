"""The report's numbered reference list: every source of every trial the report names, cited by
number from each table and figure row ('CONTACT-01 [3]').

Sources are numbered in the order of the trials (as the characteristics tables list them) and, within
a trial, in the order of its study file; a source two trials share (the same DOI, PMID, or else the
same URL or citation) has one number. Each entry links its DOI, PubMed id, NCT id and URL.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from ..safe import md_link, md_text, safe_url
from .doc import Html


@dataclass(frozen=True)
class Reference:
    number: int
    citation: str
    kind: str | None
    doi: str | None
    pmid: str | None
    nct_id: str | None
    url: str | None

    def links(self) -> list[tuple[str, str]]:
        """(label, address) of each identifier the source gives."""
        out = []
        if self.doi:
            out.append((f"doi:{self.doi}", f"https://doi.org/{self.doi}"))
        if self.pmid:
            out.append((f"PMID {self.pmid}", f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"))
        if self.nct_id:
            out.append((self.nct_id, f"https://clinicaltrials.gov/study/{self.nct_id}"))
        if self.url and not any(self.url.rstrip("/") == a.rstrip("/") for _, a in out):
            out.append(("URL", self.url))
        return out


def _html_link(label: str, address: str) -> str:
    """An HTML link to an http(s) address (:func:`livemeta.safe.safe_url`); any other address as text."""
    target = safe_url(address)
    if target is None:
        return html.escape(label if address == label else f"{label} ({address})")
    return f'<a href="{html.escape(target, quote=True)}">{html.escape(label)}</a>'


def _text(v) -> str | None:
    return None if v is None or (isinstance(v, float) and v != v) or str(v).strip() == "" else str(v).strip()


class References:
    """Numbers for the sources of the trials in ``trial_order`` (``sources``: the sources view)."""

    def __init__(self, sources: pd.DataFrame, trial_order: list[str]):
        self.entries: list[Reference] = []
        self._by_trial: dict[str, dict[str, int]] = {}
        keys: dict[str, int] = {}
        rank = {t: i for i, t in enumerate(trial_order)}
        rows = sources[sources["trial_id"].isin(rank)].copy() if len(sources) else sources
        if len(rows):
            rows["_rank"] = rows["trial_id"].map(rank)
            rows = rows.reset_index(drop=True).reset_index().sort_values(["_rank", "index"], kind="stable")
        for r in rows.to_dict("records") if len(rows) else []:
            doi, pmid, nct, url = (_text(r.get(c)) for c in ("doi", "pmid", "nct_id", "url"))
            key = (f"doi:{doi.lower()}" if doi else f"pmid:{pmid}" if pmid else f"url:{url}" if url
                   else f"nct:{nct}:{r['citation']}")
            if key not in keys:
                keys[key] = len(self.entries) + 1
                self.entries.append(Reference(keys[key], str(r["citation"]), _text(r.get("kind")), doi, pmid, nct, url))
            self._by_trial.setdefault(r["trial_id"], {})[r["source_id"]] = keys[key]

    def numbers(self, trial_id: str, source_ids=None) -> list[int]:
        """The reference numbers of a trial's sources (all, or those named), sorted."""
        mine = self._by_trial.get(trial_id, {})
        if source_ids is not None:
            wanted = [s for s in ([source_ids] if isinstance(source_ids, str) else source_ids) if s in mine]
            if wanted:
                return sorted({mine[s] for s in wanted})
        return sorted(set(mine.values()))

    def cite_text(self, trial_id: str, source_ids=None) -> str:
        """'[3]', '[3, 4]' or '' (plain text, for figures)."""
        nums = self.numbers(trial_id, source_ids)
        return f"[{', '.join(map(str, nums))}]" if nums else ""

    def cite(self, label: str, trial_id: str, source_ids=None) -> Html:
        """``label`` followed by its citation, linked to the reference list in HTML."""
        nums = self.numbers(trial_id, source_ids)
        if not nums:
            return Html.text(label)
        links = ", ".join(f'<a class="cite" href="#ref-{n}">{n}</a>' for n in nums)
        return Html(f"{html.escape(label)} [{links}]", f"{md_text(label)} \\[{', '.join(map(str, nums))}\\]")

    def write(self, doc) -> None:
        """The numbered list into the document."""
        items_html, items_md = [], []
        for ref in self.entries:
            links = ref.links()
            h = html.escape(ref.citation)
            if links:
                h += ". " + " · ".join(_html_link(lbl, a) for lbl, a in links)
            items_html.append(f'<li id="ref-{ref.number}">{h}</li>')
            md = md_text(ref.citation) + (". " + " · ".join(md_link(lbl, a) for lbl, a in links) if links else "")
            items_md.append(f"{ref.number}. {md}")
        doc.html.append('<ol class="refs">' + "".join(items_html) + "</ol>")
        doc.md += items_md + [""]
