"""`flask create-staff`: the password from a prompt or STAFF_PASSWORD, never an argument."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from service.staff.accounts import authenticate
from service.staff.models import StaffRole, StaffUser
from tests.staff.helpers import arranged


def _user(app: Flask, email: str) -> StaffUser | None:
    with arranged(app) as session:
        return session.scalar(select(StaffUser).where(StaffUser.email == email))


def test_create_staff_with_a_confirmed_prompt(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-staff", "Editor@Paper.example", "--role", "admin"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created admin editor@paper.example" in result.output
    assert "a long enough password" not in result.output
    user = _user(app, "editor@paper.example")
    assert user is not None and user.role == StaffRole.ADMIN
    with arranged(app) as session:
        assert authenticate(session, "editor@paper.example", "a long enough password")


def test_create_staff_from_the_environment(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_PASSWORD", "another long password")
    result = app.test_cli_runner().invoke(args=["create-staff", "viewer@paper.example"])
    assert result.exit_code == 0, result.output
    user = _user(app, "viewer@paper.example")
    assert user is not None and user.role == StaffRole.VIEWER


def test_short_passwords_and_unknown_roles_are_refused(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAFF_PASSWORD", "short")
    result = app.test_cli_runner().invoke(args=["create-staff", "x@paper.example"])
    assert result.exit_code != 0 and "at least 12" in result.output
    assert _user(app, "x@paper.example") is None
    result = app.test_cli_runner().invoke(
        args=["create-staff", "x@paper.example", "--role", "owner"]
    )
    assert result.exit_code != 0 and "owner" in result.output


def test_there_is_no_password_argument(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-staff", "x@paper.example", "--password", "a long enough password"]
    )
    assert result.exit_code != 0 and "No such option" in result.output
