"""The one catalogue of import messages: each message a code and its words, worded once.

Rows' and files' issues are said through :func:`say` with a :class:`Msg` code, on the
row-by-row paths and (as SQL text built by :func:`sql_say`) on the set-based paths, so the
two paths cannot word the same thing differently. Messages about a domain rule (a device
that may not be transferred, a tag already in use, a MAC address's form) are not here:
they are worded once by the rule in its owning app (``inventory.rules``, ``people.rules``)
and imports quote them.

Shape: ``Msg.SOME_CODE`` → ``TEXT[Msg.SOME_CODE]``, a ``str.format`` template whose named
fields are given to :func:`say`.
"""

from __future__ import annotations

import string
from enum import StrEnum


class Msg(StrEnum):
    """Codes of the import messages (stable: tests and the issue CSV may refer to them)."""

    # ---- devices (Google Admin on both paths, Snipe-IT, CSV/XLSX device files) -- begin
    DEVICE_KEY_REPEATED = "device_key_repeated"
    DEVICE_MAC_NOT_KEPT = "device_mac_not_kept"
    DEVICE_OU_EMPTY = "device_ou_empty"
    DEVICE_SERIAL_AMBIGUOUS = "device_serial_ambiguous"
    DEVICE_TAG_OF_OTHER_DEVICE = "device_tag_of_other_device"
    DEVICE_OUT_OF_SCOPE_HIDDEN = "device_out_of_scope_hidden"
    DEVICE_OUT_OF_SCOPE = "device_out_of_scope"
    DEVICE_TAG_CLASH = "device_tag_clash"
    DEVICE_TAG_IS_FILE_ASSET_ID = "device_tag_is_file_asset_id"
    DEVICE_TAG_RETIRED_AMBIGUOUS = "device_tag_retired_ambiguous"
    DEVICE_SITE_INACTIVE_NEW = "device_site_inactive_new"
    DEVICE_SITE_INACTIVE = "device_site_inactive"
    DEVICE_NOT_TRANSFERRED_RETIRED = "device_not_transferred_retired"
    DEVICE_NOT_TRANSFERRED_CHECKED_OUT = "device_not_transferred_checked_out"
    DEVICE_RETIRED_NOT_CHANGED = "device_retired_not_changed"
    DEVICE_MODEL_NOT_CREATED = "device_model_not_created"
    DEVICE_LOCATION_UNKNOWN = "device_location_unknown"
    DEVICE_HOLDER_UNMATCHED = "device_holder_unmatched"
    DEVICE_HOLDER_AMBIGUOUS = "device_holder_ambiguous"
    # ---- devices -- end

    # ---- people (OneRoster users.csv on both paths, people spreadsheets) -- begin
    ROSTER_BAD_STATUS = "roster_bad_status"
    ROSTER_NO_ROLE = "roster_no_role"
    ROSTER_BAD_ROLE = "roster_bad_role"
    ROW_KEY_EMPTY = "row_key_empty"
    ROSTER_BULK_EMPTY = "roster_bulk_empty"
    ROSTER_BAD_DATES = "roster_bad_dates"
    GUARDIAN_NO_NAME = "guardian_no_name"
    GUARDIAN_PHONE_LONG = "guardian_phone_long"
    # ---- people -- end

    # ---- files (any importer: headers, encoding, blank rows) -- begin
    FILE_HEADER_REPEATED_USED = "file_header_repeated_used"
    FILE_HEADER_REPEATED_IGNORED = "file_header_repeated_ignored"
    FILE_BLANK_HEADER_VALUES = "file_blank_header_values"
    FILE_READ_AS = "file_read_as"
    FILE_BLANK_ROWS = "file_blank_rows"
    FILE_NO_ROWS = "file_no_rows"
    # ---- files -- end


#: Code → ``str.format`` template.
TEXT: dict[Msg, str] = {
    # ---- devices -- begin
    Msg.DEVICE_KEY_REPEATED: "{name} '{value}' appears on {n} lines ({lines}); none of them is imported until only one is left",
    Msg.DEVICE_MAC_NOT_KEPT: "is not a MAC address (12 hex digits); not kept",
    Msg.DEVICE_OU_EMPTY: "is empty; the org unit decides the device's site",
    Msg.DEVICE_SERIAL_AMBIGUOUS: "matches {n} devices ({tags}); give the manufacturer to tell them apart",
    Msg.DEVICE_TAG_OF_OTHER_DEVICE: "belongs to another device ({device}) than serial {serial}; correct the tag or the serial",
    Msg.DEVICE_OUT_OF_SCOPE_HIDDEN: "belongs to a device at another site; this import is limited to {scope}",
    Msg.DEVICE_OUT_OF_SCOPE: "is device {tag} at {where}, which is not one of your sites; this import is limited to {scope}",
    Msg.DEVICE_TAG_CLASH: "is already the asset tag of another live device ({device}); asset tags are unique",
    Msg.DEVICE_TAG_IS_FILE_ASSET_ID: (
        "is the serial number, used as the asset tag of this new device, and the asset id on line {line}; "
        "asset tags are unique"
    ),
    Msg.DEVICE_TAG_RETIRED_AMBIGUOUS: "matches {n} retired devices; give the serial number to tell them apart",
    Msg.DEVICE_SITE_INACTIVE_NEW: "{what} an inactive site; devices cannot be added there",
    Msg.DEVICE_SITE_INACTIVE: "{what} an inactive site; devices cannot be transferred there",
    Msg.DEVICE_NOT_TRANSFERRED_RETIRED: "device {tag} is retired; it is not transferred",
    Msg.DEVICE_NOT_TRANSFERRED_CHECKED_OUT: "device {tag} is checked out; it is not transferred (check it in first)",
    Msg.DEVICE_RETIRED_NOT_CHANGED: (
        "device {tag} is retired; an import does not change a retired device, so its {fields} stay as they are "
        "(edit it on its page if that is meant)"
    ),
    Msg.DEVICE_MODEL_NOT_CREATED: (
        "is not a device model in DeviceLedger, and only district staff add models; ask your district office to add "
        "'{model}', then import again"
    ),
    Msg.DEVICE_LOCATION_UNKNOWN: (
        "is neither the code nor the name of a site in DeviceLedger, nor a Snipe-IT location mapped to a site; map it "
        "under Imports → Snipe-IT location → site, or import the file for one site"
    ),
    Msg.DEVICE_HOLDER_UNMATCHED: (
        "matches no person you may see (by {by}); the device is not imported without its custody (import the "
        "people first, or choose to import devices without custody)"
    ),
    Msg.DEVICE_HOLDER_AMBIGUOUS: "matches {n} people (by {by}); the device is not imported without its custody",
    # ---- devices -- end
    # ---- people -- begin
    Msg.ROSTER_BAD_STATUS: "expected active or tobedeleted",
    Msg.ROSTER_NO_ROLE: "this user has no role in roles.csv",
    Msg.ROSTER_BAD_ROLE: "expected one of {roles}",
    Msg.ROW_KEY_EMPTY: "is empty; every row needs a {name}",
    Msg.ROSTER_BULK_EMPTY: "has no rows; a bulk file lists everyone, so nobody was made inactive",
    Msg.ROSTER_BAD_DATES: (
        "{file}: {n} dateLastModified value(s) are not date-times (first on line {line}: '{raw}'); they are not used."
    ),
    Msg.GUARDIAN_NO_NAME: "is empty, and so is familyName; a contact needs a name",
    Msg.GUARDIAN_PHONE_LONG: "is longer than {max} characters; not kept",
    # ---- people -- end
    # ---- files -- begin
    Msg.FILE_HEADER_REPEATED_USED: (
        "has two headers named alike, {both}, and this import reads that one, so it is not clear which to use: "
        "rename or delete one, then import again (the other problems of the file are listed below)"
    ),
    Msg.FILE_HEADER_REPEATED_IGNORED: "repeats the column {first} (column {first_column}); this import does not read it, so it was ignored",
    Msg.FILE_BLANK_HEADER_VALUES: "has values under a blank header in column {column} (first on line {line}, {rows} row(s)); they were ignored: give the column a name if it matters",
    Msg.FILE_READ_AS: '{file}: read as {encoding}: the file is not UTF-8, so its encoding was guessed; if names look wrong (José as JosÃ©), save it as "CSV UTF-8" and import again.',
    Msg.FILE_BLANK_ROWS: "{file}: {n} blank row(s) skipped.",
    Msg.FILE_NO_ROWS: "has a header but no rows: there is nothing to import (was the right file chosen, or was it saved before the data was pasted in?)",
    # ---- files -- end
}


def say(code: Msg, /, **fields: object) -> str:
    """The words of ``code`` with ``fields`` filled in. Raises ``KeyError`` for a field the
    template names but ``fields`` lacks (a programming error, caught by the tests)."""
    return TEXT[code].format(**fields)


def sql_say(code: Msg, /, **fields: str) -> str:
    """SQL text of ``code``'s words: the template's literal parts as string literals joined by
    ``||`` with ``fields`` — SQL expressions, cast to text — in its places (for the set-based
    paths, so that both paths take the words from :data:`TEXT`). Raises ``KeyError`` for a
    field the template names but ``fields`` lacks, ``ValueError`` for a template with ``%``
    (a statement with parameters would read it as a placeholder) or a format spec."""
    parts: list[str] = []
    for literal, name, spec, conversion in string.Formatter().parse(TEXT[code]):
        if "%" in literal:
            raise ValueError(f"{code}: '%' in a message used in SQL")
        if literal:
            parts.append("'" + literal.replace("'", "''") + "'")
        if name is not None:
            if spec or conversion:
                raise ValueError(f"{code}: format spec in a message used in SQL")
            parts.append(f"CAST(({fields[name]}) AS text)")
    return "(" + (" || ".join(parts) or "''") + ")"
