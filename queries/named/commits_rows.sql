-- The number of commits recorded (a database built from a project's git history has at least one).
SELECT count(*) FROM history.commits
