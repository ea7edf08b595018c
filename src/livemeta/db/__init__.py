"""The database layer: connection and lock handling, migrations, views and revisions."""

from .database import connect
from .migrations import apply_migrations, install_views, migrations, schema_version, views
from .revisions import (
    Revision,
    current_revision,
    list_revisions,
    new_revision,
    as_of,
    resolve_revision,
    set_as_of,
)

__all__ = [
    "Revision",
    "apply_migrations",
    "connect",
    "current_revision",
    "install_views",
    "list_revisions",
    "migrations",
    "new_revision",
    "as_of",
    "resolve_revision",
    "schema_version",
    "set_as_of",
    "views",
]
