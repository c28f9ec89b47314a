"""Scoping specs for the report pages' downloads (see core/tests/test_url_matrix.py).

The dashboard and the Sites list keep their specs in core/tests/scoping_specs.py beside the
other pages of the main menu.
"""

from core.scoping_matrix import OTHER_SEARCHES, ListScope, UrlSpec, own_custody, own_devices, own_people

#: What each export must show of site A and hide of site B (core/tests/test_list_scope.py).
_LISTS = {
    "devices": ListScope(own=own_devices, queries=OTHER_SEARCHES),
    "people": ListScope(own=own_people, queries=OTHER_SEARCHES),
    "assignments": ListScope(own=own_custody),
    "events": ListScope(own=own_custody),
}


def _job(world, side):
    """A finished export job of site A's technician: each user sees only their own jobs, so every
    other role gets 404 (reports/tests/test_export_jobs.py checks owner and others)."""
    from reports.models import ExportJob

    job, _ = ExportJob.objects.get_or_create(
        user=world.site_tech, name="devices", defaults={"status": ExportJob.Status.DONE, "rows_total": 1}
    )
    return {"pk": job.pk}


SPECS = [
    # Downloads (reports/export_views.py): scoped like the lists they export.
    *[
        UrlSpec(f"exports:{name}_{fmt}", lists=_LISTS[name])
        for name in ("devices", "people", "assignments", "events")
        for fmt in ("csv", "xlsx")
    ],
    # A background export's page and file: only the user who asked (others 404).
    UrlSpec("exports:job", kwargs=_job, ok_status=(200, 404), lists="one export job of the user who asked"),
    UrlSpec("exports:job_download", kwargs=_job, ok_status=(200, 404), lists="one file of the user who asked"),
]
