"""Student numbers two people share: a warning in OneRoster (in the file, or already another
active person's), in people spreadsheets and Snipe-IT user exports (already another active
person's); the people spreadsheet's repeated numbers named by the file's own column."""

from __future__ import annotations

import pytest

from core.scoping import HIDDEN_PERSON, person_visibility
from core.testing import PersonFactory
from imports.models import ImportRun
from imports.people_rows import number_owners_text
from imports.tests.device_files import errors, issues, run_file, write
from imports.tests.roster import run_import, standard_roster, user
from people.models import Person

pytestmark = pytest.mark.django_db

Status = ImportRun.Status


def warnings(run: ImportRun) -> list[tuple]:
    return list(run.issues.filter(severity="warning").order_by("id").values_list("line", "column", "value", "reason"))


SHARED = (
    "student number '0099004' is on the rows of 2 students (lines 2, 4); imported anyway, but scanning it at "
    "check-out cannot tell them apart: correct it in the SIS"
)


def test_a_student_number_on_two_students_rows_of_users_csv_is_a_warning_on_each(tmp_path):
    run = run_import(
        standard_roster(
            tmp_path / "r",
            user("qa-s4", "Ana", "Garcia", identifier="0099004"),
            user("t1", "Tess", "Ho", role="teacher", identifier="0099004", grades=""),  # staff: not a student number
            user("qa-s5", "Bob", "Neil", identifier="0099004"),
            user("g1", "Gil", "Garcia", role="guardian", identifier="0099004", agents="qa-s4"),
            user("gone", "Old", "Kid", identifier="0099004", status="tobedeleted"),
            user("twice", "Dup", "One", identifier="0099004"),  # its sourcedId is repeated: rejected, not counted
            user("twice", "Dup", "Two", identifier="0099004"),
        ),
        mode="valid_rows",
    )
    assert run.status == Status.DONE, run.error
    assert warnings(run) == [(2, "identifier", "0099004", SHARED), (4, "identifier", "0099004", SHARED)]
    # A warning, not an error: SIS data is what it is; both students are imported.
    assert set(Person.objects.filter(student_number="0099004", role="student").values_list("sourced_id", flat=True)) == {"qa-s4", "qa-s5"}  # fmt: skip


def test_a_student_number_another_active_person_has_is_a_warning(tmp_path):
    first = run_import(
        standard_roster(
            tmp_path / "a",
            user("joseph", "Joseph", "Abbott", identifier="0019348", org="sch2"),
            user("left", "Lea", "Ving", identifier="0055555"),
        )
    )
    assert first.status == Status.DONE and not warnings(first)
    Person.objects.filter(sourced_id="left").update(status=Person.Status.WITHDRAWN)
    hand = PersonFactory(sourced_id="", student_number="0077777", given_name="Hand", family_name="Made")
    delta = run_import(
        standard_roster(
            tmp_path / "b",
            user("qa-s12", "New", "Kid", identifier="0019348"),  # Joseph's number, at another school
            user("qa-s13", "Re", "Used", identifier="0055555"),  # a withdrawn student's: fine
            user("qa-s14", "Al", "So", identifier="0077777"),  # a person made by hand
            users_mode="delta",
        )
    )
    assert delta.status == Status.DONE, delta.error
    tail = ", who is active; imported anyway, but scanning it at check-out cannot tell them apart: correct one of them at the source"  # fmt: skip
    assert warnings(delta) == [
        (
            2,
            "identifier",
            "0019348",
            "already belongs to Joseph Abbott (sourcedId 'joseph') at Adams Elementary" + tail,
        ),
        (4, "identifier", "0077777", f"already belongs to Hand Made at {hand.home_site.name}" + tail),
    ]
    assert Person.objects.get(sourced_id="qa-s12").student_number == "0019348"
    # The same person again, or a person whose own row in the file changes the number: no warning.
    again = run_import(
        standard_roster(
            tmp_path / "c",
            user("joseph", "Joseph", "Abbott", identifier="0019349", org="sch2"),
            user("qa-s12", "New", "Kid", identifier="0019348"),
            users_mode="delta",
        )
    )
    assert again.status == Status.DONE and not warnings(again)


def test_a_bulk_users_csv_does_not_warn_about_people_it_makes_inactive(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("old", "Old", "Number", identifier="0019348")))
    PersonFactory(sourced_id="", student_number="0088888", given_name="Hand", family_name="Made")
    bulk = run_import(
        standard_roster(
            tmp_path / "b",
            user("new", "New", "Number", identifier="0019348"),  # 'old' is not listed: made inactive
            user("kid", "Kid", "Hand", identifier="0088888"),  # a person made by hand stays active
        )
    )
    assert bulk.status == Status.DONE, bulk.error
    assert [(line, value) for line, _, value, _ in warnings(bulk)] == [(3, "0088888")]
    assert Person.objects.get(sourced_id="old").status == Person.Status.INACTIVE


def test_another_schools_person_is_not_named_to_who_may_not_see_them(world):
    owners = [(world.person_b.pk, world.person_b.sourced_id, "Ben", "Okafor", world.site_b.pk)]
    assert number_owners_text(owners, person_visibility(world.site_tech)) == HIDDEN_PERSON
    shown = number_owners_text([*owners, (world.person_a.pk, "", "Ana", "Ruiz", world.site_a.pk)], person_visibility(world.district_admin))  # fmt: skip
    assert shown == "Ana Ruiz at Alder Elementary and 1 other active person"


# --------------------------------------------------------------------------- people spreadsheets, Snipe-IT users

PEOPLE = "sourcedId,Role,Student Number,Given Name,Family Name,Email,Grade,Site Code,Status"


def test_a_people_csv_names_a_repeated_student_number_by_its_column(tmp_path, world):
    """QA: ``sourcedId 'student number 0088001': sourced_id 'student number 0088001' appears on
    2 lines`` — the column is the file's Student Number and the value the number."""
    path = write(
        tmp_path / "people.csv",
        ",Student,0088001,New,Kid,newkid@example.org,09,A,Active",
        ",Student,0088001,Twin,Kid,twin@example.org,09,A,Active",
        header=PEOPLE,
    )
    run = run_file(path, "csv", mode="valid_rows")
    reason = "Student Number '0088001' appears on 2 lines (2, 3); none of them is imported until only one is left"
    assert errors(run) == [(2, "Student Number", "0088001", reason), (3, "Student Number", "0088001", reason)]


def test_a_people_csv_row_with_another_active_persons_number_is_a_warning(tmp_path, world):
    path = write(
        tmp_path / "people.csv",
        "new-1,Student,0041873,Nia,New,,09,B,Active",  # Ana Ruiz's number (she has a sourcedId of her own)
        header=PEOPLE,
    )
    run = run_file(path, "csv")
    assert run.status == Status.DONE, issues(run)
    (line, column, value, reason), = warnings(run)  # fmt: skip
    assert (line, column, value) == (2, "Student Number", "0041873")
    assert reason.startswith(
        f"already belongs to Ana Ruiz (sourcedId '{world.person_a.sourced_id}') at Alder Elementary"
    )
    assert Person.objects.filter(student_number="0041873").count() == 2


SNIPE_USERS = "First Name,Last Name,Email,Username,Activated,Location,Employee Number,Job Title"


def test_a_snipeit_user_with_another_active_persons_number_is_a_warning(tmp_path, world):
    path = write(
        tmp_path / "users.csv",
        "Reagen,Tenant,rtenant0@x.org,rtenant0,true,A,0041873,Nurse",
        "Kiel,Eland,keland2@x.org,keland2,true,B,0007,Web Developer",
        header=SNIPE_USERS,
    )
    run = run_file(path, "snipeit")
    assert run.status == Status.DONE, issues(run)
    (line, column, value, reason), = warnings(run)  # fmt: skip
    assert (line, column, value) == (2, "Employee Number", "0041873") and "Ana Ruiz" in reason
    # Imported again unchanged: the number is still shared, still said.
    assert [w[:3] for w in warnings(run_file(path, "snipeit"))] == [(2, "Employee Number", "0041873")]
