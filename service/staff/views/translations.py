"""A campaign's copy in other languages, one language at a time (admins edit)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.appeals import (
    Campaign,
    CampaignError,
    CopyInput,
    copies_to_translate,
    invalidate_campaign_cache,
    save_copy_translations,
)
from service.core.extensions import db
from service.core.settings import LANGUAGES
from service.staff.accounts import require_role
from service.staff.forms import ConfirmForm
from service.staff.views.common import settings

LANGUAGE_NAMES = {"en": "English", "de": "German (Deutsch)", "fr": "French (Français)"}


def _other_languages() -> list[str]:
    return [code for code in LANGUAGES if code != settings().default_language]


@require_role("admin")
def campaign_translations(campaign_id: int) -> ResponseReturnValue:
    """Show and save the campaign's copy in one language (?lang=, not the default)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    languages = _other_languages()
    language = request.args.get("lang") or languages[0]
    if language not in languages:
        abort(404)
    form = ConfirmForm()
    errors: dict[str, str] = {}
    status = 200
    if form.validate_on_submit():
        values = {
            item.field: CopyInput(
                *(
                    request.form.get(f"{item.field}.{part}", "")
                    for part in ("heading", "body", "cta")
                )
            )
            for item in copies_to_translate(campaign, language)
        }
        try:
            save_copy_translations(db.session, campaign, language, values)
        except CampaignError as error:
            errors, status = error.errors, 422
        else:
            invalidate_campaign_cache()
            flash(
                f"Saved the {LANGUAGE_NAMES[language].split(' ')[0]} copy. Readers see it "
                "within a few seconds.",
                "ok",
            )
            return redirect(
                url_for("staff.campaign_translations", campaign_id=campaign.id, lang=language)
            )
    elif request.method == "POST":
        abort(400, "The form expired. Please reload the page and try again.")
    return render_template(
        "staff/campaign_translations.html",
        campaign=campaign,
        form=form,
        language=language,
        languages=languages,
        language_names=LANGUAGE_NAMES,
        default_language=LANGUAGE_NAMES[settings().default_language],
        copies=copies_to_translate(campaign, language),
        posted=request.form if request.method == "POST" else None,
        errors=errors,
    ), status
