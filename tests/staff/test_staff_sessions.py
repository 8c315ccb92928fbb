"""Staff sessions are server-side and revocable (issue 17 point 2): a copied cookie dies
with sign-out, a password change or reset, or the account's removal; ids are never reused;
staff change their own password; admins and operators reset others'."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.staff.accounts import create_staff_user, find_staff_user
from service.staff.models import StaffRole, StaffSession, StaffUser
from tests.staff import factories
from tests.staff.factories import PASSWORD
from tests.staff.helpers import arranged, sign_in, token_from

NEW_PASSWORD = "a much longer new passphrase"


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of this one's session cookie (a stolen cookie)."""
    thief = app.test_client()
    thief.set_cookie("session", _cookie(client))
    return thief


def _signed_out(response: object) -> bool:
    location = getattr(response, "headers", {}).get("Location", "")
    return getattr(response, "status_code", 0) == 302 and "/staff/sign-in" in location


def test_the_cookie_names_a_random_session_whose_hash_alone_is_stored(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.VIEWER)
    assert sign_in(client, user.email).status_code == 302
    data = app.session_interface.get_signing_serializer(app).loads(_cookie(client))  # type: ignore[attr-defined]
    token = data["_user_id"]
    assert token != str(user.id) and len(token) >= 40
    with arranged(app) as session:
        (row,) = session.scalars(select(StaffSession).where(StaffSession.user_id == user.id))
        assert row.token_hash != token and token not in row.token_hash
        assert len(row.token_hash) == 64


def test_a_cookie_captured_before_sign_out_opens_nothing_after(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.VIEWER)
    sign_in(client, user.email)
    thief = _copy_of(app, client)
    assert thief.get("/staff/").status_code == 200  # the copy works while signed in

    client.post("/staff/sign-out", data={"csrf_token": token_from(client, "/staff/")})

    assert _signed_out(thief.get("/staff/"))
    assert _signed_out(client.get("/staff/"))
    with arranged(app) as session:
        assert session.scalars(select(StaffSession)).all() == []


def test_a_removed_users_cookie_opens_nothing_even_after_a_new_user_is_created(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        admin = factories.staff_user(session, StaffRole.ADMIN)
        viewer = factories.staff_user(session, StaffRole.VIEWER)
    viewer_browser = app.test_client()
    sign_in(viewer_browser, viewer.email)
    captured = _copy_of(app, viewer_browser)
    sign_in(client, admin.email)

    token = token_from(client, "/staff/users")
    assert client.post(f"/staff/users/{viewer.id}/remove", data={"csrf_token": token}).status_code
    new = {
        "email": "newadmin@paper.example",
        "role": "admin",
        "password": PASSWORD,
        "csrf_token": token_from(client, "/staff/users"),
    }
    assert client.post("/staff/users", data=new).status_code == 302

    with arranged(app) as session:
        created = find_staff_user(session, "newadmin@paper.example")
        assert created is not None and created.id != viewer.id
    assert _signed_out(captured.get("/staff/users"))
    assert _signed_out(captured.get("/staff/"))


def test_ids_of_removed_accounts_are_never_given_again(session: Session) -> None:
    first = create_staff_user(session, "first@paper.example", PASSWORD, StaffRole.ADMIN)
    top = create_staff_user(session, "top@paper.example", PASSWORD, StaffRole.VIEWER)
    top_id = top.id
    session.delete(top)
    session.flush()
    following = create_staff_user(session, "next@paper.example", PASSWORD, StaffRole.VIEWER)
    assert following.id > top_id > first.id


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.VIEWER)
    other = app.test_client()
    sign_in(other, user.email)
    sign_in(client, user.email)
    captured = _copy_of(app, client)

    form = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD,
        "csrf_token": token_from(client, "/staff/account/password"),
    }
    response = client.post("/staff/account/password", data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"

    assert client.get("/staff/").status_code == 200
    assert _signed_out(other.get("/staff/"))
    assert _signed_out(captured.get("/staff/"))  # the old cookie of this very browser
    assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 200  # refused
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("not the password!", NEW_PASSWORD, NEW_PASSWORD, "current password is not right"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "not the same"),
        (PASSWORD, "short", "short", "between 12 and 1024 characters"),
        (PASSWORD, PASSWORD, PASSWORD, "different from the current one"),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app: Flask, client: FlaskClient, current: str, new: str, again: str, message: str
) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.VIEWER)
    sign_in(client, user.email)
    other = app.test_client()
    sign_in(other, user.email)
    form = {
        "current_password": current,
        "new_password": new,
        "new_password_again": again,
        "csrf_token": token_from(client, "/staff/account/password"),
    }
    response = client.post("/staff/account/password", data=form)
    assert response.status_code == 422
    assert re.search(f'<span class="error">[^<]*{message}', response.get_data(as_text=True))
    assert other.get("/staff/").status_code == 200
    assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 302


def test_the_password_form_needs_its_csrf_token(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.VIEWER)
    sign_in(client, user.email)
    form = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD,
    }
    assert client.post("/staff/account/password", data=form).status_code == 400
    assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 302


_SHOWN = re.compile(r'<code class="one-time-password">([^<]+)</code>')


def test_an_admin_resets_another_password_shown_once_and_their_sessions_end(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        admin = factories.staff_user(session, StaffRole.ADMIN)
        viewer = factories.staff_user(session, StaffRole.VIEWER)
    viewer_browser = app.test_client()
    sign_in(viewer_browser, viewer.email)
    sign_in(client, admin.email)
    page = client.get("/staff/users").get_data(as_text=True)
    assert f"/staff/users/{viewer.id}/reset-password" in page
    assert f"/staff/users/{admin.id}/reset-password" not in page  # own: the account page

    token = token_from(client, "/staff/users")
    response = client.post(f"/staff/users/{viewer.id}/reset-password", data={"csrf_token": token})
    assert response.status_code == 200
    match = _SHOWN.search(response.get_data(as_text=True))
    assert match is not None
    password = match.group(1)
    assert len(password) >= 12 and password not in _cookie(client)

    assert _signed_out(viewer_browser.get("/staff/"))
    assert sign_in(app.test_client(), viewer.email, PASSWORD).status_code == 200
    assert sign_in(app.test_client(), viewer.email, password).status_code == 302
    own = client.post(f"/staff/users/{admin.id}/reset-password", data={"csrf_token": token})
    assert own.status_code == 409


def test_a_viewer_cannot_reset_passwords(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        admin = factories.staff_user(session, StaffRole.ADMIN)
        viewer = factories.staff_user(session, StaffRole.VIEWER)
    sign_in(client, viewer.email)
    token = token_from(client, "/staff/account/password")
    response = client.post(f"/staff/users/{admin.id}/reset-password", data={"csrf_token": token})
    assert response.status_code == 403


def test_reset_staff_password_prints_a_new_password_once_and_ends_sessions(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.ADMIN, email="ops@paper.example")
    sign_in(client, user.email)
    result = app.test_cli_runner().invoke(args=["reset-staff-password", "OPS@paper.example"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "reset the password of ops@paper.example; every session of theirs has ended"
    password = lines[-1]
    assert len(password) >= 12 and result.output.count(password) == 1

    assert _signed_out(client.get("/staff/"))
    assert sign_in(app.test_client(), user.email, password).status_code == 302


def test_reset_staff_password_with_a_typed_password_and_for_nobody(app: Flask) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.VIEWER)
    runner = app.test_cli_runner()
    typed = runner.invoke(
        args=["reset-staff-password", user.email, "--prompt"],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert typed.exit_code == 0, typed.output
    assert NEW_PASSWORD not in typed.output.splitlines()[-1]
    short = runner.invoke(
        args=["reset-staff-password", user.email, "--prompt"], input="short\nshort\n"
    )
    assert short.exit_code == 1 and "at least 12" in short.output
    nobody = runner.invoke(args=["reset-staff-password", "nobody@paper.example"])
    assert nobody.exit_code == 1 and "no staff account" in nobody.output
    with arranged(app) as session:
        account = session.get(StaffUser, user.id)
        assert account is not None
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302
