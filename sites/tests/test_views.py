"""Site pages: the device counts agree with the dashboard's."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from core.testing import DeviceFactory
from inventory.services import device_retire

pytestmark = pytest.mark.django_db


def _numbers(html: str) -> list[str]:
    return re.findall(r'<div class="n">([\d,]+)</div><div class="l">([^<]+)</div>', html)


def test_sites_list_dashboard_and_site_page_count_the_same_devices(client_for, world):
    """QA F5: the Sites list left retired devices out (51,153) while the dashboard counted them
    (51,203). Every page counts the devices that are not retired; retired ones are shown apart."""
    for n in range(2):
        DeviceFactory(asset_tag=f"A-{n}", serial_number=f"SA-{n}", owner_site=world.site_a, model=world.device_a.model)
    gone = DeviceFactory(asset_tag="A-OLD", serial_number="SA-OLD", owner_site=world.site_a, model=world.device_a.model)
    device_retire(device=gone, actor=None)  # site A: 3 devices in the inventory, 1 retired
    client = client_for(world.site_tech)
    sites = client.get(reverse("site_list")).content.decode()
    row = re.search(r"<td[^>]*>A</td>.*?</tr>", sites, re.S)
    assert row is not None
    # Each count is a link to its list now; a cell's text is what it reads.
    cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0))]
    assert cells[-3:] == ["3", "1", "1"]  # devices (not retired), retired, active people
    assert "Devices <span" in sites and "(not retired)" in sites and "<th>Retired</th>" in sites
    dashboard = {label: n for n, label in _numbers(client.get(reverse("dashboard")).content.decode())}
    assert dashboard["devices at my sites (not retired)"] == "3" and dashboard["Retired"] == "1"
    page = client.get(reverse("site_detail", args=[world.site_a.pk])).content.decode()
    site_page = {label: n for n, label in _numbers(page)}
    assert site_page["devices (not retired)"] == "3" and site_page["Retired"] == "1"


#: The month is a select of month names (issue #8): a number outside 1–12 is not one of its choices.
_NOT_A_MONTH = "Select a valid choice. {} is not one of the available choices."


@pytest.mark.parametrize(
    ("month", "day", "errors"),
    [
        ("13", "1", {"school_year_start_month": [_NOT_A_MONTH.format("13")]}),
        ("-1", "1", {"school_year_start_month": [_NOT_A_MONTH.format("-1")]}),
        ("0", "1", {"school_year_start_month": [_NOT_A_MONTH.format("0")]}),
        ("8", "0", {"school_year_start_day": ["Ensure this value is greater than or equal to 1."]}),
        ("8", "-1", {"school_year_start_day": ["Ensure this value is greater than or equal to 1."]}),
        ("8", "32", {"school_year_start_day": ["Ensure this value is less than or equal to 31."]}),
        ("2", "30", {"school_year_start_day": ["Not a day of that month."]}),
        ("13", "40", {"school_year_start_month": [_NOT_A_MONTH.format("13")],
                      "school_year_start_day": ["Ensure this value is less than or equal to 31."]}),
    ],
)  # fmt: skip
def test_district_school_year_start_says_one_clear_message_per_field(world, month, day, errors):
    """Month 13 also said "Not a day of that month." for day 1; month -1 said "≥ 0" and 0 "≥ 1"."""
    from sites.forms import DistrictForm
    from sites.models import District

    data = {"name": "X", "time_zone": "America/Chicago", "ownership_mode": "centralized", "fee_collector": "district",
            "second_device_policy": "warn", "school_year_start_month": month, "school_year_start_day": day}  # fmt: skip
    assert DistrictForm(data, instance=District.get()).errors == errors
    assert DistrictForm({**data, "school_year_start_month": "2", "school_year_start_day": "29"}, instance=District.get()).is_valid()  # fmt: skip


def test_district_full_clean_names_only_the_month_for_month_13(world):
    from django.core.exceptions import ValidationError

    from sites.models import District

    district = District.get()
    district.school_year_start_month, district.school_year_start_day = 13, 1
    with pytest.raises(ValidationError) as info:
        district.full_clean()
    assert set(info.value.message_dict) == {"school_year_start_month"}
