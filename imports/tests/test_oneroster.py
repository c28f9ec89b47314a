"""OneRoster import through the whole pipeline, with tiny files made here."""

from __future__ import annotations

import pytest

from core.errors import DomainError
from core.testing import PersonFactory, SiteFactory, make_user
from imports.models import ImportRun
from imports.pipeline import ImportRefused
from imports.services import import_run_commit, import_run_create, import_run_start
from imports.tests.roster import (
    ORGS,
    USERS_11,
    issues,
    manifest,
    orgs_csv,
    roster_dir,
    roster_zip,
    run_import,
    standard_roster,
    user,
    users_csv,
)
from inventory.models import DeviceEvent
from people.models import GuardianContact, Person
from sites.models import District, Site

pytestmark = pytest.mark.django_db

Status = ImportRun.Status


def people() -> dict[str, tuple]:
    return {
        p.sourced_id: (p.role, p.given_name, p.family_name, p.student_number, p.grade, p.home_site.code, p.status)
        for p in Person.objects.select_related("home_site")
    }


def roster_with_users_bytes(tmp_path, data: bytes, name: str = "r"):
    return roster_dir(tmp_path / name, {"manifest.csv": manifest(), "orgs.csv": orgs_csv(), "users.csv": data})


# --------------------------------------------------------------------------- basics


def test_sites_people_and_district_from_a_bulk_roster(tmp_path):
    folder = standard_roster(
        tmp_path / "r",
        user("u1", "Ana", "Ruiz", identifier="0041873"),
        user("u2", "Ben", "Lee", role="teacher", org="sch2", grades=""),
        user("u3", "Cy", "Ng", role="aide", grades=""),
    )
    run = run_import(folder)
    assert run.status == Status.DONE, run.error
    assert run.counts["people"]["created"] == 3
    assert run.counts["sites"]["created"] == 2
    assert District.get().name == "Maple Unified"
    assert set(Site.objects.values_list("code", "sourced_id", "kind")) == {
        ("LMS", "sch1", "school"),
        ("AES", "sch2", "school"),
    }
    assert people() == {
        "u1": ("student", "Ana", "Ruiz", "0041873", "07", "LMS", "active"),
        "u2": ("staff", "Ben", "Lee", "U2", "", "AES", "active"),
        "u3": ("staff", "Cy", "Ng", "U3", "", "LMS", "active"),
    }


def test_the_same_file_twice_changes_nothing_and_says_so(tmp_path):
    folder = standard_roster(tmp_path / "r", user("u1"), user("u2", "Ben", "Lee"), user("g1", "Gil", "Ruiz", role="parent", agents="u1"))  # fmt: skip
    first = run_import(folder)
    assert first.status == Status.DONE
    stamps = dict(Person.objects.values_list("sourced_id", "updated_at"))
    events = DeviceEvent.objects.count()
    second = run_import(folder)
    assert second.status == Status.DONE
    for entity in ("sites", "people", "guardians"):
        assert second.preview[entity]["created"] == second.preview[entity]["updated"] == 0
        assert second.counts[entity]["created"] == second.counts[entity]["updated"] == 0
    assert second.preview["people"]["unchanged"] == 2
    assert second.preview["sites"]["unchanged"] == 2
    assert second.preview["guardians"]["unchanged"] == 1
    assert dict(Person.objects.values_list("sourced_id", "updated_at")) == stamps
    assert DeviceEvent.objects.count() == events


def test_a_changed_row_is_updated(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("u1", "Ana", "Ruiz")))
    run = run_import(standard_roster(tmp_path / "b", user("u1", "Ana", "Ruiz-Lopez", org="sch2", grades="8")))
    assert run.counts["people"]["updated"] == 1
    assert people()["u1"] == ("student", "Ana", "Ruiz-Lopez", "U1", "08", "AES", "active")


# --------------------------------------------------------------------------- bulk and delta


def test_bulk_file_deactivates_missing_people_and_a_later_file_reactivates_them(tmp_path):
    manual = PersonFactory(sourced_id="", given_name="Hand", family_name="Made")
    run_import(standard_roster(tmp_path / "a", user("u1"), user("u2", "Ben", "Lee")))
    run = run_import(standard_roster(tmp_path / "b", user("u1")))
    assert run.preview["people"]["deactivated"] == 1
    assert run.counts["people"]["deactivated"] == 1
    assert Person.objects.get(sourced_id="u2").status == Person.Status.INACTIVE
    manual.refresh_from_db()
    assert manual.status == Person.Status.ACTIVE  # not from the roster: never touched
    run = run_import(standard_roster(tmp_path / "c", user("u1"), user("u2", "Ben", "Lee")))
    assert run.counts["people"]["reactivated"] == 1
    assert Person.objects.get(sourced_id="u2").status == Person.Status.ACTIVE
    assert Person.objects.filter(sourced_id="u2").count() == 1  # never deleted, never duplicated


def test_deactivate_missing_can_be_turned_off(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("u1"), user("u2", "Ben", "Lee")))
    run = run_import(standard_roster(tmp_path / "b", user("u1")), options={"deactivate_missing": False})
    assert run.counts["people"]["deactivated"] == 0
    assert Person.objects.get(sourced_id="u2").status == Person.Status.ACTIVE


def test_bulk_orgs_deactivates_missing_schools(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("u1")))
    folder = roster_dir(tmp_path / "b", {"manifest.csv": manifest(users="absent"), "orgs.csv": orgs_csv("sch1,,,Lincoln Middle,school,LMS,")})  # fmt: skip
    run = run_import(folder)
    assert run.status == Status.DONE
    assert run.counts["sites"]["deactivated"] == 1
    assert not Site.objects.get(sourced_id="sch2").active


def test_delta_applies_tobedeleted_and_leaves_the_rest(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("u1"), user("u2", "Ben", "Lee"), user("u3", "Cy", "Ng")))
    folder = standard_roster(
        tmp_path / "b", user("u1", status="tobedeleted"), user("u4", "Di", "Oz", status="active"), users_mode="delta"
    )
    run = run_import(folder)
    assert run.status == Status.DONE
    assert run.counts["people"]["deactivated"] == 1
    assert run.counts["people"]["created"] == 1
    statuses = dict(Person.objects.values_list("sourced_id", "status"))
    assert statuses == {"u1": "inactive", "u2": "active", "u3": "active", "u4": "active"}


def test_tobedeleted_in_a_bulk_file_counts_too_the_data_wins(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("u1"), user("u2", "Ben", "Lee")))
    run = run_import(standard_roster(tmp_path / "b", user("u1"), user("u2", "Ben", "Lee", status="tobedeleted")))
    assert run.counts["people"]["deactivated"] == 1
    assert Person.objects.get(sourced_id="u2").status == "inactive"


def test_an_empty_bulk_users_file_deactivates_nobody(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("u1"), user("u2", "Ben", "Lee")))
    run = run_import(standard_roster(tmp_path / "b"))
    assert run.status == Status.REJECTED
    assert "has no rows" in issues(run)[0][4]
    assert not Person.objects.filter(status="inactive").exists()


def test_a_bulk_file_missing_many_people_says_so(tmp_path):
    run_import(standard_roster(tmp_path / "a", *[user(f"u{n}", "A", f"B{n}") for n in range(40)]))
    run = run_import(standard_roster(tmp_path / "b", user("u1", "A", "B1")), commit=False)
    assert run.preview["people"]["deactivated"] == 39
    assert any("39 of the 40 active people" in note for note in run.notes)


def test_no_manifest_is_the_old_layout_read_as_bulk(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("u1"), user("u2", "Ben", "Lee")))
    folder = roster_dir(tmp_path / "b", {"orgs.csv": orgs_csv(), "users.csv": users_csv(user("u1"))})
    run = run_import(folder)
    assert run.status == Status.DONE
    assert any("1.0 layout" in note for note in run.notes)
    assert run.counts["people"]["deactivated"] == 1


# --------------------------------------------------------------------------- guardians, homerooms, 1.2


def test_guardians_linked_both_ways_and_dropped_links_removed(tmp_path):
    folder = standard_roster(
        tmp_path / "a",
        user("s1", "Ana", "Ruiz", agents="g1"),
        user("s2", "Bo", "Ruiz"),
        user("g1", "Gil", "Ruiz", role="guardian", email="gil@example.org"),
        user("g2", "Pat", "Ruiz", role="relative", agents="s2"),
    )
    run = run_import(folder)
    assert run.status == Status.DONE, issues(run)
    links = set(GuardianContact.objects.values_list("person__sourced_id", "sourced_id", "name", "relationship", "email"))  # fmt: skip
    assert links == {("s1", "g1", "Gil Ruiz", "guardian", "gil@example.org"), ("s2", "g2", "Pat Ruiz", "relative", "")}
    assert Person.objects.filter(sourced_id__in=["g1", "g2"]).count() == 0  # guardians are contacts, not people
    run = run_import(standard_roster(tmp_path / "b", user("s1", "Ana", "Ruiz"), user("s2", "Bo", "Ruiz"), user("g2", "Pat", "Ruiz", role="relative", agents="s2")))  # fmt: skip
    assert run.counts["guardians"]["removed"] == 1
    assert set(GuardianContact.objects.values_list("person__sourced_id", "sourced_id")) == {("s2", "g2")}


def test_a_guardian_row_with_an_error_keeps_its_contacts(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("s1"), user("g1", "Gil", "Ruiz", role="parent", agents="s1")))
    run = run_import(standard_roster(tmp_path / "b", user("s1"), user("g1", "", "", role="parent", agents="s1")), mode="valid_rows")  # fmt: skip
    assert run.counts["guardians"]["rejected"] == 1 and run.counts["guardians"].get("removed", 0) == 0
    assert GuardianContact.objects.filter(sourced_id="g1", person__sourced_id="s1").exists()


def test_guardian_naming_an_unknown_student_is_a_warning(tmp_path):
    run = run_import(standard_roster(tmp_path / "r", user("s1"), user("g1", "Gil", "Ruiz", role="parent", agents="s1,nobody")))  # fmt: skip
    assert run.status == Status.DONE
    assert GuardianContact.objects.count() == 1
    assert any(i[3] == "nobody" and "not a person" in i[4] for i in issues(run))


def test_homeroom_from_a_homeroom_class_and_its_enrollments(tmp_path):
    classes = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds\nhr1,,,Homeroom 7B,07,,HR7B,homeroom,,sch1,t1\nmath,,,Math 7,07,c1,M7,scheduled,,sch1,t1\n"  # fmt: skip
    enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary\ne1,,,hr1,sch1,u1,student,TRUE\ne2,,,math,sch1,u2,student,FALSE\ne3,,,hr1,sch1,t1,teacher,TRUE\n"  # fmt: skip
    files = {"manifest.csv": manifest(classes="bulk", enrollments="bulk"), "orgs.csv": orgs_csv(),
             "users.csv": users_csv(user("u1"), user("u2", "Ben", "Lee"), user("t1", "Tess", "Ho", role="teacher")),
             "classes.csv": classes, "enrollments.csv": enrollments}  # fmt: skip
    run = run_import(roster_dir(tmp_path / "r", files))
    assert run.status == Status.DONE, issues(run)
    assert dict(Person.objects.values_list("sourced_id", "homeroom")) == {"u1": "Homeroom 7B", "u2": "", "t1": ""}


def test_oneroster_1_2_roles_file_gives_role_and_site(tmp_path):
    users = (
        "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,"
        "email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,"
        "preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n"
        "u1,,,true,ana,,Ana,Ruiz,,0007,,,,,KG,,,,Annie,,,,\n"
        "u2,,,true,ben,,Ben,Lee,,,,,,,,,,,,,,sch2,\n"
    )
    roles = (
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\n"
        "r1,,,u1,primary,student,,,sch2,\n"
        "r2,,,u2,secondary,teacher,,,sch1,\n"
        "r3,,,u2,primary,principal,,,sch2,\n"
    )
    files = {
        "manifest.csv": manifest("1.2", roles="bulk"),
        "orgs.csv": orgs_csv(),
        "users.csv": users,
        "roles.csv": roles,
    }
    run = run_import(roster_dir(tmp_path / "r", files))
    assert run.status == Status.DONE, issues(run)
    got = {p.sourced_id: (p.role, p.home_site.code, p.grade, p.preferred_name) for p in Person.objects.all()}
    assert got == {"u1": ("student", "AES", "KG", "Annie"), "u2": ("staff", "AES", "", "")}


def test_staff_at_the_district_org_go_to_the_district_office(tmp_path):
    office = SiteFactory(code="DO", name="District Office", kind=Site.Kind.DISTRICT_OFFICE)
    run = run_import(standard_roster(tmp_path / "r", user("a1", "Al", "Boss", role="administrator", org="dist", grades="")))  # fmt: skip
    assert run.status == Status.DONE
    assert Person.objects.get(sourced_id="a1").home_site == office


# --------------------------------------------------------------------------- robustness of the files


USERS_ROWS = [user("u1", "José", "Peña"), user("u2", "Zoë", "O’Brien")]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(("\ufeff" + users_csv(*USERS_ROWS)).encode("utf-8"), id="utf8-bom"),
        pytest.param(users_csv(*USERS_ROWS).encode("cp1252"), id="cp1252"),
        pytest.param(users_csv(*USERS_ROWS).encode("mac_roman"), id="mac-roman"),
        pytest.param(users_csv(*USERS_ROWS).replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(users_csv(*USERS_ROWS).replace("\n", "\r").encode(), id="cr-only"),
        pytest.param(users_csv(*USERS_ROWS).replace(",", ";").encode(), id="semicolon"),
        pytest.param(users_csv(*USERS_ROWS).replace(",", "\t").encode(), id="tab"),
        pytest.param(users_csv(*USERS_ROWS).replace(",", "|").encode(), id="pipe"),
    ],
)
def test_encodings_delimiters_and_line_endings(tmp_path, data):
    run = run_import(roster_with_users_bytes(tmp_path, data))
    assert run.status == Status.DONE, issues(run)
    got = dict(Person.objects.values_list("sourced_id", "given_name"))
    assert got == {"u1": "José", "u2": "Zoë"}
    assert Person.objects.get(sourced_id="u2").family_name == "O’Brien"


def test_quoted_commas_newlines_and_doubled_quotes_keep_line_numbers(tmp_path):
    header = USERS_11 + ",ext_note"
    lines = [
        user("u1") + ',"a note, with a comma\nand a second line"',
        user("u2", "Ben", 'Lee "BJ"'.replace('"', '""')).replace('Lee ""BJ""', '"Lee ""BJ"""') + ",",
        user("u3", "", "Nog") + ",",
    ]
    run = run_import(roster_with_users_bytes(tmp_path, users_csv(*lines, header=header).encode()), mode="valid_rows")
    assert run.status == Status.DONE
    assert Person.objects.get(sourced_id="u2").family_name == 'Lee "BJ"'
    assert [(i[1], i[2]) for i in issues(run)] == [(5, "givenName")]  # u3 starts on line 5


def test_blank_rows_and_trailing_empty_columns_are_ignored(tmp_path):
    data = users_csv("", user("u1") + ",,,", " , , ", user("u2", "Ben", "Lee"), "", header=USERS_11 + ",,,")
    run = run_import(roster_with_users_bytes(tmp_path, data.encode()))
    assert run.status == Status.DONE, issues(run)
    assert Person.objects.count() == 2


def test_header_names_differing_in_case_spacing_invisible_characters_and_aliases(tmp_path):
    header = "\u200bSourcedID, Status ,ORGSOURCEDIDS,role,given name,Family_Name,identifier,userId,agents,grade,metadata.legacyId,ext_vendor_x"
    data = users_csv("u1,,sch1,student,Ana,Ruiz,0041,abc,,7,L1,X", header=header)
    run = run_import(roster_with_users_bytes(tmp_path, data.encode()))
    assert run.status == Status.DONE, issues(run)
    assert people()["u1"] == ("student", "Ana", "Ruiz", "0041", "07", "LMS", "active")
    notes = " ".join(run.notes)
    assert "'agents' as agentSourcedIds" in notes and "metadata.legacyId" in notes and "ext_vendor_x" in notes


def test_duplicate_headers_are_a_file_error_naming_them(tmp_path):
    data = users_csv(user("u1") + ",x", header=USERS_11 + ",Given Name")
    run = run_import(roster_with_users_bytes(tmp_path, data.encode()))
    assert run.status == Status.REJECTED
    file, line, _, _, reason = issues(run)[0]
    assert file == "users.csv" and line is None
    assert "'givenName' (column 9) and 'Given Name' (column 19)" in reason and "named alike" in reason
    assert Person.objects.count() == 0


def test_missing_required_column_is_a_file_error(tmp_path):
    data = "sourcedId,role,orgSourcedIds,givenName\nu1,student,sch1,Ana\n"
    run = run_import(roster_with_users_bytes(tmp_path, data.encode()))
    assert run.status == Status.REJECTED
    assert "familyName" in issues(run)[0][4]
    assert Site.objects.count() == 0  # nothing at all is applied


def test_duplicate_sourced_ids_list_every_line_and_reject_them_all(tmp_path):
    folder = standard_roster(tmp_path / "r", user("u1"), user("dup", "A", "One"), user("u2", "Ben", "Lee"), user("dup", "B", "Two"), user("dup", "C", "Three"))  # fmt: skip
    run = run_import(folder, mode="valid_rows")
    assert run.status == Status.DONE
    dups = [i for i in issues(run) if i[3] == "dup"]
    assert [i[1] for i in dups] == [3, 5, 6]
    assert all("3, 5, 6" in i[4] and i[2] == "sourcedId" for i in dups)
    assert run.counts["people"]["rejected"] == 3
    assert set(Person.objects.values_list("sourced_id", flat=True)) == {"u1", "u2"}


def test_true_booleans_and_metadata_columns(tmp_path):
    header = USERS_11 + ",metadata.stateId,ext_imagine_grade"
    row = user("u1").replace(",true,", ",TRUE,") + ",ST-1,7"
    run = run_import(roster_with_users_bytes(tmp_path, users_csv(row, header=header).encode()))
    assert run.status == Status.DONE
    assert run.warning_count == 0
    assert Person.objects.filter(sourced_id="u1").exists()


def test_identifiers_keep_leading_zeros_and_excel_damage_is_a_row_error(tmp_path):
    folder = standard_roster(tmp_path / "r", user("u1", identifier="000123"), user("u2", "Ben", "Lee", identifier="6.37702E+15"))  # fmt: skip
    run = run_import(folder, mode="valid_rows")
    assert Person.objects.get(sourced_id="u1").student_number == "000123"
    (issue,) = issues(run)
    assert issue[1:4] == (3, "identifier", "6.37702E+15") and "Excel" in issue[4]


def test_row_errors_name_the_line_column_value_and_what_was_expected(tmp_path):
    folder = standard_roster(
        tmp_path / "r",
        user("u1", role="wizard"),
        user("u2", org="nowhere"),
        user("u3", grades="13th"),
        user("u4", email="not-an-email"),
        user("u5", "A" * 101, "Long"),
    )
    run = run_import(folder, mode="valid_rows")
    got = {i[1]: i[2:] for i in issues(run)}
    assert got[2][:2] == ("role", "wizard") and "expected one of student" in got[2][2]
    assert got[3][:2] == ("orgSourcedIds", "nowhere") and "no school" in got[3][2]
    assert got[4][:2] == ("grades", "13th") and "CEDS" in got[4][2]
    assert got[5][:2] == ("email", "not-an-email")
    assert got[6][0] == "givenName" and "at most 100" in got[6][2]
    assert run.error_count == 3 and run.warning_count == 2
    assert set(Person.objects.values_list("sourced_id", flat=True)) == {"u3", "u4"}  # warnings do not reject


def test_reference_data_is_never_created_from_a_row_that_failed(tmp_path):
    long_id = "school-" + "9" * 40
    orgs = orgs_csv("sch1,,,Lincoln,school,LMS,", "sch2,,,Adams,kindergarten,AES,", f"{long_id},,,Long,school,{'X' * 40},", f"sch4,,,Short,school,{'Y' * 40},")  # fmt: skip
    run = run_import(roster_dir(tmp_path / "r", {"manifest.csv": manifest(users="absent"), "orgs.csv": orgs}), mode="valid_rows")  # fmt: skip
    assert run.status == Status.DONE
    assert set(Site.objects.values_list("sourced_id", "code")) == {
        ("sch1", "LMS"),
        (long_id, "LONG"),
        ("sch4", "sch4"),
    }  # sch4: sourcedId as code; the long sourcedId: a code made from the name
    got = issues(run)
    assert [(i[1], i[2]) for i in got] == [(3, "type")]
    assert "expected one of district, school" in got[0][4]


def test_an_existing_site_keeps_its_code_and_an_nces_identifier_is_its_state_id(tmp_path):
    """The NCES id in ``identifier`` once replaced CLE-HS on every import."""
    SiteFactory(code="CLE-HS", name="Cleveland High", sourced_id="sch1")
    orgs = orgs_csv(
        "dist,,,Maple Unified,district,MUSD,",
        "sch1,,,Cleveland High,school,174008000001,dist",
        "sch2,,,Adams Elementary,school,174008000002,dist",  # new: sourcedId as code
        "{6F2C1A9E-0000-4000-8000-00000000000A},,,Prairie View Middle School,school,174008000003,dist",
        "sch5,,,Short Code,school,SCS,dist",
    )
    folder = roster_dir(tmp_path / "r", {"manifest.csv": manifest(users="absent"), "orgs.csv": orgs})
    run = run_import(folder)
    assert run.status == Status.DONE, issues(run)
    got = {s.sourced_id: (s.code, s.state_id) for s in Site.objects.all()}
    assert got["sch1"] == ("CLE-HS", "174008000001")
    assert got["sch2"] == ("sch2", "174008000002")
    assert got["{6F2C1A9E-0000-4000-8000-00000000000A}"] == ("PRAIRIE-VIEW-MIDDLE-SCHOOL", "174008000003")
    assert got["sch5"] == ("SCS", "")
    assert run.counts["sites"]["updated"] == 1 and run.counts["sites"]["created"] == 3  # the state id
    again = run_import(folder, commit=False)
    assert again.preview["sites"]["updated"] == 0 and again.preview["sites"]["unchanged"] == 4
    assert Site.objects.get(sourced_id="sch1").code == "CLE-HS"


def test_site_code_clash_with_a_site_made_by_hand(tmp_path):
    SiteFactory(code="LMS", name="Lincoln (by hand)", sourced_id="")
    SiteFactory(code="AES", name="Adams (other roster)", sourced_id="other")
    run = run_import(standard_roster(tmp_path / "r", user("u1")), mode="valid_rows")
    lincoln = Site.objects.get(code="LMS")
    assert lincoln.sourced_id == "sch1" and lincoln.name == "Lincoln Middle"  # adopted
    assert any(i[3] == "AES" and "belongs to Adams (other roster)" in i[4] for i in issues(run))


# --------------------------------------------------------------------------- modes


def test_all_or_nothing_with_row_errors_cannot_be_committed(tmp_path):
    run = run_import(standard_roster(tmp_path / "r", user("u1"), user("u2", role="wizard")), commit=False)
    assert run.status == Status.PREVIEWED
    assert run.preview["people"]["created"] == 1 and run.preview["people"]["rejected"] == 1
    with pytest.raises(DomainError, match="all-or-nothing"):
        import_run_commit(run=run, actor=None)
    assert Person.objects.count() == 0


def test_valid_rows_applies_the_rest_and_reports_the_errors(tmp_path):
    run = run_import(standard_roster(tmp_path / "r", user("u1"), user("u2", role="wizard")), mode="valid_rows")
    assert run.status == Status.DONE
    assert run.counts["people"] == {"created": 1, "updated": 0, "unchanged": 0, "deactivated": 0, "rejected": 1}
    assert run.error_count == 1 and run.issues.count() == 1


def test_all_or_nothing_commit_rolls_back_when_the_data_changed_since_the_preview(tmp_path):
    folder = standard_roster(tmp_path / "r", user("u1"), user("u2", "Ben", "Lee", org="sch2"))
    run = run_import(folder, commit=False)
    assert run.status == Status.PREVIEWED and run.error_count == 0
    SiteFactory(code="AES", name="Adams (another roster)", sourced_id="elsewhere")
    run = import_run_commit(run=run, actor=None)
    from imports.services import import_run_start

    import_run_start(run=run, phase="commit", inline=True)
    run.refresh_from_db()
    assert run.status == Status.REJECTED
    assert "Nothing was imported" in run.error
    assert Person.objects.count() == 0 and not Site.objects.filter(sourced_id="sch1").exists()
    assert any("belongs to Adams" in i[4] for i in issues(run))


# --------------------------------------------------------------------------- uploads


def test_a_zip_with_files_at_its_root_or_in_one_folder(tmp_path):
    files = {"manifest.csv": manifest(), "orgs.csv": orgs_csv(), "users.csv": users_csv(user("u1"))}
    assert run_import(roster_zip(tmp_path / "a.zip", files)).status == Status.DONE
    nested = {f"export-2024/{name}": content for name, content in files.items()}
    nested["__MACOSX/export-2024/._users.csv"] = b"\x00\x05junk"
    run = run_import(roster_zip(tmp_path / "b.zip", nested))
    assert run.status == Status.DONE and run.counts["people"]["unchanged"] == 1


@pytest.mark.parametrize(
    "name,content,expected",
    [
        ("empty.zip", b"", "empty"),
        ("junk.zip", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a zip"),
        ("roster.csv", b"a,b\n1,2\n", "not a OneRoster upload"),
        ("users.csv", bytes(range(256)) * 8, "binary"),
        ("users.csv", b"sourcedId," + b"x" * 70_000 + b"\nu1,\n", "64 KiB"),
    ],
)
def test_unusable_uploads_are_rejected_with_a_clear_message(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    run = run_import(path)
    assert run.status == Status.REJECTED
    assert expected in " ".join(i[4] for i in issues(run))


def test_a_zip_without_users_or_orgs(tmp_path):
    run = run_import(roster_zip(tmp_path / "a.zip", {"manifest.csv": manifest(), "classes.csv": "sourcedId\n"}))
    assert run.status == Status.REJECTED
    assert "orgs.csv is missing: manifest.csv lists it as bulk" in " ".join(f"{i[0]} {i[4]}" for i in issues(run))
    run = run_import(roster_zip(tmp_path / "b.zip", {"classes.csv": "sourcedId\n"}))
    assert run.status == Status.REJECTED
    assert "neither users.csv nor orgs.csv" in " ".join(i[4] for i in issues(run))


def test_a_single_users_csv_is_accepted(tmp_path):
    run_import(standard_roster(tmp_path / "a", user("u1")))
    path = tmp_path / "users.csv"
    path.write_text(users_csv(user("u1", "Ana", "Ruiz"), user("u9", "New", "Kid")))
    run = run_import(path)
    assert run.status == Status.DONE
    assert run.counts["people"]["created"] == 1


# --------------------------------------------------------------------------- permissions


def test_only_district_admins_may_import_people(tmp_path, world):
    folder = standard_roster(tmp_path / "r", user("u1"))
    for who in (world.site_tech, world.district_tech, world.principal):
        with pytest.raises(ImportRefused):
            import_run_create(actor=who, kind="oneroster", path=folder, scope_site=world.site_a)
        with pytest.raises(ImportRefused):
            import_run_create(actor=who, kind="oneroster", path=folder)
    run = run_import(folder, actor=world.district_admin)
    assert run.status == Status.DONE and run.actor_label == "district-admin"


def test_site_scoped_runs_are_seen_by_that_sites_staff_only(world):
    district_wide = ImportRun.objects.create(kind="oneroster", file_name="a.zip")
    at_a = ImportRun.objects.create(kind="csv", file_name="a.csv", scope_site=world.site_a)
    at_b = ImportRun.objects.create(kind="csv", file_name="b.csv", scope_site=world.site_b)
    assert set(ImportRun.objects.visible_to(world.site_tech)) == {at_a}
    assert set(ImportRun.objects.visible_to(world.district_admin)) == {district_wide, at_a, at_b}
    assert set(ImportRun.objects.visible_to(world.auditor)) == {district_wide, at_a, at_b}
    assert not ImportRun.objects.visible_to(make_user("norole")).exists()


@pytest.mark.parametrize("kind", ["google", "snipeit", "csv"])
def test_unavailable_importers_say_so(tmp_path, monkeypatch, kind):
    from imports.pipeline import IMPORTER_CLASSES, ImporterUnavailable

    monkeypatch.setitem(IMPORTER_CLASSES, kind, None)  # as before its importer is wired in
    with pytest.raises(ImporterUnavailable, match="not available yet"):
        import_run_create(actor=None, kind=kind, path=tmp_path)


def test_org_csv_header_constant_matches_the_spec():
    assert ORGS.split(",")[:5] == ["sourcedId", "status", "dateLastModified", "name", "type"]


# --------------------------------------------------------------------------- a partial bulk file (QA)


def _district(tmp_path):
    """Three schools, ten students with guardians, a device at the third school."""
    from core.testing import DeviceFactory

    orgs = orgs_csv("dist,,,Maple Unified,district,MUSD,", "sch1,,,Lincoln Middle,school,LMS,dist",
                    "sch2,,,Adams Elementary,school,AES,dist", "sch3,,,Cleveland High,school,CHS,dist")  # fmt: skip
    lines = [user(f"s{n}", f"Kid{n}", "Ruiz", org=f"sch{1 + n % 3}", agents=f"g{n}") for n in range(10)]
    lines += [user(f"g{n}", f"Parent{n}", "Ruiz", role="guardian") for n in range(10)]
    files = {"manifest.csv": manifest(), "orgs.csv": orgs, "users.csv": users_csv(*lines)}
    run = run_import(roster_dir(tmp_path / "full", files))
    assert run.status == Status.DONE, issues(run)
    DeviceFactory(current_site=Site.objects.get(sourced_id="sch3"), owner_site=Site.objects.get(sourced_id="sch3"))
    assert GuardianContact.objects.count() == 10


def test_a_partial_bulk_file_needs_a_confirmation_and_never_deletes_guardians(tmp_path):
    _district(tmp_path)
    partial = {"manifest.csv": manifest(), "orgs.csv": orgs_csv("sch1,,,Lincoln Middle,school,LMS,"),
               "users.csv": users_csv(user("s3", "Kid3", "Ruiz", org="sch1"), user("s6", "Kid6", "Ruiz", org="sch1"))}  # fmt: skip
    folder = roster_dir(tmp_path / "partial", partial)
    run = run_import(folder, commit=False)
    assert run.status == Status.PREVIEWED
    guard = run.deactivation_guard()
    assert guard["needs_confirmation"] and guard["people"] == 8 and guard["sites"] == 2 and guard["sites_in_use"] == 2
    assert run.preview.get("guardians", {}).get("removed", 0) == 0  # no guardian rows: the file says nothing about them
    assert any("Warning: this bulk file does not list 8 of the 10 active people" in note for note in run.notes)
    with pytest.raises(DomainError, match="Tick the confirmation"):
        import_run_commit(run=run, actor=None)
    assert Person.objects.filter(status=Person.Status.ACTIVE).count() == 10
    assert Site.objects.filter(active=True, sourced_id__startswith="sch").count() == 3
    # The command line refuses too, unless told for this run.
    from imports.tests.test_cli import cli

    code, _, message = cli("oneroster", str(folder), "--no-progress")
    assert code != 0 and "confirm_deactivation=yes" in message
    assert Person.objects.filter(status=Person.Status.ACTIVE).count() == 10
    code, _, message = cli("oneroster", str(folder), "--no-progress", "--option", "confirm_deactivation=yes")
    assert code == 0, message
    assert Person.objects.filter(status=Person.Status.ACTIVE).count() == 2
    assert Site.objects.filter(active=True, sourced_id__startswith="sch").count() == 1
    assert GuardianContact.objects.count() == 10  # the missing students keep theirs; so do s3 and s6


def test_an_unconfirmed_commit_deactivates_nobody_even_if_the_data_changed(tmp_path):
    """The commit phase checks again: a run previewed as harmless that became risky."""
    _district(tmp_path)
    lines = [user(f"s{n}", f"Kid{n}", "Ruiz", org=f"sch{1 + n % 3}", agents=f"g{n}") for n in range(10)]
    lines += [user(f"g{n}", f"Parent{n}", "Ruiz", role="guardian") for n in range(10)]
    orgs = orgs_csv("dist,,,Maple Unified,district,MUSD,", "sch1,,,Lincoln Middle,school,LMS,dist",
                    "sch2,,,Adams Elementary,school,AES,dist", "sch3,,,Cleveland High,school,CHS,dist")  # fmt: skip
    folder = roster_dir(tmp_path / "same", {"manifest.csv": manifest(), "orgs.csv": orgs, "users.csv": users_csv(*lines)})  # fmt: skip
    run = run_import(folder, commit=False)
    assert not run.deactivation_guard().get("needs_confirmation")
    for n in range(10, 20):
        PersonFactory(sourced_id=f"x{n}")  # people the file does not list, added since the preview
    from imports.services import import_run_start

    run = import_run_commit(run=run, actor=None)
    import_run_start(run=run, phase="commit", inline=True)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert any("tick the confirmation on its preview" in i[4] for i in issues(run))
    assert not Person.objects.filter(sourced_id__startswith="x", status=Person.Status.INACTIVE).exists()


@pytest.mark.parametrize("mode", ["all_or_nothing", "valid_rows"])
def test_a_commit_stopped_by_the_safety_stop_says_so_not_that_the_file_was_unreadable(tmp_path, mode):
    folder = standard_roster(tmp_path / "r", user("u1"), user("u2", "Ben", "Lee"))
    run = run_import(folder, commit=False, mode=mode)
    assert run.status == Status.PREVIEWED and not run.deactivation_guard().get("needs_confirmation")
    for n in range(10):
        PersonFactory(sourced_id=f"x{n}")  # added since the preview: the file would now deactivate them
    run = import_run_commit(run=run, actor=None)
    import_run_start(run=run, phase="commit", inline=True)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "could not be read" not in run.error
    assert run.error.startswith("The commit was stopped: r: this bulk file would now make 10 of the 12 active people")
    assert "tick the confirmation on its preview" in run.error
    applied = "Nothing was imported." if mode == "all_or_nothing" else "Nothing more was applied."
    assert run.error.endswith(applied)
    assert Person.objects.filter(status=Person.Status.INACTIVE).count() == 0
    assert Person.objects.filter(sourced_id__in=["u1", "u2"]).count() == (0 if mode == "all_or_nothing" else 2)


@pytest.mark.parametrize("mode", ["all_or_nothing", "valid_rows"])
def test_a_file_unreadable_at_the_commit_still_says_it_could_not_be_read(tmp_path, mode):
    folder = standard_roster(tmp_path / "r", user("u1"))
    run = run_import(folder, commit=False, mode=mode)
    (folder / "users.csv").write_bytes(b"PK\x03\x04 not really a zip \x00\xff")  # damaged since the preview
    run = import_run_commit(run=run, actor=None, confirm_deactivation=True)
    import_run_start(run=run, phase="commit", inline=True)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error.startswith("users.csv could not be read while committing (cannot be read: ")
    assert Person.objects.count() == 0


@pytest.mark.parametrize("mode", ["all_or_nothing", "valid_rows"])
def test_an_upload_gone_at_the_commit_fails_the_run_with_its_reason(tmp_path, mode):
    """A file error while opening the upload at the commit stops it too (it used to finish as
    "done" in valid-rows mode, or as "rejected" for "1 row error(s)" in all-or-nothing)."""
    folder = standard_roster(tmp_path / "r", user("u1"))
    run = run_import(folder, commit=False, mode=mode)
    (folder / "users.csv").unlink()
    run = import_run_commit(run=run, actor=None, confirm_deactivation=True)
    import_run_start(run=run, phase="commit", inline=True)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error.startswith("The commit was stopped: users.csv: is missing: manifest.csv lists it as bulk.")
    assert Person.objects.count() == 0


def test_stale_guardian_links_are_removed_only_for_students_in_the_file(tmp_path):
    _district(tmp_path)
    # s0 now lists g1 instead of g0; s2 is in the file and still lists g2 (whose row is gone);
    # s4 is missing (inactive, keeps g4); g5's row is there but names nobody else.
    lines = [user("s0", "Kid0", "Ruiz", agents="g1"), user("s1", "Kid1", "Ruiz", agents="g1"),
             user("s2", "Kid2", "Ruiz", agents="g2"), user("s3", "Kid3", "Ruiz", agents="g3"),
             *(user(f"s{n}", f"Kid{n}", "Ruiz", agents=f"g{n}") for n in range(5, 10)),
             user("g1", "Parent1", "Ruiz", role="guardian"), user("g3", "Parent3", "Ruiz", role="guardian"),
             *(user(f"g{n}", f"Parent{n}", "Ruiz", role="guardian") for n in range(5, 10))]  # fmt: skip
    orgs = orgs_csv("dist,,,Maple Unified,district,MUSD,", "sch1,,,Lincoln Middle,school,LMS,dist",
                    "sch2,,,Adams Elementary,school,AES,dist", "sch3,,,Cleveland High,school,CHS,dist")  # fmt: skip
    folder = roster_dir(tmp_path / "b", {"manifest.csv": manifest(), "orgs.csv": orgs, "users.csv": users_csv(*lines)})  # fmt: skip
    run = run_import(folder)
    assert run.status == Status.DONE, issues(run)
    links = set(GuardianContact.objects.values_list("person__sourced_id", "sourced_id"))
    assert ("s0", "g0") not in links and ("s0", "g1") in links  # s0's agents changed: the stale link goes
    assert ("s2", "g2") in links  # still named by the student
    assert ("s4", "g4") in links  # s4 is missing from the file: inactive, keeps the guardian
    assert Person.objects.get(sourced_id="s4").status == Person.Status.INACTIVE
    assert run.counts["guardians"]["removed"] == 1
