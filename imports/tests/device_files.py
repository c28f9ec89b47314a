"""Helpers for the device importer tests (Google, Snipe-IT, CSV/XLSX): tiny files and a runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imports.models import ImportRun
from imports.services import import_run_commit, import_run_create, import_run_start
from inventory.models import DeviceEvent

GAM_HEADER = (
    "deviceId,annotatedAssetId,annotatedLocation,annotatedUser,autoUpdateExpiration,bootMode,lastSync,"
    "macAddress,model,notes,orgUnitPath,osVersion,recentUsers.0.email,recentUsers.0.type,serialNumber,status"
)


def gam_row(serial: str, tag: str = "", ou: str = "/Students/A", *, model: str = "Lenovo 100e Chromebook Gen 3",
            user: str = "", recent: str = "", sync: str = "2024-05-01T13:22:11.123Z", aue: str = "1906502400000",
            mac: str = "8fad06cb0fb3", device_id: str = "", status: str = "ACTIVE", os: str = "126.0.6478.222") -> str:  # fmt: skip
    """One GAM ``print cros`` line under :data:`GAM_HEADER`."""
    cells = [device_id or f"id-{serial}", tag, "", user, aue, "Verified", sync, mac, model, "", ou, os, recent,
             "USER_TYPE_MANAGED" if recent else "", serial, status]  # fmt: skip
    return ",".join(f'"{c}"' if "," in c else c for c in cells)


def write(path: Path, *lines: str, header: str = GAM_HEADER, encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding))
    return path


def run_file(path: Path, kind: str, *, actor: Any = None, mode: str = "all_or_nothing", commit: bool = True,
             options: dict | None = None, scope_site: Any = None, dry_run: bool = False) -> ImportRun:  # fmt: skip
    """Create, preview and (when the preview allows it and ``commit``) commit an import of ``path``.

    An all-or-nothing run whose preview has row errors stays previewed (nothing applied), and
    so does a run whose every row has an error (there is nothing to apply)."""
    run = import_run_create(actor=actor, kind=kind, path=path, mode=mode, options=options, scope_site=scope_site,
                            dry_run=dry_run)  # fmt: skip
    import_run_start(run=run, phase="preview", inline=True)
    run.refresh_from_db()
    blocked = run.error_count and (run.mode == ImportRun.Mode.ALL_OR_NOTHING or not run.valid_rows("preview"))
    if commit and run.status == ImportRun.Status.PREVIEWED and not dry_run and not blocked:
        run = import_run_commit(run=run, actor=actor)
        import_run_start(run=run, phase="commit", inline=True)
        run.refresh_from_db()
    return run


def issues(run: ImportRun) -> list[tuple[Any, ...]]:
    """(line, column, value, reason) of every issue, in order."""
    return list(run.issues.order_by("id").values_list("line", "column", "value", "reason"))


def errors(run: ImportRun) -> list[tuple[Any, ...]]:
    return list(run.issues.filter(severity="error").order_by("id").values_list("line", "column", "value", "reason"))


def event_count() -> int:
    return DeviceEvent.objects.count()
