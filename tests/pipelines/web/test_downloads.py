"""A CSV download is sent while it is written: every byte, in order, or an error."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pipelines.web.downloads import sent_while_written, temporary_file


def test_the_bytes_arrive_while_the_file_is_written() -> None:
    path = temporary_file("csv")
    first_sent = threading.Event()

    def write(target: Path) -> None:
        with target.open("wb") as handle:
            handle.write(b"rank,customer_id\n")
            handle.flush()
            assert first_sent.wait(10)  # the reader got bytes before the writer finished
            handle.write(b"1,00042\n" * 50_000)

    stream = sent_while_written(path, write)
    assert next(stream) == b"rank,customer_id\n"
    first_sent.set()
    assert b"".join(stream) == b"1,00042\n" * 50_000
    assert not path.exists()


def test_a_failed_write_fails_the_stream_and_removes_the_file() -> None:
    path = temporary_file("csv")

    def write(target: Path) -> None:
        target.write_bytes(b"rank\n1\n")
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        b"".join(sent_while_written(path, write))
    assert not path.exists()
