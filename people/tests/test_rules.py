"""people.rules: each rule's Python form and its SQL twin give the same answer for the same
cases (one table a rule). The portable twins run on SQLite and PostgreSQL; the ones using
arrays or PostgreSQL's regular expressions on PostgreSQL only."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import connection

from core.choices import GRADE_CODES
from core.scoping import HIDDEN_PERSON
from people import rules
from people.models import Person

pytestmark = pytest.mark.django_db
postgres_only = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's SQL"),
]

St = Person.Status


def sql_value(expression: str, params: Any = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression}", params)
        return cursor.fetchone()[0]


def sql_bool(expression: str, params: Any = None) -> bool | None:
    value = sql_value(f"CASE WHEN {expression} THEN 1 ELSE 0 END", params)
    return bool(value)


# --------------------------------------------------------------------------- statuses

RECEIVE_CASES = [
    (St.ACTIVE, True),
    (St.INACTIVE, False),
    (St.WITHDRAWN, False),
    (St.GRADUATED, False),
    (St.TRANSFERRED, False),
]


@pytest.mark.parametrize(("status", "expected"), RECEIVE_CASES)
def test_may_receive_devices_python_and_sql_agree(status, expected):
    assert rules.may_receive_devices(status) is expected
    assert sql_bool(rules.may_receive_devices_sql("%(s)s"), {"s": str(status)}) is expected


def test_every_status_is_judged():
    assert {str(s) for s, _ in RECEIVE_CASES} == set(St.values)
    assert Person.CAN_RECEIVE_DEVICES == rules.CAN_RECEIVE_DEVICES


OUTCOME_CASES = [
    # (stored status or None, row says tobedeleted, a managed field differs, outcome)
    (None, False, True, rules.CREATED),
    (None, True, True, rules.UNCHANGED),  # deleting nobody does nothing
    (St.ACTIVE, False, False, rules.UNCHANGED),
    (St.ACTIVE, False, True, rules.UPDATED),
    (St.ACTIVE, True, False, rules.DEACTIVATED),
    (St.INACTIVE, True, False, rules.UNCHANGED),
    (St.INACTIVE, False, False, rules.REACTIVATED),
    (St.INACTIVE, False, True, rules.REACTIVATED),
    (St.WITHDRAWN, False, False, rules.UNCHANGED),  # set by hand: a roster does not undo it
    (St.WITHDRAWN, False, True, rules.UPDATED),
    (St.WITHDRAWN, True, False, rules.UNCHANGED),
    (St.GRADUATED, False, True, rules.UPDATED),
    (St.GRADUATED, True, True, rules.UNCHANGED),
    (St.TRANSFERRED, False, False, rules.UNCHANGED),
]


@pytest.mark.parametrize(("status", "deleted", "changed", "expected"), OUTCOME_CASES)
def test_roster_outcome_python_and_sql_agree(status, deleted, changed, expected):
    assert rules.roster_outcome(status, deleted=deleted, changed=changed) == expected
    expression = rules.roster_outcome_sql("%(s)s", deleted="%(d)s", changed="%(c)s")
    params = {"s": None if status is None else str(status), "d": deleted, "c": changed}
    assert sql_value(expression, params) == expected


def test_outcome_words_are_the_pipelines():
    from imports import pipeline

    assert (rules.CREATED, rules.UPDATED, rules.UNCHANGED, rules.DEACTIVATED, rules.REACTIVATED) == (
        pipeline.CREATED, pipeline.UPDATED, pipeline.UNCHANGED, pipeline.DEACTIVATED, pipeline.REACTIVATED,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "expected"),
    [(St.INACTIVE, St.ACTIVE), (St.ACTIVE, St.ACTIVE), (St.WITHDRAWN, St.WITHDRAWN), (St.GRADUATED, St.GRADUATED),
     (St.TRANSFERRED, St.TRANSFERRED)],
)  # fmt: skip
def test_status_when_listed_python_and_sql_agree(status, expected):
    assert rules.status_when_listed(status) == expected
    assert sql_value(rules.status_when_listed_sql("%(s)s"), {"s": str(status)}) == expected


BULK_CASES = [
    # (status, sourcedId, listed by the file, made inactive)
    (St.ACTIVE, "u1", False, True),
    (St.ACTIVE, "u1", True, False),
    (St.ACTIVE, "", False, False),  # added by hand: never touched
    (St.INACTIVE, "u1", False, False),
    (St.WITHDRAWN, "u1", False, False),
    (St.GRADUATED, "u1", False, False),
    (St.TRANSFERRED, "u1", False, False),
]


@pytest.mark.parametrize(("status", "sid", "listed", "expected"), BULK_CASES)
def test_bulk_deactivates_python_and_sql_agree(status, sid, listed, expected):
    assert rules.bulk_deactivates(status=status, sourced_id=sid, listed=listed) is expected
    expression = rules.bulk_deactivates_sql(status="%(s)s", sourced_id="%(sid)s", listed="%(l)s")
    assert sql_bool(expression, {"s": str(status), "sid": sid, "l": listed}) is expected


@pytest.mark.parametrize(
    ("missing", "active", "expected"),
    [(0, 0, False), (0, 100, False), (20, 100, False), (21, 100, True), (1, 4, True), (1, 5, False), (3, 0, True)],
)
def test_deactivation_needs_confirmation_over_a_fifth(missing, active, expected):
    assert rules.deactivation_needs_confirmation(missing=missing, active=active) is expected


# --------------------------------------------------------------------------- student numbers

TAKEN_CASES = [
    # (other person's status, their sourcedId, listed by the file, bulk file listing everyone, counts)
    (St.ACTIVE, "", False, False, True),
    (St.ACTIVE, "", False, True, True),  # a person without sourcedId stays whatever the file
    (St.ACTIVE, "u2", False, False, True),
    (St.ACTIVE, "u2", True, False, False),  # their own row says what they become
    (St.ACTIVE, "u2", False, True, False),  # a bulk file makes them inactive
    (St.INACTIVE, "", False, False, False),
    (St.WITHDRAWN, "u2", False, False, False),
    (St.GRADUATED, "", False, False, False),
]


@pytest.mark.parametrize(("status", "sid", "listed", "everyone", "expected"), TAKEN_CASES)
def test_number_taken_by_python_and_sql_agree(status, sid, listed, everyone, expected):
    assert rules.number_taken_by(status=status, sourced_id=sid, listed=listed, everyone_listed=everyone) is expected
    expression = rules.number_taken_by_sql(
        status="%(s)s", sourced_id="%(sid)s", listed="%(l)s", everyone_listed="%(e)s"
    )
    assert sql_bool(expression, {"s": str(status), "sid": sid, "l": listed, "e": everyone}) is expected


OWNER_CASES = [
    # (given, family, sourcedId, site name, visible, others)
    ("Ana", "Ruiz", "u9", "North High", True, 0),
    ("Ana", "Ruiz", "", "North High", True, 0),
    ("Ana", "O'Neil", "u'9", None, True, 1),
    ("Ana", "Ruiz", "u9", "North High", True, 3),
    ("Ana", "Ruiz", "u9", "North High", False, 0),
    ("Ana", "Ruiz", "u9", "North High", False, 2),
]


@pytest.mark.parametrize(("given", "family", "sid", "site", "visible", "others"), OWNER_CASES)
def test_number_taken_reason_python_and_sql_agree(given, family, sid, site, visible, others):
    text = rules.number_taken_reason(
        rules.number_owner_text(
            given=given, family=family, sourced_id=sid, site_name=site, visible=visible, others=others
        )
    )
    who = rules.number_owner_text_sql(
        given="%(g)s", family="%(f)s", sourced_id="%(sid)s", site_name="%(site)s", visible="%(v)s", others="%(n)s"
    )
    params = {"g": given, "f": family, "sid": sid, "site": site, "v": visible, "n": others}
    assert sql_value(rules.number_taken_reason_sql(who), params) == text
    assert ("Ruiz" in text or "O'Neil" in text) is visible
    assert (HIDDEN_PERSON in text) is not visible


SHARED_CASES = [
    ("00123", [2, 5]),
    ("A'1", [3, 4, 9]),
    ("7", list(range(2, 52))),  # exactly 50 lines: all shown
    ("7", list(range(2, 60))),  # more: the first 50 and a count
]


@pytest.mark.parametrize(("number", "lines"), SHARED_CASES, ids=["two", "quote", "fifty", "more"])
@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="arrays are PostgreSQL's")
def test_shared_number_reason_python_and_sql_agree(number, lines):
    expression = rules.shared_number_reason_sql("%(n)s", "%(l)s::integer[]")
    assert sql_value(expression, {"n": number, "l": lines}) == rules.shared_number_reason(number, lines)


def test_shared_number_reason_lists_fifty_lines():
    text = rules.shared_number_reason("7", list(range(2, 60)))
    assert "lines 2, 3," in text and ", 51 and 8 more)" in text and "58 students" in text


# --------------------------------------------------------------------------- names

TEXT_CASES = [
    # (value, required, max length)
    ("", True, 100),
    ("", False, 100),
    ("Ana", True, 100),
    ("x" * 100, True, 100),
    ("x" * 101, True, 100),
    ("é" * 101, False, 100),  # characters, not bytes
    ("y" * 65, False, 64),
]


@pytest.mark.parametrize(("value", "required", "max_length"), TEXT_CASES)
def test_text_problem_python_and_sql_agree(value, required, max_length):
    expected = rules.text_problem(value, name="givenName", max_length=max_length, required=required)
    expression = rules.text_problem_sql("%(v)s", name="givenName", max_length=max_length, required=required)
    assert sql_value(expression, {"v": value}) == expected
    assert (expected is None) is ((value or not required) and len(value) <= max_length)


@pytest.mark.parametrize(("value", "max_length"), [("", 3), ("abc", 3), ("abcd", 3), ("0" * 65, 64), ("Zoë" * 30, 64)])
def test_too_long_python_and_sql_agree(value, max_length):
    """One wording for a text that does not fit (student numbers, sourcedIds, names), in
    Python (the row-by-row paths, ``imports.pipeline.Step.cell_identifier``) and in SQL."""
    expected = rules.too_long(value, max_length=max_length)
    assert sql_value(rules.too_long_sql("%(v)s", max_length=max_length), {"v": value}) == expected
    assert (expected is None) is (len(value) <= max_length)
    if expected:
        assert expected == f"is {len(value)} characters long; at most {max_length}"


def test_sql_text_refuses_a_percent_sign():
    assert rules.sql_text("it's") == "'it''s'"
    with pytest.raises(ValueError):
        rules.sql_text("100%")


# --------------------------------------------------------------------------- email addresses

EMAIL_CASES = [
    "ana@example.org",
    "Ana.Ruiz+tag@Sub.Example.ORG",
    "o'neil@example.org",
    "ana@example",
    "ana@@example.org",
    "ana example@example.org",
    "ana@exa_mple.org",
    "ána@example.org",
    "ana@192.168.0.1",
    "a" * 65 + "@example.org",
    "ana@" + "b" * 250 + ".org",
    "",
]


@pytest.mark.parametrize("value", EMAIL_CASES)
@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="~* is PostgreSQL's")
def test_email_pattern_vouches_only_for_valid_addresses(value):
    """The SQL form is one-sided: what it accepts the rule accepts; the rest goes to the rule."""
    certainly = sql_bool(
        rules.email_certainly_valid_sql("%(v)s", "%(p)s"), {"v": value, "p": rules.EMAIL_CERTAINLY_VALID}
    )
    if certainly:
        assert rules.email_is_valid(value)


def test_email_rule_cases():
    assert rules.email_is_valid("ana@example.org")
    assert not rules.email_is_valid("ana@example")
    assert not rules.email_is_valid("a@" + "b" * 250 + ".org")  # over 254 characters


# --------------------------------------------------------------------------- grades and roles


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", ""), ("  ", ""), ("1", "01"), ("k", "KG"), ("KG", "KG"), ("12", "12"), ("pk", "PK"), ("Other", "Other")],
)
def test_grade_of_gives_ceds_codes(raw, expected):
    code, problem = rules.grade_of(raw)
    assert (code, problem) == (expected, "")
    assert code == "" or code in dict(GRADE_CODES)


@pytest.mark.parametrize("raw", ["14", "0", "first", "K5"])
def test_grade_of_warns_and_leaves_the_grade(raw):
    code, problem = rules.grade_of(raw)
    assert code is None and problem.endswith("grade left as it was")


@pytest.mark.parametrize(
    ("role", "kind"),
    [("student", rules.STUDENT), ("Teacher", rules.STAFF), ("District Administrator", rules.STAFF),
     ("system_administrator", rules.STAFF), ("parent", rules.GUARDIAN), ("Relative", rules.GUARDIAN),
     ("proctor", rules.SKIP), ("janitor", None), ("", None)],
)  # fmt: skip
def test_person_kind_of_oneroster_roles(role, kind):
    assert rules.person_kind(role) == kind
    assert kind is None or rules.role_key(role) in rules.ROLE_KINDS


# --------------------------------------------------------------------------- a person's home site from a roster

SCHOOLS = {"sch1": 1, "sch2": 2}


def _home(candidates, office=None):
    return rules.home_site(
        candidates, site_for_org=SCHOOLS.get, is_district_org=lambda org: org == "d1", district_office=lambda: office
    )


def test_home_site_first_school_wins_then_the_district_office():
    assert _home([("role", "dept"), ("primaryOrgSourcedId", "sch2"), ("orgSourcedIds", "sch1")]) == 2
    assert _home([("orgSourcedIds", "d1"), ("orgSourcedIds", "x")], office=9) == 9
    with pytest.raises(rules.NoHomeSite) as empty:
        _home([])
    assert (empty.value.column, empty.value.reason) == ("orgSourcedIds", "is empty; every person needs a school")
    with pytest.raises(rules.NoHomeSite) as district:
        _home([("primaryOrgSourcedId", "d1")])
    assert not district.value.header and "no district-office site" in district.value.reason
    with pytest.raises(rules.NoHomeSite) as none:
        _home([("role", "x"), ("orgSourcedIds", "y")])
    assert (none.value.column, none.value.value) == ("role", "x, y")
    assert none.value.reason == "names no school in orgs.csv or in DeviceLedger"


def test_a_school_is_in_use_with_active_people_or_devices():
    assert not rules.school_in_use(active_people=0, devices=0)
    assert rules.school_in_use(active_people=1, devices=0) and rules.school_in_use(active_people=0, devices=3)


# --------------------------------------------------------------------------- guardian links a bulk roster no longer has


@pytest.mark.parametrize("case", list(itertools.product([False, True], repeat=6)))
def test_guardian_link_stale_python_and_sql_agree(case):
    from_roster, listed, leaving, unplanned, in_plan, in_agents = case
    expected = rules.guardian_link_stale(
        from_roster=from_roster, student_listed=listed, student_leaving=leaving, guardian_unplanned=unplanned,
        linked=in_plan or in_agents,
    )  # fmt: skip
    sql = rules.guardian_link_stale_sql(
        from_roster="%(a)s", student_listed="%(b)s", student_leaving="%(c)s", guardian_unplanned="%(d)s",
        linked=["%(e)s", "%(f)s"],
    )  # fmt: skip
    params = dict(zip("abcdef", case, strict=True))
    assert sql_bool(sql, params) is expected
    assert expected is (from_roster and listed and not leaving and not unplanned and not in_plan and not in_agents)


# --------------------------------------------------------------------------- name search keys

SEARCH_KEY_CASES = [
    ("José", "jose"),
    ("Acuña", "acuna"),
    ("JÁQUEZ", "jaquez"),
    ("jaquez", "jaquez"),
    ("Nguyễn", "nguyen"),
    ("Trần Thị", "tran thi"),
    ("Çelik", "celik"),
    ("Łukasz", "łukasz"),  # Ł has no decomposition: a different letter, only lower-cased
    ("Øyvind", "øyvind"),
    ("Müller-Groß", "muller-groß"),
    ("O'Brien", "o'brien"),
    ("Ĳsselmeer", "ijsselmeer"),
    ("Zoë", "zoe"),
    ("", ""),
    ("e\u0301tienne", "etienne"),  # decomposed input (combining acute)
    ("x" * 150, "x" * rules.SEARCH_KEY_MAX),
]


@pytest.mark.parametrize(("name", "expected"), SEARCH_KEY_CASES)
def test_search_key_ignores_accents_and_case(name, expected):
    assert rules.search_key(name) == expected


@pytest.mark.parametrize(("name", "expected"), SEARCH_KEY_CASES)
@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="translate() is PostgreSQL's")
def test_search_key_python_and_sql_agree(name, expected):
    assert sql_value(rules.search_key_sql("%(v)s"), {"v": name}) == expected


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="translate() is PostgreSQL's")
def test_search_key_sql_agrees_on_every_letter_of_its_table():
    letters = [chr(c) for low, high in rules._FOLDED_RANGES for c in range(low, high + 1)]
    letters += [chr(c) for c in range(0x20, 0x7F)]
    text = "".join(letters)
    assert sql_value(rules.search_key_sql("%(v)s"), {"v": text[:5000]}) is not None
    for ch in letters:
        assert sql_value(rules.search_key_sql("%(v)s"), {"v": ch}) == rules.search_key(ch), hex(ord(ch))
