"""Types shared by every app, and the two reads of an acting user that need a real one."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: The user acting in a service call or a selector: ``request.user`` in a view (which may be
#: anonymous; the gate then gives nothing), a staff user in a command. ``None`` where a
#: service allows a system action (imports without an actor, the demo generator).
Actor: TypeAlias = AbstractBaseUser | AnonymousUser


def acting_user(actor: Actor | None) -> User | None:
    """``actor`` when it is a signed-in user (a row in the user table), else ``None``
    (the system, or an anonymous visitor). For writing a foreign key to the actor: typed as
    ``settings.AUTH_USER_MODEL`` (``auth.User`` here), the model those keys point to."""
    if actor is None or not actor.is_authenticated or not isinstance(actor, AbstractBaseUser):
        return None
    return cast("User", actor)


def actor_id(actor: Actor | None) -> int | None:
    """The primary key of a signed-in ``actor``; ``None`` for the system or an anonymous one."""
    user = acting_user(actor)
    return user.pk if user is not None else None


def actor_label(actor: Actor | None) -> str:
    """Text kept in history for the actor: "Full Name (username)", the username when the user
    has no name, or "system" for ``None`` and an anonymous user."""
    user = acting_user(actor)
    if user is None:
        return "system"
    get_full_name = getattr(user, "get_full_name", None)
    full = get_full_name() if callable(get_full_name) else ""
    return f"{full} ({user.get_username()})" if full else user.get_username()
