"""inventory.rules: each rule's Python form and its SQL twin give the same answer for the same
cases (one table a rule). The portable SQL runs on SQLite and PostgreSQL; the MAC address
form (regular expressions) and the non-ASCII asset tags on PostgreSQL only."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection

from inventory import rules
from inventory.models import Device

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's SQL")

S = Device.Status


def sql_value(expression: str, params: Any = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression}", params)
        return cursor.fetchone()[0]


TRANSFER_CASES = [
    # (status, has an open assignment, refusal)
    (S.IN_STOCK, False, None),
    (S.IN_STOCK, True, rules.TransferRefusal.CHECKED_OUT),
    (S.ASSIGNED, True, rules.TransferRefusal.CHECKED_OUT),
    (S.ASSIGNED, False, None),
    (S.LOST, True, None),  # a lost device's open assignment does not hold it
    (S.STOLEN, True, None),
    (S.IN_REPAIR, True, rules.TransferRefusal.CHECKED_OUT),
    (S.RETIRED, False, rules.TransferRefusal.RETIRED),
    (S.RETIRED, True, rules.TransferRefusal.RETIRED),
]


@pytest.mark.parametrize(("status", "open_", "expected"), TRANSFER_CASES)
def test_transfer_refusal_python_and_sql_agree(status, open_, expected):
    assert rules.transfer_refusal(status=status, has_open_assignment=open_) == expected
    expression = rules.transfer_refusal_sql(status="%(status)s", has_open_assignment="%(open)s")
    assert sql_value(expression, {"status": str(status), "open": open_}) == (expected and str(expected))


TAG_CASES = [
    # (tag, other device's tag, its status, clash)
    ("A-100", "A-100", S.IN_STOCK, True),
    ("a-100", "A-100", S.ASSIGNED, True),  # case is ignored
    ("A-100", "A-100", S.RETIRED, False),  # a retired device may share its tag
    ("A-100", "A-1000", S.IN_STOCK, False),
    ("A-100", "A-100 ", S.IN_STOCK, False),  # tags are stripped before, not compared loosely
    ("LOST-1", "lost-1", S.LOST, True),
]
NON_ASCII_TAG_CASES = [
    ("ÉCOLE-1", "école-1", S.IN_STOCK, True),
    ("ÄÖÜ", "äöü", S.IN_STOCK, True),
]


def _tag_agrees(tag: str, other: str, status: str, expected: bool) -> None:
    assert rules.live_tag_clash(tag=tag, other_tag=other, other_status=status) is expected
    expression = rules.live_tag_clash_sql(tag="%(tag)s", other_tag="%(other)s", other_status="%(status)s")
    assert bool(sql_value(expression, {"tag": tag, "other": other, "status": str(status)})) is expected


@pytest.mark.parametrize(("tag", "other", "status", "expected"), TAG_CASES)
def test_live_tag_clash_python_and_sql_agree(tag, other, status, expected):
    _tag_agrees(tag, other, status, expected)


@postgres_only
@pytest.mark.parametrize(("tag", "other", "status", "expected"), NON_ASCII_TAG_CASES)
def test_live_tag_clash_of_accented_tags_agrees_on_postgresql(tag, other, status, expected):
    # SQLite's lower() folds ASCII only (and so does its unique index): there the two differ.
    _tag_agrees(tag, other, status, expected)


def test_live_tag_holders_follow_the_rule(world):
    device = world.device_a
    assert list(rules.live_tag_holders(device.asset_tag.lower())) == [device]
    assert not rules.live_tag_holders(device.asset_tag, exclude_pk=device.pk).exists()
    Device.objects.filter(pk=device.pk).update(status=S.RETIRED)
    assert not rules.live_tag_holders(device.asset_tag).exists()


MAC_CASES = [
    ("", ""),
    ("   ", ""),
    ("8fad06cb0fb3", "8F:AD:06:CB:0F:B3"),
    ("8F-AD-06-CB-0F-B3", "8F:AD:06:CB:0F:B3"),
    ("8f:ad:06:cb:0f:b3", "8F:AD:06:CB:0F:B3"),
    ("8fad.06cb.0fb3", "8F:AD:06:CB:0F:B3"),
    ("  3C:22:FB:12:34:56\t", "3C:22:FB:12:34:56"),
    ("\u00a03C22FB123456\u3000", "3C:22:FB:12:34:56"),  # every white space str.strip strips
    ("3C:22:FB:12:34", None),
    ("3C:22:FB:12:34:56:78", None),
    ("3C:22:FB:12:34:5G", None),
    ("3C::22:FB:12:34:56", None),
    ("3C 22 FB 12 34 56", None),
    ("3C22FB1234567", None),
    ("not a mac", None),
    ("ＡＡ:BB:CC:DD:EE:FF", None),  # full-width letters are not hex digits
]


@postgres_only
@pytest.mark.parametrize(("text", "expected"), MAC_CASES)
@pytest.mark.parametrize("stripped", [False, True])
def test_mac_normalize_python_and_sql_agree(text, expected, stripped):
    assert rules.mac_normalize(text) == expected
    given = text.strip() if stripped else text
    assert sql_value(rules.mac_normalize_sql("%(mac)s::text", stripped=stripped), {"mac": given}) == expected


@pytest.mark.parametrize(("text", "expected"), MAC_CASES)
def test_mac_normalize(text, expected):
    assert rules.mac_normalize(text) == expected


TODAY = datetime.date(2025, 3, 10)
DATE_CASES = [
    # (purchase date, warranty end, problems)
    (None, None, []),
    (TODAY, None, []),
    (TODAY + datetime.timedelta(days=1), None, [("purchase_date", rules.DateProblem.PURCHASE_IN_FUTURE)]),
    (TODAY, TODAY, []),
    (TODAY, TODAY - datetime.timedelta(days=1), [("warranty_end", rules.DateProblem.WARRANTY_BEFORE_PURCHASE)]),
    (None, TODAY - datetime.timedelta(days=900), []),  # no purchase date: nothing to compare with
    (
        TODAY + datetime.timedelta(days=5),
        TODAY + datetime.timedelta(days=1),
        [
            ("purchase_date", rules.DateProblem.PURCHASE_IN_FUTURE),
            ("warranty_end", rules.DateProblem.WARRANTY_BEFORE_PURCHASE),
        ],
    ),
]


@pytest.mark.parametrize(("bought", "warranty", "expected"), DATE_CASES)
def test_date_problems_python_and_sql_agree(bought, warranty, expected):
    assert rules.date_problems(purchase_date=bought, warranty_end=warranty, today=TODAY) == expected
    cast = "date" if connection.vendor == "postgresql" else "text"  # SQLite compares ISO dates as text
    purchase, warranty_sql = f"CAST(%(bought)s AS {cast})", f"CAST(%(warranty)s AS {cast})"
    future = rules.PURCHASE_IN_FUTURE_SQL.format(purchase=purchase)
    early = rules.WARRANTY_BEFORE_PURCHASE_SQL.format(purchase=purchase, warranty=warranty_sql)
    params = {"bought": bought, "warranty": warranty, "today": TODAY}
    found = []
    if sql_value(future.replace("%(today)s", f"CAST(%(today)s AS {cast})"), params):
        found.append(("purchase_date", rules.DateProblem.PURCHASE_IN_FUTURE))
    if sql_value(early, params):
        found.append(("warranty_end", rules.DateProblem.WARRANTY_BEFORE_PURCHASE))
    assert found == expected


@pytest.mark.parametrize(
    ("mode", "field"), [("decentralized", "owner_site_id"), ("centralized", "current_site_id"), ("", "current_site_id")]
)
def test_device_site_field_per_ownership_mode(mode, field):
    from core.scoping import Scope

    assert rules.device_site_field(mode) == field
    assert Scope(ownership_mode=mode).device_site_field == field
