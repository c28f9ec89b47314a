"""Tiny OneRoster files made in tests, and a helper that runs an import end to end."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from imports.models import ImportRun
from imports.services import import_run_commit, import_run_create, import_run_start

USERS_11 = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)
ORGS = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"
DEFAULT_ORGS = [
    "dist,,,Maple Unified,district,MUSD,",
    "sch1,,,Lincoln Middle,school,LMS,dist",
    "sch2,,,Adams Elementary,school,AES,dist",
]


def manifest(version: str = "1.1", **modes: str) -> str:
    """A manifest.csv; ``modes`` like ``users="delta"`` (default: orgs and users bulk)."""
    files = {"academicSessions": "absent", "classes": "absent", "courses": "absent", "demographics": "absent",
             "enrollments": "absent", "orgs": "bulk", "users": "bulk", **modes}  # fmt: skip
    lines = ["propertyName,value", "manifest.version,1.0", f"oneroster.version,{version}"]
    lines += [f"file.{name},{mode}" for name, mode in files.items()]
    return "\n".join(lines) + "\n"


def user(sid: str, given: str = "Ana", family: str = "Ruiz", *, role: str = "student", org: str = "sch1",
         status: str = "", identifier: str = "", email: str = "", agents: str = "", grades: str = "07") -> str:  # fmt: skip
    """One users.csv (1.1) line."""
    cells = [sid, status, "", "true", org, role, sid, "", given, family, "", identifier or sid.upper(), email, "",
             "", agents, grades, ""]  # fmt: skip
    return ",".join(f'"{c}"' if "," in c else c for c in cells)


def users_csv(*lines: str, header: str = USERS_11) -> str:
    return "\n".join([header, *lines]) + "\n"


def orgs_csv(*lines: str) -> str:
    return "\n".join([ORGS, *(lines or DEFAULT_ORGS)]) + "\n"


def roster_dir(path: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (name → text or bytes) into folder ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (path / name).write_bytes(data)
    return path


def roster_zip(path: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` into zip ``path`` (at its root)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content.encode("utf-8") if isinstance(content, str) else content)
    return path


def standard_roster(path: Path, *user_lines: str, users_mode: str = "bulk", extra: dict | None = None) -> Path:
    """A folder with a manifest, the default orgs and ``user_lines``."""
    files: dict[str, str | bytes] = {
        "manifest.csv": manifest(users=users_mode),
        "orgs.csv": orgs_csv(),
        "users.csv": users_csv(*user_lines),
        **(extra or {}),
    }
    return roster_dir(path, files)


def run_import(path: Path, *, actor: Any = None, mode: str = "all_or_nothing", commit: bool = True,
               options: dict | None = None, dry_run: bool = False, confirm: bool = True) -> ImportRun:  # fmt: skip
    """Create, preview and (when the preview allows it and ``commit``) commit an import;
    ``confirm``: tick "Yes, deactivate …" (the people and schools a bulk file does not list)."""
    run = import_run_create(actor=actor, kind="oneroster", path=path, mode=mode, options=options, dry_run=dry_run)
    import_run_start(run=run, phase="preview", inline=True)
    run.refresh_from_db()
    if commit and run.status == ImportRun.Status.PREVIEWED and not dry_run:
        run = import_run_commit(run=run, actor=actor, confirm_deactivation=confirm)
        import_run_start(run=run, phase="commit", inline=True)
        run.refresh_from_db()
    return run


def issues(run: ImportRun) -> list[tuple[Any, ...]]:
    """(file, line, column, value, reason) of every issue, in order."""
    return list(run.issues.order_by("id").values_list("file", "line", "column", "value", "reason"))
