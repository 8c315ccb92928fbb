"""The embeddable widget script, served with caching headers a CDN can use."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

bp = Blueprint("widget", __name__)

# Not fingerprinted (publishers paste one fixed URL), so cache for an hour and let the
# ETag make the revalidations after that cheap.
WIDGET_MAX_AGE = 3600


@lru_cache(maxsize=4)
def widget_source(path: str, mtime_ns: int) -> tuple[bytes, str]:
    """The script's bytes and ETag (re-read only when the file changes)."""
    del mtime_ns  # part of the cache key only
    body = Path(path).read_bytes()
    return body, hashlib.blake2b(body, digest_size=12).hexdigest()


@bp.get("/widget.js")
def widget_js() -> ResponseReturnValue:
    """Serve static/widget.js."""
    path = Path(current_app.static_folder or "static") / "widget.js"
    body, etag = widget_source(str(path), path.stat().st_mtime_ns)
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = (
        f"public, max-age={WIDGET_MAX_AGE}, stale-while-revalidate=86400"
    )
    response.set_etag(etag)
    response.make_conditional(request)
    return response
