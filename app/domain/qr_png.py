"""A QR code as a PNG without an imaging library: the ``qrcode`` package's module
matrix, written as a 1-bit grayscale PNG with ``zlib`` (neither Pillow nor PyPNG is a
dependency)."""
from __future__ import annotations

import struct
import zlib

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def matrix(text: str) -> list[list[bool]]:
    """The QR modules of ``text`` (True = dark), without the quiet zone."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.get_matrix()


def png(text: str, scale: int = 8, border: int = 4) -> bytes:
    """A PNG of the QR code of ``text``: ``scale`` pixels per module, ``border`` modules
    of quiet zone (4 by the standard)."""
    modules = matrix(text)
    size = (len(modules) + 2 * border) * scale
    blank = bytes([0xFF] * ((size + 7) // 8))
    rows = []
    for y in range(size):
        my = y // scale - border
        if not 0 <= my < len(modules):
            rows.append(b"\x00" + blank)
            continue
        bits = bytearray(blank)
        for mx, dark in enumerate(modules[my]):
            if dark:
                for x in range((mx + border) * scale, (mx + border + 1) * scale):
                    bits[x >> 3] &= ~(0x80 >> (x & 7)) & 0xFF
        rows.append(b"\x00" + bytes(bits))
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)  # 1-bit grayscale
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + _chunk(b"IEND", b""))
