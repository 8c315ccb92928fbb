"""Demo pages do not exist in production; absolute URLs never follow the request's Host."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from service.core.pass_key import new_private_key_pem
from tests.conftest import TEST_SECRET_KEY, make_test_app

PUBLIC = "https://support.paper.example"


def _production_app(database_url: str) -> Flask:
    return make_test_app(
        database_url,
        env="production",
        secret_key=TEST_SECRET_KEY,
        public_base_url=PUBLIC,
        publication_name="The Paper",
        supporter_pass_private_key=new_private_key_pem(),
    )


def test_the_demo_article_does_not_exist_in_production(database_url: str) -> None:
    app = _production_app(database_url)
    assert app.test_client().get("/demo/article").status_code == 404
    assert not [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/demo")]


@pytest.mark.parametrize(
    ("proxies", "headers"),
    [
        (0, {"Host": "evil.example"}),
        (1, {"X-Forwarded-Host": "evil.example"}),
        (1, {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}),
    ],
)
def test_the_demo_scripts_url_comes_from_the_public_base_url(
    database_url: str, proxies: int, headers: dict[str, str]
) -> None:
    app = make_test_app(database_url, public_base_url=PUBLIC, trusted_proxy_count=proxies)
    html = app.test_client().get("/demo/article", headers=headers).get_data(as_text=True)
    script = re.search(r'<script src="([^"]+)"', html)
    assert script, html
    assert script.group(1) == f"{PUBLIC}/widget.js"


def test_the_versioned_widget_url_comes_from_the_public_base_url(database_url: str) -> None:
    from service.appeals.widget import versioned_widget_url

    app = make_test_app(database_url, public_base_url=PUBLIC + "/contrib")
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert re.fullmatch(
            rf"{re.escape(PUBLIC)}/contrib/widget\.[^/]+\.js", versioned_widget_url()
        )
