"""The lean public path: the site document and the widget, served before Flask.

Both are on every article page view, public, read-only and identical for every reader,
so they need none of Flask's per-request work (session, login, limiter, database
session, error pages). A small WSGI layer in front of the app answers them from bytes
prepared once per campaign snapshot (the document) or per file version (the widget),
gzipped once, with strong ETags and the caching headers a CDN needs. Everything else
goes to Flask untouched.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import parse_accept_header, parse_etags

from service.appeals.cache import get_appeal_snapshot
from service.appeals.currency import clean_country, offered_map
from service.appeals.site import EncodedDocument, Offer, site_document, unavailable_document
from service.appeals.social_proof import shown_count
from service.appeals.widget_strings import widget_strings
from service.core.i18n import in_language, normalise_language, number
from service.core.pass_key import public_jwk
from service.core.settings import Settings
from service.ledger import display_count

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication

log = logging.getLogger(__name__)

SITE_DOCUMENT_PATH: Final = "/api/v1/appeals/site"
READER_COUNTRY_PATH: Final = "/api/v1/reader-country"
# Readers rarely change country; the widget also keeps the answer for a day.
COUNTRY_MAX_AGE: Final = 86400
WIDGET_PATH: Final = "/widget.js"
# /widget.<first 16 hex of the content hash>.js: the same bytes, cacheable forever.
VERSIONED_WIDGET: Final = re.compile(r"^/widget\.([0-9a-f]{16})\.js$")
# Publishers paste /widget.js once, so a new version must reach them within minutes
# (revalidation is a 304 thanks to the ETag); the versioned URL never changes.
WIDGET_MAX_AGE: Final = 300
IMMUTABLE: Final = "public, max-age=31536000, immutable"
# While the database is away, answer "no appeal" but let caches retry soon.
UNAVAILABLE_MAX_AGE: Final = 5
# Gzip pays off only above a few hundred bytes.
GZIP_MIN_BYTES: Final = 512


@dataclass(frozen=True)
class Prepared:
    """One resource's bytes, plain and gzipped, each with its own strong ETag."""

    body: bytes
    etag: str
    gzipped: bytes | None
    gzip_etag: str
    content_type: str

    @classmethod
    def of(cls, body: bytes, etag: str, content_type: str) -> Prepared:
        gzipped = gzip.compress(body, 9, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
        return cls(body, etag, gzipped, etag + "-gz", content_type)


def _accepts_gzip(environ: dict[str, Any]) -> bool:
    header: str = environ.get("HTTP_ACCEPT_ENCODING", "")
    if "q=" not in header:
        return "gzip" in header or "*" in header
    return parse_accept_header(header).quality("gzip") > 0


class PublicPath:
    """WSGI layer answering GET/HEAD for the site document and the widget."""

    def __init__(self, app: Flask, inner: WSGIApplication) -> None:
        self.app = app
        self.inner = inner
        settings: Settings = app.extensions["settings"]
        self.settings = settings
        # Per language: the generation each was built from, and its bytes.
        self._documents: dict[str, tuple[int, Prepared]] = {}
        self._widget: tuple[int, Prepared] | None = None
        self._security = [("X-Content-Type-Options", "nosniff")]
        if settings.public_base_url.startswith("https://"):
            self._security.append(
                ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.inner(environ, start_response)
        if path == SITE_DOCUMENT_PATH:
            return self.site_document(environ, start_response)
        if path == WIDGET_PATH or VERSIONED_WIDGET.match(path):
            return self.widget(environ, start_response)
        if path == READER_COUNTRY_PATH:
            return self.reader_country(environ, start_response)
        return self.inner(environ, start_response)

    # ------------------------------------------------------------------ resources

    def prepared_document(self, language: str | None = None) -> tuple[Prepared, int]:
        """The document's prepared bytes and its max-age, rebuilt once per snapshot.

        One document per language we have (`?lang=`; any other is the default language):
        the widget's words, the count and the copy come in that language.
        """
        language = normalise_language(language) or self.settings.default_language
        widget_path = Path(self.app.static_folder or "static") / "widget.js"
        try:
            snapshot = get_appeal_snapshot(self.app)
        except SQLAlchemyError:
            log.warning("site document asked for while the database is away", exc_info=True)
            with self.app.app_context(), in_language(language):
                document = unavailable_document(
                    currency=self.settings.default_currency,
                    dismiss_days=self.settings.dismiss_days,
                ) | self._extras(language, widget_path)
            encoded = EncodedDocument.of(document)
            return Prepared.of(encoded.body, encoded.etag, "application/json"), (
                UNAVAILABLE_MAX_AGE
            )
        cached = self._documents.get(language)
        if cached is None or cached[0] != snapshot.generation:
            with self.app.app_context(), in_language(language):
                document = site_document(
                    snapshot.campaigns,
                    snapshot.supporter_count,
                    currency=self.settings.default_currency,
                    dismiss_days=self.settings.dismiss_days,
                    display=shown_count(display_count, self.settings.social_proof_min_count),
                    language=language,
                    number=number,
                    offer=offer_of(self.settings, snapshot.country_currencies),
                ) | self._extras(language, widget_path)
            encoded = EncodedDocument.of(document)
            cached = (
                snapshot.generation,
                Prepared.of(encoded.body, encoded.etag, "application/json"),
            )
            self._documents[language] = cached
        return cached[1], self.settings.appeal_cache_seconds

    def _extras(self, language: str, widget_path: Path) -> dict[str, Any]:
        """What the document carries beside the campaigns (needs the language in force)."""
        return {
            # The key the widget verifies supporter passes with (service/readers/passes.py).
            "pass_key": public_jwk(self.settings),
            "language": language,
            "strings": widget_strings(widget_path),
        }

    def prepared_widget(self) -> Prepared:
        """The widget's bytes, re-read only when the file changes (development)."""
        path = Path(self.app.static_folder or "static") / "widget.js"
        mtime = path.stat().st_mtime_ns
        cached = self._widget
        if cached is None or cached[0] != mtime:
            body = path.read_bytes()
            etag = hashlib.sha256(body).hexdigest()[:32]
            cached = (mtime, Prepared.of(body, etag, "text/javascript; charset=utf-8"))
            self._widget = cached
        return cached[1]

    def widget_version(self) -> str:
        """The 16 hex digits naming this widget in its immutable URL."""
        return self.prepared_widget().etag[:16]

    # ------------------------------------------------------------------ answers

    def site_document(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        # The language is in the URL (?lang=de), so it is part of every cache's key.
        asked = parse_qs(environ.get("QUERY_STRING", "")).get("lang", [None])[0]
        prepared, max_age = self.prepared_document(asked)
        # Stale copies may serve a little longer while a CDN refetches, and for a day
        # if we are down: an appeal a few seconds old is better than none.
        cache_control = (
            f"public, max-age={max_age}, stale-while-revalidate={max_age}, stale-if-error=86400"
        )
        # The document is public and read without credentials, so any page may read
        # it: one cached copy for every publisher origin (no Vary: Origin).
        extra = [("Access-Control-Allow-Origin", "*")]
        return self._answer(environ, start_response, prepared, cache_control, extra)

    def reader_country(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """The reader's country from the CDN's header (COUNTRY_HEADER), for the widget.

        Only when the operator named the header: then the CDN sets it and strips it
        from clients. The answer differs per reader, so only the browser keeps it.
        """
        header = self.settings.country_header
        country = ""
        if header:
            country = clean_country(environ.get("HTTP_" + header.upper().replace("-", "_")))
        body = json.dumps({"country": country}).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", f"private, max-age={COUNTRY_MAX_AGE}"),
            ("Access-Control-Allow-Origin", "*"),
            *self._security,
        ]
        if header:
            headers.append(("Vary", header))
        start_response("200 OK", headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def widget(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        prepared = self.prepared_widget()
        match = VERSIONED_WIDGET.match(environ.get("PATH_INFO", ""))
        if match and match.group(1) == prepared.etag[:16]:
            cache_control = IMMUTABLE
        else:
            # /widget.js, or an older version's URL during a deploy: today's bytes,
            # briefly cacheable, so nothing ever caches the wrong bytes for a year.
            cache_control = f"public, max-age={WIDGET_MAX_AGE}, stale-while-revalidate=86400"
        return self._answer(environ, start_response, prepared, cache_control, [])

    def _answer(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        prepared: Prepared,
        cache_control: str,
        extra: list[tuple[str, str]],
    ) -> Iterable[bytes]:
        use_gzip = prepared.gzipped is not None and _accepts_gzip(environ)
        body = prepared.gzipped if use_gzip and prepared.gzipped is not None else prepared.body
        etag = prepared.gzip_etag if use_gzip else prepared.etag
        headers = [
            ("Cache-Control", cache_control),
            ("ETag", f'"{etag}"'),
            *extra,
            *self._security,
        ]
        if prepared.gzipped is not None:
            headers.append(("Vary", "Accept-Encoding"))
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
        if if_none_match and parse_etags(if_none_match).contains_weak(etag):
            start_response("304 Not Modified", headers)
            return []
        headers += [("Content-Type", prepared.content_type), ("Content-Length", str(len(body)))]
        if use_gzip:
            headers.append(("Content-Encoding", "gzip"))
        start_response("200 OK", headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def offer_of(settings: Settings, country_currencies: Mapping[str, str]) -> Offer:
    """What readers may give in, from the settings and staff's country map."""
    return Offer(
        limits=settings.currency_limits,
        country_currencies=offered_map(country_currencies, settings.supported_currencies),
        fee_cover=settings.fee_cover,
        geo=bool(settings.country_header),
        meter_min_percent=settings.goal_meter_min_percent,
    )


def public_path(app: Flask) -> PublicPath:
    """The app's public path layer (installed by the appeals feature)."""
    layer: PublicPath = app.extensions["appeals_public_path"]
    return layer


def install(app: Flask) -> None:
    """Put the public path in front of the app's WSGI stack."""
    layer = PublicPath(app, app.wsgi_app)
    app.extensions["appeals_public_path"] = layer
    app.wsgi_app = layer  # type: ignore[method-assign]
