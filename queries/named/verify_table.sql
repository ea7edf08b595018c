-- The rows of history.{table} that differ between the database (`stored`) and a fresh replay of
-- the repository (`fresh`, both attached): each side's rows that the other lacks. {exclude} leaves
-- out what records when and by which livemeta a row was computed, not what it holds.
SELECT 'stored' AS livemeta_side, * FROM (
    SELECT * {exclude} FROM stored.history.{table}
    EXCEPT ALL
    SELECT * {exclude} FROM fresh.history.{table}
)
UNION ALL
SELECT 'fresh' AS livemeta_side, * FROM (
    SELECT * {exclude} FROM fresh.history.{table}
    EXCEPT ALL
    SELECT * {exclude} FROM stored.history.{table}
)
