"""The ledger's reads from Stripe, answered from what was fetched before any lock was taken.

Applying an event must never hold a lock (the inbox row, a customer's, a row written so
far) while it waits on Stripe. So the worker first runs the event's handler in a
throwaway transaction with an empty set of `Reads`: the first read it needs raises
`MissingRead`, the transaction is rolled back, the read is made with nothing locked,
and the dry run starts again with it in hand, until the handler needs nothing more.
The real run then finds every read in `Reads` (strictly: a read it lacks means Stripe's
state moved in between, and the job runs again). Outside such a run (no `Reads` in
force), each function simply calls the gateway.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from service import stripe_gateway
from service.core.settings import Settings

T = TypeVar("T")
ReadKey = tuple[str, ...]


class MissingRead(Exception):
    """The handler needs a Stripe read that was not made yet; `fetch` makes it."""

    def __init__(self, key: ReadKey, fetch: Callable[[], Any]) -> None:
        super().__init__("needs a read from Stripe: " + " ".join(key))
        self.key = key
        self.fetch = fetch


Reads = dict[ReadKey, Any]

_reads: ContextVar[Reads | None] = ContextVar("ledger_stripe_reads", default=None)


@contextmanager
def answered_from(reads: Reads) -> Iterator[Reads]:
    """Within the block, reads come from `reads` only (a missing one raises MissingRead)."""
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


def fetch_into(reads: Reads, missing: MissingRead) -> None:
    """Make a missing read (call with nothing locked) and keep its answer or Stripe's refusal.

    A refusal that retrying cannot change (no such object, a bad request) is kept, so the
    handler meets it as it would have live; a retryable failure propagates (the job retries).
    """
    try:
        reads[missing.key] = missing.fetch()
    except stripe_gateway.GatewayError as error:
        if error.retryable:
            raise
        reads[missing.key] = error


def _read(key: ReadKey, fetch: Callable[[], T]) -> T:
    reads = _reads.get()
    if reads is None:
        return fetch()
    if key not in reads:
        raise MissingRead(key, fetch)
    answer = reads[key]
    if isinstance(answer, stripe_gateway.GatewayError):
        raise answer
    # Handlers may change what they are given; each gets its own copy.
    value: T = copy.deepcopy(answer)
    return value


def fetch_subscription(settings: Settings, subscription_id: str) -> dict[str, Any]:
    return _read(
        ("subscription", subscription_id),
        lambda: stripe_gateway.fetch_subscription(settings, subscription_id),
    )


def fetch_charge(
    settings: Settings, charge_id: str, *, expand: tuple[str, ...] = ()
) -> dict[str, Any]:
    return _read(
        ("charge", charge_id, *expand),
        lambda: stripe_gateway.fetch_charge(settings, charge_id, expand=expand),
    )


def fetch_customer(settings: Settings, customer_id: str) -> dict[str, Any]:
    return _read(
        ("customer", customer_id), lambda: stripe_gateway.fetch_customer(settings, customer_id)
    )


def fetch_payment_intent(
    settings: Settings, payment_intent_id: str, *, expand: tuple[str, ...] = ()
) -> dict[str, Any]:
    return _read(
        ("payment_intent", payment_intent_id, *expand),
        lambda: stripe_gateway.fetch_payment_intent(settings, payment_intent_id, expand=expand),
    )


def fetch_balance_transaction(settings: Settings, transaction_id: str) -> dict[str, Any]:
    return _read(
        ("balance_transaction", transaction_id),
        lambda: stripe_gateway.fetch_balance_transaction(settings, transaction_id),
    )


def list_refunds(settings: Settings, charge_id: str) -> list[dict[str, Any]]:
    return _read(
        ("refunds of charge", charge_id), lambda: stripe_gateway.list_refunds(settings, charge_id)
    )


def list_invoice_payments(settings: Settings, invoice_id: str) -> list[dict[str, Any]]:
    return _read(
        ("payments of invoice", invoice_id),
        lambda: stripe_gateway.list_invoice_payments(settings, invoice_id),
    )
