"""Query counts of the custody hot paths: an N+1 fails the suite (issue #7).

Each path is measured with one item, then again after many more are added; the count must
not grow with the items (that is the N+1 test) and stays under an upper bound (the idea of
Zulip's ``assert_database_query_count``).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.testing import DeviceFactory
from custody.services import device_check_in, device_check_out

pytestmark = pytest.mark.django_db

#: Upper bounds measured on SQLite (PostgreSQL runs the same statements), with some room.
SCAN_MAX = 25
PERSON_PAGE_MAX = 25


def count_queries(call):
    """``(number of queries, result)`` of ``call()``."""
    with CaptureQueriesContext(connection) as ctx:
        result = call()
    return len(ctx.captured_queries), result


def _devices(world, n: int, site=None) -> list:
    """``n`` more devices of ``site`` (site A) with tags of their own."""
    start = _devices.made  # type: ignore[attr-defined]
    _devices.made += n  # type: ignore[attr-defined]
    site = site or world.site_a
    return [
        DeviceFactory(asset_tag=f"QC-{start + i:05d}", model=world.device_a.model, owner_site=site) for i in range(n)
    ]


_devices.made = 0  # type: ignore[attr-defined]


def _held_by(world, person, n: int) -> None:
    """``person`` gets ``n`` more devices, each checked out and in once before (history)."""
    for device in _devices(world, n, person.home_site):
        device_check_out(device=device, person=person, actor=world.district_tech)
        device_check_in(device=device, actor=world.district_tech)
        device_check_out(device=device, person=person, actor=world.district_tech)


def _scan(client, world, tag: str) -> tuple[int, int]:
    out, response = count_queries(
        lambda: client.post(
            reverse("check_out"),
            {"person": world.person_a.pk, "code": tag, "condition": "good"},
            HTTP_HX_REQUEST="true",
        )
    )
    assert f"{tag} ({world.device_a.model}) checked out to Ana Ruiz" in response.content.decode()
    back, response = count_queries(
        lambda: client.post(reverse("check_in"), {"code": tag, "condition": "good"}, HTTP_HX_REQUEST="true")
    )
    assert f"{tag} ({world.device_a.model}) checked in from Ana Ruiz" in response.content.decode()
    return out, back


def test_scan_check_out_and_check_in_do_not_grow_with_holdings_or_inventory(client_for, world):
    client = client_for(world.site_tech)
    client.get(reverse("check_out"), {"person": world.person_a.pk})
    _held_by(world, world.person_a, 1)
    one = _scan(client, world, world.device_a.asset_tag)
    _held_by(world, world.person_a, 15)
    _devices(world, 40)
    many = _scan(client, world, world.device_a.asset_tag)
    assert one == many, (one, many)
    assert max(many) <= SCAN_MAX, many


@pytest.mark.parametrize("page", ["person_detail", "check_out"])
def test_person_pages_do_not_grow_with_holdings_or_history(client_for, world, page):
    """The person page (holdings and history) and the check-out page of a chosen person (what
    they hold): one query for all the devices, not one per device's model maker."""
    client = client_for(world.site_tech)
    if page == "person_detail":
        url = reverse(page, args=[world.person_a.pk])
    else:
        url = f"{reverse(page)}?person={world.person_a.pk}"
    _held_by(world, world.person_a, 1)
    one, response = count_queries(lambda: client.get(url))
    assert response.status_code == 200
    _held_by(world, world.person_a, 15)
    many, response = count_queries(lambda: client.get(url))
    assert response.content.decode().count("QC-") >= 16
    assert one == many, (one, many)
    assert many <= PERSON_PAGE_MAX, many
