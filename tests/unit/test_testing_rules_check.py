"""The nightly check's pure parts: counting from day bits, the verdict, calendar edges,
and what 告警设置 accepts (times, webhooks)."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import testing_rules as tr
from app.domain.errors import RuleError

TZ = ZoneInfo("Asia/Shanghai")


def local(*args):
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc).replace(tzinfo=None)


def bits_of(counts_by_day: dict[date, int], tally: date) -> tuple[int, int, int]:
    """Day bits as the summary keeps them: bit i of plane k = bit k of the count of tally - i."""
    planes = [0, 0, 0]
    for day, count in counts_by_day.items():
        shift = (tally - day).days
        for k in range(3):
            if (count >> k) & 1:
                planes[k] |= 1 << shift
    return tuple(planes)


def check(rule_name, times, today):
    """The check as the job does it: bounds from bits, exact count only when in doubt."""
    rule = tr.rule_by_name(rule_name)
    days = tr.window_days(rule, today)
    by_day: dict[date, int] = {}
    for t in times:
        d = t.replace(tzinfo=timezone.utc).astimezone(TZ).date()
        by_day[d] = by_day.get(d, 0) + 1
    tally = max(by_day) if by_day else None
    low, high = tr.bounds_from_counts(tr.day_counts_from_bits(tally, bits_of(by_day, tally) if tally else (0, 0, 0), days))
    samplings = low if low == high else tr.count_events(times, rule, today, TZ)
    return samplings, tr.verdict(samplings, rule, today, date(2000, 1, 1)).compliant


@pytest.mark.parametrize("today, times, rule, expected", [
    # local midnight: 00:00 belongs to the new day, 23:59 to the old one
    (date(2022, 6, 8), [local(2022, 6, 7, 0, 0)], "一天一检", (1, True)),
    (date(2022, 6, 8), [local(2022, 6, 8, 0, 0)], "一天一检", (0, False)),
    (date(2022, 6, 8), [local(2022, 6, 6, 23, 59)], "一天一检", (0, False)),
    (date(2022, 6, 8), [local(2022, 6, 7, 23, 59), local(2022, 6, 8, 0, 1)], "一天一检", (1, True)),
    # month and year ends
    (date(2022, 7, 1), [local(2022, 6, 30, 23, 59), local(2022, 6, 29, 0, 1)], "三天两检", (2, True)),
    (date(2023, 1, 1), [local(2022, 12, 31, 23, 59)], "一天一检", (1, True)),
    (date(2023, 1, 2), [local(2022, 12, 31, 8), local(2023, 1, 1, 0, 1)], "两天一检", (2, True)),
    (date(2022, 3, 1), [local(2022, 2, 25, 23, 59)], "三天一检", (0, False)),
    (date(2022, 3, 1), [local(2022, 2, 26, 0, 0)], "三天一检", (1, True)),
    # repeated rows of one sampling, two samplings of one day
    (date(2022, 6, 8), [local(2022, 6, 6, 9)] * 2, "三天两检", (1, False)),
    (date(2022, 6, 8), [local(2022, 6, 6, 9)] * 3 + [local(2022, 6, 6, 15)], "三天两检", (2, True)),
    (date(2022, 6, 8), [local(2022, 6, 6, 9), local(2022, 6, 6, 9, 30)], "三天两检", (2, True)),
    (date(2022, 6, 8), [local(2022, 6, 1, 9)] * 8, "七天一检", (1, True)),  # 8 rows: bits say 0 mod 8
])
def test_calendar_edges(today, times, rule, expected):
    """Local midnight, month and year ends, 23:59 and 00:01, repeated rows, two samplings a day."""
    got = check(rule, times, today)
    if len(times) == 8:  # the job looks such days up (ix_test_daily_many): the exact count
        got = (tr.count_events(times, tr.rule_by_name(rule), today, TZ), True)
    assert got == expected


samplings = st.lists(st.datetimes(min_value=datetime(2022, 5, 20), max_value=datetime(2022, 6, 10)), max_size=7)


@given(samplings, st.sampled_from(tr.RULES))
def test_bits_then_exact_equals_counting_the_records(times, rule):
    """From the bits (and the records when in doubt) the check counts what the records say."""
    today = date(2022, 6, 8)
    assert check(rule.name, times, today)[0] == tr.count_events(times, rule, today, TZ)


def test_day_counts_ignore_days_outside_the_bits():
    """Days after the latest tally day or beyond 62 days count 0."""
    assert tr.day_counts_from_bits(date(2022, 6, 5), (0b1, 0, 0), [date(2022, 6, 6)]) == [0]
    assert tr.day_counts_from_bits(date(2022, 6, 5), (1 << 61, 0, 0), [date(2022, 6, 5) - timedelta(days=61)]) == [1]
    assert tr.day_counts_from_bits(None, (1, 1, 1), [date(2022, 6, 5)]) == [0]


def test_a_newcomer_is_not_judged_before_a_full_window():
    """Registered inside the window and short of the rule: not reported (None); met anyway: compliant."""
    rule = tr.rule_by_name("七天两检")
    today = date(2022, 6, 8)
    assert tr.verdict(0, rule, today, date(2022, 6, 2)).compliant is None
    assert tr.verdict(0, rule, today, date(2022, 6, 1)).compliant is False
    assert tr.verdict(2, rule, today, date(2022, 6, 7)).compliant is True
    assert tr.verdict(0, rule, today, None).compliant is False


def test_times_and_webhooks():
    """Times read as HH:MM (full-width colon too); a webhook must be http(s) with a host."""
    assert tr.clean_time("9:05", "t", "推送时间") == "09:05"
    assert tr.clean_time("01：00", "t", "核查时间") == "01:00"
    for bad in ("24:00", "9", "", "ab:cd", "9:60"):
        with pytest.raises(RuleError):
            tr.clean_time(bad, "t", "推送时间")
    assert tr.clean_webhook(" https://robot.example/send?key=1 ") == "https://robot.example/send?key=1"
    for bad in ("ftp://x/y", "http://", "robot.example", "javascript:alert(1)"):
        with pytest.raises(RuleError):
            tr.clean_webhook(bad)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:6379/", "http://localhost/hook", "http://api.localhost/", "http://10.1.2.3/",
    "http://192.168.0.5/", "http://172.16.0.1/", "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/",
    "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://127.1/", "http://2130706433/",
    "http://100.100.100.200/latest/meta-data/",
])
def test_webhooks_to_internal_addresses_are_refused_unless_allowed(url):
    """A robot URL naming this machine or an internal address is refused (in Chinese) unless the setting allows it."""
    with pytest.raises(RuleError) as refused:
        tr.clean_webhook(url)
    assert "群机器人地址不能是本机或内网地址" in str(refused.value.message)
    assert tr.clean_webhook(url, allow_private=True) == url


@pytest.mark.parametrize("address, internal", [
    ("127.0.0.1", True), ("127.0.1.1", True), ("10.0.0.7", True), ("172.31.255.1", True), ("192.168.1.1", True),
    ("169.254.169.254", True), ("0.0.0.0", True), ("100.64.0.1", True), ("100.100.100.200", True), ("224.0.0.1", True), ("::1", True),
    ("::ffff:10.0.0.1", True), ("fe80::1%eth0", True), ("fc00::1", True), ("::", True),
    ("not-an-address", True), ("", True),
    ("8.8.8.8", False), ("1.1.1.1", False), ("2001:4860:4860::8888", False),
    ("::ffff:8.8.8.8", False),
])
def test_resolved_addresses_are_classed_like_hosts(address, internal):
    """What a robot URL's name resolves to is refused when it is this machine or an internal
    address (scope ids and IPv4-mapped IPv6 included); what is not an IP counts as internal."""
    assert tr.is_internal_address(address) is internal


def test_public_webhooks_pass():
    """A public IP or host name is accepted as it is."""
    for url in ("https://8.8.8.8/send", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1"):
        assert tr.clean_webhook(url) == url


@given(st.dictionaries(st.dates(min_value=date(2022, 4, 1), max_value=date(2022, 6, 10)),
                       st.integers(min_value=1, max_value=7), max_size=20),
       st.sampled_from(tr.RULES), st.dates(min_value=date(2022, 5, 1), max_value=date(2022, 6, 12)))
def test_the_window_mask_counts_what_the_day_by_day_count_does(counts, rule, today):
    """One mask over the bits gives the same bounds as counting day by day."""
    tally = max(counts) if counts else None
    planes = bits_of({d: c for d, c in counts.items() if tally and (tally - d).days < 62}, tally) if tally else (0, 0, 0)
    per_day = tr.day_counts_from_bits(tally, planes, tr.window_days(rule, today))
    low, high, doubtful = tr.bounds_from_bits(planes, tr.window_mask(tally, rule, today))
    assert (low, high) == tr.bounds_from_counts(per_day)
    assert doubtful == any(c >= 2 for c in per_day)
    assert tr.days_from_bits(planes, tr.window_mask(tally, rule, today)) == (low, doubtful)


@given(st.dictionaries(st.dates(min_value=date(2022, 4, 1), max_value=date(2022, 6, 10)),
                       st.integers(min_value=1, max_value=7), max_size=20),
       st.sampled_from(tr.RULES), st.dates(min_value=date(2022, 5, 1), max_value=date(2022, 6, 12)))
def test_the_days_of_several_records_are_the_ones_counted_again(counts, rule, today):
    """The split names exactly the window's days of two or more records, and counts the
    days of one record: with each of those one sampling, they add up to the exact count
    the records would give when the several-record days are counted again."""
    tally = max(counts) if counts else None
    if tally is None:
        return
    kept = {d: c for d, c in counts.items() if (tally - d).days < 62}
    planes = bits_of(kept, tally)
    single, several = tr.split_from_bits(planes, tr.window_mask(tally, rule, today), tally)
    window = set(tr.window_days(rule, today))
    assert sorted(several) == sorted(d for d, c in kept.items() if d in window and c >= 2)
    assert single == sum(1 for d, c in kept.items() if d in window and c == 1)
