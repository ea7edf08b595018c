-- Every analysis in force was computed at revision $1: $2 of them, $3 stored (their result changed).
INSERT INTO history.pooled_revisions (revision_id, analyses, stored) VALUES ($1, $2, $3)
