"""read_sheet refusing bad uploads: one clear message, nothing imported."""

import io
import random
import struct
import zipfile

import pytest

from app.sheets import Limits
from tests.unit.test_sheets_reader import HEADER, ID, csv_bytes, error_of, read, xlsx


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.mark.parametrize("data", [
    PNG,
    random.Random(7).randbytes(4096),
    bytes(range(1, 256)) * 8,
    b"<html><table><tr><td>\xe5\xa7\x93\xe5\x90\x8d</td></tr></table></html>",
], ids=["png", "random", "control-bytes", "html-as-xls"])
def test_not_a_spreadsheet(data):
    """A picture or random file gets 'wrong format', not a crash."""
    err = error_of(data, filename="staff.xlsx")
    assert err.code == "bad_format"
    assert str(err) == "文件格式不正确，请上传 .xlsx 或 .csv 文件"


def test_encrypted_workbook():
    """A password-protected xlsx (an OLE container with EncryptedPackage) is named as such."""
    ole = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
           + "EncryptedInfo".encode("utf-16-le") + b"\x00" * 100
           + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 2048)
    err = error_of(ole)
    assert err.code == "encrypted" and str(err) == "文件已加密，请取消密码保护后重新上传"


def test_other_ole_documents_are_wrong_format():
    """An old .doc renamed to .xls is 'wrong format'; a damaged .xls is 'damaged'."""
    doc = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024
    assert error_of(doc).code == "bad_format"
    xls = doc + "Workbook".encode("utf-16-le") + b"\x00" * 1024
    assert error_of(xls).code == "corrupt"


def test_corrupt_zip():
    """A truncated download gets 'file damaged'."""
    data = xlsx([HEADER, ["张三", ID, "1"]])
    err = error_of(data[: len(data) // 2])
    assert err.code == "corrupt" and str(err) == "文件已损坏，无法读取"


def test_broken_xml_inside_a_valid_zip():
    """A workbook whose sheet XML is garbage is 'file damaged', not a traceback."""
    src = zipfile.ZipFile(io.BytesIO(xlsx([HEADER])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                body = b"<worksheet><sheetData><row><c r='A1' t='s'><v>99"
            dst.writestr(info.filename, body)
    assert error_of(out.getvalue()).code == "corrupt"


def test_a_zip_that_is_not_a_workbook():
    """A zipped folder or .docx renamed to .xlsx is 'wrong format'."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    assert error_of(out.getvalue()).code == "bad_format"


def _bomb(size, name="xl/worksheets/sheet1.xml"):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open(name, "w") as fh:
            chunk = b"\x00" * (1 << 20)
            for _ in range(size >> 20):
                fh.write(chunk)
    return out.getvalue()


def test_zip_bomb_by_ratio():
    """A tiny file that inflates to 64 MB of zeros is refused before parsing."""
    data = _bomb(64 << 20)
    assert len(data) < 200_000
    err = error_of(data)
    assert err.code == "zip_bomb" and str(err) == "文件内容异常（解压后过大），已拒绝导入"


def test_zip_bomb_by_total_size():
    """A workbook declaring more than the uncompressed budget is refused."""
    err = error_of(_bomb(8 << 20), Limits(max_uncompressed=4 << 20, max_ratio=10**6))
    assert err.code == "zip_bomb"


def test_zip_bomb_with_lying_directory():
    """A zip whose directory understates its sizes is still caught while inflating."""
    data = bytearray(_bomb(8 << 20))
    cd = data.rfind(b"PK\x01\x02")  # last central entry = the big member
    struct.pack_into("<I", data, cd + 24, 1000)  # uncompressed size → 1000 bytes
    err = error_of(bytes(data), Limits(max_uncompressed=4 << 20))
    assert err.code == "zip_bomb"


def test_file_over_size_limit():
    """An upload over the size limit is refused with the limit in the message."""
    err = error_of(xlsx([HEADER]), Limits(max_bytes=1024))
    assert err.code == "too_large" and str(err) == "文件过大，请上传不超过 1 KB 的文件"


def test_too_many_rows():
    """More data rows than allowed: one message with the limit, nothing returned."""
    data = xlsx([HEADER] + [["张三", ID, str(i)] for i in range(12)])
    err = error_of(data, Limits(max_rows=10))
    assert err.code == "too_many_rows" and str(err) == "数据行数超过上限 10 行"
    assert len(list(read(data, Limits(max_rows=12)).rows)) == 12


def test_blank_rows_do_not_count_towards_row_limit():
    """Trailing junk far below the data does not trip the row limit."""
    rows = [HEADER] + [["张三", ID, str(i)] for i in range(5)] + [[]] * 30 + [["李四", ID, "9"]]
    assert len(list(read(xlsx(rows), Limits(max_rows=6)).rows)) == 6


def test_too_many_rows_in_csv():
    """The row limit applies to CSV too."""
    data = csv_bytes([HEADER] + [["张三", ID, str(i)] for i in range(12)], "utf-8")
    assert error_of(data, Limits(max_rows=10), "a.csv").code == "too_many_rows"
