"""Device rules every device import keeps (the row-by-row path of Snipe-IT, CSV/XLSX and
Google): a retired device is never changed silently; device models are matched ignoring case,
spaces and by model number, and only district roles create them; dates are the district's."""

from __future__ import annotations

import datetime

import pytest

from core.testing import DeviceModelFactory, ManufacturerFactory
from imports.tests.device_files import errors, event_count, issues, run_file
from imports.tests.test_snipeit import asset, assets_file
from inventory import services as inventory_services
from inventory.models import Device, DeviceModel

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- retired devices


def test_an_import_does_not_change_a_retired_device_and_says_so(tmp_path, world):
    inventory_services.device_retire(device=world.device_a, actor=world.district_tech)
    before = event_count()
    path = assets_file(tmp_path / "a.csv", asset("CB-000001", "SNA1", notes="Found in the closet", cost="$5.00"))
    run = run_file(path, "snipeit", mode="valid_rows")
    assert run.counts["devices"]["skipped"] == 1 and run.counts["devices"].get("updated", 0) == 0
    reasons = [reason for *_, reason in issues(run)]
    assert any("device CB-000001 is retired; an import does not change a retired device" in r and "notes" in r
               and "purchase cost" in r for r in reasons), reasons  # fmt: skip
    world.device_a.refresh_from_db()
    assert world.device_a.notes == "" and world.device_a.status == Device.Status.RETIRED
    assert event_count() == before


def test_a_retired_device_whose_tag_was_reused_is_not_a_clash_for_the_live_one(tmp_path, world):
    inventory_services.device_retire(device=world.device_a, actor=world.district_tech)
    live = Device.objects.create(asset_tag="CB-000001", serial_number="LIVE1", model=world.device_a.model,
                                 owner_site=world.site_a, current_site=world.site_a)  # fmt: skip
    path = assets_file(tmp_path / "a.csv", asset("CB-000001", "LIVE1", notes="The new one"))
    run = run_file(path, "snipeit")
    assert run.counts["devices"]["updated"] == 1, issues(run)
    live.refresh_from_db()
    assert live.notes == "The new one"


# --------------------------------------------------------------------------- device models


def test_models_match_ignoring_case_spaces_and_by_model_number(tmp_path, world):
    maker = ManufacturerFactory(name="Apple")
    existing = DeviceModelFactory(manufacturer=maker, name='MacBook Pro 13"', model_number="A2338", category="laptop")
    lines = [
        asset("MB-1", "S1", model='Macbook Pro 13"', number="", maker="apple", category="Laptops"),
        asset("MB-2", "S2", model='MacBook  Pro 13" ', number="", maker="Apple", category="Laptops"),
        asset("MB-3", "S3", model="MacBook Pro (13-inch, M1)", number="a2338", maker="Apple", category="Laptops"),
        asset("MB-4", "S4", model='MACBOOK PRO 13"', number="A2338", maker="APPLE", category="Laptops"),
    ]
    run = run_file(assets_file(tmp_path / "a.csv", *lines), "snipeit")
    assert run.counts["devices"]["created"] == 4, issues(run)
    assert run.counts.get("models", {}).get("created", 0) == 0
    assert set(Device.objects.filter(asset_tag__startswith="MB-").values_list("model_id", flat=True)) == {existing.pk}
    assert DeviceModel.objects.filter(manufacturer=maker).count() == 1


def test_site_staff_do_not_create_models_and_are_told_which_to_ask_for(tmp_path, world):
    lines = [asset("MB-1", "S1", model='Macbook Pro 13"', number="", maker="Apple", category="Laptops"),
             asset("CB-000001", "SNA1", notes="known model")]  # fmt: skip
    lines[1] = asset("CB-9", "SN9", model=world.device_a.model.name, number=world.device_a.model.model_number,
                     maker=world.device_a.model.manufacturer.name)  # fmt: skip
    path = assets_file(tmp_path / "a.csv", *lines)
    run = run_file(path, "snipeit", actor=world.site_tech, scope_site=world.site_a, mode="valid_rows")
    ((line, column, value, reason),) = errors(run)
    assert (line, column, value) == (2, "Model Name", 'Macbook Pro 13"')
    assert "only district staff add models" in reason and "'Apple Macbook Pro 13\"'" in reason
    assert not DeviceModel.objects.filter(name__icontains="macbook").exists()
    assert Device.objects.filter(asset_tag="CB-9").exists()
    # a district technician may add it
    run = run_file(path, "snipeit", actor=world.district_tech)
    assert run.counts["models"]["created"] == 1 and DeviceModel.objects.filter(name='Macbook Pro 13"').count() == 1


# --------------------------------------------------------------------------- the district's today


def test_an_evening_import_in_a_western_time_zone_judges_dates_in_the_districts_today(tmp_path, world, settings):
    from django.utils import timezone

    from custody.models import Assignment
    from sites.models import District

    district = District.get()
    district.time_zone = "America/Los_Angeles"
    district.save()
    world.person_a.email = "ana@example.org"
    world.person_a.save()
    # 23:30 in Los Angeles on 3 March 2025 is 07:30 UTC on 4 March.
    now = datetime.datetime(2025, 3, 4, 7, 30, tzinfo=datetime.UTC)
    today = "3/3/25"
    path = assets_file(
        tmp_path / "a.csv",
        asset("EVE-1", "EV1", date=today, warranty="", ctype="User", email="ana@example.org", due=today),
    )
    import unittest.mock

    with unittest.mock.patch.object(timezone, "now", return_value=now):
        run = run_file(path, "snipeit")
    assert run.error_count == 0 and run.warning_count == 0, issues(run)
    device = Device.objects.get(asset_tag="EVE-1")
    assert device.purchase_date == datetime.date(2025, 3, 3)
    assert Assignment.objects.get(device=device).due_on == datetime.date(2025, 3, 3)
