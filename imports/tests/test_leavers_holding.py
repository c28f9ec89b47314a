"""An import that makes a student who holds devices leave (inactive, or moved to another
school) says so per person in the run (issue #8): "made inactive; still holds CB-001234, …"."""

from __future__ import annotations

import pytest

from accounts.models import StaffRole
from core.testing import DeviceFactory, DeviceModelFactory, PersonFactory, make_user
from custody.services import device_check_out
from imports.tests.roster import issues, run_import, standard_roster, user
from people.models import Person

pytestmark = pytest.mark.django_db


def _holds(sid: str, *tags: str) -> None:
    person = Person.objects.get(sourced_id=sid)
    admin = make_user(f"admin-{sid}", [(StaffRole.Role.DISTRICT_ADMIN, None)])
    model = DeviceModelFactory()
    for tag in tags:
        device = DeviceFactory(asset_tag=tag, serial_number=f"S{tag}", model=model, owner_site=person.home_site)
        device_check_out(device=device, person=person, actor=admin)


def _reasons(run) -> list[str]:
    return [reason for *_, reason in issues(run)]


def test_deactivated_and_moved_holders_are_warned_per_person(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("u1"), user("u2", "Ben", "Lee"), user("u3", "Cy", "Ng")))
    _holds("u2", "CB-001234", "CHG-0042")
    _holds("u3", "CB-000777")
    # u2 leaves the bulk file (made inactive), u3 moves from Lincoln Middle to Adams Elementary
    run = run_import(standard_roster(tmp_path / "b", user("u1"), user("u3", "Cy", "Ng", org="sch2")), commit=False)
    reasons = _reasons(run)
    assert "moves to Adams Elementary; still holds CB-000777" in reasons
    assert "not in the file, made inactive; still holds CB-001234, CHG-0042" in reasons
    # a delta file's tobedeleted row
    run = run_import(standard_roster(tmp_path / "c", user("u2", "Ben", "Lee", status="tobedeleted"), users_mode="delta"), commit=False)  # fmt: skip
    assert "made inactive; still holds CB-001234, CHG-0042" in _reasons(run)


def test_leavers_without_devices_get_no_warning(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("u1"), user("u2", "Ben", "Lee")))
    run = run_import(standard_roster(tmp_path / "b", user("u1")), commit=False)
    assert not [r for r in _reasons(run) if "still holds" in r]


def test_people_spreadsheet_withdrawing_or_moving_a_holder_warns(tmp_path, world):
    from imports.tests.device_files import issues as file_issues
    from imports.tests.device_files import run_file, write

    device_check_out(device=world.device_a, person=world.person_a, actor=world.district_admin)
    other = PersonFactory(home_site=world.site_a, sourced_id="s-9", given_name="Cy", family_name="Ng")
    device_check_out(device=world.device_b, person=other, actor=world.district_admin)
    path = write(
        tmp_path / "p.csv",
        f"{world.person_a.sourced_id},Withdrawn,",
        "s-9,,B",
        header="sourcedId,Status,Site Code",
    )
    run = run_file(path, "csv", actor=world.district_admin, mode="valid_rows", commit=False)
    reasons = [i[-1] for i in file_issues(run)]
    assert "withdrawn; still holds CB-000001" in reasons, reasons
    assert "moves to Birch Middle; still holds CB-000002" in reasons, reasons


@pytest.mark.postgres_only
def test_both_oneroster_paths_give_the_same_leaver_warnings_in_the_same_order(tmp_path, settings, monkeypatch):
    """The set-based path (PostgreSQL) words and orders the warnings as the row-by-row one:
    per batch (3 here) after its rows, ordered by first tag; the unlisted people last."""
    from django.db import connection

    from imports.oneroster_users import PeopleStep

    if connection.vendor != "postgresql":
        pytest.skip("the set-based path is PostgreSQL's")
    monkeypatch.setattr(PeopleStep, "batch_size", 3)
    sids = [f"u{n}" for n in range(1, 10)]
    run_import(standard_roster(tmp_path / "a", *(user(sid, "Al", sid.upper()) for sid in sids)))
    Person.objects.filter(sourced_id="u8").update(preferred_name="Bo", student_number="0042")
    _holds("u1", "CB-9", "CB-3")
    _holds("u2", "CB-2")
    _holds("u4", "CB-1", "CB-8")
    _holds("u5", "CB-0")
    _holds("u6", "CB-5")
    _holds("u8", "CB-7")
    _holds("u9", "CB-4", "CB-6")
    rows = [user("u1", "Al", "U1", status="tobedeleted"), user("u2", "Al", "U2", org="sch2"), user("u3", "Al", "U3"),
            user("u4", "Al", "U4", org="sch2"), user("u5", "Al", "U5", status="tobedeleted"), user("u7", "Al", "U7")]  # fmt: skip
    found = {}
    for set_based in (False, True):
        settings.IMPORTS_SET_BASED = set_based
        run = run_import(standard_roster(tmp_path / f"b{set_based}", *rows), commit=False)
        found[set_based] = list(run.issues.order_by("id").values_list("line", "column", "value", "reason", "key"))
    assert found[True] == found[False]
    holds = [i for i in found[True] if "still holds" in i[3]]
    assert [i[3] for i in holds] == [
        "moves to Adams Elementary; still holds CB-2",  # batch 1 (u1, u2, u3), by first tag
        "made inactive; still holds CB-3, CB-9",
        "made inactive; still holds CB-0",  # batch 2 (u4, u5, u7)
        "moves to Adams Elementary; still holds CB-1, CB-8",
        "not in the file, made inactive; still holds CB-4, CB-6",
        "not in the file, made inactive; still holds CB-5",
        "not in the file, made inactive; still holds CB-7",
    ]
    assert holds[-1][2] == "Bo U8 #0042"
