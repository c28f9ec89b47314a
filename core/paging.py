"""Keyset ("seek") paging: fast at any depth, because it never counts or skips rows.

A page is ordered by ``(sort_field, id)``; the cursor carries the last row's values.
Cursors come from query strings, so a bad one gives page 1, never an error.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet

_M = TypeVar("_M", bound=Model)


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != 2 or not isinstance(values[1], int):
        return None
    if not isinstance(values[0], (str, int)) or values[0] is None:
        return None
    return values


@dataclass
class KeysetPage(Generic[_M]):
    """One page: ``items``, and cursors for the next and previous pages (``None`` at an end)."""

    items: list[_M]
    next_cursor: str | None
    prev_cursor: str | None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.prev_cursor)


def keyset_page(
    queryset: QuerySet[_M], *, sort_field: str, after: str = "", before: str = "", size: int = 50
) -> KeysetPage[_M]:
    """Return the page of ``queryset`` after (or before) a cursor, ordered by ``(sort_field, id)``.

    ``sort_field`` must be a non-null column (e.g. ``asset_tag``); ``size`` is rows per page.
    """
    size = max(1, min(size, 500))
    after_values = _decode(after) if after else None
    before_values = _decode(before) if before and not after_values else None
    if before_values:
        value, pk = before_values
        # "sort <= v AND (sort < v OR id < pk)": the first term lets the index range-scan.
        qs = queryset.filter(Q(**{f"{sort_field}__lte": value}), Q(**{f"{sort_field}__lt": value}) | Q(id__lt=pk))
        rows = list(qs.order_by(f"-{sort_field}", "-id")[: size + 1])
        has_more_before = len(rows) > size
        items = list(reversed(rows[:size]))
        has_prev, has_next = has_more_before, True
    else:
        qs = queryset
        if after_values:
            value, pk = after_values
            qs = qs.filter(Q(**{f"{sort_field}__gte": value}), Q(**{f"{sort_field}__gt": value}) | Q(id__gt=pk))
        rows = list(qs.order_by(sort_field, "id")[: size + 1])
        items = rows[:size]
        has_next, has_prev = len(rows) > size, bool(after_values)
    if not items:
        return KeysetPage(items=[], next_cursor=None, prev_cursor=None)
    first, last = items[0], items[-1]
    return KeysetPage(
        items=items,
        next_cursor=_encode([getattr(last, sort_field), last.pk]) if has_next else None,
        prev_cursor=_encode([getattr(first, sort_field), first.pk]) if has_prev else None,
    )
