"""People's rules, each stated once: pure predicates with their messages, and — where a
set-based import applies the same rule in SQL — its SQL twin beside it.

A twin is a function that takes SQL expressions (column references, or any expression of the
right type) and returns one SQL expression over them that gives what the Python form gives for
the same values. ``people/tests/test_rules.py`` feeds the same table of cases to both forms
and asserts they agree (portable twins on SQLite and PostgreSQL; the PostgreSQL-only ones,
marked so, on PostgreSQL).

Callers: the OneRoster importer (row by row, ``imports.oneroster``, and set-based,
``imports.oneroster_sql``), the people spreadsheet and Snipe-IT user imports
(``imports.people_rows``), and custody's check-out (``may_receive_devices``).

Nothing here reads or writes the database.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from core.choices import normalize_grade
from core.scoping import HIDDEN_PERSON

# --------------------------------------------------------------------------- SQL text


def sql_text(text: str) -> str:
    """``text`` as a SQL string literal (quotes doubled). Raises ValueError on ``%``, which a
    statement executed with parameters would read as a placeholder (no message here has one)."""
    if "%" in text:
        raise ValueError(f"a SQL literal of a message may not contain '%': {text!r}")
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- statuses

#: ``Person.Status`` values, as text (the rules and their SQL twins compare the stored text).
ACTIVE, INACTIVE = "active", "inactive"
#: Statuses that may receive devices. Issue #2 names inactive, withdrawn and graduated as
#: refused; "transferred" (left for another district) is refused too.
CAN_RECEIVE_DEVICES: tuple[str, ...] = (ACTIVE,)


def may_receive_devices(status: str) -> bool:
    """A person of this status may be lent a device (check-out, bulk check-out, imports of
    holders). Source: issue #2."""
    return status in CAN_RECEIVE_DEVICES


def may_receive_devices_sql(status: str) -> str:
    """SQL twin of :func:`may_receive_devices` over the text expression ``status`` (portable)."""
    return f"({status} IN ({', '.join(sql_text(s) for s in CAN_RECEIVE_DEVICES)}))"


# --------------------------------------------------------------------------- what a roster does to a person

#: Outcomes of a roster row for a person (the same words as ``imports.pipeline``'s outcomes).
CREATED, UPDATED, UNCHANGED, DEACTIVATED, REACTIVATED = "created", "updated", "unchanged", "deactivated", "reactivated"


def roster_outcome(current_status: str | None, *, deleted: bool, changed: bool) -> str:
    """What a roster row (matched by sourcedId) does to its person.

    ``current_status``: the person's stored status, ``None`` when nobody has the sourcedId;
    ``deleted``: the row says ``tobedeleted``; ``changed``: a field the roster manages differs.
    A deleted row makes an active person inactive (and does nothing otherwise: people are never
    deleted); a listed person made inactive by an earlier roster is reactivated; people withdrawn,
    graduated or transferred by hand stay so (their fields are still updated).
    """
    if deleted:
        return DEACTIVATED if current_status == ACTIVE else UNCHANGED
    if current_status is None:
        return CREATED
    if current_status == INACTIVE:
        return REACTIVATED
    return UPDATED if changed else UNCHANGED


def roster_outcome_sql(current_status: str, *, deleted: str, changed: str) -> str:
    """SQL twin of :func:`roster_outcome`: ``current_status`` text (NULL: no such person),
    ``deleted`` and ``changed`` booleans (portable)."""
    return (
        f"(CASE WHEN {deleted} THEN CASE WHEN {current_status} = '{ACTIVE}' THEN '{DEACTIVATED}' ELSE '{UNCHANGED}' END"
        f" WHEN {current_status} IS NULL THEN '{CREATED}'"
        f" WHEN {current_status} = '{INACTIVE}' THEN '{REACTIVATED}'"
        f" WHEN {changed} THEN '{UPDATED}' ELSE '{UNCHANGED}' END)"
    )


def status_when_listed(current_status: str) -> str:
    """A person's status after a roster lists them: inactive becomes active (see
    :func:`roster_outcome`), any other status stays."""
    return ACTIVE if current_status == INACTIVE else current_status


def status_when_listed_sql(current_status: str) -> str:
    """SQL twin of :func:`status_when_listed` (portable)."""
    return f"(CASE WHEN {current_status} = '{INACTIVE}' THEN '{ACTIVE}' ELSE {current_status} END)"


def bulk_deactivates(*, status: str, sourced_id: str, listed: bool) -> bool:
    """A **bulk** roster (one that lists everyone) makes this person inactive: active, known by a
    sourcedId (people added by hand have none and are never touched), and not listed by the file."""
    return status == ACTIVE and sourced_id != "" and not listed


def bulk_deactivates_sql(*, status: str, sourced_id: str, listed: str) -> str:
    """SQL twin of :func:`bulk_deactivates` (``listed``: a boolean expression, e.g. an EXISTS; portable)."""
    return f"({status} = '{ACTIVE}' AND {sourced_id} <> '' AND NOT ({listed}))"


#: A bulk roster that would make more than this share of the active people inactive needs an
#: explicit confirmation (the safety stop: an incomplete export must not withdraw a district).
DEACTIVATION_CONFIRM_SHARE = 0.2


def deactivation_needs_confirmation(*, missing: int, active: int) -> bool:
    """A bulk roster that makes ``missing`` of the ``active`` people inactive needs confirming:
    more than 20% of them (:data:`DEACTIVATION_CONFIRM_SHARE`)."""
    return missing > 0 and missing * 5 > active


# --------------------------------------------------------------------------- student numbers

#: Longest student (or employee) number (``Person.student_number``).
STUDENT_NUMBER_MAX = 64


def number_taken_by(*, status: str, sourced_id: str, listed: bool, everyone_listed: bool) -> bool:
    """Another person having a student's number counts as "number taken" (a scan could not tell
    them apart): they are active and the file does not decide their fate — not listed by it
    (their own row says what they become), and not a person with a sourcedId when a bulk file
    that lists everyone makes the others inactive (``everyone_listed``)."""
    return status == ACTIVE and not (sourced_id != "" and (listed or everyone_listed))


def number_taken_by_sql(*, status: str, sourced_id: str, listed: str, everyone_listed: str) -> str:
    """SQL twin of :func:`number_taken_by` (boolean expressions ``listed``, ``everyone_listed``; portable)."""
    return f"({status} = '{ACTIVE}' AND ({sourced_id} = '' OR (NOT ({everyone_listed}) AND NOT ({listed}))))"


#: Why a row whose student (or employee) number another active person has gets a warning.
NUMBER_TAKEN = (
    "already belongs to {who}, who is active; imported anyway, but scanning it at check-out cannot tell "
    "them apart: correct one of them at the source"
)


def number_owner_text(
    *, given: str, family: str, sourced_id: str, site_name: str | None, visible: bool, others: int
) -> str:
    """The ``{who}`` of :data:`NUMBER_TAKEN`: the first other holder of the number, named with
    their sourcedId and school only when the importing user may see them (FERPA: else
    :data:`HIDDEN_PERSON`), and how many others hold it."""
    if visible:
        who = (
            f"{given} {family}"
            + (f" (sourcedId '{sourced_id}')" if sourced_id else "")
            + f" at {site_name or 'no site'}"
        )
    else:
        who = HIDDEN_PERSON
    if others:
        who += f" and {others} other active {'person' if others == 1 else 'people'}"
    return who


def number_owner_text_sql(
    *, given: str, family: str, sourced_id: str, site_name: str, visible: str, others: str
) -> str:
    """SQL twin of :func:`number_owner_text` (``site_name`` NULL: no site; portable)."""
    return (
        f"(CASE WHEN {visible} THEN {given} || ' ' || {family}"
        f" || CASE WHEN {sourced_id} <> '' THEN ' (sourcedId ''' || {sourced_id} || ''')' ELSE '' END"
        f" || ' at ' || coalesce({site_name}, 'no site') ELSE {sql_text(HIDDEN_PERSON)} END"
        f" || CASE WHEN {others} > 0 THEN ' and ' || CAST({others} AS text) || ' other active '"
        f" || CASE WHEN {others} = 1 THEN 'person' ELSE 'people' END ELSE '' END)"
    )


def number_taken_reason(who: str) -> str:
    """:data:`NUMBER_TAKEN` naming ``who`` (see :func:`number_owner_text`)."""
    return NUMBER_TAKEN.replace("{who}", who)


def number_taken_reason_sql(who: str) -> str:
    """SQL twin of :func:`number_taken_reason` (portable)."""
    return f"replace({sql_text(NUMBER_TAKEN)}, '{{who}}', {who})"


#: Why a student whose number other students' rows of the same file have gets a warning.
SHARED_NUMBER = (
    "student number '{number}' is on the rows of {count} students (lines {lines}); imported anyway, but "
    "scanning it at check-out cannot tell them apart: correct it in the SIS"
)
#: Lines listed in :data:`SHARED_NUMBER` (the rest are counted).
SHARED_NUMBER_LINES = 50


def shared_number_reason(number: str, lines: Sequence[int]) -> str:
    """:data:`SHARED_NUMBER` for ``number`` on ``lines`` (sorted; the first 50 shown)."""
    cut = SHARED_NUMBER_LINES
    shown = ", ".join(str(n) for n in lines[:cut]) + (f" and {len(lines) - cut} more" if len(lines) > cut else "")
    return SHARED_NUMBER.replace("{count}", str(len(lines))).replace("{lines}", shown).replace("{number}", number)


def shared_number_reason_sql(number: str, lines: str) -> str:
    """SQL twin of :func:`shared_number_reason`; ``lines`` an ``integer[]`` (PostgreSQL only)."""
    cut = SHARED_NUMBER_LINES
    shown = (
        f"array_to_string(({lines})[1:{cut}], ', ') || CASE WHEN cardinality({lines}) > {cut} "
        f"THEN ' and ' || (cardinality({lines}) - {cut}) || ' more' ELSE '' END"
    )
    return (
        f"replace(replace(replace({sql_text(SHARED_NUMBER)}, '{{count}}', cardinality({lines})::text), "
        f"'{{lines}}', {shown}), '{{number}}', {number})"
    )


# --------------------------------------------------------------------------- names and other text fields

#: Longest given, family and preferred name (``Person``'s fields).
PERSON_NAME_MAX = 100


def too_long(value: str, *, max_length: int) -> str | None:
    """The words for a text longer than a field takes — ``"is 70 characters long; at most
    64"``, said after the column's name — or ``None`` when it fits. Worded once for every
    person's text (names, student numbers, sourcedIds) on every import path."""
    if len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length}"
    return None


def too_long_sql(value: str, *, max_length: int) -> str:
    """SQL twin of :func:`too_long` over the text expression ``value`` (NULL when it fits;
    portable: ``length`` counts characters on PostgreSQL and SQLite)."""
    return (
        f"(CASE WHEN length({value}) > {max_length} "
        f"THEN 'is ' || CAST(length({value}) AS text) || ' characters long; at most {max_length}' END)"
    )


def text_problem(value: str, *, name: str, max_length: int, required: bool = False) -> str | None:
    """Why a (stripped) text value cannot be stored in a person's field ``name``: empty when
    required, or longer than ``max_length`` characters (:func:`too_long`); ``None`` when it can."""
    if required and not value:
        return f"is empty; {name} is required"
    return too_long(value, max_length=max_length)


def text_problem_sql(value: str, *, name: str, max_length: int, required: bool = False) -> str:
    """SQL twin of :func:`text_problem` (NULL when the value can be stored; portable)."""
    if not required:
        return too_long_sql(value, max_length=max_length)
    return f"(CASE WHEN {value} = '' THEN {sql_text(f'is empty; {name} is required')} ELSE {too_long_sql(value, max_length=max_length)} END)"


# --------------------------------------------------------------------------- a person's home site from a roster


class NoHomeSite(ValueError):
    """Why a roster row gives a person no home site: ``column`` (the cell's name — ``"role"``
    for the roles.csv org, ``"primaryOrgSourcedId"``, ``"orgSourcedIds"``), ``value`` and
    ``reason`` (the words, said after the column's name). ``header`` says whether the caller
    should show ``column`` as the file's header for it."""

    def __init__(self, column: str, value: str, reason: str, *, header: bool = True) -> None:
        super().__init__(reason)
        self.column, self.value, self.reason, self.header = column, value, reason, header


def home_site(
    candidates: Sequence[tuple[str, str]],
    *,
    site_for_org: Callable[[str], int | None],
    is_district_org: Callable[[str], bool],
    district_office: Callable[[], int | None],
) -> int:
    """A person's home site from a roster: ``candidates`` are ``(column, org sourcedId)`` in
    order — the roles.csv org, primaryOrgSourcedId, then each of orgSourcedIds. The first whose
    org is a school (``site_for_org``: its site id, or ``None``) wins; otherwise, when one of
    them is the district, the district-office site; otherwise :class:`NoHomeSite` (no candidate,
    a district without a district office, or no school named). Both OneRoster paths ask this
    (the set-based path once for each distinct combination of the three cells)."""
    if not candidates:
        raise NoHomeSite("orgSourcedIds", "", "is empty; every person needs a school")
    for _, org in candidates:
        site_id = site_for_org(org)
        if site_id is not None:
            return site_id
    column, org = candidates[0]
    if any(is_district_org(o) for _, o in candidates):
        office = district_office()
        if office is not None:
            return office
        raise NoHomeSite(
            column, org, "is the district, and the district has no district-office site to put this person in",
            header=False,
        )  # fmt: skip
    shown = ", ".join(o for _, o in candidates)
    raise NoHomeSite(column, shown, "names no school in orgs.csv or in DeviceLedger")


# --------------------------------------------------------------------------- guardian links a bulk roster no longer has


def guardian_link_stale(
    *, from_roster: bool, student_listed: bool, student_leaving: bool, guardian_unplanned: bool, linked: bool
) -> bool:
    """Does a bulk roster (with guardian rows) remove this guardian contact of a student?

    ``from_roster``: the contact and its student both have sourcedIds; ``student_listed``: the
    file lists the student; ``student_leaving``: as ``tobedeleted``; ``guardian_unplanned``: the
    file has the guardian's row but it was rejected or skipped (nothing is known about its
    links); ``linked``: the guardian's row or the student's agents still link the two.
    Removed when made by a roster, the student is listed and stays, the guardian's row (if any)
    was read, and nothing links them any more: a student missing from the file keeps their
    guardians. Both OneRoster paths ask it (:func:`guardian_link_stale_sql`)."""
    return from_roster and student_listed and not student_leaving and not guardian_unplanned and not linked


def guardian_link_stale_sql(
    *, from_roster: str, student_listed: str, student_leaving: str, guardian_unplanned: str, linked: Sequence[str]
) -> str:
    """SQL twin of :func:`guardian_link_stale` over boolean expressions (never NULL: the
    set-based path gives ``EXISTS``); ``linked`` is OR-ed, as ``NOT`` each so that
    PostgreSQL plans ``AND``-ed anti-joins."""
    parts = [from_roster, student_listed, f"NOT {student_leaving}", f"NOT {guardian_unplanned}"]
    return "(" + " AND ".join([*parts, *(f"NOT {expr}" for expr in linked)]) + ")"


# --------------------------------------------------------------------------- schools a roster no longer lists

#: What makes a school "in use" (:func:`school_in_use`), in the imports' words.
SCHOOL_IN_USE = "with active people or devices"


def school_in_use(*, active_people: int, devices: int) -> bool:
    """Is a school in use — so that making it inactive (a bulk orgs.csv no longer lists it)
    needs an explicit confirmation? When active people have it as their home site, or
    devices are at it or owned by it. The counts are the caller's (people and sites may not
    read inventory's tables: ``imports.oneroster.Importer.guard_sites`` counts them)."""
    return active_people > 0 or devices > 0


# --------------------------------------------------------------------------- email addresses

_email_validator = EmailValidator()


def email_is_valid(value: str) -> bool:
    """True for an address Django's EmailField accepts (at most 254 characters): a person's or
    a guardian contact's email. An invalid one in a file is warned about and left as it was."""
    if len(value) > 254:
        return False
    try:
        _email_validator(value)
    except ValidationError:
        return False
    return True


#: Why an invalid email address in a file is not stored.
EMAIL_INVALID = "is not an email address; left as it was"

#: A pattern (PostgreSQL ``~*``) that only valid addresses match: the set-based path sends the
#: addresses it does not match (usually none) to :func:`email_is_valid`.
EMAIL_CERTAINLY_VALID = (
    r"^[-!#$%&'*+/=?^_`{}|~0-9a-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9a-z]+)*"
    r"@[a-z0-9]+(-+[a-z0-9]+)*(\.[a-z0-9]+(-+[a-z0-9]+)*)*\.[a-z]{2,}$"
)


def email_certainly_valid_sql(value: str, pattern: str) -> str:
    """SQL twin (one-sided) of :func:`email_is_valid`: true only for addresses it accepts
    (``pattern``: a parameter or literal holding :data:`EMAIL_CERTAINLY_VALID`; PostgreSQL only)."""
    return f"(char_length({value}) <= 64 AND octet_length({value}) = char_length({value}) AND {value} ~* {pattern})"


# --------------------------------------------------------------------------- grades


def grade_of(grade: str) -> tuple[str | None, str]:
    """A person's grade as a file gives it (OneRoster: the first of the ``grades`` list) → (CEDS
    code, "") — ("", "") when blank — or (None, the warning's reason) when it is not a grade
    (the person's grade then stays as it was). The set-based path asks this function about
    each distinct cell."""
    if not grade.strip():
        return "", ""
    try:
        return normalize_grade(grade), ""
    except ValueError as exc:
        return None, f"{exc}; grade left as it was"


# --------------------------------------------------------------------------- OneRoster roles → kinds of person

STUDENT, STAFF, GUARDIAN, SKIP = "student", "staff", "guardian", "skip"
#: OneRoster roles (lower case, without spaces or underscores) → what they become here:
#: students; staff (1.1's teacher, administrator, aide and 1.2's administrator roles);
#: guardian contacts; skipped (proctors). Source: OneRoster 1.1 §4.13.8, 1.2 roles.csv.
ROLE_KINDS = {
    "student": STUDENT,
    "teacher": STAFF,
    "administrator": STAFF,
    "aide": STAFF,
    "districtadministrator": STAFF,
    "siteadministrator": STAFF,
    "principal": STAFF,
    "counselor": STAFF,
    "systemadministrator": STAFF,
    "guardian": GUARDIAN,
    "parent": GUARDIAN,
    "relative": GUARDIAN,
    "proctor": SKIP,
}
#: The roles named in the message about an unknown role.
ROLE_LIST = "student, teacher, administrator, aide, guardian, parent, relative, proctor"

_ROLE_KEYS: dict[str, str] = {}


def role_key(value: str) -> str:
    """``"District Administrator"`` → ``"districtadministrator"`` (memoized: few distinct texts)."""
    key = _ROLE_KEYS.get(value)
    if key is None:
        key = "".join(ch for ch in value.lower() if ch.isalnum())
        if len(_ROLE_KEYS) < 1000:
            _ROLE_KEYS[value] = key
    return key


def person_kind(role: str) -> str | None:
    """A OneRoster role text → :data:`STUDENT`, :data:`STAFF`, :data:`GUARDIAN`, :data:`SKIP`, or
    ``None`` (not a role)."""
    return ROLE_KINDS.get(role_key(role))


def person_role(kind: str) -> str:
    """The ``Person.role`` of a kind of person (:data:`STUDENT` or :data:`STAFF`)."""
    return "student" if kind == STUDENT else "staff"


# --------------------------------------------------------------------------- name search keys

#: Longest search key (the names' own ``max_length``; a key is cut there, in both forms).
SEARCH_KEY_MAX = 100


def search_key(text: str) -> str:
    """A name as search and sorting compare it: accents and case ignored ("José Acuña" →
    "jose acuna", "JÁQUEZ" → "jaquez"). Unicode NFKD, combining marks dropped, lower case,
    cut to :data:`SEARCH_KEY_MAX`. ``Person`` keeps one per name (``family_key``,
    ``given_key``, ``preferred_key``), written by every writer of people; a search query goes
    through the same function. Source: issue #8 ("search ignores accents and case")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()[:SEARCH_KEY_MAX]


#: Characters the SQL twin folds itself: the Latin letters with accents (Latin-1 Supplement,
#: Latin Extended-A and -B, Latin Extended Additional: Spanish, Portuguese, French, German,
#: Polish, Czech, Turkish, Vietnamese…) and the combining marks. Outside them the twin
#: relies on the database's ``lower()`` (PostgreSQL folds every script; SQLite only ASCII).
_FOLDED_RANGES = ((0x00C0, 0x024F), (0x1E00, 0x1EFF))
_COMBINING = (0x0300, 0x036F)


def _fold_table() -> tuple[list[tuple[str, str]], str, str]:
    """``(replacements, from, to)`` of the SQL twin, derived from :func:`search_key` itself:
    characters whose key is several characters (``ĳ`` → ``ij``) as replacements, the others
    as a ``translate()`` pair; the combining marks at the end of ``from`` (dropped)."""
    replacements: list[tuple[str, str]] = []
    source, target = [], []
    for low, high in _FOLDED_RANGES:
        for code in range(low, high + 1):
            ch = chr(code)
            key = search_key(ch)
            if key == ch:
                continue
            if len(key) == 1:
                source.append(ch)
                target.append(key)
            else:
                replacements.append((ch, key))
    marks = "".join(chr(c) for c in range(_COMBINING[0], _COMBINING[1] + 1))
    return replacements, "".join(source) + marks, "".join(target)


_REPLACEMENTS, _FOLD_FROM, _FOLD_TO = _fold_table()


def search_key_sql(value: str) -> str:
    """SQL twin of :func:`search_key` over the text expression ``value`` (PostgreSQL):
    ``replace()`` for the few letters whose key is two letters, ``translate()`` over the fixed
    table of :data:`_FOLDED_RANGES` (no extension needed, where ``unaccent`` may not be
    installed), ``lower()``, cut to :data:`SEARCH_KEY_MAX`. Agrees with the Python form on
    ASCII and every character of the table (``people/tests/test_rules.py``), and PostgreSQL's
    ``lower()`` folds other scripts as Python does. Used by the set-based roster apply
    (``people.bulk.people_apply_plan``) and the migration that filled the keys. (SQLite has no
    ``translate()`` and its parser refuses the same table as nested ``replace()``: the row
    writers there compute the keys in Python.)"""
    expr = value
    for ch, key in _REPLACEMENTS:
        expr = f"replace({expr}, {sql_text(ch)}, {sql_text(key)})"
    expr = f"translate({expr}, {sql_text(_FOLD_FROM)}, {sql_text(_FOLD_TO)})"
    return f"substr(lower({expr}), 1, {SEARCH_KEY_MAX})"
