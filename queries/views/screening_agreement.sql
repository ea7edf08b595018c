-- Agreement between the first two independent reviewers of each record, per stage, as of the session's revision: records with two reviewers, observed agreement, agreement expected by chance and Cohen's kappa (include, exclude and maybe as categories).
WITH latest AS (
    SELECT *, row_number() OVER (PARTITION BY screened_as, stage, reviewer ORDER BY decided_at DESC, record_id) AS k
    FROM screening_decisions WHERE role = 'independent'
),
ordered AS (
    SELECT *, row_number() OVER (PARTITION BY screened_as, stage ORDER BY decided_at, reviewer) AS position
    FROM latest WHERE k = 1
),
pairs AS (
    SELECT a.stage, a.screened_as, a.decision AS first, b.decision AS second
    FROM ordered AS a JOIN ordered AS b ON b.screened_as = a.screened_as AND b.stage = a.stage AND b.position = 2
    WHERE a.position = 1
),
n AS (SELECT stage, count(*) AS pairs, avg(CASE WHEN first = second THEN 1.0 ELSE 0.0 END) AS observed FROM pairs GROUP BY stage),
marginals AS (
    SELECT p.stage, c.category,
           avg(CASE WHEN p.first = c.category THEN 1.0 ELSE 0.0 END) AS p1,
           avg(CASE WHEN p.second = c.category THEN 1.0 ELSE 0.0 END) AS p2
    FROM pairs AS p, (VALUES ('include'), ('exclude'), ('maybe')) AS c(category)
    GROUP BY p.stage, c.category
),
expected AS (SELECT stage, sum(p1 * p2) AS expected FROM marginals GROUP BY stage)
SELECT n.stage, n.pairs, n.observed, e.expected,
       CASE WHEN e.expected < 1 THEN (n.observed - e.expected) / (1 - e.expected) END AS kappa
FROM n JOIN expected AS e USING (stage)
ORDER BY n.stage DESC
