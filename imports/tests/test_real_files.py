"""The real files in ../shared/data/real/ (skipped when that folder is absent)."""

from __future__ import annotations

import io
import shutil
import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportRun
from imports.tests.roster import issues, run_import
from people.models import Person
from sites.models import Site

pytestmark = pytest.mark.django_db

SAMPLE = settings.BASE_DIR.parent / "shared" / "data" / "real" / "oneroster-1.1-sample"
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason="shared/data/real/oneroster-1.1-sample is absent")


@needs_sample
def test_oneroster_sample_previews_sensibly_and_imports(tmp_path):
    folder = shutil.copytree(SAMPLE, tmp_path / "sample")  # read from a copy: the original is read-only
    run = run_import(folder, commit=False)
    assert run.status == ImportRun.Status.PREVIEWED, (run.error, issues(run))
    assert run.preview["people"]["created"] == 2
    assert run.preview["sites"]["created"] == 2
    assert run.error_count == 0
    notes = " ".join(run.notes)
    assert "'userId' as userIds" in notes and "'agents' as agentSourcedIds" in notes  # renamed columns
    assert "ext_imagineLearning_databaseId" in notes and "metadata.classification" in notes  # ignored extensions
    run = run_import(folder)
    assert run.status == ImportRun.Status.DONE
    assert set(Person.objects.values_list("sourced_id", "given_name", "home_site__sourced_id")) == {
        ("user1", "ionut", "12345"),
        ("user2", "ionut2", "54321"),
    }
    assert Site.objects.filter(sourced_id__in=["12345", "54321"], kind="school").count() == 2
    again = run_import(folder)
    assert again.counts["people"] == {"created": 0, "updated": 0, "unchanged": 2, "deactivated": 0}


@needs_sample
def test_oneroster_sample_through_the_web_page_as_a_zip(client_for, world):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(SAMPLE.iterdir()):
            archive.write(path, path.name)
    client = client_for(world.district_admin)
    response = client.post(
        reverse("imports:run_new"),
        {"kind": "oneroster", "mode": "all_or_nothing", "date_order": "MDY", "deactivate_missing": "on",
         "file": SimpleUploadedFile("oneroster-sample.zip", buffer.getvalue())},
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "What would change" in page and "About the files" in page
    run = ImportRun.objects.get()
    assert (
        client.post(
            reverse("imports:run_commit", args=[run.pk]), {"mode": run.mode, "confirm_deactivation": "yes"}
        ).status_code
        == 302
    )
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE
    assert Person.objects.filter(sourced_id__in=["user1", "user2"]).count() == 2
