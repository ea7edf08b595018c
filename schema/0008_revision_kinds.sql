-- 0008_revision_kinds: a revision says what kind of change it is, and carries the review's own note.
--
-- changes        the kinds of file of the evidence project the revision changed, in the order of
--                livemeta.project.FILE_KINDS: 'evidence' (study files: rows added, corrected or
--                removed), 'analyses' (the analyses file, the GRADE file, the project file's
--                settings); a kind added to that registry is one more value, no migration. Empty
--                for a reviewed merge that changed nothing; NULL for a revision replayed by a
--                livemeta before this migration (`livemeta build` rebuilds such a database), and
--                for one written before the history moved to git (an ingest of study files: read
--                as 'evidence').
-- note           the review's own words about the revision: the `Livemeta-Note:` trailers of its
--                commit, else the message of a commit that changes nothing but the project's own
--                files (what `livemeta ingest -m`, `resolve -m` and `version add -m` write), with the
--                note of a `livemeta resolve` that changed no file; NULL when there is none (a merge,
--                a developer's commit). `message` keeps the commit's message as git has it; a
--                revision recorded before this migration has no note, and is read with its
--                message (`livemeta ingest -m` wrote it) until `livemeta build` replays it again.
-- changed_files  the project's own files other than study files that the revision changed
--                (project-relative paths); study files are in revision_files.
-- (DuckDB cannot update a row other tables reference: existing rows keep NULL in the new columns.)
ALTER TABLE history.revisions ADD COLUMN changes VARCHAR[];
ALTER TABLE history.revisions ADD COLUMN note VARCHAR;
ALTER TABLE history.revisions ADD COLUMN changed_files VARCHAR[];
