"""Bulk writes of sites and the district's name by the roster import (issue #7: each app writes
its own tables; ``imports.oneroster`` reads and plans orgs.csv and hands the rows here).

Change log: :func:`district_rename` goes through ``sites.services.district_update``, which
records its entry; :func:`sites_write` knows the created, changed (with their fields) and
deactivated sites — the change-log hook is marked in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from sites.models import Site
from sites.services import district_update

#: Sites a statement creates at a time.
WRITE_BATCH = 500
#: Longest district name (``District.name``).
DISTRICT_NAME_MAX = 200


@transaction.atomic
def district_rename(*, actor: Any, name: str) -> None:
    """Name the district as the roster does (cut to :data:`DISTRICT_NAME_MAX` characters)."""
    district_update(actor=actor, name=name[:DISTRICT_NAME_MAX])


@transaction.atomic
def sites_write(
    *,
    actor: Any,
    run_id: int | None,
    creates: Sequence[dict[str, str]],
    updates: Sequence[tuple[int, dict[str, Any]]],
    deactivate_ids: Sequence[int],
) -> dict[str, int]:
    """Create school sites (``{"sourced_id", "code", "name", "state_id"}``), change fields of
    others (``(pk, {field: value})``), deactivate some (``active=False``). Returns sourcedId → id
    of the created sites.

    Change-log hook: one entry per created site (after the insert, with the ids returned),
    per update (the fields given are the after; the before is read with the rows locked) and
    per deactivated site (active true → false), here in this transaction."""
    Site.objects.bulk_create([Site(kind=Site.Kind.SCHOOL, **fields) for fields in creates], batch_size=WRITE_BATCH)
    for pk, fields in updates:
        Site.objects.filter(pk=pk).update(**fields)
    if deactivate_ids:
        Site.objects.filter(pk__in=deactivate_ids).update(active=False)
    sourced_ids = [fields["sourced_id"] for fields in creates]
    return dict(Site.objects.filter(sourced_id__in=sourced_ids).values_list("sourced_id", "id")) if sourced_ids else {}
