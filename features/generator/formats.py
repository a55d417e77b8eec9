"""How ids and timestamps are spelled in the written tables, built column-wise with Arrow.

Formatting tens of millions of timestamps one by one takes minutes; these build the
fixed-width text in numpy and hand the bytes to Arrow without copying row by row.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Ids such as "C0000001": `prefix` and the number zero-padded to `width` digits."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def timestamps(seconds: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds as `timestamp[us, tz=UTC]`; `missing` marks nulls."""
    micros = pa.array(seconds.astype(np.int64) * 1_000_000, mask=missing)
    return micros.view(UTC_TIMESTAMP)


# "00".."99" as byte pairs, so each two-digit field is one table look-up.
_PAIRS = np.array([[ord(a), ord(b)] for a in "0123456789" for b in "0123456789"], dtype=np.uint8)


def iso_strings(
    seconds: np.ndarray, suffix: str = "Z", missing: np.ndarray | None = None
) -> pa.Array:
    """Epoch seconds as "YYYY-MM-DDTHH:MM:SS" + `suffix` strings; `missing` marks nulls.

    The wall-clock time is `seconds` itself: to write an instant with an offset, pass the
    instant shifted by that offset and the offset as suffix ("+02:00"), or "" for naive.
    """
    seconds = seconds.astype(np.int64)
    days = (seconds // 86_400).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    clock = seconds % 86_400
    fields = (
        year // 100,
        year % 100,
        months.astype(np.int64) % 12 + 1,
        (days - months).astype(np.int64) + 1,
        clock // 3600,
        clock // 60 % 60,
        clock % 60,
    )
    template = np.frombuffer(b"0000-00-00T00:00:00" + suffix.encode(), dtype=np.uint8)
    width = len(template)
    text = np.empty((len(seconds), width), dtype=np.uint8)
    text[:] = template
    for position, field in zip((0, 2, 5, 8, 11, 14, 17), fields, strict=True):
        text[:, position : position + 2] = _PAIRS[field]
    offsets = np.arange(0, width * (len(seconds) + 1), width, dtype=np.int32)
    validity = None
    null_count = 0
    if missing is not None and missing.any():
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
        null_count = int(missing.sum())
    return pa.Array.from_buffers(
        pa.string(),
        len(seconds),
        [validity, pa.py_buffer(offsets), pa.py_buffer(text.reshape(-1))],
        null_count=null_count,
    )
