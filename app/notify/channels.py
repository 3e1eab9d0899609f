"""Delivery channels: how a stored message leaves (or does not leave) the machine.

* ``outbox``   — nothing is sent; the message is "delivered" to the outbox, where an
  admin reads it (views/admin.py OutboxView). The default.
* ``webhook``  — HTTP POST ``{"msgtype": "text", "text": {"content": …}}`` (the
  group-robot format of common messengers) to the recipient's robot URL (a messenger
  group named as a recipient) or ``NOTIFY_WEBHOOK_URL``.
* ``sms-http`` — HTTP POST ``{"phone", "content"}`` to an SMS gateway at ``NOTIFY_SMS_URL``.

A channel returns on success and raises :class:`DeliveryError` otherwise. The error's
text is stored in ``Message.last_error`` and shown to admins, so it never carries the
message body, the gateway URL (it often holds a key) or the gateway's answer.

No POST follows a redirect: a 3xx answer is a failure and its ``Location`` gets nothing
(no robot or gateway redirects; a user's robot URL could redirect into this machine's
network).
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Callable, Mapping

from flask_babel import gettext as _

from models.notify import Message


class DeliveryError(Exception):
    """Delivery failed; ``str(err)`` is safe to store and show (no secrets)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx answer is not followed: urllib reports it as an HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def message_text(message: Message, attachment_link: str | None) -> str:
    """What the recipient reads: subject, body and the attachment's download link."""
    parts = [message.subject, message.body] if message.subject else [message.body]
    if attachment_link:
        parts.append(_("附件：%(name)s %(url)s", name=message.attachment_name or "", url=attachment_link))
    return "\n".join(p for p in parts if p)


def _post_json(url: str, payload: dict, timeout: float) -> None:
    """POST ``payload`` as JSON; any non-2xx answer (redirects are not followed) or
    network failure is a DeliveryError."""
    if not url:
        raise DeliveryError(_("未配置发送地址"))
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=timeout) as response:
            status = response.status
            response.read(1024)  # drain a little; the body is never stored
    except urllib.error.HTTPError as err:
        err.close()
        if 300 <= err.code < 400:
            raise DeliveryError(_("网关返回跳转，未跟随：HTTP %(status)s", status=err.code)) from None
        raise DeliveryError(_("网关返回错误：HTTP %(status)s", status=err.code)) from None
    except (socket.timeout, TimeoutError):
        raise DeliveryError(_("网关响应超时")) from None
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise DeliveryError(_("网关响应超时")) from None
        raise DeliveryError(_("无法连接网关：%(reason)s", reason=type(reason).__name__)) from None
    except (OSError, ValueError) as err:
        raise DeliveryError(_("无法连接网关：%(reason)s", reason=type(err).__name__)) from None
    if not 200 <= status < 300:
        raise DeliveryError(_("网关返回错误：HTTP %(status)s", status=status))


def send_outbox(message: Message, config: Mapping, attachment_link: str | None) -> None:
    """Keep the message in the outbox: nothing leaves the machine."""


def send_webhook(message: Message, config: Mapping, attachment_link: str | None) -> None:
    """To the message's own robot URL (a messenger group named as a recipient), else to
    ``NOTIFY_WEBHOOK_URL``."""
    payload = {"msgtype": "text", "text": {"content": message_text(message, attachment_link)}}
    own = message.kind == "messenger" and message.recipient.startswith(("http://", "https://"))
    url = message.recipient if own else config.get("NOTIFY_WEBHOOK_URL", "")
    _post_json(url, payload, float(config.get("NOTIFY_TIMEOUT", 10)))


def send_sms_http(message: Message, config: Mapping, attachment_link: str | None) -> None:
    payload = {"phone": message.recipient, "content": message_text(message, attachment_link)}
    _post_json(config.get("NOTIFY_SMS_URL", ""), payload, float(config.get("NOTIFY_TIMEOUT", 10)))


Channel = Callable[[Message, Mapping, "str | None"], None]

CHANNELS: dict[str, Channel] = {
    "outbox": send_outbox,
    "webhook": send_webhook,
    "sms-http": send_sms_http,
}


def get_channel(name: str) -> Channel:
    channel = CHANNELS.get(name)
    if channel is None:
        raise DeliveryError(_("未知的发送通道：%(name)s", name=name))
    return channel
