"""Notifications: one outbox used by every module (SPEC §4 "Notifications").

``send_message`` stores a message (idempotent by key) and hands it to the queue;
channels deliver it (``outbox`` = stored only, ``webhook``, ``sms-http``).
"""
from app.notify.outbox import send_message  # noqa: F401
