"""`advocacy users add/remove` and the refusals of `advocacy serve`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.web.access import password_matches, read_users

PASSWORD = "correct horse battery"


def test_users_are_added_from_stdin_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    users = tmp_path / "users.json"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "ann", "--scores", str(tmp_path)]) == 0
    assert f"Added user ann in {users}" in capsys.readouterr().out.replace("\n", "")
    assert password_matches(users, "ann", PASSWORD)

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "bob", "--scores", str(tmp_path)]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert list(read_users(users)) == ["ann"]

    assert main(["users", "remove", "ann", "--scores", str(tmp_path)]) == 0
    assert read_users(users) == {}
    assert main(["users", "remove", "ann", "--scores", str(tmp_path)]) == 2
    assert "There is no user 'ann'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "where"),
    [(["--host", "0.0.0.0"], "on 0.0.0.0"), (["--require-login"], "with --require-login")],
)
def test_serve_refuses_a_login_nobody_can_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], where: str
) -> None:
    assert main(["serve", "--scores", str(tmp_path), *flags]) == 2
    err = capsys.readouterr().err
    assert f"The page {where} needs a login, and there are no users" in err
    assert "advocacy users add NAME" in err and "Traceback" not in err
