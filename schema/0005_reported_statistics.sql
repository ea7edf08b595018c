-- 0005_reported_statistics: what a trial reports instead of (or beside) a hazard ratio's CI, so that
-- the views can derive ln HR and its variance from it (Parmar et al. 1998; Tierney et al. 2007); and
-- the sequential monitoring stored with each pooled estimate (issue 12).
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

-- Sequential monitoring (trial sequential analysis) of an analysis with `monitoring:` in
-- queries/analyses.yaml, on its 'overall' row, at the revision's latest look (NULL elsewhere):
-- monitoring_crossed   the first boundary crossed so far: 'efficacy', 'harm', 'futility', or ''
-- monitoring_z         the cumulative z of the latest look; monitoring_bound its efficacy boundary
-- monitoring_fraction  the information fraction reached (accrued / required information)
-- monitoring_spec      the settings and required information as JSON (target, alpha, power, D2 ...)
ALTER TABLE history.pooled_estimates ADD COLUMN monitoring_crossed VARCHAR;
ALTER TABLE history.pooled_estimates ADD COLUMN monitoring_z DOUBLE;
ALTER TABLE history.pooled_estimates ADD COLUMN monitoring_bound DOUBLE;
ALTER TABLE history.pooled_estimates ADD COLUMN monitoring_fraction DOUBLE;
ALTER TABLE history.pooled_estimates ADD COLUMN monitoring_spec VARCHAR;
