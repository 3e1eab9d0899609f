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

The app revokes no tokens (no blocklist); a change of ``SECRET_KEY`` takes a restart,
which empties the kept claims.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Optional

from flask_jwt_extended import JWTManager
from flask_jwt_extended.config import config

SIZE = 2048


class VerifiedTokens:
    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._claims: OrderedDict[tuple[str, Optional[str]], dict] = OrderedDict()
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

    def keep(self, encoded_token: str, csrf_value: Optional[str], claims: dict) -> None:
        with self._lock:
            self._claims[(encoded_token, csrf_value)] = dict(claims)
            while len(self._claims) > self.size:
                self._claims.popitem(last=False)


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
            self.verified.keep(encoded_token, csrf_value, claims)
        return claims
