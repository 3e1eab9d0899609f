"""The driver's public phone pages (司机端口, seed 002 §2.1): ``/driver/``.

* ``/driver/book`` 新增预约: the booking form (passengers added and removed on the page,
  health images); 提交预约 posts to ``POST /api/v1/bookings`` (public), which checks the
  identity (实名认证) and answers the booking with its pass; the page then shows the QR.
* ``/driver/mine`` 我的预约: the phone identity (SMS code, purpose ``driver``) and the
  driver's own bookings with their state (待通行 / 已通行 / 不予通行 / 已过期).

Shells only: every rule is the APIs' (their scripts: static/js/sentinel-driver*.js).
"""
from __future__ import annotations

from flask import current_app, redirect, url_for
from flask_appbuilder import BaseView, expose

from app.domain import checkpoint as CP
from app.domain.i18n import _
from views.booking_texts import STATUS_LABELS, booking_labels


def _common_texts() -> dict:
    return {"booking": booking_labels(), "states": {k: str(v) for k, v in STATUS_LABELS.items()},
            "failed": str(_("网络异常，请稍后再试"))}


class DriverView(BaseView):
    route_base = "/driver"
    default_view = "index"

    @expose("/")
    def index(self):
        return redirect(url_for("DriverView.book"))

    @expose("/book")
    def book(self):
        """新增预约 → 提交预约 → the pass."""
        towns = [t for t in current_app.config["DISTRICT_TOWNS"] if CP.is_destination(t)]
        texts = {**_common_texts(),
                 "submitting": str(_("正在提交…")), "too_big": str(_("每张图片不能超过%(mb)sMB", mb=format(self._max_mb(), "g"))),
                 "not_image": str(_("健康信息只能上传图片（JPG、PNG、GIF、WebP）")), "passenger": str(_("乘车人")),
                 "too_many": str(_("健康信息图片不能超过%(n)s张", n=self._max_images())),
                 "remove": str(_("删除")), "passenger_fields": {"name": str(_("姓名")),
                                                                "id_number": str(_("身份证号码")),
                                                                "phone": str(_("联系电话"))}}
        return self.render_template(
            "sentinel/driver_book.html", towns=towns, texts=texts, max_passengers=self._max_passengers(),
            max_images=self._max_images(), max_bytes=self._max_bytes(), limits=CP.TEXT_LIMITS, title=_("新增预约"),
            district=current_app.config["DISTRICT_NAME"],
        )

    @expose("/mine")
    def mine(self):
        """我的预约: phone + SMS code, then the driver's bookings."""
        texts = {**_common_texts(), "sent": str(_("验证码已发送")), "none": str(_("暂无预约记录")),
                 "wait": str(_("秒后重新获取")), "show_pass": str(_("出示通行码")),
                 "detail": str(_("查看详情"))}
        return self.render_template(
            "sentinel/driver_mine.html", texts=texts, title=_("我的预约"),
            resend=current_app.config.get("SMS_RESEND_SECONDS", 60),
        )

    @staticmethod
    def _max_passengers() -> int:
        return int(current_app.config.get("BOOKING_MAX_PASSENGERS", 5))

    @staticmethod
    def _max_images() -> int:
        return int(current_app.config.get("BOOKING_MAX_IMAGES", 5))

    @staticmethod
    def _max_mb() -> float:
        return float(current_app.config.get("BOOKING_IMAGE_MAX_MB", 5))

    def _max_bytes(self) -> int:
        return int(self._max_mb() * 1024 * 1024)
