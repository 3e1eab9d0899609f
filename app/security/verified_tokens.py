"""API tokens verified once per process, their time limits checked on every request.

Every API request decodes its bearer token: flask-jwt-extended reads it three times
(claims and header unverified, then verified), and PyJWT checks each segment character
by character — about a tenth of a checkpoint scan's time. A token is a fixed string and
its signature covers every claim, so the claims of a string already verified with this
process's key are the same the next time: :class:`VerifiedTokens` keeps them (the most
recently used ``SIZE``), keyed by the whole string (signature included) and the CSRF
value it was checked against. On every use the time claims are checked again as PyJWT
checks them (``exp`` with the configured leeway, ``nbf``): a kept token past its expiry
is decoded anew, which raises the expiry as before. A string never verified is decoded
in full, so a forged or altered token meets the full check.

flask-jwt-extended then parses the same string's header once more, unverified, for the
request (``get_unverified_jwt_headers``, as costly as a decode): :func:`install_header_memo`
hands back the header kept with a verified string instead — what parsing that very
string gives — and parses anything else as before.

Revocation is checked after this, on every request, by flask-jwt-extended itself (a
page's token ends with its login: ``app.security.sessions.token_login_ended``); a change
of ``SECRET_KEY`` takes a restart, which empties the kept claims.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Optional

from flask import current_app
from flask_jwt_extended import JWTManager, view_decorators
from flask_jwt_extended.config import config
from flask_jwt_extended.utils import get_unverified_jwt_headers

SIZE = 2048


class VerifiedTokens:
    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._claims: OrderedDict[tuple[str, Optional[str]], dict] = OrderedDict()
        self._headers: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()  # threaded servers and tests share one process's claims

    def get(self, encoded_token: str, csrf_value: Optional[str], leeway: float,
            now: Optional[float] = None) -> Optional[dict]:
        """A copy of the claims of ``encoded_token`` if verified before and still in time."""
        key = (encoded_token, csrf_value)
        now = time.time() if now is None else now
        with self._lock:
            claims = self._claims.get(key)
            if claims is None:
                return None
            exp, nbf = claims.get("exp"), claims.get("nbf")
            if (exp is not None and exp <= now - leeway) or (nbf is not None and nbf > now + leeway):
                del self._claims[key]
                return None
            self._claims.move_to_end(key)
            return dict(claims)

    def keep(self, encoded_token: str, csrf_value: Optional[str], claims: dict,
             header: Optional[dict] = None) -> None:
        """Keep the claims (and the header, when given) of a string just verified in full."""
        with self._lock:
            self._claims[(encoded_token, csrf_value)] = dict(claims)
            while len(self._claims) > self.size:
                self._claims.popitem(last=False)
            if header is not None:
                self._headers[encoded_token] = dict(header)
                while len(self._headers) > self.size:
                    self._headers.popitem(last=False)

    def header(self, encoded_token: str) -> Optional[dict]:
        """A copy of the header kept with a verified string, or None."""
        with self._lock:
            header = self._headers.get(encoded_token)
            if header is None:
                return None
            self._headers.move_to_end(encoded_token)
            return dict(header)


class VerifyingOnceJWTManager(JWTManager):
    """flask-jwt-extended's manager, decoding each token string once per process (see the
    module docstring); decoding with ``allow_expired`` (never on a request's own check)
    is left to it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.verified = VerifiedTokens()

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value=None, allow_expired: bool = False) -> dict:
        if allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        leeway = config.leeway
        leeway = leeway.total_seconds() if hasattr(leeway, "total_seconds") else float(leeway or 0)
        claims = self.verified.get(encoded_token, csrf_value, leeway)
        if claims is None:
            claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
            self.verified.keep(encoded_token, csrf_value, claims, get_unverified_jwt_headers(encoded_token))
        return claims


def _kept_or_parsed_header(encoded_token: str) -> dict:
    """``get_unverified_jwt_headers`` for the request's check: the header kept with the
    string when the app's manager verified it, else the string parsed."""
    manager = current_app.extensions.get("flask-jwt-extended")
    verified = getattr(manager, "verified", None)
    header = verified.header(encoded_token) if isinstance(verified, VerifiedTokens) else None
    return header if header is not None else get_unverified_jwt_headers(encoded_token)


def install_header_memo() -> None:
    """Make flask-jwt-extended's request check take the kept header (see the module
    docstring); idempotent. Apps whose manager keeps nothing parse as before."""
    view_decorators.get_unverified_jwt_headers = _kept_or_parsed_header
