"""The one error the sheet layer raises, and its user-facing messages.

Every message is a Chinese msgid wrapped in ``lazy_gettext``: outside an app context it
renders the msgid itself. ``SheetError.code`` is a stable machine-readable reason.
"""

from flask_babel import lazy_gettext as _


class SheetError(Exception):
    """A whole file was refused: nothing from it may be imported.

    ``code`` is one of: too_large, encrypted, bad_format, zip_bomb, corrupt,
    too_many_rows, missing_columns, no_header, no_rows. ``message`` is a lazy string;
    ``str(err)`` renders it in the current locale.
    """

    def __init__(self, code, message):
        super().__init__(code)
        self.code = code
        self.message = message

    def __str__(self):
        return str(self.message)

    def __repr__(self):
        return f"SheetError({self.code!r}, {str(self.message)!r})"


def _size_text(n):
    mib = n / (1024 * 1024)
    if mib >= 1:
        return f"{mib:g} MB"
    return f"{max(n // 1024, 1)} KB"


def too_large(max_bytes):
    return SheetError(
        "too_large", _("文件过大，请上传不超过 %(max)s 的文件", max=_size_text(max_bytes))
    )


def encrypted():
    return SheetError("encrypted", _("文件已加密，请取消密码保护后重新上传"))


def bad_format():
    return SheetError("bad_format", _("文件格式不正确，请上传 .xlsx 或 .csv 文件"))


def zip_bomb():
    return SheetError("zip_bomb", _("文件内容异常（解压后过大），已拒绝导入"))


def corrupt():
    return SheetError("corrupt", _("文件已损坏，无法读取"))


def too_many_rows(max_rows):
    return SheetError("too_many_rows", _("数据行数超过上限 %(max)s 行", max=max_rows))


def missing_columns(labels):
    return SheetError(
        "missing_columns", _("缺少必填列：%(columns)s", columns="、".join(labels))
    )


def no_header():
    return SheetError("no_header", _("未找到表头，请使用下载的模板填写"))


def no_rows():
    return SheetError("no_rows", _("文件中没有可导入的数据，请在表头下方逐行填写（示例行不会导入）"))
