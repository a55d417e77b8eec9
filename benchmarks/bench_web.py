"""The web page on a million-customer run: filtered pages and downloads over HTTP.

    python -m benchmarks.bench_web --customers 1000000

Writes a synthetic run (`bench_score.synthetic_list`, no model) into data/bench/web/,
starts `advocacy serve` on a free loopback port, and times requests as a browser sends
them: the first one (which loads the run), then each filtered page and each download
`--repeat` times (median shown). Targets (2 cores): a filtered page in under 300 ms,
and a 100,000-row CSV download that starts (first byte) within 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from benchmarks.bench_score import synthetic_list
from models.scoring.files import write_manifest
from pipelines.web.downloads import AUDIT_FILE

BENCH = Path("data/bench/web")
RUN = "2026-10-01_v1_20261002T060000000000"
PAGES = {
    "whole list, page 1": {},
    "segment + minimum chance": {"segment": "Champion", "min_chance": "50"},
    "reason topic + contactable": {"topic": "Raises: gave NPS #", "contactable": "yes"},
    "customer id search": {"q": "C0000123"},
    "page 5,000": {"page": "5000"},
}


def write_run(customers: int) -> Path:
    """The runs folder with one synthetic run of `customers` (written once per size)."""
    scores = BENCH / f"scores-{customers}"
    folder = scores / RUN
    if not (folder / "manifest.json").exists():
        ranked = synthetic_list(customers)
        folder.mkdir(parents=True, exist_ok=True)
        ranked.to_parquet(folder / "ranked_list.parquet", index=False)
        counts = ranked.groupby("segment", sort=False)["contactable"].agg(["size", "sum"])
        write_manifest(
            folder,
            {
                "model_name": "advocacy-propensity",
                "model_version": "1",
                "as_of": ranked["as_of"].iloc[0].isoformat(),
                "customers": len(ranked),
                "segments": {
                    str(name): {"customers": int(row["size"]), "contactable": int(row["sum"])}
                    for name, row in counts.iterrows()
                },
                "input_store": str(BENCH / "no-store"),
                "input_fingerprint": "none",
            },
        )
    return scores


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed_get(url: str) -> tuple[float, float, int]:
    """Seconds to the first byte of the body, seconds to the last, and the bytes read."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as answer:
        first = answer.read(1)
        first_byte = time.perf_counter() - started
        size = len(first) + len(answer.read())
    return first_byte, time.perf_counter() - started, size


def serve(scores: Path, port: int) -> subprocess.Popen[bytes]:
    """`advocacy serve` on loopback (open access), once it answers."""
    command = [
        str(Path(sys.executable).with_name("advocacy")),
        "serve",
        "--port",
        str(port),
        "--scores",
        str(scores),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("the server did not start within 180 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    scores = write_run(args.customers)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(scores, port)
    try:
        _, seconds, _ = timed_get(f"{base}/")
        print(f"{args.customers:,}-customer run; first request (loads the run) {seconds:.2f} s")
        for name, query in PAGES.items():
            times = [timed_get(f"{base}/?{urlencode(query)}")[1] for _ in range(args.repeat)]
            print(f"  page: {name:<28} median {statistics.median(times) * 1000:6.0f} ms")
        # The top 10 % by probability: 100,000 rows of a million (synthetic_list is uniform).
        top = {"min_chance": "90", "include_not_contactable": "1"}
        for kind in ("csv", "xlsx"):
            runs = [timed_get(f"{base}/download.{kind}?{urlencode(top)}") for _ in range(3)]
            first = statistics.median(r[0] for r in runs)
            whole = statistics.median(r[1] for r in runs)
            rows = json.loads((scores / AUDIT_FILE).read_text().splitlines()[-1])["rows"]
            print(f"  download {kind:<4} {rows:,} rows ({runs[0][2] / 2**20:.1f} MiB): median "
                  f"first byte {first:.2f} s, whole file {whole:.2f} s")  # fmt: skip
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
