"""Orchestration of advocacy: configuration, Prefect flows and the command line."""
