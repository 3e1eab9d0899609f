"""Message attachments: files under ``instance/attachments`` (0600 in 0700 folders),
handed out through expiring signed links (``GET /files/<token>``, views/files.py).

The token is signed with ``SECRET_KEY`` and carries the file's path relative to the
attachments folder and its download name; it expires after
``ATTACHMENT_LINK_HOURS`` (default 72). Anyone holding a valid link can download the
file (messenger groups have no accounts here), so links are only put in messages.
"""
from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Optional, Union

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import or_, select

from app.platform.extensions import db
from models.mixins import utcnow
from models.notify import STATUS_FAILED, STATUS_SENT, Message

from app.platform.file_modes import private_dir, write_private

SALT = "sentinel-attachment"
_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def attachments_dir() -> Path:
    return Path(current_app.instance_path) / "attachments"


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def store_attachment(content: Union[bytes, Path], name: str) -> str:
    """Save ``content`` (bytes or a file to copy) and return its path for ``Message.attachment_path``."""
    folder = private_dir(attachments_dir() / uuid.uuid4().hex[:2])
    safe_name = _UNSAFE.sub("_", Path(name).name)[-120:] or "file"
    target = folder / f"{uuid.uuid4().hex}-{safe_name}"
    data = content.read_bytes() if isinstance(content, Path) else content
    write_private(target, data)
    return str(target.relative_to(attachments_dir()))


def relative_path(path: str) -> Optional[str]:
    """``path`` relative to the attachments folder (absolute paths inside it accepted), else None."""
    root = attachments_dir().resolve()
    target = (root / path).resolve()
    if root not in target.parents:
        return None
    return str(target.relative_to(root))


def make_token(path: str, name: Optional[str] = None) -> str:
    return serializer().dumps({"p": path, "n": name or Path(path).name})


def link(path: str, name: Optional[str] = None) -> str:
    """The absolute download link of a stored attachment (``PUBLIC_BASE_URL`` + /files/<token>)."""
    config = current_app.config
    path = relative_path(path) or path
    base = (config.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{config.get('PORT', 8080)}").rstrip("/")
    return f"{base}/files/{make_token(path, name)}"


def resolve(token: str) -> Optional[tuple[Path, str]]:
    """(file, download name) for a valid, unexpired token naming an existing file; else None."""
    max_age = int(float(current_app.config.get("ATTACHMENT_LINK_HOURS", 72)) * 3600)
    try:
        data = serializer().loads(token, max_age=max_age)
    except BadData:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), str):
        return None
    root = attachments_dir().resolve()
    target = (root / data["p"]).resolve()
    if root not in target.parents or not target.is_file():
        return None
    return target, str(data.get("n") or target.name)


def purge_expired() -> dict:
    """Delete attachment files no link can reach any more: written more than
    ``ATTACHMENT_LINK_HOURS`` + 24 hours ago, and named by no message that is still
    waiting to be sent (its link is made when it is sent) or was sent less than
    ``ATTACHMENT_LINK_HOURS`` ago. Safe to run twice."""
    root = attachments_dir()
    if not root.is_dir():
        return {"deleted": 0}
    link_hours = float(current_app.config.get("ATTACHMENT_LINK_HOURS", 72))
    cutoff = time.time() - (link_hours + 24) * 3600
    needed = {
        relative_path(p) for p in db.session.execute(
            select(Message.attachment_path).where(
                Message.attachment_path.is_not(None),
                or_(Message.status.not_in((STATUS_SENT, STATUS_FAILED)),
                    Message.sent_at > utcnow() - timedelta(hours=link_hours)),
            )
        ).scalars()
    }
    deleted = 0
    for path in root.glob("*/*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff and str(path.relative_to(root)) not in needed:
                path.unlink()
                deleted += 1
        except FileNotFoundError:
            continue
    return {"deleted": deleted}
