"""Opening an upload safely: format by magic bytes, size and zip-bomb checks, and one
row interface over workbooks (python-calamine: xlsx/xlsm/xlsb/ods/xls) and csv.

A table yields ``(number, cells)`` for every row, blank ones included: ``number`` is
the 1-based row number the user sees, ``cells`` a list indexed by absolute column
(A = 0) with empty cells as None. Raw cell types are kept.
"""

import csv
import io
import os
import struct
import zlib
import zipfile
from collections import Counter

import python_calamine as pc

from app.sheets import errors

ZIP_MAGIC = b"PK"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Common non-spreadsheet uploads: PNG, JPEG, GIF, PDF, RAR, 7z, gzip, bzip2, WebP/RIFF.
BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"Rar!", b"7z\xbc\xaf",
                b"\x1f\x8b", b"BZh", b"RIFF")
SAMPLE = 64 * 1024
_CHUNK = 64 * 1024


def load_bytes(data, limits):
    """The upload as bytes; SheetError('too_large') before reading more than allowed."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    elif hasattr(data, "read"):
        raw = data.read(limits.max_bytes + 1)
    else:
        if os.path.getsize(data) > limits.max_bytes:
            raise errors.too_large(limits.max_bytes)
        with open(data, "rb") as fh:
            raw = fh.read(limits.max_bytes + 1)
    if len(raw) > limits.max_bytes:
        raise errors.too_large(limits.max_bytes)
    return raw


def open_book(raw, limits):
    """A book for the upload, chosen by content (the file name is never trusted)."""
    if raw.startswith(ZIP_MAGIC):
        check_zip(raw, limits)
        return CalamineBook(raw, "xlsx")
    if raw.startswith(OLE_MAGIC):
        if _ole_has_stream(raw, "EncryptedPackage"):  # password-protected xlsx
            raise errors.encrypted()
        if not (_ole_has_stream(raw, "Workbook") or _ole_has_stream(raw, "Book")):
            raise errors.bad_format()  # .doc, .msg, ...
        return CalamineBook(raw, "xls")
    if raw.startswith(BINARY_MAGIC):
        raise errors.bad_format()
    return CsvBook(decode_text(raw))


def _ole_has_stream(raw, name):
    # OLE2 directory entries store names as UTF-16LE; a byte search is enough to
    # tell an encrypted OOXML package or a BIFF workbook from other OLE files.
    return name.encode("utf-16-le") in raw


def check_zip(raw, limits):
    """Refuse zip bombs and non-spreadsheet zips before any XML is parsed.

    The central directory is checked first (declared sizes, ratio per member); then
    every member is inflated into nothing with a running cap, so a directory that
    lies about sizes is caught too. Costs one inflate pass (~0.1 s per 50 MB).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise errors.corrupt() from None
    names = {i.filename for i in infos}
    if any(i.flag_bits & 0x1 for i in infos):
        raise errors.encrypted()
    total = 0
    for info in infos:
        total += info.file_size
        if (info.file_size >= limits.ratio_floor
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
            raise errors.zip_bomb()
    if total > limits.max_uncompressed:
        raise errors.zip_bomb()
    if not ({"xl/workbook.xml", "xl/workbook.bin"} & names
            or ("content.xml" in names and "mimetype" in names)):
        raise errors.bad_format()
    inflated = 0
    for info in infos:
        inflated += _inflated_size(raw, info, limits.max_uncompressed - inflated)


def _inflated_size(raw, info, budget):
    """Real uncompressed size of one member; zip_bomb once it exceeds ``budget``."""
    off = info.header_offset
    if raw[off:off + 4] != b"PK\x03\x04" or len(raw) < off + 30:
        raise errors.corrupt()
    name_len, extra_len = struct.unpack("<HH", raw[off + 26:off + 30])
    start = off + 30 + name_len + extra_len
    data = memoryview(raw)[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        size = len(data)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        size = 0
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            for pos in range(0, len(data), _CHUNK):
                chunk = data[pos:pos + _CHUNK]
                while chunk:
                    size += len(inflater.decompress(chunk, _CHUNK * 16))
                    if size > budget:
                        raise errors.zip_bomb()
                    chunk = inflater.unconsumed_tail
            size += len(inflater.flush())
        except zlib.error:
            raise errors.corrupt() from None
    else:  # xlsx writers only use stored/deflate
        raise errors.corrupt()
    if size > budget:
        raise errors.zip_bomb()
    return size


def decode_text(raw):
    """Text of a csv upload; SheetError('bad_format') when it is not text.

    Tried in order: utf-16 (only with its BOM), utf-8-sig (also plain utf-8),
    gb18030 (superset of GBK/GB2312, what Chinese Excel saves "CSV" as).
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    elif b"\x00" in raw[:SAMPLE]:
        raise errors.bad_format()
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise errors.bad_format()
    text = text.lstrip("\ufeff")
    sample = text[:SAMPLE]
    controls = sum(1 for ch in sample if (ch < " " and ch not in "\t\r\n") or ch == "\x7f")
    if controls > len(sample) // 1000 or sample.lstrip().startswith("<"):
        raise errors.bad_format()  # binary junk, or HTML/XML saved as .xls
    return text


def sniff_delimiter(text):
    """The delimiter among , ; tab that splits the most lines into the same width."""
    lines = [line for line in text[:SAMPLE].splitlines()[:50] if line.strip()]
    best, best_score = ",", (0, 0)
    for delimiter in (",", ";", "\t"):
        widths = [len(rec) for rec in csv.reader(lines, delimiter=delimiter)]
        wide = Counter(w for w in widths if w > 1)
        if wide:
            width, agreeing = wide.most_common(1)[0]
            if (agreeing, width) > best_score:
                best, best_score = delimiter, (agreeing, width)
    return best


class CsvBook:
    kind = "csv"

    def __init__(self, text):
        self.table = CsvTable(text, sniff_delimiter(text))

    def tables(self, prefer=None):
        yield self.table

    def close(self):
        pass


class CsvTable:
    name = "csv"

    def __init__(self, text, delimiter):
        self.text, self.delimiter = text, delimiter
        self.last_row = text.count("\n") + 1  # upper bound: quoted newlines count too

    def rows(self):
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        try:
            for number, record in enumerate(reader, 1):
                yield number, [None if v == "" else v for v in record]
        except csv.Error:
            raise errors.corrupt() from None


class CalamineBook:
    def __init__(self, raw, kind):
        self.kind = kind
        try:
            self._wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(raw))
            metadata = self._wb.sheets_metadata
        except pc.PasswordError:
            raise errors.encrypted() from None
        except Exception:  # calamine raises assorted errors for damaged files
            raise errors.corrupt() from None
        self._names = [m.name for m in metadata
                       if m.visible == pc.SheetVisibleEnum.Visible
                       and m.typ == pc.SheetTypeEnum.WorkSheet]

    def tables(self, prefer=None):
        """Visible worksheets, the one named ``prefer`` first, each loaded on demand."""
        names = sorted(self._names, key=lambda n: n != prefer)
        for name in names:
            try:
                sheet = self._wb.get_sheet_by_name(name)
            except pc.PasswordError:
                raise errors.encrypted() from None
            except Exception:
                raise errors.corrupt() from None
            yield CalamineTable(sheet)

    def close(self):
        try:
            self._wb.close()
        except Exception:  # already closed
            pass


class CalamineTable:
    def __init__(self, sheet):
        self.name = sheet.name
        self._sheet = sheet
        start, end = sheet.start, sheet.end
        self._start = start or (0, 0)
        self.last_row = end[0] + 1 if end else 0

    def rows(self):
        if self.last_row == 0:
            return
        first_row, first_col = self._start
        lead = [None] * first_col
        rows = iter(self._sheet.iter_rows())
        first = next(rows, None)
        if first is None:
            return
        # python-calamine 0.9 yields rows from row 0 (padding the empty rows above
        # the data) but columns from the first used one; detect rather than assume.
        padded = first_row > 0 and all(v == "" for v in first)
        number = 1 if padded else first_row + 1
        yield number, lead + [None if v == "" else v for v in first]
        if lead:
            for row in rows:
                number += 1
                yield number, lead + [None if v == "" else v for v in row]
            return
        for number, row in enumerate(rows, number + 1):  # the usual sheet: data from column A
            yield number, [None if v == "" else v for v in row]
