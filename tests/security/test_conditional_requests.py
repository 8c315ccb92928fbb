"""If-None-Match compares weakly, as HTTP says: W/"x" matches "x" (a CDN may weaken tags)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.appeals.factories import make_campaign


def _status_and_tag(client: FlaskClient, path: str, if_none_match: str | None = None) -> Any:
    headers = {"If-None-Match": if_none_match} if if_none_match else {}
    response = client.get(path, headers=headers)
    response.close()  # static files answer with an open file
    return response.status_code, response.headers.get("ETag")


@pytest.mark.parametrize("path", ["/widget.js", "/api/v1/appeals/site", "/static/site.css"])
def test_a_weak_tag_for_the_same_bytes_revalidates(client: FlaskClient, path: str) -> None:
    _, tag = _status_and_tag(client, path)
    assert not tag.startswith("W/")
    for sent in (f"W/{tag}", tag, f'"nope", W/{tag}'):
        assert _status_and_tag(client, path, sent)[0] == 304, sent
    assert _status_and_tag(client, path, 'W/"other"')[0] == 200


def test_a_weak_tag_revalidates_an_appeal_answer(client: FlaskClient, session: Session) -> None:
    make_campaign(session)
    session.commit()
    url = "/api/v1/appeals?article_id=a&section=news&tags=council&articles_read=3&reader=42"
    first = client.get(url)
    assert first.status_code == 200
    again = client.get(url, headers={"If-None-Match": "W/" + first.headers["ETag"]})
    assert again.status_code == 304
