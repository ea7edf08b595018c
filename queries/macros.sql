-- Macros every view uses. Installed (CREATE OR REPLACE) whenever a writable connection opens.
--
-- as_of_revision(): the revision the session reads, from the variable `livemeta_as_of`
--   (`SET VARIABLE livemeta_as_of = 3`); unset, every revision (the current state).
-- visible_at(valid_from, valid_to): whether a history row is part of that state.
CREATE OR REPLACE MACRO as_of_revision() AS coalesce(getvariable('livemeta_as_of'), 2147483647);
CREATE OR REPLACE MACRO visible_at(valid_from, valid_to) AS
    valid_from <= as_of_revision() AND (valid_to IS NULL OR valid_to > as_of_revision());
