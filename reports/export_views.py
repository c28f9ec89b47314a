"""Export downloads: ``/exports/<name>.csv`` (streamed) and ``/exports/<name>.xlsx``.

``<name>`` is one of :data:`reports.exports.EXPORTS` (devices, people, assignments,
events). The query string carries the same filters as the matching list page; bad
values are ignored (never a 500). Rows are scoped through the gate by the row builders
in :mod:`reports.exports`; this module only turns them into a download.

* CSV: a :class:`~django.http.StreamingHttpResponse` over the row iterator, UTF-8 with a
  byte-order mark, produced while the database cursor is read (constant memory).
* XLSX up to :data:`XLSX_SYNC_MAX_ROWS` rows: openpyxl write-only into an anonymous
  temporary file on disk, then a :class:`~django.http.FileResponse` that streams the file and
  deletes it when closed (a few seconds at most).
* XLSX above that: a background job (:mod:`reports.tasks`); the request answers at once with a
  redirect to the job's page (``exports:job``), which shows progress (htmx polling) and then a
  download link (``exports:job_download``). Only the user who asked sees the job (others: 404).
* More rows than one Excel sheet holds (:data:`XLSX_MAX_ROWS`) answer a page pointing to the
  CSV download (400).

File names carry the district's date: ``devices-2024-05-01.csv``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone

from core.scoping import VIEW, get_visible_or_404
from core.views import ledger_view
from core.writing import csv_stream, xlsx_write
from reports.exports import EXPORTS, export_row_count
from reports.models import ExportJob
from sites.models import District

logger = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Data rows one Excel sheet can hold (1,048,576 rows including the header).
XLSX_MAX_ROWS = 1_048_575
#: Larger XLSX exports are written by a background job (about 4 s of writing at this size).
XLSX_SYNC_MAX_ROWS = 10_000


class TooManyRows(Exception):
    """The export does not fit in one Excel sheet."""


def at_most(rows: Iterable[list[Any]], limit: int) -> Iterator[list[Any]]:
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
    if fmt == "xlsx":
        count = export_row_count(name, user=request.user, filters=request.GET)
        if count > XLSX_MAX_ROWS:
            return _too_big(request)
        if count > XLSX_SYNC_MAX_ROWS:
            return _start_job(request, name, count)
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
        xlsx_write(headers, at_most(rows, XLSX_MAX_ROWS), workbook, sheet_title=sheet_title)
        workbook.seek(0)
    except TooManyRows:  # rows added since the count
        workbook.close()
        return _too_big(request)
    except BaseException:
        workbook.close()
        raise
    return _no_store(FileResponse(workbook, as_attachment=True, filename=filename, content_type=XLSX_TYPE))


def _csv_url(request: HttpRequest) -> str:
    """The CSV download of the same export and filters as this XLSX request."""
    csv_url = request.path.removesuffix(".xlsx") + ".csv"
    return csv_url + ("?" + request.GET.urlencode() if request.GET else "")


def _too_big(request: HttpRequest) -> HttpResponse:
    context = {"limit": XLSX_MAX_ROWS, "csv_url": _csv_url(request)}
    return render(request, "reports/export_too_big.html", context, status=400)


def _start_job(request: HttpRequest, name: str, count: int) -> HttpResponse:
    """Ask for the export as a background job (or find the same one already running) and send
    the user to its page (303)."""
    from reports.services import export_job_request
    from reports.tasks import export_job_start, export_jobs_clean

    export_jobs_clean()
    job, created = export_job_request(user=request.user, name=name, filters=request.GET, rows_total=count)
    if created:
        logger.info("export job %s: %s.xlsx (%s rows) by %s", job.pk, name, count, request.user.get_username())
        export_job_start(job=job)
    response = redirect("exports:job", pk=job.pk)
    response.status_code = 303
    return response


@ledger_view(VIEW)
def export_job(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A background export's page: progress while it is written, then the download link.

    htmx polls it every second for the progress card alone (``reports/_export_job.html``);
    when the job ends the card is replaced by the finished one. Another user's job: 404.
    """
    job: ExportJob = get_visible_or_404(ExportJob.objects.all(), request.user, VIEW, pk=pk)
    template = "reports/_export_job.html" if getattr(request, "htmx", False) else "reports/export_job.html"
    context = {"job": job, "title": EXPORTS[job.name][1] if job.name in EXPORTS else job.name}
    return _no_store(render(request, template, context))


@ledger_view(VIEW)
def export_job_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The prepared file of a finished job, to the user who asked for it (others: 404)."""
    job: ExportJob = get_visible_or_404(ExportJob.objects.all(), request.user, VIEW, pk=pk)
    path = job.path
    if job.status != ExportJob.Status.DONE or path is None or not path.is_file():
        raise Http404("This export is not ready, or has been removed.")
    content_type = XLSX_TYPE if job.fmt == "xlsx" else CSV_TYPE
    response = FileResponse(path.open("rb"), as_attachment=True, filename=job.file_name, content_type=content_type)
    return _no_store(response)
