"""The supporter pass's signing key: ECDSA P-256, which every browser's WebCrypto verifies.

Production reads it from SUPPORTER_PASS_PRIVATE_KEY (a PEM; settings refuse to start
without one). Development keeps one under instance/ so passes survive a restart; tests
get one per process. The public half is published as a JWK for the widget.
"""

from __future__ import annotations

import base64
import threading
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from service.core.pass_pem import PassKeyError, new_private_key_pem, parse_private_key
from service.core.settings import INSTANCE_DIR, Settings

__all__ = ["PassKeyError", "new_private_key_pem", "parse_private_key", "public_jwk", "signing_key"]

DEV_KEY_FILE = "supporter_pass_key.pem"
_lock = threading.Lock()


@lru_cache(maxsize=4)
def _development_key_pem(directory: Path) -> str:
    """The development key, made once and kept under instance/ (never in production)."""
    path = directory / DEV_KEY_FILE
    with _lock:
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            path.write_text(new_private_key_pem())
            path.chmod(0o600)
        return path.read_text()


@lru_cache(maxsize=8)
def _key_of(pem: str) -> ec.EllipticCurvePrivateKey:
    return parse_private_key(pem)


@lru_cache(maxsize=1)
def _process_key_pem() -> str:
    return new_private_key_pem()


def signing_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    """The private key passes are signed with."""
    if settings.supporter_pass_private_key:
        return _key_of(settings.supporter_pass_private_key)
    if settings.env == "development":
        return _key_of(_development_key_pem(INSTANCE_DIR))
    if settings.is_production:  # settings.validated() refuses this before we get here
        raise PassKeyError("SUPPORTER_PASS_PRIVATE_KEY is not set")
    return _key_of(_process_key_pem())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(settings: Settings) -> dict[str, str]:
    """The public key as a JWK, ready for crypto.subtle.importKey("jwk", ...)."""
    numbers = signing_key(settings).public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }
