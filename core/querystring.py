"""Reading list filters from a query string, and cleaning what a barcode scanner typed.

Shared by every app's list selectors and the exports; a bad value is dropped, never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.forms import parse_id

#: Longest search text the lists read from a query string.
QUERY_MAX = 200


def scan_clean(code: str) -> str:
    """Clean what a barcode scanner typed: strip whitespace, control characters and a trailing
    Enter/Tab; at most :data:`QUERY_MAX` characters."""
    return "".join(ch for ch in (code or "") if ch.isprintable()).strip()[:QUERY_MAX]


def query_param(params: Mapping[str, Any] | None, name: str, limit: int = QUERY_MAX) -> str:
    """A query-string value as text (``request.GET`` gives the last of repeated values), at
    most ``limit`` characters; ``""`` when absent or not text."""
    value = params.get(name, "") if params else ""
    return value[:limit] if isinstance(value, str) else ""


def query_id(params: Mapping[str, Any] | None, name: str) -> int | None:
    """A database id from a query string, ``None`` when absent or not an id."""
    raw = query_param(params, name, 40)
    return parse_id(raw) if raw else None
