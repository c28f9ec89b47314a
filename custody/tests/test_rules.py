"""custody.rules: which devices may be checked out, and due dates in the district's date. No
SQL twins (no set-based path checks devices out); the import's check-outs and
``custody.services.device_check_out`` call the same predicates."""

from __future__ import annotations

import datetime

import pytest

from custody import rules
from inventory.models import Device

S = Device.Status

CHECKOUT_CASES = [
    (S.IN_STOCK, None),
    (S.LOANER_POOL, None),
    (S.ASSIGNED, rules.CheckOutRefusal.ALREADY_OUT),
    (S.IN_REPAIR, rules.CheckOutRefusal.UNAVAILABLE),
    (S.LOST, rules.CheckOutRefusal.UNAVAILABLE),
    (S.STOLEN, rules.CheckOutRefusal.UNAVAILABLE),
    (S.RETIRED, rules.CheckOutRefusal.UNAVAILABLE),
]


@pytest.mark.parametrize(("status", "expected"), CHECKOUT_CASES)
def test_checkout_refusal(status, expected):
    assert rules.checkout_refusal(status=status) == expected


def test_every_status_has_a_case():
    assert {status for status, _ in CHECKOUT_CASES} == set(S)


TODAY = datetime.date(2025, 3, 9)


@pytest.mark.parametrize(
    ("due_on", "past"),
    [
        (None, False),
        (TODAY, False),
        (TODAY + datetime.timedelta(days=1), False),
        (TODAY - datetime.timedelta(days=1), True),
    ],
)
def test_due_date_in_past(due_on, past):
    assert rules.due_date_in_past(due_on=due_on, today=TODAY) is past


@pytest.mark.parametrize(
    ("due_on", "words"),
    [
        (None, None),
        (TODAY, None),
        (datetime.date(2030, 3, 9), None),  # five years ahead: the latest allowed
        (
            datetime.date(2030, 3, 10),
            "The due date 2030-03-10 is more than 5 years ahead: the latest allowed is 2030-03-09.",
        ),
        (
            datetime.date(9999, 12, 31),
            "The due date 9999-12-31 is more than 5 years ahead: the latest allowed is 2030-03-09.",
        ),
        (TODAY - datetime.timedelta(days=1), "The due date is in the past."),
    ],
)
def test_due_date_refusal_refuses_the_past_and_too_far_ahead(due_on, words):
    assert rules.due_date_refusal(due_on=due_on, today=TODAY) == words
    assert rules.due_date_too_far(due_on=due_on, today=TODAY) is (words is not None and "ahead" in words)


def test_latest_due_on_of_29_february():
    assert rules.latest_due_on(today=datetime.date(2028, 2, 29)) == datetime.date(2033, 2, 28)


@pytest.mark.django_db
def test_district_today_is_the_districts_date():
    from sites.models import District

    District.objects.update_or_create(pk=1, defaults={"time_zone": "America/Chicago"})
    at = datetime.datetime(2025, 3, 10, 3, 0, tzinfo=datetime.UTC)  # 9 March, 22:00 in Chicago (CDT)
    assert rules.district_today(at) == TODAY


LEAVER_CASES = [
    ("made inactive", ["CB-001234", "CHG-0042"]),
    ("moves to Adams Elementary", ["CB-000777"]),
    ("not in the file, made inactive", ["A'1", "b, 2", "Ü-3"]),
    ("moves to O'Brien Middle", ["X"]),
]


@pytest.mark.django_db
@pytest.mark.postgres_only
@pytest.mark.parametrize(("what", "tags"), LEAVER_CASES)
def test_leaver_still_holds_python_and_sql_agree(what, tags):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("arrays are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {rules.leaver_still_holds_sql(what='%s', tags='%s::text[]')}", [what, tags])
        in_sql = cursor.fetchone()[0]
    assert in_sql == rules.leaver_still_holds(what=what, tags=tags)
