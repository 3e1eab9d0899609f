"""Files of an import kept on disk under the instance dir: failure workbooks (readable
by the user who ran the import, and nobody else) and uploads waiting for a job.

Layout: ``<IMPORT_DIR>/<token>.xlsx`` with ``<token>.json`` naming its owner;
``<IMPORT_DIR>/uploads/<token>.bin``. ``IMPORT_DIR`` defaults to instance/imports.
Both hold personal data: files are written 0600 in 0700 folders (``app.platform.file_modes``);
``purge_old`` (the daily job ``maintenance.purge_import_files``)
deletes every such file older than ``IMPORT_FILE_HOURS`` (default 24).
"""
from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path

from flask import current_app

from app.domain.errors import OutOfScope
from app.platform.file_modes import private_dir, write_private
from app.security.ownership import may_read_import_file

_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def import_dir() -> Path:
    return private_dir(Path(current_app.config.get("IMPORT_DIR") or Path(current_app.instance_path) / "imports"))


def _write_atomic(path: Path, content: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    write_private(tmp, content)
    os.replace(tmp, path)


def save_failures(content: bytes, user_id, kind: str) -> tuple[str, Path]:
    """Store a failure workbook; returns (token, path)."""
    token = uuid.uuid4().hex
    base = import_dir()
    _write_atomic(base / f"{token}.json", json.dumps({"user_id": user_id, "kind": kind}).encode())
    path = base / f"{token}.xlsx"
    _write_atomic(path, content)
    return token, path


def failures_path(token: str, user_id, kind: str | None = None) -> Path:
    """The failure workbook ``token`` if ``user_id`` ran that import (the decision is
    app/security/ownership.py's).

    :raise OutOfScope: unknown token, another user's file or another kind (404).
    """
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise OutOfScope("ImportErrors")
    base = import_dir()
    try:
        meta = json.loads((base / f"{token}.json").read_text())
    except (OSError, ValueError):
        raise OutOfScope("ImportErrors") from None
    path = base / f"{token}.xlsx"
    if not may_read_import_file(meta, user_id, kind) or not path.exists():
        raise OutOfScope("ImportErrors")
    return path


def save_upload(data: bytes) -> Path:
    """Keep an upload for a background job (the job gets this path, not the data)."""
    folder = private_dir(import_dir() / "uploads")
    path = folder / f"{uuid.uuid4().hex}.bin"
    _write_atomic(path, data)
    return path


def upload_path(token: str) -> Path:
    """The stored upload a job was handed (by token, confined to the uploads folder)."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise ValueError("bad upload token")
    return import_dir() / "uploads" / f"{token}.bin"


def purge_old(hours: float | None = None) -> dict:
    """Delete failure workbooks (with their owner file), stored uploads and leftover
    ``.part`` files last written more than ``hours`` ago (default ``IMPORT_FILE_HOURS``).
    Safe to run twice; a file another process removed meanwhile is skipped."""
    if hours is None:
        hours = float(current_app.config.get("IMPORT_FILE_HOURS") or 24)
    cutoff = time.time() - hours * 3600
    base = import_dir()
    deleted = 0
    for folder in (base, base / "uploads"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if not path.is_file() or path.suffix not in (".xlsx", ".json", ".bin", ".part"):
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    deleted += 1
            except FileNotFoundError:
                continue
    return {"deleted": deleted}
