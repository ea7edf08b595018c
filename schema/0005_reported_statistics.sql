-- 0005_reported_statistics: what a trial reports instead of (or beside) a hazard ratio's CI, so that
-- the views can derive ln HR and its variance from it (Parmar et al. 1998; Tierney et al. 2007).
--
-- o_minus_e, oe_variance   the log-rank observed minus expected events (experimental arm) and its
--                          variance V: ln HR = (O - E) / V, var = 1 / V
-- logrank_chisq            a log-rank chi-square on 1 df (z = sqrt(chi2))
-- total_events             events in both arms, where they are not reported per arm
-- allocation_ratio         patients randomised to the experimental arm per control patient, where
--                          the arm sizes are not reported (2 for 2:1)
-- hr_direction             'below_1' or 'above_1': the side of 1 of an HR that is not printed
--                          (needed to derive it from a p-value or chi-square with events)
-- p_value and p_sided (0001) give the p-value as printed and whether it is one- or two-sided.
ALTER TABLE history.outcomes ADD COLUMN o_minus_e DOUBLE;
ALTER TABLE history.outcomes ADD COLUMN oe_variance DOUBLE;
ALTER TABLE history.outcomes ADD COLUMN logrank_chisq DOUBLE;
ALTER TABLE history.outcomes ADD COLUMN total_events INTEGER;
ALTER TABLE history.outcomes ADD COLUMN allocation_ratio DOUBLE;
ALTER TABLE history.outcomes ADD COLUMN hr_direction VARCHAR;
