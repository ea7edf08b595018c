-- RCT progression-free survival, whole randomised comparison: one row per trial with yi = ln HR and vi.
SELECT * FROM analysis_rct_hr WHERE endpoint = 'pfs' AND population = 'overall'
