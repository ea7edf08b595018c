-- Every revision: its commit, author, what kind of change it is, the review's note on it, whether
-- it was applied or rejected, and the trials and other project files it changed.
--   kind     'evidence' (study files changed the rows), 'analyses only' (the analyses file, the
--            GRADE file or the project file's settings; no evidence changed), 'evidence and
--            analyses', 'start' (revision 1), 'no change' (a merge whose conflict was reviewed)
--   note     the review's own words (a commit's Livemeta-Note trailers, or the message of a commit
--            of the project's files alone: `livemeta ingest -m`, `resolve -m`, ...); NULL: none
SELECT r.revision_id, r.created_at, r.author,
       revision_kind(r.kind, r.changes) AS kind,
       revision_note(r.note, r.changes, r.message) AS note, r.changes, r.changed_files, r.livemeta_version,
       c.commit_sha, c.status,
       count(f.trial_id) FILTER (WHERE f.action = 'added')      AS trials_added,
       count(f.trial_id) FILTER (WHERE f.action = 'superseded') AS trials_superseded,
       count(f.trial_id) FILTER (WHERE f.action = 'removed')    AS trials_removed
FROM history.revisions AS r
LEFT JOIN history.commits AS c ON c.revision_id = r.revision_id AND c.makes_revision
LEFT JOIN history.revision_files AS f ON f.revision_id = r.revision_id
WHERE r.revision_id <= as_of_revision()
GROUP BY ALL
ORDER BY r.revision_id
