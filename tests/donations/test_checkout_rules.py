"""The pure rules of starting a donation: amount limits, return URLs, attempt ids."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from service.core.settings import Settings, _parse_currency_limits
from service.donations.checkout import (
    amount_problem,
    is_allowed_return_url,
    return_urls,
    valid_attempt_id,
    with_query,
)

SETTINGS = Settings(
    env="test",
    secret_key="k" * 40,
    public_base_url="https://give.news.example",
    allowed_embed_origins=("https://news.example",),
    currency_limits=_parse_currency_limits("eur:100:1000000,jpy:100:1000000"),
)


def test_amount_limits_are_per_currency() -> None:
    assert amount_problem(SETTINGS, 100, "eur") is None
    assert amount_problem(SETTINGS, 1_000_000, "eur") is None
    assert amount_problem(SETTINGS, 99, "eur") == "The smallest gift is €1.00."
    assert amount_problem(SETTINGS, 1_000_001, "eur") == (
        "The largest gift we can take online is €10,000.00."
    )
    assert amount_problem(SETTINGS, 99, "jpy") == "The smallest gift is ¥100."


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://news.example/2026/story?x=1", True),
        ("https://NEWS.example/story", True),
        ("https://give.news.example/support", True),
        ("http://news.example/story", False),
        ("https://news.example.evil.test/story", False),
        ("https://evil.test/?next=https://news.example", False),
        ("https://news.example@evil.test/", False),
        ("https://user@news.example/", False),
        ("//news.example/story", False),
        ("javascript:alert(1)", False),
        ("/support", False),
    ],
)
def test_return_url_must_be_on_an_allowed_origin(url: str, allowed: bool) -> None:
    assert is_allowed_return_url(SETTINGS, url) is allowed


def test_the_way_back_goes_through_the_thank_you_never_with_the_session_in_the_article() -> None:
    article = "https://news.example/story?page=2#comments"
    success, cancel = return_urls(SETTINGS, article)
    assert success == (
        "https://give.news.example/support/thank-you?session_id={CHECKOUT_SESSION_ID}&back=1"
    )
    assert cancel == article
    success, cancel = return_urls(SETTINGS, article, from_page=True)
    assert success == "https://give.news.example/support/thank-you?session_id={CHECKOUT_SESSION_ID}"
    assert parse_qs(urlsplit(cancel).query) == {"return_url": [article]}


def test_without_a_return_url_the_reader_comes_back_here() -> None:
    assert return_urls(SETTINGS, None) == (
        "https://give.news.example/support/thank-you?session_id={CHECKOUT_SESSION_ID}",
        "https://give.news.example/support",
    )


def test_with_query_replaces_a_stale_parameter() -> None:
    assert with_query("https://n.example/a?support_session=old&b=1", support_session="new") == (
        "https://n.example/a?b=1&support_session=new"
    )


def test_attempt_ids_must_be_uuids() -> None:
    assert valid_attempt_id("0B9A6F2E-7C1D-4C5E-9F0A-1B2C3D4E5F60") == (
        "0b9a6f2e-7c1d-4c5e-9f0a-1b2c3d4e5f60"
    )
    assert valid_attempt_id("not-a-uuid") is None
    assert valid_attempt_id("") is None
    assert valid_attempt_id(None) is None
