"""Spreadsheet layer: specs, safe reading, templates and streamed writing.

Framework-free: no database, no Flask app. User-facing messages are lazy Chinese
msgids (flask_babel.lazy_gettext), rendered in the caller's locale.
"""

from app.sheets.cells import cell_text, normalize_header
from app.sheets.errors import SheetError
from app.sheets.limits import Limits
from app.sheets.reader import ParsedSheet, Row, check_file, read_sheet
from app.sheets.spec import Column, SheetSpec
from app.sheets.template import build_template
from app.sheets.writer import ExportWriter, neutralise, stream_xlsx, write_failures

__all__ = [
    "Column", "SheetSpec", "Limits", "SheetError", "ParsedSheet", "Row", "read_sheet", "check_file",
    "cell_text", "normalize_header", "build_template", "ExportWriter", "stream_xlsx",
    "write_failures", "neutralise",
]
