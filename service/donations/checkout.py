"""Starting a donation: validate it, record the attempt, open a Stripe Checkout Session.

The attempt row is written and committed (`core.db.commit_early`) before Stripe is called, so
every Checkout Session we create can be traced to our own record, and a failure is
recorded on it. Its public id is the root of the idempotency key Stripe sees, so the
same attempt submitted twice opens one Checkout Session.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from service import stripe_gateway
from service.appeals import known_attribution
from service.core.db import commit_early
from service.core.i18n import gettext, in_language, lazy_gettext, money
from service.core.models import utcnow
from service.core.money import fee_cover
from service.core.settings import Settings
from service.donations.stale_attempts import schedule_resolution
from service.ledger import AttemptStatus, CheckoutAttempt, Frequency

# What Stripe's page and the reader's bank statement call the gift, in the reader's language.
PRODUCT_NAMES = {
    Frequency.ONE_OFF: lazy_gettext("One-off donation"),
    Frequency.MONTHLY: lazy_gettext("Monthly donation"),
    Frequency.ANNUAL: lazy_gettext("Annual donation"),
}
SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
# The database refused, timed out or is away (a statement timeout is an OperationalError;
# a pool with no free connection times out).
DATABASE_AWAY = (OperationalError, InterfaceError, PoolTimeout)

log = logging.getLogger(__name__)


class DonationsUnavailable(Exception):
    """Checkout cannot start right now (Stripe failing or busy, or the database away).

    Nothing was written and Stripe was not called; the reader can try again shortly.
    """


class CheckoutFailed(Exception):
    """Stripe could not open checkout; the attempt has been marked failed."""

    def __init__(self, attempt: CheckoutAttempt, message: str) -> None:
        super().__init__(message)
        self.attempt = attempt
        self.message = message


@dataclass(frozen=True)
class DonationRequest:
    """A validated request to give, as the reader chose it."""

    frequency: Frequency
    amount_minor: int
    currency: str
    email: str | None = None
    campaign: str | None = None
    variant: str | None = None
    placement: str | None = None
    return_url: str | None = None
    # Begun on /support (the thank-you page shows before the way back), not in the widget.
    from_page: bool = False
    language: str | None = None
    # Of amount_minor, what the reader added to cover the processing fee.
    fee_cover_minor: int = 0


def fee_cover_amount(settings: Settings, amount_minor: int, currency: str) -> int:
    """What covering the processing fee adds to a gift (0: no fee rule for the currency)."""
    rule = settings.fee_cover.get(currency)
    limits = settings.currency_limits.get(currency)
    if rule is None or limits is None:
        return 0
    # Never past the largest gift taken online: a gift at the maximum adds less, or none.
    room = max(limits.maximum - amount_minor, 0)
    return min(fee_cover(amount_minor, rule.basis_points, rule.fixed_minor), room)


def amount_problem(settings: Settings, amount_minor: int, currency: str) -> str | None:
    """Why an amount is not acceptable in a currency, or None when it is."""
    limits = settings.currency_limits.get(currency)
    if limits is None:
        return None  # the currency itself is reported as the problem
    if amount_minor < limits.minimum:
        return gettext("The smallest gift is %(amount)s.", amount=money(limits.minimum, currency))
    if amount_minor > limits.maximum:
        return gettext(
            "The largest gift we can take online is %(amount)s.",
            amount=money(limits.maximum, currency),
        )
    return None


def is_allowed_return_url(settings: Settings, url: str) -> bool:
    """True when a return URL is on our own origin or an allowed publisher origin."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.username:
        return False
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return origin == settings.public_origin or origin in settings.allowed_embed_origins


def with_query(url: str, **params: str) -> str:
    """Add query parameters to a URL, keeping the ones it has."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    # Stripe fills in {CHECKOUT_SESSION_ID} only if the braces reach it unescaped.
    encoded = urlencode(query, safe="{}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, encoded, parts.fragment))


def return_urls(
    settings: Settings,
    return_url: str | None,
    *,
    from_page: bool = False,
    language: str | None = None,
) -> tuple[str, str]:
    """Stripe's success and cancel URLs for a donation started at `return_url` (or here).

    Stripe always returns a payer to our thank-you page, which confirms the payment and
    hands the supporter pass back to the publisher's page in a URL fragment: nothing
    that grants anything ever rides in a query string. A gift begun in the widget goes
    straight back (`back=1`); one begun on /support shows the thank-you page first. Our
    own pages get the reader's language (`lang`) unless it is the default.
    """
    base = settings.public_base_url
    lang = f"lang={language}" if language and language != settings.default_language else ""
    success = f"{base}/support/thank-you?session_id={SESSION_PLACEHOLDER}"
    if lang:
        success += f"&{lang}"
    support = f"{base}/support" + (f"?{lang}" if lang else "")
    if not return_url:
        return success, support
    if from_page:
        return success, with_query(support, return_url=return_url)
    return f"{success}&back=1", return_url


def _same_request(attempt: CheckoutAttempt, request: DonationRequest) -> bool:
    return (
        attempt.frequency == request.frequency
        and attempt.amount_minor == request.amount_minor
        and attempt.currency == request.currency
        and attempt.email == request.email
        and attempt.campaign == request.campaign
        and attempt.variant == request.variant
        and attempt.placement == request.placement
        and attempt.return_url == request.return_url
        and attempt.language == request.language
        and attempt.fee_cover_minor == request.fee_cover_minor
    )


def valid_attempt_id(value: str | None) -> str | None:
    """The canonical form of a client-supplied attempt id, or None if it is not a UUID."""
    if not value:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def find_attempt(session: Session, attempt_id: str | None) -> CheckoutAttempt | None:
    """The attempt with this public id, if any."""
    if attempt_id is None:
        return None
    return session.scalar(select(CheckoutAttempt).where(CheckoutAttempt.public_id == attempt_id))


def is_reusable(attempt: CheckoutAttempt, request: DonationRequest) -> bool:
    """Whether a repeated submission may reuse this earlier attempt.

    A reused attempt sends Stripe the same idempotency key with the same parameters,
    so Stripe answers with the Checkout Session it already made. A failed attempt, or
    one whose amount the reader has since changed, is not reused: Stripe would replay
    the old failure or refuse the changed parameters.
    """
    return attempt.status is not AttemptStatus.FAILED and _same_request(attempt, request)


def record_checkout_attempt(
    session: Session, request: DonationRequest, public_id: str | None = None
) -> CheckoutAttempt:
    """Write our record of a reader starting checkout (flushed, not committed)."""
    attempt = CheckoutAttempt(
        public_id=public_id or str(uuid.uuid4()),
        frequency=request.frequency,
        amount_minor=request.amount_minor,
        currency=request.currency,
        email=request.email,
        campaign=request.campaign,
        variant=request.variant,
        placement=request.placement,
        return_url=request.return_url,
        language=request.language,
        fee_cover_minor=request.fee_cover_minor,
        status=AttemptStatus.CREATED,
    )
    session.add(attempt)
    session.flush()
    # Committed with the attempt: a crash anywhere after cannot leave it half-done forever.
    schedule_resolution(session, attempt)
    return attempt


def open_checkout_session(
    session: Session, settings: Settings, attempt: CheckoutAttempt, *, from_page: bool = False
) -> stripe_gateway.CreatedCheckoutSession:
    """Create (or re-fetch, by idempotency key) the attempt's Checkout Session.

    Marks the attempt session_created, or failed and raises CheckoutFailed.
    """
    success_url, cancel_url = return_urls(
        settings, attempt.return_url, from_page=from_page, language=attempt.language
    )
    metadata = stripe_gateway.our_metadata(
        checkout_attempt=attempt.public_id,
        frequency=attempt.frequency.value,
        campaign=attempt.campaign,
        variant=attempt.variant,
        placement=attempt.placement,
        language=attempt.language,
        fee_cover=str(attempt.fee_cover_minor) if attempt.fee_cover_minor else None,
    )
    # The same attempt always sends the same words (Stripe compares retried parameters).
    with in_language(attempt.language):
        product_name = str(PRODUCT_NAMES[attempt.frequency])
    try:
        created = stripe_gateway.create_checkout_session(
            settings,
            attempt_id=attempt.public_id,
            frequency=attempt.frequency.value,
            amount_minor=attempt.amount_minor,
            currency=attempt.currency,
            product_name=product_name,
            locale=attempt.language,
            success_url=success_url,
            cancel_url=cancel_url,
            metadata=metadata,
            customer_email=attempt.email,
        )
    except stripe_gateway.GatewayError as error:
        attempt.status = AttemptStatus.FAILED
        attempt.error = error.message
        attempt.updated_at = utcnow()
        session.flush()
        raise CheckoutFailed(attempt, error.message) from error
    attempt.stripe_checkout_session_id = created.id
    if attempt.status is AttemptStatus.CREATED:
        attempt.status = AttemptStatus.SESSION_CREATED
    attempt.error = None
    session.flush()
    return created


def begin_checkout(
    session: Session, settings: Settings, donation: DonationRequest, attempt_id: str | None = None
) -> stripe_gateway.CreatedCheckoutSession:
    """Record the attempt, commit it, then open its Checkout Session.

    Raises CheckoutFailed after committing the failure, so the record survives the 502,
    and DonationsUnavailable, before writing anything, while Stripe's breaker is open or
    this process's slots for Stripe calls are all taken, or when the database is away.
    """
    try:
        # The slot is held from the first write, so a full bulkhead refuses before any.
        with stripe_gateway.reader_call(settings):
            return _begin_checkout(session, settings, donation, attempt_id)
    except stripe_gateway.StripeUnavailable as error:
        log.warning("checkout refused at once: %s", error.message)
        raise DonationsUnavailable(error.message) from error
    except DATABASE_AWAY as error:
        log.warning("checkout refused: the database did not answer (%s)", type(error).__name__)
        raise DonationsUnavailable("the database did not answer") from error


def with_known_attribution(session: Session, donation: DonationRequest) -> DonationRequest:
    """The donation with its campaign and variant kept only if they exist.

    They come from the public (the widget, the support form, anyone's JSON): a name no
    campaign or variant has is dropped and the gift goes through without it. (The
    placement is one of four words already, so it is kept.)
    """
    campaign, variant = known_attribution(session, donation.campaign, donation.variant)
    if (campaign, variant) == (donation.campaign, donation.variant):
        return donation
    return replace(donation, campaign=campaign, variant=variant)


def _begin_checkout(
    session: Session, settings: Settings, donation: DonationRequest, attempt_id: str | None
) -> stripe_gateway.CreatedCheckoutSession:
    donation = with_known_attribution(session, donation)
    existing = find_attempt(session, attempt_id)
    if existing is not None and is_reusable(existing, donation):
        attempt = existing
    else:
        # The given id is taken by a failed or different attempt: this one gets a new id.
        public_id = attempt_id if existing is None else None
        # End the read before writing: SQLite cannot turn a read into a write while
        # another request writes, but waits its turn for a transaction that starts
        # with the write.
        commit_early(session)
        attempt = _record_once(session, donation, public_id)
    # On record before Stripe hears of it, and no transaction open while we wait on Stripe
    # (the update after Stripe answers starts its own, which SQLite then lets write).
    commit_early(session)
    try:
        return open_checkout_session(session, settings, attempt, from_page=donation.from_page)
    except CheckoutFailed:
        commit_early(session)
        raise


def _record_once(
    session: Session, donation: DonationRequest, public_id: str | None
) -> CheckoutAttempt:
    """Record the attempt, or reuse the twin that a concurrent submission just recorded."""
    try:
        with session.begin_nested():
            return record_checkout_attempt(session, donation, public_id)
    except IntegrityError:
        # The same attempt submitted twice at once: the other request recorded it.
        recorded = find_attempt(session, public_id)
        if recorded is not None and is_reusable(recorded, donation):
            return recorded
        return record_checkout_attempt(session, donation)
