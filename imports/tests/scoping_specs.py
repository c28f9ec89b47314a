"""Scoping specs for the import pages (see core/tests/test_url_matrix.py)."""

from core.scoping_matrix import ListScope, UrlSpec
from imports.models import ImportRun, LocationMapping, OrgUnitMapping


def _run(world, side):
    """A finished device import limited to site A (own) or site B (other)."""
    site = world.site_a if side == "own" else world.site_b
    run, _ = ImportRun.objects.get_or_create(
        file_name=f"devices-{site.code}.csv",
        defaults={"kind": ImportRun.Kind.CSV, "scope_site": site, "status": ImportRun.Status.DONE},
    )
    return {"pk": run.pk}


def _mapping(world, side):
    site = world.site_a if side == "own" else world.site_b
    mapping, _ = OrgUnitMapping.objects.get_or_create(path_prefix=f"/Students/{site.code}", defaults={"site": site})
    return {"pk": mapping.pk}


def _location(world, side):
    site = world.site_a if side == "own" else world.site_b
    mapping, _ = LocationMapping.objects.get_or_create(
        name_key=f"building {site.code.lower()}", defaults={"name": f"Building {site.code}", "site": site}
    )
    return {"pk": mapping.pk}


SPECS = [
    UrlSpec("imports:run_list", lists=ListScope(seed=_run, own=lambda w: ["devices-A.csv"])),
    UrlSpec("imports:run_new", action="change", lists="a form"),
    UrlSpec("imports:run_detail", kwargs=_run, object_scoped=True, lists="one run"),
    UrlSpec("imports:run_progress", kwargs=_run, object_scoped=True, lists="one run's progress"),
    UrlSpec("imports:run_issues_csv", kwargs=_run, object_scoped=True, lists="one run's issues"),
    UrlSpec(
        "imports:run_commit", kwargs=_run, action="change", object_scoped=True, methods=("post",), post=lambda w, s: {}
    ),
    UrlSpec(
        "imports:run_cancel", kwargs=_run, action="change", object_scoped=True, methods=("post",), post=lambda w, s: {}
    ),
    UrlSpec(
        "imports:run_columns",
        kwargs=_run,
        action="change",
        object_scoped=True,
        methods=("get", "post"),
        post=lambda w, s: {"entity": "devices"},
        lists="a form for one run",
    ),
    UrlSpec("imports:org_units", action="admin", lists="district admins only: every site"),
    UrlSpec("imports:org_unit_delete", kwargs=_mapping, action="admin", methods=("post",), post=lambda w, s: {}),
    UrlSpec("imports:locations", action="admin", lists="district admins only: every site"),
    UrlSpec("imports:location_delete", kwargs=_location, action="admin", methods=("post",), post=lambda w, s: {}),
]
