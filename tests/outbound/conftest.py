"""Outbound tests reuse the ledger's live stack: the service over HTTP and the sandbox."""

from __future__ import annotations

from tests.ledger.conftest import stack

__all__ = ["stack"]
