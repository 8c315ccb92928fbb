"""Signing in through the real form, CSRF token and all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service.core.extensions import db
from tests.staff.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def token_from(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return csrf_token(response.get_data(as_text=True))


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    token = token_from(client, "/staff/sign-in")
    return client.post(
        "/staff/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )


@contextmanager
def arranged(app: Flask) -> Iterator[Session]:
    """Arrange data in its own app context, committed (into the test's transaction).

    Requests must not run inside the `session` fixture's app context: Flask would reuse
    it, and `g` (Flask-Login's user, Flask-WTF's token) would leak between requests.
    """
    with app.app_context():
        yield db.session
        db.session.commit()
