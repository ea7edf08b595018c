-- Keep the text of an analyses file (once per content hash): (sha256, text).
INSERT INTO history.analysis_files VALUES (?, ?) ON CONFLICT DO NOTHING
