"""Writes to district settings, sites and locations.

Each write records a change log entry (:mod:`core.changelog`) in its own transaction: who,
when, from where (``source``: web, admin, command…), before → after of the changed fields.
``source=None`` means web when an actor is given, command otherwise (the demo generator).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.db.models.functions import Lower

from core.changelog import Action, change_log_record, changes, resolve_source, snapshot
from core.errors import DomainError
from core.types import Actor
from sites.models import District, Location, Site


def _source(actor: Actor | None, source: str | None) -> str:
    return resolve_source(actor=actor, source=source)


LOCATION_NAME_TAKEN = "{site} already has a location named “{name}” (names are the same whatever the capitals)."


def _refuse_taken_location_name(*, site: Site, name: str, exclude_pk: int | None = None) -> None:
    """Raise DomainError when ``site`` already has a location called ``name``, ignoring case.

    The rule: a location's name is unique per site ignoring case and surrounding spaces
    ("Chromebook Cart 1" and "chromebook cart 1" would be the same cart to a person).
    The site row is locked first so two concurrent adds of the same name are serialised."""
    Site.objects.select_for_update().filter(pk=site.pk).first()
    taken = Location.objects.filter(site=site).annotate(name_lower=Lower("name"))
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    clash = taken.filter(name_lower=name.strip().lower()).first()
    if clash is not None:
        raise DomainError(LOCATION_NAME_TAKEN.format(site=site.name, name=clash.name), field="name")


def _apply(obj: Any, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compute before → after of ``fields`` on ``obj``, then assign them."""
    before, after = changes(instance=obj, new_values=fields)
    for name, value in fields.items():
        setattr(obj, name, value)
    return before, after


@transaction.atomic
def district_update(
    *, actor: Actor | None, source: str | None = None, note: str = "", import_run_id: int | None = None, **fields: Any
) -> District:
    """Save district settings (name, time_zone, ownership_mode, fee_collector, school-year start).

    Changing the ownership mode changes which staff manage which devices at once, so every
    change is logged (object: the district row; no site; ``import_run_id``: the import it
    came from). Raises ``ValidationError`` for an
    invalid value (nothing is saved or logged).
    """
    district = District.objects.select_for_update().get_or_create(pk=1)[0]
    before, after = _apply(district, fields)
    district.full_clean()
    district.save()
    change_log_record(
        actor=actor, source=_source(actor, source), obj=district, action=Action.CHANGED, before=before, after=after,
        note=note, import_run_id=import_run_id,
    )  # fmt: skip
    return district


@transaction.atomic
def site_create(
    *,
    code: str,
    name: str,
    kind: str = Site.Kind.SCHOOL,
    actor: Actor | None = None,
    source: str | None = None,
    **fields: Any,
) -> Site:
    """Create a site with a unique code (``ValidationError`` when taken or invalid); logged."""
    site = Site(code=code.strip(), name=name.strip(), kind=kind, **fields)
    site.full_clean()
    site.save()
    change_log_record(
        actor=actor, source=_source(actor, source), obj=site, action=Action.CREATED, before={}, after=snapshot(site),
        site_id=site.pk,
    )  # fmt: skip
    return site


@transaction.atomic
def site_update(*, site: Site, actor: Actor | None, source: str | None = None, **fields: Any) -> Site:
    """Change a site's fields (code, name, kind, grades, state_id, sourced_id, active); logged
    when something changed. Raises ``ValidationError`` for an invalid value."""
    site = Site.objects.select_for_update().get(pk=site.pk)
    before, after = _apply(site, fields)
    site.full_clean()
    site.save()
    change_log_record(
        actor=actor, source=_source(actor, source), obj=site, action=Action.CHANGED, before=before, after=after,
        site_id=site.pk,
    )  # fmt: skip
    return site


@transaction.atomic
def site_delete(*, site: Site, actor: Actor | None, source: str | None = None) -> None:
    """Delete a site (the database refuses while devices, people or locations refer to it:
    ``ProtectedError``); the entry keeps its fields and name."""
    change_log_record(
        actor=actor, source=_source(actor, source), obj=site, action=Action.DELETED, before=snapshot(site), after={},
        site_id=site.pk,
    )  # fmt: skip
    site.delete()


@transaction.atomic
def location_create(
    *, site: Site, name: str, actor: Actor | None, source: str | None = None, **fields: Any
) -> Location:
    """Add a location (room, cart, shelf) to ``site``; logged on the site's history too.

    Raises DomainError (:data:`LOCATION_NAME_TAKEN`) when the site has that name already, in any case."""
    _refuse_taken_location_name(site=site, name=name)
    location = Location(site=site, name=name.strip(), **fields)
    location.full_clean()
    location.save()
    change_log_record(
        actor=actor, source=_source(actor, source), obj=location, action=Action.CREATED, before={},
        after=snapshot(location, ["name", "kind", "active"]), site_id=site.pk, parent=site,
    )  # fmt: skip
    return location


@transaction.atomic
def location_update(*, location: Location, actor: Actor | None, source: str | None = None, **fields: Any) -> Location:
    """Change a location's name, kind or active flag; logged on its site's history too.

    Raises DomainError (:data:`LOCATION_NAME_TAKEN`) when renaming to a name another location of
    the site has, in any case (renaming "cart 1" to "Cart 1" is allowed)."""
    location = Location.objects.select_for_update(of=("self",)).select_related("site").get(pk=location.pk)
    if "name" in fields:
        fields = {**fields, "name": str(fields["name"]).strip()}
        _refuse_taken_location_name(site=location.site, name=fields["name"], exclude_pk=location.pk)
    before, after = _apply(location, fields)
    location.full_clean()
    location.save()
    change_log_record(
        actor=actor, source=_source(actor, source), obj=location, action=Action.CHANGED, before=before, after=after,
        site_id=location.site_id, parent=location.site,
    )  # fmt: skip
    return location


@transaction.atomic
def location_delete(*, location: Location, actor: Actor | None, source: str | None = None) -> None:
    """Delete a location; logged on its site.

    Raises DomainError while devices are there (``Device.location`` is ``PROTECT``: a device
    must not lose its place without a device event — move them first, or mark the location
    inactive)."""
    try:
        with transaction.atomic():
            _location_delete(location=location, actor=actor, source=source)
    except ProtectedError as error:
        n = len(error.protected_objects)
        raise DomainError(
            f"{location.name} still holds {n} device{'s' if n != 1 else ''}; move them to another location "
            "first, or mark the location inactive.",
            field="location",
        ) from error


def _location_delete(*, location: Location, actor: Actor | None, source: str | None) -> None:
    change_log_record(
        actor=actor, source=_source(actor, source), obj=location, action=Action.DELETED,
        before=snapshot(location, ["name", "kind", "active"]), after={}, site_id=location.site_id,
        parent=location.site,
    )  # fmt: skip
    location.delete()
