"""Where livemeta finds its own files: schema/, queries/ and ingest/.

The repository's top-level folders are the one copy of each file. A wheel carries them as package
data under ``livemeta/resources/`` (pyproject.toml's ``force-include`` copies them at build time);
a checkout installed with ``pip install -e .`` reads them from the repository itself.
``LIVEMETA_HOME`` points at another copy (used by tests of migrations).

The evidence itself (study files, the analyses file, the database) belongs to an evidence project:
see :mod:`livemeta.project`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import LivemetaError

_MARKERS = ("schema", "queries", "ingest")
_PACKAGE = Path(__file__).resolve().parent


def tool_root() -> Path:
    """The folder holding livemeta's schema/, queries/ and ingest/."""
    env = os.environ.get("LIVEMETA_HOME")
    candidates = [Path(env)] if env else []
    candidates += [_PACKAGE / "resources", _PACKAGE.parents[1]]
    for root in candidates:
        if all((root / m).is_dir() for m in _MARKERS):
            return root
    raise LivemetaError(
        "livemeta's own files (schema/, queries/, ingest/) are missing from this installation",
        hint="reinstall livemeta (`pip install livemeta` or `pip install .` in a checkout)",
    )


def resource(*parts: str) -> Path:
    """One of livemeta's own files or folders, e.g. ``resource("ingest", "study.schema.json")``."""
    return tool_root().joinpath(*parts)
