"""Where a message may go: no POST follows a redirect; real HTTP servers on 127.0.0.1,
a real RQ worker."""
from __future__ import annotations

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
