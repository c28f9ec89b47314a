"""A retired device whose asset tag was reused by a live device can still be edited.

Asset tags are unique among live devices only (``inventory.rules.live_tag_clash``): a retired
device keeps its old tag, which a new device may take. Editing the retired device (its notes,
say) sends its own tag unchanged, and that is not a clash.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import DomainError
from core.testing import DeviceFactory
from inventory import rules, services
from inventory.models import Device

pytestmark = pytest.mark.django_db


@pytest.fixture
def reused(world) -> tuple[Device, Device]:
    """(the retired CB-000001, the live device that took its tag)."""
    services.device_retire(device=world.device_a, actor=world.district_tech)
    world.device_a.refresh_from_db()
    live = DeviceFactory(asset_tag="cb-000001", model=world.device_a.model, owner_site=world.site_a)
    return world.device_a, live


def test_the_retired_device_saves_with_its_own_tag(world, reused):
    retired, _live = reused
    services.device_update(device=retired, actor=world.district_tech, asset_tag=retired.asset_tag, notes="Scrapped")
    retired.refresh_from_db()
    assert retired.notes == "Scrapped" and retired.asset_tag == "CB-000001"


def test_the_live_device_may_not_take_a_live_tag(world, reused):
    _retired, live = reused
    with pytest.raises(DomainError, match="already used by another live device"):
        services.device_update(device=live, actor=world.district_tech, asset_tag=world.device_b.asset_tag)


def test_the_web_edit_form_saves_the_retired_device(client_for, world, reused):
    retired, _live = reused
    data = {"asset_tag": retired.asset_tag, "serial_number": retired.serial_number, "model": retired.model_id,
            "owner_site": retired.owner_site_id, "notes": "Scrapped after the flood"}  # fmt: skip
    response = client_for(world.district_tech).post(reverse("device_edit", args=[retired.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    retired.refresh_from_db()
    assert retired.notes == "Scrapped after the flood"


@pytest.mark.parametrize(
    ("status", "old", "new", "checked"),
    [
        ("in_stock", "A-1", "A-2", True),
        ("in_stock", "A-1", "a-1", True),
        ("in_stock", "A-1", "A-1", False),
        ("retired", "A-1", "A-1", False),
        ("retired", "A-1", "B-9", False),
    ],
)
def test_tag_must_be_free(status, old, new, checked):
    assert rules.tag_must_be_free(status=status, old_tag=old, new_tag=new) is checked
