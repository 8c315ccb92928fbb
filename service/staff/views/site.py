"""The reader pages' own texts: the /support heading and introduction (admins edit)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.core.extensions import db
from service.core.settings import LANGUAGES
from service.readers import (
    SiteTextError,
    save_support_texts,
    stored_support_texts,
    support_texts,
)
from service.staff.accounts import require_role
from service.staff.forms import SupportTextsForm
from service.staff.views.common import settings

LANGUAGE_NAMES = {"en": "English", "de": "German (Deutsch)", "fr": "French (Français)"}


@require_role("admin")
def support_page_texts() -> ResponseReturnValue:
    """Show and save the /support page's heading and text, in the default language or,
    with ?lang=, in another one (readers of a language without its own see the default)."""
    default = settings().default_language
    language = request.args.get("lang") or default
    if language not in LANGUAGES:
        abort(404)
    stored_as = "" if language == default else language
    form = SupportTextsForm()
    status = 200
    if form.validate_on_submit():
        try:
            save_support_texts(db.session, form.heading.data, form.intro.data, stored_as)
        except SiteTextError as error:
            for name, message in error.errors.items():
                getattr(form, name).errors.append(message)
            status = 422
        else:
            flash("Saved: the support page shows the new text now.", "ok")
            return redirect(url_for("staff.support_page_texts", lang=language))
    elif request.method == "POST":
        if form.csrf_token.errors:
            abort(400, "The form expired. Please reload the page and try again.")
        status = 422
    elif stored_as:
        # Another language: what staff wrote in it, or empty fields to write it.
        heading, intro = stored_support_texts(db.session, stored_as) or ("", "")
        form.heading.data, form.intro.data = heading, intro
    else:
        texts = support_texts(db.session)
        form.heading.data = texts.heading
        form.intro.data = texts.intro
    return render_template(
        "staff/site.html",
        form=form,
        language=language,
        default_language=default,
        languages=LANGUAGES,
        language_names=LANGUAGE_NAMES,
    ), status
