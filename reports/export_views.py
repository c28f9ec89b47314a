"""Export downloads: ``/exports/<name>.csv`` (streamed) and ``/exports/<name>.xlsx``.

``<name>`` is one of :data:`reports.exports.EXPORTS` (devices, people, assignments,
events). The query string carries the same filters as the matching list page; bad
values are ignored (never a 500). Rows are scoped through the gate by the row builders
in :mod:`reports.exports`; this module only turns them into a download.

* CSV: a :class:`~django.http.StreamingHttpResponse` over the row iterator, UTF-8 with a
  byte-order mark, produced while the database cursor is read (constant memory).
* XLSX: openpyxl write-only into an anonymous temporary file on disk, then a
  :class:`~django.http.FileResponse` that streams the file and deletes it when closed.
  More rows than one Excel sheet holds (:data:`XLSX_MAX_ROWS`) answer a page
  pointing to the CSV download (400).

File names carry the district's date: ``devices-2024-05-01.csv``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from core.scoping import VIEW
from core.views import ledger_view
from core.writing import csv_stream, xlsx_write
from reports.exports import EXPORTS
from sites.models import District

logger = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Data rows one Excel sheet can hold (1,048,576 rows including the header).
XLSX_MAX_ROWS = 1_048_575


class TooManyRows(Exception):
    """The export does not fit in one Excel sheet."""


def _at_most(rows: Iterable[list[Any]], limit: int) -> Iterator[list[Any]]:
    """Pass ``rows`` through; raise :class:`TooManyRows` on row ``limit + 1``."""
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise TooManyRows
        yield row


def export_filename(name: str, fmt: str) -> str:
    """``<name>-<YYYY-MM-DD>.<fmt>`` with today's date in the district's time zone."""
    return f"{name}-{timezone.localdate(timezone=District.get().tzinfo).isoformat()}.{fmt}"


def _no_store(response: HttpResponseBase) -> HttpResponseBase:
    """Exports hold student data: keep them out of shared and browser caches."""
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@ledger_view(VIEW)
def export_download(request: HttpRequest, name: str, fmt: str) -> HttpResponseBase:
    """Download the whole filtered, scoped ``name`` export as ``fmt`` (``csv`` or ``xlsx``).

    Unknown names or formats answer 404. Filters come from ``request.GET``.
    """
    if name not in EXPORTS or fmt not in FORMATS:
        raise Http404("No such export.")
    build, sheet_title = EXPORTS[name]
    headers, rows = build(user=request.user, filters=request.GET)
    filename = export_filename(name, fmt)
    logger.info(
        "export %s.%s by %s filters=%s",
        name,
        fmt,
        request.user.get_username(),
        {k: v[:40] for k, v in request.GET.items()},
    )
    if fmt == "csv":
        response: HttpResponseBase = StreamingHttpResponse(csv_stream(headers, rows), content_type=CSV_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return _no_store(response)
    # An anonymous file on disk (gone once closed); FileResponse closes it after sending.
    workbook: Any = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    try:
        xlsx_write(headers, _at_most(rows, XLSX_MAX_ROWS), workbook, sheet_title=sheet_title)
        workbook.seek(0)
    except TooManyRows:
        workbook.close()
        csv_url = request.path.removesuffix(".xlsx") + ".csv"
        if request.GET:
            csv_url += "?" + request.GET.urlencode()
        context = {"limit": XLSX_MAX_ROWS, "csv_url": csv_url}
        return render(request, "reports/export_too_big.html", context, status=400)
    except BaseException:
        workbook.close()
        raise
    return _no_store(FileResponse(workbook, as_attachment=True, filename=filename, content_type=XLSX_TYPE))
