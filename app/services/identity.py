"""Proving a phone by SMS code, for every phone identity (SPEC §8, §9): ask for a code,
verify it, sign in.

* :func:`request_code` — limits first (same answer for any well-formed phone), a new
  code kept as a keyed hash, and an SMS through the outbox only to a phone the purpose
  may serve (``app.security.identities``).
* :func:`verify` — the code checked (single use, tries, per-address limit); for a head,
  their platform account (created on first login); for the other purposes, the verified
  phone itself.
* :func:`access_token` — the JWT of a verified identity: a head's is their account's
  token (scoped like the head's pages); anyone else's names only the purpose and the
  phone, so it opens only that person's own rows and no other API.

The rules and counters live in ``app.security.sms_codes``; this module acts.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Optional

from flask import current_app
from flask_jwt_extended import create_access_token
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain.errors import ServiceError
from app.domain.i18n import _
from app.notify import send_message
from app.platform.operations import operation
from app.security import identities, sms_codes
from app.security import roles as R
from app.security.principals import phone_subject
from models.enterprises import Enterprise
from models.notify import Message
from models.users import SentinelUser

SMS_BODY = "您的登录验证码为%s，5分钟内有效。"
MSG_SENT = sms_codes.MSG_SENT


@dataclass(frozen=True)
class Verified:
    """A phone proven for ``purpose``; ``user`` is the platform account (heads)."""

    purpose: str
    phone: str
    user: Optional[SentinelUser] = None


@operation
def request_code(session, raw_phone: Any, purpose_name: Any, ip: str) -> None:
    """Check the limits, keep a new code and send it to a phone the purpose serves.

    :raise ServiceError: 400, malformed phone or unknown purpose.
    :raise TooManyRequests: 429, a limit is reached (the same for known and unknown phones).
    """
    purpose = identities.purpose(purpose_name)
    phone = sms_codes.parse_phone(raw_phone)
    sms_codes.check_request_limits(phone, ip)
    code = sms_codes.new_code()
    sms_codes.store_code(phone, purpose.name, code)
    key = f"sms-{purpose.name}:{sms_codes.phone_digest(current_app.config['SECRET_KEY'], phone)}:{secrets.token_hex(8)}"
    if purpose.may_receive(session, phone):
        send_message(kind="sms", recipient=phone, body=SMS_BODY % code, idempotency_key=key, sensitive=True,
                     valid_for=timedelta(seconds=sms_codes.code_lifetime()))
    else:  # the same first query as send_message, so both answers cost about the same
        session.execute(select(Message.id).where(Message.idempotency_key == key)).first()


def verify(session, raw_phone: Any, raw_code: Any, purpose_name: Any, ip: str) -> Verified:
    """Consume the code; the verified identity.

    :raise ServiceError: 400 (malformed, wrong, expired code; a head's phone that heads
        nothing any more). :raise TooManyRequests: 429, the address checked too many codes.
    """
    purpose = identities.purpose(purpose_name)
    phone = sms_codes.check_code(raw_phone, raw_code, ip, purpose.name)
    if purpose.name == identities.HEAD:
        return Verified(purpose.name, phone, head_account(session, phone))
    return Verified(purpose.name, phone)


def head_account(session, phone: str) -> SentinelUser:
    """The enterprise head account of ``phone``, created on first login (a concurrent
    first login of the same phone: the unique phone keeps one, the other reads it).

    :raise ServiceError: the phone heads no enterprise (any more) or its account may not
        use SMS login.
    """
    try:
        return _head_account(session, phone)
    except IntegrityError:
        user = identities.account_of(session, phone)
        if user is None:
            raise
        return user


@operation
def _head_account(session, phone: str) -> SentinelUser:
    if not identities.may_sign_in_as_head(session, phone):
        raise ServiceError(identities.MSG_NOT_HEAD)
    user = identities.account_of(session, phone)
    if user is not None:
        return user
    role = current_app.appbuilder.sm.find_role(R.ENTERPRISE_HEAD)
    if role is None:  # roles not synced: `flask --app run roles sync`
        raise RuntimeError("role enterprise_head missing")
    head_name = session.execute(
        select(Enterprise.head_name).where(Enterprise.head_phone == phone).order_by(Enterprise.id).limit(1)
    ).scalar() or ""
    username = f"head_{secrets.token_hex(6)}"
    user = SentinelUser(
        username=username, first_name=(head_name or str(_("企业负责人")))[:64], last_name="",
        email=f"{username}@heads.invalid", active=True, phone=phone,
        # no "$": werkzeug's check_password_hash answers False, password login never works
        password="!" + secrets.token_hex(24),
        roles=[role],
    )
    session.add(user)
    session.flush()
    return user


def access_token(verified: Verified) -> str:
    """The JWT of ``verified`` (SPEC §9): the account's for a head, else one naming the
    purpose and the phone only."""
    if verified.user is not None:
        return create_access_token(identity=str(verified.user.id), fresh=True,
                                   additional_claims={"purpose": verified.purpose})
    return create_access_token(identity=phone_subject(verified.purpose, verified.phone),
                               additional_claims={"purpose": verified.purpose, "phone": verified.phone})
