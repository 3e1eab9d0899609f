"""Unit tests for app.domain.feed_batches (via app.domain.feeds): whole feed requests."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.domain import feeds
from app.domain.errors import RuleError

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 6, 8, 4, 0)  # naive UTC, 12:00 district time
ID = "440115199007237653"  # valid check digit (see test_feeds.make_id)


def row(**over):
    return {"id_number": ID, "sampled_at": "2022-06-07T10:00:00", "tested_at": "2022-06-07T18:00:00",
            "result": "阴性", "institution": "南沙区第一人民医院", **over}


# --- requests: JSON -------------------------------------------------------------------

def test_json_array_rows_are_numbered_from_one():
    """Rows of a JSON array are reported by their position, starting at 1."""
    rows = list(feeds.parse_json_rows(json.dumps([row(), row()]).encode()))
    assert [n for n, _ in rows] == [1, 2] and rows[0][1]["id_number"] == ID
    assert list(feeds.parse_json_rows("\ufeff[]")) == []
    assert list(feeds.parse_json_rows([{"a": 1}])) == [(1, {"a": 1})]


@pytest.mark.parametrize("payload,part", [
    (b'[{"id_number": 1,}]', "JSON格式不正确"), ('{"rows": []}', "JSON数组"), ("42", "JSON数组"),
    (b"\xff\xfe[", "UTF-8"), ("", "JSON格式不正确"),
])
def test_malformed_json_fails_the_request(payload, part):
    """Malformed JSON or a non-array is refused as a whole with a Chinese reason."""
    with pytest.raises(feeds.BatchError) as exc:
        feeds.parse_json_rows(payload)
    assert part in str(exc.value) and exc.value.status == 400


def test_batch_size_limit():
    """100,000 rows are accepted; 100,001 are refused with 413 before anything is stored."""
    assert len(list(feeds.parse_json_rows([{}] * feeds.MAX_BATCH))) == feeds.MAX_BATCH
    with pytest.raises(feeds.BatchError) as exc:
        feeds.parse_json_rows([{}] * (feeds.MAX_BATCH + 1))
    assert exc.value.status == 413 and "100000" in str(exc.value)


# --- requests: CSV --------------------------------------------------------------------

HEADER = "record_id,id_number,sampled_at,tested_at,result,institution\n"


def test_csv_rows_with_line_numbers():
    """CSV rows are reported by their line (header is line 1); blank lines are skipped."""
    text = HEADER + f"1,{ID},2022-06-07 10:00,2022-06-07 18:00,阴性,医院\n\n,{ID},2022-06-07 11:00,,pending,\"医院,二部\"\n"
    rows = feeds.parse_csv_rows(text)
    assert [n for n, _ in rows] == [2, 4]
    cleaned = [feeds.clean_test_row(r, TZ, NOW) for _, r in rows]
    assert cleaned[0].record_id == "1" and cleaned[1].institution == "医院,二部" and cleaned[1].record_id is None


def test_csv_multiline_field_keeps_line_numbers():
    """A quoted field spanning lines does not shift the numbers of the following rows."""
    text = HEADER + f"1,{ID},2022-06-07 10:00,2022-06-07 18:00,阴性,\"医院\n二部\"\n2,{ID},2022-06-07 10:00,2022-06-07 18:00,阴性,医院\n"
    assert [n for n, _ in feeds.parse_csv_rows(text)] == [2, 4]


def test_csv_chinese_and_mixed_case_headers_bom_bytes():
    """An upload with Chinese column names, a BOM or capitalised names is understood; extra columns are ignored."""
    text = "\ufeff姓名,证件号码,采样时间,检测时间,检测结果,采样机构\n张三,%s,2022-06-07 10:00,2022-06-07 18:00,阴性,医院\n" % ID
    ((n, raw),) = feeds.parse_csv_rows(text.encode("utf-8"))
    assert "姓名" not in raw and raw["institution"] == "医院"
    assert feeds.parse_csv_rows("ID_Number,Sampled_At,RESULT,Institution\n")  == []
    vac = feeds.parse_csv_rows("id_number,dose,vaccinated_at\n%s,第一针,2022-01-01\n" % ID, kind=feeds.VACCINATIONS)
    assert feeds.clean_vaccination_row(vac[0][1], TZ, NOW).dose == 1


def test_csv_width_mismatch_is_a_row_error():
    """A row with an unquoted comma is reported on its own line; trailing empty cells are tolerated."""
    text = HEADER + f"1,{ID},2022-06-07 10:00,2022-06-07 18:00,阴性,医院,二部\n2,{ID},2022-06-07 10:00,2022-06-07 18:00,阴性,医院,,\n"
    (n1, bad), (n2, good) = feeds.parse_csv_rows(text)
    assert n1 == 2 and isinstance(bad, RuleError) and "7列" in str(bad)
    assert isinstance(feeds.clean_test_row(bad, TZ, NOW), RuleError)
    assert n2 == 3 and good["institution"] == "医院"


@pytest.mark.parametrize("text,part", [
    ("", "CSV内容为空"), ("\n\n", "CSV内容为空"),
    ("id_number,sampled_at\n", "result、institution"),
    ("id_number,sampled_at,result,institution,证件号码\n", "重复"),
    (HEADER + '1,"unterminated\n', "CSV格式不正确"),
    (HEADER + '1,"a"b,c\n', "CSV格式不正确"),
    ("id_number\x00,sampled_at\n", "二进制"),
    (b"id_number,\xff\n", "UTF-8"),
])
def test_bad_csv_fails_the_request(text, part):
    """Empty files, bad headers, broken quoting or binary content refuse the whole request."""
    with pytest.raises(feeds.BatchError) as exc:
        feeds.parse_csv_rows(text)
    assert part in str(exc.value) and exc.value.status == 400


def test_csv_syntax_error_names_the_line_it_starts_on():
    """A broken quote is reported at the line where the broken row starts."""
    for text in (HEADER + "1,2,3,4,5,6\n1,\"unterminated\n5,6\n", HEADER + "1,2,3,4,5,6\n1,\"a\"b,c\n3\n"):
        with pytest.raises(feeds.BatchError) as exc:
            feeds.parse_csv_rows(text)
        assert "第3行" in str(exc.value)


def test_csv_batch_size_limit():
    """A CSV of 100,001 rows is refused with 413."""
    line = f"{ID},2022-06-07 10:00,阴性,医院\n"
    header = "id_number,sampled_at,result,institution\n"
    assert len(feeds.parse_csv_rows(header + line * feeds.MAX_BATCH)) == feeds.MAX_BATCH
    with pytest.raises(feeds.BatchError) as exc:
        feeds.parse_csv_rows(header + line * (feeds.MAX_BATCH + 1))
    assert exc.value.status == 413
