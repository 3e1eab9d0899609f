"""站内消息: the messages addressed to a platform user (``Message.recipient`` =
``user:<id>``, the in-app channel of ``app.notify.messages``), newest first, each with a
fresh signed link to its attachment (an alert's .xlsx)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select

from app.notify import attachments
from app.services.paging import Page, paginate
from models.notify import Message


def page(session, user_id: int, page_no: int, size: int) -> Page:
    stmt = (select(Message).where(Message.recipient == f"user:{int(user_id)}")
            .order_by(Message.created_at.desc(), Message.id.desc()))
    return paginate(session, stmt, page_no, size)


def attachment_link(message: Message) -> Optional[str]:
    """A download link of the message's attachment, valid ``ATTACHMENT_LINK_HOURS``."""
    if not message.attachment_path:
        return None
    return attachments.link(message.attachment_path, message.attachment_name)
