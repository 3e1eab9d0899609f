"""The checkpoint pass token (通行码): compact, signed (Ed25519), offline-verifiable.

Form (ASCII, fits a QR code of version ~7)::

    P1.<kid>.<token id>.<expiry>.<signature>

* ``kid`` — the signing key's id (:func:`key_id`: 8 base64url characters of the SHA-256
  of the raw public key), so keys can rotate: verifiers keep the old public keys;
* ``token id`` — 16 base64url characters (12 random bytes): the pass row's ``token_id``;
* ``expiry`` — seconds since the epoch (UTC) in base 36;
* ``signature`` — Ed25519 over ``P1.<kid>.<token id>.<expiry>``, base64url, no padding.

It carries no ID number, no name and no health data. :func:`verify` needs only the
public keys and the clock: a tampered, truncated, foreign-key or expired token is
refused before anything reads the database.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = "P1"
TOKEN_ID_LENGTH = 16
MAX_LENGTH = 160
_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_B36 = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")


class InvalidToken(ValueError):
    """Not a token of ours: malformed, truncated, tampered, or signed by an unknown key."""


class ExpiredToken(InvalidToken):
    """A genuine token past its expiry."""


@dataclass(frozen=True)
class Claims:
    key_id: str
    token_id: str
    expires_at: datetime  # naive UTC


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's id: 8 base64url characters of the SHA-256 of its raw public bytes."""
    return _b64(hashlib.sha256(raw_public(public_key)).digest())[:8]


def new_token_id() -> str:
    return _b64(secrets.token_bytes(12))


def issue(private_key: Ed25519PrivateKey, token_id: str, expires_at: datetime) -> str:
    """A signed token for the pass ``token_id`` valid until ``expires_at`` (naive UTC or aware)."""
    if len(token_id) != TOKEN_ID_LENGTH or not set(token_id) <= _B64:
        raise ValueError("token id: 16 base64url characters")
    kid = key_id(private_key.public_key())
    body = f"{VERSION}.{kid}.{token_id}.{_base36(_epoch(expires_at))}"
    return f"{body}.{_b64(private_key.sign(body.encode('ascii')))}"


def parse(token: str) -> tuple[str, Claims, bytes]:
    """The signed body, the claims and the signature of a well-formed token, unverified.
    :raise InvalidToken: not of the token's form."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH:
        raise InvalidToken("not a token")
    parts = token.strip().split(".")
    if len(parts) != 5 or parts[0] != VERSION:
        raise InvalidToken("not a token")
    _, kid, tid, expiry, signature = parts
    if (len(kid) != 8 or not set(kid) <= _B64 or len(tid) != TOKEN_ID_LENGTH or not set(tid) <= _B64
            or not expiry or len(expiry) > 8 or not set(expiry) <= _B36
            or len(signature) != 86 or not set(signature) <= _B64):
        raise InvalidToken("not a token")
    try:
        raw_signature = _unb64(signature)
    except ValueError:
        raise InvalidToken("not a token") from None
    expires_at = datetime.fromtimestamp(int(expiry, 36), timezone.utc).replace(tzinfo=None)
    return ".".join(parts[:4]), Claims(kid, tid, expires_at), raw_signature


def verify(token: str, public_keys: Mapping[str, Ed25519PublicKey], now: datetime) -> Claims:
    """The claims of a genuine, unexpired token.

    :raise InvalidToken: malformed, truncated, tampered, or its key is not in
        ``public_keys`` (a foreign or retired key);
    :raise ExpiredToken: genuine but ``now`` (naive UTC or aware) is at or past its expiry.
    """
    body, claims, signature = parse(token)
    key = public_keys.get(claims.key_id)
    if key is None:
        raise InvalidToken("unknown key")
    try:
        key.verify(signature, body.encode("ascii"))
    except InvalidSignature:
        raise InvalidToken("bad signature") from None
    if _epoch(now) >= _epoch(claims.expires_at):
        raise ExpiredToken("expired")
    return claims
