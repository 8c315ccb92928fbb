"""Staff pages under /staff: sign-in, dashboard, campaigns, lists, CSV, event inbox, users."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import (
    session as cookie_session,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from service.appeals import decision as appeals
from service.appeals.campaigns import (
    CampaignError,
    CampaignInput,
    CopyInput,
    VariantInput,
    invalidate_campaign_cache,
)
from service.appeals.editing import save_campaign
from service.appeals.models import Campaign, GoalBehaviour, Placement
from service.core.extensions import db, limiter, login_manager
from service.core.models import utcnow
from service.core.money import format_money, format_plain, minor_unit_factor, to_major
from service.core.settings import Settings
from service.ledger.inbox import replay_event
from service.ledger.models import DonationStatus, EventOutcome, Frequency, StripeEvent
from service.ledger.supporters import display_count
from service.staff import charts, reports
from service.staff.accounts import (
    SIGN_IN_RATE_LIMIT,
    SignedInStaff,
    StaffError,
    authenticate,
    count_admins,
    create_staff_user,
    require_role,
)
from service.staff.csv_export import csv_response
from service.staff.forms import CampaignForm, ChangeRoleForm, ConfirmForm, NewStaffForm, SignInForm
from service.staff.models import StaffRole, StaffUser

bp = Blueprint("staff", __name__, url_prefix="/staff")

PERIODS = (7, 30, 90, 365)
PUBLIC_ENDPOINTS = {"staff.sign_in"}


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def _chart_money(value: float, currency: str) -> str:
    """Format a chart value (units of the currency) for people."""
    return format_money(round(value * minor_unit_factor(currency)), currency)


def percent(rate: float | None) -> str:
    return "\u2013" if rate is None else f"{rate * 100:.1f}%"


def when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@bp.before_request
def _require_sign_in() -> ResponseReturnValue | None:
    # Every staff page needs a signed-in user, including pages added later.
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.method != "GET":
        # A form posted after the session ended: after signing in, return to the page the
        # form was on, never to its POST-only URL (which would answer 405).
        came_from = urlsplit(request.referrer or "")
        back = came_from.path if came_from.netloc == request.host else None
        return redirect(url_for("staff.sign_in", next=_safe_next(back)))
    response: ResponseReturnValue = login_manager.unauthorized()
    return response


@bp.after_request
def _no_store(response: Response) -> Response:
    # Staff pages hold supporters' personal data: never cache them anywhere.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "money": format_money,
        "percent": percent,
        "when": when,
        "sign_out_form": ConfirmForm(),
        "is_admin": bool(current_user.is_authenticated and current_user.is_admin),
    }


# Sign-in ---------------------------------------------------------------------------------


def require_valid(form: Any) -> None:
    """Refuse a posted form whose CSRF token or fields do not validate (400)."""
    if not form.validate_on_submit():
        abort(400, "The form expired. Please reload the page and try again.")


def _safe_next(target: str | None) -> str:
    """Only follow a `next` that stays on our staff pages (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/staff/"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("staff.dashboard")


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(SIGN_IN_RATE_LIMIT, methods=["POST"])
def sign_in() -> ResponseReturnValue:
    form = SignInForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("staff.dashboard"))
    error = None
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            # A fresh session on sign-in: nothing from before survives (session fixation).
            cookie_session.clear()
            login_user(SignedInStaff(user))
            return redirect(_safe_next(request.args.get("next")))
        # One message for every failure, so the page never says which emails exist.
        error = (
            "That email and password did not match, or the account is locked for a while "
            "after too many attempts."
        )
    elif request.method == "POST" and form.csrf_token.errors:
        error = "The form expired. Please try again."
    # 200 so the failed-attempt count is committed with the request.
    return render_template("staff/sign_in.html", form=form, error=error)


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    form = ConfirmForm()
    require_valid(form)
    logout_user()
    cookie_session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("staff.sign_in"))


# Dashboard -------------------------------------------------------------------------------


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    board = reports.build_dashboard(db.session, _settings())
    revenue_charts = [
        charts.bar_chart(
            f"Net one-off revenue per month ({row.currency.upper()})",
            [label[:3] + " " + label[-2:] for label in board.month_labels],
            [
                charts.Series(
                    row.currency.upper(),
                    [float(to_major(v, row.currency)) for v in row.by_month_minor],
                )
            ],
            fmt=partial(_chart_money, currency=row.currency),
        )
        for row in board.one_off
    ]
    week_labels = [day.strftime("%d %b") for day in board.weekly.week_starts]
    trend_chart = charts.line_chart(
        "New supporters and cancellations per week",
        week_labels,
        [
            charts.Series("New supporters", board.weekly.new_supporters),
            charts.Series("Monthly gifts cancelled", board.weekly.cancellations),
        ],
    )
    return render_template(
        "staff/dashboard.html",
        board=board,
        revenue_charts=revenue_charts,
        trend_chart=trend_chart,
    )


# Campaigns -------------------------------------------------------------------------------


def _period_days() -> int:
    days = request.args.get("days", type=int) or 30
    return days if days in PERIODS else 30


@bp.get("/campaigns")
def campaigns() -> ResponseReturnValue:
    days = _period_days()
    since = utcnow() - timedelta(days=days)
    performance = reports.campaign_performance(db.session, since)
    rows = db.session.scalars(
        select(Campaign).order_by(Campaign.active.desc(), Campaign.priority.desc(), Campaign.slug)
    ).all()
    return render_template(
        "staff/campaigns.html",
        campaigns=rows,
        performance=performance,
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
    while form.variants.entries:
        form.variants.pop_entry()
    for variant in campaign.variants:
        data: dict[str, Any] = {"key": variant.key, "weight": variant.weight, "remove": False}
        for copy in variant.copies:
            placement = Placement(copy.placement).value
            data[f"{placement}_heading"] = copy.heading
            data[f"{placement}_body"] = copy.body
            data[f"{placement}_cta"] = copy.cta
        form.variants.append_entry(data)


def _add_blank_variant(form: CampaignForm) -> None:
    if len(form.variants.entries) < form.variants.max_entries:
        form.variants.append_entry({"weight": 1})


def _naive(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC).replace(tzinfo=None) if value else None


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value else None


def _input_from_form(form: CampaignForm, slug: str) -> CampaignInput:
    variants = []
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
        variants.append(VariantInput(sub.key.data, sub.weight.data or 0, copies))
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
            form.variants.entries[0].form.key.data = "a"
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        slug = campaign.slug if campaign is not None else form.slug.data
        try:
            saved = save_campaign(db.session, campaign, _input_from_form(form, slug))
        except CampaignError as exc:
            errors = exc.errors
        else:
            invalidate_campaign_cache()
            flash(f"Saved {saved.name}. Readers see the change within a few seconds.", "ok")
            return redirect(url_for("staff.edit_campaign", campaign_id=saved.id))
    elif request.method == "POST" and form.csrf_token.errors:
        abort(400, "The form expired. Please reload the page and try again.")
    count = reports.summarise_supporters(db.session, _settings(), utcnow())
    status = 422 if request.method == "POST" else 200
    return render_template(
        "staff/campaign_edit.html",
        form=form,
        campaign=campaign,
        errors=errors,
        supporters_display=display_count(count.count),
        supporters_count=count.count,
        fill=appeals.fill,
    ), status


@bp.route("/campaigns/new", methods=["GET", "POST"])
@require_role("admin")
def new_campaign() -> ResponseReturnValue:
    return _edit_campaign(None)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@require_role("admin")
def edit_campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return _edit_campaign(campaign)


# Supporters and donations ----------------------------------------------------------------


def _page() -> int:
    return max(request.args.get("page", type=int) or 1, 1)


def _supporter_filters() -> reports.SupporterFilters:
    state = request.args.get("state", "")
    return reports.SupporterFilters(
        q=request.args.get("q", "")[:200],
        state=state if state in {"supporting", "lapsed"} else "",
    )


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _donation_filters() -> reports.DonationFilters:
    frequency = request.args.get("frequency", "")
    status = request.args.get("status", "")
    currency = request.args.get("currency", "").lower()
    return reports.DonationFilters(
        q=request.args.get("q", "")[:200],
        frequency=frequency if frequency in {f.value for f in Frequency} else "",
        status=status if status in {s.value for s in DonationStatus} else "",
        currency=currency if currency in _settings().supported_currencies else "",
        campaign=request.args.get("campaign", "")[:80],
        paid_from=_date_arg("from"),
        paid_to=_date_arg("to"),
    )


def _query_without_page() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "page" and v}


@bp.get("/supporters")
def supporters() -> ResponseReturnValue:
    now = utcnow()
    filters = _supporter_filters()
    page = _page()
    rows, has_next = reports.page_of(
        db.session, reports.supporters_statement(filters, now), page, scalars=False
    )
    return render_template(
        "staff/supporters.html",
        rows=rows,
        filters=filters,
        page=page,
        has_next=has_next,
        query=_query_without_page(),
        now=now,
    )


@bp.get("/donations")
def donations() -> ResponseReturnValue:
    filters = _donation_filters()
    page = _page()
    rows, has_next = reports.page_of(
        db.session, reports.donations_statement(filters), page, scalars=True
    )
    return render_template(
        "staff/donations.html",
        rows=rows,
        filters=filters,
        page=page,
        has_next=has_next,
        query=_query_without_page(),
        frequencies=[f.value for f in Frequency],
        statuses=[s.value for s in DonationStatus],
        currencies=_settings().supported_currencies,
    )


@bp.get("/reports/supporters.csv")
def supporters_csv() -> ResponseReturnValue:
    filters = _supporter_filters()
    now = utcnow()

    def rows() -> Iterator[list[Any]]:
        stmt = reports.supporters_statement(filters, now).execution_options(yield_per=1000)
        for supporter, gifts, last_paid_at, monthly_gifts in db.session.execute(stmt):
            supporting = supporter.supported_until is not None and supporter.supported_until > now
            yield [
                supporter.id,
                supporter.email,
                "yes" if supporting else "no",
                supporter.first_supported_at,
                supporter.supported_until,
                gifts,
                last_paid_at,
                monthly_gifts,
            ]

    header = [
        "supporter_id",
        "email",
        "supporting_now",
        "first_supported_at",
        "supported_until",
        "donations",
        "last_donation_at",
        "active_monthly_gifts",
    ]
    return csv_response(f"supporters-{now:%Y%m%d}.csv", header, rows)


@bp.get("/reports/donations.csv")
def donations_csv() -> ResponseReturnValue:
    filters = _donation_filters()

    def rows() -> Iterator[list[Any]]:
        stmt = reports.donations_statement(filters).execution_options(yield_per=1000)
        for donation in db.session.scalars(stmt):
            yield [
                donation.id,
                donation.paid_at,
                donation.frequency.value,
                donation.status.value,
                format_plain(donation.amount_minor, donation.currency),
                format_plain(donation.amount_refunded_minor, donation.currency),
                donation.currency,
                donation.email,
                donation.campaign,
                donation.variant,
                donation.placement,
                donation.stripe_customer_id,
                donation.stripe_payment_intent_id or donation.stripe_invoice_id,
                donation.supporter_id,
            ]

    header = [
        "donation_id",
        "paid_at",
        "frequency",
        "status",
        "amount",
        "refunded",
        "currency",
        "email",
        "campaign",
        "variant",
        "placement",
        "stripe_customer_id",
        "stripe_payment_or_invoice_id",
        "supporter_id",
    ]
    return csv_response(f"donations-{utcnow():%Y%m%d}.csv", header, rows)


# Event inbox -----------------------------------------------------------------------------


@bp.get("/events")
def events() -> ResponseReturnValue:
    wanted = request.args.get("outcome", "")
    outcomes = (
        [EventOutcome(wanted)]
        if wanted in {EventOutcome.FAILED.value, EventOutcome.IGNORED.value}
        else [EventOutcome.FAILED, EventOutcome.IGNORED]
    )
    page = _page()
    stmt = (
        select(StripeEvent)
        .where(StripeEvent.outcome.in_(outcomes))
        .order_by(StripeEvent.received_at.desc(), StripeEvent.id.desc())
    )
    rows, has_next = reports.page_of(db.session, stmt, page, scalars=True)
    return render_template(
        "staff/events.html",
        rows=rows,
        outcome=wanted,
        page=page,
        has_next=has_next,
        query=_query_without_page(),
        replay_form=ConfirmForm(),
        pretty=lambda payload: json.dumps(payload, indent=2, sort_keys=True)[:20_000],
    )


@bp.post("/events/<int:event_id>/replay")
@require_role("admin")
def replay(event_id: int) -> ResponseReturnValue:
    form = ConfirmForm()
    require_valid(form)
    row = db.session.get(StripeEvent, event_id)
    if row is None:
        abort(404)
    if row.outcome != EventOutcome.FAILED:
        flash(f"Event {row.stripe_event_id} is {row.outcome.value}; only failed events replay.")
        return redirect(url_for("staff.events"))
    outcome = replay_event(db.session, row, _settings())
    flash(f"Replayed {row.stripe_event_id}: {EventOutcome(outcome).value}.", "ok")
    return redirect(url_for("staff.events"))


# Staff users -----------------------------------------------------------------------------


@bp.route("/users", methods=["GET", "POST"])
@require_role("admin")
def users() -> ResponseReturnValue:
    form = NewStaffForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = create_staff_user(
                db.session, form.email.data, form.password.data, StaffRole(form.role.data)
            )
        except StaffError as exc:
            form.email.errors.append(str(exc))
            status = 422
        else:
            flash(f"Added {user.email} as {user.role.value}.", "ok")
            return redirect(url_for("staff.users"))
    elif request.method == "POST":
        if form.csrf_token.errors:
            abort(400, "The form expired. Please reload the page and try again.")
        status = 422
    rows = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    return render_template(
        "staff/users.html",
        form=form,
        rows=rows,
        role_form=ChangeRoleForm(),
        confirm_form=ConfirmForm(),
        now=utcnow(),
    ), status


def _other_user(user_id: int) -> StaffUser:
    user = db.session.get(StaffUser, user_id)
    if user is None:
        abort(404)
    if user.id == current_user.id:
        abort(409, "You cannot change your own account here; ask another admin.")
    return user


@bp.post("/users/<int:user_id>/role")
@require_role("admin")
def change_role(user_id: int) -> ResponseReturnValue:
    form = ChangeRoleForm()
    require_valid(form)
    user = _other_user(user_id)
    user.role = StaffRole(form.role.data)
    db.session.flush()
    flash(f"{user.email} is now {user.role.value}.", "ok")
    return redirect(url_for("staff.users"))


@bp.post("/users/<int:user_id>/unlock")
@require_role("admin")
def unlock_user(user_id: int) -> ResponseReturnValue:
    require_valid(ConfirmForm())
    user = _other_user(user_id)
    user.locked_until = None
    user.failed_sign_ins = 0
    flash(f"Unlocked {user.email}.", "ok")
    return redirect(url_for("staff.users"))


@bp.post("/users/<int:user_id>/remove")
@require_role("admin")
def remove_user(user_id: int) -> ResponseReturnValue:
    require_valid(ConfirmForm())
    user = _other_user(user_id)
    if user.role == StaffRole.ADMIN and count_admins(db.session) <= 1:
        abort(409, "The last admin cannot be removed.")
    db.session.delete(user)
    flash(f"Removed {user.email}.", "ok")
    return redirect(url_for("staff.users"))
