"""The demo generator: deterministic, consistent with the custody rules, logins, refusing to seed twice."""

from __future__ import annotations

import datetime
import random
import uuid
from collections import Counter
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Q

from accounts.models import StaffRole
from custody.models import Assignment
from demo.catalog import MODELS_BY_KEY
from demo.checks import invariant_violations
from demo.generator import (
    SOURCED_ID_NAMESPACE,
    DemoAlreadySeededError,
    apportion,
    demo_is_seeded,
    generate,
    stable_id,
)
from demo.history import Actor, Dev, Holder, SiteContext, SiteHistory, school_years
from demo.scales import SCALES
from demo.testing import DEMO_NOW, seed_tiny
from inventory.models import Device, DeviceEvent
from people.models import GuardianContact, Person
from sites.models import District, Site

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def snapshot() -> dict[str, Any]:
    """What must not change between two runs with the same seed (ids aside)."""
    return {
        "sites": list(Site.objects.order_by("code").values_list("code", "name", "sourced_id")),
        "people": list(
            Person.objects.order_by("sourced_id").values_list(
                "sourced_id", "given_name", "family_name", "student_number", "grade", "status", "email"
            )
        ),
        "guardians": list(GuardianContact.objects.order_by("sourced_id").values_list("sourced_id", "name", "phone")),
        "devices": list(
            Device.objects.order_by("asset_tag").values_list(
                "asset_tag", "serial_number", "model__name", "status", "bundled_with__asset_tag", "location__name"
            )
        ),
        "assignments": list(
            Assignment.objects.order_by("device__asset_tag", "checked_out_at").values_list(
                "device__asset_tag", "holder_label", "checked_out_at", "checked_in_at", "due_on"
            )
        ),
        "events": list(
            DeviceEvent.objects.order_by("device__asset_tag", "occurred_at", "id").values_list(
                "device__asset_tag", "kind", "occurred_at", "before", "after", "note", "person_label"
            )
        ),
    }


def generate_and_roll_back(**kwargs: Any) -> dict[str, Any]:
    """Generate in a transaction of its own, take a snapshot, and undo everything."""
    with transaction.atomic():
        generate(scale="tiny", **kwargs)
        taken = snapshot()
        transaction.set_rollback(True)
    assert not Site.objects.exists()
    return taken


def test_same_seed_and_now_give_identical_data():
    first = generate_and_roll_back(seed=7, now=DEMO_NOW)
    second = generate_and_roll_back(seed=7, now=DEMO_NOW)
    assert first["devices"] and first["assignments"]
    assert first == second


@pytest.mark.postgres_only
def test_copy_and_bulk_create_write_the_same_rows():
    if connection.vendor != "postgresql":
        pytest.skip("COPY needs PostgreSQL")
    copied = generate_and_roll_back(seed=5, now=DEMO_NOW, use_copy=True)
    created = generate_and_roll_back(seed=5, now=DEMO_NOW, use_copy=False)
    assert copied == created


def test_another_seed_gives_other_data():
    first = generate_and_roll_back(seed=7, now=DEMO_NOW)
    other = generate_and_roll_back(seed=8, now=DEMO_NOW)
    assert first["people"] != other["people"]
    assert first["devices"] != other["devices"]


@pytest.mark.parametrize(
    "now",
    [
        DEMO_NOW,  # mid school year
        datetime.datetime(2026, 5, 28, 17, 0, tzinfo=UTC),  # during year-end collection
        datetime.datetime(2026, 7, 10, 12, 0, tzinfo=UTC),  # summer
        datetime.datetime(2026, 8, 18, 16, 0, tzinfo=UTC),  # during back-to-school distribution
        datetime.datetime(2026, 11, 30, 0, 0, tzinfo=UTC),
    ],
)
def test_rows_are_what_the_services_would_write(now):
    seed_tiny(now=now)
    assert invariant_violations(replay_sample=10_000) == []
    assert not DeviceEvent.objects.filter(occurred_at__gt=now).exists()
    assert not Assignment.objects.filter(checked_out_at__gt=now).exists()


def test_five_years_of_dense_history_stay_consistent():
    summary = generate(scale="tiny_history", now=DEMO_NOW)
    assert invariant_violations(replay_sample=10_000) == []
    first_event = DeviceEvent.objects.order_by("occurred_at").first()
    assert first_event is not None and first_event.occurred_at.year == 2020
    # New devices arrive in later summers, and every year has its back-to-school distribution.
    created_years = set(DeviceEvent.objects.filter(kind="created").values_list("occurred_at__year", flat=True))
    assert min(created_years) == 2020 and len(created_years) >= 3
    out_years = Counter(
        DeviceEvent.objects.filter(kind="checked_out", occurred_at__month=8).values_list("occurred_at__year", flat=True)
    )
    assert set(out_years) == {2020, 2021, 2022, 2023, 2024, 2025}
    assert summary.devices == 80


def test_sourced_ids_are_uuid5_of_their_keys():
    assert stable_id("2026:student:0041873") == str(uuid.uuid5(SOURCED_ID_NAMESPACE, "2026:student:0041873"))


def test_invariants_as_plain_queries():
    seed_tiny()
    S = Device.Status
    open_q = Q(assignments__checked_in_at__isnull=True)
    # Every assigned device has exactly one open assignment.
    assert not Device.objects.filter(status=S.ASSIGNED).annotate(n=Count("assignments", filter=open_q)).exclude(n=1)
    # No device in stock or in the loaner pool has an open assignment.
    assert not Assignment.objects.filter(checked_in_at__isnull=True, device__status__in=(S.IN_STOCK, S.LOANER_POOL))
    # Every assignment has its checked_out event, with the same time, person and labels.
    for assignment in Assignment.objects.all():
        out = DeviceEvent.objects.filter(
            device=assignment.device, kind="checked_out", occurred_at=assignment.checked_out_at
        )
        event = out.get()
        assert (event.person_id, event.person_label, event.actor_label) == (
            assignment.person_id,
            assignment.holder_label,
            assignment.checked_out_by_label,
        )
        assert event.before == {"status": event.before["status"], "holder": None}
        assert event.after == {
            "status": "assigned",
            "holder": assignment.holder_label,
            "due_on": assignment.due_on.isoformat() if assignment.due_on else None,
            "condition": assignment.condition_out,
            "loaner": assignment.is_loaner,
        }
        if assignment.checked_in_at is not None:
            back = DeviceEvent.objects.filter(
                device=assignment.device, kind="checked_in", occurred_at=assignment.checked_in_at
            ).get()
            assert back.before["holder"] == assignment.holder_label
            assert back.after == {
                "status": back.after["status"],
                "holder": None,
                "condition": assignment.condition_in,
            }
    # Every device has a created event; lost, stolen and retired ones a status_changed event.
    assert not Device.objects.exclude(events__kind="created")
    for device in Device.objects.filter(status__in=(S.LOST, S.STOLEN, S.RETIRED)):
        assert device.events.filter(kind="status_changed", after__status=device.status).exists()
    # The denormalized manufacturer is the model's.
    for device in Device.objects.select_related("model"):
        assert device.manufacturer_id == device.model.manufacturer_id


def test_tiny_counts_and_shapes():
    summary = seed_tiny()
    scale = SCALES["tiny"]
    assert summary.sites == Site.objects.count() == 2
    assert summary.students == Person.objects.filter(role="student").count() == scale.students
    assert summary.staff == Person.objects.filter(role="staff").count() == scale.staff
    assert summary.devices == Device.objects.count() == scale.devices
    assert summary.assignments == Assignment.objects.count()
    assert summary.open_assignments == Assignment.objects.filter(checked_in_at__isnull=True).count()
    assert summary.events == DeviceEvent.objects.count()
    assert sum(summary.devices_by_status.values()) == scale.devices
    first = Site.objects.order_by("id").first()
    assert first is not None and first.kind == "school" and first.people.filter(role="student").exists()
    for person in Person.objects.filter(role="student"):
        assert person.student_number.isdigit() and len(person.student_number) == 7
        assert person.grade in {"KG", *(f"{n:02d}" for n in range(1, 13))}
        assert 1 <= person.guardians.count() <= 2
    for device in Device.objects.all():
        assert isinstance(device.asset_tag, str) and device.asset_tag[:3] in {"CB-", "IP-", "LT-", "HS-", "CH-", "CS-"}
    district = District.get()
    assert (district.name, district.time_zone, district.ownership_mode) == (
        "Maple Valley Unified School District",
        "America/Chicago",
        "centralized",
    )


def test_logins_have_their_roles_and_the_demo_password():
    seed_tiny()
    first = Site.objects.order_by("id").first()
    expected = {
        "district-admin": ("district_admin", None),
        "district-tech": ("district_technician", None),
        "site-tech": ("site_technician", first),
        "principal": ("site_administrator", first),
        "auditor": ("auditor", None),
    }
    User = get_user_model()
    for username, (role, site) in expected.items():
        user = User.objects.get(username=username)
        assert list(StaffRole.objects.filter(user=user).values_list("role", "site")) == [
            (role, site.pk if site else None)
        ]
        assert user.check_password("demo")
    assert User.objects.get(username="district-admin").is_superuser


def test_refuses_to_seed_a_database_with_sites():
    assert not demo_is_seeded()
    seed_tiny()
    assert demo_is_seeded()
    with pytest.raises(DemoAlreadySeededError, match="already has 2 sites"):
        seed_tiny()


def test_unknown_scale_and_naive_now_are_refused():
    with pytest.raises(ValueError, match="Unknown scale"):
        generate(scale="huge", now=DEMO_NOW)
    with pytest.raises(ValueError, match="aware"):
        generate(scale="tiny", now=datetime.datetime(2026, 3, 2, 9, 0))


def test_command_seeds_once_and_prints_the_logins():
    out = StringIO()
    call_command("seed_demo", "--scale", "tiny", "--if-empty", stdout=out)
    text = out.getvalue()
    assert "Devices 80" in text and "site-tech" in text and "password: demo" in text
    again = StringIO()
    call_command("seed_demo", "--scale", "tiny", "--if-empty", stdout=again)
    assert "already seeded" in again.getvalue()
    assert Device.objects.count() == 80


def test_apportion_sums_to_the_total():
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(apportion(4000, [1.2, 0.8, 0.5, 0.5, 0.49])) == 4000
    assert apportion(0, [1, 2]) == [0, 0]


@pytest.mark.slow
def test_small_scale_matches_the_brief():
    summary = generate(scale="small", now=DEMO_NOW)
    assert (summary.sites, summary.students, summary.staff, summary.devices) == (8, 4000, 300, 4500)
    kinds = Counter(Site.objects.values_list("kind", "grades"))
    assert kinds[("school", "09,10,11,12")] == 1 and kinds[("school", "06,07,08")] == 2
    assert kinds[("school", "KG,01,02,03,04,05")] == 4 and kinds[("district_office", "")] == 1
    chromebooks = Device.objects.filter(model__category="chromebook")
    with_charger = chromebooks.filter(accessories__model__category="charger").distinct().count()
    assert 0.4 < with_charger / chromebooks.count() < 0.6
    assert Device.objects.filter(model__category="tablet").exists()
    assert Device.objects.filter(status="loaner_pool").values("current_site").distinct().count() == 7
    students = Person.objects.filter(role="student")
    assert 0.06 < students.filter(fee_reduction_eligible=True).count() / students.count() < 0.10
    assert students.filter(status__in=("withdrawn", "graduated", "inactive")).count() > 20
    assert GuardianContact.objects.exclude(preferred_language="English").exists()
    assert summary.devices_by_status.get("lost", 0) > 0 and summary.devices_by_status.get("stolen", 0) > 0
    assert summary.devices_by_status.get("retired", 0) > 0
    assert invariant_violations(replay_sample=500) == []


def test_history_never_runs_backwards_and_found_devices_of_leavers_are_checked_in():
    tz = ZoneInfo("America/Chicago")
    years = school_years(today=datetime.date(2026, 3, 2), count=1)
    loaner = Dev(id=1, tag="CB-000001", spec=MODELS_BY_KEY["lenovo-300e-g3"], cohort=0, loaner=True,
                 purchase_date=datetime.date(2024, 6, 1), static=())  # fmt: skip
    stays = Holder(id=1, label="Ana Ruiz #0000001", grade=10, fee=False, active_until=None, leaves_at=None)
    leaves = Holder(id=2, label="Ben Cole #0000002", grade=10, fee=False,
                    active_until=datetime.datetime(2026, 1, 10, 15, tzinfo=UTC), leaves_at=None)  # fmt: skip
    events: list[tuple[Any, ...]] = []
    tech = Actor(1, "Priya Natarajan (site-tech)")
    history = SiteHistory(rng=random.Random(1), now=DEMO_NOW, tz=tz, years=years,
                          site=SiteContext(code="LIN-HS", grades=(9, 12), locations={}, reserve={}),
                          devices=[loaner], students=[stays, leaves], staff=[], actor=tech, import_actor=tech,
                          emit_event=events.append)  # fmt: skip
    t = datetime.datetime(2025, 9, 8, 15, 0, tzinfo=UTC)
    history.create(loaner, t - datetime.timedelta(days=30), actor=tech, source="web")
    history.check_out(loaner, stays, t - datetime.timedelta(days=1), due_on=None)
    # One action writes a check-in six minutes after its own time; the next action, two minutes
    # later, lends the same loaner again: the second check-out must not be recorded before the check-in.
    history.check_in(loaner, t + datetime.timedelta(minutes=6), "good")
    history.check_out(loaner, leaves, t + datetime.timedelta(minutes=2), due_on=None)
    times = [row[1] for row in events]
    assert times == sorted(times)
    # Lost in December, the holder left in January, found in February: checked in, not handed back.
    history.status_change(loaner, "lost", datetime.datetime(2025, 12, 1, 15, tzinfo=UTC))
    history.found(datetime.datetime(2026, 2, 2, 15, tzinfo=UTC), loaner)
    assert loaner.status == "loaner_pool" and loaner.asg is None and not leaves.open
    assert [row[2] for row in events][-2:] == ["status_changed", "checked_in"]
