"""Exports re-imported: notes with Windows line endings come back unchanged (CSV and XLSX)."""

from __future__ import annotations

import io

import pytest

from core.writing import csv_stream, xlsx_write
from imports.models import ImportRun
from imports.tests.device_files import event_count, issues, run_file
from inventory.models import DeviceEvent
from inventory.services import device_create
from reports.exports import device_export_rows

pytestmark = pytest.mark.django_db


def _export(user, fmt: str) -> bytes:
    headers, rows = device_export_rows(user=user)
    if fmt == "csv":
        return b"".join(csv_stream(headers, rows))
    buffer = io.BytesIO()
    xlsx_write(headers, rows, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("notes", ["Screen cracked\r\nCase replaced", "old Mac\rline", "blank line\r\n\r\nbetween"])
def test_windows_line_endings_in_notes_survive_a_round_trip(tmp_path, world, fmt, notes):
    admin = world.district_admin
    device = device_create(actor=admin, asset_tag="CRLF-1", model=world.device_a.model, owner_site=world.site_a,
                           serial_number="CRLF1", notes=notes)  # fmt: skip
    path = tmp_path / f"devices.{fmt}"
    path.write_bytes(_export(admin, fmt))
    events = event_count()
    run = run_file(path, "csv", actor=admin)
    assert run.status == ImportRun.Status.DONE, (run.error, issues(run))
    assert run.counts["devices"]["updated"] == 0, issues(run)
    assert event_count() == events
    assert not DeviceEvent.objects.filter(import_run_id=run.pk).exists()
    device.refresh_from_db()
    assert device.notes == notes
