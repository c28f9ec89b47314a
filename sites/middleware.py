"""Show times in the district's time zone (times are stored as aware UTC), and clean scans with
the district's scanner prefix and suffix (``core.querystring.scan_clean``)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core.querystring import scan_affixes_activate, scan_affixes_reset
from sites.models import District


class DistrictTimezoneMiddleware:
    """Activate the district's IANA time zone and scanner prefix/suffix for each request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        prefix = suffix = ""
        try:
            district = District.get()
            prefix, suffix = district.scanner_prefix, district.scanner_suffix
            timezone.activate(district.tzinfo)
        except (DatabaseError, ValueError, KeyError):
            timezone.deactivate()
        token = scan_affixes_activate(prefix, suffix)
        try:
            return self.get_response(request)
        finally:
            scan_affixes_reset(token)
            timezone.deactivate()
