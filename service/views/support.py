"""The reader-facing "support us" pages."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from service.extensions import db
from service.supporters import count_supporters, display_count

bp = Blueprint("support", __name__)


@bp.get("/support")
def support_page() -> ResponseReturnValue:
    """The full appeal with the live supporter count."""
    settings = current_app.extensions["settings"]
    count = count_supporters(db.session, settings)
    return render_template("support.html", supporters=display_count(count), count=count)
