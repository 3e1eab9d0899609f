"""Feed API (SPEC §9): ``POST /api/v1/feeds/tests`` and ``/api/v1/feeds/vaccinations``.

JWT only, resource ``Feeds`` write (the 数据接口 role; the district admin has all).
Body: a JSON array, or CSV with ``Content-Type: text/csv`` (header first). Answer:
``{"received", "stored", "duplicates", "rejected": [{"row", "error"}], …}``
(``app.services.health.feeds.ingest.FeedResult``). A request refused as a whole (malformed,
more than 100,000 rows, too large) is 400/413 with a Chinese message and stores nothing.

The body limit of these two routes is ``FEED_MAX_MB`` (default 64), above the global
``MAX_UPLOAD_MB``: 100,000 JSON rows with every field are about 25 MB.
"""
from __future__ import annotations

import time

from flask import current_app, g, request
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import permission_name, protect
from flask_babel import lazy_gettext as _

from app.security import roles as R
from app.services.health.feeds import ingest
from views import openapi as doc
from views.base import ScopedApi, rw_map

CSV_TYPES = {"text/csv", "application/csv", "text/plain"}
MSG_EMPTY = _("请求内容为空，请提交JSON数组或CSV文本")
MSG_TOO_LARGE = _("请求内容过大（上限%(mb)d MB），请分批提交")


_TIME = {"type": "string", "description": "ISO 8601; without an offset, district local time (Asia/Shanghai)"}
_COMMON = {
    "record_id": {"type": "string", "maxLength": 64, "description": "The source's id (optional; a number too)"},
    "id_type": {"type": "string", "description": "Default 居民身份证"},
    "id_number": {"type": "string"},
}
TEST_ROW = doc.obj({
    **_COMMON, "sampled_at": _TIME, "tested_at": {**_TIME, "description": "Blank only while pending"},
    "result": {"type": "string", "description": "negative|positive|pending, also 阴性/阳性/待出结果"},
    "institution": {"type": "string"},
}, required=("id_number", "sampled_at", "result", "institution"))
VACCINATION_ROW = doc.obj({
    **_COMMON, "dose": {"description": "1, 2, 3 (also 第一针 …)"},
    "vaccinated_at": {"type": "string", "description": "A date or an ISO 8601 time, not after today"},
    "product": {"type": "string"}, "site": {"type": "string"},
}, required=("id_number", "dose", "vaccinated_at"))
FEED_RESULT = doc.obj({
    "received": {"type": "integer"}, "stored": {"type": "integer"},
    "updated": {"type": "integer", "description": "Results replaced (included in stored)"},
    "duplicates": {"type": "integer"},
    "rejected": doc.array(doc.obj({"row": {"type": "integer", "description": "JSON: position from 1; CSV: line"},
                                   "error": {"type": "string"}}, required=("row", "error"))),
    "rejected_count": {"type": "integer"}, "batch_id": doc.nullable({"type": "integer"}),
}, required=("received", "stored", "updated", "duplicates", "rejected", "rejected_count", "batch_id"))


def feed_body(row: str) -> dict:
    """A JSON array of rows, or CSV (header first) with ``Content-Type: text/csv``."""
    return doc.request_body({
        **doc.json_content(doc.array(doc.ref(row))),
        "text/csv": {"schema": {"type": "string", "description": "A header line naming the fields, then rows"}},
    }, "At most 100,000 rows and FEED_MAX_MB (default 64 MB)")


def feed_body_limit() -> int:
    return int(current_app.config.get("FEED_MAX_MB", 64)) * 1024 * 1024


class FeedsApi(ScopedApi):
    resource_name = "feeds"
    class_permission_name = R.FEEDS
    openapi_spec_tag = "Feeds"
    method_permission_name = rw_map(extra_write=("tests", "vaccinations"))
    openapi_components = {"FeedTestRow": TEST_ROW, "FeedVaccinationRow": VACCINATION_ROW, "FeedResult": FEED_RESULT}

    def _ingest(self, kind: str):
        limit = feed_body_limit()
        if request.content_length is not None and request.content_length > limit:
            return self.response(413, message=str(MSG_TOO_LARGE % {"mb": limit // (1024 * 1024)}))
        request.max_content_length = limit  # per route, instead of the global MAX_CONTENT_LENGTH
        body = request.get_data(cache=False)
        if not body.strip():
            return self.response_400(MSG_EMPTY)
        fmt = "csv" if request.mimetype in CSV_TYPES else "json"
        started = time.perf_counter()
        with ingest.bulk():
            try:
                rows = ingest.parse(kind, body, fmt)
            except ingest.BatchError as err:
                return self.response(err.status, message=str(err.message))
            del body
            parsed = time.perf_counter() - started
            result = ingest.ingest_rows(self.session, kind, rows, source="api",
                                        user_id=getattr(g.user, "id", None), timings={"parse": parsed})
        return self.response(200, **result.as_dict())

    @expose("/tests", methods=["POST"])
    @protect()
    @permission_name("post")
    @doc.describe(doc.answer(doc.ref("FeedResult"), "Rows stored, duplicates and rejected rows with the reason"),
                  body=feed_body("FeedTestRow"), errors=(400,))
    def tests(self):
        """Push nucleic-acid test records.

        A malformed body is a 400, more than 100,000 rows or a body over the limit a 413;
        either stores nothing. A bad row is rejected alone, with its reason."""
        return self._ingest(ingest.TESTS)

    @expose("/vaccinations", methods=["POST"])
    @protect()
    @permission_name("post")
    @doc.describe(doc.answer(doc.ref("FeedResult"), "Rows stored, duplicates and rejected rows with the reason"),
                  body=feed_body("FeedVaccinationRow"), errors=(400,))
    def vaccinations(self):
        """Push vaccination records.

        A malformed body is a 400, more than 100,000 rows or a body over the limit a 413;
        either stores nothing. A bad row is rejected alone, with its reason."""
        return self._ingest(ingest.VACCINATIONS)
