"""The district settings form offers real places' time zones, keeps the district's own."""

from __future__ import annotations

import pytest

from sites.forms import DistrictForm
from sites.models import District

pytestmark = pytest.mark.django_db


def _zones(form: DistrictForm) -> list[str]:
    return [tz for _, group in form.fields["time_zone"].choices for tz, _ in group]


def test_time_zones_are_places_not_aliases(world):
    zones = _zones(DistrictForm(instance=District.get()))
    assert "America/Chicago" in zones and "UTC" in zones
    assert not {"US/Eastern", "localtime", "Etc/GMT+5", "posixrules"} & set(zones)


def test_a_district_on_an_alias_zone_keeps_it_and_can_save(world):
    district = District.get()
    District.objects.filter(pk=district.pk).update(time_zone="US/Eastern")
    district.refresh_from_db()
    form = DistrictForm(
        {
            "name": district.name,
            "time_zone": "US/Eastern",
            "ownership_mode": district.ownership_mode,
            "fee_collector": district.fee_collector,
            "second_device_policy": district.second_device_policy,
            "school_year_start_month": 8,
            "school_year_start_day": 1,
        },
        instance=district,
    )
    assert form.is_valid(), form.errors


def test_the_us_time_zones_come_first_with_their_names(world):
    form = DistrictForm(instance=District.get())
    (first, us), (rest, others) = form.fields["time_zone"].choices
    assert first == "United States"
    assert [tz for tz, _ in us][:7] == ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
                                        "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"]  # fmt: skip
    assert dict(us)["America/Chicago"] == "Central — America/Chicago"
    assert "America/Chicago" not in dict(others) and "Europe/Paris" in dict(others)
    html = form["time_zone"].as_widget()
    assert html.index("America/Los_Angeles") < html.index("Africa/Abidjan")
    assert len(_zones(form)) == len(set(_zones(form)))


def test_the_school_year_starts_in_a_named_month(world):
    form = DistrictForm(instance=District.get())
    html = form["school_year_start_month"].as_widget()
    assert html.startswith("<select") and ">August</option>" in html
