"""/widget.js caching, the demo seed, and the demo article's one script tag."""

from __future__ import annotations

import gzip
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.appeals.demo import DEMO_CAMPAIGN_SLUG, seed_demo
from service.appeals.models import AppealCopy, Campaign, CampaignVariant
from service.appeals.widget import versioned_widget_url
from service.core.settings import PROJECT_ROOT


def test_widget_is_served_with_cache_headers_and_an_etag(client: FlaskClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.data == (PROJECT_ROOT / "static" / "widget.js").read_bytes()
    # The URL publishers paste: briefly cached, so a new version reaches every page soon.
    assert response.headers["Cache-Control"].startswith("public, max-age=300,")
    assert "Content-Encoding" not in response.headers
    assert response.headers["Vary"] == "Accept-Encoding"
    again = client.get("/widget.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_widget_is_served_gzipped_to_browsers_that_accept_it(client: FlaskClient) -> None:
    plain = client.get("/widget.js")
    response = client.get("/widget.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data) == plain.data
    assert len(response.data) < len(plain.data) / 2
    assert response.headers["ETag"] != plain.headers["ETag"]  # another representation
    assert client.get("/widget.js", headers={"Accept-Encoding": "gzip;q=0"}).data == plain.data
    head = client.head("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.data == b""


def test_the_versioned_widget_url_is_cacheable_forever(app: Flask, client: FlaskClient) -> None:
    with app.test_request_context():
        url = versioned_widget_url()
    version = re.fullmatch(r"http://127\.0\.0\.1:5000/widget\.([0-9a-f]{16})\.js", url)
    assert version is not None
    response = client.get(f"/widget.{version.group(1)}.js")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.data == client.get("/widget.js").data
    # Another version's URL (an older page during a deploy) gets today's script, briefly.
    other = client.get("/widget.0123456789abcdef.js")
    assert other.status_code == 200 and other.data == response.data
    assert other.headers["Cache-Control"].startswith("public, max-age=300,")


def test_widget_stays_small_and_never_uses_inner_html() -> None:
    source = (PROJECT_ROOT / "static" / "widget.js").read_bytes()
    # 10 KiB before the widget spoke three languages (~0.5 KiB) and offered staff's asks in
    # every currency with fee cover (~1.4 KiB).
    assert len(gzip.compress(source, 9)) <= 12 * 1024
    # Copy is rendered as text, so nothing a campaign says can run on a publisher's page.
    assert b"innerHTML" not in source and b"insertAdjacentHTML" not in source
    assert b"eval(" not in source


def test_seed_demo_is_idempotent(session: Session) -> None:
    seed_demo(session)
    seed_demo(session)
    campaign = session.scalars(select(Campaign).where(Campaign.slug == DEMO_CAMPAIGN_SLUG)).one()
    assert [v.key for v in campaign.variants] == ["a", "b"]
    assert campaign.goal_supporters and "tragedy" in campaign.exclude_sections
    assert session.scalar(select(func.count()).select_from(CampaignVariant)) == 2
    # Two variants with copy for each placement: top, bottom, banner and header.
    assert session.scalar(select(func.count()).select_from(AppealCopy)) == 8
    assert campaign.formats == ["inline", "banner", "header"]


def test_demo_article_embeds_the_widget_with_one_script_tag(client: FlaskClient) -> None:
    html = client.get("/demo/article").get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", html)
    assert len(scripts) == 1
    tag = scripts[0]
    assert 'src="http://127.0.0.1:5000/widget.js"' in tag and " async " in tag
    assert 'data-article-id="port-carrig-flood-defences"' in tag
    assert 'data-section="news"' in tag and 'data-tags="council,flooding,port-carrig"' in tag
    assert 'data-formats="inline"' in tag  # the demo campaign's two boxes, by default
    assert '<div data-support-appeal="top"></div>' in html
    assert "The Harbour Courier" in html
    banner = client.get("/demo/article?format=banner").get_data(as_text=True)
    assert 'data-formats="banner"' in banner and 'data-support-appeal="header"' not in banner
    header = client.get("/demo/article?format=header&country=IE").get_data(as_text=True)
    assert 'data-formats="header"' in header and 'data-support-appeal="header"' in header
    assert 'data-country="IE"' in header
    without = client.get("/demo/article?placeholders=none").get_data(as_text=True)
    assert "data-support-appeal=" not in without and "data-article-body" in without


def test_demo_article_in_an_excluded_section(client: FlaskClient) -> None:
    html = client.get("/demo/article?section=tragedy").get_data(as_text=True)
    assert 'data-section="tragedy"' in html
    assert "data-support-appeal=" not in html
