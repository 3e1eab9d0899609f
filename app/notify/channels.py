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
network). A robot URL a user typed (the message's recipient) is checked when it is sent,
unless ``WEBHOOK_ALLOW_PRIVATE``: its host name is resolved and, if any address it
resolves to is this machine or an internal one, nothing is sent and the message fails
at once (:class:`RefusedDestination`); otherwise the connection goes to the addresses
checked (not to a second lookup's answer), with Host, SNI and the certificate still
checked against the name, and without the environment's HTTP proxy. The operator's
``NOTIFY_WEBHOOK_URL`` and ``NOTIFY_SMS_URL`` are trusted (they may be internal).
"""
from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from typing import Callable, Mapping

from flask_babel import gettext as _

from app.domain.testing_rules import is_internal_address
from models.notify import Message


class DeliveryError(Exception):
    """Delivery failed; ``str(err)`` is safe to store and show (no secrets). The
    dispatcher retries it (``NOTIFY_MAX_ATTEMPTS``) unless it is ``permanent``."""

    permanent = False


class RefusedDestination(DeliveryError):
    """The destination may not be sent to at all (a user's robot URL leading to this
    machine or its network): retrying cannot help, the message fails at once."""

    permanent = True


class _InternalAddress(Exception):
    """Raised by a checked connection instead of connecting. Not an OSError, so urllib
    passes it up as it is instead of reporting a network failure."""


def _connect_checked(address: tuple, timeout, source_address=None) -> socket.socket:
    """A socket to ``address`` (host name, port): the name is resolved once; if any
    address it resolves to is internal, :class:`_InternalAddress`; otherwise the first
    of those very addresses that accepts the connection."""
    host, port = address
    resolved = [info[4] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    if not resolved or any(is_internal_address(sockaddr[0]) for sockaddr in resolved):
        raise _InternalAddress
    error: OSError | None = None
    for sockaddr in resolved:
        try:
            return socket.create_connection(sockaddr[:2], timeout, source_address)
        except OSError as err:
            error = err
    raise error  # type: ignore[misc]  # resolved is never empty here


class _CheckedHTTPConnection(http.client.HTTPConnection):
    """Opens its socket with :func:`_connect_checked`; the Host header stays the URL's name."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_checked  # http.client's hook for opening the socket


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    """As :class:`_CheckedHTTPConnection`; TLS (SNI, certificate) is on ``self.host``, the name."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_checked


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_CheckedHTTPConnection, req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_CheckedHTTPSConnection, req)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx answer is not followed: urllib reports it as an HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener(check_address: bool) -> urllib.request.OpenerDirector:
    if not check_address:
        return urllib.request.build_opener(_NoRedirect)
    # no proxy: the connection must go to the address checked, not to a proxy that resolves the name again
    return urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}),
                                       _CheckedHTTPHandler, _CheckedHTTPSHandler)


def message_text(message: Message, attachment_link: str | None) -> str:
    """What the recipient reads: subject, body and the attachment's download link."""
    parts = [message.subject, message.body] if message.subject else [message.body]
    if attachment_link:
        parts.append(_("附件：%(name)s %(url)s", name=message.attachment_name or "", url=attachment_link))
    return "\n".join(p for p in parts if p)


def _post_json(url: str, payload: dict, timeout: float, check_address: bool = False) -> None:
    """POST ``payload`` as JSON; any non-2xx answer (redirects are not followed) or
    network failure is a DeliveryError. ``check_address``: refuse (RefusedDestination)
    a host that resolves to this machine or an internal address, and connect only to
    the addresses checked."""
    if not url:
        raise DeliveryError(_("未配置发送地址"))
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with _opener(check_address).open(request, timeout=timeout) as response:
            status = response.status
            response.read(1024)  # drain a little; the body is never stored
    except _InternalAddress:
        raise RefusedDestination(_("群机器人地址不能是本机或内网地址，未发送")) from None
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
    """To the message's own robot URL (a messenger group named as a recipient; checked
    unless ``WEBHOOK_ALLOW_PRIVATE``), else to ``NOTIFY_WEBHOOK_URL`` (trusted)."""
    payload = {"msgtype": "text", "text": {"content": message_text(message, attachment_link)}}
    own = message.kind == "messenger" and message.recipient.startswith(("http://", "https://"))
    url = message.recipient if own else config.get("NOTIFY_WEBHOOK_URL", "")
    check = own and not config.get("WEBHOOK_ALLOW_PRIVATE")
    _post_json(url, payload, float(config.get("NOTIFY_TIMEOUT", 10)), check_address=check)


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
