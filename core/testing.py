"""Test helpers shared by every app's tests: factory_boy factories and a two-site world.

``make_world()`` builds site A and site B, a device and a student at each, and one
user per role (site roles at site A), so scoping tests read as "site A's technician
must not see site B's device".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model

from accounts.models import StaffRole
from inventory.models import Device, DeviceModel, Manufacturer
from people.models import Person
from sites.models import District, Location, Site

PASSWORD = "correct-horse-battery"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.Sequence(lambda n: f"School {n}")
    kind = Site.Kind.SCHOOL


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Room {n}")


class ManufacturerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Manufacturer
        django_get_or_create = ("name",)

    name = "Acer"


class DeviceModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeviceModel

    manufacturer = factory.SubFactory(ManufacturerFactory)
    name = factory.Sequence(lambda n: f"Chromebook 3{n:02d}")
    model_number = factory.Sequence(lambda n: f"C{n:03d}")
    category = DeviceModel.Category.CHROMEBOOK
    replacement_cost = Decimal("289.00")


class DeviceFactory(factory.django.DjangoModelFactory):
    """A device row written directly (no event). Use services when the test is about history."""

    class Meta:
        model = Device

    asset_tag = factory.Sequence(lambda n: f"CB-{n:06d}")
    serial_number = factory.Sequence(lambda n: f"NXA{n:09d}")
    model = factory.SubFactory(DeviceModelFactory)
    owner_site = factory.SubFactory(SiteFactory)
    current_site = factory.SelfAttribute("owner_site")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    sourced_id = factory.Sequence(lambda n: f"stu-{n:06d}")
    student_number = factory.Sequence(lambda n: f"00{n:05d}")
    given_name = factory.Sequence(lambda n: f"Given{n}")
    family_name = factory.Sequence(lambda n: f"Family{n}")
    grade = "07"
    home_site = factory.SubFactory(SiteFactory)


def make_user(username: str, roles: list[tuple[str, Site | None]] = ()) -> Any:  # type: ignore[assignment]
    """A staff user with ``roles`` (role, site-or-None) and password :data:`PASSWORD`."""
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    for role, site in roles:
        StaffRole.objects.create(user=user, role=role, site=site)
    return user


@dataclass
class World:
    """Two sites with one device, one student and one location each, and a user per role."""

    site_a: Site
    site_b: Site
    device_a: Device
    device_b: Device
    person_a: Person
    person_b: Person
    location_a: Location
    location_b: Location
    district_admin: Any
    district_tech: Any
    site_tech: Any
    principal: Any
    auditor: Any
    site_auditor: Any
    nobody: Any


def make_world(*, mode: str = District.OwnershipMode.CENTRALIZED) -> World:
    """Build the two-site :class:`World`. ``mode`` is the district's ownership mode."""
    district = District.get()
    district.ownership_mode = mode
    district.save()
    site_a = SiteFactory(code="A", name="Alder Elementary")
    site_b = SiteFactory(code="B", name="Birch Middle")
    model = DeviceModelFactory()
    R = StaffRole.Role
    return World(
        site_a=site_a,
        site_b=site_b,
        device_a=DeviceFactory(asset_tag="CB-000001", serial_number="SNA1", model=model, owner_site=site_a),
        device_b=DeviceFactory(asset_tag="CB-000002", serial_number="SNB1", model=model, owner_site=site_b),
        person_a=PersonFactory(home_site=site_a, student_number="0041873", given_name="Ana", family_name="Ruiz"),
        person_b=PersonFactory(home_site=site_b, student_number="0099001", given_name="Ben", family_name="Okafor"),
        location_a=LocationFactory(site=site_a, name="Library cart"),
        location_b=LocationFactory(site=site_b, name="Room 12"),
        district_admin=make_user("district-admin", [(R.DISTRICT_ADMIN, None)]),
        district_tech=make_user("district-tech", [(R.DISTRICT_TECHNICIAN, None)]),
        site_tech=make_user("site-tech", [(R.SITE_TECHNICIAN, site_a)]),
        principal=make_user("principal", [(R.SITE_ADMINISTRATOR, site_a)]),
        auditor=make_user("auditor", [(R.AUDITOR, None)]),
        site_auditor=make_user("site-auditor", [(R.AUDITOR, site_a)]),
        nobody=make_user("nobody"),
    )


#: Distinctive rows :func:`seed_list_scope` adds (texts no page would show by chance).
OWN_STUDENT = {"given_name": "Marisol", "family_name": "Abernathy", "student_number": "A-550011",
               "sourced_id": "src-a-abernathy"}  # fmt: skip
OTHER_STUDENT = {"given_name": "Zebulon", "family_name": "Quixwell", "student_number": "B-770011",
                 "sourced_id": "src-b-quixwell"}  # fmt: skip
OWN_TAG, LENT_TAG, MOVED_TAG, OTHER_TAG = "AAA-1001", "AAA-1002", "MOV-3003", "ZZB-9001"


def seed_list_scope(world: World) -> None:
    """Add rows to ``world`` for the list-scope tests (``core/tests/test_list_scope.py``).

    Site A: student Marisol Abernathy (A-550011) holding AAA-1001; AAA-1002 lent by a district
    technician to site B's student; MOV-3003, once held by site B's student, now transferred to
    site A (its history names them). Site B: student Zebulon Quixwell (B-770011) holding
    ZZB-9001; Ben Okafor holding CB-000002. Writes go through the services (with events).
    """
    from custody.services import device_check_in, device_check_out
    from inventory.services import device_transfer

    own = PersonFactory(home_site=world.site_a, **OWN_STUDENT)
    other = PersonFactory(home_site=world.site_b, **OTHER_STUDENT)
    model = world.device_a.model
    mk = lambda tag, site: DeviceFactory(asset_tag=tag, serial_number=f"SER{tag}", model=model, owner_site=site)  # noqa: E731
    tech = world.district_tech
    device_check_out(device=mk(OWN_TAG, world.site_a), person=own, actor=tech)
    device_check_out(device=world.device_a, person=world.person_a, actor=tech)
    device_check_out(device=mk(LENT_TAG, world.site_a), person=other, actor=tech)
    device_check_out(device=mk(OTHER_TAG, world.site_b), person=other, actor=tech)
    device_check_out(device=world.device_b, person=world.person_b, actor=tech)
    moved = mk(MOVED_TAG, world.site_b)
    device_check_out(device=moved, person=other, actor=tech)
    device_check_in(device=moved, actor=tech)
    device_transfer(device=moved, to_site=world.site_a, actor=tech)


def other_site_markers(world: World) -> list[str]:
    """Texts of site B's rows that site A's staff must never read in a list, search or export:
    its students' names, numbers and sourcedIds, its devices' tags and serials, its name."""
    texts = [world.person_b.family_name, world.person_b.student_number, world.person_b.sourced_id]
    texts += [world.device_b.asset_tag, world.device_b.serial_number, world.location_b.name, world.site_b.name]
    texts += [OTHER_STUDENT[k] for k in ("given_name", "family_name", "student_number", "sourced_id")]
    return texts + [OTHER_TAG, f"SER{OTHER_TAG}"]
