"""Erasing a person everywhere we keep their address, when Stripe says they are gone.

The ledger erases its own rows (service/ledger/recording.py) and then calls
`erase_person`; features above it register what else they keep about a reader (the
readers feature: the messages sent to them). Job payloads that name the address, done
or still waiting, lose it here too. Everything runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from service.core.jobs import Job

# (session, the addresses, the supporter id whose address is gone, or None)
Eraser = Callable[[Session, frozenset[str], int | None], None]
_erasers: dict[str, Eraser] = {}


def register_eraser(name: str, eraser: Eraser) -> None:
    """Let a feature erase what it keeps (idempotent: create_app runs it per app)."""
    _erasers[name] = eraser


def _without(value: Any, addresses: frozenset[str]) -> Any:
    if isinstance(value, str):
        return None if value.strip().lower() in addresses else value
    if isinstance(value, dict):
        return {key: _without(item, addresses) for key, item in value.items()}
    if isinstance(value, list):
        return [_without(item, addresses) for item in value]
    return value


def _like(address: str) -> str:
    escaped = address.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def scrub_job_payloads(session: Session, addresses: Iterable[str]) -> int:
    """Replace the addresses in every job's payload with null; return the jobs changed."""
    wanted = frozenset(a.strip().lower() for a in addresses if a)
    changed = 0
    for address in wanted:
        jobs = session.scalars(
            select(Job).where(cast(Job.payload, Text).ilike(_like(address), escape="\\"))
        )
        for job in jobs:
            cleaned = _without(job.payload, wanted)
            if cleaned != job.payload:
                job.payload = cleaned
                changed += 1
    session.flush()
    return changed


def erase_person(session: Session, addresses: Iterable[str], supporter_id: int | None) -> None:
    """Erase the addresses from every feature that registered, and from job payloads."""
    wanted = frozenset(a.strip().lower() for a in addresses if a)
    if not wanted and supporter_id is None:
        return
    for eraser in list(_erasers.values()):
        eraser(session, wanted, supporter_id)
    scrub_job_payloads(session, wanted)
