-- The counts section of the report: trials by design, inclusion and treatment class.
SELECT * FROM trial_counts
