"""The supporter pass: "supporter until D", signed by the service, kept by the widget.

A pass is `<payload>.<signature>`, both base64url: the payload is JSON
`{"v": 1, "sub": …, "until": D, "iat": …, "refresh": …}` (Unix seconds), the signature
ECDSA P-256 with SHA-256 over the payload's base64url text, in the r||s form WebCrypto
verifies. The widget holds only the public key: it honours a pass whose signature
verifies and whose D is ahead, and asks for a fresh one (`POST /api/v1/readers/pass`)
once `refresh` has passed or D has come, so refunds, lost disputes and cancellations
take effect then.

D comes from the ledger: the end of the paid period of a live recurring gift, or a
one-off gift's date plus the supporter window. `sub` names the reader opaquely: it is
encrypted (AES-GCM, keyed from the signing key), so the publisher's page, where the
pass is kept, learns no id of ours or Stripe's.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.core.pass_key import signing_key
from service.core.settings import Settings
from service.ledger import (
    Donation,
    DonationStatus,
    Frequency,
    MonthlyDonation,
    MonthlyStatus,
    Supporter,
)

VERSION = 1
# Where the way back to the publisher carries the pass: the URL's fragment, never its query.
FRAGMENT_KEY = "rc_pass"
SUPPORTING = (MonthlyStatus.ACTIVE, MonthlyStatus.PAST_DUE)
COUNTING = (DonationStatus.SUCCEEDED, DonationStatus.PARTIALLY_REFUNDED)
# A recurring gift whose period end we do not know yet: its first period, about.
PERIOD_GUESS = {Frequency.MONTHLY: timedelta(days=31), Frequency.ANNUAL: timedelta(days=366)}
MAX_PASS_LENGTH = 1024


@dataclass(frozen=True)
class Claims:
    """What a verified pass says."""

    subject: str
    until: datetime
    issued_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _box(settings: Settings) -> AESGCM:
    secret = signing_key(settings).private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"supporter-pass-sub").derive(
        secret
    )
    return AESGCM(key)


def seal_subject(settings: Settings, reference: str) -> str:
    nonce = os.urandom(12)
    return _b64(nonce + _box(settings).encrypt(nonce, reference.encode(), None))


def open_subject(settings: Settings, sealed: str) -> str | None:
    try:
        raw = _unb64(sealed)
        return _box(settings).decrypt(raw[:12], raw[12:], None).decode()
    except (ValueError, InvalidTag, UnicodeDecodeError):
        return None


def mint(settings: Settings, reference: str, until: datetime, now: datetime | None = None) -> str:
    """A signed pass for a reader reference ("s:<supporter id>" or "c:<customer id>")."""
    now = now or utcnow()
    payload = {
        "v": VERSION,
        "sub": seal_subject(settings, reference),
        "until": int(until.timestamp()),
        "iat": int(now.timestamp()),
        "refresh": int(now.timestamp()) + settings.supporter_pass_refresh_seconds,
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    der = signing_key(settings).sign(body.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{body}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def verify(settings: Settings, token: str) -> Claims | None:
    """The claims of a pass we signed, or None for anything forged, tampered or malformed."""
    if not isinstance(token, str) or len(token) > MAX_PASS_LENGTH or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    try:
        raw = _unb64(signature)
        if len(raw) != 64:
            return None
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        signing_key(settings).public_key().verify(der, body.encode(), ec.ECDSA(hashes.SHA256()))
        payload: Any = json.loads(_unb64(body))
    except (ValueError, InvalidSignature):
        return None
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        return None
    subject = open_subject(settings, str(payload.get("sub", "")))
    until, issued = payload.get("until"), payload.get("iat")
    if subject is None or not isinstance(until, int) or not isinstance(issued, int):
        return None
    return Claims(subject, datetime.fromtimestamp(until, UTC), datetime.fromtimestamp(issued, UTC))


# -- what the ledger says --------------------------------------------------------------------


def supported_until(
    session: Session, settings: Settings, supporter: Supporter, now: datetime | None = None
) -> datetime | None:
    """D: the latest end of a live recurring gift's paid period or of a one-off's window."""
    now = now or utcnow()
    ends: list[datetime] = []
    for monthly in session.scalars(
        select(MonthlyDonation).where(
            MonthlyDonation.supporter_id == supporter.id, MonthlyDonation.status.in_(SUPPORTING)
        )
    ):
        end = monthly.current_period_end
        ends.append(aware(end) if end else now + PERIOD_GUESS[monthly.frequency])
    last_one_off = session.scalar(
        select(func.max(Donation.paid_at)).where(
            Donation.supporter_id == supporter.id,
            Donation.frequency == Frequency.ONE_OFF,
            Donation.status.in_(COUNTING),
        )
    )
    if last_one_off is not None:
        ends.append(aware(last_one_off) + timedelta(days=settings.supporter_window_days))
    return max(ends) if ends else None


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pass_for_supporter(
    session: Session, settings: Settings, supporter: Supporter, now: datetime | None = None
) -> str | None:
    """A fresh pass for a supporter whose support runs past now, else None (lapsed)."""
    now = now or utcnow()
    until = supported_until(session, settings, supporter, now)
    if until is None or until <= now:
        return None
    return mint(settings, f"s:{supporter.id}", until, now)


def find_supporter(session: Session, reference: str) -> Supporter | None:
    """The supporter a pass's subject names, if the ledger knows them (still)."""
    kind, _, value = reference.partition(":")
    if kind == "s" and value.isdigit():
        return session.get(Supporter, int(value))
    if kind == "c" and value:
        monthly_or_gift = session.scalar(
            select(Donation.supporter_id).where(Donation.stripe_customer_id == value).limit(1)
        ) or session.scalar(
            select(MonthlyDonation.supporter_id)
            .where(MonthlyDonation.stripe_customer_id == value)
            .limit(1)
        )
        return session.get(Supporter, monthly_or_gift) if monthly_or_gift else None
    return None


# How long after a checkout began its thank-you page may still hand out a pass before the
# ledger has the gift (Stripe expires an unpaid Checkout Session after 24 hours).
PROVISIONAL_WINDOW = timedelta(hours=25)


def pass_for_checkout(
    session: Session,
    settings: Settings,
    *,
    session_id: str,
    subscription_id: str | None,
    customer_id: str | None,
    frequency: Frequency,
    started_at: datetime | None,
    now: datetime | None = None,
) -> str | None:
    """The pass a paid checkout's thank-you hands back: from the ledger once it has the
    gift (so an old session id of a lapsed reader gives nothing), until then provisional
    (a gift's window, or a recurring gift's first period) for a checkout begun lately."""
    now = now or utcnow()
    supporter_id = session.scalar(
        select(Donation.supporter_id).where(Donation.stripe_checkout_session_id == session_id)
    )
    if supporter_id is None and subscription_id:
        supporter_id = session.scalar(
            select(MonthlyDonation.supporter_id).where(
                MonthlyDonation.stripe_subscription_id == subscription_id
            )
        )
    supporter = session.get(Supporter, supporter_id) if supporter_id else None
    if supporter is not None:
        return pass_for_supporter(session, settings, supporter, now)
    if not customer_id or started_at is None or now - aware(started_at) > PROVISIONAL_WINDOW:
        return None
    until = now + PERIOD_GUESS.get(frequency, timedelta(days=settings.supporter_window_days))
    return mint(settings, f"c:{customer_id}", until, now)


def with_pass(url: str, token: str | None, **extra: str) -> str:
    """The way back to a publisher's page, carrying the pass in the fragment."""
    if not token:
        return url
    parts = urlsplit(url)
    fragment = urlencode({FRAGMENT_KEY: token, **extra})
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, fragment))
