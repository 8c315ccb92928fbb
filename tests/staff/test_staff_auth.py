"""Password hashing, sign-in with lockout, roles, and the sign-in page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.staff.accounts import (
    LOCKOUT,
    MAX_FAILED_SIGN_INS,
    StaffError,
    authenticate,
    create_staff_user,
    find_staff_user,
)
from service.staff.models import StaffRole
from tests.staff import factories
from tests.staff.factories import PASSWORD
from tests.staff.helpers import arranged, sign_in, token_from


def test_passwords_are_stored_as_argon2id_hashes(session: Session) -> None:
    user = factories.staff_user(session)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_short_passwords_and_duplicate_emails_are_refused(session: Session) -> None:
    with pytest.raises(StaffError, match="at least 12"):
        create_staff_user(session, "a@paper.example", "short", StaffRole.VIEWER)
    create_staff_user(session, "Editor@Paper.example", PASSWORD, StaffRole.VIEWER)
    with pytest.raises(StaffError, match="already"):
        create_staff_user(session, "editor@paper.example ", PASSWORD, StaffRole.ADMIN)


def test_authenticate_checks_the_password_and_ignores_email_case(session: Session) -> None:
    user = factories.staff_user(session, email="ed@paper.example")
    assert authenticate(session, "ED@paper.example", PASSWORD) is user
    assert user.last_sign_in_at is not None
    assert authenticate(session, "ed@paper.example", PASSWORD + "x") is None
    assert authenticate(session, "nobody@paper.example", PASSWORD) is None


def test_repeated_wrong_passwords_lock_the_account_for_a_while(session: Session) -> None:
    user = factories.staff_user(session)
    now = utcnow()
    for _ in range(MAX_FAILED_SIGN_INS):
        assert authenticate(session, user.email, "wrong password!!", now=now) is None
    assert user.locked_until == now + LOCKOUT
    # Locked: even the right password is refused until the lock expires.
    assert authenticate(session, user.email, PASSWORD, now=now + timedelta(minutes=1)) is None
    later = now + LOCKOUT + timedelta(seconds=1)
    assert authenticate(session, user.email, PASSWORD, now=later) is user
    assert user.failed_sign_ins == 0 and user.locked_until is None


def test_a_right_password_resets_the_failure_count(session: Session) -> None:
    user = factories.staff_user(session)
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        authenticate(session, user.email, "wrong password!!")
    assert authenticate(session, user.email, PASSWORD) is user
    assert user.failed_sign_ins == 0


def test_sign_in_and_out_through_the_forms(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.VIEWER)
    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    page = client.get("/staff/")
    assert page.status_code == 200
    assert user.email in page.get_data(as_text=True)
    token = token_from(client, "/staff/")
    response = client.post("/staff/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 302


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session)
    token = token_from(client, "/staff/sign-in")
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    response = client.post("/staff/sign-in?next=/staff/donations?page=2", data=data)
    assert response.headers["Location"] == "/staff/donations?page=2"
    client.post("/staff/sign-out", data={"csrf_token": token_from(client, "/staff/")})
    token = token_from(client, "/staff/sign-in")
    data["csrf_token"] = token
    response = client.post("/staff/sign-in?next=//evil.example/staff/", data=data)
    assert response.headers["Location"] == "/staff/"


def test_the_sign_in_page_says_the_same_for_unknown_emails_and_wrong_passwords(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session)
    unknown = sign_in(client, "nobody@paper.example", PASSWORD)
    wrong = sign_in(client, user.email, "not the password")
    assert unknown.status_code == wrong.status_code == 200

    def message(body: str) -> str:
        return body.split('role="alert">')[1].split("<")[0]

    assert message(unknown.get_data(as_text=True)) == message(wrong.get_data(as_text=True))


def test_failed_sign_ins_over_http_are_counted_and_lock(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session)
    for _ in range(MAX_FAILED_SIGN_INS):
        assert sign_in(client, user.email, "not the password").status_code == 200
    with arranged(app) as session:
        locked = find_staff_user(session, user.email)
        assert locked is not None and locked.locked_until is not None
    assert sign_in(client, user.email).status_code == 200  # locked: no redirect


def test_the_sign_in_form_is_rate_limited_per_ip(app: Flask, client: FlaskClient) -> None:
    statuses = [sign_in(client, "nobody@paper.example", "x" * 12).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_sign_in_without_the_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session)
    client.get("/staff/sign-in")
    response = client.post("/staff/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "form expired" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_session_and_remember_cookies_are_locked_down(app: Flask) -> None:
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_cookies_are_secure_behind_https(database_url: str) -> None:
    from tests.conftest import make_test_app

    app = make_test_app(database_url, public_base_url="https://support.paper.example")
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["REMEMBER_COOKIE_SECURE"] is True
    finally:
        app.extensions["database"]["engine"].dispose()
