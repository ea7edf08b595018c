-- Attach another database file read-only under an alias: {path} (quoted) and {alias}.
ATTACH {path} AS {alias} (READ_ONLY)
