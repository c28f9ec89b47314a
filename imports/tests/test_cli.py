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


# --------------------------------------------------------------------------- --site, --option, dry runs (QA F2)

DEVICE_SHEET = "Asset Tag,Serial Number,Manufacturer,Model Name,Current Site Code\n"


def _sheet(tmp_path, *rows: str):
    path = tmp_path / "devices.csv"
    path.write_text(DEVICE_SHEET + "".join(row + "\n" for row in rows))
    return path


def test_site_option_lets_a_site_technician_import_for_their_site(tmp_path, world):
    """QA F2a: there was no way to pick a site, so a site technician's import always failed."""
    from core.testing import DeviceModelFactory, ManufacturerFactory
    from inventory.models import Device

    # the model exists (site staff do not add models: test_device_rules_in_imports)
    DeviceModelFactory(manufacturer=ManufacturerFactory(name="Acer"), name="Chromebook 311", model_number="")

    path = _sheet(tmp_path, "CLI-1,CLISN1,Acer,Chromebook 311,A")
    code, _, message = cli("csv", str(path), "--actor", "site-tech", "--no-progress")
    assert code == 2 and "Choose one of your sites" in message and "Give --site CODE (your sites: A)" in message
    code, out, message = cli("csv", str(path), "--actor", "site-tech", "--site", "a", "--no-progress")
    assert code == 0, message
    run = ImportRun.objects.get(status="done")
    assert run.scope_site == world.site_a and run.actor == world.site_tech
    assert Device.objects.get(asset_tag="CLI-1").current_site == world.site_a
    # rows for another site are rejected, as on the web
    other = _sheet(tmp_path, "CLI-2,CLISN2,Acer,Chromebook 311,B")
    code, out, message = cli(
        "csv", str(other), "--actor", "site-tech", "--site", "A", "--mode", "valid", "--no-progress"
    )
    assert code == 1 and not Device.objects.filter(asset_tag="CLI-2").exists()


@pytest.mark.parametrize("code_given", ["B", "NOPE", " "])
def test_site_option_refuses_a_site_out_of_scope_or_unknown(tmp_path, world, code_given):
    path = _sheet(tmp_path, "CLI-1,CLISN1,Acer,Chromebook 311,A")
    code, _, message = cli("csv", str(path), "--actor", "site-tech", "--site", code_given, "--no-progress")
    assert code == 2
    if code_given.strip():  # out of scope and unknown say the same
        assert message == f"No site with the code '{code_given}' that you may import for; your sites: A."
    else:
        assert "--site needs a site code" in message
    assert not ImportRun.objects.exists()


def test_site_option_for_the_system_and_an_inactive_site(tmp_path, world):
    path = _sheet(tmp_path, "CLI-1,CLISN1,Acer,Chromebook 311,B")
    code, _, message = cli("csv", str(path), "--site", "B", "--no-progress")  # no --actor: the system
    assert code == 0, message
    assert ImportRun.objects.get().scope_site == world.site_b
    world.site_b.active = False
    world.site_b.save()
    code, _, message = cli("csv", str(path), "--site", "B", "--no-progress")
    assert code == 2 and "is inactive" in message


@pytest.mark.parametrize("who", ["principal", "auditor", "site-auditor", "nobody"])
@pytest.mark.parametrize("site", [[], ["--site", "A"]])
def test_read_only_roles_are_told_they_may_not_import(tmp_path, world, who, site):
    path = _sheet(tmp_path, "CLI-1,CLISN1,Acer,Chromebook 311,A")
    code, _, message = cli("csv", str(path), "--actor", who, *site, "--no-progress")
    assert code == 2 and message.startswith("You may not import"), message
    assert "Choose one of your sites" not in message and not ImportRun.objects.exists()


def test_unknown_option_names_are_refused_with_the_known_ones(tmp_path):
    """QA F2b: a misspelled option (deactivate_mising=false) ran with the default instead."""
    everyone = standard_roster(tmp_path / "a", user("u1"), user("u2", "Ben", "Lee"))
    assert cli("oneroster", str(everyone), "--no-progress")[0] == 0
    smaller = standard_roster(tmp_path / "b", user("u1"))
    code, _, message = cli("oneroster", str(smaller), "--option", "deactivate_mising=false", "--no-progress")
    assert code == 2
    assert message == (
        "Unknown option deactivate_mising for a OneRoster 1.1/1.2 CSV (sites and people) import; "
        "its options are: deactivate_missing, confirm_deactivation."
    )
    assert ImportRun.objects.count() == 1 and Person.objects.get(sourced_id="u2").status == "active"
    code, _, message = cli("google", str(smaller), "--option", "deactivate_missing=no", "--option", "colour=red")
    assert code == 2 and "Unknown options deactivate_missing, colour" in message
    assert "its options are: create_checkouts, date_order." in message
    code, _, message = cli("oneroster", str(smaller), "--option", "deactivate_missing=maybe", "--no-progress")
    assert code == 2 and "Option deactivate_missing is yes or no, not 'maybe'." in message
    # "0" and "off" are "no" (as text they used to count as yes)
    assert cli("oneroster", str(smaller), "--option", "deactivate_missing=0", "--no-progress")[0] == 0
    assert ImportRun.objects.order_by("-pk").first().options["deactivate_missing"] is False
    assert Person.objects.get(sourced_id="u2").status == "active"


def test_every_option_each_importer_reads_is_known():
    """The names the importers read from their options are the ones the command line accepts."""
    import re
    from pathlib import Path

    from imports.pipeline import IMPORTER_CLASSES, importer_class

    read = re.compile(r"options\.get\(\s*\"(\w+)\"|options\[\s*\"(\w+)\"\s*\]")
    sources = {
        "oneroster": [
            "oneroster.py",
            "oneroster_orgs.py",
            "oneroster_users.py",
            "oneroster_guardians.py",
            "oneroster_sql.py",
        ],
        "google": ["google.py", "google_sql.py", "device_rows.py"],
        "snipeit": ["snipeit.py", "device_rows.py"],
        "csv": ["tabular.py", "device_rows.py", "people_rows.py", "column_views.py"],
    }
    folder = Path(__file__).resolve().parent.parent
    for kind in IMPORTER_CLASSES:
        names = {a or b for file in sources[kind] for a, b in read.findall((folder / file).read_text())}
        assert names <= set(importer_class(kind).option_names()), (kind, names)


def test_a_dry_run_is_shown_as_one_and_cannot_be_committed(tmp_path, client_for, world):
    """QA F2c: dry runs showed as "Ready to commit" forever; a forged commit said "This import
    is ready to commit; there is nothing to commit."."""
    from django.urls import reverse

    folder = standard_roster(tmp_path / "r", user("u1"))
    assert cli("oneroster", str(folder), "--dry-run", "--no-progress")[0] == 0
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.PREVIEWED and run.dry_run
    client = client_for(world.district_admin)
    history = client.get(reverse("imports:run_list")).content.decode()
    assert "Dry run (not committable)" in history and "Ready to commit" not in history
    page = client.get(reverse("imports:run_detail", args=[run.pk])).content.decode()
    assert "Dry run (not committable)" in page and "Ready to commit" not in page and "Preview ready" not in page
    assert "it cannot be committed" in page and f'action="/imports/{run.pk}/commit/"' not in page
    response = client.post(reverse("imports:run_commit", args=[run.pk]), {"mode": "all_or_nothing"})
    text = response.content.decode()
    assert "This import was a dry run (preview only): it cannot be committed." in text
    assert "ready to commit" not in text.lower()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.PREVIEWED and not Person.objects.filter(sourced_id="u1").exists()
