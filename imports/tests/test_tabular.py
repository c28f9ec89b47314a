"""Any CSV/XLSX of devices or people: column mapping (option, remembered, aliases), our own
exports re-imported with no change (round trip), row errors, site scope, people permissions."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest

from core.testing import LocationFactory, ManufacturerFactory, PersonFactory
from core.writing import csv_stream, xlsx_write
from custody.services import device_check_out
from imports.models import ColumnMapping, ImportRun
from imports.tabular import choice, initial_mapping, parse_mapping, unquote
from imports.tests.device_files import errors, event_count, issues, run_file, write
from inventory.models import Device, DeviceEvent, DeviceModel
from inventory.services import device_create, device_retire
from people.models import Person
from reports.exports import device_export_rows, person_export_rows

pytestmark = pytest.mark.django_db

Status = ImportRun.Status


def test_helpers():
    assert parse_mapping("asset_tag=Tag #; serial_number = S/N") == {"asset_tag": "Tag #", "serial_number": "S/N"}
    assert parse_mapping('{"notes": ""}') == {"notes": ""}
    assert parse_mapping({"a": None}) == {"a": ""}
    with pytest.raises(ValueError):
        parse_mapping("asset_tag")
    assert unquote("'=1+1") == "=1+1" and unquote("'-5") == "-5" and unquote("'quoted'") == "'quoted'"
    assert (
        choice("In stock", Device.Status.choices) == "in_stock"
        and choice("LOANER_POOL", Device.Status.choices) == "loaner_pool"
    )
    assert (
        choice("E-Rate / ECF", Device.FundingSource.choices) == "erate"
        and choice("x", Device.FundingSource.choices) is None
    )
    mapping = initial_mapping(headers=["Tag #", "Serial", "Room"], entity="devices", remembered={"asset_tag": "tag #"})
    assert mapping["asset_tag"] == "Tag #" and mapping["serial_number"] == "Serial" and mapping["location"] == "Room"
    assert mapping["notes"] == ""


# --------------------------------------------------------------------------- round trip


def _rich_world(world):
    """Devices and people with every kind of value our exports write."""
    admin = world.district_admin
    maker = ManufacturerFactory(name="Lenovo")
    plain = DeviceModel.objects.create(
        manufacturer=maker, name="100e Chromebook Gen 3", model_number="", category="chromebook"
    )
    numbered = DeviceModel.objects.create(
        manufacturer=maker, name="100e Chromebook Gen 3", model_number="82J9", category="chromebook"
    )
    cart = LocationFactory(site=world.site_a, name="Cart 1, north")
    first = device_create(
        actor=admin, asset_tag="0041873", model=plain, owner_site=world.site_a, serial_number="00PF1A2B",
        purchase_date=datetime.date(2023, 8, 1), purchase_cost=Decimal("289"), purchase_order="PO-0007",
        vendor="CDW-G, Inc.", funding_source="esser", warranty_end=datetime.date(2026, 8, 1),
        wifi_mac="8C:16:45:00:00:01", google_device_id="abc-123", notes='=1+1\nReturned "as is", dented',
    )  # fmt: skip
    Device.objects.filter(pk=first.pk).update(location=cart)
    device_create(actor=admin, asset_tag="-LOANER-", model=numbered, owner_site=world.site_b, status="loaner_pool")
    old = device_create(actor=admin, asset_tag="CB-7", model=numbered, owner_site=world.site_a, serial_number="OLD7")
    device_retire(device=old, actor=admin)
    device_create(actor=admin, asset_tag="cb-7", model=numbered, owner_site=world.site_a, serial_number="NEW7")
    device_check_out(device=first, person=world.person_a, actor=admin, due_on=datetime.date(2030, 6, 1))
    PersonFactory(home_site=world.site_b, sourced_id="", student_number="", email="", given_name="Hand", family_name="Made",
                  role="staff", grade="")  # fmt: skip
    PersonFactory(home_site=world.site_a, sourced_id="", student_number="000123", given_name="Zoë", family_name="O'Neil",
                  preferred_name="Zo", grade="KG", graduation_year=2037, status="inactive", homeroom="Rm 4")  # fmt: skip
    PersonFactory(home_site=world.site_a, sourced_id="t-1", student_number="", email="T@X.org", role="staff", grade="")


def _export_bytes(build, user, fmt: str) -> bytes:
    headers, rows = build(user=user)
    if fmt == "csv":
        return b"".join(csv_stream(headers, rows))
    buffer = io.BytesIO()
    xlsx_write(headers, rows, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("what", ["devices", "people"])
def test_our_exports_reimport_unchanged(tmp_path, world, fmt, what):
    _rich_world(world)
    build = device_export_rows if what == "devices" else person_export_rows
    content = _export_bytes(build, world.district_admin, fmt)
    path = tmp_path / f"{what}.{fmt}"
    path.write_bytes(content)
    rows = Device.objects.count() if what == "devices" else Person.objects.count()
    events = event_count()
    run = run_file(path, "csv", actor=world.district_admin)
    assert run.status == Status.DONE, (run.error, issues(run))
    assert run.counts[what] == {"created": 0, "updated": 0, "unchanged": rows, "deactivated": 0}, issues(run)
    assert run.error_count == 0 and run.warning_count == 0, issues(run)
    assert event_count() == events
    assert not DeviceEvent.objects.filter(import_run_id=run.pk).exists()
    if what == "devices":
        assert any("information only" in note for note in run.notes)


def test_device_export_into_an_empty_district_recreates_the_devices(tmp_path, world):
    _rich_world(world)
    content = _export_bytes(device_export_rows, world.district_admin, "csv")
    path = tmp_path / "devices.csv"
    path.write_bytes(content)
    before = {d.asset_tag: (d.serial_number, d.purchase_cost, d.notes, d.location_id) for d in Device.objects.all()}
    # the same rows with new tags and serials are new devices
    text = content.decode("utf-8-sig").replace("0041873", "9941873").replace("00PF1A2B", "99PF1A2B")
    text = text.replace(",Assigned,", ",In stock,")  # a new device starts in stock
    write(tmp_path / "new.csv", *text.splitlines()[1:], header=text.splitlines()[0])
    run = run_file(tmp_path / "new.csv", "csv", actor=world.district_admin, mode="valid_rows")
    assert run.counts["devices"]["created"] == 1, issues(run)
    copy = Device.objects.get(asset_tag="9941873")
    original = before["0041873"]
    assert (copy.serial_number, copy.purchase_cost, copy.notes, copy.location_id) == ("99PF1A2B", *original[1:])
    assert copy.funding_source == "esser" and copy.status == "in_stock"


# --------------------------------------------------------------------------- mapping


SHEET = "Property No,Mfr Serial,Mfr,Device,Campus,Room,Bought,Price\n"


def test_unrecognised_headers_need_a_mapping_and_it_is_remembered(tmp_path, world):
    path = tmp_path / "lincoln.csv"
    path.write_text(SHEET + "T-1,SN1,Acer,Chromebook 311,A,,1/2/24,$289.00\n", encoding="utf-8")
    run = run_file(path, "csv", options={"entity": "devices"})
    assert run.status == Status.REJECTED and "no asset tag or serial number column" in issues(run)[0][3]
    mapping = (
        "asset_tag=Property No;serial_number=Mfr Serial;manufacturer=Mfr;model_name=Device;current_site=Campus;"
        "purchase_date=Bought;purchase_cost=Price"
    )
    run = run_file(path, "csv", options={"mapping": mapping})
    assert run.status == Status.DONE, issues(run)
    device = Device.objects.get(asset_tag="T-1")
    assert (
        device.serial_number == "SN1" and device.current_site == world.site_a and device.model.name == "Chromebook 311"
    )
    assert device.purchase_date == datetime.date(2024, 1, 2) and device.purchase_cost == Decimal("289.00")
    assert any("'Property No' as asset tag," in note for note in run.notes)  # the field's label, not its name
    ColumnMapping.objects.create(kind="devices", source_name="Lincoln sheet", mapping=parse_mapping(mapping))
    again = run_file(path, "csv", options={"source": "Lincoln sheet"})
    assert again.status == Status.DONE and again.counts["devices"]["unchanged"] == 1
    assert any("remembered for 'Lincoln sheet'" in note for note in again.notes)


def test_mapping_errors_are_file_errors(tmp_path, world):
    path = write(tmp_path / "d.csv", "T-1,A", header="Asset Tag,Site")
    run = run_file(path, "csv", options={"mapping": "asset_tag=Nope"})
    assert run.status == Status.REJECTED and "'Nope'" in issues(run)[0][3]
    run = run_file(path, "csv", options={"mapping": "colour=Site"})
    assert run.status == Status.REJECTED and "unknown field(s) colour" in issues(run)[0][3]
    run = run_file(path, "csv", options={"mapping": "asset_tag"})
    assert run.status == Status.REJECTED and "field=Header" in issues(run)[0][3]
    run = run_file(write(tmp_path / "x.csv", "1", header="Colour"), "csv")
    assert run.status == Status.REJECTED and "devices or people" in issues(run)[0][3]


# --------------------------------------------------------------------------- rows


HEADER = "Asset Tag,Serial Number,Manufacturer,Model Name,Category,Status,Current Site Code,Purchase Cost,Notes"


def test_device_rows_errors_duplicates_and_events(tmp_path, world):
    path = write(
        tmp_path / "d.csv",
        "T-1,6.37702E+15,Acer,C2,Chromebook,In stock,A,,",
        "T-2,S2,Acer,C2,Chromebook,Lost,A,,",
        "T-3,S3,Acer,C2,Chromebook,In stock,Z,,",
        "T-4,S4,Acer,C2,Chromebook,Sideways,A,-5,",
        "T-5,S5,Acer,C2,Chromebook,,A,,",
        "t-5,S6,Acer,C2,Chromebook,,A,,",
        "CB-000001,SNA1,Acer,C1,Chromebook,In stock,B,,moved",
        header=HEADER,
    )
    run = run_file(path, "csv", mode="valid_rows")
    found = {(line, column): reason for line, column, _, reason in errors(run)}
    assert "Excel" in found[(2, "Serial Number")]
    assert "starts in stock or in the loaner pool" in found[(3, "Status")]
    assert "neither the code nor the name" in found[(4, "Current Site Code")]
    assert "expected one of In stock" in found[(5, "Status")] and "expected an amount" in found[(5, "Purchase Cost")]
    assert "(6, 7)" in found[(6, "Asset Tag")] and "(6, 7)" in found[(7, "Asset Tag")]
    assert run.counts["devices"]["created"] == 0 and run.counts["devices"]["updated"] == 1
    device = world.device_a
    device.refresh_from_db()
    assert device.current_site == world.site_b and device.notes == "moved"
    events = {e.kind: e for e in DeviceEvent.objects.filter(import_run_id=run.pk)}
    assert set(events) == {"transferred", "updated"}
    assert events["updated"].after == {"model": "Acer C1", "notes": "moved"}
    assert device.model.name == "C1"  # a CSV names the model: it is changed (made for the planned row)
    assert not DeviceModel.objects.filter(name="C2").exists()  # never from rows that failed


def test_new_device_with_a_new_model_and_a_status_difference_is_a_warning(tmp_path, world):
    path = write(
        tmp_path / "d.csv", "T-9,S9,Acme,Z1,Tablets,Loaner pool,B,$10,", "CB-000001,SNA1,,,,Lost,A,,", header=HEADER
    )
    run = run_file(path, "csv")
    assert run.status == Status.DONE, issues(run)
    device = Device.objects.get(asset_tag="T-9")
    assert device.status == "loaner_pool" and device.model.category == "tablet" and device.manufacturer.name == "Acme"
    assert run.counts["models"]["created"] == 1
    assert any("does not change a device's status" in reason for *_, reason in issues(run))
    world.device_a.refresh_from_db()
    assert world.device_a.status == "in_stock"


def test_site_staff_rows_for_other_sites_are_rejected(tmp_path, world):
    # the model exists (site staff do not add models: test_device_rules_in_imports)
    DeviceModel.objects.create(manufacturer=ManufacturerFactory(name="Acer"), name="C1", category="chromebook")
    path = write(
        tmp_path / "d.csv",
        "T-1,S1,Acer,C1,Chromebook,,A,,",
        "T-2,S2,Acer,C1,Chromebook,,B,,",
        "CB-000002,SNB1,,,,,A,,",
        header=HEADER,
    )
    run = run_file(path, "csv", actor=world.site_tech, scope_site=world.site_a, mode="valid_rows")
    found = errors(run)
    assert [(line, column) for line, column, _, _ in found] == [(3, "Current Site Code"), (4, "Serial Number")]
    assert "limited to Alder Elementary" in found[0][3] and "belongs to a device at another site" in found[1][3]
    assert Device.objects.filter(asset_tag="T-1", current_site=world.site_a).exists()
    assert not Device.objects.filter(asset_tag="T-2").exists()


# --------------------------------------------------------------------------- people


PEOPLE = "sourcedId,Role,Student Number,Given Name,Family Name,Email,Grade,Site Code,Status"


def test_people_rows(tmp_path, world):
    path = write(
        tmp_path / "p.csv",
        "s-1,Student,0042,Ana,Lee,ana@x.org,5,A,Active",
        "s-2,Staff,,Bo,Kim,bo@x.org,,Birch Middle,",
        "s-3,Wizard,,Cy,Ng,,13th,Mars,",
        f"{world.person_a.sourced_id},,,,,,08,,",
        header=PEOPLE,
    )
    run = run_file(path, "csv", actor=world.district_admin, mode="valid_rows")
    assert run.counts["people"]["created"] == 2 and run.counts["people"]["updated"] == 1, issues(run)
    found = {column for _, column, _, _ in errors(run)}
    assert found == {"Role", "Grade", "Site Code"}
    ana = Person.objects.get(sourced_id="s-1")
    assert (ana.student_number, ana.grade, ana.home_site, ana.role) == ("0042", "05", world.site_a, "student")
    assert Person.objects.get(sourced_id="s-2").role == "staff"
    world.person_a.refresh_from_db()
    assert world.person_a.grade == "08" and world.person_a.given_name == "Ana"  # blank cells keep values
    again = run_file(path, "csv", actor=world.district_admin, mode="valid_rows")
    assert again.counts["people"]["unchanged"] == 3


def test_people_are_for_district_admins_only(tmp_path, world):
    path = write(tmp_path / "p.csv", "s-1,Student,1,Ana,Lee,,5,A,", header=PEOPLE)
    run = run_file(path, "csv", actor=world.site_tech, scope_site=world.site_a)
    assert run.status == Status.REJECTED and "only district admins may import people" in issues(run)[0][3]
    run = run_file(path, "csv", actor=world.district_tech)
    assert run.status == Status.REJECTED
    assert not Person.objects.filter(sourced_id="s-1").exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_demo_district_exports_reimport_unchanged(tmp_path, fmt):
    """The tiny demo district (retired, lost and checked-out devices, accessories, notes with
    formulas and line breaks, guardians…) round-trips through both exports."""
    from django.contrib.auth import get_user_model

    from demo.testing import seed_tiny

    seed_tiny()
    admin = get_user_model().objects.get(username="district-admin")
    for what, build in (("devices", device_export_rows), ("people", person_export_rows)):
        path = tmp_path / f"{what}.{fmt}"
        path.write_bytes(_export_bytes(build, admin, fmt))
        rows = Device.objects.count() if what == "devices" else Person.objects.count()
        events = event_count()
        run = run_file(path, "csv", actor=admin)
        assert run.status == Status.DONE, (run.error, issues(run)[:5])
        assert run.counts[what] == {"created": 0, "updated": 0, "unchanged": rows, "deactivated": 0}, issues(run)[:5]
        assert run.error_count == 0 and run.warning_count == 0, issues(run)[:5]
        assert event_count() == events


def test_duplicate_serials_list_every_line(tmp_path, world):
    path = write(
        tmp_path / "d.csv",
        "T-1,SN-1,Acer,C1,Chromebook,,A,,",
        "T-2,SN-2,Acer,C1,Chromebook,,A,,",
        "T-3,sn-1,Acer,C1,Chromebook,,A,,",
        header=HEADER,
    )
    run = run_file(path, "csv", mode="valid_rows")
    found = [(line, reason) for line, column, _, reason in errors(run) if column == "Serial Number"]
    assert [line for line, _ in found] == [2, 4] and all("(2, 4)" in reason for _, reason in found)
    assert run.counts["devices"]["created"] == 1


def test_mac_and_date_rules_of_the_device_form(tmp_path, world):
    Device.objects.filter(pk=world.device_a.pk).update(wifi_mac="8c-16-45-00-00-01")  # written before the form's rule
    header = "Asset Tag,Serial Number,Current Site Code,Wi-Fi MAC,Purchase Date,Warranty End"
    path = write(
        tmp_path / "d.csv",
        "CB-000001,SNA1,A,8C:16:45:00:00:01,,",
        "CB-000002,SNB1,B,not-a-mac,,",
        "CB-000003,SNC1,A,,2999-01-01,",
        "CB-000004,SND1,A,,2024-01-01,2023-01-01",
        header=header,
    )
    run = run_file(path, "csv", mode="valid_rows")
    found = {(line, column): reason for line, column, _, reason in errors(run)}
    assert "12 hex digits" in found[(3, "Wi-Fi MAC")]
    assert "in the future" in found[(4, "Purchase Date")]
    assert "before the purchase date" in found[(5, "Warranty End")]
    assert run.counts["devices"]["unchanged"] == 1  # the same MAC, written the old way


# --------------------------------------------------------------------------- QA: identifiers Excel stored as numbers


def _numbers_workbook(path, *rows):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Asset Tag", "Serial Number", "Manufacturer", "Model Name", "Current Site Code"])
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def test_an_xlsx_identifier_stored_as_a_long_number_is_a_row_error_and_a_short_one_a_warning(tmp_path, world):
    """QA: serial 6377020000000000 as an XLSX number was accepted, while the same value in a CSV
    as 6.37702E+15 is refused. Past 15 digits Excel has lost digits: a row error; up to 15 the
    number is kept, with a warning that leading zeros may be gone (tag 41873 was 0041873?)."""
    path = _numbers_workbook(
        tmp_path / "devices.xlsx",
        ("T-1", 6377020000000000, "Acer", "C1", "A"),
        (41873, "SN-2", "Acer", "C1", "A"),
        ("T-3", 123456789012345, "Acer", "C1", "A"),
    )
    run = run_file(path, "csv", mode="valid_rows")
    assert errors(run) == [
        (
            2,
            "Serial Number",
            "6377020000000000",
            "was stored by Excel as a number with 16 digits, and Excel keeps only 15: the last digits may be lost; "
            "format the column as text in Excel and export again",
        )
    ]
    warned = run.issues.filter(severity="warning").order_by("id").values_list("line", "column", "value", "reason")
    assert [w[:3] for w in warned] == [(3, "Asset Tag", "41873"), (4, "Serial Number", "123456789012345")]
    assert warned[0][3] == (
        "was stored by Excel as a number, not as text: leading zeros it may have had are lost (0041873 becomes "
        "41873); imported as it reads. Format the column as text in Excel and export again if the identifier starts "
        "with zeros"
    )
    assert set(Device.objects.filter(model__name="C1").values_list("asset_tag", "serial_number")) == {
        ("41873", "SN-2"),
        ("T-3", "123456789012345"),
    }


def test_a_csv_identifier_that_looks_like_a_number_is_text_as_before(tmp_path, world):
    path = write(tmp_path / "d.csv", "T-1,6377020000000000,Acer,C1,Chromebook,,A,,", "41873,S2,Acer,C1,Chromebook,,A,,", header=HEADER)  # fmt: skip
    run = run_file(path, "csv")
    assert run.status == Status.DONE and issues(run) == []


# --------------------------------------------------------------------------- QA: a column new rows need is missing


def test_a_missing_column_new_devices_need_is_one_file_level_error_not_one_per_row(tmp_path, world):
    """QA 29_latin1_header.csv: no asset tag column (its header was not recognised) gave every
    row 'asset_tag: is empty; a new device needs an asset tag'."""
    header = "Numéro d'inventaire,Serial Number,Manufacturer,Current Site Code"
    path = write(
        tmp_path / "d.csv",
        "QA-X-001,QASERX001,Lenovo,A",
        "QA-X-002,QASERX002,Lenovo,A",
        "CB-000001,SNA1,Acer,B",  # a device DeviceLedger has: updated
        header=header,
    )
    run = run_file(path, "csv", mode="valid_rows")
    assert errors(run) == [
        (
            None,
            "",
            "",
            "has no asset tag or model name column (after the column mapping), so rows for devices DeviceLedger does "
            "not have yet cannot be added (the first is on line 2); map the column that holds it, or add it to the "
            "file. The header has: Numéro d'inventaire, Serial Number, Manufacturer, Current Site Code",
        )
    ]
    assert run.counts["devices"]["rejected"] == 2 and run.counts["devices"]["updated"] == 1
    assert any("2 row(s) for new devices were not imported" in note for note in run.notes)
    assert not any("asset_tag" in note for note in run.notes)
    world.device_a.refresh_from_db()
    assert world.device_a.current_site == world.site_b


def test_a_missing_column_new_people_need_is_one_file_level_error(tmp_path, world):
    path = write(tmp_path / "p.csv", "s-1,Student,1,Lee,,A", "s-2,Student,2,Ng,,A", header="sourcedId,Role,Student Number,Family Name,Email,Site Code")  # fmt: skip
    run = run_file(path, "csv", mode="valid_rows")
    ((line, column, value, reason),) = errors(run)
    assert (line, column, value) == (None, "", "")
    assert reason.startswith("has no given name column (after the column mapping), so rows for people DeviceLedger")


def test_a_model_without_a_maker_and_no_manufacturer_column_says_so(tmp_path, world):
    path = write(
        tmp_path / "d.csv", "T-1,S1,Gizmo 3000,A", header="Asset Tag,Serial Number,Model Name,Current Site Code"
    )
    run = run_file(path, "csv", mode="valid_rows")
    assert errors(run) == [
        (
            2,
            "Model Name",
            "Gizmo 3000",
            "starts with no manufacturer DeviceLedger knows, and the file has no manufacturer column: add one (or map "
            "it), or write the maker first (e.g. Lenovo 100e Chromebook)",
        )
    ]


def test_a_row_that_re_tags_a_device_says_so_in_the_preview(tmp_path, world):
    """A row whose serial is an existing device's and whose tag is another re-tagged the device
    with only "Updated 1" in the preview: now a warning names both tags before the commit."""
    path = write(tmp_path / "d.csv", "QA-0006,sna1,,,,,,,", header=HEADER)
    preview = run_file(path, "csv", commit=False)
    assert preview.status == Status.PREVIEWED and not preview.error_count
    assert issues(preview) == [
        (2, "Asset Tag", "QA-0006", "the asset tag changes from CB-000001 to QA-0006 (matched by serial sna1)")
    ]
    run = run_file(path, "csv")
    assert run.status == Status.DONE and run.counts["devices"]["updated"] == 1
    world.device_a.refresh_from_db()
    assert world.device_a.asset_tag == "QA-0006"
    event = DeviceEvent.objects.get(import_run_id=run.pk)
    assert event.before["asset_tag"] == "CB-000001" and event.after["asset_tag"] == "QA-0006"


def test_a_row_may_not_re_tag_a_checked_out_device(tmp_path, world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.district_admin)
    path = write(tmp_path / "d.csv", "QA-0006,SNA1,,,,,,,moved", header=HEADER)
    run = run_file(path, "csv", mode="valid_rows")
    ((line, column, value, reason),) = errors(run)
    assert (line, column, value) == (2, "Asset Tag", "QA-0006")
    assert reason.startswith(
        "would change the asset tag of device CB-000001 (matched by serial SNA1), which is checked out"
    )
    world.device_a.refresh_from_db()
    assert world.device_a.asset_tag == "CB-000001" and world.device_a.notes == ""
    # The same tag in another case is a respelling, not a re-tag: allowed while checked out.
    path = write(tmp_path / "e.csv", "cb-000001,SNA1,,,,,,,", header=HEADER)
    run = run_file(path, "csv")
    assert run.status == Status.DONE and not issues(run)
