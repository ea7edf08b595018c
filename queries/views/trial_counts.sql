-- Number of trials by design, inclusion status and treatment class of their experimental or single arms.
SELECT
    t.design,
    t.inclusion,
    a.treatment_class,
    count(DISTINCT t.trial_id) AS trials
FROM trials AS t
JOIN arms AS a ON a.trial_id = t.trial_id AND a.role IN ('experimental', 'single') AND a.pd1_agent IS NOT NULL
GROUP BY ALL
ORDER BY t.design DESC, t.inclusion, trials DESC, a.treatment_class
