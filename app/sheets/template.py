"""build_template: the import template for a SheetSpec, as .xlsx bytes (openpyxl).

Layout: optional note row (merged across the columns), header row (bold, labels marked
(必填项)/(可选填), frozen), one example row ("示例：…", skipped by ``read_sheet``),
dropdowns for choice columns, '@' (text) format on ID/phone-like columns.
"""

import io

from flask_babel import lazy_gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app.sheets.cells import display_width, sheet_title

FORMATTED_ROWS = 5000  # rows below the header given the text format / dropdowns
INLINE_LIST_MAX = 255  # Excel's limit for a literal list in a validation formula
CHOICES_SHEET = "_choices"
EXAMPLE_PREFIX = "示例："  # data marker recognised by the reader, never translated

__all__ = ["build_template", "FORMATTED_ROWS", "CHOICES_SHEET"]


def build_template(spec, example=None, note=None):
    """The template workbook for ``spec``.

    ``example``: key → example value (str); missing keys fall back to
    ``Column.example``; blank examples leave the cell empty. ``note`` (optional) is
    shown in a merged first row above the header.
    """
    example = example or {}
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(spec.sheet_title)
    ncols = len(spec.columns)
    header_row = 1
    if note:
        ws.cell(row=1, column=1, value=str(note)).alignment = Alignment(
            wrap_text=True, vertical="top")
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(ncols, 1))
        ws.row_dimensions[1].height = 15 * (1 + str(note).count("\n") + len(str(note)) // 80)
        header_row = 2
    first, last = header_row + 1, header_row + FORMATTED_ROWS
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    required_mark, optional_mark = str(_("(必填项)")), str(_("(可选填)"))
    choices_ws = None
    for index, column in enumerate(spec.columns, 1):
        letter = get_column_letter(index)
        label = f"{column.label}{required_mark if column.required else optional_mark}"
        cell = ws.cell(row=header_row, column=index, value=label)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        value = str(example.get(column.key, column.example) or "")
        shown = f"{EXAMPLE_PREFIX}{value}" if value else None
        ws.cell(row=first, column=index, value=shown)
        if column.as_text:
            for row in range(first, last + 1):
                ws.cell(row=row, column=index).number_format = "@"
        if column.kind == "choice":
            formula = _inline_list(column.choices)
            if formula is None:
                if choices_ws is None:
                    choices_ws = wb.create_sheet(CHOICES_SHEET)
                    choices_ws.sheet_state = "hidden"
                for r, choice in enumerate(column.choices, 1):
                    choices_ws.cell(row=r, column=index, value=choice).number_format = "@"
                formula = (f"'{CHOICES_SHEET}'!${letter}$1:"
                           f"${letter}${len(column.choices)}")
            dv = DataValidation(type="list", formula1=formula, allow_blank=True,
                                showErrorMessage=True, errorTitle=str(_("输入有误")),
                                error=str(_("请从下拉列表中选择")))
            dv.add(f"{letter}{first}:{letter}{last}")
            ws.add_data_validation(dv)
        ws.column_dimensions[letter].width = column.width or _width(label, shown, column)
    ws.freeze_panes = f"A{header_row + 1}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _inline_list(choices):
    """'"a,b,c"' when it fits inline (≤255 chars with quotes, no commas/quotes), else None."""
    if any(("," in c or '"' in c) for c in choices):
        return None
    formula = '"' + ",".join(choices) + '"'
    return formula if len(formula) <= INLINE_LIST_MAX else None


def _width(label, example, column):
    texts = [label, example or ""] + list(column.choices[:50])
    return min(max(display_width(t) for t in texts) + 4, 60)

