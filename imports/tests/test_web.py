"""The import pages: upload → preview → commit with the test client, progress, history,
issues CSV, permissions, and no 500 for any upload."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportRun, OrgUnitMapping
from imports.selectors import org_unit_resolver
from imports.tasks import wait_for_threads
from imports.tests.roster import manifest, orgs_csv, user, users_csv
from people.models import Person

pytestmark = pytest.mark.django_db

Status = ImportRun.Status


def zipped(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def roster_bytes(*user_lines: str) -> bytes:
    return zipped({"manifest.csv": manifest(), "orgs.csv": orgs_csv(), "users.csv": users_csv(*user_lines)})


def upload(client, name: str, content: bytes, **data):
    form = {"kind": "oneroster", "mode": "all_or_nothing", "date_order": "MDY", "deactivate_missing": "on"}
    form.update(data)
    return client.post(reverse("imports:run_new"), {**form, "file": SimpleUploadedFile(name, content)})


def test_upload_preview_with_row_errors_then_commit_the_valid_rows(client_for, world):
    client = client_for(world.district_admin)
    response = upload(
        client, "roster.zip", roster_bytes(user("u1"), user("u2", "Ben", "Lee"), user("u3", role="wizard"))
    )
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert response.url == reverse("imports:run_detail", args=[run.pk])
    assert run.status == Status.PREVIEWED and run.file_name == "roster.zip"
    assert run.source_path.is_file() and "imports" in str(run.source_path)
    page = client.get(response.url).content.decode()
    assert "What would change" in page
    assert "wizard" in page and "expected one of student" in page  # the row error, with its value
    assert "Apply the valid rows" in page
    assert Person.objects.filter(sourced_id__in=["u1", "u2"]).count() == 0  # nothing changed yet
    response = client.post(
        reverse("imports:run_commit", args=[run.pk]), {"mode": "valid_rows", "confirm_deactivation": "yes"}
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == Status.DONE and run.mode == ImportRun.Mode.VALID_ROWS
    assert run.counts["people"]["created"] == 2 and run.counts["people"]["rejected"] == 1
    assert Person.objects.filter(sourced_id__in=["u1", "u2"]).count() == 2
    page = client.get(response.url).content.decode()
    assert "What was changed" in page and 'hx-trigger="every 1s"' not in page
    # committing twice does nothing more, and the run page says why
    response = client.post(
        reverse("imports:run_commit", args=[run.pk]), {"mode": "valid_rows", "confirm_deactivation": "yes"}
    )
    assert (
        response.status_code == 200 and "This import is done; there is nothing to commit." in response.content.decode()
    )
    assert Person.objects.filter(sourced_id__in=["u1", "u2"]).count() == 2


def test_a_commit_stopped_by_the_safety_stop_shows_why_and_that_nothing_was_changed(client_for, world):
    from core.testing import PersonFactory

    client = client_for(world.district_admin)
    everyone = [user(sid) for sid in Person.objects.values_list("sourced_id", flat=True)]
    response = upload(client, "roster.zip", roster_bytes(*everyone, user("u1")))
    run = ImportRun.objects.get()
    assert run.status == Status.PREVIEWED and not run.deactivation_guard().get("needs_confirmation")
    for n in range(10):
        PersonFactory(sourced_id=f"x{n}")  # added since the preview: the file would now deactivate them
    client.post(reverse("imports:run_commit", args=[run.pk]), {"mode": "all_or_nothing"})
    run.refresh_from_db()
    assert run.status == Status.FAILED
    page = client.get(response.url).content.decode()
    assert "The commit was stopped: roster.zip: this bulk file would now make 10 of the" in page
    assert "tick the confirmation on its preview" in page and "Nothing was imported." in page
    assert "could not be read" not in page
    assert "What was changed" not in page and "What the preview planned (the commit did not complete)" in page
    assert Person.objects.filter(sourced_id="u1").count() == 0


def test_second_upload_of_the_same_file_says_nothing_to_change(client_for, world):
    client = client_for(world.district_admin)
    content = roster_bytes(user("u1"))
    upload(client, "roster.zip", content)
    client.post(
        reverse("imports:run_commit", args=[ImportRun.objects.get().pk]),
        {"mode": "all_or_nothing", "confirm_deactivation": "yes"},
    )
    response = upload(client, "roster.zip", content)
    page = client.get(response.url).content.decode()
    assert "Nothing to change" in page


def test_a_bulk_file_missing_most_people_warns_and_needs_a_confirmation(client_for, world):
    client = client_for(world.district_admin)
    response = upload(client, "roster.zip", roster_bytes(user("u1")))  # the district's 2 people are not in it
    run = ImportRun.objects.get()
    page = client.get(response.url).content.decode()
    warning = page.index("Warning: this bulk file would make 2 of the 2 active people")
    assert warning < page.index("What would change")  # at the top, in red
    assert 'class="msg error deactivation-warning"' in page
    assert 'name="confirm_deactivation"' in page and "Yes, deactivate 2 people and 0 schools" in page
    client.post(reverse("imports:run_commit", args=[run.pk]), {"mode": "all_or_nothing"})
    run.refresh_from_db()
    assert run.status == Status.PREVIEWED and Person.objects.filter(status=Person.Status.INACTIVE).count() == 0
    client.post(reverse("imports:run_commit", args=[run.pk]), {"mode": "all_or_nothing", "confirm_deactivation": "yes"})
    run.refresh_from_db()
    assert run.status == Status.DONE and run.options["confirm_deactivation"] == "yes"
    assert Person.objects.filter(status=Person.Status.INACTIVE).count() == 2


def test_cancel_a_preview(client_for, world):
    client = client_for(world.district_admin)
    upload(client, "roster.zip", roster_bytes(user("u1")))
    run = ImportRun.objects.get()
    response = client.post(reverse("imports:run_cancel", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    response = client.post(reverse("imports:run_commit", args=[run.pk]))
    assert (
        response.status_code == 200
        and "This import is cancelled; there is nothing to commit." in response.content.decode()
    )
    run.refresh_from_db()
    assert run.status == Status.CANCELLED and not Person.objects.filter(sourced_id="u1").exists()


def test_progress_bar_polls_while_running_and_reloads_when_done(client_for, world):
    client = client_for(world.district_admin)
    run = ImportRun.objects.create(kind="oneroster", file_name="r.zip", status=Status.VALIDATING,
                                   phase="Step 5 of 6: users.csv", progress_done=250, progress_total=1000)  # fmt: skip
    page = client.get(reverse("imports:run_detail", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="250"' in page and "25%" in page
    partial = client.get(reverse("imports:run_progress", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "HX-Refresh" not in partial
    run.status = Status.PREVIEWED
    run.save()
    partial = client.get(reverse("imports:run_progress", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert partial["HX-Refresh"] == "true"


def test_issues_download_as_csv(client_for, world):
    client = client_for(world.district_admin)
    upload(client, "roster.zip", roster_bytes(user("u1", role="=cmd|calc"), user("u2", identifier="1.2E+10")))
    run = ImportRun.objects.get()
    response = client.get(reverse("imports:run_issues_csv", args=[run.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "file,line,column,value,severity,reason,key"
    assert lines[1].startswith("users.csv,2,role,'=cmd|calc,error,")  # neutralised against formula injection
    assert lines[2].startswith("users.csv,3,identifier,1.2E+10,error,")


def test_history_lists_who_when_file_options_and_counts(client_for, world):
    client = client_for(world.district_admin)
    upload(client, "nightly.zip", roster_bytes(user("u1")))
    page = client.get(reverse("imports:run_list")).content.decode()
    assert "nightly." in page and "district-admin" in page  # the name may hold a <wbr> break
    assert "Deactivate people and schools missing from the file: yes" in page and "deactivate_missing" not in page
    assert "People: would create 1" in page  # a preview: nothing was created yet
    assert "nightly." not in client_for(world.site_tech).get(reverse("imports:run_list")).content.decode()


def test_site_technician_cannot_import_people(client_for, world):
    client = client_for(world.site_tech)
    page = client.get(reverse("imports:run_new"))
    assert page.status_code == 200  # may import devices later
    kinds = [value for value, _ in page.context["form"].fields["kind"].choices]
    assert "oneroster" not in kinds and "google" in kinds  # not offered: it would be refused
    assert "people" not in [value for value, _ in page.context["form"].fields["entity"].choices]
    assert 'value="oneroster"' not in page.content.decode()
    response = upload(client, "roster.zip", roster_bytes(user("u1")), site=str(world.site_a.pk))
    assert response.status_code == 403
    assert "Only district admins" in response.content.decode()
    assert not ImportRun.objects.exists() and not Person.objects.filter(sourced_id="u1").exists()
    assert upload(client_for(world.principal), "roster.zip", roster_bytes(user("u1"))).status_code == 403
    admin_kinds = client_for(world.district_admin).get(reverse("imports:run_new")).context["form"].fields["kind"]
    assert "oneroster" in [value for value, _ in admin_kinds.choices]


def test_a_roster_import_is_district_wide(client_for, world):
    client = client_for(world.district_admin)
    response = upload(client, "roster.zip", roster_bytes(user("u1")), site=str(world.site_a.pk))
    assert response.status_code == 200 and "whole district" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_other_sites_runs_are_404(client_for, world):
    run = ImportRun.objects.create(kind="csv", file_name="b.csv", scope_site=world.site_b, status=Status.PREVIEWED)
    client = client_for(world.site_tech)
    for name in ("run_detail", "run_progress", "run_issues_csv"):
        assert client.get(reverse(f"imports:{name}", args=[run.pk])).status_code == 404
    assert client.post(reverse("imports:run_commit", args=[run.pk])).status_code == 404
    run.refresh_from_db()
    assert run.status == Status.PREVIEWED


HUGE_HEADER = b"sourcedId," + b",".join(b"col%d" % i for i in range(20_000)) + b"\nu1\n"


@pytest.mark.parametrize(
    "name,content,kind",
    [
        ("empty.zip", b"", "oneroster"),
        ("junk.zip", bytes(range(256)) * 64, "oneroster"),
        ("users.csv", bytes(range(256)) * 64, "oneroster"),
        ("users.csv", b"\xff\xfe\x00\x00garbage", "oneroster"),
        ("users.csv", HUGE_HEADER, "oneroster"),
        ("users.csv", b'sourcedId,givenName\n"u1,Ana\n', "oneroster"),
        ("only-classes.zip", zipped({"classes.csv": "sourcedId\nc1\n"}), "oneroster"),
        ("book.xlsx", zipped({"[Content_Types].xml": "<x/>", "xl/workbook.xml": "<x/>"}), "oneroster"),
        ("devices.csv", b"serialNumber\nABC\n", "google"),
        ("devices.csv", b"serialNumber\nABC\n", "nonsense"),
        ("page.html", b"<!doctype html><html><body>login</body></html>", "oneroster"),
        ("users.csv", users_csv(user("u1")).encode("utf-16"), "oneroster"),
    ],
)
def test_no_upload_gives_a_500(client_for, world, name, content, kind, monkeypatch):
    from imports.pipeline import IMPORTER_CLASSES

    monkeypatch.setitem(IMPORTER_CLASSES, "google", None)  # "a kind not available yet"
    client = client_for(world.district_admin)
    response = upload(client, name, content, kind=kind)
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        detail = client.get(response.url)
        assert detail.status_code == 200
        run = ImportRun.objects.get()
        assert run.status in (Status.REJECTED, Status.PREVIEWED), run.error
        if run.status == Status.REJECTED:
            assert run.issues.exists() and run.issues.first().reason in detail.content.decode()


def test_form_posts_with_junk_never_500(client_for, world):
    client = client_for(world.district_admin)
    for data in (
        {},
        {"kind": "x", "mode": "x", "site": "x", "date_order": "x"},
        {"site": "999999", "kind": "oneroster"},
    ):
        assert client.post(reverse("imports:run_new"), data).status_code == 200
    run = ImportRun.objects.create(kind="oneroster", file_name="r.zip", status=Status.PREVIEWED)
    assert client.post(reverse("imports:run_commit", args=[run.pk]), {"mode": "sideways"}).status_code == 200
    assert client.get(reverse("imports:run_detail", args=[run.pk]), {"after": "zzz", "before": "%%"}).status_code == 200
    assert client.get(reverse("imports:run_list"), {"page": "-4"}).status_code == 200


def test_org_unit_mappings_page(client_for, world):
    client = client_for(world.district_admin)
    url = reverse("imports:org_units")
    assert client.post(url, {"path_prefix": "Students/Alder/", "site": world.site_a.pk}).status_code == 302
    assert client.post(url, {"path_prefix": "/Students", "site": world.site_b.pk}).status_code == 302
    assert client.post(url, {"path_prefix": "/x", "site": "nope"}).status_code == 200
    page = client.get(url).content.decode()
    assert "/Students/Alder" in page and "Alder Elementary" in page
    resolve = org_unit_resolver()
    assert resolve("/Students/Alder/Grade 5") == world.site_a.pk
    assert resolve("/students/alder") == world.site_a.pk
    assert resolve("/Students/Alderwood") == world.site_b.pk
    assert resolve("/Staff") is None
    mapping = OrgUnitMapping.objects.get(path_prefix="/Students/Alder")
    assert client.post(reverse("imports:org_unit_delete", args=[mapping.pk])).status_code == 302
    assert not OrgUnitMapping.objects.filter(pk=mapping.pk).exists()
    assert client_for(world.site_tech).get(url).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_embedded_mode_runs_the_job_in_a_background_thread(client_for, settings):
    """Without a broker the request returns at once; a thread does the work and saves progress."""
    from core.testing import make_world

    world = make_world()
    settings.IMPORTS_RUN_INLINE = False
    settings.CELERY_BROKER_URL = ""
    client = client_for(world.district_admin)
    response = upload(client, "roster.zip", roster_bytes(user("u1"), user("u2", "Ben", "Lee")))
    assert response.status_code == 302
    run = ImportRun.objects.get()
    deadline = time.monotonic() + 30
    while run.status not in (Status.PREVIEWED, Status.REJECTED, Status.FAILED) and time.monotonic() < deadline:
        time.sleep(0.05)
        run.refresh_from_db()
    assert run.status == Status.PREVIEWED, run.error
    client.post(reverse("imports:run_commit", args=[run.pk]), {"confirm_deactivation": "yes"})
    while run.status != Status.DONE and time.monotonic() < deadline:
        time.sleep(0.05)
        run.refresh_from_db()
    assert run.status == Status.DONE, run.error
    assert run.progress_done == run.progress_total > 0
    assert Person.objects.filter(sourced_id__in=["u1", "u2"]).count() == 2
    wait_for_threads()  # the job's thread closes its database connection before the test database goes


def test_with_a_broker_the_job_goes_to_celery_after_commit(settings, django_capture_on_commit_callbacks, monkeypatch):
    from imports import tasks

    settings.IMPORTS_RUN_INLINE = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    sent = []
    monkeypatch.setattr(tasks.run_import_phase, "delay", lambda *args: sent.append(args))
    run = ImportRun.objects.create(kind="oneroster", file_name="r.zip")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.import_job_start(run=run, phase="preview") is None
        assert sent == []  # not before the transaction commits
    assert sent == [(run.pk, "preview")]


def test_a_commit_refused_for_want_of_the_confirmation_says_so_on_the_run_page(client_for, world):
    """QA F3c: the refusal was flashed to the page after the one shown."""
    client = client_for(world.district_admin)
    upload(client, "roster.zip", roster_bytes(user("u1")))  # the district's 2 people are not in it
    run = ImportRun.objects.get()
    response = client.post(reverse("imports:run_commit", args=[run.pk]), {"mode": "all_or_nothing"})
    page = response.content.decode()
    assert response.status_code == 200 and f"Import #{run.pk}" in page
    assert "Not committed: This bulk file would make 2 people and 0 school(s) that it does not list inactive." in page
    assert page.index("Not committed:") < page.index('name="confirm_deactivation"')  # above the form to tick
    assert "Tick the confirmation" not in client.get(reverse("imports:run_list")).content.decode()
    run.refresh_from_db()
    assert run.status == Status.PREVIEWED


def test_a_site_technician_is_offered_their_site_not_the_whole_district(client_for, world):
    """Before: "Whole district" was pre-selected, and refused with a 403 once a file was chosen."""
    client = client_for(world.site_tech)
    page = client.get(reverse("imports:run_new"))
    form = page.context["form"]
    choices = [str(value) for value, _ in form.fields["site"].choices]
    assert "" not in choices and "Whole district" not in page.content.decode()
    assert form.initial["site"] == world.site_a.pk
    admin_form = client_for(world.district_admin).get(reverse("imports:run_new")).context["form"]
    assert "" in [str(value) for value, _ in admin_form.fields["site"].choices]  # admins keep it


def test_a_refused_upload_keeps_the_choices_made(client_for, world):
    client = client_for(world.site_tech)
    response = upload(client, "devices.csv", b"serialNumber\nABC\n", kind="google", site=str(world.site_b.pk),
                      date_order="DMY", create_checkouts="on")  # fmt: skip
    assert response.status_code == 200  # another site: not one of the choices
    form = response.context["form"]
    assert form["date_order"].value() == "DMY" and form["create_checkouts"].value() and form["kind"].value() == "google"
    assert "choose the file again" in response.content.decode()


def test_the_new_import_page_marks_which_importer_reads_each_option(client_for, world):
    page = client_for(world.district_admin).get(reverse("imports:run_new")).content.decode()
    assert "data-import-form" in page and "js/imports.js" in page
    assert 'name="deactivate_missing"' in page and 'data-kinds="oneroster"' in page
    assert 'data-kinds="snipeit"' in page and 'data-kinds="csv"' in page


def test_run_pages_never_report_a_preview_as_done_nor_offer_an_empty_commit(client_for, world):
    """Before: the history said "4178 deactivated" for a preview; a run whose every row failed
    was "Ready to commit"; a re-import with nothing to change offered Commit; "checking…" stayed
    above the finished preview."""
    client = client_for(world.district_admin)
    response = upload(client, "roster.zip", roster_bytes(user("u1"), user("u2", "Ben", "Lee")))
    page = client.get(response.url).content.decode()
    assert "checking roster.zip" not in page
    run = ImportRun.objects.get()
    listing = client.get(reverse("imports:run_list")).content.decode()
    assert "would create 2" in listing and "2 created" not in listing
    client.post(reverse("imports:run_commit", args=[run.pk]), {"mode": "all_or_nothing", "confirm_deactivation": "yes"})
    listing = client.get(reverse("imports:run_list")).content.decode()
    assert "2 created" in listing
    again = upload(client, "roster.zip", roster_bytes(user("u1"), user("u2", "Ben", "Lee")))
    page = client.get(again.url).content.decode()
    assert "Nothing to change" in page and ">Commit<" not in page and "Ready to commit" not in page
    failed = upload(client, "bad.zip", roster_bytes(user("u3", role="wizard")), deactivate_missing="")
    page = client.get(failed.url).content.decode()
    assert "Nothing to import" in page and "Ready to commit" not in page
