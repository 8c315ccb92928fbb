"""Request helpers the staff pages share: settings, posted-form checks, paging, formats."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, request, url_for

from service.core.input_guard import refuse_parameter
from service.core.settings import Settings


def settings() -> Settings:
    """Return the app's settings."""
    value: Settings = current_app.extensions["settings"]
    return value


def require_valid(form: Any) -> None:
    """Refuse a posted form whose CSRF token or fields do not validate (400)."""
    if not form.validate_on_submit():
        abort(400, "The form expired. Please reload the page and try again.")


def safe_next(target: str | None) -> str:
    """Only follow a `next` that stays on our staff pages (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/staff/"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("staff.dashboard")


# Far past any real list; a bigger offset overflows PostgreSQL's bigint.
MAX_PAGE = 100_000


def page_number() -> int:
    """Return the page asked for; 1, and a message on the page, when out of range."""
    raw = request.args.get("page", "")
    if not raw:
        return 1
    page = int(raw) if raw.isdigit() and len(raw) <= 6 else 0
    if not 1 <= page <= MAX_PAGE:
        refuse_parameter("page", f"Page numbers go from 1 to {MAX_PAGE:,}; showing the first.")
        return 1
    return page


def query_without_page() -> dict[str, str]:
    """Return the query's non-empty arguments except the page, for paging links."""
    return {k: v for k, v in request.args.items() if k != "page" and v}


def percent(rate: float | None) -> str:
    """Show a rate as a percentage with one decimal, or a dash when there is none."""
    return "\u2013" if rate is None else f"{rate * 100:.1f}%"


def when(value: datetime | None) -> str:
    """Show a time in UTC to the minute."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# Dates outside these years are typos (and 9999-12-31 plus a day overflows).
DATE_YEARS = range(1900, 3000)


def date_arg(name: str) -> date | None:
    """Return a YYYY-MM-DD query argument; None, and a message on the page, when invalid."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or day.year not in DATE_YEARS:
        refuse_parameter(
            name,
            f"Enter dates as YYYY-MM-DD between {DATE_YEARS.start} and "
            f"{DATE_YEARS.stop - 1}; {raw[:20]!r} was ignored.",
        )
        return None
    return day
