"""Staff pages under /staff/outbound: endpoints, their deliveries, redeliver (admins act)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField, URLField  # type: ignore[import-untyped]
from wtforms.validators import DataRequired, Length  # type: ignore[import-untyped]

from service import staff
from service.core.extensions import db, login_manager
from service.core.settings import Settings
from service.outbound.deliveries import MAX_TRIES, redeliver
from service.outbound.endpoints import (
    ROTATION_OVERLAP,
    EndpointRefused,
    add_endpoint,
    all_endpoints,
    rotate_secret,
)
from service.outbound.models import DeliveryStatus, OutboundDelivery, OutboundEndpoint

bp = Blueprint("outbound", __name__, url_prefix="/staff/outbound")
bp.context_processor(staff.page_helpers)
PAGE_SIZE = 50


class EndpointForm(FlaskForm):  # type: ignore[misc]
    url = URLField("URL", validators=[DataRequired(), Length(max=2048)])
    description = StringField("What it is (for staff)", validators=[Length(max=200)])


class ButtonForm(FlaskForm):  # type: ignore[misc]
    """A button-only form: the CSRF token is the point."""


@bp.before_request
def _signed_in() -> ResponseReturnValue | None:
    if current_user.is_authenticated:
        return None
    response: ResponseReturnValue = login_manager.unauthorized()
    return response


@bp.after_request
def _no_store(response: Response) -> Response:
    # Deliveries hold supporters' email addresses: never cache these pages.
    response.headers["Cache-Control"] = "no-store"
    return response


def _settings() -> Settings:
    from flask import current_app

    value: Settings = current_app.extensions["settings"]
    return value


def _page(
    form: EndpointForm,
    status: int = 200,
    secret: str | None = None,
    shown_for: OutboundEndpoint | None = None,
) -> ResponseReturnValue:
    counts: dict[tuple[int, DeliveryStatus], int] = {}
    for endpoint_id, status_value, count in db.session.execute(
        select(OutboundDelivery.endpoint_id, OutboundDelivery.status, func.count()).group_by(
            OutboundDelivery.endpoint_id, OutboundDelivery.status
        )
    ):
        counts[(endpoint_id, status_value)] = count
    return render_template(
        "staff/outbound.html",
        form=form,
        endpoints=all_endpoints(db.session),
        counts=counts,
        statuses=list(DeliveryStatus),
        secret=secret,
        shown_for=shown_for,
        button=ButtonForm(),
        overlap_hours=int(ROTATION_OVERLAP.total_seconds() // 3600),
    ), status


def endpoints() -> ResponseReturnValue:
    """The registered endpoints and how their deliveries stand."""
    return _page(EndpointForm())


@staff.require_role("admin")
def add() -> ResponseReturnValue:
    """Register an endpoint; its signing secret is shown on this answer, once."""
    form = EndpointForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400, "The form expired. Please reload the page and try again.")
        return _page(form, 422)
    try:
        endpoint, secret = add_endpoint(
            db.session, _settings(), form.url.data or "", form.description.data or ""
        )
    except EndpointRefused as refused:
        form.url.errors.append(str(refused))
        return _page(form, 422)
    return _page(EndpointForm(formdata=None), 201, secret, endpoint)


def _endpoint(endpoint_id: int) -> OutboundEndpoint:
    endpoint = db.session.get(OutboundEndpoint, endpoint_id)
    if endpoint is None:
        abort(404, "No such endpoint.")
    return endpoint


def _require_button() -> None:
    if not ButtonForm().validate_on_submit():
        abort(400, "The form expired. Please reload the page and try again.")


@staff.require_role("admin")
def rotate(endpoint_id: int) -> ResponseReturnValue:
    """A new secret, shown once; the old one keeps signing for a day."""
    _require_button()
    endpoint = _endpoint(endpoint_id)
    secret = rotate_secret(db.session, endpoint)
    return _page(EndpointForm(formdata=None), 200, secret, endpoint)


@staff.require_role("admin")
def toggle(endpoint_id: int) -> ResponseReturnValue:
    """Pause an endpoint (no new deliveries) or resume it."""
    _require_button()
    endpoint = _endpoint(endpoint_id)
    endpoint.active = not endpoint.active
    flash(f"{endpoint.url} {'receives events again' if endpoint.active else 'is paused'}.", "ok")
    return redirect(url_for("outbound.endpoints"))


def deliveries(endpoint_id: int) -> ResponseReturnValue:
    """One endpoint's deliveries, newest first, each with its last answer."""
    endpoint = _endpoint(endpoint_id)
    wanted = request.args.get("status", "")
    statement = select(OutboundDelivery).where(OutboundDelivery.endpoint_id == endpoint.id)
    if wanted in {s.value for s in DeliveryStatus}:
        statement = statement.where(OutboundDelivery.status == DeliveryStatus(wanted))
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 1 <= int(raw_page[:6]) <= 100_000 else 1
    rows = db.session.scalars(
        statement.order_by(OutboundDelivery.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    return render_template(
        "staff/outbound_deliveries.html",
        endpoint=endpoint,
        rows=rows[:PAGE_SIZE],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        query={"status": wanted} if wanted else {},
        status=wanted,
        statuses=list(DeliveryStatus),
        max_tries=MAX_TRIES,
        button=ButtonForm(),
    )


@staff.require_role("admin")
def redeliver_one(delivery_id: int) -> ResponseReturnValue:
    """Send a delivery again now, with a fresh set of tries."""
    _require_button()
    delivery = db.session.get(OutboundDelivery, delivery_id)
    if delivery is None:
        abort(404, "No such delivery.")
    redeliver(db.session, delivery)
    flash(f"Delivery {delivery.id} ({delivery.event_type}) is queued to be sent again.", "ok")
    return redirect(url_for("outbound.deliveries", endpoint_id=delivery.endpoint_id))


bp.add_url_rule("", "endpoints", view_func=endpoints)
bp.add_url_rule("", "add", view_func=add, methods=["POST"])
bp.add_url_rule("/<int:endpoint_id>/rotate", view_func=rotate, methods=["POST"])
bp.add_url_rule("/<int:endpoint_id>/toggle", view_func=toggle, methods=["POST"])
bp.add_url_rule("/<int:endpoint_id>", view_func=deliveries)
bp.add_url_rule(
    "/deliveries/<int:delivery_id>/redeliver", view_func=redeliver_one, methods=["POST"]
)
