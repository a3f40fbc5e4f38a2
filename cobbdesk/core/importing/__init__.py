"""Bringing data into a study: film header scans, the film importer and CSV imports."""
