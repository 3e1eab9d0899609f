"""Checkpoint rules of seed 002: the labels a scan shows, the arrival window, the
reason a denial needs, the manual's message texts."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain import checkpoint as CP
from app.domain.errors import RuleError

NOW = datetime(2026, 5, 1, 4, 0)  # 12:00 district time
TZ = ZoneInfo("Asia/Shanghai")
RESULTS = {"negative": "阴性", "positive": "阳性", "pending": "待出结果"}


def ago(hours):
    return NOW - timedelta(hours=hours)


@pytest.mark.parametrize("hours, label", [
    (1, "24小时阴性"), (24, "24小时阴性"), (24.5, "48小时阴性"), (48, "48小时阴性"), (60, "72小时阴性"),
    (72, "72小时阴性"), (100, "7天阴性"), (168, "7天阴性"),
])
def test_a_recent_negative_shows_its_bucket(hours, label):
    """Seed 002 §2.2 rule 2: ≤24 h, 24–48 h, 48–72 h, 72–168 h negative."""
    assert CP.test_label([(ago(hours), "negative")], NOW, TZ, RESULTS) == label


def test_older_than_seven_days_shows_the_latest_time_and_result():
    assert CP.test_label([(ago(200), "negative"), (ago(300), "positive")], NOW, TZ, RESULTS) == "2026-04-23 04:00 阴性"


def test_a_newer_positive_is_never_hidden_behind_an_older_negative():
    label = CP.test_label([(ago(30), "negative"), (ago(2), "positive")], NOW, TZ, RESULTS)
    assert label == "2026-05-01 10:00 阳性"


def test_no_record_says_so():
    assert CP.test_label([], NOW, TZ, RESULTS) == "无核酸检测记录"


@pytest.mark.parametrize("doses, label", [
    ([], "未接种疫苗"), ([1], "已完成接种一针"), ([1, 2], "已完成接种二针"), ([3], "已完成接种三针")])
def test_the_vaccine_label(doses, label):
    assert CP.vaccine_label(doses) == label


def test_the_driver_label_names_the_district():
    assert CP.driver_label(True, "南沙区") == "南沙企业司机"
    assert CP.driver_label(False, "南沙区") == "非南沙企业司机"
    assert CP.driver_label(False, "黄埔区") == "非黄埔企业司机"


def test_the_arrival_may_be_neither_past_nor_too_far_ahead():
    CP.check_arrival(NOW + timedelta(hours=2), NOW)
    CP.check_arrival(NOW - timedelta(minutes=30), NOW)  # a driver booking on arrival
    for moment in (NOW - timedelta(hours=2), NOW + timedelta(days=8)):
        with pytest.raises(RuleError) as err:
            CP.check_arrival(moment, NOW)
        assert err.value.field == "expected_arrival"


def test_a_denial_needs_a_reason_an_allow_does_not():
    assert CP.clean_reason(True, None) is None
    assert CP.clean_reason(False, " 健康码黄码 ") == "健康码黄码"
    for reason in (None, "", "   "):
        with pytest.raises(RuleError) as err:
            CP.clean_reason(False, reason)
        assert "请填写不予通行原因" in str(err.value)
    with pytest.raises(RuleError):
        CP.clean_reason(False, "长" * 101)


@pytest.mark.parametrize("reason", [{"a": 1}, ["健康码黄码"], 12, True])
def test_a_reason_that_is_not_text_is_refused_not_stored_as_its_python_spelling(reason):
    for allow in (True, False):
        with pytest.raises(RuleError) as err:
            CP.clean_reason(allow, reason)
        assert err.value.field == "reason" and "不予通行原因应为文字" in str(err.value)


@pytest.mark.parametrize("name, ok", [("李某某", True), ("阿卜杜·热合曼", True), ("John Smith", True),
                                      ("李", False), ("", False), ("李1某", False), ("<b>x</b>", False)])
def test_the_name_form(name, ok):
    assert CP.name_ok(name) is ok


def test_the_messages_are_the_manuals_texts():
    """Seed 002 §2.8, with the manual's example values filled in."""
    values = {"company": "XXX公司", "name": "李某某", "time": "2022-04-20 12:00:00", "district": "南沙区",
              "district_short": "南沙", "reason": "健康码黄码"}
    texts = {k: str(v._args[0]) % values for k, v in CP.DECISION_TEXTS.items()}
    assert texts[(True, True)] == "XXX公司员工李某某于2022-04-20 12:00:00进入南沙区，请督促做好防疫工作。"
    assert texts[(True, False)] == "XXX公司员工李某某于2022-04-20 12:00:00进入南沙区卡口时，因健康码黄码原因不予通行，请知悉。"
    assert texts[(False, True)] == "非南沙企业员工李某某于2022-04-20 12:00:00入南沙区，请督促做好防疫工作。"
    assert texts[(False, False)] == "非南沙企业员工李某某于2022-04-20 12:00:00进入南沙区卡口时，因健康码黄码原因不予通行，请知悉。"
    summary = str(CP.SUMMARY_TEXT._args[0]) % {"period": "昨天至今天（2022年4月21日18点到2022年4月22日12点）",
                                                "passed": 12, "denied": 2}
    assert summary == "昨天至今天（2022年4月21日18点到2022年4月22日12点）卡口共通行车辆12辆，不准予通行2辆。可点击查看详情。"


def test_same_name_folds_width_spacing_and_middle_dots():
    from app.domain.checkpoint import same_name

    assert same_name("李某某", "李某某") and same_name(" 李某某 ", "李某某")
    assert same_name("阿依·买买提", "阿依•买买提") and same_name("Li  Wei", "li wei")
    assert same_name("ＬＩ ＷＥＩ", "Li Wei")  # full-width letters
    assert not same_name("张冒名", "李某某") and not same_name("李某", "李某某")


@pytest.mark.parametrize("text", ["0001-01-01T00:00", "0001-01-01", "9999-12-31T23:59-12:00", "明天下午", ""])
def test_an_arrival_without_a_utc_value_is_the_format_message_not_a_crash(text):
    with pytest.raises(RuleError) as err:
        CP.parse_arrival(text, ZoneInfo("Asia/Shanghai"))
    assert err.value.field == "expected_arrival" and "预计到达时间格式不正确" in str(err.value)


def test_an_arrival_is_read_in_the_district_time_unless_it_names_its_offset():
    tz = ZoneInfo("Asia/Shanghai")
    assert CP.parse_arrival("2026/04/20 12:00", tz) == datetime(2026, 4, 20, 4, 0)
    assert CP.parse_arrival("2026-04-20T12:00Z", tz) == datetime(2026, 4, 20, 12, 0)


@pytest.mark.parametrize("raw", [{"a": "b"}, ["广州"], 123, 110105194912310020, 1.5, True])
def test_a_booking_text_that_is_not_text_is_refused_by_its_label(raw):
    with pytest.raises(RuleError) as err:
        CP.text_value("company", raw, "公司名称")
    assert err.value.field == "company" and str(err.value.message) == "公司名称应为文字"


def test_a_booking_text_is_trimmed_and_half_width():
    assert CP.text_value("origin", "  广州 ＡＢ ", "出发地") == "广州 AB" and CP.text_value("company", None, "x") == ""


def test_the_catch_all_town_is_no_destination():
    assert not CP.is_destination("其他") and CP.is_destination("黄阁镇")
