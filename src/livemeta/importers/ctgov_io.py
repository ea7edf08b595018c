"""Getting a ClinicalTrials.gov record: from a file, or from the public API (``--nct``).

The API is ``https://clinicaltrials.gov/api/v2/studies/NCT...`` (``$LIVEMETA_CTGOV_API`` or the
``base_url`` argument replace ``https://clinicaltrials.gov/api/v2``; the tests point it at a local
server). Every failure is a :class:`~livemeta.errors.LivemetaError` that says what to do: an
unreadable or malformed file is invalid input (exit status 2), an unreachable API (offline) or an
unknown NCT id is an error with a hint.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..errors import LivemetaError, Problem, ValidationFailed

DEFAULT_API = "https://clinicaltrials.gov/api/v2"
API_ENV = "LIVEMETA_CTGOV_API"
MAX_BYTES = 50 * 1024 * 1024


def _invalid(name: str, reason: str, path: str = "") -> ValidationFailed:
    return ValidationFailed([Problem(name, path, reason)])


def parse_json(raw: bytes, name: str):
    """JSON text -> data; a message naming ``name`` otherwise."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _invalid(name, f"not UTF-8 text (byte {exc.start}): a ClinicalTrials.gov record is JSON") from None
    if not text.strip():
        raise _invalid(name, "empty: a ClinicalTrials.gov record is JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _invalid(name, f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise _invalid(name, "not JSON this reader accepts: nested too deeply") from None


def read_record_file(path: Path | str):
    """The parsed JSON of a record file (checked for size and encoding, not yet for content)."""
    p = Path(path)
    name = str(path)
    from ..files import Unreadable, read_bounded

    try:
        raw = read_bounded(p, MAX_BYTES, "a study record can be")
    except Unreadable as exc:
        raise _invalid(name, str(exc)) from None
    return parse_json(raw, name)


def check_nct(nct_id: str) -> str:
    nct = nct_id.strip().upper()
    if not re.fullmatch(r"NCT\d{8}", nct):
        raise _invalid("--nct", f"{nct_id!r} is not an NCT id (NCT and 8 digits)")
    return nct


def api_url(nct_id: str, base_url: str | None = None) -> str:
    base = (base_url or os.environ.get(API_ENV) or DEFAULT_API).rstrip("/")
    return f"{base}/studies/{nct_id}"


def fetch_record(nct_id: str, *, base_url: str | None = None, timeout: float = 30.0):
    """The API v2 record of ``nct_id`` (parsed JSON) and the URL it came from."""
    import urllib.error
    import urllib.request

    from .. import __version__

    nct = check_nct(nct_id)
    url = api_url(nct, base_url)
    public = f"https://clinicaltrials.gov/study/{nct}"
    hint = f"download the record as JSON (from {public} or {api_url(nct, DEFAULT_API)}) and run `livemeta import ctgov FILE`"
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": f"livemeta/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise LivemetaError(f"{nct} is not on ClinicalTrials.gov ({url} answered 404 Not Found)",
                                hint="check the NCT id") from None
        raise LivemetaError(f"ClinicalTrials.gov answered {exc.code} {exc.reason} for {url}", hint=hint) from None
    except urllib.error.URLError as exc:
        raise LivemetaError(f"cannot reach ClinicalTrials.gov at {url} (offline?): {exc.reason}", hint=hint) from None
    except (TimeoutError, OSError) as exc:
        raise LivemetaError(f"cannot reach ClinicalTrials.gov at {url} (offline?): {exc}", hint=hint) from None
    if len(raw) > MAX_BYTES:
        raise LivemetaError(f"{url} answered more than {MAX_BYTES // (1024 * 1024)} MB: not a study record")
    return parse_json(raw, url), url
