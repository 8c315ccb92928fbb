"""JSON API: the live supporter count."""

# flask-smorest ships no type information, so its decorators are untyped.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from service.core.extensions import db
from service.core.settings import Settings
from service.ledger.schemas import SupporterCountSchema
from service.ledger.supporters import count_supporters, describe_count, display_count

blp = Blueprint(
    "supporters_api",
    __name__,
    url_prefix="/api/v1/supporters",
    description="The supporter count shown in appeals.",
)


@blp.get("/count")
@blp.response(200, SupporterCountSchema)
def supporter_count() -> tuple[dict[str, Any], int, dict[str, str]]:
    """The live supporter count, its display form and its definition."""
    settings: Settings = current_app.extensions["settings"]
    count = count_supporters(db.session, settings)
    body = {"count": count, "display": display_count(count), "definition": describe_count(settings)}
    # An indexed count, cheap; a short shared cache still spares the database on busy pages.
    headers = {"Cache-Control": f"public, max-age={min(settings.appeal_cache_seconds, 60)}"}
    return body, 200, headers
