-- Store the rows of `new_pooled_estimates` (a registered DataFrame with the table's columns): the
-- groups of the analyses whose result changed at their revision.
INSERT INTO history.pooled_estimates BY NAME
SELECT * FROM new_pooled_estimates
