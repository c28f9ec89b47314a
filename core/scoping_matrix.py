"""The every-URL scoping matrix: each app lists its URL patterns in ``<app>/tests/scoping_specs.py``.

``core/tests/test_url_matrix.py`` walks every URL pattern of the project and fails when
one has no :class:`UrlSpec`, so a new page cannot ship without its scoping test. For each
spec it checks: anonymous users are sent to log in; a user without a role gets nothing;
a role without the needed action is refused; and, for pages about one object, site A's
technician gets 404 for site B's object while the right user gets the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.testing import World

Kwargs = Callable[[World, str], dict[str, Any]]


def no_kwargs(world: World, side: str) -> dict[str, Any]:
    """For URLs without arguments."""
    return {}


@dataclass(frozen=True)
class UrlSpec:
    """How to test one URL name.

    ``kwargs(world, side)`` gives the URL arguments for ``side`` "own" (site A's object)
    or "other" (site B's). ``action`` is what the page needs: view, change or admin.
    ``object_scoped`` pages must answer 404 for the other site's object. ``post`` gives
    form data for a POST check (``None``: GET only). ``public`` pages need no login.
    ``ok_status`` are the statuses a permitted user may get.
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
