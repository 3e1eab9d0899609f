"""The fast path of app.domain.feeds.clean_test_row (plain, valid rows) gives exactly
what the general path gives, and hands every other row to it."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import feeds, idkey

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 6, 8, 4, 0)  # naive UTC
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(body):
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11]


ids = st.one_of(
    st.builds(lambda y, m, d, s: make_id(f"440115{y:04d}{m:02d}{d:02d}{s:03d}"),
              st.integers(1890, 2030), st.integers(0, 13), st.integers(0, 32), st.integers(0, 999)),
    st.sampled_from(["44011519900723765x", " 440115199007237650", "４４０１１５１９９００７２３７６５X", "", None, 440115]),
)
moments = st.one_of(
    st.builds(lambda minutes, fmt: (datetime(2022, 6, 8, 12, 0) - timedelta(minutes=minutes)).strftime(fmt),
              st.integers(-30, 60 * 24 * 30),
              st.sampled_from(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S+08:00",
                               "%Y-%m-%dT%H:%M:%SZ", "%Y/%m/%d %H:%M", "%Y-%m-%d", " %Y-%m-%dT%H:%M:%S "])),
    st.sampled_from(["", None, "yesterday", 20220607, "2022-13-01T10:00:00"]),
)
texts = st.one_of(st.sampled_from(["南沙区人民医院", "广州金域（南沙）", " 检测  机构 ", "", None, 7, "a\\b", "x\x00y"]),
                  st.text(max_size=120))
results = st.sampled_from(["negative", "阴性", "pending", "待出结果", "positive", "阳性", "NEGATIVE", " 阴性", "bad", None, 1])
record_ids = st.one_of(st.none(), st.sampled_from(["", "R-001", "有 空格", "x" * 65, 12345, "  R2 "]),
                       st.text(max_size=70))
id_types = st.sampled_from([None, "", "居民身份证", "身份证", "护照", 3])


def rows():
    def build(values):
        keys = ("record_id", "id_type", "id_number", "sampled_at", "tested_at", "result", "institution")
        return {k: v for k, v in zip(keys, values) if v is not ...}

    maybe = lambda s: st.one_of(st.just(...), s)  # noqa: E731  (absent key)
    return st.tuples(maybe(record_ids), maybe(id_types), ids, moments, maybe(moments), results, texts).map(build)


@settings(max_examples=3000, deadline=None)
@given(rows())
def test_fast_path_agrees_with_the_general_path(raw):
    """Whatever a row holds, the fast path either declines it or returns what the general path returns."""
    fast = feeds._fast_test_row(raw, TZ, NOW)
    general = feeds._clean_test_row(raw, TZ, NOW)
    if fast is not None:
        assert fast == general
    assert feeds.clean_test_row(raw, TZ, NOW).__class__ is general.__class__


def test_plain_rows_take_the_fast_path():
    """A feed's usual row (ISO local times, 阴性/negative, a plain institution) is cleaned by the fast path."""
    raw = {"id_number": make_id("44011519900723765"), "sampled_at": "2022-06-07T10:00:00",
           "tested_at": "2022-06-07T18:00:00", "result": "阴性", "institution": "南沙区人民医院", "record_id": "A-1"}
    assert feeds._fast_test_row(raw, TZ, NOW) == feeds._clean_test_row(raw, TZ, NOW)
    assert feeds._fast_test_row(raw, TZ, NOW) is not None


def test_keyer_is_the_hmac_of_id_key():
    """The bulk keyer computes the same HMAC-SHA256 key as id_key, for short and long secrets."""
    for secret in ("s" * 16, "长" * 40, b"\x00" * 100):
        key = idkey.keyer(secret)
        for number in ("440115199007237650", "H12345678", "X" * 30):
            assert key(number) == idkey.id_key(number, secret)
