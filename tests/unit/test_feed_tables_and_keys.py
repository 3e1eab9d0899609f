"""Uploaded sheets as feed rows (app.domain.feed_batches.parse_table_rows) and the ID keys
staff carry (app.services.health.feeds.keys.staff_keys, given a configuration)."""

from datetime import date, datetime

import pytest

from app.domain import feed_batches, feeds, idkey
from app.services.health.feeds.keys import row_keys, staff_keys

CONFIG = {"ID_HASH_KEY": "current-secret-0123456789", "ID_HASH_KEY_PREVIOUS": ""}
ROTATING = {"ID_HASH_KEY": "current-secret-0123456789", "ID_HASH_KEY_PREVIOUS": "previous-secret-012345"}


def test_sheet_cells_become_feed_text():
    """Excel dates/times become ISO text (district time), whole numbers lose their .0, blank rows are skipped."""
    table = [
        (1, ["证件号码", "采样时间", "检测时间", "检测结果", "检测机构", "备注"]),
        (2, [None, None, None, None, None, None]),
        (3, ["440115199007237650", datetime(2022, 6, 7, 10, 0), datetime(2022, 6, 7, 18, 0), "阴性", "医院", "x"]),
        (4, [440115.0, date(2022, 6, 7), None, "阴性"]),
    ]
    rows = feed_batches.parse_table_rows(table, feeds.TESTS)
    assert [n for n, _ in rows] == [3, 4]
    assert rows[0][1] == {"id_number": "440115199007237650", "sampled_at": "2022-06-07T10:00:00",
                          "tested_at": "2022-06-07T18:00:00", "result": "阴性", "institution": "医院"}
    assert rows[1][1]["id_number"] == "440115" and rows[1][1]["sampled_at"] == "2022-06-07"


def test_sheet_without_required_columns_or_too_long_is_refused():
    """A sheet missing a required column, or holding more than 100,000 rows, is refused whole."""
    with pytest.raises(feeds.BatchError, match="缺少必需的列"):
        feed_batches.parse_table_rows([(1, ["姓名", "电话"]), (2, ["张三", "1"])], feeds.TESTS)
    with pytest.raises(feeds.BatchError, match="表头"):
        feed_batches.parse_table_rows([], feeds.VACCINATIONS)
    big = [(1, ["id_number", "dose", "vaccinated_at"])] + [(n, ["1", "1", "2021-01-01"]) for n in range(2, 100_003)]
    with pytest.raises(feeds.BatchError) as refused:
        feed_batches.parse_table_rows(big, feeds.VACCINATIONS)
    assert refused.value.status == 413


def test_staff_key_is_the_feed_key_of_the_normalised_number():
    """A staff member's key equals the key a feed row of the same person gets (x/X, spaces, full-width)."""
    feed_key = idkey.keyer(CONFIG["ID_HASH_KEY"])("44011519900723765X")
    assert staff_keys("44011519900723765x", "居民身份证", CONFIG) == (feed_key, None)
    assert staff_keys(" ４４０１１５１９９００７２３７６５Ｘ ", None, CONFIG)[0] == feed_key
    assert staff_keys("", "居民身份证", CONFIG) == (None, None)
    assert staff_keys("H12345678", "港澳居民来往内地通行证", CONFIG)[0] == idkey.id_key("H12345678", CONFIG["ID_HASH_KEY"])


def test_rotation_gives_staff_a_second_key():
    """With a previous secret configured, staff carry the key under it as well; bulk rows get both."""
    current, previous = staff_keys("44011519900723765X", None, ROTATING)
    assert current == idkey.id_key("44011519900723765X", ROTATING["ID_HASH_KEY"])
    assert previous == idkey.id_key("44011519900723765X", ROTATING["ID_HASH_KEY_PREVIOUS"])
    rows = [{"id_number": "44011519900723765x"}, {"id_number": ""}, {"name": "no number"}]
    row_keys(rows, ROTATING)
    assert (rows[0]["id_key"], rows[0]["id_key_previous"]) == (current, previous)
    assert (rows[1]["id_key"], rows[1]["id_key_previous"]) == (None, None)
    assert "id_key" not in rows[2]
