"""Uploaded images recognised by their content (magic bytes), not by their name or the
browser's word: JPEG, PNG, GIF and WebP."""
from __future__ import annotations

from typing import Optional

TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


def sniff(head: bytes) -> Optional[str]:
    """The content type of an image starting with ``head`` (its first 16 bytes or more),
    None when it is none of the four."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None
