"""Fold appeal beacons (impression, click, dismiss) into daily counters, each counted once.

Each counted beacon is one INSERT ... ON CONFLICT DO UPDATE on the counter row for its
day, campaign, variant and placement: never a row per view, and safe under concurrency.

What may be counted (issue 17: an A/B result must not be pushable on purpose):
- once per page view, placement and kind: the widget sends a random `view_id` per page
  view, and a beacon whose (view_id, placement, kind) was counted before is not counted
  again (the unique key of `appeal_beacon_marks` decides, also between concurrent
  requests);
- a click or close only after that page view's impression of the same campaign and
  variant at that placement;
- at most `APPEAL_BEACON_DAILY_CAP` beacons per client and day, the client being a keyed
  hash of its IP (after the trusted proxies) and the day, never the IP itself.
A beacon that is not counted is still accepted: the sender learns nothing from it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.appeals.models import AppealBeaconClient, AppealBeaconMark, AppealCounter
from service.core.db import insert_ignoring_conflicts, insert_or_update
from service.core.models import utcnow

EVENT_TYPES: Final = ("impression", "click", "dismiss")
_COLUMN_OF: Final = {"impression": "impressions", "click": "clicks", "dismiss": "dismissals"}
# The widget's view id: 16 to 64 letters, digits, '-' or '_' (it sends 32 hex digits).
VIEW_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{16,64}$"
# Marks are kept for yesterday's page views too: a page open over midnight still counts once.
MARK_DAYS: Final = 2


def record_appeal_event(
    session: Session,
    event_type: str,
    campaign: str,
    variant: str,
    placement: str,
    at: datetime | None = None,
) -> None:
    """Add one to the day's counter for this event, creating the row when needed."""
    column = _COLUMN_OF[event_type]
    day: date = (at or utcnow()).date()
    values = {
        "day": day,
        "campaign": campaign,
        "variant": variant,
        "placement": placement,
        "impressions": 0,
        "clicks": 0,
        "dismissals": 0,
    }
    values[column] = 1
    insert_or_update(
        session,
        AppealCounter.__table__,  # type: ignore[arg-type]
        values,
        conflict_on=("day", "campaign", "variant", "placement"),
        set_={column: getattr(AppealCounter, column) + 1},
    )


def client_key(secret: str, ip: str, day: date) -> str:
    """The client's key for one day's cap: a keyed hash of IP and day, never the IP."""
    message = f"appeal-beacons|{day.isoformat()}|{ip}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def count_beacons(
    session: Session,
    beacons: Iterable[Mapping[str, Any]],
    *,
    client: str,
    daily_cap: int,
    is_running: Callable[[str, str], bool],
    at: datetime | None = None,
) -> int:
    """Count what these beacons from one client add to today's counters; return how many.

    `client` is `client_key(...)`; `is_running(campaign, variant)` says whether a
    campaign is running with that variant (beacons for any other are not counted).
    """
    now = at or utcnow()
    day = now.date()
    remaining = daily_cap - _counted_today(session, day, client)
    counted = 0
    for beacon in beacons:
        if remaining - counted <= 0:
            break
        if is_running(beacon["campaign"], beacon["variant"]) and _first_of_its_view(
            session, beacon, day
        ):
            record_appeal_event(
                session,
                beacon["type"],
                beacon["campaign"],
                beacon["variant"],
                beacon["placement"],
                at=now,
            )
            counted += 1
    if counted:
        insert_or_update(
            session,
            AppealBeaconClient.__table__,  # type: ignore[arg-type]
            {"day": day, "client": client, "counted": counted},
            conflict_on=("day", "client"),
            set_={"counted": AppealBeaconClient.counted + counted},
        )
    return counted


def _counted_today(session: Session, day: date, client: str) -> int:
    counted = session.scalar(
        select(AppealBeaconClient.counted).where(
            AppealBeaconClient.day == day, AppealBeaconClient.client == client
        )
    )
    return counted or 0


def _first_of_its_view(session: Session, beacon: Mapping[str, Any], day: date) -> bool:
    """Mark the beacon as counted for its page view; False when it was, or may not be."""
    if beacon["type"] != "impression" and not _impression_seen(session, beacon):
        return False
    return insert_ignoring_conflicts(
        session,
        AppealBeaconMark.__table__,  # type: ignore[arg-type]
        {
            "day": day,
            "view_id": beacon["view_id"],
            "placement": beacon["placement"],
            "kind": beacon["type"],
            "campaign": beacon["campaign"],
            "variant": beacon["variant"],
        },
    )


def _impression_seen(session: Session, beacon: Mapping[str, Any]) -> bool:
    found = session.scalar(
        select(AppealBeaconMark.id).where(
            AppealBeaconMark.view_id == beacon["view_id"],
            AppealBeaconMark.placement == beacon["placement"],
            AppealBeaconMark.kind == "impression",
            AppealBeaconMark.campaign == beacon["campaign"],
            AppealBeaconMark.variant == beacon["variant"],
        )
    )
    return found is not None


def sweep_beacon_marks(session: Session, today: date | None = None) -> None:
    """Forget page views older than MARK_DAYS and clients' counts of past days."""
    today = today or utcnow().date()
    session.execute(
        delete(AppealBeaconMark).where(AppealBeaconMark.day <= today - timedelta(days=MARK_DAYS))
    )
    session.execute(delete(AppealBeaconClient).where(AppealBeaconClient.day < today))
