"""Imports write one change-log entry per person, guardian contact and site they change, in the
same transaction (issue #7). On SQLite the row-by-row path runs; on PostgreSQL the set-based
OneRoster path (``imports/tests/test_oneroster_sql.py`` compares the two paths' entries)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from core.models import ChangeLog
from imports.models import ImportRun
from imports.tests.device_files import run_file, write
from imports.tests.roster import run_import, standard_roster, user
from people import bulk as people_bulk
from people.models import Person
from sites.models import Site

pytestmark = pytest.mark.django_db

EVERYONE = [user(f"u{n}", "Kim", f"Pupil{n}", identifier=f"70{n:02d}") for n in range(12)]


def test_a_bulk_withdrawal_shows_on_each_withdrawn_students_history(tmp_path, world, client_for):
    first = run_import(standard_roster(tmp_path / "a", *EVERYONE), actor=world.district_admin)
    assert first.status == ImportRun.Status.DONE
    created = ChangeLog.objects.filter(import_run_id=first.pk, object_type="people.person", action="created")
    assert created.count() == 12
    assert (
        Site.objects.filter(sourced_id__gt="").count()
        == ChangeLog.objects.filter(import_run_id=first.pk, object_type="sites.site", action="created").count()
    )
    second = run_import(standard_roster(tmp_path / "b", *EVERYONE[:10]), actor=world.district_admin)
    assert second.status == ImportRun.Status.DONE, second.error
    entries = ChangeLog.objects.filter(import_run_id=second.pk)
    assert sorted(e.object_label for e in entries) == ["Kim Pupil10 #7010", "Kim Pupil11 #7011"]
    client = client_for(world.district_admin)
    for sid in ("u10", "u11"):
        person = Person.objects.get(sourced_id=sid)
        assert person.status == Person.Status.INACTIVE
        entry = entries.get(object_id=person.pk)
        assert (entry.before, entry.after, entry.source, entry.actor_id) == (
            {"status": "active"}, {"status": "inactive"}, "import", world.district_admin.pk,
        )  # fmt: skip
        page = client.get(reverse("person_detail", args=[person.pk])).content.decode()
        assert "History of changes" in page and "Active → Inactive" in page and f"import #{second.pk}" in page
    kept = Person.objects.get(sourced_id="u1")
    assert "Active → Inactive" not in client.get(reverse("person_detail", args=[kept.pk])).content.decode()


def test_an_import_that_changes_nothing_writes_no_entry(tmp_path, world):
    folder = standard_roster(tmp_path / "a", *EVERYONE[:3], user("g1", "Gil", "Ruiz", role="parent", agents="u1"))
    first = run_import(folder)
    assert ChangeLog.objects.filter(import_run_id=first.pk, object_type="people.guardiancontact").count() == 1
    before = ChangeLog.objects.count()
    again = run_import(folder)
    assert again.status == ImportRun.Status.DONE and again.counts["people"]["unchanged"] == 3
    assert ChangeLog.objects.count() == before


@pytest.mark.parametrize("set_based", [False, True])
def test_a_failing_commit_leaves_no_entries(tmp_path, world, monkeypatch, settings, set_based):
    """The guardians are written after the people, in the same transaction: when that fails,
    neither the people nor their entries stay."""
    if set_based and connection.vendor != "postgresql":
        pytest.skip("the set-based path is PostgreSQL's")
    settings.IMPORTS_SET_BASED = set_based
    failing = "guardians_apply_plan" if set_based else "guardians_write"

    def broken(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(people_bulk, failing, broken)
    before = (Person.objects.count(), ChangeLog.objects.count())
    run = run_import(
        standard_roster(tmp_path / "a", *EVERYONE[:3], user("g1", "Gil", "Ruiz", role="parent", agents="u1"))
    )
    run.refresh_from_db()
    assert run.status != ImportRun.Status.DONE
    assert (Person.objects.count(), ChangeLog.objects.count()) == before


PEOPLE = "sourcedId,Role,Student Number,Given Name,Family Name,Email,Grade,Site Code,Status"


def test_people_spreadsheets_log_what_they_create_and_change(tmp_path, world):
    path = write(
        tmp_path / "p.csv",
        "s-1,Student,0042,Ana,Lee,ana@x.org,5,A,Active",
        f"{world.person_a.sourced_id},,,,,,08,B,",
        header=PEOPLE,
    )
    run = run_file(path, "csv", actor=world.district_admin, mode="valid_rows")
    assert run.counts["people"]["created"] == 1 and run.counts["people"]["updated"] == 1
    entries = {e.action: e for e in ChangeLog.objects.filter(import_run_id=run.pk)}
    assert set(entries) == {"created", "changed"}
    made = entries["created"]
    assert made.object_label == "Ana Lee #0042" and made.site_id == world.site_a.pk
    assert made.after == {
        "role": "student", "sourced_id": "s-1", "student_number": "0042", "given_name": "Ana", "family_name": "Lee",
        "email": "ana@x.org", "grade": "05", "home_site": "Alder Elementary", "status": "active",
    }  # fmt: skip
    moved = entries["changed"]
    assert (moved.object_id, moved.site_id) == (world.person_a.pk, world.site_b.pk)
    assert moved.before["home_site"] == "Alder Elementary" and moved.after == {
        "grade": "08",
        "home_site": "Birch Middle",
    }
    assert moved.source == "import" and moved.actor_label == "district-admin"
    again = run_file(path, "csv", actor=world.district_admin, mode="valid_rows")
    assert not ChangeLog.objects.filter(import_run_id=again.pk).exists()
