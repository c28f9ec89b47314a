"""Scoping specs for the core, inventory, people, custody and sites pages."""

from core.scoping_matrix import UrlSpec


def _device(world, side):
    return {"pk": (world.device_a if side == "own" else world.device_b).pk}


def _person(world, side):
    return {"pk": (world.person_a if side == "own" else world.person_b).pk}


def _site(world, side):
    return {"pk": (world.site_a if side == "own" else world.site_b).pk}


def _device_action(action):
    return lambda world, side: {**_device(world, side), "action": action}


SPECS = [
    UrlSpec("login", public=True),
    UrlSpec("logout", public=True, methods=("post",), post=lambda w, s: {}),
    UrlSpec("dashboard"),
    UrlSpec("device_list"),
    UrlSpec("device_create", action="change"),
    UrlSpec("device_detail", kwargs=_device, object_scoped=True),
    UrlSpec("device_edit", kwargs=_device, action="change", object_scoped=True),
    UrlSpec(
        "device_action",
        kwargs=_device_action("move"),
        action="change",
        object_scoped=True,
        methods=("post",),
        post=lambda w, s: {"location": (w.location_a if s == "own" else w.location_b).pk},
    ),
    UrlSpec("person_list"),
    UrlSpec("person_lookup", query={"q": "Ru"}),
    UrlSpec("person_detail", kwargs=_person, object_scoped=True),
    UrlSpec("check_out", action="change"),
    UrlSpec("check_in", action="change"),
    UrlSpec("bulk", kwargs=lambda w, s: {"operation": "check-in"}, action="change"),
    UrlSpec("site_list"),
    UrlSpec("site_detail", kwargs=_site, object_scoped=True),
    UrlSpec("district_settings", action="admin"),
]
