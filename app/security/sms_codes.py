"""SMS codes that prove a phone, for every phone identity (SPEC §8, §9 "Phone identity"):
enterprise heads today; drivers, employees and testing workers next
(``app.security.identities`` names the purposes, ``app.services.identity`` runs the flow).

Rules: a 6-digit code from ``secrets``, valid ``SMS_CODE_TTL`` seconds, single use, at
most ``SMS_CODE_MAX_TRIES`` tries (then it is dead), a new code only after
``SMS_RESEND_SECONDS``, at most ``SMS_PER_PHONE_PER_HOUR`` codes per phone and
``SMS_PER_IP_PER_HOUR`` requests per address, at most ``SMS_VERIFY_PER_IP_PER_HOUR``
codes checked per address (whatever the phones). Everything is counted in Redis, so every
process shares the counts; Redis holds only a keyed hash of the code, and keys carry
a keyed hash of the phone, never the phone itself.

A code is bound to its phone and its purpose: a head's code does not prove a driver.
The hourly and resend limits count the phone across purposes (one SMS budget per phone).
Every refusal but a malformed phone or code is a security event
(``app.platform.security_events``) naming the phone masked.

This module decides and counts; it sends nothing and creates no account (the flow in
``app.services.identity`` does). Nothing here logs a code or a phone.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from flask import current_app
from flask_babel import lazy_gettext as _

from app.domain.errors import RuleError, ServiceError, TooManyRequests
from app.domain.identity import mask_phone, normalize_phone
from app.platform import security_events as events
from app.platform.kv import get_redis, key

CODE_LENGTH = 6
SMS_BODY = "您的登录验证码为%s，5分钟内有效。"

MSG_SENT = _("验证码已发送")
MSG_CODE_FORMAT = _("请输入6位数字验证码")
MSG_CODE_GONE = _("验证码已失效，请重新获取")
MSG_CODE_DEAD = _("验证码错误次数过多，请重新获取")
MSG_PHONE_HOURLY = _("该手机号码获取验证码次数过多，请一小时后再试")
MSG_IP_HOURLY = _("获取验证码过于频繁，请稍后再试")
MSG_VERIFY_IP_HOURLY = _("验证码校验过于频繁，请稍后再试")


# --- pure helpers -----------------------------------------------------------------

def new_code() -> str:
    """A fresh 6-digit code (leading zeros kept)."""
    return f"{secrets.randbelow(10 ** CODE_LENGTH):0{CODE_LENGTH}d}"


def normalize_code(raw: object) -> str:
    """The code as typed (full-width digits and spaces tolerated); RuleError if not 6 digits."""
    text = "".join(unicodedata.normalize("NFKC", "" if raw is None else str(raw)).split())
    if len(text) != CODE_LENGTH or not text.isascii() or not text.isdigit():
        raise RuleError("code", MSG_CODE_FORMAT)
    return text


def phone_digest(secret: str, phone: str) -> str:
    """Keyed hash naming a phone in Redis keys and message keys."""
    return hmac.new(secret.encode(), b"phone:" + phone.encode(), hashlib.sha256).hexdigest()[:32]


def code_digest(secret: str, phone: str, code: str) -> str:
    """Keyed hash of a code, bound to its phone: what Redis stores instead of the code."""
    return hmac.new(secret.encode(), f"code:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


# --- Redis ------------------------------------------------------------------------

# KEYS[1] = the code hash; ARGV[1] = digest tried, ARGV[2] = max tries.
# Returns 0 no code, 1 right (code deleted), 2 wrong, 3 wrong and now dead (deleted).
_CHECK = """
local stored = redis.call('HGET', KEYS[1], 'h')
if not stored then return {0, 0} end
local tries = redis.call('HINCRBY', KEYS[1], 't', 1)
local max = tonumber(ARGV[2])
if tries > max then redis.call('DEL', KEYS[1]); return {3, 0} end
if stored == ARGV[1] then redis.call('DEL', KEYS[1]); return {1, 0} end
if tries >= max then redis.call('DEL', KEYS[1]); return {3, 0} end
return {2, max - tries}
"""


def _cfg(name: str) -> int:
    return int(current_app.config[name])


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _code_key(phone: str, purpose: str) -> str:
    return key("sms", "code", purpose, phone_digest(_secret(), phone))


def _count(name: str, ident: str, window: int) -> int:
    """Increment a counter living ``window`` seconds from its first hit; the new value."""
    k = key("sms", name, ident)
    pipe = get_redis().pipeline()
    pipe.set(k, 0, ex=window, nx=True)
    pipe.incr(k)
    return int(pipe.execute()[1])


def _ip_id(ip: str) -> str:
    return hashlib.sha256(f"ip:{ip}".encode()).hexdigest()[:32]


def _refuse(kind: str, phone: object, error: ServiceError) -> ServiceError:
    """``error``, once the refusal is recorded as a security event (the phone masked;
    none named when it is not a phone)."""
    try:
        account = mask_phone(normalize_phone(phone))
    except RuleError:
        account = None
    events.record(kind, account=account)
    return error


def check_request_limits(phone: str, ip: str) -> None:
    """Raise TooManyRequests when the address, the resend pause or the phone's hour is used up."""
    if _count("ip-hour", _ip_id(ip), 3600) > _cfg("SMS_PER_IP_PER_HOUR"):
        raise _refuse(events.SMS_IP_LIMIT, phone, TooManyRequests(MSG_IP_HOURLY))
    digest = phone_digest(_secret(), phone)
    pause = key("sms", "pause", digest)
    r = get_redis()
    if not r.set(pause, 1, ex=_cfg("SMS_RESEND_SECONDS"), nx=True):
        wait = r.ttl(pause)
        raise _refuse(events.SMS_RESEND_PAUSE, phone,
                      TooManyRequests(_("请%(n)d秒后再重新获取验证码", n=max(1, int(wait)))))
    if _count("phone-hour", digest, 3600) > _cfg("SMS_PER_PHONE_PER_HOUR"):
        raise _refuse(events.SMS_PHONE_LIMIT, phone, TooManyRequests(MSG_PHONE_HOURLY))


def check_verify_limit(ip: str, raw_phone: object = None) -> None:
    """Count one code check from ``ip``; TooManyRequests (a security event naming
    ``raw_phone`` masked) past ``SMS_VERIFY_PER_IP_PER_HOUR`` in the hour, whatever the
    phones and codes."""
    if _count("verify-ip-hour", _ip_id(ip), 3600) > _cfg("SMS_VERIFY_PER_IP_PER_HOUR"):
        raise _refuse(events.SMS_VERIFY_LIMIT, raw_phone, TooManyRequests(MSG_VERIFY_IP_HOURLY))


def store_code(phone: str, purpose: str, code: str) -> None:
    """Keep a keyed hash of ``code`` for ``phone`` and ``purpose`` for ``SMS_CODE_TTL``;
    a new code kills the previous one."""
    k = _code_key(phone, purpose)
    pipe = get_redis().pipeline()
    pipe.delete(k)  # a new code kills the previous one
    pipe.hset(k, mapping={"h": code_digest(_secret(), phone, code), "t": 0})
    pipe.expire(k, _cfg("SMS_CODE_TTL"))
    pipe.execute()


def parse_phone(raw: object) -> str:
    """The normalised mobile number; ServiceError (400) when it is not one."""
    try:
        return normalize_phone(raw)
    except RuleError as err:
        raise ServiceError(err.message, [err])


def code_lifetime() -> int:
    return _cfg("SMS_CODE_TTL")


def check_code(raw_phone: object, raw_code: object, ip: str, purpose: str) -> str:
    """Consume the code of ``purpose``; the phone when it was right. Every check from
    ``ip`` counts against its hourly limit, before the phone or the code is looked at.

    :raise TooManyRequests: 429, the address checked too many codes this hour.
    :raise ServiceError: 400 with the reason (malformed, expired, wrong, too many tries).
    """
    check_verify_limit(ip, raw_phone)
    phone = parse_phone(raw_phone)
    try:
        code = normalize_code(raw_code)
    except RuleError as err:
        raise ServiceError(err.message, [err])
    outcome, left = get_redis().eval(
        _CHECK, 1, _code_key(phone, purpose), code_digest(_secret(), phone, code), _cfg("SMS_CODE_MAX_TRIES")
    )
    if outcome == 1:
        return phone
    if outcome == 0:
        raise _refuse(events.SMS_CODE_GONE, phone, ServiceError(MSG_CODE_GONE))
    if outcome == 3:
        raise _refuse(events.SMS_CODE_DEAD, phone, ServiceError(MSG_CODE_DEAD))
    raise _refuse(events.SMS_CODE_WRONG, phone, ServiceError(_("验证码不正确，还可以再试%(n)d次", n=int(left))))
