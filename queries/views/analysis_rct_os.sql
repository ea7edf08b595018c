-- RCT overall survival, whole randomised comparison: one row per trial with yi = ln HR and vi.
SELECT * FROM analysis_rct_hr WHERE endpoint = 'os' AND population = 'overall'
