"""Fixtures the health tests share: the feed's API token, an enterprise of their own, and
statistics computed without the cache."""
from __future__ import annotations

import pytest

from tests.integration import factories as F


@pytest.fixture
def feed(auth):
    return auth.token("feed")


@pytest.fixture
def enterprise(app):
    return F.make_enterprise(app, F.tag() + "核酸企业")


@pytest.fixture
def no_cache(app):
    """Every statistics computation sees the rows just written."""
    old = app.config.get("STATS_CACHE_SECONDS")
    app.config["STATS_CACHE_SECONDS"] = 0
    yield
    app.config["STATS_CACHE_SECONDS"] = old
