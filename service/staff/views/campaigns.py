"""Campaigns: the list with its funnel, and the editor for new and existing campaigns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.appeals import (
    Asks,
    Campaign,
    CampaignError,
    CampaignInput,
    CopyInput,
    GoalBehaviour,
    Placement,
    VariantInput,
    invalidate_campaign_cache,
    offer_of,
    save_campaign,
    stored_asks,
    versioned_widget_url,
)
from service.core.extensions import db
from service.core.models import utcnow
from service.ledger import display_count
from service.staff import reports
from service.staff.accounts import require_role
from service.staff.asks_form import asks_entries, asks_from_entry
from service.staff.forms import PLACEMENT_LABELS, CampaignForm
from service.staff.views.common import settings

PERIODS = (7, 30, 90, 365)


def _period_days() -> int:
    days = request.args.get("days", type=int) or 30
    return days if days in PERIODS else 30


def campaigns() -> ResponseReturnValue:
    """List the campaigns with their funnel over a chosen period."""
    days = _period_days()
    since = utcnow() - timedelta(days=days)
    return render_template(
        "staff/campaigns.html",
        campaigns=reports.campaigns_for_staff(db.session),
        performance=reports.campaign_performance(db.session, since),
        fee_cover=reports.fee_cover_rows(db.session, since),
        fee_cover_definition=reports.FEE_COVER_DEFINITION,
        days=days,
        periods=PERIODS,
        funnel_definition=reports.DEFINITIONS["funnel"],
        min_impressions=reports.MIN_IMPRESSIONS_FOR_TEST,
    )


def _labels(values: list[str]) -> str:
    return ", ".join(values)


def _fill_form(form: CampaignForm, campaign: Campaign) -> None:
    """Put a campaign's values into the form (GET of the edit page)."""
    form.name.data = campaign.name
    form.slug.data = campaign.slug
    form.active.data = campaign.active
    form.starts_at.data = _naive(campaign.starts_at)
    form.ends_at.data = _naive(campaign.ends_at)
    form.priority.data = campaign.priority
    form.goal_supporters.data = campaign.goal_supporters
    form.goal_behaviour.data = GoalBehaviour(campaign.goal_behaviour).value
    form.goal_step.data = campaign.goal_step
    form.thank_you_heading.data = campaign.thank_you_heading or ""
    form.thank_you_body.data = campaign.thank_you_body or ""
    form.include_sections.data = _labels(campaign.include_sections)
    form.exclude_sections.data = _labels(campaign.exclude_sections)
    form.include_tags.data = _labels(campaign.include_tags)
    form.exclude_tags.data = _labels(campaign.exclude_tags)
    form.min_articles_read.data = campaign.min_articles_read
    form.formats.data = list(campaign.formats)
    form.max_views.data = campaign.max_views
    form.views_days.data = campaign.views_days
    form.max_dismissals.data = campaign.max_dismissals
    form.devices.data = list(campaign.devices)
    form.referrers.data = list(campaign.referrers)
    form.countries.data = _labels(campaign.countries)
    form.donor_states.data = list(campaign.donor_states)
    while form.variants.entries:
        form.variants.pop_entry()
    for variant in campaign.variants:
        data: dict[str, Any] = {"key": variant.key, "weight": variant.weight, "remove": False}
        for copy in variant.copies:
            placement = Placement(copy.placement).value
            data[f"{placement}_heading"] = copy.heading
            data[f"{placement}_body"] = copy.body
            data[f"{placement}_cta"] = copy.cta
        stored = {ask.currency: stored_asks(ask) for ask in variant.asks}
        data["asks"] = asks_entries(settings(), stored)
        form.variants.append_entry(data)


def _add_blank_variant(form: CampaignForm) -> None:
    if len(form.variants.entries) < form.variants.max_entries:
        form.variants.append_entry({"weight": 1, "asks": asks_entries(settings(), {})})


def _naive(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC).replace(tzinfo=None) if value else None


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value else None


def _input_from_form(form: CampaignForm, slug: str) -> CampaignInput:
    """The campaign as typed; asks that are not amounts raise CampaignError."""
    variants = []
    problems: dict[str, str] = {}
    for entry in form.variants.entries:
        sub = entry.form
        if not sub.key.data or sub.remove.data:
            continue
        copies: dict[str, CopyInput] = {}
        for placement in Placement:
            parts = [
                (getattr(sub, f"{placement.value}_{part}").data or "").strip()
                for part in ("heading", "body", "cta")
            ]
            if all(parts):
                copies[placement.value] = CopyInput(*parts)
        asks: dict[str, Asks] = {}
        for asks_entry in sub.asks.entries:
            currency, parsed, problem = asks_from_entry(asks_entry.form)
            if problem:
                problems[f"variants.{sub.key.data}.asks.{currency}"] = problem
            elif parsed is not None:
                asks[currency] = parsed
        variants.append(VariantInput(sub.key.data, sub.weight.data or 0, copies, asks))
    if problems:
        raise CampaignError(problems)
    return CampaignInput(
        name=form.name.data,
        slug=slug,
        active=bool(form.active.data),
        starts_at=_aware(form.starts_at.data),
        ends_at=_aware(form.ends_at.data),
        priority=form.priority.data or 0,
        goal_supporters=form.goal_supporters.data,
        goal_behaviour=GoalBehaviour(form.goal_behaviour.data).value,
        goal_step=form.goal_step.data,
        thank_you_heading=form.thank_you_heading.data or "",
        thank_you_body=form.thank_you_body.data or "",
        include_sections=(form.include_sections.data or "").split(","),
        exclude_sections=(form.exclude_sections.data or "").split(","),
        include_tags=(form.include_tags.data or "").split(","),
        exclude_tags=(form.exclude_tags.data or "").split(","),
        min_articles_read=form.min_articles_read.data or 0,
        formats=form.formats.data or ("inline",),
        max_views=form.max_views.data,
        views_days=form.views_days.data or 30,
        max_dismissals=form.max_dismissals.data,
        devices=form.devices.data or (),
        referrers=form.referrers.data or (),
        countries=[c.strip() for c in (form.countries.data or "").split(",") if c.strip()],
        donor_states=form.donor_states.data or (),
        variants=variants,
    )


def _edit_campaign(campaign: Campaign | None) -> ResponseReturnValue:
    form = CampaignForm()
    if request.method == "GET":
        if campaign is not None:
            _fill_form(form, campaign)
            _add_blank_variant(form)
        else:
            # A new campaign starts with one variant "a"; more can be added after saving.
            while form.variants.entries:
                form.variants.pop_entry()
            form.variants.append_entry(
                {"key": "a", "weight": 1, "asks": asks_entries(settings(), {})}
            )
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        slug = campaign.slug if campaign is not None else form.slug.data
        try:
            data = _input_from_form(form, slug)
            saved = save_campaign(db.session, campaign, data, settings().currency_limits)
        except CampaignError as exc:
            errors = exc.errors
        else:
            invalidate_campaign_cache()
            flash(f"Saved {saved.name}. Readers see the change within a few seconds.", "ok")
            return redirect(url_for("staff.edit_campaign", campaign_id=saved.id))
    elif request.method == "POST" and form.csrf_token.errors:
        abort(400, "The form expired. Please reload the page and try again.")
    count = reports.summarise_supporters(db.session, settings(), utcnow())
    status = 422 if request.method == "POST" else 200
    return render_template(
        "staff/campaign_edit.html",
        form=form,
        campaign=campaign,
        errors=errors,
        supporters_display=display_count(count.count),
        supporters_count=count.count,
        currency=settings().default_currency,
        # The preview's amount picker offers what readers get: every currency's asks.
        currencies=offer_of(settings(), {}).currencies(),
        placement_labels=PLACEMENT_LABELS,
        # The preview is the widget itself, at its immutable URL.
        widget_url=versioned_widget_url(),
    ), status


@require_role("admin")
def new_campaign() -> ResponseReturnValue:
    """Create a campaign."""
    return _edit_campaign(None)


@require_role("admin")
def edit_campaign(campaign_id: int) -> ResponseReturnValue:
    """Edit a campaign."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return _edit_campaign(campaign)
