"""No page needs 'unsafe-inline': styles come from stylesheets, never from the markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.core.settings import PROJECT_ROOT

# A <style> element only with this response's nonce; never a style attribute.
INLINE_STYLE = re.compile(r"<style(?![^>]*\bnonce=)|\sstyle\s*=", re.IGNORECASE)


@pytest.mark.parametrize(
    "path", ["/support", "/demo/article", "/staff/sign-in", "/support/thank-you", "/nowhere"]
)
def test_every_page_policy_refuses_inline_styles_and_scripts(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "style-src 'self'" in csp
    assert not INLINE_STYLE.search(response.get_data(as_text=True)), path


def test_no_template_carries_an_inline_style() -> None:
    # Emails are not pages: mail clients ignore stylesheets, so their HTML keeps inline
    # styles, and no browser shows it under our Content-Security-Policy.
    emails = Path(PROJECT_ROOT, "templates", "email")
    templates = sorted(
        t for t in Path(PROJECT_ROOT, "templates").rglob("*.html") if emails not in t.parents
    )
    assert templates
    offenders = [str(t) for t in templates if INLINE_STYLE.search(t.read_text())]
    assert offenders == []


def test_the_demo_articles_own_styles_carry_this_responses_nonce(client: FlaskClient) -> None:
    first, second = client.get("/demo/article"), client.get("/demo/article")
    nonces = []
    for response in (first, second):
        csp = response.headers["Content-Security-Policy"]
        match = re.search(r"style-src 'self' 'nonce-([^']+)'", csp)
        assert match, csp
        assert f'<style nonce="{match.group(1)}">' in response.get_data(as_text=True)
        nonces.append(match.group(1))
    assert nonces[0] != nonces[1]
    assert "nonce" not in client.get("/support").headers["Content-Security-Policy"]
