"""Fixtures of the import tests."""
from __future__ import annotations

import pytest

from tests.integration.imports.helpers import Stored


@pytest.fixture
def stored(app):
    """Reads of the database in an app context of their own."""
    return Stored(app)


@pytest.fixture
def admin(auth):
    return auth.token("admin")
