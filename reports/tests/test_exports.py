"""Exports: scope, filters, identifiers as text, formula neutralisation, streaming, access.

The data is built here through the services (two sites, a site technician at site A,
a district technician), so these tests do not depend on shared fixtures.
"""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.services import staff_user_create
from custody.services import device_check_in, device_check_out
from inventory.models import Device, DeviceModel, Manufacturer
from inventory.services import device_create
from people.models import Person
from reports.exports import (
    ASSIGNMENT_HEADERS,
    DEVICE_HEADERS,
    EVENT_HEADERS,
    PERSON_HEADERS,
    assignment_export_rows,
    device_export_rows,
    event_export_rows,
    person_export_rows,
)
from sites.models import District, Location, Site

pytestmark = [pytest.mark.django_db, pytest.mark.urls("reports.tests.export_test_urls")]

PASSWORD = "export-tests-Pa55word!"


@dataclass
class Data:
    """Two sites; devices and people at each; users by role."""

    site_a: Site
    site_b: Site
    site_tech: Any
    district_tech: Any
    no_role: Any
    student_a: Person
    student_b: Person
    lent: Device


def _device(tag: str, site: Site, model: DeviceModel, **details: Any) -> Device:
    return device_create(actor=None, asset_tag=tag, model=model, owner_site=site, **details)


@pytest.fixture
def data(db: Any) -> Data:
    site_a = Site.objects.create(code="LIN-MS", name="Lincoln Middle")
    site_b = Site.objects.create(code="WAS-HS", name="Washington High")
    cart = Location.objects.create(site=site_a, name="Cart 3")
    acer = Manufacturer.objects.create(name="Acer")
    model = DeviceModel.objects.create(
        manufacturer=acer,
        name="Chromebook 311",
        model_number="C733",
        category=DeviceModel.Category.CHROMEBOOK,
        replacement_cost=Decimal("289.00"),
    )
    lent = _device(
        "0041873",
        site_a,
        model,
        serial_number="NXATHAA00112233",
        purchase_date=datetime.date(2023, 8, 1),
        purchase_cost=Decimal("289"),
        funding_source=Device.FundingSource.ESSER,
        notes='=HYPERLINK("http://evil.example","click")',
    )
    lent.location = cart
    lent.save(update_fields=["location"])
    _device("0041874", site_a, model, serial_number="00098765", notes="-2+3")
    _device("B-0001", site_b, model, serial_number="ZZ1")
    student_a = Person.objects.create(
        sourced_id="s-0001",
        student_number="0012345",
        given_name="Ana",
        family_name="Ruiz",
        preferred_name="Annie",
        grade="05",
        home_site=site_a,
    )
    student_b = Person.objects.create(
        sourced_id="s-0002", student_number="0099999", given_name="Ben", family_name="Okafor", home_site=site_b
    )
    device_check_out(device=lent, person=student_a, actor=None, due_on=timezone.localdate() + datetime.timedelta(30))
    return Data(
        site_a=site_a,
        site_b=site_b,
        site_tech=staff_user_create(username="tech-a", password=PASSWORD, roles=[("site_technician", site_a)]),
        district_tech=staff_user_create(username="dtech", password=PASSWORD, roles=[("district_technician", None)]),
        no_role=staff_user_create(username="nobody", password=PASSWORD, roles=[]),
        student_a=student_a,
        student_b=student_b,
        lent=Device.objects.get(pk=lent.pk),
    )


def _login(client: Any, user: Any) -> Any:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _district_today() -> str:
    """Today in the district's time zone (file names use it; UTC may already be tomorrow)."""
    return timezone.localdate(timezone=District.get().tzinfo).isoformat()


def _csv(response: Any) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def _xlsx(response: Any) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [tuple(row) for row in workbook.active.iter_rows()]


# --------------------------------------------------------------------------- scope


def test_site_technician_exports_only_their_site(client: Any, data: Data) -> None:
    response = _login(client, data.site_tech).get(reverse("exports:devices_csv"))
    assert response.status_code == 200
    rows = _csv(response)
    assert [r["Asset Tag"] for r in rows] == ["0041873", "0041874"]
    assert {r["Current Site Code"] for r in rows} == {"LIN-MS"}


def test_district_technician_exports_every_site(client: Any, data: Data) -> None:
    rows = _csv(_login(client, data.district_tech).get(reverse("exports:devices_csv")))
    assert [r["Asset Tag"] for r in rows] == ["0041873", "0041874", "B-0001"]


def test_people_export_is_scoped_ferpa(client: Any, data: Data) -> None:
    rows = _csv(_login(client, data.site_tech).get(reverse("exports:people_csv")))
    assert [r["sourcedId"] for r in rows] == ["s-0001"]
    everyone = _csv(_login(client, data.district_tech).get(reverse("exports:people_csv")))
    assert sorted(r["sourcedId"] for r in everyone) == ["s-0001", "s-0002"]


def test_anonymous_is_sent_to_login(client: Any, data: Data) -> None:
    for name in ("devices_csv", "people_xlsx", "assignments_csv", "events_xlsx"):
        response = client.get(reverse(f"exports:{name}"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_user_without_role_gets_403_and_no_data(client: Any, data: Data) -> None:
    _login(client, data.no_role)
    for name in ("devices_csv", "people_csv", "assignments_xlsx", "events_csv"):
        response = client.get(reverse(f"exports:{name}"))
        assert response.status_code == 403
        body = response.content.decode()
        assert "0041873" not in body and "Ruiz" not in body
    headers, rows = device_export_rows(user=data.no_role, filters={})
    assert headers == DEVICE_HEADERS and list(rows) == []


# --------------------------------------------------------------------------- content


def test_device_row_content_and_headers(client: Any, data: Data) -> None:
    rows = _csv(_login(client, data.site_tech).get(reverse("exports:devices_csv")))
    assert list(rows[0]) == DEVICE_HEADERS
    lent = rows[0]
    assert lent["Serial Number"] == "NXATHAA00112233"
    assert lent["Manufacturer"] == "Acer"
    assert lent["Model Name"] == "Chromebook 311"
    assert lent["Model Number"] == "C733"
    assert lent["Category"] == "Chromebook"
    assert lent["Status"] == "Assigned"
    assert lent["Owner Site Code"] == "LIN-MS"
    assert lent["Location"] == "Cart 3"
    assert lent["Purchase Date"] == "2023-08-01"
    assert lent["Purchase Cost"] == "289.00"
    assert lent["Funding Source"] == "ESSER"
    assert lent["Holder"] == "Annie Ruiz"
    assert lent["Holder Student Number"] == "0012345"
    assert lent["Due Date"] == (timezone.localdate() + datetime.timedelta(30)).isoformat()
    assert rows[1]["Holder"] == "" and rows[1]["Due Date"] == "" and rows[1]["Purchase Cost"] == ""


def test_leading_zeros_kept_in_csv(client: Any, data: Data) -> None:
    rows = _csv(_login(client, data.site_tech).get(reverse("exports:devices_csv")))
    assert rows[0]["Asset Tag"] == "0041873"
    assert rows[1]["Serial Number"] == "00098765"


def test_leading_zeros_kept_as_text_cells_in_xlsx(client: Any, data: Data) -> None:
    response = _login(client, data.site_tech).get(reverse("exports:devices_xlsx"))
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = _xlsx(response)
    header = [c.value for c in rows[0]]
    assert header == DEVICE_HEADERS
    tag = rows[1][header.index("Asset Tag")]
    assert tag.value == "0041873" and tag.data_type == "s"
    serial = rows[2][header.index("Serial Number")]
    assert serial.value == "00098765" and serial.data_type == "s"
    number = rows[1][header.index("Holder Student Number")]
    assert number.value == "0012345" and number.data_type == "s"


def test_people_xlsx_identifiers_are_text(client: Any, data: Data) -> None:
    rows = _xlsx(_login(client, data.site_tech).get(reverse("exports:people_xlsx")))
    header = [c.value for c in rows[0]]
    assert header == PERSON_HEADERS
    person = dict(zip(header, rows[1], strict=True))
    assert person["Student Number"].value == "0012345" and person["Student Number"].data_type == "s"
    assert person["Grade"].value == "05"
    assert person["Site Code"].value == "LIN-MS"
    assert person["Role"].value == "Student" and person["Status"].value == "Active"


def test_formulas_are_neutralised(client: Any, data: Data) -> None:
    rows = _csv(_login(client, data.site_tech).get(reverse("exports:devices_csv")))
    assert rows[0]["Notes"] == '\'=HYPERLINK("http://evil.example","click")'
    assert rows[1]["Notes"] == "'-2+3"
    xlsx = _xlsx(_login(client, data.site_tech).get(reverse("exports:devices_xlsx")))
    notes = DEVICE_HEADERS.index("Notes")
    # XLSX: string cells, never evaluated — the text as it is, without the CSV's apostrophe.
    assert xlsx[1][notes].value == '=HYPERLINK("http://evil.example","click")' and xlsx[1][notes].data_type == "s"
    assert xlsx[2][notes].value == "-2+3" and xlsx[2][notes].data_type == "s"


# --------------------------------------------------------------------------- streaming, filters, names


def test_csv_is_streamed_with_dated_file_name(client: Any, data: Data) -> None:
    response = _login(client, data.site_tech).get(reverse("exports:devices_csv"))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    today = _district_today()
    assert response["Content-Disposition"] == f'attachment; filename="devices-{today}.csv"'
    assert "no-store" in response["Cache-Control"]


def test_xlsx_file_name_has_date(client: Any, data: Data) -> None:
    response = _login(client, data.site_tech).get(reverse("exports:people_xlsx"))
    assert f"people-{_district_today()}.xlsx" in response["Content-Disposition"]


def test_status_filter_applies_to_whole_set(client: Any, data: Data) -> None:
    rows = _csv(_login(client, data.district_tech).get(reverse("exports:devices_csv"), {"status": "assigned"}))
    assert [r["Asset Tag"] for r in rows] == ["0041873"]


def test_site_and_query_filters(client: Any, data: Data) -> None:
    _login(client, data.district_tech)
    rows = _csv(client.get(reverse("exports:devices_csv"), {"site": str(data.site_b.pk)}))
    assert [r["Asset Tag"] for r in rows] == ["B-0001"]
    rows = _csv(client.get(reverse("exports:devices_csv"), {"q": "0012345"}))  # the holder's student number
    assert [r["Asset Tag"] for r in rows] == ["0041873"]
    rows = _csv(client.get(reverse("exports:people_csv"), {"role": "student", "q": "okafor"}))
    assert [r["sourcedId"] for r in rows] == ["s-0002"]


def test_overdue_filter_exports_what_the_list_shows(client: Any, data: Data) -> None:
    """QA F1: "Overdue only" on the device list was ignored by its export links (CSV and XLSX)."""
    model = DeviceModel.objects.get()
    late = _device("0041875", data.site_a, model, serial_number="LATE1")
    weeks_ago = timezone.now() - datetime.timedelta(days=40)
    device_check_out(device=late, person=data.student_a, actor=None, at=weeks_ago, due_on=weeks_ago.date())
    _login(client, data.site_tech)
    page = client.get(reverse("device_list"), {"overdue": "1"}).content.decode()
    assert "0041875" in page and "0041873" not in page  # the list: only the overdue device
    links = re.findall(r'href="(/exports/devices\.(?:csv|xlsx)\?[^"]*)"', page)
    assert len(links) == 2 and all("overdue=1" in link for link in links)
    csv_rows = _csv(client.get(html.unescape(links[0])))
    assert [r["Asset Tag"] for r in csv_rows] == ["0041875"]
    xlsx_rows = _xlsx(client.get(html.unescape(links[1])))
    assert [row[0].value for row in xlsx_rows[1:]] == ["0041875"]
    everything = _csv(client.get(reverse("exports:devices_csv")))
    assert len(everything) == 3  # without the filter: every device of the site


def test_live_search_updates_the_export_links(client: Any, data: Data) -> None:
    """The rows a live (htmx) search returns carry export links with the typed filters."""
    _login(client, data.district_tech)
    rows = client.get(reverse("device_list"), {"q": "B-00", "overdue": "", "status": ""}, HTTP_HX_REQUEST="true")
    links = re.findall(r'href="(/exports/devices\.csv\?[^"]*)"', rows.content.decode())
    assert links and "q=B-00" in links[0]
    assert [r["Asset Tag"] for r in _csv(client.get(html.unescape(links[0])))] == ["B-0001"]
    people = client.get(reverse("person_list"), {"q": "okafor"}, HTTP_HX_REQUEST="true").content.decode()
    link = re.findall(r'href="(/exports/people\.csv\?[^"]*)"', people)[0]
    assert [r["sourcedId"] for r in _csv(client.get(html.unescape(link)))] == ["s-0002"]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nonsense"},
        {"site": "abc"},
        {"site": "99999999999999999999999"},
        {"site": "-1"},
        {"model": "1e9"},
        {"q": "\x00\x01'; drop table x"},
        {"q": "x" * 5000},
        {"role": "wizard", "status": "?"},
        {"since": "2024-02-30", "until": "9999-12-31", "kind": "nope", "state": "x"},
        {"since": "0001-01-01", "until": "0001-01-01"},
    ],
)
def test_bad_filters_never_500(client: Any, data: Data, params: dict[str, str]) -> None:
    _login(client, data.district_tech)
    for name in ("devices_csv", "people_csv", "assignments_csv", "events_csv"):
        response = client.get(reverse(f"exports:{name}"), params)
        assert response.status_code == 200, name
        b"".join(response.streaming_content)


def test_site_tech_cannot_widen_scope_with_site_filter(client: Any, data: Data) -> None:
    rows = _csv(_login(client, data.site_tech).get(reverse("exports:devices_csv"), {"site": str(data.site_b.pk)}))
    assert rows == []
    people = _csv(client.get(reverse("exports:people_csv"), {"site": str(data.site_b.pk)}))
    assert people == []


# --------------------------------------------------------------------------- assignments and events


def test_assignments_export(client: Any, data: Data) -> None:
    device_check_in(device=data.lent, actor=None)
    device_check_out(device=data.lent, person=data.student_a, actor=None)
    rows = _csv(_login(client, data.site_tech).get(reverse("exports:assignments_csv")))
    assert list(rows[0]) == ASSIGNMENT_HEADERS
    assert [r["Asset Tag"] for r in rows] == ["0041873", "0041873"]
    assert rows[0]["Checked In At"] != "" and rows[1]["Checked In At"] == ""
    assert rows[0]["Holder Student Number"] == "0012345" and rows[0]["Holder sourcedId"] == "s-0001"
    assert rows[0]["Loaner"] == "FALSE"
    datetime.datetime.fromisoformat(rows[0]["Checked Out At"])  # ISO 8601 with offset
    open_rows = _csv(client.get(reverse("exports:assignments_csv"), {"state": "open"}))
    assert len(open_rows) == 1 and open_rows[0]["Checked In At"] == ""


def test_events_export_scoped(client: Any, data: Data) -> None:
    rows = _csv(_login(client, data.site_tech).get(reverse("exports:events_csv")))
    assert list(rows[0]) == EVENT_HEADERS
    assert {r["Asset Tag"] for r in rows} == {"0041873", "0041874"}
    kinds = [r["Event"] for r in rows if r["Asset Tag"] == "0041873"]
    assert kinds == ["Added to inventory", "Checked out"]
    checked_out = next(r for r in rows if r["Event"] == "Checked out")
    # before -> after in the timeline's words, not JSON
    assert "Status: In stock" in checked_out["Before"] and "Status: Assigned" in checked_out["After"]
    assert "{" not in checked_out["Before"] + checked_out["After"]
    added = next(r for r in rows if r["Event"] == "Added to inventory")
    assert added["Before"] == "" and "Status: In stock" in added["After"]
    everyone = _csv(_login(client, data.district_tech).get(reverse("exports:events_xlsx").replace(".xlsx", ".csv")))
    assert {r["Asset Tag"] for r in everyone} == {"0041873", "0041874", "B-0001"}
    only = _csv(client.get(reverse("exports:events_csv"), {"kind": "checked_out"}))
    assert [r["Asset Tag"] for r in only] == ["0041873"]


def test_row_builders_shapes(data: Data) -> None:
    for build, headers in (
        (device_export_rows, DEVICE_HEADERS),
        (person_export_rows, PERSON_HEADERS),
        (assignment_export_rows, ASSIGNMENT_HEADERS),
        (event_export_rows, EVENT_HEADERS),
    ):
        got_headers, rows = build(user=data.district_tech, filters=None)
        assert got_headers == headers
        materialised = list(rows)
        assert materialised and all(len(r) == len(headers) for r in materialised)


# --------------------------------------------------------------------------- no N+1


def _queries(build: Any, user: Any) -> int:
    user = type(user).objects.get(pk=user.pk)  # fresh object: no cached scope
    with CaptureQueriesContext(connection) as ctx:
        _, rows = build(user=user, filters={})
        for _ in rows:
            pass
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_rows(data: Data) -> None:
    builders = (device_export_rows, person_export_rows, assignment_export_rows, event_export_rows)
    District.get()  # the first read creates the settings row
    before = [_queries(b, data.district_tech) for b in builders]
    model = DeviceModel.objects.get()
    for n in range(12):
        device = _device(f"X{n:04d}", data.site_a, model)
        person = Person.objects.create(sourced_id=f"p{n}", given_name="P", family_name=f"F{n}", home_site=data.site_a)
        device_check_out(device=device, person=person, actor=None)
    after = [_queries(b, data.district_tech) for b in builders]
    assert after == before
    assert max(after) <= 4  # roles, district settings (+ once more for time zones), the export itself


def test_xlsx_over_excel_row_limit_points_to_csv(client: Any, data: Data, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reports.export_views.XLSX_MAX_ROWS", 1)
    response = _login(client, data.site_tech).get(reverse("exports:devices_xlsx"), {"status": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Download as CSV" in body and "/exports/devices.csv?status=" in body
    assert "0041873" not in body
    monkeypatch.setattr("reports.export_views.XLSX_MAX_ROWS", 2)
    assert _login(client, data.site_tech).get(reverse("exports:devices_xlsx")).status_code == 200


def test_xlsx_values_are_typed_in_the_district_time_zone(client: Any, data: Data) -> None:
    """Costs are numbers, dates are Excel dates, check-out times are the district's wall-clock
    time; identifiers stay text; the header is frozen with a filter."""
    district = District.get()
    district.time_zone = "America/Los_Angeles"
    district.save()
    client = _login(client, data.site_tech)
    workbook = load_workbook(io.BytesIO(b"".join(client.get(reverse("exports:devices_xlsx")).streaming_content)))
    sheet = workbook.active
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:V{sheet.max_row}"
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, sheet[2], strict=True))
    assert row["Asset Tag"].value == "0041873" and row["Asset Tag"].data_type == "s"
    assert row["Purchase Cost"].value == 289 and row["Purchase Cost"].data_type == "n"
    assert row["Purchase Date"].is_date and row["Purchase Date"].value == datetime.datetime(2023, 8, 1)
    assignments = load_workbook(
        io.BytesIO(b"".join(client.get(reverse("exports:assignments_xlsx")).streaming_content))
    ).active
    header = [c.value for c in assignments[1]]
    out = dict(zip(header, assignments[2], strict=True))["Checked Out At"]
    opened = data.lent.assignments.get().checked_out_at
    local = opened.astimezone(district.tzinfo).replace(tzinfo=None, microsecond=0)
    assert out.is_date and out.value == local
