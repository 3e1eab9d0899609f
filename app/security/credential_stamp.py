"""A login lasts only as long as the password it was made with.

Someone who changes their password (修改密码, or the first-login change) or whose
password the admin resets expects every other copy of their login to end: a browser
left signed in elsewhere, a stolen session cookie, an API token or refresh token
obtained with the old password. Each login therefore carries a *stamp* of the password
it was made with — a keyed hash (``SECRET_KEY``) of the user's id and password hash, never
the hash itself:

* a web login keeps it in the (signed) session; a request whose stamp is not the user's
  current one is signed out (``SentinelSecurityManager.load_session_user``);
* every JWT issued for a user (the API login, its refresh, a head's SMS login, a page's
  token) carries it as the claim :data:`CLAIM`; a token with another stamp is refused
  (401), and so is its refresh token, so no new access token can be drawn from it.

The session that made the change gets the new stamp (:func:`renew_session`) and stays
signed in. Accounts without a password (enterprise heads) have a constant stamp.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Optional

from flask import current_app, session

CLAIM = "pws"  # of an API token: the stamp of the password it was issued under
SESSION_KEY = "_sentinel_pws"


def stamp_of(secret: str | bytes, user_id: Any, password_hash: Optional[str]) -> str:
    """The stamp of one user's password (pure): 22 url-safe characters."""
    key = secret if isinstance(secret, bytes) else str(secret).encode()
    digest = hmac.new(key, f"{user_id}\x00{password_hash or ''}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def stamp(user) -> str:
    """The current stamp of ``user``'s password."""
    return stamp_of(current_app.config["SECRET_KEY"], user.id, user.password)


def holds(user, presented: object) -> bool:
    """Whether a login's ``presented`` stamp is ``user``'s current one."""
    return isinstance(presented, str) and hmac.compare_digest(presented, stamp(user))


def renew_session(user) -> None:
    """This request's session now holds ``user``'s current stamp (at login, and after this
    session changed the password: it stays signed in, every other login ends)."""
    session[SESSION_KEY] = stamp(user)


def session_holds(user) -> bool:
    return holds(user, session.get(SESSION_KEY))


def token_claims(user) -> dict:
    """The claims binding a token of ``user`` to their current password."""
    return {CLAIM: stamp(user)}
