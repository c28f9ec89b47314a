"""Every count links to the list that shows exactly those rows (issue #8), in both ownership
modes: the dashboard's tiles, a site page's tiles and the Sites list's numbers, for each role.
The test follows every link that carries a number and counts the rows the list shows."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core.testing import make_world
from custody.models import Assignment
from custody.rules import district_today
from inventory.models import Device
from people.models import Person
from sites.models import District

S = Device.Status

#: A number that is a link: a stat tile (``<a class="stat" href=…><div class="n">N</div>``) or a
#: table cell (``<a href=…>N</a>``).
LINKED_NUMBER = re.compile(r'<a (?:class="stat[^"]*" )?href="([^"]+)">(?:<div class="n">)?([\d,]+)(?:</div>|</a>)')


def _seed(world) -> None:
    """Devices whose owner and current sites differ, in several statuses, an overdue check-out,
    a lost device with an open past-due check-out, a withdrawn holder, a
    transferred one of another school and an active student who moved school (who has not left)."""
    model = world.device_a.model
    yesterday = district_today() - datetime.timedelta(days=1)

    def device(tag: str, owner, current, status: str = S.IN_STOCK) -> Device:
        return Device.objects.create(
            asset_tag=tag, serial_number=f"S{tag}", model=model, owner_site=owner, current_site=current, status=status
        )

    def hold(d: Device, person: Person, due_on=None) -> None:
        Assignment.objects.create(
            device=d, person=person, holder_label=person.label, checked_out_at=timezone.now(), due_on=due_on
        )

    a, b = world.site_a, world.site_b
    device("AB-1", a, b)  # owned by A, sitting at B
    device("BA-1", b, a, S.LOANER_POOL)  # owned by B, sitting at A
    device("AA-R", a, a, S.RETIRED)
    device("BA-R", b, a, S.RETIRED)
    hold(device("AA-OD", a, a, S.ASSIGNED), world.person_a, yesterday)  # overdue
    hold(device("AB-OD", a, b, S.ASSIGNED), world.person_b, yesterday)  # overdue, B's student
    hold(device("AA-LOST", a, a, S.LOST), world.person_a, yesterday)  # lost, not overdue
    gone = Person.objects.create(given_name="Wren", family_name="Left", home_site=a, status=Person.Status.WITHDRAWN)
    hold(device("BA-W", b, a, S.ASSIGNED), gone)
    moved = Person.objects.create(given_name="Moe", family_name="Ved", home_site=b)
    hold(device("AA-MV", a, a, S.ASSIGNED), moved)  # active at another school: has not left
    transferred = Person.objects.create(
        given_name="Tra", family_name="Nsfer", home_site=b, status=Person.Status.TRANSFERRED
    )
    hold(device("AA-TR", a, a, S.ASSIGNED), transferred)  # left: A's device, B's former student
    Person.objects.create(given_name="Ina", family_name="Ctive", home_site=b, status=Person.Status.INACTIVE)


def _rows(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.context["page"]
    assert not page.next_cursor, f"{url}: more than one page; the test's data should fit one"
    return len(list(page.items))


def _linked_numbers(body: str) -> list[tuple[str, int]]:
    return [(html.unescape(url), int(n.replace(",", ""))) for url, n in LINKED_NUMBER.findall(body)]


@pytest.mark.parametrize("mode", list(District.OwnershipMode.values))
@pytest.mark.parametrize("role", ["district_admin", "site_tech", "principal", "site_auditor"])
@pytest.mark.django_db
def test_every_count_equals_the_rows_of_its_list(client_for, mode, role):
    world = make_world(mode=mode)
    _seed(world)
    user = getattr(world, role)
    client = client_for(user)
    pages = [reverse("dashboard"), reverse("site_list")]
    pages += [reverse("site_detail", args=[site.pk]) for site in (world.site_a, world.site_b)]
    walked = 0
    for page_url in pages:
        response = client.get(page_url)
        if response.status_code == 404:  # another school's page
            continue
        body = response.content.decode()
        numbers = _linked_numbers(body)
        assert numbers, f"{page_url}: no linked counts"
        for url, n in numbers:
            assert _rows(client, url) == n, f"{mode} {role} {page_url}: {url} says {n}"
            walked += 1
    assert walked >= 20
    # the tiles that matter here are not all zero: the test would prove nothing otherwise
    dash = dict(_linked_numbers(client.get(reverse("dashboard")).content.decode()))
    assert dash[f"{reverse('device_list')}?overdue=1&exact=0"] >= 1
    assert dash[f"{reverse('device_list')}?left=1&exact=0"] >= 1
