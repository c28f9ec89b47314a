"""Snipe-IT asset and user exports: devices with their current check-outs, staff people,
the admin's choice of matching key, site scope, and the real sample files."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from core.testing import DeviceModelFactory, PersonFactory, SiteFactory
from custody.models import Assignment
from imports.models import ImportRun
from imports.snipeit import add_months, category_of
from imports.tests.device_files import errors, issues, run_file, write
from inventory.models import Device, DeviceEvent, DeviceModel
from people.models import Person
from sites.models import Site

pytestmark = pytest.mark.django_db

Status = ImportRun.Status

ASSETS = (
    "Company,Asset Name,Asset Tag,Serial,Model Name,Model No.,Category,Manufacturer,Status,Location,Supplier,"
    "Order Number,Purchase Date,Purchase Cost,Warranty (months),Asset Notes,Checkout Type,"
    "Checked Out To: Username,Checked Out To: Email,Checked Out To: Employee Number,Expected Checkin Date"
)


def asset(tag: str, serial: str = "", *, location: str = "A", model: str = "Chromebook 311", number: str = "C733",
          category: str = "Chromebooks", maker: str = "Acer", date: str = "1/23/23", cost: str = "$1,289.50",
          warranty: str = "36", notes: str = "", ctype: str = "", username: str = "", email: str = "",
          employee: str = "", due: str = "") -> str:  # fmt: skip
    cells = ["District", "Student laptop", tag, serial, model, number, category, maker, "Ready to Deploy", location,
             "CDW-G, Inc.", "0042", date, cost, warranty, notes, ctype, username, email, employee, due]  # fmt: skip
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def assets_file(path, *lines):
    return write(path, *lines, header=ASSETS, encoding="utf-8-sig")


def test_category_mapping():
    assert category_of("Laptops") == "laptop" and category_of("Chromebooks") == "chromebook"
    assert category_of("Tablets") == "tablet" and category_of("iPads") == "tablet"
    assert category_of("Chargers") == "charger" and category_of("Power Adapters") == "charger"
    assert (
        category_of("Cases") == "case" and category_of("Styluses") == "stylus" and category_of("Hotspots") == "hotspot"
    )
    assert (
        category_of("Desktops") == "other"
        and category_of("Ornamental Railings") == "other"
        and category_of("") == "other"
    )
    assert category_of("Chromebook") == "chromebook" and category_of("Student Chromebooks") == "chromebook"
    assert add_months(datetime.date(2023, 1, 31), 1) == datetime.date(2023, 2, 28)


def test_assets_happy_path_with_checkouts(tmp_path, world):
    world.person_a.email = "Ana@X.org"
    world.person_a.save()
    path = assets_file(
        tmp_path / "assets.csv",
        asset("T-0001", "NXH0001", ctype="User", username="ana", email="ana@x.org", due="6/30/30"),
        asset(
            "T-0002",
            "NXH0002",
            location="Birch Middle",
            category="Laptops",
            model="Latitude 3440",
            number="",
            maker="Dell",
            cost="799",
            notes='Has a "sticker", dented',
        ),  # fmt: skip
        asset("T-0003", "", model="45W Adapter", number="", category="Chargers", cost="", warranty=""),
    )
    run = run_file(path, "snipeit")
    assert run.status == Status.DONE, (run.error, issues(run))
    assert run.counts["devices"]["created"] == 3 and run.counts["models"]["created"] == 3
    assert run.counts["checkouts"]["created"] == 1
    first = Device.objects.get(asset_tag="T-0001")
    assert first.serial_number == "NXH0001" and first.current_site == world.site_a
    assert first.purchase_date == datetime.date(2023, 1, 23) and first.purchase_cost == Decimal("1289.50")
    assert first.warranty_end == datetime.date(2026, 1, 23) and first.vendor == "CDW-G, Inc."
    assert first.purchase_order == "0042" and first.model.category == "chromebook"
    assert first.status == Device.Status.ASSIGNED
    assignment = Assignment.objects.get(device=first)
    assert assignment.person == world.person_a and assignment.due_on == datetime.date(2030, 6, 30)
    second = Device.objects.get(asset_tag="T-0002")
    assert second.current_site == world.site_b and second.model.category == "laptop"
    assert second.notes == 'Has a "sticker", dented' and second.manufacturer.name == "Dell"
    charger = Device.objects.get(asset_tag="T-0003")
    assert charger.serial_number == "" and charger.model.category == "charger" and charger.purchase_cost is None
    kinds = set(DeviceEvent.objects.filter(import_run_id=run.pk).values_list("kind", "source"))
    assert kinds == {("created", "import"), ("checked_out", "import")}
    again = run_file(path, "snipeit")
    assert again.status == Status.DONE
    assert again.counts["devices"] == {"created": 0, "updated": 0, "unchanged": 3, "deactivated": 0}
    assert again.counts["checkouts"]["unchanged"] == 1
    assert not DeviceEvent.objects.filter(import_run_id=again.pk).exists()


def test_existing_device_matched_by_serial_gets_its_snipeit_tag(tmp_path, world):
    path = assets_file(tmp_path / "a.csv", asset("SNIPE-9", "sna1", location="a", warranty=""))
    run = run_file(path, "snipeit")
    assert run.status == Status.DONE, issues(run)
    world.device_a.refresh_from_db()
    assert world.device_a.asset_tag == "SNIPE-9"
    event = DeviceEvent.objects.get(import_run_id=run.pk)
    assert (
        event.kind == "updated" and event.before["asset_tag"] == "CB-000001" and event.after["asset_tag"] == "SNIPE-9"
    )
    assert event.after["model"] == "Acer Chromebook 311"


def test_row_errors(tmp_path, world):
    path = assets_file(
        tmp_path / "a.csv",
        asset("T-1", "6.37702E+15"),
        asset("T-2", "S2", location="Nowhere High"),
        asset("T-3", "S3", date="13/45/23", cost="12,5"),
        asset("T-4", "S4", ctype="Sideways"),
        asset("T-5", "S5", model="Gizmo", maker=""),
        asset("", "S6"),
    )
    run = run_file(path, "snipeit", mode="valid_rows")
    found = {(line, column): reason for line, column, _, reason in errors(run)}
    assert "Excel" in found[(2, "Serial")]
    assert "neither the code nor the name of a site" in found[(3, "Location")]
    assert "expected a date" in found[(4, "Purchase Date")] and "expected an amount" in found[(4, "Purchase Cost")]
    assert "expected User or Location" in found[(5, "Checkout Type")]
    assert "needs a manufacturer" in found[(6, "Manufacturer")]
    assert "is empty" in found[(7, "Asset Tag")]
    assert run.status == ImportRun.Status.PREVIEWED  # every row has an error: nothing to apply, not committed
    assert run.preview["devices"]["rejected"] == 6 and not Device.objects.filter(asset_tag__startswith="T-").exists()
    assert not DeviceModel.objects.filter(name="Gizmo").exists()


def test_a_damaged_model_number_does_not_hide_the_rows_other_problems(tmp_path, world):
    """Issue #8: every problem of a row in one preview (the damaged Model No. and the unknown
    location), and the row is not applied."""
    path = assets_file(tmp_path / "a.csv", asset("T-1", "S1", number="8.2E+11", location="Nowhere High"))
    run = run_file(path, "snipeit", mode="valid_rows")
    found = {(line, column): reason for line, column, _, reason in errors(run)}
    assert "scientific notation" in found[(2, "Model No.")]
    assert "neither the code nor the name of a site" in found[(2, "Location")]
    assert not Device.objects.filter(asset_tag="T-1").exists()


def test_duplicate_tags_and_serials_list_every_line(tmp_path, world):
    path = assets_file(
        tmp_path / "a.csv",
        asset("T-1", "S1"),
        asset("T-2", "S2"),
        asset("t-1", "S3"),
        asset("T-4", "S2"),
    )
    run = run_file(path, "snipeit", mode="valid_rows")
    found = errors(run)
    tags = [(line, reason) for line, column, _, reason in found if column == "Asset Tag"]
    assert [line for line, _ in tags] == [2, 4] and all("(2, 4)" in reason for _, reason in tags)  # case ignored
    serials = [(line, reason) for line, column, _, reason in found if column == "Serial"]
    assert [line for line, _ in serials] == [3, 5] and all("(3, 5)" in reason for _, reason in serials)
    assert run.preview["devices"]["created"] == 0 and run.preview["devices"]["rejected"] == 4


@pytest.mark.parametrize(
    "by,cells,matched",
    [
        ("email", {"email": "ANA.RUIZ@x.org"}, True),
        ("username", {"username": "ana.ruiz"}, True),
        ("student_number", {"employee": "0041873"}, True),
        ("student_number", {"employee": "41873"}, False),  # leading zeros matter
        ("username", {"username": "0041873"}, False),  # digits are a username here, never an id
    ],
)
def test_match_people_by(tmp_path, world, by, cells, matched):
    world.person_a.email = "ana.ruiz@x.org"
    world.person_a.save()
    path = assets_file(tmp_path / "a.csv", asset("T-1", "S1", ctype="User", **cells))
    run = run_file(path, "snipeit", options={"match_people_by": by})
    assert Assignment.objects.filter(person=world.person_a).exists() == matched
    if matched:
        assert run.status == Status.DONE, issues(run)
        return
    # by default the device is not created without its custody: a row error
    ((_, _, _, reason),) = errors(run)
    assert "matches no person you may see" in reason and "not imported without its custody" in reason
    assert run.status == Status.PREVIEWED and not Device.objects.filter(asset_tag="T-1").exists()
    # or, when chosen, imported without custody, with a warning
    run = run_file(path, "snipeit", options={"match_people_by": by, "without_custody": "yes"})
    assert run.status == Status.DONE and run.counts["checkouts"]["skipped"] == 1
    assert any("matches no person" in reason for *_, reason in issues(run))
    assert Device.objects.filter(asset_tag="T-1").exists() and not Assignment.objects.exists()


def test_all_digit_value_is_never_an_internal_id(tmp_path, world):
    decoy = PersonFactory(home_site=world.site_a, student_number=str(world.person_b.pk), email="decoy@x.org")
    path = assets_file(tmp_path / "a.csv", asset("T-1", "S1", ctype="User", employee=str(world.person_b.pk)))
    run = run_file(path, "snipeit", options={"match_people_by": "student_number"})
    assert Assignment.objects.get().person == decoy  # the student number, not person #pk
    Assignment.objects.all().update(checked_in_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC))
    path = assets_file(tmp_path / "b.csv", asset("T-2", "S2", ctype="User", email=str(world.person_a.pk)))
    run = run_file(path, "snipeit", options={"without_custody": True})
    assert run.counts["checkouts"]["skipped"] == 1 and not Assignment.objects.filter(device__asset_tag="T-2").exists()


def test_bad_match_option_is_a_file_error(tmp_path, world):
    run = run_file(assets_file(tmp_path / "a.csv", asset("T-1")), "snipeit", options={"match_people_by": "id"})
    assert run.status == Status.REJECTED and "match_people_by" in issues(run)[0][3]


def test_checked_out_to_someone_else_is_a_warning(tmp_path, world):
    from custody.services import device_check_out

    device_check_out(device=world.device_a, person=world.person_b, actor=None)
    world.person_a.email = "ana@x.org"
    world.person_a.save()
    path = assets_file(tmp_path / "a.csv", asset("CB-000001", "SNA1", ctype="User", email="ana@x.org", warranty=""))
    run = run_file(path, "snipeit")
    assert run.status == Status.DONE
    assert run.counts["checkouts"]["skipped"] == 1
    assert any("checked out to Ben Okafor" in reason for *_, reason in issues(run))
    assert Assignment.objects.get(checked_in_at__isnull=True).person == world.person_b


def test_site_staff_rows_for_other_sites_are_rejected(tmp_path, world):
    # the model exists (site staff do not add models: test_device_rules_in_imports)
    DeviceModelFactory(manufacturer=world.device_a.model.manufacturer, name="Chromebook 311", model_number="C733")
    path = assets_file(
        tmp_path / "a.csv",
        asset("T-1", "S1", location="A"),
        asset("T-2", "S2", location="B"),
        asset("CB-000002", "SNB1", location="A", warranty=""),
    )
    run = run_file(path, "snipeit", actor=world.site_tech, scope_site=world.site_a, mode="valid_rows")
    found = errors(run)
    assert [(line, column) for line, column, _, _ in found] == [(3, "Location"), (4, "Serial")]
    assert "limited to Alder Elementary" in found[0][3] and "belongs to a device at another site" in found[1][3]
    assert Device.objects.filter(asset_tag="T-1").exists() and not Device.objects.filter(asset_tag="T-2").exists()


USERS = "First Name,Last Name,Email,Username,Activated,Location,Employee Number,Job Title"


def test_user_export_makes_staff_people(tmp_path, world):
    path = write(
        tmp_path / "users.csv",
        "Reagen,Tenant,rtenant0@x.org,rtenant0,true,Alder Elementary,0007,Nurse",
        'Kiel,Eland,keland2@x.org,keland2,false,"B",,Web Developer',
        "Nope,Person,np@x.org,np,true,Mars Base,,",
        header=USERS,
    )
    run = run_file(path, "snipeit", mode="valid_rows")
    assert run.status == Status.DONE, issues(run)
    assert run.counts["people"]["created"] == 2 and run.counts["people"]["rejected"] == 1
    reagen = Person.objects.get(email="rtenant0@x.org")
    assert reagen.role == "staff" and reagen.home_site == world.site_a and reagen.student_number == "0007"
    assert Person.objects.get(email="keland2@x.org").home_site == world.site_b
    (line, column, value, reason), = errors(run)  # fmt: skip
    assert (line, column, value) == (4, "Location", "Mars Base")
    again = run_file(path, "snipeit", mode="valid_rows")
    assert again.counts["people"]["unchanged"] == 2 and again.counts["people"]["created"] == 0
    # a user with neither email nor employee number is matched by name at the same site next time
    lone = write(tmp_path / "lone.csv", "Lone,Ranger,,lranger,true,A,,", header=USERS)
    assert run_file(lone, "snipeit").counts["people"]["created"] == 1
    assert run_file(lone, "snipeit").counts["people"]["unchanged"] == 1
    # a change of site is an update
    moved = write(tmp_path / "moved.csv", "Reagen,Tenant,RTENANT0@x.org,rtenant0,true,B,0007,Nurse", header=USERS)
    run = run_file(moved, "snipeit")
    assert run.counts["people"]["updated"] == 1 and Person.objects.get(pk=reagen.pk).home_site == world.site_b


def test_user_export_is_for_district_admins(tmp_path, world):
    path = write(tmp_path / "users.csv", "A,B,a@x.org,ab,true,A,,", header=USERS)
    run = run_file(path, "snipeit", actor=world.site_tech, scope_site=world.site_a)
    assert run.status == Status.REJECTED and "only district admins" in issues(run)[0][3]
    assert not Person.objects.filter(email="a@x.org").exists()


def test_unknown_export_is_a_file_error(tmp_path, world):
    run = run_file(write(tmp_path / "x.csv", "1,2", header="Foo,Bar"), "snipeit")
    assert run.status == Status.REJECTED and "neither a Snipe-IT asset export" in issues(run)[0][3]


# --------------------------------------------------------------------------- the real sample files

SAMPLE = settings.BASE_DIR.parent / "shared" / "data" / "real" / "snipe-it"
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason="shared/data/real/snipe-it is absent")


def _sample_sites(name: str, column: str = "Location") -> set[str]:
    with open(SAMPLE / name, encoding="utf-8-sig", newline="") as handle:
        return {row[column] for row in csv.DictReader(handle) if row[column]}


def _make_sites_and_people():
    for index, name in enumerate(sorted(_sample_sites("assets-sample.csv"))):
        SiteFactory(code=f"SN{index:02d}", name=name)
    with open(SAMPLE / "assets-sample.csv", encoding="utf-8-sig", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Checkout Type"] == "User"]
    site = SiteFactory(code="STAFF", name="Staff")
    for row in rows[:-1]:  # the last user is not in DeviceLedger: a warning
        PersonFactory(home_site=site, role="staff", email=row["Checked Out To: Email"].upper())
    return len(rows)


@needs_sample
def test_snipeit_sample_assets_preview_and_import(tmp_path, world):
    users = _make_sites_and_people()
    # the one user not in DeviceLedger: by default a row error (no device without its custody)
    run = run_file(SAMPLE / "assets-sample.csv", "snipeit")
    assert run.status == Status.PREVIEWED and run.error_count == 1
    assert not Device.objects.filter(asset_tag="ICC-2065556").exists()
    ((_, column, _, reason),) = errors(run)
    assert column == "Checked Out To: Email" and "not imported without its custody" in reason
    options = {"without_custody": True}
    run = run_file(SAMPLE / "assets-sample.csv", "snipeit", commit=False, options=options)
    assert run.status == Status.PREVIEWED, (run.error, issues(run))
    assert run.error_count == 0, issues(run)
    assert run.preview["devices"]["created"] == 22
    assert run.preview["checkouts"]["created"] == users - 1 and run.preview["checkouts"]["skipped"] == 1
    assert run.preview["models"]["created"] >= 2
    notes = " ".join(run.notes)
    assert "asset export" in notes and "checked out to a location" in notes and "Asset EOL Date" in notes
    run = run_file(SAMPLE / "assets-sample.csv", "snipeit", options=options)
    assert run.status == Status.DONE
    device = Device.objects.get(asset_tag="ICC-2065556")
    assert device.purchase_date == datetime.date(2023, 1, 23) and device.purchase_cost == Decimal("2266.13")
    assert device.purchase_order == "3271901481" and device.model.name == 'Macbook Pro 13"'
    assert device.model.model_number == "1786VM80X07" and device.current_site.name == "Wilkinson, Waters and Kerluke"
    assert Device.objects.filter(asset_tag="OLM-0226994", purchase_order="7504201033").exists()
    assert Assignment.objects.filter(checked_in_at__isnull=True).count() == users - 1
    again = run_file(SAMPLE / "assets-sample.csv", "snipeit", options=options)
    assert again.counts["devices"]["unchanged"] == 22 and again.counts["checkouts"]["unchanged"] == users - 1


@needs_sample
def test_snipeit_sample_assets_without_sites_reports_every_location(tmp_path, world):
    run = run_file(SAMPLE / "assets-sample.csv", "snipeit", commit=False)
    assert run.status == Status.PREVIEWED and run.preview["devices"]["rejected"] == 22
    locations = {value for _, column, value, _ in errors(run) if column == "Location"}
    assert locations == _sample_sites("assets-sample.csv")


@needs_sample
def test_snipeit_sample_through_the_web_page_and_the_cli(tmp_path, client_for, world):
    users = _make_sites_and_people()
    client = client_for(world.district_admin)
    response = client.post(
        reverse("imports:run_new"),
        {"kind": "snipeit", "mode": "all_or_nothing", "date_order": "MDY", "match_people_by": "email",
         "without_custody": "on", "file": SimpleUploadedFile("assets-sample.csv", (SAMPLE / "assets-sample.csv").read_bytes())},
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "What would change" in page and "Check-outs" in page and "Commit" in page
    assert "matches no person" in page  # the one user not in DeviceLedger
    out = io.StringIO()
    call_command("import", "snipeit", str(SAMPLE / "assets-sample.csv"), "--dry-run", "--no-progress",
                 "--option", "without_custody=yes", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "Preview" in text and "Devices" in text and "Dry run: nothing changed." in text
    assert not Device.objects.filter(asset_tag="ICC-2065556").exists()
    # a rejected row makes the dry run exit 1
    Site.objects.filter(name="Lynch and Sons").update(name="Lynch & Sons")
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import", "snipeit", str(SAMPLE / "assets-sample.csv"), "--dry-run", "--no-progress",
                 "--option", "without_custody=yes", stdout=out)  # fmt: skip
    assert caught.value.returncode == 1 and "'Lynch and Sons': is neither the code nor the name" in out.getvalue()
    assert users


@needs_sample
def test_snipeit_sample_users(tmp_path, world):
    names = sorted(_sample_sites("users-sample.csv"))
    for index, name in enumerate(names[:-1]):  # the last location is not a site here: one row error
        SiteFactory(code=f"U{index:03d}", name=name)
    run = run_file(SAMPLE / "users-sample.csv", "snipeit", actor=world.district_admin, commit=False)
    assert run.status == Status.PREVIEWED, (run.error, issues(run))
    # five users have neither a last name nor an email: rejected, as is the unknown location
    assert run.preview["people"]["created"] == 94 and run.preview["people"]["rejected"] == 6
    found = errors(run)
    assert [value for _, column, value, _ in found if column == "Location"] == [names[-1]]
    assert sum(1 for _, column, _, reason in found if column == "Last Name" and "needs a family name" in reason) == 5
    run = run_file(SAMPLE / "users-sample.csv", "snipeit", actor=world.district_admin, mode="valid_rows")
    assert Person.objects.filter(role="staff").count() == 94
    reagen = Person.objects.get(email="rtenant0@istockphoto.com")
    assert (reagen.given_name, reagen.family_name, reagen.home_site.name) == (
        "Reagen",
        "Tenant",
        "Braun, Ullrich and O'Hara",
    )
    again = run_file(SAMPLE / "users-sample.csv", "snipeit", actor=world.district_admin, mode="valid_rows")
    assert again.counts["people"]["unchanged"] == 94 and again.counts["people"]["created"] == 0
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import", "snipeit", str(SAMPLE / "users-sample.csv"), "--dry-run", "--no-progress", stdout=out)
    assert caught.value.returncode == 1 and "Preview" in out.getvalue() and names[-1] in out.getvalue()


def test_a_snipeit_tag_for_a_device_says_so_and_never_re_tags_a_checked_out_one(tmp_path, world):
    from custody.services import device_check_out

    path = assets_file(tmp_path / "a.csv", asset("SNIPE-9", "sna1", location="a", warranty=""))
    preview = run_file(path, "snipeit", commit=False)
    assert ("the asset tag changes from CB-000001 to SNIPE-9 (matched by serial sna1)") in [
        r for *_, r in issues(preview)
    ]
    device_check_out(device=world.device_a, person=world.person_a, actor=None)
    run = run_file(path, "snipeit", mode="valid_rows")
    ((_, column, value, reason),) = errors(run)
    assert (column, value) == ("Asset Tag", "SNIPE-9") and "which is checked out" in reason
    world.device_a.refresh_from_db()
    assert world.device_a.asset_tag == "CB-000001"


# --------------------------------------------------------------------------- locations → sites


def test_a_mapped_location_places_assets_and_users_and_is_remembered(tmp_path, world):
    from imports.services import location_mapping_save

    path = assets_file(tmp_path / "a.csv", asset("T-1", "S1", location="Building 4 (Alder)", warranty=""))
    run = run_file(path, "snipeit")
    ((_, column, value, reason),) = errors(run)
    assert (column, value) == ("Location", "Building 4 (Alder)") and "mapped to a site" in reason
    location_mapping_save(actor=world.district_admin, name="building 4  (ALDER)", site=world.site_a)
    run = run_file(path, "snipeit")
    assert run.status == Status.DONE, issues(run)
    assert Device.objects.get(asset_tag="T-1").current_site == world.site_a
    users = write(tmp_path / "u.csv", "Ana,Ruiz,ana@x.org,aruiz,1,Building 4 (Alder),E1,Teacher", header=USERS)
    run = run_file(users, "snipeit", actor=world.district_admin)
    assert Person.objects.get(email="ana@x.org").home_site == world.site_a


def test_one_site_puts_every_asset_at_the_chosen_site_for_a_site_technician(tmp_path, world):
    DeviceModelFactory(manufacturer=world.device_a.model.manufacturer, name="Chromebook 311", model_number="C733")
    path = assets_file(tmp_path / "a.csv", asset("T-1", "S1", location="Anything", warranty=""),
                       asset("T-2", "S2", location="", warranty=""))  # fmt: skip
    run = run_file(path, "snipeit", actor=world.district_tech, options={"one_site": True})
    assert run.status == Status.REJECTED and "no site was chosen" in issues(run)[0][3]
    run = run_file(path, "snipeit", actor=world.site_tech, scope_site=world.site_a, options={"one_site": True})
    assert run.status == Status.DONE, issues(run)
    assert set(Device.objects.filter(asset_tag__in=["T-1", "T-2"]).values_list("current_site", flat=True)) == {
        world.site_a.pk
    }
    assert any("Every asset goes to Alder Elementary" in note for note in run.notes)


def test_the_locations_page_maps_names_and_offers_the_unplaced_ones(tmp_path, client_for, world):
    path = assets_file(tmp_path / "a.csv", asset("T-1", "S1", location="North Annex", warranty=""))
    run_file(path, "snipeit", actor=world.district_admin)
    client = client_for(world.district_admin)
    page = client.get(reverse("imports:locations")).content.decode()
    assert "Locations your imports could not place" in page and "North Annex" in page
    response = client.post(reverse("imports:locations"), {"name": "North Annex", "site": world.site_b.pk})
    assert response.status_code == 302
    from imports.models import LocationMapping

    mapping = LocationMapping.objects.get()
    assert (mapping.name, mapping.site) == ("North Annex", world.site_b)
    page = client.get(reverse("imports:locations")).content.decode()
    assert "could not place" not in page
    from core.models import ChangeLog

    assert ChangeLog.objects.filter(object_type="imports.locationmapping", action="created").exists()
    assert client.post(reverse("imports:location_delete", args=[mapping.pk])).status_code == 302
    assert not LocationMapping.objects.exists()
    assert client_for(world.site_tech).get(reverse("imports:locations")).status_code == 403


@needs_sample
def test_snipeit_sample_assets_unedited_with_locations_mapped_to_our_sites(tmp_path, world):
    from imports.services import location_mapping_save

    locations = sorted(_sample_sites("assets-sample.csv"))
    for index, name in enumerate(locations):  # the district's two schools take every Snipe-IT location
        location_mapping_save(actor=world.district_admin, name=name, site=(world.site_a, world.site_b)[index % 2])
    run = run_file(SAMPLE / "assets-sample.csv", "snipeit", actor=world.district_admin,
                   options={"without_custody": True})  # fmt: skip
    assert run.status == Status.DONE, issues(run)
    assert run.counts["devices"]["created"] == 22 and not errors(run)
    assert Device.objects.filter(current_site__in=[world.site_a, world.site_b]).count() == 22 + 2
    # one model per maker and name, however many model numbers the file gives it
    assert DeviceModel.objects.filter(name='Macbook Pro 13"').count() == len(
        set(DeviceModel.objects.filter(name='Macbook Pro 13"').values_list("manufacturer", flat=True))
    )
