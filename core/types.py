"""Types shared by every app."""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

#: The user acting in a service call or a selector: ``request.user`` in a view (which may be
#: anonymous; the gate then gives nothing), a staff user in a command. ``None`` where a
#: service allows a system action (imports without an actor, the demo generator).
Actor: TypeAlias = AbstractBaseUser | AnonymousUser
