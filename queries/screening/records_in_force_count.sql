-- How many search records are in force.
SELECT count(*) FROM history.search_records WHERE valid_to IS NULL
