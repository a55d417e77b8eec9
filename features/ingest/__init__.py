"""Ingestion: source files in, a validated curated store version and quarantine files out.

`files` reads a table's source file in batches, `parsing` types the values,
`quarantine` judges rows against the contract, and `run` ties them into one run.
"""

from features.ingest.run import IngestReport, IngestSettings, TableReport, check_source, ingest

__all__ = ["IngestReport", "IngestSettings", "TableReport", "check_source", "ingest"]
