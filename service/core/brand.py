"""The publication's brand on every page: name, home page, logo, colour and contact.

Templates get `brand`; the colour reaches pages through `/brand.css`, a stylesheet built
from the settings, so no page needs an inline style (the CSP allows none of ours).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app

from service.core.settings import Settings

bp = Blueprint("brand", __name__)

# Long enough for a CDN to help, short enough that a new colour shows within the hour.
BRAND_CSS_MAX_AGE = 3600


@dataclass(frozen=True)
class Brand:
    """What pages show of the publication."""

    name: str
    url: str
    logo_url: str
    color: str
    contact_email: str


def brand_of(settings: Settings) -> Brand:
    """The brand the settings describe."""
    return Brand(
        name=settings.publication_name,
        url=settings.publication_url,
        logo_url=settings.brand_logo_url,
        color=settings.brand_color,
        contact_email=settings.contact_email,
    )


def brand_css(settings: Settings) -> str:
    """The stylesheet that carries the brand colour (validated as #rrggbb in settings)."""
    return f":root {{ --accent: {settings.brand_color}; }}\n"


@bp.get("/brand.css")
def stylesheet() -> Response:
    """Serve the brand colour as CSS custom properties."""
    settings: Settings = current_app.extensions["settings"]
    response = Response(brand_css(settings), mimetype="text/css")
    response.headers["Cache-Control"] = f"public, max-age={BRAND_CSS_MAX_AGE}"
    return response


def init_app(app: Flask, settings: Settings) -> None:
    """Give every template `brand` and serve /brand.css."""
    brand = brand_of(settings)

    def _brand() -> dict[str, Any]:
        return {"brand": brand}

    app.context_processor(_brand)
    app.register_blueprint(bp)
