"""Who may see the web page: users, login sessions, CSRF tokens and login rate limits.

The rule: a page served beyond this computer (any address outside 127.0.0.0/8 and ::1)
needs a logged-in user for every page and download; so does a page on this computer
once users exist, or when started with --require-login (as behind a proxy). Only on
loopback without users is access open, and the page says so.

Users live in a JSON file beside the runs, passwords hashed with Argon2id. Sessions of
logged-in users are random tokens kept in memory (a restart logs everyone out), sent in
an HttpOnly, SameSite=Lax cookie (a link in an e-mail opens the page logged in). The
forms that change something are POSTs with a CSRF token: the log-out form carries its
session's token; the login form, before any session exists, a token signed from a
random cookie of the browser (a signed double-submit cookie), so visitors who never log
in leave nothing on the server.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from features.atomic import write_atomically
from features.errors import UserError

USERS_FILE = "users.json"
USER_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD = 12
MAX_KEYS = 10_000
"""Keys a login limiter remembers before it forgets those without recent failures."""
hasher = PasswordHasher()


def is_loopback(host: str) -> bool:
    """Whether `host` is this computer only: localhost, 127.0.0.0/8 or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_users(path: Path) -> dict[str, str]:
    """User name -> password hash (none when the file does not exist)."""
    if not path.exists():
        return {}
    users: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return users


def _write_users(path: Path, users: dict[str, str]) -> None:
    def write(partial: Path) -> None:
        partial.touch(mode=0o600)
        partial.write_text(json.dumps(users, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    write_atomically(path, write)


def add_user(path: Path, name: str, password: str) -> bool:
    """Add a user, or set a new password for an existing one; True when the user is new."""
    if not USER_NAME.fullmatch(name):
        raise UserError(
            f"'{name}' cannot be a user name: use up to 64 letters, digits and _ . @ -."
        )
    if len(password) < MIN_PASSWORD:
        raise UserError(f"The password needs at least {MIN_PASSWORD} characters.")
    users = read_users(path)
    new = name not in users
    users[name] = hasher.hash(password)
    _write_users(path, users)
    return new


def remove_user(path: Path, name: str) -> None:
    """Remove a user; their open sessions end at their next request."""
    users = read_users(path)
    if name not in users:
        raise UserError(f"There is no user '{name}' in {path}.")
    del users[name]
    _write_users(path, users)


@cache
def unknown_user_hash() -> str:
    """Checked against for unknown names, so a wrong name takes as long as a wrong password."""
    return hasher.hash(secrets.token_urlsafe(16))


def password_matches(path: Path, name: str, password: str) -> bool:
    """Whether `name` is a user and `password` is theirs."""
    stored = read_users(path).get(name)
    try:
        return hasher.verify(stored or unknown_user_hash(), password) and stored is not None
    except VerificationError:
        return False


def form_token(secret: bytes, nonce: str) -> str:
    """The login form's CSRF token for a browser's random login cookie."""
    return hmac.new(secret, nonce.encode(), hashlib.sha256).hexdigest()


@dataclass
class Session:
    """A logged-in user's session, and the CSRF token its log-out form carries."""

    user: str
    csrf: str
    expires: float


class Sessions:
    """Sessions by token, in memory; the oldest go first when there are too many."""

    def __init__(
        self,
        lifetime: float = 8 * 3600,
        limit: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lifetime = lifetime
        self._limit = limit
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def start(self, user: str) -> tuple[str, Session]:
        """A new session (a fresh token, never a reused one) and its token."""
        token = secrets.token_urlsafe(32)
        session = Session(user, secrets.token_urlsafe(32), self._clock() + self._lifetime)
        with self._lock:
            now = self._clock()
            self._sessions = {t: s for t, s in self._sessions.items() if s.expires > now}
            while len(self._sessions) >= self._limit:
                del self._sessions[next(iter(self._sessions))]
            self._sessions[token] = session
        return token, session

    def find(self, token: str | None) -> Session | None:
        """The live session of a token, if any."""
        with self._lock:
            session = self._sessions.get(token or "")
        return session if session and session.expires > self._clock() else None

    def end(self, token: str | None) -> None:
        """Forget a session (logging out)."""
        with self._lock:
            self._sessions.pop(token or "", None)


class LoginLimiter:
    """Failed logins per key (a user name, an address) within a sliding window."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds until `key` may try again (0 when it may now)."""
        with self._lock:
            failures = self._failures.get(key, deque())
            while failures and failures[0] <= self._clock() - self._window:
                failures.popleft()
            if len(failures) < self._limit:
                return 0.0
            return failures[0] + self._window - self._clock()

    def failed(self, key: str) -> None:
        """Count a failed login of `key` (and forget keys whose failures are all old)."""
        with self._lock:
            now = self._clock()
            if len(self._failures) > MAX_KEYS:
                self._failures = {
                    k: f for k, f in self._failures.items() if f[-1] > now - self._window
                }
            self._failures.setdefault(key, deque()).append(now)

    def forget(self, key: str) -> None:
        """Clear the failures of `key` (after a successful login)."""
        with self._lock:
            self._failures.pop(key, None)
