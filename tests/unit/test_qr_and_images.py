"""The QR image is a real PNG of the code; uploads are recognised by their content."""
import struct
import zlib

from app.domain.images import sniff
from app.domain.qr_png import matrix, png


def test_the_qr_png_is_a_valid_png_of_the_codes_modules():
    code = "P1.abcdefgh." + "a" * 16 + ".tpl4cm." + "b" * 86
    data = png(code, scale=4, border=4)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    modules = matrix(code)
    assert width == height == (len(modules) + 8) * 4
    idat = data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8]
    rows = zlib.decompress(idat)
    assert len(rows) == height * (1 + (width + 7) // 8)


def test_images_are_sniffed_by_their_first_bytes():
    assert sniff(b"\xff\xd8\xff\xe0abcd") == "image/jpeg"
    assert sniff(b"\x89PNG\r\n\x1a\nxxxx") == "image/png"
    assert sniff(b"GIF89a....") == "image/gif"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    for other in (b"<?php", b"%PDF-1.7", b"PK\x03\x04", b"", b"RIFF\x00\x00\x00\x00WAVE"):
        assert sniff(other) is None
