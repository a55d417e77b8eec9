"""The web app over HTTP (in process): access rules, CSRF, limits, downloads, pages."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from models.scoring.control import ControlSettings, hold_out_controls
from pipelines.web.access import add_user, remove_user
from pipelines.web.app import WebSettings, create_app
from tests.pipelines.web.conftest import LATEST_RUN, NOT_RUNS, OLDER_RUN, SEGMENTS, Runs

PASSWORD = "correct horse battery"
PAGES = [
    "/",
    f"/?run={OLDER_RUN}&segment=Champion",
    "/download.csv",
    "/download.xlsx?include_not_contactable=1",
    "/customer?id=C001",
    f"/runs/{LATEST_RUN}/report.html",
]


def client(scores: Path, host: str = "127.0.0.1", require_login: bool = False) -> TestClient:
    settings = WebSettings(scores, SEGMENTS, host=host, require_login=require_login)
    return TestClient(create_app(settings), follow_redirects=False)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def log_in(browser: TestClient, name: str = "ann", password: str = PASSWORD) -> int:
    """Log in through the form; returns the status of the form's answer."""
    token = csrf_of(browser.get("/login").text)
    answer = browser.post("/login", data={"name": name, "password": password, "csrf": token})
    if answer.status_code == 429:
        assert "Too many failed logins: try again in 15 minutes." in answer.text
    return answer.status_code


def audit_lines(scores: Path) -> list[dict[str, object]]:
    path = scores / "downloads.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def with_user(scores: Path) -> Path:
    add_user(scores / "users.json", "ann", PASSWORD)
    return scores


def test_open_access_on_loopback_without_users(scores: Path, runs: Runs) -> None:
    browser = client(scores)
    page = browser.get("/")
    assert page.status_code == 200
    assert "Open access: there are no users" in page.text
    assert f"<strong>{len(runs.latest)}</strong> customers match" in page.text
    assert browser.get("/login").headers["location"] == "/"  # nothing to log in to


@pytest.mark.parametrize(
    ("host", "require_login"), [("0.0.0.0", False), ("::", False), ("127.0.0.1", True)]
)
def test_every_page_and_download_needs_a_login_unless_open(
    with_user: Path, host: str, require_login: bool
) -> None:
    browser = client(with_user, host, require_login)
    for path in PAGES:
        answer = browser.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login"), path
        assert "C0" not in answer.text
    assert audit_lines(with_user) == []
    assert browser.get("/login").status_code == 200


def test_users_on_loopback_close_open_access(with_user: Path) -> None:
    assert client(with_user).get("/").headers["location"] == "/login"


def test_log_in_see_the_list_log_out(with_user: Path) -> None:
    browser = client(with_user, "0.0.0.0")
    browser.cookies.set("advocacy_session", "chosen-by-an-attacker", domain="testserver.local")
    assert log_in(browser) == 303
    session = browser.cookies["advocacy_session"]
    assert session != "chosen-by-an-attacker" and len(session) >= 40  # no fixation
    page = browser.get("/")
    assert page.status_code == 200 and "ann" in page.text and "Open access" not in page.text
    for path in PAGES:
        assert browser.get(path).status_code == 200, path

    assert browser.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert browser.get("/").status_code == 200  # still logged in
    assert browser.post("/logout", data={"csrf": csrf_of(page.text)}).status_code == 303
    assert browser.get("/").headers["location"] == "/login"


def test_cookies_are_http_only_and_same_site(with_user: Path) -> None:
    browser = client(with_user, "0.0.0.0")
    login_cookie = browser.get("/login").headers["set-cookie"]
    token = csrf_of(browser.get("/login").text)
    data = {"name": "ann", "password": PASSWORD, "csrf": token}
    session_cookie = browser.post("/login", data=data).headers["set-cookie"]
    for cookie in (login_cookie, session_cookie):
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie


def test_login_needs_the_token_of_its_own_form(with_user: Path) -> None:
    browser = client(with_user, "0.0.0.0")
    data = {"name": "ann", "password": PASSWORD}
    token = csrf_of(browser.get("/login").text)
    other = client(with_user, "0.0.0.0")  # another browser, or a forged page
    assert other.post("/login", data={**data, "csrf": token}).status_code == 403  # no cookie
    assert browser.post("/login", data=data).status_code == 403  # no token
    assert browser.post("/login", data={**data, "csrf": "forged"}).status_code == 403
    browser.cookies.set("advocacy_login", "another value", domain="testserver.local")
    assert browser.post("/login", data={**data, "csrf": token}).status_code == 403
    assert browser.get("/").headers["location"] == "/login"


def test_failed_logins_are_limited_per_user_and_per_address(with_user: Path) -> None:
    add_user(with_user / "users.json", "bob", PASSWORD)
    browser = client(with_user, "0.0.0.0")
    assert [log_in(browser, "ann", "wrong password!") for _ in range(5)] == [401] * 5
    assert log_in(browser, "ann") == 429  # the right password, too late
    assert log_in(browser, "bob") == 303  # another user from the same address
    for attempt in range(15):
        assert log_in(browser, f"nobody{attempt}", "wrong password!") == 401
    assert log_in(browser, "bob") == 429  # 20 failures from this address


def test_a_removed_users_session_ends(with_user: Path) -> None:
    browser = client(with_user, "0.0.0.0")
    assert log_in(browser) == 303
    remove_user(with_user / "users.json", "ann")
    assert browser.get("/").headers["location"] == "/login"


def test_downloads_leave_out_not_contactable_and_are_logged(with_user: Path, runs: Runs) -> None:
    browser = client(with_user, "0.0.0.0")
    log_in(browser)
    nurture = runs.latest[runs.latest["segment"] == "Nurture"]
    answer = browser.get("/download.csv", params={"segment": "Nurture", "min_chance": ""})
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="advocates_{LATEST_RUN}.csv"'
    )
    ids = re.findall(r'^\d+,"([^"]+)"', answer.content.decode("utf-8-sig"), re.MULTILINE)
    assert ids == nurture.loc[nurture["contactable"], "customer_id"].tolist()

    everyone = browser.get(
        "/download.xlsx", params={"run": OLDER_RUN, "include_not_contactable": "on"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(everyone.content)).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == (
        runs.older["customer_id"].tolist()
    )
    first, second = audit_lines(with_user)
    assert first["user"] == "ann" and first["format"] == "csv" and first["run"] == LATEST_RUN
    assert first["filter"] == {"run": LATEST_RUN, "segment": "Nurture"}
    assert first["rows"] == nurture["contactable"].sum()
    assert second["filter"] == {"run": OLDER_RUN, "include_not_contactable": True}
    assert second["rows"] == len(runs.older) and second["format"] == "xlsx"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", str(first["at"]))


def test_a_download_of_everyone_is_the_runs_own_file(scores: Path) -> None:
    browser = client(scores)
    csv = browser.get("/download.csv?include_not_contactable=1")
    assert csv.content == (scores / LATEST_RUN / "ranked_list.csv").read_bytes()
    xlsx = browser.get("/download.xlsx?include_not_contactable=1")
    downloaded = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    written = openpyxl.load_workbook(scores / LATEST_RUN / "ranked_list.xlsx")
    assert downloaded.sheetnames == written.sheetnames
    for name in written.sheetnames:
        assert list(downloaded[name].values) == list(written[name].values)
    assert audit_lines(scores)[0]["user"] is None  # open access


def test_a_download_with_a_bad_filter_is_refused(scores: Path) -> None:
    answer = client(scores).get("/download.csv?segment=VIP")
    assert answer.status_code == 400 and "There is no segment &#39;VIP&#39;" in answer.text
    assert audit_lines(scores) == []


@pytest.mark.parametrize("name", [*NOT_RUNS, "%252e%252e"])
@pytest.mark.parametrize("path", ["/", "/evaluation", "/download.csv", "/customer?id=C001"])
def test_no_request_opens_anything_but_a_run(cluttered: Path, path: str, name: str) -> None:
    answer = client(cluttered).get(path, params={"run": name})
    assert answer.status_code == 404
    assert "There is no run" in answer.text
    assert audit_lines(cluttered) == [{}]  # the stand-in line only: nothing downloaded


@pytest.mark.parametrize(
    "path",
    [
        "/..%2f..%2fetc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/runs/latest/../../../etc/passwd",
        "/runs/latest/%2e%2e/manifest.json",
    ],
)
def test_paths_lead_nowhere(scores: Path, path: str) -> None:
    assert client(scores).get(path).status_code == 404


def test_the_list_pages_through_the_filtered_customers(scores: Path, runs: Runs) -> None:
    browser = client(scores)
    second = browser.get("/?page=2")
    ranks = [int(r) for r in re.findall(r'<td class="number">(\d+)</td>\s*<td><a', second.text)]
    assert ranks == list(range(51, 101))
    assert "Page 2 of 3" in second.text
    assert f'href="/?run={LATEST_RUN}&amp;page=3"' in second.text
    assert "Page 3 of 3" in browser.get("/?page=999").text
    champions = browser.get("/?segment=Champion&contactable=yes")
    expected = runs.latest.query("segment == 'Champion' and contactable")
    assert f"<strong>{len(expected)}</strong> customers match" in champions.text
    assert "Page 1 of 1" in champions.text
    bad = browser.get("/?min_chance=abc")
    assert bad.status_code == 200 and "The minimum chance must be a percentage" in bad.text


def test_the_customer_page_shows_reasons_and_timeline(scores: Path, runs: Runs) -> None:
    browser = client(scores)
    row = runs.latest.set_index("customer_id").loc["C002"]
    page = browser.get("/customer", params={"id": "C002"}).text
    assert f"{row['probability'] * 100:.1f} %" in page and row["segment"] in page
    for reason in (row["reason_1"], row["reason_2"], row["reason_3"]):
        assert reason.replace("'", "&#39;") in page
    assert page.index("ticket id T2") < page.index("order id O2")  # newest first
    assert "event type community post" in page and "community_post" not in page
    older = browser.get("/customer", params={"id": "C001", "run": OLDER_RUN}).text
    after = re.findall(r'<tr class="after">\s*<td>([\d-]+)', older)
    assert after == ["2024-05-01", "2024-04-01", "2024-03-01"]  # on or after 2024-03-01
    missing = browser.get("/customer", params={"id": "C999"})
    assert missing.status_code == 404 and "&#39;C999&#39; is not in this run" in missing.text


def test_the_report_and_the_headers(scores: Path) -> None:
    browser = client(scores)
    report = browser.get(f"/runs/{OLDER_RUN}/report.html")
    assert report.text == f"<!DOCTYPE html><h1>Report of run {OLDER_RUN}</h1>"
    assert "frame-ancestors 'none'" in report.headers["content-security-policy"]
    assert report.headers["x-content-type-options"] == "nosniff"
    for docs in ("/docs", "/openapi.json", "/redoc"):
        assert browser.get(docs).status_code == 404


def test_the_reports_links_lead_to_its_files_through_the_page(scores: Path, runs: Runs) -> None:
    browser = client(scores)
    assert f'href="/runs/{LATEST_RUN}/report.html"' in browser.get("/").text
    whole_list = browser.get(f"/runs/{LATEST_RUN}/ranked_list.xlsx")
    assert whole_list.status_code == 303
    assert whole_list.headers["location"] == (
        f"/download.xlsx?run={LATEST_RUN}&include_not_contactable=1"
    )
    champions = browser.get(f"/runs/{LATEST_RUN}/segments/champion.csv")
    expected = runs.latest.query("segment == 'Champion' and contactable")
    assert champions.status_code == 200
    sent = pd.read_csv(io.BytesIO(champions.content), encoding="utf-8-sig", dtype=str)
    assert sent["customer_id"].tolist() == expected["customer_id"].tolist()
    assert audit_lines(scores)[-1]["filter"] == {"run": LATEST_RUN, "file": "segments/champion.csv"}
    assert audit_lines(scores)[-1]["rows"] == len(expected)
    for other in ("ranked_list.parquet", "manifest.json", "segments/../manifest.json", "x.csv"):
        answer = browser.get(f"/runs/{LATEST_RUN}/{other}")
        assert answer.status_code == 404, other
    assert browser.get("/runs/not-a-run/report.html").status_code == 404


def test_without_runs_the_page_says_what_to_do(tmp_path: Path) -> None:
    answer = client(tmp_path).get("/")
    assert answer.status_code == 404 and "There is no scoring run yet" in answer.text


def test_an_evaluated_run_links_to_what_its_outreach_did(scores: Path) -> None:
    browser = client(scores)
    assert "What its outreach did" not in browser.get("/").text
    missing = browser.get("/evaluation")
    assert missing.status_code == 404 and "has not been evaluated" in missing.text
    (scores / OLDER_RUN / "evaluation").mkdir()
    (scores / OLDER_RUN / "evaluation" / "outreach.html").write_text("<h1>What outreach did</h1>")
    listed = browser.get("/", params={"run": OLDER_RUN}).text
    assert f'href="/evaluation?run={OLDER_RUN}"' in listed
    shown = browser.get("/evaluation", params={"run": OLDER_RUN})
    assert shown.status_code == 200 and shown.text == "<h1>What outreach did</h1>"


def test_control_customers_are_marked_in_the_list_and_on_their_page(
    scores: Path, runs: Runs
) -> None:
    ranked = runs.latest.assign(
        control=hold_out_controls(runs.latest, ControlSettings(control_share=0.3))
    )
    ranked.to_parquet(scores / LATEST_RUN / "ranked_list.parquet", index=False)
    browser = client(scores)
    listed = browser.get("/?contactable=yes").text
    shown = ranked[ranked["contactable"]].head(50)
    cells = re.findall(r"<td>(yes[^<]*)</td>\s*</tr>", listed)
    assert cells == [
        "yes, control group: do not contact" if control else "yes" for control in shown["control"]
    ]
    held_out = ranked.groupby("segment")["control"].sum()
    for segment, control in held_out[held_out > 0].items():
        assert re.search(
            rf"<td>{segment}</td>(\s*<td class=\"number\">[\d,]+</td>){{2}}"
            rf"<td class=\"number\">{control}</td>",
            listed,
        )
    one = ranked.loc[ranked["control"], "customer_id"].iloc[0]
    other = ranked.loc[~ranked["control"], "customer_id"].iloc[0]
    assert "held out of this run's outreach" in browser.get("/customer", params={"id": one}).text
    assert "held out" not in browser.get("/customer", params={"id": other}).text
