"""Identifiers of bibliographic records, normalised once so that equal identifiers compare equal.

The rules (the same as the study files' identifier checks, so that the two can be one function):

- every text is NFKC-normalised and loses its Unicode format characters (category Cf: zero-width
  spaces and joiners, soft hyphens, bidirectional marks) before anything else;
- a **DOI** is lower-case, without a resolver prefix (``https://doi.org/``, ``http://dx.doi.org/``,
  ``doi:``) or trailing punctuation, and must read ``10.<registrant>/<suffix>``;
- a **PMID** is a positive integer, written without leading zeros;
- an **NCT id** is ``NCT`` and eight digits, upper-case; :func:`nct_ids_in` finds them in free text
  (abstracts, secondary ids, registry numbers), also written ``NCT 01234567``.

Each function returns None for a value that is not such an identifier (never a guess).
"""

from __future__ import annotations

import re
import unicodedata

_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:https?://)?(?:(?:dx\.)?doi\.org/|doi\s*:\s*|doi\s+)", re.IGNORECASE)
_DOI_IN_TEXT = re.compile(r"10\.\d{4,9}/[^\s\"<>]+")
_NCT = re.compile(r"\bNCT\s?(\d{8})(?!\d)", re.IGNORECASE)
_PMID = re.compile(r"0*([1-9]\d{0,9})")


def clean(text: object) -> str:
    """``text`` as NFKC without format characters, stripped ("" for None)."""
    if text is None:
        return ""
    s = str(text)
    if s.isascii():  # NFKC leaves ASCII as it is, and ASCII has no format characters
        return s.strip()
    s = unicodedata.normalize("NFKC", s)
    if not s.isascii():
        s = "".join(ch for ch in s if unicodedata.category(ch) != "Cf")
    return s.strip()


def doi(value: object) -> str | None:
    """A DOI in its normal form (``10.1136/jitc-2022-006055``), or None."""
    s = clean(value)
    if not s:
        return None
    s = _DOI_PREFIX.sub("", s).strip()
    s = s.removesuffix("[doi]").strip().rstrip(".,;")
    if not _DOI.fullmatch(s):
        return None
    return s.lower()


def doi_in(text: object) -> str | None:
    """The first DOI written in ``text`` (a URL, a note), normalised; None when there is none."""
    s = clean(text)
    m = _DOI_IN_TEXT.search(s)
    return doi(m.group(0)) if m else None


def pmid(value: object) -> str | None:
    """A PMID as its integer's digits (``"038552197"`` -> ``"38552197"``), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    s = clean(value)
    m = _PMID.fullmatch(s)
    return m.group(1) if m else None


def nct(value: object) -> str | None:
    """An NCT id in its normal form (``NCT04471428``), or None."""
    s = clean(value)
    m = _NCT.fullmatch(s)
    return f"NCT{m.group(1)}" if m else None


def nct_ids_in(*texts: object) -> list[str]:
    """Every NCT id written in ``texts``, normalised, in order of appearance, each once."""
    found: dict[str, None] = {}
    for t in texts:
        if not t:
            continue
        if t.isascii():
            if "nct" not in t.lower():
                continue
            s = t
        else:
            s = clean(t)
            if "nct" not in s.lower():
                continue
        for m in _NCT.finditer(s):
            found.setdefault(f"NCT{m.group(1)}")
    return list(found)


__all__ = ["clean", "doi", "doi_in", "nct", "nct_ids_in", "pmid"]
