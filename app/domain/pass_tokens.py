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
from typing import Mapping, Optional

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
    """Strict base64url: only the one canonical spelling of the bytes decodes (the last
    character's unused bits must be zero), so no two codes name the same signature.
    :raise ValueError: not canonical base64url."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


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


def verify(token: str, public_keys: Mapping[str, Ed25519PublicKey], now: Optional[datetime]) -> Claims:
    """The claims of a genuine, unexpired token (``now`` None: expiry not checked — the
    driver's own page keeps drawing an expired pass).

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
    if now is not None and _epoch(now) >= _epoch(claims.expires_at):
        raise ExpiredToken("expired")
    return claims


# --- keys -----------------------------------------------------------------------------

def private_key_from_secret(secret: str) -> Ed25519PrivateKey:
    """The signing key a configured secret names: a PEM Ed25519 private key, or any text
    of at least 32 characters (a generated instance secret) from which the key's seed is
    derived (SHA-256). :raise ValueError: neither."""
    text = (secret or "").strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("PASS_SIGNING_KEY: an Ed25519 private key is required")
        return key
    if len(text) < 32:
        raise ValueError("PASS_SIGNING_KEY: at least 32 characters, or an Ed25519 private key in PEM")
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"sentinel-pass:" + text.encode("utf-8")).digest())


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key given as PEM or as its 32 raw bytes in base64url (a JWK's ``x``)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(_unb64(text))


class PassKeyring:
    """The current signing key and every public key a pass may be verified with
    (current first, then the previous ones kept during a rotation)."""

    def __init__(self, signing: Ed25519PrivateKey, previous: tuple[Ed25519PublicKey, ...] = ()) -> None:
        self.signing = signing
        self.current_id = key_id(signing.public_key())
        keys = {self.current_id: signing.public_key()}
        for key in previous:
            keys.setdefault(key_id(key), key)
        self.public_keys: Mapping[str, Ed25519PublicKey] = keys

    @classmethod
    def from_config(cls, current: str, previous_secrets: str = "", previous_public: str = "") -> "PassKeyring":
        """``current``: the signing secret; ``previous_secrets``: earlier signing secrets,
        comma-separated; ``previous_public``: public keys (base64url raw), comma-separated."""
        previous = [private_key_from_secret(s).public_key() for s in _items(previous_secrets)]
        previous += [public_key_from_text(p) for p in _items(previous_public)]
        return cls(private_key_from_secret(current), tuple(previous))

    def issue(self, token_id: str, expires_at: datetime) -> str:
        return issue(self.signing, token_id, expires_at)

    def verify(self, token: str, now: Optional[datetime]) -> Claims:
        return verify(token, self.public_keys, now)

    def jwks(self) -> dict:
        """The public keys as a JWK set (RFC 8037: kty OKP, crv Ed25519)."""
        return {"keys": [
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid, "x": _b64(raw_public(key)),
             "current": kid == self.current_id}
            for kid, key in self.public_keys.items()
        ]}

    def pem(self) -> str:
        return "".join(key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                       .decode("ascii") for key in self.public_keys.values())


def _items(text: str) -> list[str]:
    # PEM blocks contain no commas; base64url and generated secrets neither.
    return [item for item in (part.strip() for part in (text or "").split(",")) if item]
