"""What inventory shows on the pages of lower apps (registered by :class:`inventory.apps.InventoryConfig`).

* ``person_detail``: "History", the device events about the person on devices the viewer may see.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core import extensions
from inventory.selectors import person_history


def _history(request: HttpRequest, person: Any) -> dict[str, Any]:
    return {"events": person_history(person=person, user=request.user)[:200]}


def register(registry: extensions.Extensions = extensions.registry) -> None:
    """Fill inventory's places in ``registry``."""
    registry.register_panel(
        "person_detail", name="inventory.history", template="inventory/_person_history.html", context=_history, order=20
    )
