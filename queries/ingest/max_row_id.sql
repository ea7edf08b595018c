-- The largest row_id of the evidence tables (0 when empty). Writes number their rows from it, in
-- the batch's order, so that a replay of the same history gives every row the same row_id (a
-- sequence would not: DuckDB does not roll back nextval() with a failed transaction).
SELECT greatest(
    coalesce((SELECT max(row_id) FROM history.trials), 0),
    coalesce((SELECT max(row_id) FROM history.sources), 0),
    coalesce((SELECT max(row_id) FROM history.arms), 0),
    coalesce((SELECT max(row_id) FROM history.resistance_definitions), 0),
    coalesce((SELECT max(row_id) FROM history.outcomes), 0),
    coalesce((SELECT max(row_id) FROM history.adverse_events), 0),
    coalesce((SELECT max(row_id) FROM history.risk_of_bias), 0)
)
