"""Reading and making the supporter pass's PEM key (settings validate with this)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


class PassKeyError(ValueError):
    """The configured key is not a PEM EC P-256 private key."""


def parse_private_key(pem: str) -> ec.EllipticCurvePrivateKey:
    """The key in a PEM (literal "\\n" sequences allowed, as env files often hold them)."""
    text = pem.strip().replace("\\n", "\n")
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise PassKeyError("not a PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise PassKeyError("not an EC P-256 (secp256r1) key")
    return key


def new_private_key_pem() -> str:
    """A fresh P-256 key as PKCS#8 PEM (what `flask --app service pass-key` prints)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
