"""The set-based OneRoster users.csv path (PostgreSQL) gives what the row-by-row path gives.

Each scenario runs twice on the same tiny files — ``IMPORTS_SET_BASED`` off (the Python
path), then on — from the same starting data, and everything an import leaves is compared:
people, guardian contacts, sites, the district, the change log's entries (without ids and
times; objects by label, sites by code, runs by their order), each run's status, error,
preview and applied counts, notes, error and warning counts, and every issue in order. PostgreSQL only
(SQLite has only the Python path).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from core.models import ChangeLog
from core.testing import PersonFactory, SiteFactory
from imports.models import ImportIssue, ImportRun
from imports.oneroster_sql import NotClean, SetBasedUsersStep, _clean_blocks, drop_stale_stages
from imports.oneroster_users import PeopleStep
from imports.services import import_run_commit, import_run_start
from imports.tests.roster import (
    USERS_11,
    manifest,
    orgs_csv,
    roster_dir,
    roster_zip,
    run_import,
    standard_roster,
    user,
    users_csv,
)
from people.models import GuardianContact, Person
from sites.models import District, Site

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the set-based path is PostgreSQL's"),
]

Scenario = Callable[[Path], list[ImportRun]]


# --------------------------------------------------------------------------- comparing


def snapshot() -> dict[str, Any]:
    """Everything an import may change, without ids and timestamps."""
    people = list(
        Person.objects.order_by("pk").values_list(
            "sourced_id", "role", "given_name", "family_name", "preferred_name", "email", "student_number",
            "state_id", "grade", "graduation_year", "home_site__code", "homeroom", "status",
            "fee_reduction_eligible",
        )
    )  # fmt: skip
    contacts = list(
        GuardianContact.objects.order_by("pk").values_list(
            "person__sourced_id", "person__given_name", "sourced_id", "name", "relationship", "email", "phone",
            "preferred_language",
        )
    )  # fmt: skip
    sites = sorted(Site.objects.values_list("code", "sourced_id", "name", "kind", "active"))
    return {"people": people, "contacts": contacts, "sites": sites, "district": District.get().name}


def run_facts(run: ImportRun) -> dict[str, Any]:
    run.refresh_from_db()
    issues = list(
        ImportIssue.objects.filter(run=run)
        .order_by("id")
        .values_list("file", "line", "column", "value", "severity", "reason", "key")
    )
    return {
        "status": run.status,
        "error": run.error,
        "preview": run.preview,
        "counts": run.counts,
        "notes": run.notes,
        "errors": run.error_count,
        "warnings": run.warning_count,
        "rows": (run.progress_done, run.progress_total) if run.status in ("done", "previewed") else None,
        "issues": issues,
    }


def change_log(runs: list[ImportRun]) -> list[tuple[Any, ...]]:
    """The change log's entries, sorted, as both paths must write them: ids of runs, sites and
    people replaced by the run's place, the site's code and the person's sourcedId."""
    order = {run.pk: number for number, run in enumerate(runs, start=1)}
    codes = dict(Site.objects.values_list("pk", "code"))
    people = dict(Person.objects.values_list("pk", "sourced_id"))
    return sorted(
        (
            order.get(e.import_run_id), e.source, e.actor_label, e.object_type, e.object_label, e.action,
            json.dumps(e.before, sort_keys=True), json.dumps(e.after, sort_keys=True), e.note,
            codes.get(e.site_id), e.parent_type, people.get(e.parent_id), e.content_type_id,
        )
        for e in ChangeLog.objects.all()
    )  # fmt: skip


def wipe() -> None:
    with connection.cursor() as cursor:
        # Append-only: TRUNCATE is the owner's way (with the deferred key checks made first).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {ChangeLog._meta.db_table}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    GuardianContact.objects.all().delete()
    Person.objects.all().delete()
    ImportRun.objects.all().delete()
    Site.objects.all().delete()
    District.objects.all().delete()


def outcome(scenario: Scenario, tmp_path: Path, settings: Any, *, set_based: bool, folder: str) -> dict[str, Any]:
    """Run ``scenario`` from an empty database on one path; what it left."""
    wipe()
    settings.IMPORTS_SET_BASED = set_based
    runs = scenario(tmp_path / folder)
    return {"data": {**snapshot(), "change_log": change_log(runs)}, "runs": [run_facts(run) for run in runs]}


def assert_same(scenario: Scenario, tmp_path: Path, settings: Any, monkeypatch: Any) -> dict[str, Any]:
    """Run ``scenario`` on both paths and compare; returns the set-based outcome."""
    python = outcome(scenario, tmp_path, settings, set_based=False, folder="python")
    staged = record_staging(monkeypatch)
    sql = outcome(scenario, tmp_path, settings, set_based=True, folder="sql")
    assert staged, "the set-based path did not run"
    for number, (want, got) in enumerate(zip(python["runs"], sql["runs"], strict=True), start=1):
        for key in want:
            assert got[key] == want[key], f"run {number}: {key} differs"
    assert sql["data"]["change_log"] == python["data"]["change_log"]
    assert sql["data"] == python["data"]
    sql["staged"] = staged
    return sql


def record_staging(monkeypatch: Any) -> list[str]:
    """How each set-based run staged users.csv ("copy": the file as it is; "reader")."""
    seen: list[str] = []
    real_copy = SetBasedUsersStep._copy_as_is
    real_reader = SetBasedUsersStep._copy_through_reader

    def copy_as_is(self: SetBasedUsersStep, *args: Any) -> Any:
        result = real_copy(self, *args)
        if result is not None:
            seen.append("copy")
        return result

    def through_reader(self: SetBasedUsersStep, *args: Any) -> Any:
        seen.append("reader")
        return real_reader(self, *args)

    monkeypatch.setattr(SetBasedUsersStep, "_copy_as_is", copy_as_is)
    monkeypatch.setattr(SetBasedUsersStep, "_copy_through_reader", through_reader)
    return seen


def users_roster(path: Path, data: str | bytes, *, users_mode: str = "bulk", extra: dict | None = None) -> Path:
    return roster_dir(
        path, {"manifest.csv": manifest(users=users_mode), "orgs.csv": orgs_csv(), "users.csv": data, **(extra or {})}
    )


# --------------------------------------------------------------------------- basics, idempotence, updates


def test_basics_idempotence_and_updates(tmp_path, settings, monkeypatch):
    def scenario(base: Path) -> list[ImportRun]:
        first = standard_roster(
            base / "a",
            user("u1", "Ana", "Ruiz", identifier="0041873", email="ana@example.org"),
            user("u2", "Ben", "Lee", role="teacher", org="sch2", grades=""),
            user("u3", "Cy", "Ng", role="aide", grades=""),
            user("g1", "Gil", "Ruiz", role="parent", agents="u1", email="gil@example.org"),
        )
        second = standard_roster(
            base / "b",
            user("u1", "Ana", "Ruiz-Lopez", identifier="0041873", org="sch2", grades="8"),
            user("u2", "Ben", "Lee", role="teacher", org="sch2", grades=""),
            user("u3", "Cy", "Ng", role="aide", grades="", email="bad@@x"),
            user("g1", "Gil", "Ruiz", role="parent", agents="u1", email="gil@new.example.org"),
        )
        return [run_import(first), run_import(first), run_import(second), run_import(second)]

    got = assert_same(scenario, tmp_path, settings, monkeypatch)
    assert got["staged"] == ["copy"] * 4  # once a run: the preview's table serves the commit
    assert got["runs"][1]["counts"]["people"]["unchanged"] == 3
    assert got["runs"][2]["counts"]["guardians"]["updated"] == 1
    log = got["data"]["change_log"]
    by_run = {n: [e for e in log if e[0] == n] for n in (1, 2, 3, 4)}
    assert not by_run[2] and not by_run[4]  # an import that changes nothing writes no entry
    created = {(e[3], e[4]) for e in by_run[1] if e[5] == "created"}
    assert ("people.person", "Ana Ruiz #0041873") in created and (
        "people.guardiancontact",
        "Gil Ruiz (parent)",
    ) in created
    ana = [e for e in by_run[3] if e[3] == "people.person" and e[5] == "changed"]
    assert [(json.loads(e[6]), json.loads(e[7])) for e in ana] == [
        ({"email": "ana@example.org", "family_name": "Ruiz", "grade": "07", "home_site": "Lincoln Middle"},
         {"email": "", "family_name": "Ruiz-Lopez", "grade": "08", "home_site": "Adams Elementary"}),
    ]  # fmt: skip
    assert all(e[1] == "import" for e in log)


# --------------------------------------------------------------------------- what real files contain

USERS_ROWS = [
    user("u1", "José", "Peña", agents="g1"),
    user("u2", "Zoë", "O’Brien"),
    user("g1", "Gil", "Peña", role="guardian", agents="u2"),
]


@pytest.mark.parametrize(
    "data,staged",
    [
        pytest.param(users_csv(*USERS_ROWS).encode(), "copy", id="utf8"),
        pytest.param(("\ufeff" + users_csv(*USERS_ROWS)).encode("utf-8"), "copy", id="utf8-bom"),
        pytest.param(users_csv(*USERS_ROWS).encode("cp1252"), "reader", id="cp1252"),
        pytest.param(users_csv(*USERS_ROWS).encode("mac_roman"), "reader", id="mac-roman"),
        pytest.param(users_csv(*USERS_ROWS).replace("\n", "\r\n").encode(), "copy", id="crlf"),
        pytest.param(users_csv(*USERS_ROWS).replace("\n", "\r").encode(), "reader", id="cr-only"),
        pytest.param(users_csv(*USERS_ROWS).replace(",", ";").encode(), "copy", id="semicolon"),
        pytest.param(users_csv(*USERS_ROWS).replace(",", "\t").encode(), "copy", id="tab"),
        pytest.param(users_csv(*USERS_ROWS).replace(",", "|").encode(), "copy", id="pipe"),
        pytest.param((users_csv(*USERS_ROWS) + "\n\n").encode(), "copy", id="trailing-blank-lines"),
        pytest.param(users_csv(*USERS_ROWS).replace("\n", "\n\n", 1).encode(), "reader", id="blank-line"),
        pytest.param(users_csv(*USERS_ROWS).replace(",Peña,", ", Peña ,").encode(), "copy", id="spaces"),
        pytest.param(users_csv(*USERS_ROWS).replace(",Peña,", ', "Peña",').encode(), "reader", id="space-quote"),
        pytest.param(users_csv(*USERS_ROWS).replace(",Peña,", ',Pe"ña,').encode(), "reader", id="mid-quote"),
        pytest.param(users_csv(*USERS_ROWS).replace(",Peña,", ',"Pe""ña",').encode(), "copy", id="doubled-quote"),
        pytest.param(users_csv(*USERS_ROWS).rstrip("\n").encode(), "copy", id="no-final-newline"),
        pytest.param(users_csv(*USERS_ROWS).replace("José", "Jos\u00a0é\u200b").encode(), "copy", id="nbsp"),
    ],
)
def test_encodings_delimiters_line_endings_and_quoting(tmp_path, settings, monkeypatch, data, staged):
    got = assert_same(lambda base: [run_import(users_roster(base, data))], tmp_path, settings, monkeypatch)
    assert got["staged"] == [staged]
    assert got["runs"][0]["status"] == "done"


def test_a_file_that_is_utf8_at_first_and_windows_1252_later(tmp_path, settings, monkeypatch):
    rows = [user(f"u{n}", "Ann", f"Lee{n}") for n in range(3000)] + [user("u9999", "Zoë", "Peña")]
    data = users_csv(*rows).encode("cp1252")
    got = assert_same(lambda base: [run_import(users_roster(base, data))], tmp_path, settings, monkeypatch)
    assert got["staged"] == ["reader"]  # COPY refused the byte; the reader switched code page


def test_quoted_commas_newlines_blank_rows_trailing_columns_and_headers(tmp_path, settings, monkeypatch):
    header = USERS_11 + ",ext_note"
    lines = [
        user("u1") + ',"a note, with a comma\nand a second line"',
        user("u2", "Ben", 'Lee "BJ"'.replace('"', '""')).replace('Lee ""BJ""', '"Lee ""BJ"""') + ",",
        user("u3", "", "Nog") + ",",
    ]
    blank_rows = users_csv("", user("u1") + ",,,", " , , ", user("u2", "Ben", "Lee"), "", header=USERS_11 + ",,,")
    excel_blank = users_csv(
        user("u1") + ",,,", ",,,,,,,,,,,,,,,,,,,,", user("u2", "Ben", "Lee") + ",,,", header=USERS_11 + ",,,"
    )
    odd_header = users_csv(
        "u1,,sch1,student,Ana,Ruiz,0041,abc,,7,L1,X",
        header="\u200bSourcedID, Status ,ORGSOURCEDIDS,role,given name,Family_Name,identifier,userId,agents,grade,"
        "metadata.legacyId,ext_vendor_x",
    )
    value_under_blank_header = users_csv(user("u1") + ",x,1", header=USERS_11 + ",,ext")
    duplicate_header = users_csv(user("u1") + ",x", header=USERS_11 + ",Given Name")
    missing_column = "sourcedId,role,orgSourcedIds,givenName\nu1,student,sch1,Ana\n"

    def scenario(base: Path) -> list[ImportRun]:
        return [
            run_import(users_roster(base / "a", users_csv(*lines, header=header)), mode="valid_rows"),
            run_import(users_roster(base / "b", blank_rows)),
            run_import(users_roster(base / "c", excel_blank)),
            run_import(users_roster(base / "d", odd_header)),
            run_import(users_roster(base / "e", value_under_blank_header)),
            run_import(users_roster(base / "f", duplicate_header)),
            run_import(users_roster(base / "g", missing_column)),
        ]

    got = assert_same(scenario, tmp_path, settings, monkeypatch)
    # Quoted line breaks go to COPY too (its records renumbered to the lines they start on). A
    # repeated header the import reads is a file error, but the rows are still staged and checked
    # so the preview lists every other problem in one round trip (issue #8): run "f" is staged.
    assert got["staged"] == ["copy", "reader", "copy", "copy", "reader", "copy"]
    # A value under a blank header is a warning, and ignored (issue #8): run "e" imports.
    assert [r["status"] for r in got["runs"]] == ["done", "done", "done", "done", "done", "rejected", "rejected"]


# --------------------------------------------------------------------------- row errors and warnings


def test_every_row_error_and_warning_in_the_python_paths_order(tmp_path, settings, monkeypatch):
    long = "X" * 101
    rows = [
        user("u1", role="wizard"),
        user("u2", org="nowhere"),
        user("u3", grades="13th"),
        user("u4", email="not-an-email"),
        user("u5", long, "Long"),
        user("u6", "Ana", long),
        user("u7", "", "Ruiz"),
        user("u8", "Ana", ""),
        user("u9", identifier="6.37702E+15"),
        user("u10", identifier="9" * 65),
        user("6.1E+3", "Sci", "Key"),
        user("", "No", "Key"),
        user("k" * 256, "Long", "Key"),
        user("u11", status="retired"),
        user("u12", role="proctor"),
        user("u13", role="proctor", status="tobedeleted"),
        user("u14", org=""),
        user("u15", grades="13th", org="nowhere", email="x@"),
        user("u16", grades="13th", email="y@").replace(",true,", ",maybe,"),
        user("u17", "A" * 101, "B", grades="13th").replace(",true,", ",maybe,"),
        user("u18", "Ana", "Ruiz", org="sch1,sch2", grades="kg, 03"),
        user("u19", "Ana", "Ruiz", org="dist", role="teacher"),
        user("u20", "Ana", "Ruiz", email="A.B+tag@Example.ORG"),
        user("u21", "Ana", "Ruiz", email="ünï@exämple.org"),
        user("u22", "Ana", "Ruiz", email="x@localhost"),
        user("u23", "Ana", "Ruiz").replace(",,true,", ",2024-02-30T10:00:00Z,true,"),
        user("u24", "Ana", "Ruiz").replace(",,true,", ",yesterday,true,"),
        user("u25", "Ana", "Ruiz").replace(",,true,", ",2024-05-01T13:22:11.123Z,true,"),
        user("u26", "Ana", "Ruiz", role="District Administrator", grades=""),
        user("u27", "Ana", "Ruiz", role="Teacher, Aide", grades=""),
        user("g1", "", "", role="guardian", agents="u4"),
        user("g2", "G" * 101, "X", role="guardian", agents="u4"),
        user("g3", "Gil", "X" * 101, role="parent", agents="u4"),
        user("g4", "Gil", "Ruiz", role="relative", agents="u4", email="bad", status="bogus"),
        user("g5", "Gil", "Ruiz", role="guardian", agents="u4", email="bad@"),
        user("g6", "Gil", "Ruiz", role="guardian").replace(",G6,,,,,07,", f",G6,,,{'5' * 41},,07,"),
    ]

    def scenario(base: Path) -> list[ImportRun]:
        return [
            run_import(standard_roster(base / "a", *rows), mode="valid_rows"),
            run_import(standard_roster(base / "b", *rows), commit=False),
            run_import(standard_roster(base / "c", *rows), mode="valid_rows", dry_run=True),
        ]

    got = assert_same(scenario, tmp_path, settings, monkeypatch)
    assert got["runs"][0]["errors"] > 15 and got["runs"][0]["warnings"] > 5
    assert any("dateLastModified" in note for note in got["runs"][0]["notes"])


def test_many_distinct_values_are_joined_not_cased_and_stored_issues_are_capped(tmp_path, settings, monkeypatch):
    """Answers with many distinct values go through temporary tables (forced here), and past
    MAX_STORED_ISSUES the same issues are stored, counted and noted."""
    import imports.oneroster_sql as oneroster_sql
    import imports.pipeline_report as pipeline_report

    monkeypatch.setattr(oneroster_sql, "MAX_CASE", 0)
    monkeypatch.setattr(pipeline_report, "MAX_STORED_ISSUES", 7)  # Report's cap
    monkeypatch.setattr(oneroster_sql, "MAX_STORED_ISSUES", 7)
    rows = [
        user(
            f"u{n}",
            "Ana",
            f"R{n}",
            grades=["07", "kg", f"{n}th", "Other", ""][n % 5],
            status=["", "active", "Active", "bogus"][n % 4],
            role=["student", "Teacher", "wizard", "proctor"][n % 4],
            email=["", "a@b.org", f"x{n}@", "ünï@exämple.org"][n % 4],
        ).replace(",true,", [",true,", ",maybe,", ",TRUE,"][n % 3])  # fmt: skip
        for n in range(40)
    ]
    rows += [user("g1", "Gil", "R", role="guardian", agents="u1,u5,nobody"), user("g2", "", "", role="parent")]
    assert_same(
        lambda base: [run_import(standard_roster(base, *rows), mode="valid_rows")], tmp_path, settings, monkeypatch
    )


def test_district_staff_go_to_the_district_office_or_are_an_error(tmp_path, settings, monkeypatch):
    def scenario(base: Path) -> list[ImportRun]:
        staff = user("a1", "Al", "Boss", role="administrator", org="dist", grades="")
        first = run_import(standard_roster(base / "a", staff, user("u1")), mode="valid_rows")
        SiteFactory(code="DO", name="District Office", kind=Site.Kind.DISTRICT_OFFICE)
        return [first, run_import(standard_roster(base / "b", staff, user("u1")))]

    assert_same(scenario, tmp_path, settings, monkeypatch)


def test_duplicate_sourced_ids_people_and_guardians(tmp_path, settings, monkeypatch):
    rows = [
        user("u1", agents="gd"),
        user("dup", "A", "One"),
        user("u2", "Ben", "Lee"),
        user("dup", "B", "Two"),
        user("gd", "G", "One", role="guardian", agents="u2"),
        user("dup", "C", "Three"),
        user("gd", "G", "Two", role="parent", agents="u1"),
        user("both", "Stu", "Dent"),
        user("both", "Par", "Ent", role="guardian", agents="u1"),
    ]
    assert_same(
        lambda base: [run_import(standard_roster(base, *rows), mode="valid_rows")], tmp_path, settings, monkeypatch
    )


def test_student_numbers_students_share_or_other_people_have(tmp_path, settings, monkeypatch):
    """Warnings on students whose number other students of the file have (after every row) or
    another active person has (planned a batch at a time: batches of 3 here)."""
    monkeypatch.setattr(PeopleStep, "batch_size", 3)

    def scenario(base: Path) -> list[ImportRun]:
        hand = SiteFactory(code="HAND", name="By hand")
        PersonFactory(sourced_id="", given_name="Hand", family_name="Made", student_number="0000777", home_site=hand)
        PersonFactory(sourced_id="", given_name="Gone", family_name="Away", student_number="0000888", home_site=hand,
                      status=Person.Status.WITHDRAWN)  # fmt: skip
        first = [
            user("s1", "Ana", "One", identifier="0099004", email="bad@@x", grades="13th"),
            user("t1", "Tess", "Ho", role="teacher", identifier="0099004", grades=""),
            user("s2", "Bo", "Two", identifier="0099004"),
            user("g1", "Gil", "One", role="guardian", identifier="0099004", agents="s1"),
            user("s3", "Cy", "Three", identifier="0000777"),
            user("s4", "Di", "Four", identifier="0099004", status="tobedeleted"),
            user("d1", "Dup", "A", identifier="0099004"),
            user("d1", "Dup", "B", identifier="0099004"),
            user("s5", "", "Five", identifier="0099004"),
            user("s6", "Ed", "Six", identifier="6.1E+3"),
            user("s7", "Flo", "Seven", identifier="0019348", org="sch2"),
            user("s8", "Gus", "Eight", identifier="0000888"),
            user("s9", "Hal", "Nine", identifier="0000777", org="nowhere"),
            user("s10", "Ida", "Ten", identifier="0000777", role="proctor"),
            user("s11", "Jo", "Eleven", identifier="0000777"),
            user("s12", "Kay", "Twelve", identifier="0099004", org="sch2"),
        ]
        runs = [run_import(standard_roster(base / "a", *first), mode="valid_rows")]
        delta = [
            user("n1", "New", "Kid", identifier="0019348"),
            user("n2", "Re", "Used", identifier="0000888"),
            user("s2", "Bo", "Two", identifier="0099005"),
            user("n3", "Al", "So", identifier="0099004"),
            user("n4", "Bea", "Too", identifier="0099004"),
            user("n5", "Cal", "Three", identifier="0000777"),
        ]
        runs.append(run_import(standard_roster(base / "b", *delta, users_mode="delta"), mode="valid_rows"))
        runs.append(run_import(standard_roster(base / "c", *delta, users_mode="delta")))
        runs.append(run_import(standard_roster(base / "d", *first[:6]), options={"deactivate_missing": False}))
        runs.append(run_import(standard_roster(base / "e", *first[:6]), mode="valid_rows"))
        return runs

    got = assert_same(scenario, tmp_path, settings, monkeypatch)
    reasons = [issue[5] for run in got["runs"] for issue in run["issues"] if issue[4] == "warning"]
    assert any("is on the rows of 3 students" in reason for reason in reasons)
    assert any("already belongs to Hand Made at By hand" in reason for reason in reasons)
    assert any("already belongs to Flo Seven (sourcedId 's7') at Adams Elementary" in reason for reason in reasons)


def test_true_booleans_metadata_columns_and_leading_zeros(tmp_path, settings, monkeypatch):
    header = USERS_11 + ",metadata.stateId,ext_imagine_grade"
    row = user("u1", identifier="000123").replace(",true,", ",TRUE,") + ",ST-1,7"
    row2 = user("u2", "Ben", "Lee").replace(",true,", ",Yes,") + ",,"
    assert_same(
        lambda base: [run_import(users_roster(base, users_csv(row, row2, header=header)))],
        tmp_path,
        settings,
        monkeypatch,
    )


# --------------------------------------------------------------------------- bulk, delta, modes


def test_bulk_deactivation_reactivation_delta_and_options(tmp_path, settings, monkeypatch):
    def scenario(base: Path) -> list[ImportRun]:
        hand = SiteFactory(code="HAND", name="By hand")
        PersonFactory(sourced_id="", given_name="Hand", family_name="Made", student_number="1", home_site=hand)
        everyone = [user(f"u{n}", "A", f"B{n}") for n in range(40)]
        runs = [run_import(standard_roster(base / "a", *everyone))]
        runs.append(run_import(standard_roster(base / "b", user("u1", "A", "B1")), commit=False))
        runs.append(run_import(standard_roster(base / "c", *everyone[:30])))
        runs.append(run_import(standard_roster(base / "d", *everyone)))
        runs.append(run_import(standard_roster(base / "e", user("u1", "A", "B1")), options={"deactivate_missing": False}))  # fmt: skip
        runs.append(
            run_import(
                standard_roster(
                    base / "f",
                    user("u1", status="tobedeleted"),
                    user("u99", "Di", "Oz", status="active"),
                    user("u2", status="inactive"),
                    users_mode="delta",
                )  # fmt: skip
            )
        )
        runs.append(run_import(standard_roster(base / "g", user("u3", "A", "B3"), user("u4", status="tobedeleted"))))
        runs.append(run_import(standard_roster(base / "h")))  # empty bulk file: nobody deactivated
        Person.objects.filter(sourced_id="u5").update(status=Person.Status.WITHDRAWN)
        runs.append(run_import(standard_roster(base / "i", *everyone)))
        runs.append(run_import(roster_dir(base / "j", {"orgs.csv": orgs_csv(), "users.csv": users_csv(user("u1"))})))
        return runs

    got = assert_same(scenario, tmp_path, settings, monkeypatch)
    withdrawn = [e for e in got["data"]["change_log"] if e[0] == 3]  # the file of 30: ten leave
    assert sorted(e[4] for e in withdrawn) == sorted(f"A B{n} #U{n}" for n in range(30, 40))
    assert {(e[5], e[6], e[7]) for e in withdrawn} == {("changed", '{"status": "active"}', '{"status": "inactive"}')}
    assert not [e for e in got["data"]["change_log"] if e[0] == 2]  # a preview writes none


def test_all_or_nothing_valid_rows_and_a_commit_after_the_data_changed(tmp_path, settings, monkeypatch):
    def scenario(base: Path) -> list[ImportRun]:
        run = run_import(standard_roster(base / "c", user("u3"), user("u4", "Ben", "Lee", org="sch2")), commit=False)
        clash = SiteFactory(code="AES", name="Adams (another roster)", sourced_id="elsewhere")
        run = import_run_commit(run=run, actor=None)
        import_run_start(run=run, phase="commit", inline=True)
        runs = [run]
        clash.delete()
        runs.append(run_import(standard_roster(base / "a", user("u1"), user("u2", role="wizard")), commit=False))
        runs.append(run_import(standard_roster(base / "b", user("u1"), user("u2", role="wizard")), mode="valid_rows"))
        return runs

    got = assert_same(scenario, tmp_path, settings, monkeypatch)
    assert got["runs"][0]["status"] == "rejected"


# --------------------------------------------------------------------------- guardians, homerooms, 1.2


def test_guardians_both_ways_removals_and_warnings(tmp_path, settings, monkeypatch):
    def scenario(base: Path) -> list[ImportRun]:
        first = [
            user("s1", "Ana", "Ruiz", agents="g1"),
            user("s2", "Bo", "Ruiz", agents="g3,g3, g9 ,"),
            user("s3", "Cy", "Ruiz", role="wizard", agents="g2"),
            user("g1", "Gil", "Ruiz", role="guardian", email="gil@example.org"),
            user("g2", "Pat", "Ruiz", role="relative", agents="s2,s3,nobody,s2"),
            user("g3", "Lou", "Ruiz", role="parent", agents="s1", email="lou@x"),
            user("g4", "Kim", "Ruiz", role="parent"),
        ]
        runs = [run_import(standard_roster(base / "a", *first), mode="valid_rows")]
        runs.append(run_import(standard_roster(base / "b", *first), mode="valid_rows"))
        second = [
            user("s1", "Ana", "Ruiz"),
            user("s2", "Bo", "Ruiz"),
            user("g2", "Pat", "Ruiz", role="relative", agents="s2"),
            user("g3", "Lou", "Ruiz-Diaz", role="parent", agents="s1", status="tobedeleted"),
            user("g5", "", "", role="parent", agents="s1"),
        ]
        runs.append(run_import(standard_roster(base / "c", *second), mode="valid_rows"))
        runs.append(run_import(standard_roster(base / "d", user("s1"), user("s2"), users_mode="delta")))
        runs.append(run_import(standard_roster(base / "e", user("s1"), user("s2"))))
        return runs

    assert_same(scenario, tmp_path, settings, monkeypatch)


def test_guardian_warnings_come_per_batch_of_500(tmp_path, settings, monkeypatch):
    rows = [user("s1", "Ana", "Ruiz")]
    for n in range(1300):
        if n % 97 == 0:
            rows.append(user(f"bad{n}", "", "", role="guardian", agents="s1"))
        rows.append(user(f"g{n}", "Gil", f"R{n}", role="guardian", agents=f"s1,missing{n}"))
    rows += [user("s2", "Bo", "Ruiz", agents="ghost1,ghost2,ghost1")]
    assert_same(
        lambda base: [run_import(standard_roster(base, *rows), mode="valid_rows")], tmp_path, settings, monkeypatch
    )


def test_homerooms_and_oneroster_1_2_roles(tmp_path, settings, monkeypatch):
    classes = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds\nhr1,,,Homeroom 7B,07,,HR7B,homeroom,,sch1,t1\nmath,,,Math 7,07,c1,M7,scheduled,,sch1,t1\n"  # fmt: skip
    enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary\ne1,,,hr1,sch1,u1,student,TRUE\ne2,,,math,sch1,u2,student,FALSE\ne3,,,hr1,sch1,t1,teacher,TRUE\n"  # fmt: skip
    users_12 = (
        "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,"
        "email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,"
        "preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n"
        "u1,,,true,ana,,Ana,Ruiz,,0007,,,,,KG,,,,Annie,,,,\n"
        "u2,,,true,ben,,Ben,Lee,,,,,,,,,,,,,,sch2,\n"
        "u3,,,true,cy,,Cy,Ng,,,,,,,,,,,,,,,\n"
        f"u4,,,true,di,,Di,Oz,,,,,,,,,,,{'P' * 101},,,,\n"
        "u5,,,true,ed,,Ed,Ox,,,,,,,,,,,,,,nowhere,\n"
        "g1,,,true,gi,,Gil,Ruiz,,,,,,u1,,,,,,,,,\n"
    )
    roles = (
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\n"
        "r1,,,u1,primary,student,,,sch2,\n"
        "r2,,,u2,secondary,teacher,,,sch1,\n"
        "r3,,,u2,primary,principal,,,sch2,\n"
        "r4,,,u4,primary,student,,,sch1,\n"
        "r5,,,u5,primary,student,,,,\n"
        "r6,,,g1,primary,guardian,,,sch1,\n"
    )

    def scenario(base: Path) -> list[ImportRun]:
        users = users_csv(user("u1"), user("u2", "Ben", "Lee"), user("t1", "Tess", "Ho", role="teacher"))
        bulk = {"manifest.csv": manifest(classes="bulk", enrollments="bulk"), "orgs.csv": orgs_csv(),
                "users.csv": users, "classes.csv": classes, "enrollments.csv": enrollments}  # fmt: skip
        delta = {**bulk, "manifest.csv": manifest(classes="delta", enrollments="delta"),
                 "enrollments.csv": enrollments.replace("e1,,,hr1,sch1,u1", "e1,,,math,sch1,u1")}  # fmt: skip
        roles_12 = {"manifest.csv": manifest("1.2", roles="bulk"), "orgs.csv": orgs_csv(), "users.csv": users_12,
                    "roles.csv": roles}  # fmt: skip
        return [
            run_import(roster_dir(base / "a", bulk)),
            run_import(roster_dir(base / "b", delta)),
            run_import(roster_dir(base / "c", {**bulk, "enrollments.csv": enrollments.replace("hr1", "math")})),
            run_import(roster_dir(base / "d", roles_12), mode="valid_rows"),
        ]

    assert_same(scenario, tmp_path, settings, monkeypatch)


def test_a_zip_upload_and_a_single_users_csv(tmp_path, settings, monkeypatch):
    def scenario(base: Path) -> list[ImportRun]:
        files = {"manifest.csv": manifest(), "orgs.csv": orgs_csv(), "users.csv": users_csv(user("u1"), user("u2"))}
        base.mkdir(parents=True)
        runs = [run_import(roster_zip(base / "a.zip", {f"export/{k}": v for k, v in files.items()}))]
        single = base / "users.csv"
        single.write_text(users_csv(user("u1", "Ana", "Ruiz"), user("u9", "New", "Kid")))
        runs.append(run_import(single))
        return runs

    got = assert_same(scenario, tmp_path, settings, monkeypatch)
    assert got["staged"] == ["copy", "copy"]


# --------------------------------------------------------------------------- a generated district


def test_a_generated_district_twice_with_changes(tmp_path, settings, monkeypatch):
    """bench/gen_oneroster.py's files (2,000 users), then a shuffled copy with changes."""
    source = tmp_path / "gen"
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, str(root / "bench" / "gen_oneroster.py"), str(source), "--users", "2000", "--sites", "12",
         "--seed", "7"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    lines = (source / "users.csv").read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    rng = random.Random(3)
    rng.shuffle(body)
    changed = [line.replace(",true,", ",TRUE,", 1) for line in body[:1700]]
    changed[5] = changed[5].replace(",student,", ",wizard,", 1)
    changed.append(changed[10])  # a duplicate
    variant = tmp_path / "variant"
    variant.mkdir()
    for name in ("manifest.csv", "orgs.csv"):
        (variant / name).write_bytes((source / name).read_bytes())
    (variant / "users.csv").write_text("\n".join([header, *changed]) + "\n", encoding="utf-8")

    def scenario(base: Path) -> list[ImportRun]:
        return [run_import(source), run_import(variant, mode="valid_rows"), run_import(source)]

    got = assert_same(scenario, tmp_path, settings, monkeypatch)
    assert got["staged"] == ["copy", "copy", "copy"]


# --------------------------------------------------------------------------- the clean-CSV check and the stage


@pytest.mark.parametrize(
    "data,clean",
    [
        (b"a,b\n1,2\n", True),
        (b'a,b\n"1,5","x ""y"""\n', True),
        (b"a,b\r\n1,2\r\n", True),
        (b"a,b\n1,2\n\n\n", True),
        (b"a,b\n1,2", True),
        (b"a,b\n1\r2,3\n", False),
        (b"a,b\n\n1,2\n", False),
        (b'a,b\n"1\n2",3\n', True),
        (b'a,b\r\n"1\r\n2",3\r\n', False),
        (b'a,b\n"1\n\n2",3\n', False),
        (b'a,b\n1, "2"\n', False),
        (b'a,b\n1"x,2\n', False),
        (b'a,b\n"1"x,2\n', False),
        (b"a,b\n\\.\n1,2\n", False),
        (b"a,b\n" + b"x" * 200_000 + b",1\n", False),
    ],
)
def test_the_clean_csv_check(data, clean):
    chunks = [data[i : i + 7] for i in range(0, len(data), 7)]
    try:
        out = b"".join(block for kind, block in _clean_blocks(chunks, ",") if kind == b"rows")
    except NotClean:
        assert not clean
        return
    assert clean
    assert out.rstrip(b"\r\n") == data.split(b"\n", 1)[1].rstrip(b"\r\n")


def test_stale_staged_tables_are_dropped(tmp_path, settings):
    settings.IMPORTS_SET_BASED = True
    previewed = run_import(standard_roster(tmp_path / "a", user("u1")), commit=False)
    name = f"import_stage_{previewed.pk}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        assert cursor.fetchone()[0]  # kept for the commit
    assert drop_stale_stages() == []
    ImportRun.objects.filter(pk=previewed.pk).update(status=ImportRun.Status.CANCELLED)
    assert sorted(drop_stale_stages()) == [name, f"{name}_combos", f"{name}_dups"]
    done = run_import(standard_roster(tmp_path / "b", user("u1")))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE %s", [f"import\\_stage\\_{done.pk}%"])
        assert cursor.fetchone()[0] == 0  # the commit drops its table
