"""Data side of advocacy: contracts, ingestion, the curated store, generated worlds and features."""
