"""Failed password logins, counted so that nobody can lock another person out (ASVS 2.2.1).

* **Lock per user name and address**: ``LOGIN_LOCK_AFTER`` wrong passwords for one name
  from one client address lock that address out for that name, ``LOGIN_LOCK_SECONDS``
  after the last one. A guesser is stopped; the owner, elsewhere, is not.
* **Delay per user name**, across every address: once a name has had
  ``LOGIN_DELAY_AFTER`` failures, each further failure makes the next attempt on it
  wait 2, 4, 8 … seconds, at most ``LOGIN_DELAY_MAX_SECONDS``. A guess spread over many
  addresses is slowed to about one a minute; the owner waits at most that long.

Both login paths (form and API) share the counts, kept in Redis for every process.
Keys carry hashes, never what was typed (it may be a phone or worse). An attempt
refused here is answered without checking the password and counts as no failure.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _

from app.platform.kv import get_redis, key
from app.platform.security_events import LOCKED_OUT, LOGIN_DELAYED

LOCKED = _("登录失败次数过多，账号已暂时锁定，请稍后再试")


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused before its password is checked."""

    kind: str  # the security event kind (app.platform.security_events)
    message: str
    wait: Optional[int] = None  # seconds, for a delay


def delay_seconds(failures: int, after: int, cap: int) -> int:
    """Seconds the next attempt on a name waits after its ``failures``-th failure:
    none below ``after`` (0 turns the delay off), then 2, 4, 8 … never above ``cap``."""
    if after <= 0 or failures < after:
        return 0
    return min(cap, 2 ** min(failures - after + 1, 30))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _name(username: str) -> str:
    return _digest((username or "").strip().lower())


def _pair_key(username: str, ip: str) -> str:
    return key("login-fail", _name(username), _digest(f"ip:{ip}"))


def _name_key(username: str) -> str:
    return key("login-fail-name", _name(username))


def _wait_key(username: str) -> str:
    return key("login-wait", _name(username))


def _cfg(name: str) -> int:
    return int(current_app.config[name])


def refusal(username: str, ip: str) -> Optional[Refusal]:
    """The reason to refuse an attempt on ``username`` from ``ip`` now, or None."""
    pipe = get_redis().pipeline()
    pipe.get(_pair_key(username, ip))
    pipe.pttl(_wait_key(username))
    count, wait_ms = pipe.execute()
    if count is not None and int(count) >= _cfg("LOGIN_LOCK_AFTER"):
        return Refusal(LOCKED_OUT, str(LOCKED))
    if wait_ms and wait_ms > 0:
        seconds = max(1, math.ceil(wait_ms / 1000))
        return Refusal(LOGIN_DELAYED, str(_("请%(n)d秒后再试", n=seconds)), seconds)
    return None


def record_failure(username: str, ip: str) -> bool:
    """Count a wrong password for ``username`` from ``ip``; True when it starts the lock
    of that address for that name."""
    window = _cfg("LOGIN_LOCK_SECONDS")
    pair, name = _pair_key(username, ip), _name_key(username)
    r = get_redis()
    pipe = r.pipeline()
    pipe.incr(pair)
    pipe.expire(pair, window)
    pipe.incr(name)
    pipe.expire(name, window)
    pair_count, _ok, name_count, _ok2 = pipe.execute()
    wait = delay_seconds(int(name_count), _cfg("LOGIN_DELAY_AFTER"), _cfg("LOGIN_DELAY_MAX_SECONDS"))
    if wait:
        r.set(_wait_key(username), 1, ex=wait)
    return int(pair_count) == _cfg("LOGIN_LOCK_AFTER")


def clear(username: str, ip: str) -> None:
    """A right password from ``ip``: its failures for ``username`` are forgotten (the
    name's count across addresses runs out on its own, so a guesser cannot reset it)."""
    get_redis().delete(_pair_key(username, ip))
