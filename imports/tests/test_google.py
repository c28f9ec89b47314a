"""Google Admin ChromeOS devices: GAM ``print cros`` and the console download → devices,
models and last-seen facts; check-outs only when asked; site scope."""

from __future__ import annotations

import datetime

import pytest

from custody.models import Assignment
from imports.models import ImportRun, OrgUnitMapping
from imports.tests.device_files import errors, event_count, gam_row, issues, run_file, write
from inventory.models import Device, DeviceEvent, DeviceLastSeen, DeviceModel, Manufacturer

pytestmark = pytest.mark.django_db

Status = ImportRun.Status


@pytest.fixture
def ou(world):
    OrgUnitMapping.objects.create(path_prefix="/Students/A", site=world.site_a)
    OrgUnitMapping.objects.create(path_prefix="/Students/B", site=world.site_b)
    OrgUnitMapping.objects.create(path_prefix="/Students/A/Carts/Elsewhere", site=world.site_b)
    return world


def test_gam_happy_path(tmp_path, ou):
    path = write(
        tmp_path / "cros.csv",
        gam_row("PF1A2B3C", "0041873", recent="ana@students.example.org"),
        gam_row("PF1A2B3D", "", "/Students/A/Grade 5", mac="8F-AD-06-CB-0F-B4"),
        gam_row("5CD0000001", "0041875", "/Students/B", model="HP Chromebook 11 G9 EE", aue="2029-06-01"),
        gam_row("5CD0000002", "0041876", "/Students/A/Carts/Elsewhere/1", model="HP Chromebook 11 G9 EE"),
    )
    run = run_file(path, "google")
    assert run.status == Status.DONE, (run.error, issues(run))
    assert run.counts["devices"]["created"] == 4
    assert run.counts["models"]["created"] == 2
    assert run.counts["last_seen"]["created"] == 4
    lenovo = Device.objects.get(serial_number="PF1A2B3C")
    assert lenovo.asset_tag == "0041873" and lenovo.current_site == ou.site_a and lenovo.owner_site == ou.site_a
    assert lenovo.model.name == "100e Chromebook Gen 3" and lenovo.manufacturer.name == "Lenovo"
    assert lenovo.model.category == "chromebook" and lenovo.model.auto_update_expiration == datetime.date(2030, 6, 1)
    assert lenovo.wifi_mac == "8F:AD:06:CB:0F:B3" and lenovo.google_device_id == "id-PF1A2B3C"
    assert lenovo.status == Device.Status.IN_STOCK
    untagged = Device.objects.get(serial_number="PF1A2B3D")
    assert untagged.asset_tag == "PF1A2B3D" and untagged.wifi_mac == "8F:AD:06:CB:0F:B4"
    assert any("their serial number is their asset tag" in note for note in run.notes)
    assert Device.objects.get(serial_number="5CD0000001").current_site == ou.site_b
    assert Device.objects.get(serial_number="5CD0000002").current_site == ou.site_b  # longest prefix wins
    assert Manufacturer.objects.filter(name="HP").exists()
    seen = DeviceLastSeen.objects.get(device=lenovo)
    assert seen.last_sync == datetime.datetime(2024, 5, 1, 13, 22, 11, 123000, tzinfo=datetime.UTC)
    assert seen.recent_user == "ana@students.example.org" and seen.os_version == "126.0.6478.222"
    assert seen.auto_update_expiration == datetime.date(2030, 6, 1) and seen.boot_mode == "Verified"
    assert seen.google_status == "ACTIVE" and seen.source_run_id == run.pk
    events = DeviceEvent.objects.filter(device=lenovo)
    assert [(e.kind, e.source, e.import_run_id) for e in events] == [("created", "import", run.pk)]
    assert not Assignment.objects.exists()  # no check-outs unless asked


def test_second_import_changes_nothing(tmp_path, ou):
    path = write(tmp_path / "cros.csv", gam_row("PF1", "T1"), gam_row("PF2", ""), gam_row("SNA1", "CB-000001"))
    first = run_file(path, "google")
    assert first.status == Status.DONE, issues(first)
    before = event_count()
    again = run_file(path, "google")
    assert again.status == Status.DONE
    assert again.counts["devices"] == {"created": 0, "updated": 0, "unchanged": 3, "deactivated": 0}
    assert again.counts["last_seen"]["unchanged"] == 3 and again.counts["last_seen"]["updated"] == 0
    assert "models" not in again.counts or again.counts["models"]["created"] == 0
    assert event_count() == before


CONSOLE_HEADER = (
    "Serial Number;Annotated Asset Id;Org Unit Path;Annotated User;Recent Users;Status;OS Version;"
    "Last Sync;Model;Mac Address;Enrollment Time;Auto Update Expiration"
)


def test_console_download_with_semicolons_and_title_case(tmp_path, ou):
    path = write(
        tmp_path / "devices.csv",
        "NXHKAAA001;A-1;/Students/A;;bo@x.org, cy@x.org;Active;128.0.6613.179;2024-05-01 13:22:11;"
        "Acer Chromebook 311 (C733);b0a460000001;2023-01-01T00:00:00Z;2027-06",
        header=CONSOLE_HEADER,
        encoding="cp1252",
    )
    run = run_file(path, "google")
    assert run.status == Status.DONE, issues(run)
    device = Device.objects.get(serial_number="NXHKAAA001")
    assert device.asset_tag == "A-1" and device.manufacturer.name == "Acer"
    assert device.model.name == "Chromebook 311 (C733)"
    seen = device.last_seen
    assert seen.recent_user == "bo@x.org" and seen.google_status == "ACTIVE"
    assert seen.auto_update_expiration == datetime.date(2027, 6, 1)
    assert seen.last_sync == datetime.datetime(2024, 5, 1, 13, 22, 11, tzinfo=datetime.UTC)
    notes = " ".join(run.notes)
    assert "'Recent Users' as recentUsers.0.email" in notes


def test_excel_damaged_serial_is_a_row_error(tmp_path, ou):
    path = write(tmp_path / "cros.csv", gam_row("6.37702E+15", "T1"), gam_row("PF9", "T9"))
    run = run_file(path, "google", mode="valid_rows")
    assert run.status == Status.DONE
    (line, column, value, reason), = errors(run)  # fmt: skip
    assert (line, column, value) == (2, "serialNumber", "6.37702E+15") and "Excel" in reason
    assert run.counts["devices"]["rejected"] == 1 and run.counts["devices"]["created"] == 1


def test_unknown_org_unit_is_a_row_error_naming_the_path_and_makes_no_model(tmp_path, ou):
    path = write(
        tmp_path / "cros.csv",
        gam_row("PF1", "T1", "/Staff/Laptops", model="Zeta Zoombook 9"),
        gam_row("PF2", "T2"),
    )
    run = run_file(path, "google")
    assert run.status == Status.PREVIEWED and run.error_count == 1  # all or nothing: not committed
    (line, column, value, reason), = errors(run)  # fmt: skip
    assert (line, column, value) == (2, "orgUnitPath", "/Staff/Laptops") and "mapped to no site" in reason
    assert not Device.objects.filter(serial_number__in=["PF1", "PF2"]).exists()
    run = run_file(path, "google", mode="valid_rows")
    assert run.status == Status.DONE and Device.objects.filter(serial_number="PF2").exists()
    assert not DeviceModel.objects.filter(name__icontains="Zoombook").exists()
    assert not Manufacturer.objects.filter(name="Zeta").exists()


def test_bad_last_sync_and_aue_are_row_errors(tmp_path, ou):
    path = write(tmp_path / "cros.csv", gam_row("PF1", "T1", sync="yesterday", aue="soon"))
    run = run_file(path, "google")
    assert {(c, v) for _, c, v, _ in errors(run)} == {("lastSync", "yesterday"), ("autoUpdateExpiration", "soon")}


def test_duplicate_serials_and_asset_ids_list_every_line(tmp_path, ou):
    path = write(
        tmp_path / "cros.csv",
        gam_row("PF1", "T1"),
        gam_row("PF2", "T2"),
        gam_row("PF1", "T3"),
        gam_row("PF4", "T2"),
        gam_row("pf1", "T6"),  # serials are matched ignoring case
    )
    run = run_file(path, "google", mode="valid_rows")
    found = errors(run)
    serial_errors = [e for e in found if e[1] == "serialNumber"]
    tag_errors = [e for e in found if e[1] == "annotatedAssetId"]
    assert [e[0] for e in serial_errors] == [2, 4, 6] and all("(2, 4, 6)" in e[3] for e in serial_errors)
    assert [e[0] for e in tag_errors] == [3, 5] and all("(3, 5)" in e[3] for e in tag_errors)
    assert not Device.objects.filter(serial_number__istartswith="PF").exists()


def test_existing_device_is_transferred_and_details_updated(tmp_path, ou):
    device = ou.device_a  # serial SNA1 at site A
    path = write(tmp_path / "cros.csv", gam_row("sna1", "", "/Students/B", mac="", device_id="g-123"))
    run = run_file(path, "google")
    assert run.status == Status.DONE, issues(run)
    assert run.counts["devices"]["updated"] == 1
    device.refresh_from_db()
    assert device.current_site == ou.site_b and device.asset_tag == "CB-000001"  # tag kept
    assert device.google_device_id == "g-123"
    kinds = {e.kind: e for e in DeviceEvent.objects.filter(device=device, import_run_id=run.pk)}
    assert set(kinds) == {"updated", "transferred"}
    assert kinds["transferred"].before == {"current_site": "A", "location": None}
    assert kinds["transferred"].after == {"current_site": "B", "location": None}
    assert kinds["updated"].after == {"google_device_id": "g-123"} and kinds["transferred"].source == "import"
    assert device.model == ou.device_b.model  # Google's model name does not replace ours


def test_tag_taken_by_another_device_is_a_row_error(tmp_path, ou):
    path = write(tmp_path / "cros.csv", gam_row("PF1", "cb-000002"))
    run = run_file(path, "google")
    (_, column, value, reason), = errors(run)  # fmt: skip
    assert column == "annotatedAssetId" and "belongs to another device (serial SNB1)" in reason
    # an existing device taking a tag another live device has
    path = write(tmp_path / "cros2.csv", gam_row("SNA1", "CB-000002"))
    run = run_file(path, "google")
    (_, column, value, reason), = errors(run)  # fmt: skip
    assert column == "annotatedAssetId" and "already the asset tag of another live device (serial SNB1)" in reason


def test_no_org_unit_mappings_is_a_file_error(tmp_path, world):
    run = run_file(write(tmp_path / "cros.csv", gam_row("PF1", "T1")), "google")
    assert run.status == Status.REJECTED
    assert "Org units" in issues(run)[0][3]


def test_checkouts_only_when_asked(tmp_path, ou):
    ana = ou.person_a
    ana.email = "Ana.Ruiz@students.example.org"
    ana.save()
    path = write(
        tmp_path / "cros.csv",
        gam_row("PF1", "T1", user="ana.ruiz@students.example.org"),
        gam_row("PF2", "T2", recent="nobody@students.example.org"),
    )
    run = run_file(path, "google")
    assert run.status == Status.DONE and not Assignment.objects.exists()
    run = run_file(path, "google", options={"create_checkouts": True}, mode="valid_rows")
    assert run.status == Status.DONE, issues(run)
    assert run.counts["checkouts"]["created"] == 1 and run.counts["checkouts"]["skipped"] == 1
    assignment = Assignment.objects.get()
    assert assignment.person == ana and assignment.device.serial_number == "PF1"
    assert assignment.device.status == Device.Status.ASSIGNED
    event = DeviceEvent.objects.get(kind="checked_out")
    assert event.source == "import" and event.import_run_id == run.pk
    assert any("matches no person" in reason for *_, reason in issues(run))
    again = run_file(path, "google", options={"create_checkouts": True}, mode="valid_rows")
    assert again.counts["checkouts"]["unchanged"] == 1 and Assignment.objects.count() == 1
    # out to someone else: a warning, nothing changes
    other = write(tmp_path / "other.csv", gam_row("PF1", "T1", user=""), gam_row("PF2", "T2"))
    ou.person_b.email = "ben@x.org"
    ou.person_b.save()
    other = write(tmp_path / "other.csv", gam_row("PF1", "T1", user="ben@x.org"))
    run = run_file(other, "google", options={"create_checkouts": "true"})
    assert run.status == Status.DONE
    assert run.counts["checkouts"]["skipped"] == 1
    assert any("checked out to" in reason for *_, reason in issues(run))
    assert Assignment.objects.get().person == ana


def test_new_device_checked_out_in_the_same_import(tmp_path, ou):
    ou.person_a.email = "ana@x.org"
    ou.person_a.save()
    run = run_file(write(tmp_path / "c.csv", gam_row("PF7", "T7", user="ana@x.org")), "google",
                   options={"create_checkouts": True})  # fmt: skip
    assert run.status == Status.DONE, issues(run)
    assert Assignment.objects.get().device.serial_number == "PF7"
    kinds = list(DeviceEvent.objects.filter(device__serial_number="PF7").order_by("id").values_list("kind", flat=True))
    assert kinds == ["created", "checked_out"]


def test_site_staff_rows_for_other_sites_are_rejected(tmp_path, ou):
    # the model exists (site staff do not add models: test_device_rules_in_imports)
    DeviceModel.objects.create(manufacturer=Manufacturer.objects.get_or_create(name="Lenovo")[0],
                               name="100e Chromebook Gen 3", category="chromebook")  # fmt: skip
    path = write(
        tmp_path / "cros.csv",
        gam_row("PF1", "T1", "/Students/A"),
        gam_row("PF2", "T2", "/Students/B"),
        gam_row("SNB1", "", "/Students/A"),  # site B's device, claimed for A
    )
    run = run_file(path, "google", actor=ou.site_tech, scope_site=ou.site_a, mode="valid_rows")
    assert run.status == Status.DONE, run.error
    found = errors(run)
    assert [(line, column) for line, column, _, _ in found] == [(3, "orgUnitPath"), (4, "serialNumber")]
    assert "this import is limited to Alder Elementary" in found[0][3]
    assert "belongs to a device at another site" in found[1][3]
    assert Device.objects.filter(serial_number="PF1").exists()
    assert not Device.objects.filter(serial_number="PF2").exists()
    ou.device_b.refresh_from_db()
    assert ou.device_b.current_site == ou.site_b


def test_cli_dry_run_prints_the_preview_and_exits_1_on_rejected_rows(tmp_path, ou):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = write(tmp_path / "cros.csv", gam_row("PF1", "T1"), gam_row("PF2", "T2", "/Nowhere"))
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import", "google", str(path), "--dry-run", "--no-progress", stdout=out)
    assert caught.value.returncode == 1
    text = out.getvalue()
    assert "Preview" in text and "Devices" in text and "mapped to no site" in text
    assert not Device.objects.filter(serial_number="PF1").exists()
    out = io.StringIO()
    call_command("import", "google", str(write(tmp_path / "ok.csv", gam_row("PF1", "T1"))), "--no-progress", stdout=out)
    assert "Done." in out.getvalue() and Device.objects.filter(serial_number="PF1").exists()


def test_device_page_shows_last_seen(tmp_path, ou, client_for):
    run_file(write(tmp_path / "cros.csv", gam_row("SNA1", "", recent="ana@x.org")), "google")
    page = client_for(ou.district_admin).get(f"/devices/{ou.device_a.pk}/").content.decode()
    assert "Last seen in Google Admin" in page and "ana@x.org" in page and "126.0.6478.222" in page
    page = client_for(ou.district_admin).get(f"/devices/{ou.device_b.pk}/").content.decode()
    assert "Last seen in Google Admin" not in page


def test_bad_date_order_option_is_a_file_error(tmp_path, ou):
    run = run_file(write(tmp_path / "cros.csv", gam_row("PF1", "T1")), "google", options={"date_order": "YMD"})
    assert run.status == Status.REJECTED and "date_order must be MDY or DMY" in issues(run)[0][3]


def test_statistics_are_refreshed_while_a_large_import_inserts(tmp_path, ou, monkeypatch, settings):
    """The row-by-row path (the set-based path analyzes after its INSERT … SELECT)."""
    from django.db import connection

    settings.IMPORTS_SET_BASED = False

    from imports.device_rows import DeviceStep
    from imports.services import import_statistics_refresh

    calls = []
    monkeypatch.setattr(DeviceStep, "analyze_after", 2)
    monkeypatch.setattr(
        "imports.services.import_statistics_refresh",
        lambda **kwargs: calls.append(kwargs) or import_statistics_refresh(**kwargs),
    )
    path = write(tmp_path / "cros.csv", *(gam_row(f"PF{n}", f"T{n}") for n in range(6)))
    run = run_file(path, "google")
    assert run.status == Status.DONE and run.counts["devices"]["created"] == 6
    assert calls and calls[0]["models_"] == [Device]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'inventory_device'")
            assert cursor.fetchone()[0] > 0


def test_decentralized_scope_follows_the_owner_site(tmp_path, ou):
    from sites.models import District

    district = District.get()
    district.ownership_mode = "decentralized"
    district.save()
    Device.objects.filter(pk=ou.device_a.pk).update(current_site=ou.site_b)  # site A's device, lent to B
    path = write(tmp_path / "cros.csv", gam_row("SNA1", "", "/Students/A"), gam_row("SNB1", "", "/Students/A"))
    run = run_file(path, "google", actor=ou.site_tech, scope_site=ou.site_a, mode="valid_rows")
    assert run.status == Status.DONE
    assert [(line, column) for line, column, _, _ in errors(run)] == [(3, "serialNumber")]  # B owns SNB1
    ou.device_a.refresh_from_db()
    assert ou.device_a.current_site == ou.site_a and ou.device_a.owner_site == ou.site_a


def test_site_staff_learn_nothing_about_devices_of_other_sites(tmp_path, ou):
    """A serial of a device at a site the actor cannot see: no asset tag, no site name."""
    path = write(tmp_path / "cros.csv", gam_row("SNB1", "", "/Students/A"))  # site B's device, claimed for A
    run = run_file(path, "google", actor=ou.site_tech, scope_site=ou.site_a, mode="valid_rows")
    (found,) = errors(run)
    reason = found[3]
    assert "belongs to a device at another site" in reason
    assert ou.device_b.asset_tag not in reason and ou.site_b.name not in reason
    assert "is device" not in reason


def test_unmapped_org_unit_message_suits_the_actor(tmp_path, ou):
    """Only district admins can open Imports → Org units; site staff are told to ask one."""
    path = write(tmp_path / "cros.csv", gam_row("PF1", "T1", "/Nowhere"))
    run = run_file(path, "google", actor=ou.site_tech, scope_site=ou.site_a, mode="valid_rows")
    (found,) = errors(run)
    assert "ask a district admin to map this org unit" in found[3] and "Imports → Org units" not in found[3]
    run = run_file(path, "google", actor=ou.district_admin, mode="valid_rows")
    (found,) = errors(run)
    assert "under Imports → Org units" in found[3]
    OrgUnitMapping.objects.all().delete()
    run = run_file(path, "google", actor=ou.site_tech, scope_site=ou.site_a)
    assert run.status == Status.REJECTED
    assert "ask a district admin" in issues(run)[0][3] and "Imports → Org units" not in issues(run)[0][3]


def test_a_checked_out_device_is_not_transferred(tmp_path, ou):
    from custody.services import device_check_out

    device_check_out(device=ou.device_a, person=ou.person_a, actor=None)
    run = run_file(write(tmp_path / "cros.csv", gam_row("SNA1", "", "/Students/B", device_id="g-9")), "google")
    assert run.status == Status.DONE
    assert any("is checked out; it is not transferred" in reason for *_, reason in issues(run))
    ou.device_a.refresh_from_db()
    assert ou.device_a.current_site == ou.site_a and ou.device_a.google_device_id == "g-9"  # the rest is applied
    assert not DeviceEvent.objects.filter(device=ou.device_a, kind="transferred").exists()


def test_clash_messages_do_not_describe_devices_the_actor_cannot_see(tmp_path, ou):
    path = write(tmp_path / "cros.csv", gam_row("PF1", "CB-000002"))
    run = run_file(path, "google", actor=ou.site_tech, scope_site=ou.site_a)
    (_, column, _, reason), = errors(run)  # fmt: skip
    assert "SNB1" not in reason and "another site" in reason


def test_a_model_first_named_by_a_rejected_row_is_still_created_for_a_later_row(tmp_path, ou):
    """Regression: the row-by-row path marked the model "planned" before refusing the row (an
    inactive site), so the later row's device pointed at a model never created (RuntimeError)."""
    from sites.models import Site

    closed = Site.objects.create(code="C", name="Cedar Closed", active=False)
    OrgUnitMapping.objects.create(path_prefix="/Students/C", site=closed)
    path = write(
        tmp_path / "cros.csv",
        gam_row("PF23", "X23", "/Students/C", model="Acme Z1"),
        gam_row("PF24", "X24", "/Students/A", model="Acme Z1"),
    )
    run = run_file(path, "google", mode="valid_rows")
    assert run.status == Status.DONE, run.error
    assert run.counts["models"]["created"] == 1 and run.counts["devices"]["created"] == 1
    assert Device.objects.get(serial_number="PF24").model.name == "Z1"
    assert [(value, reason) for _line, _col, value, reason in errors(run)] == [
        ("/Students/C", "is the org unit of Cedar Closed, an inactive site; devices cannot be added there")
    ]


@pytest.mark.parametrize("holder_school", ["own", "other"])
def test_checked_out_to_names_the_holder_through_the_gate(tmp_path, ou, holder_school):
    """The warning for a device already out to someone else names the holder as the gate does
    (core.scoping.person_label_for): a site technician reads their own school's student's name,
    and 'a person at another site' for another school's student (before: 'someone else' for
    both, whoever the holder)."""
    from core.scoping import HIDDEN_PERSON
    from core.testing import PersonFactory
    from custody.services import device_check_out

    holder = (
        PersonFactory(home_site=ou.site_a, given_name="Cora", family_name="Lind", student_number="0041999")
        if holder_school == "own"
        else ou.person_b
    )
    device_check_out(device=ou.device_a, person=holder, actor=None)  # lent by district staff
    ou.person_a.email = "ana@x.org"
    ou.person_a.save()
    path = write(tmp_path / "cros.csv", gam_row("SNA1", "CB-000001", "/Students/A", user="ana@x.org"))
    run = run_file(path, "google", actor=ou.site_tech, scope_site=ou.site_a, options={"create_checkouts": True})
    assert run.status == Status.DONE, issues(run)
    (reason,) = [reason for *_, reason in issues(run) if "checked out to" in reason]
    if holder_school == "own":
        assert "checked out to Cora Lind #0041999 in DeviceLedger" in reason
    else:
        assert f"checked out to {HIDDEN_PERSON} in DeviceLedger" in reason
        assert "Okafor" not in reason and "0099001" not in reason
    assert Assignment.objects.get(checked_in_at__isnull=True).person == holder
