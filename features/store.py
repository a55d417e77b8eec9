"""The curated store: typed Parquet tables published atomically as immutable versions.

Layout of a store folder::

    store/
      current -> versions/<fingerprint>     (symlink, replaced atomically)
      versions/<fingerprint>/<table>.parquet, quarantine/<table>.parquet, manifest.json

A store written in customer partitions (`ingest.partitions` > 1) holds each table as
`<table>/part-0000.parquet`, ... instead of `<table>.parquet`, each customer's rows of
every table in the part `partition_of` their id (the feature build per part is
`features.partitions`); `table_files` reads either layout.

Every version has all six tables with every contract column; its manifest records which
of them, and which columns, the source actually had (`present_sources`).

A version is written and published through `features.atomic`: a crash at any point
leaves the previous store readable.
Versions are named by a hash of their data files and of what the source had (not of the
rest of `manifest.json`, which records the run), so re-publishing the same data keeps
the existing version and makes it current.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.atomic import (
    discard_folder,
    pointed_folder,
    prune_folders,
    publish_folder,
    stage_folder,
)
from features.contracts import CONTRACTS, TABLE_NAMES, with_all_columns

CURRENT = "current"
VERSIONS = "versions"
MANIFEST = "manifest.json"
PART = "part-{:04d}.parquet"
"""File name of one customer partition of a table, in the table's folder."""
PART_GLOB = "part-*.parquet"
HASH_KEY = "advocacy-parts16"
"""SipHash key of the customer hash (16 characters): changing it moves customers between parts."""


def _update(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def file_fingerprint(path: Path) -> str:
    """SHA-256 of one file's bytes."""
    digest = hashlib.sha256()
    _update(digest, path)
    return digest.hexdigest()


def content_fingerprint(folder: Path, exclude: frozenset[str] = frozenset()) -> str:
    """SHA-256 over the relative paths and bytes of every file below `folder`."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name not in exclude:
            digest.update(name.encode())
            _update(digest, path)
    return digest.hexdigest()


def publish_version(root: Path, build: Callable[[Path], None], keep: int = 3) -> Path:
    """Build a new version with `build(folder)` and make it current, atomically.

    Returns the published version folder. Older versions beyond `keep` are removed,
    never the current one.
    """
    staged = stage_folder(root / VERSIONS)
    try:
        build(staged)
        final = publish_folder(staged, _version_name(staged), root / CURRENT)
    except BaseException:
        discard_folder(staged)
        raise
    prune_folders(final, root / CURRENT, keep)
    return final


def _version_name(folder: Path) -> str:
    """A hash of the data files and of what the source had.

    An absent column and a column without values store the same bytes; the name tells
    them apart, so a version's manifest always describes its own source.
    """
    digest = hashlib.sha256(content_fingerprint(folder, exclude=frozenset({MANIFEST})).encode())
    digest.update(json.dumps(present_sources(folder), sort_keys=True).encode())
    return digest.hexdigest()[:16]


def present_sources(version: Path) -> dict[str, list[str]]:
    """The tables a store version's source had, each with the contract columns it had.

    Read from the manifest's table reports (`files`, `columns`); tables the source lacked
    are left out (the store holds them empty). A version written before this was recorded
    counts as having had everything.
    """
    tables = json.loads((version / MANIFEST).read_text(encoding="utf-8"))["tables"]
    if any("columns" not in table for table in tables):
        return {name: list(CONTRACTS[name].column_names) for name in TABLE_NAMES}
    return {table["table"]: table["columns"] for table in tables if table["files"]}


def current_version(root: Path) -> Path:
    """The folder of the current version, or a clear error when there is none."""
    return pointed_folder(
        root / CURRENT, f"No curated store at {root}: run `advocacy ingest` first."
    )


def partition_of(ids: pa.Array | pa.ChunkedArray, partitions: int) -> np.ndarray:
    """The part of each customer id: SipHash-2-4 of its UTF-8 bytes, modulo `partitions`.

    The same id gets the same part in every table, run and machine.
    """
    values = np.asarray(ids.to_numpy(zero_copy_only=False), dtype=object)
    hashes = pd.util.hash_array(values, hash_key=HASH_KEY, categorize=False)
    return (hashes % np.uint64(partitions)).astype(np.int64)


def table_files(version: Path, table: str) -> list[Path]:
    """The Parquet files of one curated table: the table's file, or its partitions in order.

    None for a version published before the table was part of the store.
    """
    whole = version / f"{table}.parquet"
    if whole.exists():
        return [whole]
    return sorted((version / table).glob(PART_GLOB))


def partition_count(version: Path) -> int:
    """How many customer partitions a store version is written in (1: not partitioned)."""
    return len(table_files(version, "customers"))


def read_table(version: Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read one curated table of a store version (a folder `current_version` returned).

    A version published before the table was part of the store reads as an empty table.
    """
    files = table_files(version, table)
    if not files:
        empty = with_all_columns(pd.DataFrame(), CONTRACTS[table])
        return empty[columns] if columns is not None else empty
    if len(files) == 1:
        return pd.read_parquet(files[0], columns=columns)
    return pd.concat([pd.read_parquet(file, columns=columns) for file in files], ignore_index=True)


def table_rows(version: Path, table: str) -> int:
    """How many rows one curated table of a store version holds (read from its metadata)."""
    return sum(int(pq.ParquetFile(file).metadata.num_rows) for file in table_files(version, table))
