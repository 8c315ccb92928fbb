"""JSON API for readers: ask for a sign-in link."""

# flask-smorest ships no type information, so its decorators are untyped.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from service.core.extensions import db, limiter
from service.core.i18n import current_language, lazy_gettext
from service.core.models import utcnow
from service.core.settings import Settings
from service.readers.passes import find_supporter, mint, pass_for_supporter, verify
from service.readers.schemas import (
    AcceptedSchema,
    PassRefreshSchema,
    PassStateSchema,
    SignInLinkRequestSchema,
)
from service.readers.sign_in import normalise_email, request_link

blp = Blueprint(
    "readers_api",
    __name__,
    url_prefix="/api/v1/readers",
    description="Readers who gave before: sign-in links to their gifts.",
)

ACCEPTED_MESSAGE = lazy_gettext(
    "If we have a gift from this address, a sign-in link is on its way. It works once, "
    "for one hour."
)
RATE_LIMITED_MESSAGE = lazy_gettext(
    "We've sent several links already. Please check your inbox (and spam folder), "
    "or try again in an hour."
)


def submitted_email() -> str:
    """The email a sign-in request names (JSON or the page's form), normalised, or ''."""
    if request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    else:
        email = request.form.get("email")
    return normalise_email(email) if isinstance(email, str) else ""


# Per IP: 20 an hour; per email: 5 an hour, whether or not the email is known.
per_ip = limiter.shared_limit(
    "20 per hour",
    scope="sign-in-ip",
    key_func=get_remote_address,
    methods=["POST"],
    error_message=RATE_LIMITED_MESSAGE,
)
per_email = limiter.shared_limit(
    "5 per hour",
    scope="sign-in-email",
    key_func=submitted_email,
    methods=["POST"],
    error_message=RATE_LIMITED_MESSAGE,
    exempt_when=lambda: not submitted_email(),
)


@blp.route("/sign-in-link", methods=["POST"])
@per_ip
@per_email
@blp.arguments(SignInLinkRequestSchema, location="json")
@blp.response(202, AcceptedSchema)
@blp.alt_response(429, schema="Error", description="Too many links for this email or client")
def sign_in_link(body: dict[str, Any]) -> dict[str, str]:
    """Email a single-use sign-in link (valid one hour) to a reader who gave before.

    The answer is the same whether or not the email is known, so it cannot be used to
    find out who gives.
    """
    request_link(db.session, body["email"], body.get("return_url"), current_language())
    return {"message": str(ACCEPTED_MESSAGE)}


@blp.route("/pass", methods=["POST"])
@limiter.limit("60 per hour", key_func=get_remote_address, methods=["POST"])
@blp.arguments(PassRefreshSchema, location="json")
@blp.response(200, PassStateSchema)
@blp.alt_response(422, schema="Error", description="No pass, or not one a pass could be")
@blp.alt_response(429, schema="Error", description="Too many refreshes from this client")
def refresh_pass(body: dict[str, Any]) -> ResponseReturnValue:
    """Trade a supporter pass for a fresh one, or learn that the support has lapsed.

    Pass holders' widgets call this about once every `SUPPORTER_PASS_REFRESH_SECONDS`,
    and when the pass's date has come, so refunds, lost disputes and cancellations
    take effect then. `state` is `current` (with the new pass), `lapsed` (gave before,
    supports no longer: campaigns for lapsed donors apply) or `never` (also for a pass
    we did not sign: a forged or tampered pass is ignored, the reader not recognised).
    """
    settings: Settings = current_app.extensions["settings"]
    claims = verify(settings, body["pass"])
    now = utcnow()
    supporter = find_supporter(db.session, claims.subject) if claims else None
    answer: dict[str, Any]
    if claims is None:
        answer = {"state": "never"}
    elif supporter is not None:
        token = pass_for_supporter(db.session, settings, supporter, now)
        answer = {"state": "current", "pass": token} if token else {"state": "lapsed"}
    elif claims.subject.startswith("c:") and claims.until > now:
        # A gift the ledger has not heard of yet (its webhook is on the way): keep it.
        answer = {"state": "current", "pass": mint(settings, claims.subject, claims.until, now)}
    else:
        answer = {"state": "never"}
    return answer, 200, {"Cache-Control": "no-store"}
