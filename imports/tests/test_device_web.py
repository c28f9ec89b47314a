"""The device importers on the web: the form's options, the column-mapping step of a CSV
upload (remembered per source), and no 500 for any upload or post."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ColumnMapping, ImportRun, OrgUnitMapping
from imports.tests.device_files import GAM_HEADER, gam_row
from inventory.models import Device, DeviceModel, Manufacturer

pytestmark = pytest.mark.django_db

Status = ImportRun.Status

SHEET = b"Property No,Mfr Serial,Mfr,Device,Campus\nP-1,SN1,Acer,Chromebook 311,A\nP-2,SN2,Acer,Chromebook 311,B\n"


def upload(client, name: str, content: bytes, kind: str, **data):
    form = {"kind": kind, "mode": "all_or_nothing", "date_order": "MDY", **data}
    return client.post(reverse("imports:run_new"), {**form, "file": SimpleUploadedFile(name, content)})


def test_column_mapping_step_remembered_per_source(client_for, world):
    client = client_for(world.district_admin)
    response = upload(client, "lincoln.csv", SHEET, "csv", entity="devices", source_name="Lincoln sheet")
    run = ImportRun.objects.get()
    assert run.status == Status.REJECTED and run.options["source"] == "Lincoln sheet"
    page = client.get(response.url).content.decode()
    assert "Map the columns" in page and "no asset tag or serial number column" in page
    columns_url = reverse("imports:run_columns", args=[run.pk])
    page = client.get(columns_url).content.decode()
    assert "Property No" in page and "Asset tag" in page and "Remember this mapping" in page
    response = client.post(
        columns_url,
        {"entity": "devices", "source_name": "Lincoln sheet", "remember": "on", "field_asset_tag": "Property No",
         "field_serial_number": "Mfr Serial", "field_manufacturer": "Mfr", "field_model_name": "Device",
         "field_current_site": "Campus"},
    )  # fmt: skip
    assert response.status_code == 302 and response.url == reverse("imports:run_detail", args=[run.pk])
    run.refresh_from_db()
    assert run.status == Status.PREVIEWED and run.preview["devices"]["created"] == 2, run.error
    assert run.options["mapping"]["asset_tag"] == "Property No"
    assert ColumnMapping.objects.get(kind="devices", source_name="Lincoln sheet").mapping["current_site"] == "Campus"
    client.post(reverse("imports:run_commit", args=[run.pk]), {"mode": "all_or_nothing"})
    assert Device.objects.get(asset_tag="P-2").current_site == world.site_b
    # the next file from that source needs no mapping
    upload(client, "lincoln-2.csv", SHEET, "csv", source_name="Lincoln sheet")
    again = ImportRun.objects.order_by("-pk").first()
    assert again.status == Status.PREVIEWED and again.preview["devices"]["unchanged"] == 2
    # and the mapping page is pre-filled from it
    page = client.get(reverse("imports:run_columns", args=[again.pk])).content.decode()
    assert '<option value="Campus" selected>' in page


def test_a_remembered_not_in_this_file_stays_left_out_and_chosen(client_for, world):
    """A field mapped to "not in this file" and remembered is not guessed from the headers
    next time (here "Room", an alias of the location, holds something else)."""
    import re

    sheet = b"Property No,Mfr Serial,Mfr,Device,Campus,Room\nP-1,SN1,Acer,Chromebook 311,A,Cart 9\n"
    client = client_for(world.district_admin)
    upload(client, "lincoln.csv", sheet, "csv", entity="devices", source_name="Lincoln sheet")
    run = ImportRun.objects.get()
    response = client.post(
        reverse("imports:run_columns", args=[run.pk]),
        {"entity": "devices", "source_name": "Lincoln sheet", "remember": "on", "field_asset_tag": "Property No",
         "field_serial_number": "Mfr Serial", "field_manufacturer": "Mfr", "field_model_name": "Device",
         "field_current_site": "Campus", "field_location": ""},
    )  # fmt: skip
    assert response.status_code == 302
    remembered = ColumnMapping.objects.get(kind="devices", source_name="Lincoln sheet").mapping
    assert remembered["location"] == "" and remembered["asset_tag"] == "Property No"
    # the next file from that source leaves the location out, and the page shows it so
    upload(client, "lincoln-2.csv", sheet, "csv", source_name="Lincoln sheet")
    again = ImportRun.objects.order_by("-pk").first()
    assert again.pk != run.pk and again.status == Status.PREVIEWED, again.error
    assert any("ignored column(s) Room" in note for note in again.notes), again.notes
    page = client.get(reverse("imports:run_columns", args=[again.pk])).content.decode()
    location = re.search(r'<select name="field_location".*?</select>', page, re.S).group(0)
    assert '<option value="" selected>' in location and '<option value="Room" selected>' not in location
    campus = re.search(r'<select name="field_current_site".*?</select>', page, re.S).group(0)
    assert '<option value="Campus" selected>' in campus


def test_site_staff_map_their_own_import_but_do_not_remember_for_everyone(client_for, world):
    # the model exists (site staff do not add models: test_device_rules_in_imports)
    DeviceModel.objects.create(manufacturer=Manufacturer.objects.get_or_create(name="Acer")[0],
                               name="Chromebook 311", category="chromebook")  # fmt: skip
    client = client_for(world.site_tech)
    upload(client, "mine.csv", SHEET.replace(b",B\n", b",A\n"), "csv", site=str(world.site_a.pk))
    run = ImportRun.objects.get()
    columns_url = reverse("imports:run_columns", args=[run.pk])
    page = client.get(columns_url).content.decode()
    assert "Remember this mapping" not in page
    response = client.post(
        columns_url,
        {"entity": "devices", "remember": "on", "field_asset_tag": "Property No", "field_serial_number": "Mfr Serial",
         "field_manufacturer": "Mfr", "field_model_name": "Device", "field_current_site": "Campus"},
    )  # fmt: skip
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == Status.PREVIEWED and run.preview["devices"]["created"] == 2
    assert not ColumnMapping.objects.exists()


def test_column_page_never_500s(client_for, world):
    client = client_for(world.district_admin)
    upload(client, "x.csv", SHEET, "csv")
    run = ImportRun.objects.get()
    url = reverse("imports:run_columns", args=[run.pk])
    for data in ({}, {"entity": "nonsense"}, {"entity": "people", "field_given_name": "Not a header"},
                 {"entity": "devices", "source_name": "x" * 500}):  # fmt: skip
        assert client.post(url, data).status_code in (200, 302)
    assert client.get(url + "?entity=people").status_code == 200
    assert client.get(url + "?entity=%00").status_code == 200
    google = ImportRun.objects.create(kind="google", file_name="g.csv", status=Status.PREVIEWED)
    assert client.get(reverse("imports:run_columns", args=[google.pk])).status_code == 404
    done = ImportRun.objects.create(kind="csv", file_name="d.csv", status=Status.DONE, counts={"devices": {}})
    page = client.get(reverse("imports:run_columns", args=[done.pk])).content.decode()
    assert "cannot be read" in page or "can no longer be mapped" in page
    response = client.post(reverse("imports:run_columns", args=[done.pk]), {"entity": "devices"})
    assert response.status_code == 302


def test_google_form_options(client_for, world):
    OrgUnitMapping.objects.create(path_prefix="/Students/A", site=world.site_a)
    client = client_for(world.district_admin)
    content = (GAM_HEADER + "\n" + gam_row("PF1", "T1") + "\n").encode()
    upload(client, "cros.csv", content, "google", create_checkouts="on")
    run = ImportRun.objects.get()
    assert run.options["create_checkouts"] is True and "match_people_by" not in run.options
    assert run.status == Status.PREVIEWED and run.preview["devices"]["created"] == 1
    page = client.get(reverse("imports:run_detail", args=[run.pk])).content.decode()
    assert "Last seen in Google Admin" in page and "Map the columns" not in page


@pytest.mark.parametrize("kind", ["google", "snipeit", "csv"])
@pytest.mark.parametrize(
    "name,content",
    [
        ("empty.csv", b""),
        ("junk.csv", bytes(range(256)) * 64),
        ("book.xlsx", b"PK\x03\x04not really"),
        ("one.csv", b"Asset Tag\n"),
        ("dup.csv", b"Serial Number,serialNumber\n1,2\n"),
        ("quotes.csv", b'Asset Tag,Serial\n"A,1\n'),
        ("wide.csv", b"Asset Tag,Location,Serial Number,orgUnitPath\n" + b"x," * 5000 + b"\n"),
    ],
)
def test_no_upload_gives_a_500(client_for, world, kind, name, content):
    client = client_for(world.district_admin)
    response = upload(client, name, content, kind)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert client.get(response.url).status_code == 200
        run = ImportRun.objects.get()
        assert run.status in (Status.REJECTED, Status.PREVIEWED), run.error
        assert client.get(reverse("imports:run_columns", args=[run.pk])).status_code in (200, 404)


# --------------------------------------------------------------------------- the run page's words (QA F3)

OUR_SHEET = "Asset Tag,Serial Number,Manufacturer,Model Name,Current Site Code\n"


def test_every_row_rejected_says_so_and_offers_no_valid_rows(client_for, world):
    """QA F3a: a file whose every row has an error said "Nothing to change: this file matches
    what DeviceLedger already has." and offered "Apply the valid rows"."""
    content = (OUR_SHEET + "T-1,SN1,Acer,Chromebook 311,NOPE\nT-2,SN2,Acer,Chromebook 311,NOPE\n").encode()
    client = client_for(world.district_admin)
    response = upload(client, "bad.csv", content, "csv")
    run = ImportRun.objects.get()
    assert run.status == Status.PREVIEWED and run.error_count == 2
    page = client.get(response.url).content.decode()
    assert "Every row has an error (listed below): nothing can be imported" in page
    assert "Nothing to change" not in page and "Apply the valid rows" not in page
    assert "There is nothing to apply: every row has an error." in page and ">Cancel</button>" in page
    # a forged post is refused on the run page
    response = client.post(reverse("imports:run_commit", args=[run.pk]), {"mode": "valid_rows"})
    assert "Not committed: Every row has an error (2): there is nothing to apply." in response.content.decode()
    run.refresh_from_db()
    assert run.status == Status.PREVIEWED and not Device.objects.filter(asset_tag__in=["T-1", "T-2"]).exists()
    # some valid rows: still offered
    good = (OUR_SHEET + "T-3,SN3,Acer,Chromebook 311,A\nT-4,SN4,Acer,Chromebook 311,NOPE\n").encode()
    page = client.get(upload(client, "half.csv", good, "csv").url).content.decode()
    assert "Apply the valid rows" in page and "Every row has an error" not in page


def test_a_commit_rejected_for_data_changed_since_the_preview_shows_why(client_for, world):
    """QA F3b: "Rejected — Waiting to start", "What would change: 3 created" and "The file's
    columns could not all be matched … Map the columns" for a run whose commit found a tag
    taken since the preview."""
    from core.testing import DeviceFactory

    rows = "".join(f"NEW-{n},NSN{n},Acer,Chromebook 311,A\n" for n in range(1, 4))
    client = client_for(world.district_admin)
    response = upload(client, "three.csv", (OUR_SHEET + rows).encode(), "csv")
    run = ImportRun.objects.get()
    assert run.status == Status.PREVIEWED and run.preview["devices"]["created"] == 3
    DeviceFactory(asset_tag="NEW-2", serial_number="OTHER", owner_site=world.site_a, model=world.device_a.model)
    client.post(reverse("imports:run_commit", args=[run.pk]), {"mode": "all_or_nothing"})
    run.refresh_from_db()
    assert run.status == Status.REJECTED and run.phase == "Commit stopped"
    page = client.get(response.url).content.decode()
    assert "Waiting to start" not in page and "Commit stopped" in page
    assert "What would change" not in page and "What the preview found (nothing was imported)" in page
    assert "Map the columns" not in page and "could not all be matched" not in page
    assert "the commit found 1 row error(s) that the preview did not have" in page
    assert "NEW-2" in page  # the issue, with its value
    assert not Device.objects.filter(asset_tag__in=["NEW-1", "NEW-3"]).exists()


def test_map_the_columns_only_when_the_columns_did_not_match(client_for, world):
    """QA F3b: a site technician's people file showed "Map the columns" too."""
    people = b"sourcedId,Given Name,Family Name,Student Number,Site Code\np1,Ann,Lee,123,A\n"
    client = client_for(world.site_tech)
    response = upload(client, "people.csv", people, "csv", site=str(world.site_a.pk))
    run = ImportRun.objects.get()
    assert run.status == Status.REJECTED
    page = client.get(response.url).content.decode()
    assert "only district admins may import people" in page
    assert "Map the columns" not in page and "could not all be matched" not in page
    unreadable = client.get(upload(client, "junk.csv", bytes(range(256)) * 64, "csv", site=str(world.site_a.pk)).url)
    assert "Map the columns" not in unreadable.content.decode()
    lincoln = upload(client, "lincoln.csv", SHEET, "csv", site=str(world.site_a.pk), entity="devices")
    page = client.get(lincoln.url).content.decode()
    assert "no asset tag or serial number column" in page
    assert "The file's columns could not all be matched to DeviceLedger's fields" in page and "Map the columns" in page


def test_options_show_what_the_importer_uses_in_words(client_for, world):
    """QA F3d: a Google run listed deactivate_missing=True; a mapping showed as a Python dict."""
    OrgUnitMapping.objects.create(path_prefix="/Students/A", site=world.site_a)
    client = client_for(world.district_admin)
    content = (GAM_HEADER + "\n" + gam_row("PF1", "T1") + "\n").encode()
    upload(client, "cros.csv", content, "google", deactivate_missing="on", decimal_comma="on")
    google = ImportRun.objects.get()
    assert set(google.options) == {"create_checkouts", "date_order"}  # the form sends only what Google reads
    old = ImportRun.objects.create(  # stored before: with an option Google does not read
        kind="google",
        file_name="old.csv",
        status=Status.DONE,
        options={"deactivate_missing": True, "date_order": "DMY"},
    )
    response = upload(client, "lincoln.csv", SHEET, "csv", entity="devices")
    sheet = ImportRun.objects.get(file_name="lincoln.csv")
    client.post(
        reverse("imports:run_columns", args=[sheet.pk]),
        {"entity": "devices", "field_asset_tag": "Property No", "field_serial_number": "Mfr Serial",
         "field_manufacturer": "Mfr", "field_model_name": "Device", "field_current_site": "Campus",
         "field_location": ""},
    )  # fmt: skip
    history = client.get(reverse("imports:run_list")).content.decode()
    for text in (history, client.get(reverse("imports:run_detail", args=[old.pk])).content.decode()):
        assert "Deactivate people" not in text and "deactivate_missing" not in text
        assert "Dates: day first (23/01/2024)" in text
    page = client.get(response.url).content.decode()
    assert "Property No → Asset tag" in page and "Location at the site: not in the file" in page
    assert "{&#x27;" not in page and "{'" not in page and "mapping=" not in page
    assert "Rows are: devices" in page and "Decimal comma: no" in page
    page = client.get(reverse("imports:run_detail", args=[google.pk])).content.decode()
    assert "Check devices out to their annotated user: no" in page and "Decimal comma" not in page


def test_column_page_shows_the_first_values_of_each_column(client_for, world):
    """Each column of the file is shown with its first non-empty values (read as the importer
    reads the file, long ones cut), in the table and in the choices."""
    sheet = (SHEET.replace(b"Campus\n", b"Campus,Note\n").replace(b",A\n", b",A,\n").replace(b",B\n", b",B,\n")
             + b"P-3,SN3,Acer,Chromebook 311,A,\nP-4,,Acer,Chromebook 311,B," + b"x" * 80 + b"\n")  # fmt: skip
    client = client_for(world.district_admin)
    upload(client, "x.csv", sheet, "csv", entity="devices")
    run = ImportRun.objects.get()
    page = client.get(reverse("imports:run_columns", args=[run.pk])).content.decode()
    assert '<code class="sample">P-1</code> · <code class="sample">P-2</code> · <code class="sample">P-3</code>' in page
    assert "P-4" not in page  # three values per column
    assert '<option value="Mfr Serial">Mfr Serial (e.g. SN1, SN2, SN3)</option>' in page
    assert "x" * 80 not in page and "x" * 31 + "…" in page


def test_column_page_help_follows_what_the_user_may_do(client_for, world):
    DeviceModel.objects.create(manufacturer=Manufacturer.objects.get_or_create(name="Acer")[0],
                               name="Chromebook 311", category="chromebook")  # fmt: skip
    client = client_for(world.site_tech)
    upload(client, "mine.csv", SHEET.replace(b",B\n", b",A\n"), "csv", site=str(world.site_a.pk))
    run = ImportRun.objects.get()
    page = client.get(reverse("imports:run_columns", args=[run.pk])).content.decode()
    assert "remembered under this name when you tick" not in page and "Tick the box" not in page
    assert "applies to this import only" in page and "Only district-wide staff can remember" in page
    admin = client_for(world.district_admin)
    page = admin.get(reverse("imports:run_columns", args=[run.pk])).content.decode()
    assert "Tick the box below to remember" in page and "Only district-wide staff" not in page
