"""Scoping specs for the staff pages (district admins only; logins have no site) and the
public set-password pages."""

from core.scoping_matrix import UrlSpec


def _login(world, side):
    return {"pk": world.site_tech.pk}


SPECS = [
    UrlSpec("staff_list", action="admin", lists="district admins only: staff logins, which have no site"),
    UrlSpec("staff_create", action="admin", lists="a form"),
    UrlSpec("staff_detail", kwargs=_login, action="admin", lists="one login (district admins only)"),
    UrlSpec(
        "staff_action",
        kwargs=lambda w, s: {**_login(w, s), "action": "details"},
        action="admin",
        methods=("post",),
        post=lambda w, s: {"first_name": "Sam", "last_name": "Tech", "email": ""},
    ),
    UrlSpec("password_set", kwargs=lambda w, s: {"uidb64": "MQ", "token": "spent-token"}, public=True),
    UrlSpec("password_set_done", public=True),
]
