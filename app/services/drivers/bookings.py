"""Bookings (预约) and their passes (SPEC §5, §9).

Public functions:

* ``create_booking(data, images, client_address) -> Booking`` — validate everything
  (400 ``ValidationFailed`` with a Chinese message; nothing stored), the identity check
  (400 认证不通过，请确保是本人提交预约或身份证号码填写是否有误), store the booking, its
  passengers, images and pass in one transaction;
* ``booking_answer(booking) -> dict`` — the JSON of a booking as its driver sees it:
  ``id, code, qr_url, state, state_label, expires_at`` and the §9 fields;
* ``bookings_of_driver(phone) -> list[Booking]`` — the driver's own bookings (phone
  identity, purpose ``driver``), newest first;
* ``qr_png(token) -> bytes`` — the QR image of a valid token (``InvalidToken`` else);
* ``image_file(booking_id, image_id) -> (Path, content_type)`` — a booking image for a
  caller who may see the booking (404 else).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from models.drivers import Booking


def create_booking(data: Mapping[str, Any], images: Iterable[Any] = (), client_address: Optional[str] = None) -> Booking:
    raise NotImplementedError


def booking_answer(booking: Booking) -> dict[str, Any]:
    raise NotImplementedError


def bookings_of_driver(phone: str) -> list[Booking]:
    raise NotImplementedError


def qr_png(token: str) -> bytes:
    raise NotImplementedError


def image_file(booking_id: int, image_id: int) -> tuple[Path, str]:
    raise NotImplementedError
