"""How the checkpoint's summary names the days of its period, from the day it is sent."""
from __future__ import annotations

from datetime import date

import pytest

from app.domain.checkpoint import period_days

DEC5, DEC6 = date(2026, 12, 5), date(2026, 12, 6)


@pytest.mark.parametrize("start, end, sent, kind", [
    (DEC5, DEC5, DEC5, "today"),  # 12:00 → 18:00 sent at 18:00
    (date(2026, 12, 4), DEC5, DEC5, "overnight"),  # 18:00 → 12:00 sent at 12:00
    (DEC5, DEC5, DEC6, "dates"),  # a late run the next morning: not 今天
    (date(2026, 12, 4), DEC5, DEC6, "dates"),
])
def test_today_only_on_the_sending_day(start, end, sent, kind):
    """今天 / 昨天至今天 are said only of the sending day; a late run names the dates."""
    assert period_days(start, end, sent) == kind
