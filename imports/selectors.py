"""Reads of the imports app, all through the scoping gate."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import QuerySet

from core.scoping import VIEW
from core.types import Actor
from imports.messages import TEXT, Msg
from imports.models import COUNT_KEYS, ColumnMapping, ImportIssue, ImportRun, LocationMapping, OrgUnitMapping
from imports.pipeline import IMPORTER_CLASSES, ImporterUnavailable, importer_class

ISSUE_HEADERS = ["file", "line", "column", "value", "severity", "reason", "key"]


def import_run_list(*, user: Actor, kind: str = "", action: str = VIEW) -> QuerySet[ImportRun]:
    """Runs ``user`` may see, newest first."""
    qs = ImportRun.objects.visible_to(user, action).select_related("scope_site")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


def import_issue_rows(*, run: ImportRun) -> Iterator[list[Any]]:
    """The run's issues as rows under :data:`ISSUE_HEADERS`, streamed from the database.
    ``run`` must come through the scoping gate."""
    fields = ("file", "line", "column", "value", "severity", "reason", "key")
    for row in ImportIssue.objects.filter(run=run).order_by("id").values_list(*fields).iterator(chunk_size=2000):
        yield list(row)


def import_counts_table(*, run: ImportRun) -> tuple[list[str], list[tuple[str, list[int]]]]:
    """(count keys shown, [(entity label, counts)]) for the run's preview or applied counts."""
    data = run.shown_counts() or {}
    keys = [
        k
        for k in COUNT_KEYS
        if k in ("created", "updated", "unchanged", "deactivated") or any(entity.get(k) for entity in data.values())
    ]
    try:
        labels = dict(importer_class(run.kind).entities)
        order = [name for name in labels if name in data] + [name for name in data if name not in labels]
    except ImporterUnavailable:
        labels, order = {}, list(data)
    rows = [(labels.get(name, name.capitalize()), [int(data[name].get(k, 0)) for k in keys]) for name in order]
    return keys, rows


#: How a planned count reads: a preview never says what it has not done ("would deactivate 4,178").
_PLANNED = {
    "created": "would create",
    "updated": "would update",
    "deactivated": "would deactivate",
    "reactivated": "would reactivate",
    "removed": "would remove",
    "skipped": "would skip",
}


def import_summary(*, run: ImportRun) -> str:
    """The counts in a line, for the history, messages and the CLI. Applied counts read
    "People: 0 created, 0 updated, 3 unchanged, 0 deactivated; …"; a preview's (and those of a
    run that was never applied) "People: would create 0, would update 0, 3 unchanged, would
    deactivate 4,178; …", so the history never reports a preview as if it were committed."""
    keys, rows = import_counts_table(run=run)
    applied = run.counts_applied
    parts = []
    for label, values in rows:
        shown = [
            f"{value:,} {key}" if applied or key not in _PLANNED else f"{_PLANNED[key]} {value:,}"
            for key, value in zip(keys, values, strict=True)
            if value or key in COUNT_KEYS[:4]
        ]
        parts.append(f"{label}: {', '.join(shown)}")
    return "; ".join(parts)


#: A preview with nothing to commit, as its status reads (instead of "Ready to commit").
NOTHING_TO_IMPORT_LABEL = "Nothing to import"
NOTHING_TO_CHANGE_LABEL = "Nothing to change"


def import_status_label(*, run: ImportRun) -> str:
    """The run's status as the pages show it: ``run.status_label``, except for a preview with
    nothing to commit — "Nothing to import" when every row has an error, "Nothing to change"
    when the file matches what DeviceLedger has — which is not "Ready to commit"."""
    if run.status == ImportRun.Status.PREVIEWED and not run.dry_run:
        counts = run.shown_counts()
        changes = sum(int(c.get(k, 0)) for c in counts.values() for k in WRITE_KEYS)
        if not changes:
            if run.error_count or any(int(c.get("rejected", 0)) for c in counts.values()):
                return NOTHING_TO_IMPORT_LABEL
            return NOTHING_TO_CHANGE_LABEL
    return run.status_label


#: Count keys that mean a write.
WRITE_KEYS = ("created", "updated", "deactivated", "reactivated", "removed")


#: A file-level error that mapping the columns can fix: a required column not found, a
#: mapping naming a header the file lacks, or rows that are neither devices nor people.
_COLUMN_PROBLEM = re.compile(r"\bcolumns?\b|\bmap one\b|\bmap the columns\b", re.IGNORECASE)


def import_columns_unmatched(*, run: ImportRun) -> bool:
    """True when a CSV/XLSX run was rejected because its columns did not match our fields
    (a file-level issue about columns), so the column-mapping page can help. False for a
    file that could not be read, a forbidden import (people by site staff) or a run rejected
    at the commit for row errors."""
    from imports.pipeline import READ_FAILURE

    if run.kind != ImportRun.Kind.CSV or run.dry_run or run.counts or run.status != ImportRun.Status.REJECTED:
        return False
    reasons = ImportIssue.objects.filter(run=run, line__isnull=True, severity=ImportIssue.Severity.ERROR).values_list(
        "reason", flat=True
    )
    repeated = TEXT[Msg.FILE_HEADER_REPEATED_USED].split("{", 1)[0]  # a mapping cannot tell the two apart
    return any(
        _COLUMN_PROBLEM.search(reason) and not reason.startswith((READ_FAILURE, repeated)) for reason in reasons[:20]
    )


#: Option name → (label, {value: text}) as the run pages and the history show options.
_OPTION_LABELS: dict[str, tuple[str, dict[str, str]]] = {
    "deactivate_missing": ("Deactivate people and schools missing from the file", {}),
    "confirm_deactivation": ("Deactivation confirmed", {}),
    "date_order": ("Dates", {"MDY": "month first (01/23/2024)", "DMY": "day first (23/01/2024)"}),
    "decimal_comma": ("Decimal comma", {}),
    "create_checkouts": ("Check devices out to their annotated user", {}),
    "one_site": ("Every asset at the chosen site", {}),
    "without_custody": ("Assets whose user matches nobody imported without custody", {}),
    "match_people_by": (
        "Match people by",
        {"email": "email", "username": "username", "student_number": "student / employee number"},
    ),
    "entity": ("Rows are", {"devices": "devices", "people": "people"}),
    "source": ("Source", {}),
    "mapping": ("Columns", {}),
}


def _yes_no(value: Any) -> str:
    from imports.oneroster import deactivation_confirmed

    return "yes" if deactivation_confirmed({"confirm_deactivation": value}) else "no"


def _mapping_text(value: Any, entity: str) -> str:
    """``{"asset_tag": "Property No", "location": ""}`` → ``Property No → Asset tag; Location: not in the file``."""
    from imports.tabular import FIELDS, parse_mapping

    try:
        mapping = parse_mapping(value)
    except ValueError:
        return str(value)[:300]
    labels = {f.name: f.label for fields in FIELDS.values() for f in fields}
    labels.update({f.name: f.label for f in FIELDS.get(entity, ())})
    parts = [
        f"{header} → {labels.get(name, name)}" if header else f"{labels.get(name, name)}: not in the file"
        for name, header in mapping.items()
    ]
    return "; ".join(parts) or "none"


def import_options_shown(*, run: ImportRun) -> list[tuple[str, str]]:
    """The run's options as ``(label, value)`` pairs, in words: only the options its importer
    reads (runs stored before the upload form sent only those kept others, e.g. a Google run's
    ``deactivate_missing``), yes/no for switches, a column mapping as ``Header → field``."""
    try:
        cls = importer_class(run.kind)
    except ImporterUnavailable:
        return []
    known = cls.option_names()
    options = run.options or {}
    shown = []
    for name in known:
        if name not in options or options[name] in (None, ""):
            continue
        value = options[name]
        label, words = _OPTION_LABELS.get(name, (name.replace("_", " ").capitalize(), {}))
        if name == "mapping":
            text = _mapping_text(value, str(options.get("entity") or ""))
        elif (
            isinstance(value, bool) or isinstance(cls.default_options.get(name), bool) or name == "confirm_deactivation"
        ):
            text = _yes_no(value)
        else:
            text = words.get(str(value), str(value))
        shown.append((label, text))
    return shown


def import_kinds() -> list[tuple[str, str, bool]]:
    """(kind, label, available) for every import kind."""
    return [
        (kind, ImportRun.Kind(kind).label, IMPORTER_CLASSES.get(kind) is not None) for kind in ImportRun.Kind.values
    ]


def org_unit_mapping_list(*, user: Actor, action: str = VIEW) -> QuerySet[OrgUnitMapping]:
    """Org unit mappings ``user`` may see, by path."""
    return OrgUnitMapping.objects.visible_to(user, action).select_related("site").order_by("path_prefix")


def location_mapping_list(*, user: Actor, action: str = VIEW) -> QuerySet[LocationMapping]:
    """Snipe-IT location mappings the user may see, by name."""
    return LocationMapping.objects.visible_to(user, action).select_related("site").order_by("name_key")


def location_resolver() -> Callable[[str], int | None]:
    """A Snipe-IT location name → the site id it is mapped to (ignoring case and spaces), or
    None (one query)."""
    mapped = dict(LocationMapping.objects.values_list("name_key", "site_id"))
    return lambda name: mapped.get(LocationMapping.key_of(name or ""))


def org_unit_resolver() -> Callable[[str], int | None]:
    """A function org unit path → site id by the longest matching prefix (``None``: no match).

    ``/Students/Lincoln`` matches ``/Students/Lincoln`` and ``/Students/Lincoln/Grade 5``,
    not ``/Students/Lincolnwood``; case-insensitive. Loads every mapping once (a few hundred).
    """
    from imports.services import org_unit_path_clean

    prefixes = {
        org_unit_path_clean(prefix).lower(): site_id
        for prefix, site_id in OrgUnitMapping.objects.values_list("path_prefix", "site_id")
    }

    def resolve(path: str) -> int | None:
        current = org_unit_path_clean(path or "").lower()
        while True:
            if current in prefixes:
                return prefixes[current]
            if current == "/":
                return None
            current = current.rsplit("/", 1)[0] or "/"

    return resolve


def column_mapping_for(*, kind: str, source_name: str) -> dict[str, str]:
    """The remembered column mapping of a source (empty when none)."""
    found = ColumnMapping.objects.filter(kind=kind, source_name=source_name.strip()).values_list("mapping", flat=True)
    return dict(found.first() or {})
