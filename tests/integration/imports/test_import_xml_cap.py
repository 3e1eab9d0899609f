"""A small upload that expands to far more XML than any real 100,000-row workbook is
refused at once with one Chinese message, before a worker reads (and keeps) it."""
from __future__ import annotations

import io
import random
import zipfile

import xlsxwriter

from app.sheets import Limits
from app.sheets.reader import check_file
from tests.integration.imports.helpers import new_enterprise, upload

MIB = 1024 * 1024


def workbook_with_xml_of(megabytes: int) -> bytes:
    """A real workbook whose sheet is ``megabytes`` of plausible cells (compressing ~20x,
    far below the zip-bomb ratio of 200)."""
    base = io.BytesIO()
    book = xlsxwriter.Workbook(base)
    book.add_worksheet("人员信息").write_row(0, 0, ["姓名", "身份证号码", "手机号码"])
    book.close()
    rng = random.Random(7)
    cells = [f'<c t="inlineStr"><is><t>进港大道{n}号</t></is></c>'.encode() for n in range(1000)]
    block = b"".join(b"<row>" + b"".join(rng.choices(cells, k=8)) + b"</row>" for _ in range(20_000))
    out = io.BytesIO()
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, source.read(info.filename))
                continue
            with target.open(info.filename, "w", force_zip64=True) as sheet:
                sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                            b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                for _ in range(megabytes * MIB // len(block) + 1):
                    sheet.write(block)
                sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def test_an_upload_of_more_xml_than_a_real_100000_row_workbook_is_refused_at_once(client, auth):
    """~11 MB expanding to 215 MB of sheet XML (the app's own 100,000-row export is 108 MB):
    400 文件内容异常（解压后过大），已拒绝导入, no background job; the former 400 MB cap let it through."""
    content = workbook_with_xml_of(215)
    assert len(content) < 20 * MIB
    check_file(content, Limits(max_uncompressed=400 * MIB))  # neither too big nor a bomb by ratio

    admin = auth.token("admin")
    eid = new_enterprise(client, admin)
    response = upload(client, "/api/v1/staff/import", admin, content, enterprise_id=eid)
    assert response.status_code == 400
    assert response.json == {"message": "文件内容异常（解压后过大），已拒绝导入"}
