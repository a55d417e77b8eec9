"""Users, sessions and login limits, each on its own."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from features.errors import UserError
from pipelines.web.access import (
    LoginLimiter,
    Sessions,
    add_user,
    is_loopback,
    password_matches,
    read_users,
    remove_user,
)

PASSWORD = "correct horse battery"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("127.255.255.254", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("128.0.0.1", False),
        ("example.org", False),
        ("localhost.example.org", False),
    ],
)
def test_loopback_is_127_0_0_0_8_and_ipv6_1(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_users_are_stored_hashed_and_private(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    assert add_user(users, "ann", PASSWORD) is True
    assert add_user(users, "bob.b@example.org", PASSWORD + "!") is True
    stored = json.loads(users.read_text())
    assert sorted(stored) == ["ann", "bob.b@example.org"]
    assert stored["ann"].startswith("$argon2id$") and PASSWORD not in users.read_text()
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    assert password_matches(users, "ann", PASSWORD)
    assert not password_matches(users, "ann", PASSWORD + "!")
    assert not password_matches(users, "bob", PASSWORD)  # unknown user

    assert add_user(users, "ann", "a new password 2") is False  # a new password
    assert password_matches(users, "ann", "a new password 2")
    assert not password_matches(users, "ann", PASSWORD)

    remove_user(users, "ann")
    assert list(read_users(users)) == ["bob.b@example.org"]
    assert not password_matches(users, "ann", "a new password 2")


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("ann", "short", "at least 12 characters"),
        ("ann smith", PASSWORD, "cannot be a user name"),
        ("../ann", PASSWORD, "cannot be a user name"),
        ("", PASSWORD, "cannot be a user name"),
    ],
)
def test_bad_names_and_short_passwords_are_refused(
    tmp_path: Path, name: str, password: str, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        add_user(tmp_path / "users.json", name, password)
    assert read_users(tmp_path / "users.json") == {}


def test_removing_an_unknown_user_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="There is no user 'zoe'"):
        remove_user(tmp_path / "users.json", "zoe")


def test_sessions_expire_and_end() -> None:
    clock = Clock()
    sessions = Sessions(lifetime=60, clock=clock)
    token, session = sessions.start("ann")
    other, _ = sessions.start("ann")
    assert token != other and sessions.find(token) is session
    assert sessions.find("forged") is None and sessions.find(None) is None
    sessions.end(other)
    assert sessions.find(other) is None
    clock.now += 61
    assert sessions.find(token) is None


def test_too_many_sessions_drop_the_oldest() -> None:
    sessions = Sessions(limit=2)
    first, _ = sessions.start("ann")
    second, _ = sessions.start("bob")
    third, _ = sessions.start("ann")
    assert sessions.find(first) is None
    assert sessions.find(second) and sessions.find(third)


def test_a_key_with_too_many_failures_waits_until_they_age_out() -> None:
    clock = Clock()
    limiter = LoginLimiter(limit=3, window=100, clock=clock)
    for _ in range(2):
        limiter.failed("ann")
        clock.now += 10
    assert limiter.wait("ann") == 0
    limiter.failed("ann")  # third failure at t=1020; the first was at t=1000
    assert limiter.wait("ann") == pytest.approx(80)
    assert limiter.wait("bob") == 0
    clock.now += 80
    assert limiter.wait("ann") == 0  # the first failure aged out
    limiter.failed("ann")
    assert limiter.wait("ann") > 0
    limiter.forget("ann")
    assert limiter.wait("ann") == 0
