"""``{% who_am_i user as me %}``: the header's name and "role · site" for the logged-in user."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import StaffRole

register = template.Library()


@register.simple_tag
def who_am_i(user: Any) -> tuple[str, str]:
    """``("Dana Whitfield", "Site technician · Lincoln Middle")``: the user's full name (else
    the username), and their first role in the role list's order with where it is held
    ("district-wide" for a district role; a role at several sites says how many); "no role"
    for none. ``("", "")`` for an anonymous user."""
    if not getattr(user, "is_authenticated", False):
        return "", ""
    name = user.get_full_name().strip() or user.get_username()
    order = {value: i for i, value in enumerate(StaffRole.Role.values)}
    grants = sorted(
        StaffRole.objects.filter(user_id=user.pk).select_related("site"),
        key=lambda g: (order.get(g.role, 99), g.site.name if g.site else ""),
    )
    if not grants:
        return name, "no role"
    first = grants[0]
    role = first.get_role_display()
    if first.site is None:
        return name, f"{role} · district-wide"
    sites = [g.site.name for g in grants if g.role == first.role and g.site is not None]
    where = sites[0] if len(sites) == 1 else f"{len(sites)} sites"
    return name, f"{role} · {where}"
