"""``{% who_am_i user as me %}``: the header's name and every role the logged-in user holds."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from django import template

from accounts.models import StaffRole

register = template.Library()

#: Header labels for roles whose full label is long (the full one goes in the tooltip).
SHORT_ROLE = {
    StaffRole.Role.SITE_ADMINISTRATOR: "Principal",
    StaffRole.Role.AUDITOR: "Auditor",
}
#: School-name endings shortened in the header: "Garfield Middle School" → "Garfield MS".
_SCHOOL_ENDING = re.compile(r"\s+(Elementary|Middle|High)(\s+School)?$", re.IGNORECASE)
_ABBREVIATION = {"elementary": "ES", "middle": "MS", "high": "HS"}
#: A role held at more sites than this is shown as "N sites" in the header.
MAX_SITES_NAMED = 2


class WhoAmI(NamedTuple):
    """The header's identity line: ``name`` (full name, else username), ``roles`` (short,
    e.g. ``"Site technician · Garfield MS; Principal · Clearwater HS"``) and ``full`` (every
    role and site spelled out, for the ``title`` tooltip)."""

    name: str
    roles: str
    full: str


def short_site_name(name: str) -> str:
    """``"Clearwater High School"`` → ``"Clearwater HS"``; names without a school ending unchanged."""
    return _SCHOOL_ENDING.sub(lambda m: " " + _ABBREVIATION[m.group(1).lower()], name.strip())


@register.simple_tag
def who_am_i(user: Any) -> WhoAmI:
    """Who is logged in, for the header (:class:`WhoAmI`). Every role the user holds, in the
    role list's order, each with where it is held: "district-wide" for a district role, the
    site names (shortened) for up to :data:`MAX_SITES_NAMED` sites, else "N sites"; roles
    separated by "; ". ``full`` names every role and site in full. "no role" for none;
    ``("", "", "")`` for an anonymous user."""
    if not getattr(user, "is_authenticated", False):
        return WhoAmI("", "", "")
    name = user.get_full_name().strip() or user.get_username()
    order = {value: i for i, value in enumerate(StaffRole.Role.values)}
    grants = sorted(
        StaffRole.objects.filter(user_id=user.pk).select_related("site"),
        key=lambda g: (order.get(g.role, 99), g.site.name if g.site else ""),
    )
    if not grants:
        return WhoAmI(name, "no role", "no role")
    by_role: dict[str, list[str | None]] = {}
    for grant in grants:
        by_role.setdefault(grant.role, []).append(grant.site.name if grant.site else None)
    short, full = [], []
    for role, sites in by_role.items():
        label = StaffRole.Role(role).label
        named = [s for s in sites if s is not None]
        if None in sites or not named:
            where = where_full = "district-wide"
        else:
            where_full = ", ".join(named)
            where = (
                ", ".join(short_site_name(s) for s in named) if len(named) <= MAX_SITES_NAMED else f"{len(named)} sites"
            )
        short.append(f"{SHORT_ROLE.get(StaffRole.Role(role), label)} · {where}")
        full.append(f"{label} · {where_full}")
    return WhoAmI(name, "; ".join(short), "; ".join(full))
