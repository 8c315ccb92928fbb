"""Staff pages under /staff: one blueprint, its hooks and its route table.

The pages live by group in the modules beside this one (auth, dashboard, campaigns,
lists, events, jobs, site, users); they only read the request and render, the queries and the
rules live in service.staff.reports and service.staff.accounts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from service.core.extensions import login_manager
from service.core.money import format_money
from service.staff.forms import ConfirmForm
from service.staff.views import (
    auth,
    campaigns,
    currencies,
    dashboard,
    events,
    jobs,
    lists,
    money,
    payouts,
    retention,
    site,
    supporter,
    translations,
    trends,
    users,
)
from service.staff.views.common import percent, safe_next, when

bp = Blueprint("staff", __name__, url_prefix="/staff")

PUBLIC_ENDPOINTS = {"staff.sign_in"}
GET_POST = ["GET", "POST"]

bp.add_url_rule("/sign-in", view_func=auth.sign_in, methods=GET_POST)
bp.add_url_rule("/sign-out", view_func=auth.sign_out, methods=["POST"])
bp.add_url_rule("/", view_func=dashboard.dashboard)
bp.add_url_rule("/campaigns", view_func=campaigns.campaigns)
bp.add_url_rule("/campaigns/new", view_func=campaigns.new_campaign, methods=GET_POST)
bp.add_url_rule(
    "/campaigns/<int:campaign_id>/edit", view_func=campaigns.edit_campaign, methods=GET_POST
)
bp.add_url_rule(
    "/campaigns/<int:campaign_id>/translations",
    view_func=translations.campaign_translations,
    methods=GET_POST,
)
bp.add_url_rule("/supporters", view_func=lists.supporters)
bp.add_url_rule("/supporters/<int:supporter_id>", view_func=supporter.supporter)
bp.add_url_rule(
    "/supporters/<int:supporter_id>/sign-in-link",
    view_func=supporter.send_sign_in_link,
    methods=["POST"],
)
bp.add_url_rule("/donations", view_func=lists.donations)
bp.add_url_rule("/reports/supporters.csv", view_func=lists.supporters_csv)
bp.add_url_rule("/reports/donations.csv", view_func=lists.donations_csv)
bp.add_url_rule("/reports/money", view_func=money.money)
bp.add_url_rule("/reports/money.csv", view_func=money.money_csv)
bp.add_url_rule("/reports/retention", view_func=retention.retention)
bp.add_url_rule("/reports/trends", view_func=trends.trends)
bp.add_url_rule("/payouts", view_func=payouts.payouts)
bp.add_url_rule("/payouts/month", view_func=payouts.month_end)
bp.add_url_rule("/payouts/<int:payout_id>", view_func=payouts.payout)
bp.add_url_rule("/reports/payouts.csv", view_func=payouts.payouts_csv)
bp.add_url_rule("/events", view_func=events.events)
bp.add_url_rule("/events/<int:event_id>/replay", view_func=events.replay, methods=["POST"])
bp.add_url_rule("/jobs", view_func=jobs.jobs)
bp.add_url_rule("/jobs/<int:job_id>/retry", "retry_job", view_func=jobs.retry, methods=["POST"])
bp.add_url_rule("/site/support-page", view_func=site.support_page_texts, methods=GET_POST)
bp.add_url_rule("/site/currencies", view_func=currencies.reader_currencies, methods=GET_POST)
bp.add_url_rule("/users", view_func=users.users, methods=GET_POST)
bp.add_url_rule("/users/<int:user_id>/role", view_func=users.change_role, methods=["POST"])
bp.add_url_rule("/users/<int:user_id>/unlock", view_func=users.unlock_user, methods=["POST"])
bp.add_url_rule("/users/<int:user_id>/remove", view_func=users.remove_user, methods=["POST"])
bp.add_url_rule(
    "/users/<int:user_id>/reset-password", view_func=users.reset_password, methods=["POST"]
)
bp.add_url_rule("/account/password", view_func=auth.change_password, methods=GET_POST)


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
        return redirect(url_for("staff.sign_in", next=safe_next(back)))
    response: ResponseReturnValue = login_manager.unauthorized()
    return response


@bp.after_request
def _no_store(response: Response) -> Response:
    # Staff pages hold supporters' personal data: never cache them anywhere.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def page_helpers() -> dict[str, Any]:
    """What every staff template uses (also for staff pages other features serve)."""
    return {
        "money": format_money,
        "percent": percent,
        "when": when,
        "sign_out_form": ConfirmForm(),
        "is_admin": bool(current_user.is_authenticated and current_user.is_admin),
    }
