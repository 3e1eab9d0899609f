"""SQL pagination with a count that stays fast."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func

PAGE_SIZES = (10, 20, 50, 100)
MAX_PAGE = 1_000_000  # beyond every list; keeps OFFSET inside the database's integer range


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int  # 1-based
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def clamp_size(raw: Any, default: int = 20) -> int:
    try:
        size = int(raw)
    except (TypeError, ValueError):
        return default
    return size if size in PAGE_SIZES else default


def clamp_page(raw: Any) -> int:
    """A 1-based page number from user input: 1 when it is not a number, at most ``MAX_PAGE``
    (a page past the end is simply empty)."""
    try:
        return min(max(1, int(raw)), MAX_PAGE)
    except (TypeError, ValueError, OverflowError):
        return 1


def paginate(session, stmt: Select, page: int, size: int) -> Page:
    """Run ``stmt`` for one page; the count drops ORDER BY and eager loads."""
    count_stmt = stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    total = session.execute(count_stmt).scalar_one()
    items = list(session.execute(stmt.limit(size).offset((page - 1) * size)).unique().scalars())
    return Page(items, total, page, size)
