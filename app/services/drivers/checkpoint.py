"""The scan and the one-time decision at a checkpoint (seed 002 §2.2).

Public functions:

* ``scan(code) -> dict`` — the scan answer of SPEC §9 (``enterprise_driver``,
  ``enterprise_name``, ``driver_label``, ``test_label``, ``vaccine_label``, ``booking``
  with passengers and image URLs); a forged / truncated / foreign-key / expired token, or
  a pass already decided, answers 409 二维码已过期，请司机重新预约 (``PassExpired``);
* ``decide(code, allow, reason, user) -> dict`` — consumes the pass in ONE conditional
  UPDATE (``state = pending AND expires_at > now``); the loser and every later decision
  get ``PassExpired`` (409); a denial needs a reason (400). The notifications of the
  decision are stored after commit (:mod:`.notifications`).
"""
from __future__ import annotations

from typing import Any, Optional


def scan(code: str) -> dict[str, Any]:
    raise NotImplementedError


def decide(code: str, allow: bool, reason: Optional[str], user: Any) -> dict[str, Any]:
    raise NotImplementedError
