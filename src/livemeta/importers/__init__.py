"""Importers: draft study files from other sources (``livemeta import``).

- :mod:`.ctgov`: ClinicalTrials.gov study records (API v2, legacy v1) -> a draft study file.
- :mod:`.ctgov_record`: reading either record layout into one model, every value with its path.
- :mod:`.fetch`: fetching a record from the ClinicalTrials.gov API.
- :mod:`.compare`: what a record adds to, or changes in, a trial already in the database.

An importer never writes the database: it writes a draft for a person to check, fill in,
validate and ingest.
"""
