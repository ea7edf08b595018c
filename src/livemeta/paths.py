"""Where livemeta finds its project files: schema/, queries/, ingest/ and data/.

livemeta is run from a checkout (``pip install -e .``): the migrations, the named queries, the
study-file schema and the bundled evidence base are files of the repository, not of the Python
package, so that a reviewer reads and edits them as files. ``LIVEMETA_HOME`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import LivemetaError

_MARKERS = ("schema", "queries", "ingest")


def project_root() -> Path:
    """The folder holding schema/, queries/ and ingest/ (``LIVEMETA_HOME`` wins)."""
    env = os.environ.get("LIVEMETA_HOME")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2])
    for root in candidates:
        if all((root / m).is_dir() for m in _MARKERS):
            return root
    raise LivemetaError(
        "cannot find livemeta's project files (schema/, queries/, ingest/)",
        hint="run livemeta from a checkout installed with `pip install -e .`, "
        "or set LIVEMETA_HOME to the checkout",
    )


def resource(*parts: str) -> Path:
    """A file or folder of the project, e.g. ``resource("ingest", "study.schema.json")``."""
    return project_root().joinpath(*parts)


def default_db_path() -> Path:
    """``$LIVEMETA_DB`` or ``data/livemeta.duckdb`` in the project."""
    env = os.environ.get("LIVEMETA_DB")
    if env:
        return Path(env)
    return resource("data", "livemeta.duckdb")
