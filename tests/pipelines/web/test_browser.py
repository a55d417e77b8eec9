"""The web page in a real browser (Debian's chromium driven by Playwright) against the
real server in its own process: log in, filter, download, open a customer, log out.

Screenshots of the list at 1366 and 390 pixels wide are left in the test's tmp_path.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from models.scoring.files import LIST_SHEET
from pipelines.web.access import add_user
from tests.pipelines.web.conftest import LATEST_RUN, Runs

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server stopped: {log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"the server did not answer within 90 s: {log.read_text()}")


@pytest.fixture(scope="module")
def server(runs: Runs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`advocacy serve --require-login` on a free loopback port, with one user; its URL."""
    scores = tmp_path_factory.mktemp("served") / "scores"
    shutil.copytree(runs.scores, scores, symlinks=True)
    add_user(scores / "users.json", "ann", PASSWORD)
    url = f"http://127.0.0.1:{free_port()}"
    command = [
        str(Path(sys.executable).with_name("advocacy")),
        "serve",
        "--port",
        url.rsplit(":", 1)[1],
        "--scores",
        str(scores),
        "--require-login",
    ]
    environment = {k: v for k, v in os.environ.items() if k != "ADVOCACY_CONFIG"}
    log = scores.parent / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=output, env=environment)
    try:
        wait_until_up(f"{url}/login", process, log)
        yield url, scores
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `apt-get install -y chromium` (make test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def spreadsheet_rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """What the XLSX file holds for each row: moments as text, empty text as empty cells."""
    shown = frame.assign(as_of=frame["as_of"].dt.strftime("%Y-%m-%d %H:%M %Z"))
    shown = shown.astype(object).replace({"": None})
    return [tuple(row) for row in shown.itertuples(index=False)]


def log_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("User name").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")


def test_anonymous_visitors_get_the_login_page_only(
    server: tuple[str, Path], browser: Browser
) -> None:
    url, scores = server
    page = browser.new_page()
    for path in ("/", "/download.xlsx?include_not_contactable=1", "/customer?id=C001"):
        page.goto(url + path)
        assert page.url == f"{url}/login"
        assert page.get_by_role("heading", name="Log in").is_visible()
        assert "C00" not in page.content()
    assert not (scores / "downloads.jsonl").exists()
    page.close()


def test_log_in_filter_download_and_look_at_a_customer(
    server: tuple[str, Path], browser: Browser, runs: Runs, tmp_path: Path
) -> None:
    url, scores = server
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, url)
    assert page.locator("header").get_by_text("ann", exact=True).is_visible()

    page.get_by_label("Segment").select_option("Nurture")
    page.get_by_label("Minimum chance (%)").fill("20")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**segment=Nurture**")
    nurture = runs.latest.query("segment == 'Nurture' and probability >= 0.2")
    counts = page.locator("#counts").inner_text()
    assert counts.startswith(f"{len(nurture)} customers match; {nurture['contactable'].sum()} ")
    shown = page.locator("table.list tbody tr td:nth-child(2)").all_inner_texts()
    assert shown == nurture["customer_id"].tolist()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download XLSX").click()
    download.value.save_as(tmp_path / "nurture.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "nurture.xlsx")[LIST_SHEET]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows == spreadsheet_rows(nurture[nurture["contactable"]])  # opted-in only
    assert len(rows) > 5

    page.get_by_label("Include not contactable").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    download.value.save_as(tmp_path / "nurture.csv")
    everyone = pd.read_csv(tmp_path / "nurture.csv", dtype={"customer_id": "str"})
    assert everyone["customer_id"].tolist() == nurture["customer_id"].tolist()
    assert (~everyone["contactable"]).sum() > 0

    page.screenshot(path=tmp_path / "list-1366.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=tmp_path / "list-390.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # only the table scrolls

    first = nurture.iloc[0]
    page.get_by_role("link", name=first["customer_id"], exact=True).click()
    assert page.get_by_role("heading", name=f"Customer {first['customer_id']}").is_visible()
    assert page.get_by_text(first["reason_1"], exact=True).is_visible()
    page.go_back()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{url}/login")
    page.goto(f"{url}/?run={LATEST_RUN}")
    assert page.url == f"{url}/login"
    audit = (scores / "downloads.jsonl").read_text().splitlines()
    assert len(audit) == 2 and all('"user": "ann"' in line for line in audit)
    page.close()
