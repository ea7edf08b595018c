-- Mark the views just installed (view "{view}", comment: the SHA-256 {mark} of the macros and views);
-- CREATE OR REPLACE of that view clears it, so a half-finished install is never taken as complete.
COMMENT ON VIEW "{view}" IS '{mark}'
