"""An id in a URL too large to be a row's (past 64 bits) is a 404, like any id that names
no row: SQLite refused to bind it and every page and API with an id answered 500."""
from __future__ import annotations

import re

import pytest

from tests.conftest import api_token, login

HUGE = "99999999999999999999"


def _paths_with_an_id(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not any(a in ("pk", "image_id") or "id" in a for a in rule.arguments):
            continue
        if not re.search(r"<int:\w+>", rule.rule):
            continue
        path = re.sub(r"<int:\w+>", HUGE, rule.rule)
        paths.append(re.sub(r"<(?:\w+:)?\w+>", "x", path))
    return sorted(set(paths))


def test_a_huge_id_is_not_found_on_every_page_and_api(app, client):
    """Every GET route with a numeric id, for the district admin: 404 (Chinese message), never 500."""
    assert login(client, "admin").status_code == 302
    headers = api_token(app.test_client(), "admin")
    paths = _paths_with_an_id(app)
    assert "/staff/" + HUGE in paths and "/api/v1/staff/" + HUGE + "/health" in paths
    failures = []
    for path in paths:
        answer = client.get(path, headers=headers if path.startswith("/api/") else {})
        if answer.status_code != 404:
            failures.append((path, answer.status_code))
    assert failures == []
    answer = client.get("/api/v1/enterprise/" + HUGE, headers=headers)
    assert answer.json == {"message": "数据不存在或无权访问"}


@pytest.mark.parametrize("path", ["/users/show/" + HUGE, "/users/edit/" + HUGE, "/roles/show/" + HUGE,
                                  "/resetpassword/form?pk=" + HUGE, "/users/show/abc"])
def test_a_huge_or_malformed_account_id_is_not_found(client, path):
    """用户管理 and 角色 pages of an account id that cannot exist are 404, not 500."""
    assert login(client, "admin").status_code == 302
    assert client.get(path).status_code == 404
