"""The every-URL scoping matrix: each app lists its URL patterns in ``<app>/tests/scoping_specs.py``.

``core/tests/test_url_matrix.py`` walks every URL pattern of the project and fails when
one has no :class:`UrlSpec`, so a new page cannot ship without its scoping test. For each
spec it checks: anonymous users are sent to log in; a user without a role gets nothing;
a role without the needed action is refused; and, for pages about one object, site A's
technician gets 404 for site B's object while the right user gets the page.

``core/tests/test_list_scope.py`` adds the list side (like NetBox's
``test_list_objects_with_constrained_permission``): every GET page declares ``lists``, either
a :class:`ListScope` (the page shows rows: site A's technician must see site A's rows and
none of site B's names, numbers or tags, in HTML, htmx partials, CSV or XLSX) or the reason
it shows none. A page that declares neither fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.testing import LENT_TAG, MOVED_TAG, OTHER_STUDENT, OTHER_TAG, OWN_STUDENT, OWN_TAG, World

Kwargs = Callable[[World, str], dict[str, Any]]
Markers = Callable[[World], list[str]]


def no_kwargs(world: World, side: str) -> dict[str, Any]:
    """For URLs without arguments."""
    return {}


def own_rows(world: World) -> list[str]:
    """What site A's rows show by default: its student's name and number and its device's tag."""
    return [world.person_a.family_name, world.person_a.student_number, world.device_a.asset_tag]


def own_devices(world: World) -> list[str]:
    """Site A's devices after :func:`core.testing.seed_list_scope` (one lent to site B's
    student, one transferred in from site B)."""
    return [world.device_a.asset_tag, OWN_TAG, LENT_TAG, MOVED_TAG]


def own_people(world: World) -> list[str]:
    """Site A's students (names and numbers)."""
    return [world.person_a.family_name, world.person_a.student_number, OWN_STUDENT["family_name"]]


def own_custody(world: World) -> list[str]:
    """What an assignment or event list of site A shows: its devices and its students."""
    return [*own_devices(world), world.person_a.family_name, OWN_STUDENT["student_number"]]


#: Search terms that would match site B's students or devices if a search walked around the gate.
OTHER_SEARCHES: tuple[dict[str, str], ...] = tuple(
    {"q": term}
    for term in (OTHER_STUDENT["family_name"], OTHER_STUDENT["student_number"], OTHER_STUDENT["sourced_id"],
                 "Quix", "Zebulon Quixwell", OTHER_TAG, "ZZB", "Okafor", "0099001", "CB-000002", "SNB1")
)  # fmt: skip


@dataclass(frozen=True)
class ListScope:
    """How to test that a page listing rows shows only the viewer's sites (site A's technician).

    ``queries`` are the query strings to try (each also as an htmx request when ``htmx``):
    searches that would match site B's student, number or tag must find nothing of site B.
    ``own_query`` is the request whose response must show ``own(world)`` (so the test cannot
    pass vacuously). ``own`` defaults to site A's student (name, number) and device (tag);
    site B's texts checked are always all of :func:`core.testing.other_site_markers`.
    ``seed(world, side)`` adds rows the page lists (e.g. an import run at each site).
    """

    queries: tuple[dict[str, str], ...] = ({},)
    own_query: dict[str, str] = field(default_factory=dict)
    own: Markers = own_rows
    htmx: bool = False
    seed: Callable[[World, str], Any] | None = None


@dataclass(frozen=True)
class UrlSpec:
    """How to test one URL name.

    ``kwargs(world, side)`` gives the URL arguments for ``side`` "own" (site A's object)
    or "other" (site B's). ``action`` is what the page needs: view, change or admin.
    ``object_scoped`` pages must answer 404 for the other site's object. ``post`` gives
    form data for a POST check (``None``: GET only). ``public`` pages need no login.
    ``ok_status`` are the statuses a permitted user may get. ``lists`` is a :class:`ListScope`
    for a page that lists, searches or exports rows, or the reason (text) it lists none; every
    GET page must say which (``None``: undeclared, which fails ``test_list_scope``).
    """

    name: str
    kwargs: Kwargs = no_kwargs
    action: str = "view"
    object_scoped: bool = False
    methods: tuple[str, ...] = ("get",)
    post: Callable[[World, str], dict[str, Any]] | None = None
    public: bool = False
    ok_status: tuple[int, ...] = (200, 302)
    query: dict[str, str] = field(default_factory=dict)
    lists: ListScope | str | None = None
