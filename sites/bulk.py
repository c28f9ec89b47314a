"""Bulk writes of sites and the district's name by the roster import (issue #7: each app writes
its own tables; ``imports.oneroster`` reads and plans orgs.csv and hands the rows here).

Change log (``core.changelog``), source ``import`` with the run's actor and run id:
:func:`district_rename` goes through ``sites.services.district_update``, which records its
entry; :func:`sites_write` writes one entry per site created, changed (the fields that differ)
or deactivated (``active`` true → false), in its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from core.changelog import Action, ChangeEntry, Source, change_log_write_many, changes, snapshot
from core.types import Actor
from sites.models import Site
from sites.services import district_update

#: A site's fields its "created" entry holds.
SITE_LOGGED_FIELDS = ("sourced_id", "code", "name", "kind", "state_id", "active")

#: Sites a statement creates at a time.
WRITE_BATCH = 500
#: Longest district name (``District.name``).
DISTRICT_NAME_MAX = 200


@transaction.atomic
def district_rename(*, actor: Actor | None, name: str, run_id: int | None = None) -> None:
    """Name the district as the roster does (cut to :data:`DISTRICT_NAME_MAX` characters);
    logged (when it changes) as the import ``run_id``'s."""
    district_update(actor=actor, name=name[:DISTRICT_NAME_MAX], source=Source.IMPORT, import_run_id=run_id)


@transaction.atomic
def sites_write(
    *,
    actor: Actor | None,
    run_id: int | None,
    creates: Sequence[dict[str, str]],
    updates: Sequence[tuple[int, dict[str, Any]]],
    deactivate_ids: Sequence[int],
) -> dict[str, int]:
    """Create school sites (``{"sourced_id", "code", "name", "state_id"}``), change fields of
    others (``(pk, {field: value})``), deactivate some (``active=False``). Returns sourcedId → id
    of the created sites.

    One change-log entry per site created, changed (the fields given that differ, read with the
    rows locked) or deactivated (active true → false), in this transaction."""
    Site.objects.bulk_create([Site(kind=Site.Kind.SCHOOL, **fields) for fields in creates], batch_size=WRITE_BATCH)
    sourced_ids = [fields["sourced_id"] for fields in creates]
    made = list(Site.objects.filter(sourced_id__in=sourced_ids)) if sourced_ids else []
    entries = [
        ChangeEntry.for_object(site, action=Action.CREATED, after=snapshot(site, SITE_LOGGED_FIELDS), site_id=site.pk)
        for site in made
    ]
    if updates or deactivate_ids:
        ids = [pk for pk, _ in updates] + list(deactivate_ids)
        stored = {site.pk: site for site in Site.objects.select_for_update().filter(pk__in=ids)}
        for pk, fields in updates:
            if pk in stored:
                before, after = changes(instance=stored[pk], new_values=fields)
                entries.append(
                    ChangeEntry.for_object(stored[pk], action=Action.CHANGED, before=before, after=after, site_id=pk)
                )
                Site.objects.filter(pk=pk).update(**fields)
        leaving = [pk for pk in deactivate_ids if pk in stored and stored[pk].active]
        entries += [
            ChangeEntry.for_object(
                stored[pk], action=Action.CHANGED, before={"active": True}, after={"active": False}, site_id=pk
            )
            for pk in leaving
        ]
        if deactivate_ids:
            Site.objects.filter(pk__in=deactivate_ids).update(active=False)
    change_log_write_many(actor=actor, source=Source.IMPORT, entries=entries, import_run_id=run_id)
    return {site.sourced_id: site.pk for site in made}
