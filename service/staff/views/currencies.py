"""The reader's currency by country: the map admins edit (defaults until they do)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import TextAreaField  # type: ignore[import-untyped]
from wtforms.validators import Length  # type: ignore[import-untyped]

from service.appeals import (
    CountryMapError,
    country_map,
    format_country_map,
    invalidate_campaign_cache,
    parse_country_map,
    save_country_map,
)
from service.core.extensions import db
from service.staff.accounts import require_role
from service.staff.views.common import settings


class CountryMapForm(FlaskForm):  # type: ignore[misc]
    mapping = TextAreaField(
        "Country and currency, one pair a line (GB gbp)", validators=[Length(max=20_000)]
    )


@require_role("admin")
def reader_currencies() -> ResponseReturnValue:
    """Show and save the country -> currency map readers' first currency comes from."""
    form = CountryMapForm()
    supported = settings().supported_currencies
    problems: list[str] = []
    status = 200
    if form.validate_on_submit():
        try:
            mapping = parse_country_map(form.mapping.data or "", supported)
        except CountryMapError as error:
            problems, status = error.problems, 422
        else:
            save_country_map(db.session, mapping)
            invalidate_campaign_cache()
            flash("Saved: readers' pages use the new map within a few seconds.", "ok")
            return redirect(url_for("staff.reader_currencies"))
    elif request.method == "POST":
        if form.csrf_token.errors:
            abort(400, "The form expired. Please reload the page and try again.")
        status = 422
    else:
        form.mapping.data = format_country_map(country_map(db.session))
    return render_template(
        "staff/currencies.html",
        form=form,
        problems=problems,
        supported=supported,
        default_currency=settings().default_currency,
        country_header=settings().country_header,
    ), status
