"""The web page: a FastAPI app that serves the ranked lists of the scoring runs.

Pages are rendered on the server from Jinja templates that extend the report's
`base.html`; filters are plain HTML forms sent as GET query strings, so a filtered
list is a link that can be bookmarked or mailed, and the page needs no JavaScript.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import pandas as pd
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.background import BackgroundTask

from features.errors import UserError
from models.outreach.evaluate import EVALUATION
from models.outreach.record import REPORT
from models.scoring.files import (
    DEFAULT_HORIZON_DAYS,
    list_columns,
    run_order,
    write_csv,
    write_xlsx,
)
from models.scoring.schemas import REASON_COLUMNS
from models.scoring.segments import SegmentSettings
from pipelines.web.access import (
    USERS_FILE,
    LoginLimiter,
    Sessions,
    form_token,
    is_loopback,
    password_matches,
    read_users,
)
from pipelines.web.downloads import (
    AUDIT_FILE,
    MEDIA_TYPES,
    Format,
    log_download,
    sent_while_written,
    temporary_file,
)
from pipelines.web.listing import PAGE_COLUMNS, PAGE_SIZE, RunList, RunLists, read_filter
from pipelines.web.runs import Run, UnknownRun, find_run, latest_name, run_names
from pipelines.web.timeline import customer_timeline

SESSION_COOKIE = "advocacy_session"
LOGIN_COOKIE = "advocacy_login"
"""A random value per browser that the login form's CSRF token is signed from."""
LOGIN_WINDOW = 15 * 60  # seconds
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class WebSettings:
    """Where the runs are, where the page listens, and whether it must ask for a login."""

    scores: Path
    segments: SegmentSettings
    """The segment rules explained on the XLSX file's second sheet."""
    host: str = "127.0.0.1"
    port: int = 8000
    require_login: bool = False

    @property
    def login_forced(self) -> bool:
        """Login is needed whatever the users file holds: off loopback, or when asked."""
        return self.require_login or not is_loopback(self.host)


@dataclass
class WebState:
    """What the app keeps between requests."""

    settings: WebSettings
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    """Signs the login form's CSRF tokens; new at every start."""
    sessions: Sessions = field(default_factory=Sessions)
    failures_by_user: LoginLimiter = field(default_factory=lambda: LoginLimiter(5, LOGIN_WINDOW))
    failures_by_address: LoginLimiter = field(
        default_factory=lambda: LoginLimiter(20, LOGIN_WINDOW)
    )
    lists: RunLists = field(default_factory=RunLists)

    @property
    def users_file(self) -> Path:
        """The users file, beside the runs."""
        return self.settings.scores / USERS_FILE

    def login_required(self) -> bool:
        """Whether pages need a logged-in user now (adding a user closes open access)."""
        return self.settings.login_forced or bool(read_users(self.users_file))


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a logged-in user, or nobody in particular on open access."""

    user: str | None
    csrf: str | None
    """The token of the log-out form (none on open access)."""


class LoginNeeded(Exception):
    """The request needs a logged-in user and has none."""


@cache
def templates() -> Jinja2Templates:
    """The web templates, which extend the report's `base.html`; every value is escaped."""
    environment = Environment(
        loader=ChoiceLoader([PackageLoader("pipelines.web"), PackageLoader("models.scoring")]),
        autoescape=select_autoescape(),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=environment)


def web(request: Request) -> WebState:
    """The app's state."""
    state: WebState = request.app.state.web
    return state


def current_viewer(request: Request) -> Viewer:
    """The viewer of a request; raises `LoginNeeded` when a login is required and missing.

    A session whose user has been removed since no longer counts.
    """
    state = web(request)
    if not state.login_required():
        return Viewer(None, None)
    session = state.sessions.find(request.cookies.get(SESSION_COOKIE))
    if session is None or session.user not in read_users(state.users_file):
        raise LoginNeeded
    return Viewer(session.user, session.csrf)


LoggedIn = Annotated[Viewer, Depends(current_viewer)]
router = APIRouter()


def page(
    request: Request, name: str, viewer: Viewer | None, status: int = 200, **context: Any
) -> Response:
    """A rendered page; every page knows its viewer (for log-out and the open-access note)."""
    open_access = viewer is not None and viewer.user is None
    return templates().TemplateResponse(
        request,
        name,
        {
            "viewer": viewer,
            "open_access": open_access,
            "reason_columns": REASON_COLUMNS,
            **context,
        },
        status_code=status,
    )


def message(
    request: Request, viewer: Viewer | None, status: int, title: str, text: str
) -> Response:
    """A page that says one thing (an error, mostly)."""
    return page(request, "message.html", viewer, status, title=title, text=text)


def headers_of(column: str) -> str:
    """A list column's header in words, as in the XLSX file."""
    return list_columns(DEFAULT_HORIZON_DAYS)[column].header


def link(path: str, **parameters: Any) -> str:
    """A link to one of the app's pages, without the empty parameters."""
    kept = {name: value for name, value in parameters.items() if value not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def page_number(text: str | None, pages: int) -> int:
    """The page asked for, within 1..pages (anything else shows the first page)."""
    try:
        number = int(text or 1)
    except ValueError:
        number = 1
    return min(max(number, 1), pages)


def open_list(request: Request) -> tuple[Run, RunList]:
    """The run a request names (the latest by default) and its loaded list."""
    state = web(request)
    run = find_run(state.settings.scores, request.query_params.get("run"))
    return run, state.lists.get(run.folder, list(run.manifest["segments"]))


@router.get("/")
def list_page(request: Request, viewer: LoggedIn) -> Response:
    """The ranked list of a run, filtered, with counts, pages and download buttons."""
    run, lists = open_list(request)
    form = read_filter(request.query_params, lists.choices)
    counts = lists.counts(form.filter)
    total = sum(count.customers for count in counts)
    contactable = sum(count.contactable for count in counts)
    control = sum(count.control for count in counts)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    number = page_number(request.query_params.get("page"), pages)
    rows = lists.page(form.filter, number).to_dict("records")
    names = run_names(web(request).settings.scores)
    # Links to other pages of the list name this run, should `latest` move meanwhile.
    query = {"run": run.name} | {k: v for k, v in request.query_params.items() if k != "run"}
    return page(
        request,
        "list.html",
        viewer,
        run=run,
        as_of=f"{pd.Timestamp(run.manifest['as_of']):%Y-%m-%d %H:%M %Z}",
        runs=names,
        latest=latest_name(web(request).settings.scores, names),
        choices=lists.choices,
        chosen=form.filter,
        min_chance=query.get("min_chance", ""),
        contactable_choice=query.get("contactable", ""),
        errors=form.errors,
        counts=counts,
        total=total,
        contactable=contactable,
        control=control,
        download_rows=(total if form.filter.include_not_contactable else contactable) - control,
        rows=rows,
        columns={column: headers_of(column) for column in PAGE_COLUMNS},
        number=number,
        pages=pages,
        previous_page=link("/", **{**query, "page": number - 1}) if number > 1 else None,
        next_page=link("/", **{**query, "page": number + 1}) if number < pages else None,
        customer_link=lambda customer_id: link("/customer", run=run.name, id=customer_id),
        report_link=f"/runs/{quote(run.name)}/report.html",
        evaluation_link=link("/evaluation", run=run.name)
        if (run.folder / EVALUATION / REPORT).is_file()
        else None,
        clear_link=link("/", run=run.name),
    )


def download(request: Request, viewer: Viewer, kind: Format) -> Response:
    """The filtered list as a file in the run's format, logged in the audit file."""
    run, lists = open_list(request)
    form = read_filter(request.query_params, lists.choices)
    if form.errors:
        return message(request, viewer, 400, "Nothing downloaded", " ".join(form.errors))
    frame = lists.download(form.filter)
    log_download(
        web(request).settings.scores / AUDIT_FILE,
        viewer.user,
        run.name,
        kind,
        {"run": run.name, **form.filter.described()},
        len(frame),
    )
    name = f"advocates_{run.name}.{kind}"
    path = temporary_file(kind)
    if kind == "csv":
        return StreamingResponse(
            sent_while_written(path, lambda partial: write_csv(frame, partial)),
            media_type=MEDIA_TYPES[kind],
            headers={"Content-Disposition": f'attachment; filename="{quote(name)}"'},
        )
    write_xlsx(frame, path, web(request).settings.segments, order_by=run_order(run.manifest))
    return FileResponse(
        path, media_type=MEDIA_TYPES[kind], filename=name, background=BackgroundTask(path.unlink)
    )


@router.get("/download.csv")
def download_csv(request: Request, viewer: LoggedIn) -> Response:
    """The filtered list as CSV, as the run's ranked_list.csv is written."""
    return download(request, viewer, "csv")


@router.get("/download.xlsx")
def download_xlsx(request: Request, viewer: LoggedIn) -> Response:
    """The filtered list as XLSX, as the run's ranked_list.xlsx is written."""
    return download(request, viewer, "xlsx")


@router.get("/customer")
def customer_page(request: Request, viewer: LoggedIn) -> Response:
    """One customer: probability, segment, program, reasons, and their timeline."""
    run, lists = open_list(request)
    customer_id = request.query_params.get("id", "")
    row = lists.customer(customer_id)
    if row is None:
        text = f"'{customer_id}' is not in this run."
        return message(request, viewer, 404, "No such customer", text)
    version = run.store_version
    return page(
        request,
        "customer.html",
        viewer,
        run=run,
        row=row,
        headers={column: headers_of(column) for column in row},
        events=customer_timeline(version, customer_id, row["as_of"]) if version.is_dir() else None,
        version=version.name,
        back_link=link("/", run=run.name),
    )


def report_files(manifest: dict[str, Any]) -> set[str]:
    """The files of a run its report links to, besides the ranked list itself."""
    files = set(manifest.get("segment_files", {}).values())
    newcomers = manifest.get("monitoring", {}).get("newcomers", {})
    return files | {counts["file"] for counts in newcomers.values()}


@router.get("/runs/{name}/{file:path}")
def run_file(request: Request, viewer: LoggedIn, name: str, file: str) -> Response:
    """The run's own report.html, and the files it links to, at the paths it links them.

    The ranked list goes through the page's own download (control customers left out,
    logged); segment and newcomer files, written without control customers, are sent as
    they are and logged. Nothing else of the run folder is served.
    """
    run = find_run(web(request).settings.scores, name)
    if file in ("ranked_list.csv", "ranked_list.xlsx"):
        whole_list = link(
            f"/download.{file.rsplit('.', 1)[1]}", run=run.name, include_not_contactable=1
        )
        return RedirectResponse(whole_list, status_code=303)
    path = run.folder / file
    served = {"report.html", *report_files(run.manifest)}
    if file not in served or not path.is_file() or path.is_symlink():
        return message(request, viewer, 404, "No such file", f"Run {run.name} has no file {file}.")
    if file == "report.html":
        return FileResponse(path, media_type="text/html; charset=utf-8")
    with path.open("rb") as handle:
        rows = sum(1 for _ in handle) - 1  # the header line
    log_download(
        web(request).settings.scores / AUDIT_FILE,
        viewer.user,
        run.name,
        "csv",
        {"run": run.name, "file": file},
        rows,
    )
    return FileResponse(path, media_type=MEDIA_TYPES["csv"], filename=path.name)


@router.get("/evaluation")
def evaluation(request: Request, viewer: LoggedIn) -> Response:
    """What the run's outreach did (`advocacy evaluate-outreach`), once it was evaluated."""
    run = find_run(web(request).settings.scores, request.query_params.get("run"))
    path = run.folder / EVALUATION / REPORT
    if not path.is_file() or path.is_symlink():
        return message(
            request,
            viewer,
            404,
            "Not evaluated yet",
            f"Run {run.name}'s outreach has not been evaluated: run `advocacy "
            "evaluate-outreach` once its horizon has passed.",
        )
    return FileResponse(path, media_type="text/html; charset=utf-8")


def with_cookie(response: Response, request: Request, name: str, value: str) -> Response:
    """Set a cookie: HttpOnly, SameSite=Lax, Secure when served over HTTPS."""
    secure = request.url.scheme == "https"
    response.set_cookie(name, value, httponly=True, samesite="lax", secure=secure)
    return response


def login_form(request: Request, status: int = 200, error: str | None = None) -> Response:
    """The login form, its CSRF token signed from this browser's login cookie."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    csrf = form_token(web(request).secret, nonce)
    response = page(request, "login.html", None, status, csrf=csrf, error=error)
    return with_cookie(response, request, LOGIN_COOKIE, nonce)


@router.get("/login")
def login_page(request: Request) -> Response:
    """The login form (on open access there is nothing to log in to)."""
    if not web(request).login_required():
        return RedirectResponse("/", status_code=303)
    return login_form(request)


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Log in: check the form's token, the rate limits and the password; start a session."""
    state = web(request)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not secrets.compare_digest(csrf, form_token(state.secret, nonce)):
        return message(
            request, None, 403, "Please try again", "The login form had expired: log in again."
        )
    address = request.client.host if request.client else "unknown"
    wait = max(state.failures_by_user.wait(name.lower()), state.failures_by_address.wait(address))
    if wait:
        minutes = math.ceil(wait / 60)
        return login_form(request, 429, f"Too many failed logins: try again in {minutes} minutes.")
    if not password_matches(state.users_file, name, password):
        state.failures_by_user.failed(name.lower())
        state.failures_by_address.failed(address)
        return login_form(request, 401, "Wrong user name or password.")
    state.failures_by_user.forget(name.lower())
    state.sessions.end(request.cookies.get(SESSION_COOKIE))
    token, _ = state.sessions.start(name)
    return with_cookie(RedirectResponse("/", status_code=303), request, SESSION_COOKIE, token)


@router.post("/logout")
def logout(request: Request, viewer: LoggedIn, csrf: Annotated[str, Form()] = "") -> Response:
    """End the session (the form carries its CSRF token)."""
    if viewer.csrf is None or not secrets.compare_digest(csrf, viewer.csrf):
        return message(request, viewer, 403, "Not logged out", "The form had expired: try again.")
    web(request).sessions.end(request.cookies.get(SESSION_COOKIE))
    return RedirectResponse("/login", status_code=303)


def create_app(settings: WebSettings) -> FastAPI:
    """The web app over the runs in `settings.scores` (no API docs: every page is private)."""
    app = FastAPI(title="Advocate lists", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = WebState(settings)
    app.include_router(router)

    @app.exception_handler(LoginNeeded)
    def to_login(request: Request, error: LoginNeeded) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(UnknownRun)
    def unknown_run(request: Request, error: UnknownRun) -> Response:
        if not run_names(settings.scores):
            text = "There is no scoring run yet: run `advocacy score` (or `make demo`)."
            return message(request, None, 404, "No scoring run", text)
        return message(request, None, 404, "No such run", f"There is no run '{error.args[0]}'.")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    return app


def check_can_serve(settings: WebSettings) -> None:
    """Refuse to serve a page that needs a login nobody can give."""
    if settings.login_forced and not read_users(settings.scores / USERS_FILE):
        where = "with --require-login" if settings.require_login else f"on {settings.host}"
        raise UserError(
            f"The page {where} needs a login, and there are no users in "
            f"{settings.scores / USERS_FILE}: add one with `advocacy users add NAME`."
        )


def serve(settings: WebSettings) -> None:
    """Serve the app until stopped (Ctrl+C)."""
    check_can_serve(settings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)
