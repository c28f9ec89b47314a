"""Scoping specs for the site page's location changes (the site page itself and district
settings are in core/tests/scoping_specs.py)."""

from core.scoping_matrix import UrlSpec

SPECS = [
    UrlSpec(
        "location_action",
        kwargs=lambda w, s: {"pk": (w.site_a if s == "own" else w.site_b).pk, "action": "add"},
        action="change",
        object_scoped=True,
        methods=("post",),
        post=lambda w, s: {"name": "Cart 9", "kind": "cart"},
    ),
]
