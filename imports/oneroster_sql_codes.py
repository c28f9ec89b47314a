"""Constants of the set-based users.csv step (``imports.oneroster_sql``): the staged columns,
the strict patterns, and the error codes of a row (in the order the Python ``parse`` checks)."""

from __future__ import annotations

from people.rules import EMAIL_CERTAINLY_VALID

#: Bumped when the staged table's layout changes (an older preview's table is then reloaded).
STAGE_VERSION = 1
#: Rows per guardian batch in the Python path: warnings found while planning come per batch.
GUARDIAN_BATCH = 500
#: Errors held in memory during an all-or-nothing commit (as ``Report`` does).
MAX_HELD = 1000
#: Answers with at most this many distinct values become a CASE expression (else a join).
MAX_CASE = 64
#: The answers judged in Python (see ``SetBasedUsersStep._answers``).
MAP_NAMES = ("status", "role", "enabled", "grades", "date", "sid", "number", "email")

#: Our column names the statements read, in the staged table's order (reader path).
USED = (
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "givenName",
    "familyName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "preferredGivenName",
    "primaryOrgSourcedId",
)
#: SQL alias of each used column.
ALIAS = {
    "sourcedId": "sid",
    "status": "status",
    "dateLastModified": "dlm",
    "enabledUser": "enabled",
    "orgSourcedIds": "orgs",
    "role": "role",
    "givenName": "given",
    "familyName": "family",
    "identifier": "ident",
    "email": "email",
    "sms": "sms",
    "phone": "phone",
    "agentSourcedIds": "agents",
    "grades": "grades",
    "preferredGivenName": "pref",
    "primaryOrgSourcedId": "prim",
}

# Strict patterns: a value they match is certainly accepted by the Python parser (the rest,
# usually none, is judged in Python). Superset pattern: a value it does not match is
# certainly not Excel's scientific notation.
DATE_OK = (
    r"^([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"([Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.,]([0-9]{3}|[0-9]{6}))?)? *"
    r"(Z|z|UTC|GMT|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?|[0-9]{12,13})$"
)
#: Kept under its old name: the pattern is ``people.rules.EMAIL_CERTAINLY_VALID``.
EMAIL_OK = EMAIL_CERTAINLY_VALID
MAYBE_SCIENTIFIC = r"^[+-]?[^eE.,+-]+([.,][^eE.,+-]+)?[eE][+-][^eE.,+-]{1,3}$"

# Error codes of a row (``err``), in the order the Python ``parse`` checks.
KEY_SCIENTIFIC, KEY_EMPTY, KEY_LONG = 1, 2, 3
BAD_STATUS, NO_ROLE, BAD_ROLE = 10, 11, 12
GIVEN_EMPTY, GIVEN_LONG, FAMILY_EMPTY, FAMILY_LONG, PREFERRED_LONG = 13, 14, 15, 16, 17
NUMBER_SCIENTIFIC, NUMBER_LONG, NO_SITE = 18, 19, 20
CONTACT_GIVEN_LONG, CONTACT_FAMILY_LONG, CONTACT_NO_NAME = 21, 22, 23
