-- Macros every view uses. Installed (CREATE OR REPLACE) whenever a writable connection opens.
--
-- as_of_revision(): the revision the session reads, from the variable `livemeta_as_of`
--   (`SET VARIABLE livemeta_as_of = 3`); unset, every revision (the current state).
-- visible_at(valid_from, valid_to): whether a history row is part of that state.
-- on_ratio_scale(x, scale): see below.
CREATE OR REPLACE MACRO as_of_revision() AS coalesce(getvariable('livemeta_as_of'), 2147483647);
CREATE OR REPLACE MACRO visible_at(valid_from, valid_to) AS
    valid_from <= as_of_revision() AND (valid_to IS NULL OR valid_to > as_of_revision());
-- revision_kind(kind, changes): what kind of change a revision is, in words, from how it was
-- written (history.revisions.kind: 'build' is the start of the history) and the kinds of project
-- file it changed: 'evidence', 'analyses only', 'evidence and analyses', 'start', 'no change' (a
-- merge whose conflict was reviewed); 'evidence' for a revision recorded before kinds were.
CREATE OR REPLACE MACRO revision_kind(kind, changes) AS CASE
    WHEN kind = 'build' THEN 'start'
    WHEN changes IS NULL THEN 'evidence'
    WHEN len(changes) = 0 THEN 'no change'
    WHEN NOT list_contains(changes, 'evidence') THEN array_to_string(changes, ' and ') || ' only'
    ELSE array_to_string(changes, ' and ') END;
-- revision_note(note, changes, message): the review's note on a revision; for one recorded before
-- kinds and notes were (changes NULL: an ingest outside git, or a database not replayed since),
-- its message.
CREATE OR REPLACE MACRO revision_note(note, changes, message) AS
    CASE WHEN changes IS NULL THEN coalesce(note, message) ELSE note END;
-- on_ratio_scale(x, scale): a pooled number back from its analysis scale: exp for 'log' (HR, OR,
-- RR), the inverse logit for 'logit' (proportions), as is for 'identity'.
CREATE OR REPLACE MACRO on_ratio_scale(x, scale) AS
    CASE scale WHEN 'log' THEN exp(x) WHEN 'logit' THEN 1 / (1 + exp(-x)) ELSE x END;

-- qnorm(p): the standard normal quantile (lower tail), Wichura's algorithm AS 241 (PPND16), the one
-- R's qnorm() uses: accurate to about 1e-16; NULL outside (0, 1). -qnorm(p) is z_{1-p}.
-- The one normal quantile of the SQL layer: z_crit (a CI level's critical value) and the hazard
-- ratios derived from printed p-values read it (the Python layer's is livemeta.pooling._dist;
-- tests/test_views.py holds the two together).
-- poly7(x, c7, ..., c0) = c7 x^7 + ... + c0 (Horner).
-- A macro copies its argument wherever its parameter appears: x and p are bound once (a one-element
-- list_transform), so that a view using qnorm binds a few hundred expressions, not thousands (half
-- the time of planning analysis_rct_hr went there). The numbers are the same, bit for bit.
CREATE OR REPLACE MACRO poly7(x, c7, c6, c5, c4, c3, c2, c1, c0) AS
    list_transform([x], lambda v: ((((((c7 * v + c6) * v + c5) * v + c4) * v + c3) * v + c2) * v + c1) * v + c0)[1];
CREATE OR REPLACE MACRO qnorm_central(q, r) AS
    q * poly7(r, 2509.0809287301226727e0, 33430.575583588128105e0, 67265.770927008700853e0,
              45921.953931549871457e0, 13731.693765509461125e0, 1971.5909503065514427e0,
              133.14166789178437745e0, 3.387132872796366608e0)
      / poly7(r, 5226.495278852545925e0, 28729.085735721942674e0, 39307.89580009271061e0,
              21213.794301586595867e0, 5394.1960214247511077e0, 687.1870074920579083e0,
              42.313330701600911252e0, 1.0e0);
CREATE OR REPLACE MACRO qnorm_tail(r) AS CASE
    WHEN r <= 5.0e0 THEN
        poly7(r - 1.6e0, 7.7454501427834140764e-4, 0.0227238449892691845833e0, 0.24178072517745061177e0,
              1.27045825245236838258e0, 3.64784832476320460504e0, 5.7694972214606914055e0,
              4.6303378461565452959e0, 1.42343711074968357734e0)
      / poly7(r - 1.6e0, 1.05075007164441684324e-9, 5.475938084995344946e-4, 0.0151986665636164571966e0,
              0.14810397642748007459e0, 0.68976733498510000455e0, 1.6763848301838038494e0,
              2.05319162663775882187e0, 1.0e0)
    ELSE
        poly7(r - 5.0e0, 2.01033439929228813265e-7, 2.71155556874348757815e-5, 0.0012426609473880784386e0,
              0.026532189526576123093e0, 0.29656057182850489123e0, 1.7848265399172913358e0,
              5.4637849111641143699e0, 6.6579046435011037772e0)
      / poly7(r - 5.0e0, 2.04426310338993978564e-15, 1.4215117583164458887e-7, 1.8463183175100546818e-5,
              7.868691311456132591e-4, 0.0148753612908506148525e0, 0.13692988092273580531e0,
              0.59983220655588793769e0, 1.0e0)
END;
CREATE OR REPLACE MACRO qnorm_double(p) AS CASE
    WHEN p IS NULL OR p <= 0 OR p >= 1 THEN NULL
    WHEN abs(p - 0.5e0) <= 0.425e0 THEN qnorm_central(p - 0.5e0, 0.180625e0 - (p - 0.5e0) * (p - 0.5e0))
    WHEN p < 0.5e0 THEN -qnorm_tail(sqrt(-ln(p)))
    ELSE qnorm_tail(sqrt(-ln(1.0e0 - p)))
END;
CREATE OR REPLACE MACRO qnorm(p) AS list_transform([CAST(p AS DOUBLE)], lambda v: qnorm_double(v))[1];
-- qnorm_list(ps): qnorm of each element of a list, with one copy of qnorm's body (a view that needs
-- several quantiles per row plans in a fraction of the time of as many qnorm() calls)
CREATE OR REPLACE MACRO qnorm_list(ps) AS list_transform(ps, lambda v: qnorm_double(CAST(v AS DOUBLE)));

-- z_crit(level): the two-sided normal critical value of a CI level in percent, as metafor computes it
-- (qnorm(alpha / 2, lower.tail = FALSE), alpha = 1 - level / 100): -qnorm((100 - level) / 200), for a
-- level given to one decimal (50.1 to 99.9, what validation accepts); NULL for any other level.
-- ci_tail(level) is the upper tail alpha / 2 of that level (NULL for a level not covered), for a view
-- that computes several quantiles in one qnorm_list.
CREATE OR REPLACE MACRO ci_tail(level) AS
    CASE WHEN level > 50 AND level < 100 AND round(level * 10) = level * 10 THEN (100e0 - level) / 200e0 END;
CREATE OR REPLACE MACRO z_crit(level) AS -qnorm(ci_tail(level));

-- vi_from_ci(ci_low, ci_high, level): the variance of a log ratio (HR) from its CI at `level` percent,
-- ((ln ci_high - ln ci_low) / (2 z_crit(level)))^2; NULL when the CI cannot be read (a bound <= 0,
-- bounds not increasing, a level z_crit does not cover). The one definition in SQL
-- (livemeta.pooling.effects.log_hr_from_ci is the same for arrays). vi_from_z(ci_low, ci_high, z) is
-- the same with z_crit(level) already computed: a macro's body is copied wherever it is used, and
-- qnorm's is long, so a view that reads one CI at two levels computes both z in one qnorm_list.
CREATE OR REPLACE MACRO vi_from_z(lo, hi, z) AS
    CASE WHEN lo > 0 AND hi > lo THEN pow((ln(hi) - ln(lo)) / (2 * z), 2) END;
CREATE OR REPLACE MACRO vi_from_ci(lo, hi, level) AS vi_from_z(lo, hi, z_crit(level));
