-- Record the files revision $1 read, as parallel lists: paths $2, sha256 $3, trial ids $4, actions $5.
INSERT INTO history.revision_files (revision_id, path, sha256, trial_id, action)
SELECT $1, unnest($2::VARCHAR[]), unnest($3::VARCHAR[]), unnest($4::VARCHAR[]), unnest($5::VARCHAR[])
