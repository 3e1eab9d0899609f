"""Where a message may go: no POST follows a redirect, and a robot URL a user typed that
leads to this machine or its network is not sent to (unless WEBHOOK_ALLOW_PRIVATE),
whenever it was stored; real HTTP servers on 127.0.0.1, a real RQ worker."""
from __future__ import annotations

import socket

import pytest

from tests.integration.notify.test_notify import Gateway, new_message, reload, run_worker


@pytest.fixture
def servers(app, monkeypatch):
    """A robot (or gateway) and the place a redirect would lead to; the operator's
    gateways point at the first."""
    robot, target = Gateway(), Gateway()
    monkeypatch.setitem(app.config, "NOTIFY_WEBHOOK_URL", robot.url + "/default-robot")
    monkeypatch.setitem(app.config, "NOTIFY_SMS_URL", robot.url + "/sms")
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 1)
    yield robot, target
    robot.close()
    target.close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("channel, recipient", [("webhook", "robot"), ("webhook", "13800138000"),
                                                ("sms-http", "13800138000")])
def test_a_redirect_is_a_failure_and_its_target_gets_nothing(app, ctx, servers, monkeypatch, status, channel,
                                                             recipient):
    """A robot or gateway answering with a redirect (say to this machine's Redis) is not
    followed: the message fails, saying the gateway redirected, and the target gets nothing."""
    robot, target = servers
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)  # the robot is this machine's server
    robot.status, robot.location = status, target.url + "/internal"
    if recipient == "robot":
        recipient = robot.url + "/robot/send?key=group-key"
    message_id = new_message(channel, recipient=recipient, kind="messenger" if channel == "webhook" else "sms")
    run_worker(app)
    message = reload(ctx, message_id)
    assert (message.status, message.attempts, len(robot.requests)) == ("failed", 1, 1)
    assert message.last_error == f"网关返回跳转，未跟随：HTTP {status}"
    assert target.hits == []  # no request at all, not even the GET a followed 302 becomes


def test_a_stored_robot_url_to_this_machine_is_not_sent_to(app, ctx, servers, monkeypatch):
    """Robot URLs stored before the save-time check (an IP of this machine, or its host
    name, which resolves to a local address) are not sent to: the message fails at once,
    saying why, and the server receives nothing."""
    robot, _target = servers
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 5)  # refused for good, not retried
    port = robot.server.server_port
    hostname = socket.gethostname()
    if not {info[4][0] for info in socket.getaddrinfo(hostname, port)} & {"127.0.0.1", "::1"}:
        pytest.skip("this machine's name does not resolve to a loopback address")
    urls = [f"http://127.0.0.1:{port}/", f"http://{hostname}:{port}/robot/send?key=group-key",
            f"https://{hostname}:{port}/robot/send", f"http://2130706433:{port}/"]
    ids = [new_message("webhook", recipient=url, kind="messenger") for url in urls]
    run_worker(app)
    for message_id in ids:
        message = reload(ctx, message_id)
        assert (message.status, message.attempts) == ("failed", 1)
        assert message.last_error == "群机器人地址不能是本机或内网地址，未发送"
        assert message.next_attempt_at is None
    assert robot.hits == []


def test_the_operators_gateways_may_be_internal(app, ctx, servers, monkeypatch):
    """The operator's NOTIFY_WEBHOOK_URL and NOTIFY_SMS_URL are trusted: on this machine they still get the messages."""
    robot, _target = servers
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    ids = [new_message("webhook", recipient="13800138000"), new_message("sms-http", kind="sms")]
    run_worker(app)
    assert sorted(r["path"] for r in robot.requests) == ["/default-robot", "/sms"]
    assert {reload(ctx, i).status for i in ids} == {"sent"}


def test_with_the_setting_on_a_local_robot_gets_the_message(app, ctx, servers, monkeypatch):
    """With WEBHOOK_ALLOW_PRIVATE an intranet robot URL (here this machine, by IP and by name) is delivered to."""
    robot, _target = servers
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    port = robot.server.server_port
    ids = [new_message("webhook", recipient=f"http://127.0.0.1:{port}/robot/a", kind="messenger"),
           new_message("webhook", recipient=f"http://{socket.gethostname()}:{port}/robot/b", kind="messenger")]
    run_worker(app)
    assert sorted(r["path"] for r in robot.requests) == ["/robot/a", "/robot/b"]
    assert {reload(ctx, i).status for i in ids} == {"sent"}


def test_a_checked_robot_url_that_passes_gets_the_message_by_name(app, ctx, servers, monkeypatch):
    """A robot URL whose addresses pass the check is delivered over the checked connection,
    the Host header still naming the robot. (This machine has no public address: the
    classification of addresses is made to pass them all; resolving and connecting are real.)"""
    from app.notify import channels

    robot, _target = servers
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    checked = []
    monkeypatch.setattr(channels, "is_internal_address", lambda address: checked.append(address) and False)
    hostname, port = socket.gethostname(), robot.server.server_port
    message_id = new_message("webhook", recipient=f"http://{hostname}:{port}/robot/c?key=k", kind="messenger")
    run_worker(app)
    assert reload(ctx, message_id).status == "sent"
    assert [(r["path"], r["host"]) for r in robot.requests] == [("/robot/c?key=k", f"{hostname}:{port}")]
    assert checked and set(checked) <= {info[4][0] for info in socket.getaddrinfo(hostname, port)}
