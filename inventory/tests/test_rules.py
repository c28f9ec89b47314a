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


# --------------------------------------------------------------------------- text lengths

LENGTH_CASES = [
    # (field, model, value, fits)
    ("asset_tag", Device, "T" * 64, True),
    ("asset_tag", Device, "T" * 65, False),
    ("serial_number", Device, "S" * 100, True),
    ("serial_number", Device, "S" * 101, False),
    ("google_device_id", Device, "", True),
    ("google_device_id", Device, "é" * 64, True),  # characters, not bytes
    ("google_device_id", Device, "é" * 65, False),
    ("name", "DeviceModel", "M" * 150, True),
    ("name", "DeviceModel", "M" * 151, False),
    ("name", "Manufacturer", "A" * 101, False),
]


def _model(name: Any) -> Any:
    from inventory.models import DeviceModel, Manufacturer

    return {"DeviceModel": DeviceModel, "Manufacturer": Manufacturer}.get(name, name)


@pytest.mark.parametrize(("field", "model", "value", "fits"), LENGTH_CASES)
def test_length_problem(field, model, value, fits):
    model = _model(model)
    assert rules.text_limit(field, model) == model._meta.get_field(field).max_length
    problem = rules.length_problem(value, field=field, model=model)
    assert (problem is None) is fits
    if not fits:
        assert problem == f"is {len(value)} characters long; at most {rules.text_limit(field, model)}"


@postgres_only
@pytest.mark.parametrize(("field", "model", "value", "fits"), LENGTH_CASES)
def test_too_long_python_and_sql_agree(field, model, value, fits):
    model = _model(model)
    assert sql_value(rules.too_long_sql("%(v)s::text", field=field, model=model), {"v": value}) is (not fits)


def test_model_length_problem_names_the_first_text_that_does_not_fit():
    assert rules.model_length_problem(name="100e", manufacturer="Lenovo", model_number="") is None
    assert rules.model_length_problem(name="M" * 151, manufacturer="A" * 101, model_number="")[0] == "name"
    assert rules.model_length_problem(name="100e", manufacturer="A" * 101, model_number="N" * 101)[0] == "manufacturer"
    assert rules.model_length_problem(name="100e", manufacturer="Lenovo", model_number="N" * 101) == (
        "model_number",
        "is 101 characters long; at most 100",
    )


def test_serial_holders_are_the_same_makers_devices(world):
    device = world.device_a
    maker = device.manufacturer_id
    assert list(rules.serial_holders(device.serial_number, manufacturer_id=maker)) == [device]
    assert not rules.serial_holders(device.serial_number, manufacturer_id=maker, exclude_pk=device.pk).exists()
    assert not rules.serial_holders(device.serial_number, manufacturer_id=maker + 1000).exists()


SERIAL_CASES = [
    # (the device's serial, a new device's serial of the same maker, taken)
    ("PFVF9QL1", "PFVF9QL1", True),
    ("PFVF9QL1", "pfvf9ql1", True),  # case is ignored (a tester made both, then scans found two)
    ("pfvf9ql1", "PfVf9Ql1", True),
    ("PFVF9QL1", "PFVF9QL2", False),
    ("PFVF9QL1", "PFVF9QL1 ", False),  # serials are stripped before, not compared loosely
    ("", "", False),  # devices without a serial never clash
]


@pytest.mark.parametrize(("serial", "other", "taken"), SERIAL_CASES)
def test_serial_holders_and_the_database_agree(world, serial, other, taken):
    """The rule (services, importers) and the unique index over (maker, lower(serial)) agree."""
    from django.db import IntegrityError, transaction

    device = world.device_a
    Device.objects.filter(pk=device.pk).update(serial_number=serial)
    assert rules.serial_holders(other, manufacturer_id=device.manufacturer_id).exists() is taken
    assert (rules.serial_key(serial) == rules.serial_key(other) and bool(serial)) is taken
    same = rules.serial_key_sql("%(a)s") + " = " + rules.serial_key_sql("%(b)s")
    assert bool(sql_value(same, {"a": serial, "b": other})) is (rules.serial_key(serial) == rules.serial_key(other))
    try:
        with transaction.atomic():
            Device.objects.create(
                asset_tag="NEW-1", serial_number=other, model=device.model, owner_site=device.owner_site,
                current_site=device.owner_site,
            )  # fmt: skip
        refused = False
    except IntegrityError:
        refused = True
    assert refused is taken


# --------------------------------------------------------------------------- matching rows to devices

SERIAL_MATCH_CASES = [
    # (makers of the devices with the row's serial, in id order; the row's maker; matched index; ambiguous indexes)
    ([], None, None, []),
    ([], "Lenovo", None, []),
    (["Lenovo"], None, 0, []),
    (["Lenovo"], "HP", 0, []),  # one device has the serial: the maker does not matter
    (["Lenovo", "HP"], None, None, [0, 1]),
    (["Lenovo", "HP"], "hp", 1, []),  # the maker decides, ignoring case
    (["Lenovo", "HP"], "Dell", None, [0, 1]),  # no device of that maker: still ambiguous
    (["Lenovo", "HP", "HP"], "HP", None, [1, 2]),  # ambiguous among that maker's
    (["Lenovo", "HP", "HP"], "Lenovo", 0, []),
]


@pytest.mark.parametrize(("makers", "maker", "matched", "ambiguous"), SERIAL_MATCH_CASES)
def test_narrow_by_maker(makers, maker, matched, ambiguous):
    candidates = list(enumerate(makers))
    left = rules.narrow_by_maker(candidates, maker=maker, maker_of=lambda c: c[1])
    assert ([i for i, _ in left] if len(left) > 1 else []) == ambiguous
    assert (left[0][0] if len(left) == 1 else None) == matched


@postgres_only
@pytest.mark.parametrize(("makers", "maker", "matched", "ambiguous"), SERIAL_MATCH_CASES)
def test_serial_match_python_and_sql_agree(makers, maker, matched, ambiguous):
    ids = [100 + i for i in range(len(makers))]
    maker_l = maker.lower() if maker is not None else None
    mine = [i for i, m in zip(ids, makers, strict=True) if maker_l is not None and m.lower() == maker_l]
    params = {
        "n": len(ids) or None,
        "ids": ids or None,
        "n_maker": len(mine),
        "maker_ids": mine or None,
        "maker": maker_l,
    }
    found, several = rules.serial_match_sql(
        n="%(n)s::int", ids="%(ids)s::int[]", n_maker="%(n_maker)s::int", maker_ids="%(maker_ids)s::int[]",
        maker="%(maker)s::text", otherwise="-1",
    )  # fmt: skip
    expected_id = 100 + matched if matched is not None else (-1 if not makers else None)
    assert sql_value(found, params) == expected_id
    assert (sql_value(several, params) or []) == [100 + i for i in ambiguous]


OTHER_DEVICE_CASES = [
    # (row's serial, the tag holder's serial, another device)
    ("PF1", "PF1", False),
    ("pf1", "PF1", False),  # case is ignored
    ("PF1", "PF2", True),
    ("PF1", "", False),  # the holder has no serial: the row may be it
    ("", "PF2", False),  # the row gives no serial
]


@pytest.mark.parametrize(("serial", "device_serial", "expected"), OTHER_DEVICE_CASES)
def test_tag_of_other_device_python_and_sql_agree(serial, device_serial, expected):
    assert rules.tag_of_other_device(serial=serial, device_serial=device_serial) is expected
    expression = rules.tag_of_other_device_sql(serial="%(serial)s", device_serial="%(other)s")
    assert bool(sql_value(expression, {"serial": serial, "other": device_serial})) is expected


def test_tag_candidates():
    live = {"pk": 1, "status": S.IN_STOCK, "serial_number": "A"}
    retired_serial = {"pk": 2, "status": S.RETIRED, "serial_number": "B"}
    retired_bare = {"pk": 3, "status": S.RETIRED, "serial_number": ""}
    devices = [live, retired_serial, retired_bare]
    assert rules.tag_candidates(devices, row_status=None, row_serial="") == [live]
    assert rules.tag_candidates(devices, row_status=S.IN_STOCK, row_serial="Z") == [live]
    # a row that says Retired matches retired devices only; with a serial only those without one
    assert rules.tag_candidates(devices, row_status=S.RETIRED, row_serial="") == [retired_serial, retired_bare]
    assert rules.tag_candidates(devices, row_status=S.RETIRED, row_serial="Z") == [retired_bare]


# --------------------------------------------------------------------------- new devices, imports and status

NEW_DEVICE_CASES = [
    # (has a site, has a model, problem)
    (True, True, None),
    (False, True, rules.NewDeviceProblem.NO_SITE),
    (True, False, rules.NewDeviceProblem.NO_MODEL),
    (False, False, rules.NewDeviceProblem.NO_SITE),  # the site first
]


@pytest.mark.parametrize(("site", "model", "expected"), NEW_DEVICE_CASES)
def test_new_device_missing_python_and_sql_agree(site, model, expected):
    assert rules.new_device_missing(has_site=site, has_model=model) == expected
    expression = rules.new_device_missing_sql(has_site="%(site)s", has_model="%(model)s")
    assert sql_value(expression, {"site": site, "model": model}) == (expected and str(expected))


def test_new_device_messages_and_statuses():
    assert rules.NewDeviceProblem.NO_MODEL.message == "is empty; a new device needs a model"
    assert rules.NewDeviceProblem.NO_SITE.message == "is empty; a new device needs a site"
    assert rules.NewDeviceProblem.NO_TAG.message == "is empty; a new device needs an asset tag"
    assert [s for s in S if rules.new_device_status_ok(s)] == [S.IN_STOCK, S.LOANER_POOL]


def test_imports_never_change_a_status():
    assert rules.import_status_note(current=S.IN_STOCK, given=None) is None
    assert rules.import_status_note(current=S.IN_STOCK, given=S.IN_STOCK) is None
    note = rules.import_status_note(current=S.ASSIGNED, given=S.IN_STOCK)
    assert note is not None and "(Assigned)" in note and "does not change a device's status" in note


IMPORT_MAY_CHANGE_CASES = [(status, status != S.RETIRED) for status in S.values]


@pytest.mark.parametrize(("status", "expected"), IMPORT_MAY_CHANGE_CASES)
def test_import_may_change_python_and_sql_agree(status, expected):
    assert rules.import_may_change(status=status) is expected
    assert bool(sql_value(rules.import_may_change_sql(status="%(status)s"), {"status": str(status)})) is expected


def test_only_district_roles_may_create_models():
    assert rules.may_create_models(everywhere_change=True) is True
    assert rules.may_create_models(everywhere_change=False) is False


RETAG_CASES = [
    # (the device's tag, the file's tag, its status, an open assignment, re-tag, refused)
    ("CB-008714", "QA-0006", S.IN_STOCK, False, True, False),
    ("CB-008714", "QA-0006", S.ASSIGNED, True, True, True),  # checked out: its holder's records use the tag
    ("CB-008714", "cb-008714", S.ASSIGNED, True, False, False),  # another case: a respelling
    ("CB-008714", "CB-008714", S.IN_STOCK, False, False, False),
    ("CB-008714", "", S.ASSIGNED, True, False, False),  # the file says nothing
    ("CB-008714", "QA-0006", S.LOST, True, True, False),  # a lost device's open assignment does not hold it
    ("CB-008714", "QA-0006", S.RETIRED, False, True, False),
]


@pytest.mark.parametrize(("old", "new", "status", "open_", "retag", "refused"), RETAG_CASES)
def test_import_retag_python_and_sql_agree(old, new, status, open_, retag, refused):
    assert rules.import_retag(old_tag=old, new_tag=new) is retag
    assert rules.import_retag_refused(old_tag=old, new_tag=new, status=status, has_open_assignment=open_) is refused
    params = {"old": old, "new": new, "status": str(status), "open": open_}
    assert bool(sql_value(rules.import_retag_sql(old_tag="%(old)s", new_tag="%(new)s"), params)) is retag
    expression = rules.import_retag_refused_sql(
        old_tag="%(old)s", new_tag="%(new)s", status="%(status)s", has_open_assignment="%(open)s"
    )
    assert bool(sql_value(expression, params)) is refused


def test_import_retag_messages():
    assert rules.import_retag_note(old_tag="CB-008714", new_tag="QA-0006", serial="PFW4J8TN") == (
        "the asset tag changes from CB-008714 to QA-0006 (matched by serial PFW4J8TN)"
    )
    assert rules.import_retag_refusal(old_tag="CB-008714", serial="PFW4J8TN").startswith(
        "would change the asset tag of device CB-008714 (matched by serial PFW4J8TN), which is checked out"
    )
