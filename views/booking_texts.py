"""The words the phone pages' scripts show for a booking (sentinel-booking.js), through
Babel like every string: labels of the booking's fields, 乘车人信息, health images."""
from __future__ import annotations

from app.domain.i18n import _

REASONS = (_("健康码黄码"), _("健康码红码"), _("无核酸证明"), _("核酸超时"))
OTHER_REASON = _("其他")
STATUS_LABELS = {"pending": _("待通行"), "allowed": _("已通行"), "denied": _("不予通行"), "expired": _("已过期")}


def booking_fields() -> dict[str, str]:
    return {
        "driver_name": str(_("司机姓名")), "id_number": str(_("身份证号码")), "phone": str(_("联系电话")),
        "plate_number": str(_("车牌号")), "company": str(_("公司名称")), "origin": str(_("出发地")),
        "destination_town": str(_("目的地镇街")), "destination_address": str(_("目的地详细地址")),
        "expected_arrival": str(_("预计到达时间")), "state_label": str(_("状态")),
        "created_at": str(_("预约时间")),
    }


def booking_labels() -> dict:
    """What sentinel-booking.js needs to show a booking (JSON-ready)."""
    return {
        "fields": booking_fields(), "basic": str(_("基本信息")), "passengers": str(_("乘车人信息")),
        "health": str(_("健康信息")), "passenger_name": str(_("姓名")), "passenger_id": str(_("身份证号码")),
        "passenger_phone": str(_("联系电话")), "none": str(_("无乘车人")), "no_images": str(_("未上传健康信息")),
        "image": str(_("健康信息图片")), "image_failed": str(_("图片加载失败")),
        "images_count": str(_("已上传 %(n)s 张图片", n="%(n)s")),
    }
