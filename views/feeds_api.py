"""Feed API (SPEC §9): ``POST /api/v1/feeds/tests`` and ``/api/v1/feeds/vaccinations``.

JWT only, resource ``Feeds`` write (the 数据接口 role; the district admin has all).
Body: a JSON array, or CSV with ``Content-Type: text/csv`` (header first). Answer:
``{"received", "stored", "duplicates", "rejected": [{"row", "error"}], …}``
(``app.services.health.ingest.FeedResult``). A request refused as a whole (malformed,
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
from app.services.health import ingest
from views.base import ScopedApi, rw_map

CSV_TYPES = {"text/csv", "application/csv", "text/plain"}
MSG_EMPTY = _("请求内容为空，请提交JSON数组或CSV文本")
MSG_TOO_LARGE = _("请求内容过大（上限%(mb)d MB），请分批提交")


def feed_body_limit() -> int:
    return int(current_app.config.get("FEED_MAX_MB", 64)) * 1024 * 1024


class FeedsApi(ScopedApi):
    resource_name = "feeds"
    class_permission_name = R.FEEDS
    openapi_spec_tag = "Feeds"
    method_permission_name = rw_map(extra_write=("tests", "vaccinations"))

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
    def tests(self):
        """Push nucleic-acid test records (record_id, id_type, id_number, sampled_at, tested_at, result, institution).
        ---
        post:
          requestBody:
            content:
              application/json: {schema: {type: array, items: {type: object}}}
              text/csv: {schema: {type: string}}
          responses:
            200: {description: "{received, stored, duplicates, rejected: [{row, error}], updated, rejected_count, batch_id}"}
            400: {description: malformed body (nothing stored)}
            401: {description: no token}
            403: {description: not the feed role}
            413: {description: more than 100,000 rows or too large (nothing stored)}
        """
        return self._ingest(ingest.TESTS)

    @expose("/vaccinations", methods=["POST"])
    @protect()
    @permission_name("post")
    def vaccinations(self):
        """Push vaccination records (record_id, id_type, id_number, dose, vaccinated_at, product, site).
        ---
        post:
          requestBody:
            content:
              application/json: {schema: {type: array, items: {type: object}}}
              text/csv: {schema: {type: string}}
          responses:
            200: {description: "{received, stored, duplicates, rejected: [{row, error}], rejected_count, batch_id}"}
            400: {description: malformed body (nothing stored)}
            401: {description: no token}
            403: {description: not the feed role}
            413: {description: more than 100,000 rows or too large (nothing stored)}
        """
        return self._ingest(ingest.VACCINATIONS)
