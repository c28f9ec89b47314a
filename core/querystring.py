"""Reading list filters from a query string, and cleaning what a barcode scanner typed.

Shared by every app's list selectors and the exports; a bad value is dropped, never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar, Token
from typing import Any

from core.forms import parse_id

#: Longest search text the lists read from a query string.
QUERY_MAX = 200


#: The district's scanner prefix and suffix for this request (``sites.middleware`` activates
#: them from the district settings; none outside a request).
_scan_affixes: ContextVar[tuple[str, str]] = ContextVar("scan_affixes", default=("", ""))


def scan_affixes_activate(prefix: str, suffix: str) -> Token[tuple[str, str]]:
    """Use ``prefix`` / ``suffix`` (the district's scanner settings) in :func:`scan_clean` until
    :func:`scan_affixes_reset` with the returned token."""
    return _scan_affixes.set((prefix or "", suffix or ""))


def scan_affixes_reset(token: Token[tuple[str, str]]) -> None:
    """Undo :func:`scan_affixes_activate`."""
    _scan_affixes.reset(token)


def scan_clean(code: str, *, prefix: str | None = None, suffix: str | None = None) -> str:
    """Clean what a barcode scanner typed: strip whitespace, control characters and a trailing
    Enter/Tab, then the scanner's ``prefix`` and ``suffix`` (default: the district's settings,
    :func:`scan_affixes_activate`) when the code starts / ends with them; at most
    :data:`QUERY_MAX` characters. The one place that cleans scans on the server (the scan
    pages' script does the same in the browser: ``static/js/scan.js``)."""
    active_prefix, active_suffix = _scan_affixes.get()
    prefix = active_prefix if prefix is None else prefix
    suffix = active_suffix if suffix is None else suffix
    text = "".join(ch for ch in (code or "") if ch.isprintable()).strip()
    if prefix and text.startswith(prefix):
        text = text[len(prefix) :]
    if suffix and text.endswith(suffix) and len(text) > len(suffix):
        text = text[: -len(suffix)]
    return text.strip()[:QUERY_MAX]


def query_param(params: Mapping[str, Any] | None, name: str, limit: int = QUERY_MAX) -> str:
    """A query-string value as text (``request.GET`` gives the last of repeated values), at
    most ``limit`` characters; ``""`` when absent or not text."""
    value = params.get(name, "") if params else ""
    return value[:limit] if isinstance(value, str) else ""


def query_id(params: Mapping[str, Any] | None, name: str) -> int | None:
    """A database id from a query string, ``None`` when absent or not an id."""
    raw = query_param(params, name, 40)
    return parse_id(raw) if raw else None
