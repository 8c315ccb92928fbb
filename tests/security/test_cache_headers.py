"""Shared caches: public answers depend on the URL alone; pages with a session never go public."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

PUBLIC = [
    "/widget.js",
    "/api/v1/appeal?placement=top&article_id=a1&section=news",
    "/api/v1/appeals?placements=top,bottom&article_id=a1&section=news",
    "/api/v1/supporters/count",
    "/api/v1/appeals/site",
]
PRIVATE = ["/staff/sign-in", "/staff/", "/support"]


@pytest.mark.parametrize("path", PUBLIC)
def test_public_answers_do_not_vary_by_cookie_nor_set_one(client: FlaskClient, path: str) -> None:
    # A reader may carry our cookies (a staff session, the supporter mark): irrelevant here.
    client.set_cookie("session", "some-session-value")
    client.set_cookie("supporter", "1")
    response = client.get(path, headers={"Origin": "https://news.example"})
    assert response.status_code == 200
    assert response.cache_control.public
    assert "cookie" not in {value.lower() for value in response.vary}
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", PRIVATE)
def test_pages_that_read_the_session_are_never_publicly_cacheable(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert not response.cache_control.public
    assert (
        "cookie" in {value.lower() for value in response.vary}
        or response.cache_control.no_store
        or response.cache_control.private
    )
