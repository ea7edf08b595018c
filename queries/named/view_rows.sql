-- Every row of view (or table) "{view}", as of the session's revision: one statement, bound once
-- (a DuckDB relation binds the view for the relation, then again to run it).
SELECT * FROM "{view}"
