"""Asset labels: the PDF holds exactly the devices the user may see, its barcodes read back as
the asset tag (which opens and checks out the device), labels sit on the stock's grid, and bad
input gets words on the form, never an error page.

The printed page is rendered with pypdfium2 and its symbols decoded with zxing-cpp (both from
requirements-dev.txt), as a scanner would read a printed sheet.
"""

from __future__ import annotations

import io

import pypdf
import pypdfium2
import pytest
import zxingcpp
from django.urls import reverse

from core.testing import DeviceFactory
from inventory import labels
from inventory.labels import STOCKS, Label, LabelError, labels_pdf, tag_range
from inventory.models import Device

pytestmark = pytest.mark.django_db

DPI = 300


def render(pdf: bytes, dpi: int = DPI):
    """Each page of ``pdf`` as a greyscale PIL image at ``dpi``."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("L") for page in document]
    finally:
        document.close()


def decoded(image) -> list[tuple[str, str, tuple[int, int]]]:
    """(symbology, text, centre in pixels) of every Code 128 and QR symbol zxing finds."""
    found = []
    for result in zxingcpp.read_barcodes(image):
        if result.format.name not in ("Code128", "QRCode"):
            continue
        p = result.position
        centre = ((p.top_left.x + p.bottom_right.x) // 2, (p.top_left.y + p.bottom_right.y) // 2)
        found.append((result.format.name, result.text, centre))
    return found


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def get_pdf(client, **params):
    response = client.get(reverse("device_labels"), {"print": "1", **params})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf", response.content[:400]
    return response.content


@pytest.fixture
def range_devices(world):
    """CB-000100 … CB-000105 at site A (CB-000103 retired), CB-000104 at site B."""
    made = {}
    for n in range(100, 106):
        site = world.site_b if n == 104 else world.site_a
        status = Device.Status.RETIRED if n == 103 else Device.Status.IN_STOCK
        made[n] = DeviceFactory(asset_tag=f"CB-{n:06d}", owner_site=site, model=world.device_a.model, status=status)
    return made


@pytest.mark.parametrize("stock", list(STOCKS))
def test_every_printed_symbol_reads_back_as_exactly_the_asset_tag(client_for, world, range_devices, stock):
    """Both symbols on every label decode to the tag: nothing added, nothing of site B."""
    client = client_for(world.site_tech)
    pdf = get_pdf(client, tag_from="CB-000100", tag_to="CB-000106", stock=stock)
    expected = ["CB-000100", "CB-000101", "CB-000102", "CB-000105"]  # 103 retired, 104 site B's, 106 none
    found = [hit for page in render(pdf) for hit in decoded(page)]
    assert sorted(text for kind, text, _ in found if kind == "Code128") == expected
    assert sorted(text for kind, text, _ in found if kind == "QRCode") == expected
    text = pdf_text(pdf)
    assert all(tag in text for tag in expected) and "CB-000104" not in text
    assert world.device_a.model.name in text and world.site_a.code in text


def test_a_scanned_label_opens_and_checks_out_its_device(client_for, world, range_devices):
    """What the scanner reads off the label is what scan-to-open and check-out accept."""
    client = client_for(world.site_tech)
    pdf = get_pdf(client, device=[range_devices[101].pk], stock="thermal-2.25x1.25")
    [page] = render(pdf)
    texts = {text for _, text, _ in decoded(page)}
    assert texts == {"CB-000101"}
    scanned = texts.pop() + "\r"  # a scanner's Enter suffix
    opened = client.get(reverse("device_list"), {"q": scanned})
    assert opened.status_code == 302 and opened.url == reverse("device_detail", args=[range_devices[101].pk])
    client.post(
        reverse("check_out"),
        {"person": world.person_a.pk, "code": scanned, "condition": "good", "submission_key": "label-scan-1"},
    )
    range_devices[101].refresh_from_db()
    assert range_devices[101].status == Device.Status.ASSIGNED


@pytest.mark.parametrize("stock", ["avery-5160", "avery-l7160"])
def test_labels_sit_on_the_stocks_grid_from_the_chosen_start(stock):
    """Labels start at the chosen position, each symbol inside its own label, and no ink in the
    page margins or the gaps between columns (long tags and models included)."""
    sheet = STOCKS[stock]
    long_tag = "DISTRICT-WAREHOUSE-2024-" + "9" * 40  # 64 characters, the field's maximum
    items = [Label(tag=f"T-{n:04d}", model="Lenovo 300e Chromebook Gen 3 (82J9) education edition",
                   site_code="WAREHOUSE-NORTH-DEPOT", district="Lincoln Unified School District")
             for n in range(sheet.per_page - 5)]  # fmt: skip
    items[-1] = Label(tag=long_tag, model="X", site_code="A")
    pdf = labels_pdf(items, stock=sheet, start_at=6)
    [page] = render(pdf)
    scale = DPI / 72

    def box(position):
        x, y = sheet.origin(position)
        return (x * scale, (sheet.page_height - y - sheet.label_height) * scale,
                (x + sheet.label_width) * scale, (sheet.page_height - y) * scale)  # fmt: skip

    hits = decoded(page)
    for number, item in enumerate(items):
        left, top, right, bottom = box(5 + number)
        inside = {text for _, text, (cx, cy) in hits if left <= cx <= right and top <= cy <= bottom}
        assert item.tag in inside, (number, item.tag, inside)
    for position in range(5):  # the used part of the sheet stays blank
        assert page.crop(tuple(int(v) for v in box(position))).getextrema()[0] == 255
    pixels = page.load()
    width, height = page.size
    blank_columns = [c for c in range(width) if not any(
        int(box(p)[0]) - 1 <= c <= int(box(p)[2]) + 1 for p in range(sheet.columns))]  # fmt: skip
    inked = [c for c in blank_columns if min(pixels[c, r] for r in range(0, height, 2)) < 200]
    assert not inked, f"ink outside the labels' columns at x={inked[:5]}"
    assert long_tag in pdf_text(pdf).replace("\n", "")


def test_a_long_tag_is_whole_on_a_thermal_label():
    """The 64-character tag shrinks (or wraps) but is printed and encoded whole."""
    tag = "LINCOLN-HIGH-SCHOOL-LIBRARY-CART-" + "7" * 31
    assert len(tag) == Device._meta.get_field("asset_tag").max_length
    pdf = labels_pdf([Label(tag=tag, model="HP 45W USB-C charger", site_code="LHS")], stock=STOCKS["thermal-2.25x1.25"])
    [page] = render(pdf, dpi=600)
    assert tag in {text for _, text, _ in decoded(page)}
    assert tag in pdf_text(pdf).replace("\n", "")


def test_the_district_name_is_optional(client_for, world, range_devices):
    from sites.models import District

    District.objects.filter(pk=1).update(name="Lincoln Unified School District")
    client = client_for(world.site_tech)
    assert "Lincoln Unified" in pdf_text(get_pdf(client, device=[world.device_a.pk]))
    without = get_pdf(client, device=[world.device_a.pk], sent="1", stock="avery-5160", symbols="both", start_at="1")
    assert "Lincoln Unified" not in pdf_text(without)


def test_chosen_devices_of_another_site_are_never_printed(client_for, world):
    client = client_for(world.site_tech)
    pdf = get_pdf(client, device=[world.device_a.pk, world.device_b.pk])
    assert "CB-000001" in pdf_text(pdf) and "CB-000002" not in pdf_text(pdf)
    response = client.get(reverse("device_labels"), {"print": "1", "device": [world.device_b.pk]})
    assert response["Content-Type"].startswith("text/html")
    assert "None of the chosen devices is at your sites." in response.content.decode()
    assert "CB-000002" not in response.content.decode()


def test_the_lists_filters_choose_the_devices(client_for, world, range_devices):
    client = client_for(world.district_tech)
    text = pdf_text(get_pdf(client, from_list="1", q="cb-00010", site=str(world.site_a.pk)))
    assert {"CB-000100", "CB-000105"} <= set(text.split()) and "CB-000104" not in text and "CB-000001" not in text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tag_from": "CB-000001", "tag_to": "CB-100000"}, "covers 100,000 tags; one PDF holds at most 1,000 labels"),
        ({"tag_from": "CB-000200", "tag_to": "CB-000100"}, "The range runs backwards"),
        ({"tag_from": "CB-000100", "tag_to": ""}, "Enter both ends of the tag range"),
        ({"tag_from": "CHARGERS", "tag_to": "CB-000100"}, "does not end in a number"),
        ({"tag_from": "CB-000100", "tag_to": "HP-000200"}, "differ before the number"),
        ({"tag_from": "CB-000100", "tag_to": "CB-000105", "stock": "avery-9999"}, "Select a valid choice"),
        ({"tag_from": "CB-000100", "tag_to": "CB-000105", "start_at": "31"}, "This stock has 30 labels a page."),
        (
            {"tag_from": "CB-000100", "tag_to": "CB-000105", "stock": "thermal-2.25x1.25", "start_at": "2"},
            "This stock has 1 label a page.",
        ),
        ({"tag_from": "CB-000100", "tag_to": "CB-000105", "start_at": "0"}, "greater than or equal to 1"),
        ({"tag_from": "CB-000100", "tag_to": "CB-000105", "start_at": "x"}, "Enter a whole number."),
        ({"tag_from": "CB-000100", "tag_to": "CB-000105", "symbols": "pdf417"}, "Select a valid choice"),
        ({"tag_from": "ZZ-1", "tag_to": "ZZ-9"}, "No device at your sites has a tag from ZZ-1 to ZZ-9."),
        ({"tag_from": "CB-\x00100", "tag_to": "CB-000105"}, "Null characters are not allowed."),
        ({"tag_from": "X" * 500, "tag_to": "CB-000105"}, "at most 64 characters"),
        (
            {"device": ["abc", "-1", "99999999999999999999"]},
            "Choose devices on the Devices list, or enter a tag range.",
        ),
        ({}, "Choose devices on the Devices list, or enter a tag range."),
        ({"from_list": "1", "q": "nothing-like-this"}, "No devices match the list's filters."),
    ],
)
def test_bad_input_gets_a_clear_message_never_an_error_page(client_for, world, range_devices, params, message):
    response = client_for(world.site_tech).get(reverse("device_labels"), {"print": "1", **params})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert message in response.content.decode().replace("&#x27;", "'"), response.content.decode()[-3000:]


def test_the_number_of_labels_is_capped(client_for, world, range_devices, monkeypatch):
    monkeypatch.setattr(labels, "LABELS_MAX", 3)
    client = client_for(world.site_tech)
    body = client.get(reverse("device_labels"), {"print": "1", "from_list": "1"}).content.decode()
    assert "More than 3 devices match the list&#x27;s filters" in body
    ids = [d.pk for d in range_devices.values()]
    assert (
        "devices chosen; one PDF holds at most 3 labels"
        in client.get(reverse("device_labels"), {"print": "1", "device": ids}).content.decode()
    )
    with pytest.raises(LabelError):
        labels_pdf([Label(tag="A1", model="m", site_code="s")] * 4, stock=STOCKS["avery-5160"])


def test_tag_ranges_keep_their_spelling():
    assert tag_range("CB-000098", "cb-000101") == ["CB-000098", "CB-000099", "CB-000100", "CB-000101"]
    assert tag_range("CB-99", "CB-101") == ["CB-99", "CB-100", "CB-101"]
    assert tag_range("7", "7") == ["7"]


def test_the_form_page_says_what_will_print(client_for, world, range_devices):
    client = client_for(world.site_tech)
    page = client.get(reverse("device_labels"), {"tag_from": "CB-000100", "tag_to": "CB-000106", "check": "1"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "4 labels" in body and "on 1 sheet" in body
    # Site B's CB-000104 is "no device at your sites", like a tag that does not exist.
    assert "No device at your sites for 2 tags of the range: CB-000104, CB-000106." in body
    assert "1 retired device left out." in body


def test_device_page_and_list_link_to_labels(client_for, world):
    client = client_for(world.principal)
    detail = client.get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert f"{reverse('device_labels')}?device={world.device_a.pk}" in detail
    listing = client.get(reverse("device_list"), {"q": "CB", "exact": "0"}).content.decode()
    assert f"{reverse('device_labels')}?from_list=1" in listing
    assert 'name="device"' in listing and 'form="device-labels"' in listing
