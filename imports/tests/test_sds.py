"""Microsoft School Data Sync files given to the OneRoster importer (issue #8): recognised and
named; SDS v2.1 (OneRoster's layout without a manifest, roles in roles.csv) imported."""

from __future__ import annotations

import pytest

from imports.models import ImportRun
from imports.tests.roster import issues, roster_zip, run_import
from people.models import Person
from sites.models import Site

pytestmark = pytest.mark.django_db

SDS_V21 = {
    "orgs.csv": "sourcedId,name,type,parentSourcedId\nd1,Maple Unified,district,\ns1,Lincoln Middle,school,d1\n",
    "users.csv": (
        "sourcedId,username,familyName,givenName,password,activeDirectoryMatchId,email,phone,sms\n"
        "u1,ana.ruiz@maple.org,Ruiz,Ana,,,ana.ruiz@maple.org,,\n"
        "t1,bo.lee@maple.org,Lee,Bo,,,bo.lee@maple.org,,\n"
    ),
    "roles.csv": (
        "userSourcedId,orgSourcedId,role,sessionSourcedId,grade,isPrimary,roleStartDate,roleEndDate\n"
        "u1,s1,student,,07,true,,\n"
        "t1,s1,teacher,,,true,,\n"
    ),
}

SDS_V1 = {
    "School.csv": "SIS ID,Name,School Number\ns1,Lincoln Middle,101\n",
    "Student.csv": "SIS ID,School SIS ID,Username,First Name,Last Name,Grade\nu1,s1,ana.ruiz,Ana,Ruiz,7\n",
    "Teacher.csv": "SIS ID,School SIS ID,Username,First Name,Last Name\nt1,s1,bo.lee,Bo,Lee\n",
    "Section.csv": "SIS ID,School SIS ID,Section Name\nc1,s1,Math 7\n",
    "StudentEnrollment.csv": "Section SIS ID,SIS ID\nc1,u1\n",
    "TeacherRoster.csv": "Section SIS ID,SIS ID\nc1,t1\n",
}


def test_sds_v21_is_named_and_imported_as_oneroster(tmp_path):
    run = run_import(roster_zip(tmp_path / "sds.zip", SDS_V21))
    assert run.status == ImportRun.Status.DONE, issues(run)
    assert "Microsoft School Data Sync" in " ".join(run.notes)
    assert Site.objects.filter(name="Lincoln Middle").exists()
    people = dict(Person.objects.values_list("sourced_id", "role"))
    assert people == {"u1": "student", "t1": "staff"}


def test_sds_v1_is_named_not_refused_row_by_row(tmp_path):
    run = run_import(roster_zip(tmp_path / "sds.zip", SDS_V1))
    assert run.status == ImportRun.Status.REJECTED
    found = issues(run)
    assert len(found) == 1
    assert "Microsoft School Data Sync" in found[0][4] and "SDS v1" in found[0][4]
