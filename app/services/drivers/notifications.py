"""The messages after a checkpoint decision (seed 002 §2.8), word for word:

* SMS to the head of the driver's enterprise (enterprise drivers);
* messenger to the recipients configured for the enterprise's town (or the destination
  town of a non-enterprise driver) and for the transport bureau.

Public function: ``notify_decision(pass_id) -> int`` (messages stored; once per pass
and recipient: the outbox's idempotency key is ``checkpoint:decision:<pass id>``).
"""
from __future__ import annotations


def notify_decision(pass_id: int) -> int:
    raise NotImplementedError
