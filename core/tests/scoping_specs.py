"""Scoping specs for the core, inventory, people, custody and sites pages."""

from core.scoping_matrix import OTHER_SEARCHES, ListScope, UrlSpec, own_devices, own_people
from core.testing import OWN_STUDENT


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
    UrlSpec("dashboard", lists="counts only"),
    UrlSpec(
        "device_list",
        lists=ListScope(
            own=own_devices, htmx=True, queries=(*OTHER_SEARCHES, {"status": "assigned"}, {"overdue": "1"})
        ),
    ),
    UrlSpec("device_create", action="change", lists="a form"),
    UrlSpec(
        "device_detail",
        kwargs=_device,
        object_scoped=True,
        lists="one device; its holder, history, accessories: inventory/tests/test_ferpa.py, test_transfer_bundle.py",
    ),
    UrlSpec("device_edit", kwargs=_device, action="change", object_scoped=True, lists="a form"),
    UrlSpec(
        "device_action",
        kwargs=_device_action("move"),
        action="change",
        object_scoped=True,
        methods=("post",),
        post=lambda w, s: {"location": (w.location_a if s == "own" else w.location_b).pk},
    ),
    UrlSpec("person_list", lists=ListScope(own=own_people, htmx=True, queries=OTHER_SEARCHES)),
    UrlSpec(
        "person_lookup",
        query={"q": "Ru"},
        lists=ListScope(
            own=lambda w: [OWN_STUDENT["family_name"], OWN_STUDENT["student_number"]],
            own_query={"q": "Aber"},
            queries=OTHER_SEARCHES,
        ),
    ),
    UrlSpec("person_detail", kwargs=_person, object_scoped=True, lists="one person (visible only at their school)"),
    UrlSpec(
        "check_out",
        action="change",
        lists=ListScope(
            own=lambda w: [OWN_STUDENT["family_name"], OWN_STUDENT["student_number"]],
            own_query={"find": "Abernathy"},
            queries=tuple({"find": q["q"]} for q in OTHER_SEARCHES),
        ),
    ),
    UrlSpec("check_in", action="change", lists="a scan form"),
    UrlSpec(
        "bulk",
        kwargs=lambda w, s: {"operation": "check-in"},
        action="change",
        lists="a form; its results are the user's own run (custody/tests/test_person_labels.py)",
    ),
    UrlSpec("site_list", lists=ListScope(own=lambda w: [w.site_a.name])),
    UrlSpec("site_detail", kwargs=_site, object_scoped=True, lists="one site's counts"),
    UrlSpec("district_settings", action="admin", lists="district admins only: every site"),
]
