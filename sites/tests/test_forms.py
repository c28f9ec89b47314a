"""The district settings form offers real places' time zones, keeps the district's own."""

from __future__ import annotations

import pytest

from sites.forms import DistrictForm
from sites.models import District

pytestmark = pytest.mark.django_db


def test_time_zones_are_places_not_aliases(world):
    zones = dict(DistrictForm(instance=District.get()).fields["time_zone"].choices)
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
            "school_year_start_month": 8,
            "school_year_start_day": 1,
        },
        instance=district,
    )
    assert form.is_valid(), form.errors
