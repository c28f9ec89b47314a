"""Writes to district settings and sites."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from sites.models import District, Site


@transaction.atomic
def district_update(*, actor: Any, **fields: Any) -> District:
    """Save district settings (name, time_zone, ownership_mode, fee_collector, school-year start).

    Changing the ownership mode changes which staff manage which devices at once.
    """
    district = District.objects.select_for_update().get_or_create(pk=1)[0]
    for name, value in fields.items():
        setattr(district, name, value)
    district.full_clean()
    district.save()
    return district


@transaction.atomic
def site_create(*, code: str, name: str, kind: str = Site.Kind.SCHOOL, **fields: Any) -> Site:
    """Create a site with a unique code."""
    site = Site(code=code.strip(), name=name.strip(), kind=kind, **fields)
    site.full_clean()
    site.save()
    return site
