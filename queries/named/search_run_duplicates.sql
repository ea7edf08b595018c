-- How the records of one search run ($1) stand after de-duplication (current state): duplicates of a
-- record of the same run, of another run, of a report already in the database, and reports of trials.
SELECT count(*) AS records,
       count(*) FILTER (WHERE duplicate_of_kind = 'record' AND split_part(duplicate_of, '/', 1) = run_id) AS within_run,
       count(*) FILTER (WHERE duplicate_of_kind = 'record' AND split_part(duplicate_of, '/', 1) <> run_id) AS other_runs,
       count(*) FILTER (WHERE duplicate_of_kind = 'trial') AS in_database,
       count(*) FILTER (WHERE duplicate_of IS NULL AND len(trials) > 0) AS reports_of_trials
FROM search_records
WHERE run_id = $1
