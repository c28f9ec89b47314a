"""``manage.py import``: preview and report printed, exit status 1 when rows are rejected."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from imports.models import ImportRun
from imports.tests.roster import standard_roster, user
from people.models import Person

pytestmark = pytest.mark.django_db


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue()


def test_import_prints_preview_and_report_and_exits_0(tmp_path):
    folder = standard_roster(tmp_path / "r", user("u1"), user("u2", "Ben", "Lee"))
    code, out, _ = cli("oneroster", str(folder), "--no-progress")
    assert code == 0
    assert "Preview" in out and "Report" in out and "Done." in out
    assert "People" in out and "2" in out
    assert Person.objects.count() == 2
    code, out, _ = cli("oneroster", str(folder), "--no-progress")
    assert code == 0
    people_line = next(line for line in out.splitlines()[::-1] if line.startswith("People"))
    assert people_line.split()[1:4] == ["0", "0", "2"]  # created, updated, unchanged


def test_dry_run_changes_nothing(tmp_path):
    folder = standard_roster(tmp_path / "r", user("u1"))
    code, out, _ = cli("oneroster", str(folder), "--dry-run", "--no-progress")
    assert code == 0 and "Dry run: nothing changed." in out and "Report" not in out
    assert Person.objects.count() == 0
    assert ImportRun.objects.get().dry_run


def test_rejected_rows_exit_1_in_both_modes(tmp_path):
    folder = standard_roster(tmp_path / "r", user("u1"), user("u2", role="wizard"))
    code, out, message = cli("oneroster", str(folder), "--no-progress")
    assert code == 1 and "all-or-nothing" in message
    assert "users.csv line 3, role 'wizard': expected one of student" in out
    assert Person.objects.count() == 0
    assert ImportRun.objects.get().status == ImportRun.Status.REJECTED
    code, out, message = cli("oneroster", str(folder), "--mode", "valid", "--no-progress")
    assert code == 1 and "1 row(s) rejected" in message
    assert Person.objects.count() == 1
    code, _, _ = cli("oneroster", str(folder), "--dry-run", "--no-progress")
    assert code == 1


def test_unreadable_upload_exits_1(tmp_path):
    path = tmp_path / "junk.zip"
    path.write_bytes(b"not a zip at all")
    code, out, message = cli("oneroster", str(path), "--no-progress")
    assert code == 1
    assert "not a zip file" in out


@pytest.mark.parametrize("kind", ["google", "snipeit", "csv"])
def test_kinds_without_an_importer_are_not_available_yet(tmp_path, monkeypatch, kind):
    from imports.pipeline import IMPORTER_CLASSES

    monkeypatch.setitem(IMPORTER_CLASSES, kind, None)  # as before its importer is wired in
    code, _, message = cli(kind, str(tmp_path))
    assert code != 0 and "not available yet" in message


def test_actor_is_checked(tmp_path, world):
    folder = standard_roster(tmp_path / "r", user("u1"))
    code, _, message = cli("oneroster", str(folder), "--actor", "site-tech", "--no-progress")
    assert code != 0 and "Only district admins" in message
    code, _, message = cli("oneroster", str(folder), "--actor", "nobody-by-that-name")
    assert code != 0 and "No active user" in message
    code, _, _ = cli(
        "oneroster", str(folder), "--actor", "district-admin", "--no-progress", "--option", "confirm_deactivation=yes"
    )
    assert code == 0
    assert ImportRun.objects.filter(status="done").get().actor == world.district_admin


def test_options_and_missing_path(tmp_path):
    run_folder = standard_roster(tmp_path / "a", user("u1"), user("u2", "Ben", "Lee"))
    assert cli("oneroster", str(run_folder), "--no-progress")[0] == 0
    smaller = standard_roster(tmp_path / "b", user("u1"))
    assert cli("oneroster", str(smaller), "--option", "deactivate_missing=false", "--no-progress")[0] == 0
    assert Person.objects.get(sourced_id="u2").status == "active"
    code, _, message = cli("oneroster", str(tmp_path / "nothing-here"))
    assert code != 0 and "does not exist" in message
    code, _, message = cli("oneroster", str(smaller), "--option", "oops")
    assert code != 0 and "NAME=VALUE" in message


def test_progress_line_goes_to_stderr(tmp_path, capsys):
    folder = standard_roster(tmp_path / "r", user("u1"))
    call_command("import", "oneroster", str(folder), stdout=io.StringIO())
    assert "users.csv → people" in capsys.readouterr().err


def test_a_commit_stopped_by_the_safety_stop_says_why_and_that_the_counts_are_the_preview_s(tmp_path, monkeypatch):
    import importlib

    from core.testing import PersonFactory

    command = importlib.import_module("imports.management.commands.import")
    commit = command.import_run_commit

    def commit_after_a_change(**kwargs):
        for n in range(10):
            PersonFactory(sourced_id=f"x{n}")  # added between the preview and the commit
        return commit(**kwargs)

    monkeypatch.setattr(command, "import_run_commit", commit_after_a_change)
    folder = standard_roster(tmp_path / "r", user("u1"))
    code, out, message = cli("oneroster", str(folder), "--no-progress")
    assert code == 1
    assert message.startswith("The commit was stopped: r: this bulk file would now make 10 of the 11 active people")
    assert "could not be read" not in message and message.endswith("Nothing was imported.")
    report = out.split("Report", 1)[1]
    assert "The commit did not complete: these are the preview's planned counts." in report
    assert Person.objects.filter(sourced_id="u1").count() == 0
