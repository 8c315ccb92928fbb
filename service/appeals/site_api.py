# flask-smorest ships no type information, so its decorators are untyped.
# mypy: disallow-untyped-decorators=False
"""GET /api/v1/appeals/site: the site document the widget decides from (see site.py)."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from service.appeals.public import public_path
from service.appeals.schemas import SiteDocumentSchema

blp = Blueprint(
    "appeals_site",
    __name__,
    url_prefix="/api/v1",
    description="The site document: every running campaign, for the widget to decide from.",
)


@blp.route("/appeals/site", methods=["GET"])
@blp.response(200, SiteDocumentSchema)
def get_site_document() -> ResponseReturnValue:
    """Every running campaign with its targeting, filled copy and variant per reader bucket.

    The same document for every article and reader (cacheable by any CDN); the widget
    decides each placement from it with the reader's state, which stays in the browser.
    """
    # Normally answered by the public path before Flask; this keeps one implementation.
    return Response.from_app(public_path(current_app).site_document, request.environ)
