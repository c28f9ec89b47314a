"""Template context shared by every page: the district and the user's scope."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.scoping import CHANGE, VIEW, scope_for
from sites.models import District


def ledger(request: HttpRequest) -> dict[str, Any]:
    """Add ``district``, ``scope``, ``can_view`` and ``can_change`` to every template."""
    scope = scope_for(getattr(request, "user", None))
    return {
        "district": District.get() if scope.allows(VIEW) else None,
        "scope": scope,
        "can_view": scope.allows(VIEW),
        "can_change": scope.allows(CHANGE),
        "is_district_admin": scope.is_district_admin,
    }
