"""Show times in the district's time zone (times are stored as aware UTC)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from sites.models import District


class DistrictTimezoneMiddleware:
    """Activate the district's IANA time zone for each request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            timezone.activate(District.get().tzinfo)
        except (DatabaseError, ValueError, KeyError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
