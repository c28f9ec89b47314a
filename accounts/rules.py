"""Rules about staff logins and their roles: pure predicates that return the refusal's words
(or ``None``). :mod:`accounts.services` asks them inside its transactions; the staff pages show
the words. Source: issue #8 ("Staff and settings"): a district must never lock itself out of
its own settings and staff page.
"""

from __future__ import annotations

SELF_DEACTIVATE = "You cannot deactivate your own login; ask another district admin."
LAST_ADMIN = "{name} is the district's last active district admin; give another login the District admin role first."
USERNAME_TAKEN = "The username '{username}' is taken (usernames are compared ignoring case)."


def deactivate_refusal(*, is_self: bool, is_active_admin: bool, other_active_admins: int, name: str) -> str | None:
    """Why a login may not be deactivated: it is the acting user's own, or it is the last
    active login holding the District admin role (``other_active_admins`` counts the others)."""
    if is_self:
        return SELF_DEACTIVATE
    if is_active_admin and other_active_admins == 0:
        return LAST_ADMIN.format(name=name)
    return None


def revoke_refusal(*, role: str, user_active: bool, other_active_admins: int, name: str) -> str | None:
    """Why a role may not be revoked (or changed into another role): it is the District admin
    role of the last active district admin."""
    if role == "district_admin" and user_active and other_active_admins == 0:
        return LAST_ADMIN.format(name=name)
    return None


def username_refusal(*, username: str, taken: bool) -> str | None:
    """Why a new login may not take ``username``: another login has it, ignoring case
    ("JSmith" and "jsmith" would be two people to the help desk)."""
    return USERNAME_TAKEN.format(username=username) if taken else None
