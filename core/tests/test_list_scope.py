"""Every list, search, export, autocomplete and report shows only the viewer's sites.

The list side of the URL matrix (learned from NetBox's constrained-permission list tests,
``utilities/testing/views.py``: ``test_list_objects_with_constrained_permission``). Each GET
spec in ``<app>/tests/scoping_specs.py`` declares ``lists``: a
:class:`~core.scoping_matrix.ListScope`, or the reason the page lists no rows. For each
ListScope, the two-site world gets distinctive rows (:func:`core.testing.seed_list_scope`) and
site A's technician requests the page with each query (HTML, htmx partial, CSV or XLSX): none
of site B's names, numbers, sourcedIds or tags may appear, and site A's rows must (so the test
cannot pass vacuously). A GET page without a declaration fails the suite.
"""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse

from core.scoping_matrix import ListScope, UrlSpec
from core.testing import other_site_markers, seed_list_scope
from core.tests.test_url_matrix import SPECS

LIST_SPECS = [s for s in SPECS.values() if isinstance(s.lists, ListScope)]


def test_every_get_page_declares_whether_it_lists_rows():
    """A new page that shows rows cannot ship without its list-scope case."""
    undeclared = sorted(s.name for s in SPECS.values() if "get" in s.methods and not s.public and s.lists is None)
    assert not undeclared, (
        f"GET pages without `lists=` in their UrlSpec (a ListScope, or the reason they list no rows): {undeclared}"
    )
    for spec in SPECS.values():
        if isinstance(spec.lists, str):
            assert spec.lists.strip(), f"{spec.name}: give the reason it lists no rows"


def body_text(response) -> str:
    """A response's readable text: HTML or an htmx partial, CSV (streamed or not), every
    cell of every sheet of an XLSX workbook (read with openpyxl), or every page of a PDF
    (asset labels, read with pypdf)."""
    content_type = response.get("Content-Type", "")
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    if content_type.startswith("application/pdf"):
        import pypdf

        return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(raw)).pages)
    if "spreadsheetml" in content_type:
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
        cells = [
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        ]
        return "\n".join(cells)
    # Line-break hints (<wbr>, soft hyphens, zero-width spaces) are presentation, not text:
    # "devices-<wbr>A.csv" reads "devices-A.csv".
    return re.sub(r"<wbr\s*/?>|\u00ad|\u200b", "", raw.decode("utf-8-sig", errors="replace"))


def _get(client, spec: UrlSpec, world, query: dict[str, str], htmx: bool):
    url = reverse(spec.name, kwargs=spec.kwargs(world, "own"))
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.get(url, {**spec.query, **query}, **headers)
    assert response.status_code == 200, (spec.name, query, htmx, response.status_code)
    return body_text(response)


@pytest.mark.django_db
@pytest.mark.parametrize("spec", LIST_SPECS, ids=lambda s: s.name)
def test_list_shows_only_the_viewers_sites(client_for, world, spec):
    scope: ListScope = spec.lists  # type: ignore[assignment]
    seed_list_scope(world)
    if scope.seed is not None:
        scope.seed(world, "own")
        scope.seed(world, "other")
    client = client_for(world.site_tech)
    hidden = other_site_markers(world)
    for htmx in (False, True) if scope.htmx else (False,):
        own_body = _get(client, spec, world, scope.own_query, htmx)
        missing = [text for text in scope.own(world) if text not in own_body]
        assert not missing, (spec.name, "site A's rows are missing (the test would pass vacuously)", missing)
        for query in (scope.own_query, *scope.queries):
            body = _get(client, spec, world, query, htmx)
            # The page echoes what was typed (the search box); that text is the user's, not a row.
            typed = " ".join(query.values())
            leaked = [text for text in hidden if text in body and text not in typed]
            assert not leaked, (spec.name, query, "htmx" if htmx else "page", "site B's texts shown", leaked)


def test_list_specs_cover_the_kinds_the_issue_names():
    """Lists, searches, exports (CSV and XLSX) and the autocomplete all have list-scope cases."""
    names = {s.name for s in LIST_SPECS}
    assert {"device_list", "person_list", "person_lookup", "site_list"} <= names
    # Every export that lists rows (an export job's page and file are one object of the user who asked).
    assert {n for n, s in SPECS.items() if n.startswith("exports:") and not n.startswith("exports:job")} <= names
