"""The reader pages' own texts: the /support heading and introduction (admins edit)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.core.extensions import db
from service.readers import SiteTextError, save_support_texts, support_texts
from service.staff.accounts import require_role
from service.staff.forms import SupportTextsForm


@require_role("admin")
def support_page_texts() -> ResponseReturnValue:
    """Show and save the /support page's heading and text."""
    form = SupportTextsForm()
    status = 200
    if form.validate_on_submit():
        try:
            save_support_texts(db.session, form.heading.data, form.intro.data)
        except SiteTextError as error:
            for name, message in error.errors.items():
                getattr(form, name).errors.append(message)
            status = 422
        else:
            flash("Saved: the support page shows the new text now.", "ok")
            return redirect(url_for("staff.support_page_texts"))
    elif request.method == "POST":
        if form.csrf_token.errors:
            abort(400, "The form expired. Please reload the page and try again.")
        status = 422
    else:
        texts = support_texts(db.session)
        form.heading.data = texts.heading
        form.intro.data = texts.intro
    return render_template("staff/site.html", form=form), status
