"""Unit tests for app.domain.health: buckets, checkpoint labels, 7-day history, rates."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import health as h

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 6, 8, 4, 0)  # naive UTC = 12:00 district time
HOUR = timedelta(hours=1)
SEC = timedelta(seconds=1)


def ago(delta):
    return NOW - delta


@pytest.mark.parametrize("age,bucket", [
    (timedelta(0), h.BUCKET_24H),
    (24 * HOUR, h.BUCKET_24H),
    (24 * HOUR + SEC, h.BUCKET_48H),
    (48 * HOUR, h.BUCKET_48H),
    (48 * HOUR + SEC, h.BUCKET_72H),
    (72 * HOUR, h.BUCKET_72H),
    (72 * HOUR + SEC, h.BUCKET_OVER_72H),
    (timedelta(days=14), h.BUCKET_OVER_72H),
    (timedelta(days=14) + SEC, h.BUCKET_UNMATCHED),
    (-5 * timedelta(minutes=1), h.BUCKET_24H),
])
def test_bucket_boundaries(age, bucket):
    """A person sampled exactly 24 h ago still counts as 24小时; one second more is 48小时, and so on."""
    assert h.bucket_of(ago(age), NOW) == bucket


def test_no_record_is_unmatched():
    """Someone with no test record in the window is listed as 未匹配."""
    assert h.bucket_of(None, NOW) == h.BUCKET_UNMATCHED


def test_window_is_configurable():
    """With a 7-day window, a sampling 8 days ago is 未匹配."""
    assert h.bucket_of(ago(timedelta(days=8)), NOW, window=timedelta(days=7)) == h.BUCKET_UNMATCHED
    assert h.bucket_of(ago(timedelta(days=8)), NOW) == h.BUCKET_OVER_72H


def test_aware_and_naive_times_agree():
    """A sampling time given with its offset lands in the same bucket as the stored naive UTC time."""
    local = ago(30 * HOUR).replace(tzinfo=timezone.utc).astimezone(TZ)
    assert h.bucket_of(local, NOW.replace(tzinfo=timezone.utc)) == h.BUCKET_48H


def test_display_order_and_labels():
    """The head's home shows 24小时, 48小时, 72小时, 大于72小时, 未匹配 in this order."""
    assert [str(h.BUCKET_LABELS[b]) for b in h.BUCKETS] == ["24小时", "48小时", "72小时", "大于72小时", "未匹配"]


times = st.datetimes(min_value=datetime(2022, 5, 1), max_value=datetime(2022, 6, 9))


@given(times, times)
def test_buckets_are_monotonic_in_time(a, b):
    """An older latest sampling never lands in a fresher bucket."""
    older, newer = min(a, b), max(a, b)
    assert h.BUCKETS.index(h.bucket_of(older, NOW)) >= h.BUCKETS.index(h.bucket_of(newer, NOW))


@given(times)
def test_bucket_range_matches_bucket_of(sampled):
    """The SQL filter of a bucket selects exactly the people the bucket counts."""
    for bucket in h.BUCKETS:
        start, end = h.bucket_range(bucket, NOW)
        inside = (start is None or start <= sampled) and (end is None or sampled < end)
        assert inside == (h.bucket_of(sampled, NOW) == bucket)


def test_unknown_bucket_range_raises():
    """A bad bucket parameter is caught, not silently treated as a bucket."""
    with pytest.raises(KeyError):
        h.bucket_range("12h", NOW)


@pytest.mark.parametrize("age,label", [
    (HOUR, "24小时阴性"),
    (24 * HOUR, "24小时阴性"),
    (24 * HOUR + SEC, "48小时阴性"),
    (48 * HOUR + SEC, "72小时阴性"),
    (72 * HOUR, "72小时阴性"),
    (72 * HOUR + SEC, "7天阴性"),
    (168 * HOUR, "7天阴性"),
    (168 * HOUR + SEC, None),
])
def test_checkpoint_labels(age, label):
    """The checkpoint screen shows 24小时阴性 … 7天阴性 by the age of the latest negative, else nothing."""
    assert h.checkpoint_test_label(ago(age), NOW) == label


def test_checkpoint_label_without_negative():
    """A driver without a negative result gets no 阴性 label."""
    assert h.checkpoint_test_label(None, NOW) is None


def test_newer_positive_hides_older_negative():
    """A positive sampled after the last negative is never shown as 48小时阴性."""
    negative = ago(30 * HOUR)
    assert h.checkpoint_test_label(negative, NOW, latest_positive_sampled_at=ago(2 * HOUR)) is None
    assert h.checkpoint_test_label(negative, NOW, latest_positive_sampled_at=ago(50 * HOUR)) == "48小时阴性"


def test_history_starts_at_local_midnight_six_days_before_today():
    """查看核酸 lists today and the six days before it, by district calendar day."""
    now = datetime(2022, 6, 7, 17, 0)  # 2022-06-08 01:00 district time
    assert h.history_start(now, TZ) == datetime(2022, 6, 1, 16, 0)  # 2022-06-02 00:00 local


def test_select_history_filters_and_sorts():
    """The 7-day list holds the week's records newest first and nothing older or from the future."""
    now = datetime(2022, 6, 7, 17, 0)
    start = datetime(2022, 6, 1, 16, 0)
    rows = [SimpleNamespace(sampled_at=t) for t in (
        start, start - SEC, now - HOUR, now + timedelta(minutes=30), start + 30 * HOUR,
    )]
    chosen = h.select_history(rows, now, TZ)
    assert [r.sampled_at for r in chosen] == [now - HOUR, start + 30 * HOUR, start]


@pytest.mark.parametrize("part,whole,text", [(247, 668, "36.98%"), (4005, 4479, "89.42%"), (0, 0, "0.00%"), (25, 25, "100.00%")])
def test_percent_like_the_manual(part, whole, text):
    """覆盖率 and 完成率 print like the manual's tables (two decimals), 0.00% for an empty group."""
    assert h.percent(part, whole) == text


def test_unmatched_hints_follow_the_manual():
    """The 未匹配 page explains itself and lists the three self-checks, capital X included."""
    assert "14" in str(h.UNMATCHED_NOTE)
    assert len(h.UNMATCHED_HINTS) == 3 and "大写X" in str(h.UNMATCHED_HINTS[0])
