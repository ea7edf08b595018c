"""Identifiers of a trial, normalised once, in one place, for every check that compares them.

One trial is one trial: a trial's NCT id, its other registry ids, its name and every source's DOI,
PMID, NCT id and URL are compared with every other trial's, in the batch and against the database
(:mod:`.checks`). They are compared in a canonical form, so that a disguise does not make a second
trial:

- every text: NFKC (full-width and other compatibility forms become plain letters and digits),
  without the characters Unicode marks as default ignorable (zero-width space and joiners, soft
  hyphen, word joiner, byte order mark, bidirectional marks, variation selectors), trimmed;
- a DOI: lower-case (DOIs are case-insensitive), without a resolver prefix (``doi:``,
  ``https://doi.org/``, ``dx.doi.org``) and percent-decoded;
- a PMID: an integer ("038552197" is 38552197);
- an NCT id: upper-case; also found in other_ids and in ClinicalTrials.gov URLs;
- a URL: the identifier it carries: a DOI (doi.org, a publisher's ``/doi/10...`` path or a ``doi=``
  query), a PMID (PubMed) or an NCT id (ClinicalTrials.gov). Other URLs are not compared: one news
  page may well report two trials;
- a name: its UTS #39 skeleton (Unicode's confusables data, ``ingest/unicode/``), case, spaces and
  punctuation set aside, so that ``СОNTACT-01`` with Cyrillic letters is CONTACT-01.

The written form of a DOI, PMID or URL must also be the form a person can use: an identifier that
holds an invisible character or a compatibility form (full-width letters) is refused with the form to
write (:func:`form_problems`), and a URL must be a plain http(s) address (:func:`url_problem`).
"""

from __future__ import annotations

import fnmatch
import functools
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..paths import resource

#: default ignorable code points (Unicode's Default_Ignorable_Code_Point, DerivedCoreProperties.txt)
#: that are not of category Cf (format characters are all ignorable): Python has no such property
_IGNORABLE_EXTRA = (
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0}
    | set(range(0x180B, 0x1810))
    | set(range(0xFE00, 0xFE10))
    | set(range(0xE0100, 0xE01F0))
)


def is_ignorable(ch: str) -> bool:
    """An invisible character: a format character (zero-width space, soft hyphen, bidi marks ...) or
    another default-ignorable code point (variation selectors, Hangul fillers)."""
    return unicodedata.category(ch) == "Cf" or ord(ch) in _IGNORABLE_EXTRA


def _drop_ignorable(text: str) -> str:
    if text.isascii():  # no ASCII character is ignorable
        return text
    return "".join(ch for ch in text if not is_ignorable(ch))


def clean(text: str) -> str:
    """NFKC, without invisible characters, trimmed: the text an identifier is compared by."""
    return _drop_ignorable(unicodedata.normalize("NFKC", _drop_ignorable(str(text)))).strip()


# --- DOI, PMID, NCT id ----------------------------------------------------------------------------

#: a DOI: directory indicator 10, a registrant code of digits (with sub-codes), a suffix of visible
#: characters; a double quote, white space and control characters are never part of one
DOI_SYNTAX = re.compile(r"10\.[0-9]{4,9}(?:\.[0-9]+)*/[^\s\"\x00-\x1f\x7f]+")
_DOI_PREFIX = re.compile(r"^(?:doi:\s*|(?:https?://)?(?:dx\.|www\.)?doi\.org/)", re.IGNORECASE)
_NCT = re.compile(r"NCT[0-9]{8}", re.IGNORECASE)


def doi_key(value) -> str | None:
    """A DOI as compared: lower-case, without a resolver prefix, percent-decoded; None if not a DOI."""
    if not isinstance(value, str):
        return None
    text = _DOI_PREFIX.sub("", clean(value))
    if "%" in text:
        text = unquote(text)
    text = text.rstrip(".,;")
    return text.lower() if DOI_SYNTAX.fullmatch(text) else None


def pmid_key(value) -> str | None:
    """A PMID as compared: the integer it names ("038552197" -> "38552197"); None if not a PMID."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if not isinstance(value, str):
        return None
    text = clean(value)
    return str(int(text)) if re.fullmatch(r"[0-9]{1,9}", text) else None


def nct_key(value) -> str | None:
    """An NCT id as compared: upper-case; None if not an NCT id."""
    if not isinstance(value, str):
        return None
    text = clean(value).upper()
    return text if _NCT.fullmatch(text) else None


# --- URLs -------------------------------------------------------------------------------------------

#: characters RFC 3986 never allows in a URL (they must be percent-encoded), and the ones that make a
#: URL break out of an HTML attribute or a Markdown link
_URL_FORBIDDEN = re.compile(r"[\s\"<>\\^`{|}\x00-\x1f\x7f]")
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def url_problem(url: str) -> str | None:
    """Why ``url`` is not a plain http(s) address a reader can follow (a phrase to put after "the
    URL"), or None."""
    bad = _URL_FORBIDDEN.search(url)
    if bad:
        ch = bad.group()
        what = "white space" if ch.isspace() else (f"U+{ord(ch):04X}" if ord(ch) < 0x20 or ord(ch) == 0x7F else repr(ch))
        return f"contains {what}, which a URL never holds (percent-encode it: {quote_char(ch)})"
    invisible = next((ch for ch in url if is_ignorable(ch)), None)
    if invisible is not None:
        return f"contains an invisible character ({describe(invisible)}): copy it again from its page"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return "is not an http(s) link: only http:// and https:// addresses are allowed"
    if parts.username is not None or parts.password is not None:
        return "has a user name before its host (user@host), which hides where the link goes"
    host = parts.hostname or ""
    try:
        ascii_host = host.encode("idna").decode("ascii") if host and not host.isascii() else host
    except UnicodeError:
        ascii_host = ""
    if not ascii_host or not (_HOST.fullmatch(ascii_host) or _is_ip(ascii_host)):
        return "has no valid host name (https://HOST/...)"
    return None


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def quote_char(ch: str) -> str:
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8"))


def host_of(url: str) -> str | None:
    try:
        return (urlsplit(clean(url)).hostname or "").lower() or None
    except ValueError:
        return None


_URL_DOI = (
    re.compile(r"^https?://(?:dx\.|www\.)?doi\.org/([^?#]+)", re.IGNORECASE),
    re.compile(r"^https?://[^/?#]+/(?:[^?#]*/)?doi/(?:(?:abs|full|pdf|epdf|epub|reader|book|figure)/)?(10\.[0-9]{4,9}/[^?#]+)",
               re.IGNORECASE),
    re.compile(r"^https?://[^?#]*\?(?:[^#]*&)?doi=([^&#]+)", re.IGNORECASE),
)
_URL_PMID = re.compile(r"^https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|pubmed\.gov|ncbi\.nlm\.nih\.gov/pubmed)/"
                       r"([0-9]{1,9})/?(?:[?#]|$)", re.IGNORECASE)
_URL_REGISTRY = re.compile(r"^https?://(?:[a-z0-9-]+\.)*clinicaltrials\.gov(?:[:/?#]|$)", re.IGNORECASE)


def url_identifiers(url) -> list[tuple[str, str]]:
    """The (kind, key) identifiers a source URL carries: a DOI (doi.org, a publisher's ``/doi/10...``
    path or a ``doi=`` query), a PMID (PubMed) or an NCT id (ClinicalTrials.gov)."""
    if not isinstance(url, str):
        return []
    lower = url.lower()
    if not any(k in lower for k in ("doi", "pubmed", "clinicaltrials")):  # nothing to find: quick
        return []
    text = clean(url)
    out: list[tuple[str, str]] = []
    for pattern in _URL_DOI:
        m = pattern.match(text)
        key = doi_key(unquote(m.group(1))) if m else None
        if key:
            out.append(("DOI", key))
            break
    m = _URL_PMID.match(text)
    if m:
        out.append(("PMID", str(int(m.group(1)))))
    if _URL_REGISTRY.match(text):
        out += [("NCT id", found.upper()) for found in _NCT.findall(text)]
    return out


# --- names: UTS #39 skeletons ------------------------------------------------------------------------


@functools.cache
def _prototypes() -> dict[int, str]:
    """Unicode's confusables data (ingest/unicode/confusables.txt) as a ``str.translate`` table:
    code point -> prototype."""
    table: dict[int, str] = {}
    path = resource("ingest", "unicode", "confusables.txt")
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target = (f.strip() for f in data.split(";")[:2])
        table[int(source, 16)] = "".join(chr(int(c, 16)) for c in target.split())
    return table


def skeleton(text: str) -> str:
    """The UTS #39 skeleton: NFD, default-ignorable characters removed, each character replaced by
    its prototype in Unicode's confusables data, NFD again. Two strings whose skeletons are equal look
    alike (``СОNTACT`` with Cyrillic С and О, and ``CONTACT``)."""
    nfd = _drop_ignorable(unicodedata.normalize("NFD", text)) if not text.isascii() else text
    return unicodedata.normalize("NFD", nfd.translate(_prototypes()))


_NOT_ASCII_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def _letters(text: str) -> str:
    """The letters and digits of ``text`` (any script), in order."""
    if text.isascii():
        return _NOT_ASCII_ALNUM.sub("", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


@functools.lru_cache(maxsize=65536)
def name_keys(name) -> tuple[str, ...]:
    """A trial name as compared: case, spaces, punctuation and look-alike characters set aside.

    Two keys, because case and confusables interact: the skeleton of the name as written, then
    case-folded ('ВАD' with Cyrillic capitals is 'BAD'), and the skeleton of the case-folded name
    ('KEYNOTE-I' and 'keynote-i'). Two names are the same when they share a key."""
    text = unicodedata.normalize("NFKC", _drop_ignorable(str(name)))
    keys = []
    for form in (text, text.casefold()):
        key = _letters(unicodedata.normalize("NFKC", skeleton(form)).casefold())
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def name_key(name) -> str:
    """The first of :func:`name_keys` ('' for a name without letters or digits)."""
    keys = name_keys(name)
    return keys[0] if keys else ""


def registry_key(part: str) -> str:
    """Another registry id (UMIN, ChiCTR, EudraCT) as compared: letters and digits, case set aside."""
    return "".join(ch for ch in clean(part).casefold() if unicodedata.category(ch)[0] in "LN")


# --- what a trial claims ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One identifier a trial claims: its kind ("NCT id", "registry id", "name", "DOI", "PMID"), the
    key it is compared by, the value as written and the record path it is written at."""

    kind: str
    key: str
    written: str
    trial_id: str
    path: str

    @property
    def shown(self) -> str:
        """The identifier as a message names it: as written, or as read from a URL."""
        return self.key if self.path.endswith(".url") else self.written


def trial_claims(trial: dict, trial_id: str, path: str = "trial") -> list[Claim]:
    """The identifiers of a trial record (a study file's ``trial`` or a ``trials`` row)."""
    out = []
    nct = nct_key(trial.get("nct_id"))
    if nct:
        out.append(Claim("NCT id", nct, trial["nct_id"], trial_id, f"{path}.nct_id"))
    other = trial.get("other_ids")
    if isinstance(other, str):
        for part in re.split(r"[;,]", other):
            if not part.strip():
                continue
            ncts = _NCT.findall(clean(part))
            for found in ncts:
                out.append(Claim("NCT id", found.upper(), part.strip(), trial_id, f"{path}.other_ids"))
            key = registry_key(part)
            if key and not ncts:
                out.append(Claim("registry id", key, part.strip(), trial_id, f"{path}.other_ids"))
    name = trial.get("name")
    if isinstance(name, str):
        out += [Claim("name", key, name, trial_id, f"{path}.name") for key in name_keys(name)]
    return out


def source_claims(source: dict, trial_id: str, path: str) -> list[Claim]:
    """The identifiers of one source (a study file's source or a ``sources`` row)."""
    out = []
    for kind, col, key_of in (("DOI", "doi", doi_key), ("PMID", "pmid", pmid_key), ("NCT id", "nct_id", nct_key)):
        value = source.get(col)
        key = key_of(value)
        if key:
            out.append(Claim(kind, key, str(value), trial_id, f"{path}.{col}"))
    url = source.get("url")
    for kind, key in url_identifiers(url):
        out.append(Claim(kind, key, str(url), trial_id, f"{path}.url"))
    return out


# --- the written form ---------------------------------------------------------------------------------


def describe(ch: str) -> str:
    name = unicodedata.name(ch, "").title() or "unnamed"
    return f"U+{ord(ch):04X} {name}"


def _form_problem(kind: str, value: str, canonical: str | None) -> str | None:
    """Why a DOI, PMID or NCT id is not written in the form to use, or None."""
    invisible = next((ch for ch in value if is_ignorable(ch)), None)
    if invisible is not None:
        fix = f": write it as {canonical!r}" if canonical else ""
        return f"the {kind} contains an invisible character ({describe(invisible)}){fix}"
    if unicodedata.normalize("NFKC", value) != value:
        odd = next(ch for ch in value if unicodedata.normalize("NFKC", ch) != ch)
        fix = f": write it as {canonical!r}" if canonical else ""
        return f"the {kind} is written with {describe(odd)} (a compatibility form of a plain character){fix}"
    return None


def form_problems(sources: list[dict]) -> list[tuple[str, str]]:
    """(record path, reason) for every DOI or URL of a file's sources that is not written in the form
    to use: an invisible character or a full-width form in a DOI, a DOI that is not one, a URL that
    is not a plain http(s) address."""
    out = []
    for i, src in enumerate(sources):
        p = f"sources[{i}]"
        doi = src.get("doi")
        if isinstance(doi, str):
            key = doi_key(doi)
            reason = _form_problem("DOI", doi, clean(doi) if key else None)
            if reason is None and key is None:
                reason = f"{doi[:60]!r} is not a DOI (10.NNNN/suffix, without spaces or quotes)"
            if reason:
                out.append((f"{p}.doi", reason))
        url = src.get("url")
        if isinstance(url, str):
            reason = url_problem(url)
            if reason:
                out.append((f"{p}.url", f"the URL {reason}"))
    return out


# --- hosts to warn about --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlaggedHost:
    host: str
    kind: str
    reason: str

    def matches(self, host: str) -> bool:
        if "*" in self.host:
            return fnmatch.fnmatchcase(host, self.host)
        return host == self.host or host.endswith("." + self.host)


@functools.cache
def flagged_hosts() -> tuple[FlaggedHost, ...]:
    """The hosts of ``ingest/hosts.yaml``: staging copies and aggregators, each with its reason."""
    import yaml

    data = yaml.safe_load(resource("ingest", "hosts.yaml").read_text(encoding="utf-8"))
    return tuple(FlaggedHost(e["host"].lower(), e["kind"], e["reason"]) for e in data["hosts"])


def host_warnings(sources: list[dict]) -> list[tuple[str, str]]:
    """(record path, reason) for every source URL on a flagged host (:func:`flagged_hosts`)."""
    out = []
    for i, src in enumerate(sources):
        host = host_of(src["url"]) if isinstance(src.get("url"), str) else None
        entry = next((e for e in flagged_hosts() if host and e.matches(host)), None)
        if entry is not None:
            what = "a staging copy" if entry.kind == "staging" else "an aggregator"
            out.append((f"sources[{i}].url", f"{host} is {what}: {entry.reason} (ingest/hosts.yaml)"))
    return out
