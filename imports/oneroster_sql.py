"""OneRoster users.csv → people and guardian contacts, set-based on PostgreSQL.

The Python path (``oneroster_users.PeopleStep`` and ``GuardianStep``) reads users.csv row by row,
three times a phase (key pre-scan, people, guardians), and plans a thousand rows a query.
On PostgreSQL, with ``settings.IMPORTS_SET_BASED`` (default on), :class:`SetBasedUsersStep`
replaces those two steps and gives the same results — people, guardian contacts, counts,
issues (in the same order) and notes — with a few statements over the whole file:

1. **Stage** (once a run): users.csv goes into an UNLOGGED table ``import_stage_<run id>_raw``
   of text columns and the line number. A file that is plain UTF-8 with simple quoting (no quoted
   line breaks, no blank lines, a quote only around a whole field) is sent to ``COPY … FROM
   STDIN (FORMAT csv)`` as it is, its bytes checked on the way (:func:`_clean_blocks`);
   ``COPY`` fails on anything else it does not like, and then — or for any other file:
   Windows-1252, quoted line breaks, XLSX… — the rows stream through ``imports.reading``
   into the same ``COPY``. Cells are stripped like the reader strips them (``btrim``).
2. **Distinct values** (one ``GROUPING SETS`` scan): statuses, roles, enabledUser, grades,
   (roles.csv org, primaryOrgSourcedId, orgSourcedIds) combinations, and the few identifiers,
   dates and email addresses that a strict SQL pattern cannot vouch for, are judged by the
   very functions the Python path calls (``status_of``, ``role_key``, ``parse_bool``,
   ``grade_of``, ``parse_identifier``, ``parse_datetime``, ``email_is_valid``); the answers
   go back as ``CASE`` expressions (a few values) or small tables.
3. **Parse**: one ``CREATE TABLE … AS SELECT`` joins the rows with those answers and gives
   each row its first error found without the database (``err0``, in the order the Python
   ``parse`` checks), its warnings and its record: ``import_stage_<run id>``; duplicate
   sourcedIds come from ``GROUP BY … HAVING count(*) > 1`` with ``array_agg`` of their lines
   (``…_dups``), the combinations are numbered in ``…_combos``. These three tables are what
   the commit reuses (while the upload's files are unchanged: their names, sizes and times);
   the raw table is dropped. Each phase then asks ``PeopleStep.home_site_for`` the site of
   every combination (the preview's placeholders or the commit's new ids) and reads the rows
   through a view that adds ``site_id`` and ``err`` ("no school" when none is found).
4. **Plan**: people against ``people_person`` (created / updated — ``IS DISTINCT FROM`` on
   the fields the import manages, a ``NULL`` meaning "leave as is" — / unchanged /
   deactivated / reactivated); guardians' students (their own agentSourcedIds, then the
   students naming them, first occurrence wins) against people and contacts.
5. **Apply** (commit only): ``INSERT … SELECT``, ``UPDATE … FROM``, the bulk deactivation
   ``UPDATE … WHERE NOT EXISTS``, the same for guardian contacts, in the pipeline's
   transaction (all or nothing) or each in its own (valid rows: rows with errors are left out).
6. **Issues**: ``INSERT … SELECT … ORDER BY`` a key that reproduces the order in which the
   Python path reports them (duplicates, then rows in file order — a student number another
   active person has is warned about per batch of 1,000 items, after the batch's last row —,
   the student numbers students share, guardian warnings per batch of 500), up to
   ``MAX_STORED_ISSUES``.

orgs.csv, roles.csv, classes.csv and enrollments.csv stay on the Python path (small files);
their results (sites, roles, homerooms) go to the database as small tables.

One difference is deliberate: an all-or-nothing commit that finds errors (the data changed
since the preview) keeps the first 1,000 errors of the whole file, where the Python path
keeps those found before it stops, at the end of the batch with the first error.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import DatabaseError, connection
from django.utils import timezone

from core.scoping import VIEW, scope_for
from imports.messages import Msg, say, sql_say
from imports.models import ImportIssue, ImportRun
from imports.oneroster import (
    BULK,
    DELTA,
    GUARDIAN_PHONE_MAX,
    OneRosterImporter,
    grade_cell,
    status_of,
)
from imports.oneroster_users import PeopleStep, UserStep
from imports.pipeline import (
    CREATED,
    DEACTIVATED,
    MAX_ISSUE_VALUE,
    MAX_STORED_ISSUES,
    REJECTED,
    REMOVED,
    SKIPPED,
    UNCHANGED,
    UPDATED,
    AllOrNothingAborted,
    FileError,
    RowError,
    Step,
)
from imports.reading import _CELL_STRIP, Table
from imports.staging import (  # noqa: F401 - re-exported: the tests and older imports use these names
    ANALYZE_AFTER,
    FIELD_LIMIT,
    STAGE_PREFIX,
    NotClean,
    StagedFile,
    _clean_blocks,
    _guarded,
    _insert_select,
    _Sql,
    _trim_sql,
    bulk_load,
    drop_stale_stages,
    set_based_enabled,
)
from imports.values import _STRIP, parse_bool, parse_datetime, parse_identifier
from people import bulk as people_bulk
from people.models import GuardianContact, Person
from people.rules import (
    EMAIL_CERTAINLY_VALID,
    EMAIL_INVALID,
    GUARDIAN,
    PERSON_NAME_MAX,
    ROLE_KINDS,
    ROLE_LIST,
    SKIP,
    STAFF,
    STUDENT,
    STUDENT_NUMBER_MAX,
    email_certainly_valid_sql,
    email_is_valid,
    number_owner_text_sql,
    number_taken_by_sql,
    number_taken_reason_sql,
    role_key,
    roster_outcome_sql,
    shared_number_reason_sql,
    status_when_listed_sql,
    text_problem_sql,
)
from sites.models import Site

log = logging.getLogger(__name__)

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


class SetBasedUsersStep(StagedFile, UserStep):
    """users.csv → people and guardian contacts, set-based (PostgreSQL). See the module docstring.

    Replaces ``PeopleStep`` and ``GuardianStep``; the importer calls :meth:`run` instead of
    the pipeline's streaming passes.
    """

    entity = "people"
    staged_names = USED
    staged_key = "sourcedId"

    def __init__(self, importer: OneRosterImporter, *, homeroom_steps: tuple[Step, ...]) -> None:
        super().__init__(importer)
        self.people = PeopleStep(importer, homeroom_steps=homeroom_steps)
        self.homeroom_mode = ""
        self.sql: _Sql
        self.staged_columns: dict[str, str] = {}
        self._guardians_on: bool | None = None

    @property
    def title(self) -> str:
        return "users.csv → people and guardian contacts"

    def enabled(self) -> bool:
        if not self.people.enabled():
            return False
        self.homeroom_mode = self.people.homeroom_mode
        return True

    # -- the whole step ----------------------------------------------------------

    def _bound(self) -> None:
        self.people.cols = self.cols

    def _run(self, table: Table, label: str) -> None:
        importer, report, sql = self.importer, self.report, self.sql
        rows = self._stage(table, label)
        report.rows_seen += rows
        self.progress.start(f"{label} — {'applying' if importer.applying else 'checking'}", rows)
        self._site_answers()
        self._issue_table()
        self._people_issues()
        guardians = self._guardians_enabled()
        if guardians:
            self._guardian_parse_issues()
        # Every error is known now (planning finds none): an all-or-nothing commit stops here.
        all_or_nothing = importer.applying and importer.run.mode == ImportRun.Mode.ALL_OR_NOTHING
        if all_or_nothing and (report.errors or self._counted_so_far()[0]):
            self._store_issues()
            raise AllOrNothingAborted()
        try:
            self._people(rows)
        except FileError:
            # The Python path stored the people's issues before its finish() refused; it never
            # reached the guardians.
            self._store_issues(last_section=2)
            raise
        if guardians:
            self.progress.save(force=True)
            self._guardians()
        self._store_issues()
        self.progress.done = rows
        self.progress.save(force=True)
        if importer.applying or importer.run.dry_run or report.file_errors:
            # No commit will read them.
            sql.run(f"DROP TABLE IF EXISTS {sql.stage}, {sql.table('dups')}, {sql.table('combos')} CASCADE")

    # -- 1. stage: the file, checked and parsed, kept for the commit --------------------

    def _fingerprint(self) -> str:
        """Names, sizes and times of the upload's files: the parsed table depends on all of them."""
        files = self.importer.files
        assert files is not None
        if files.zip is not None:
            stat = files.path.stat()
            return f"zip|{files.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        parts = []
        for name, member in sorted(files.members.items()):
            stat = member.stat()
            parts.append(f"{name}|{member.resolve()}|{stat.st_size}|{stat.st_mtime_ns}")
        return "\n".join(parts)

    def _stage(self, table: Table, label: str) -> int:
        """The parsed rows of users.csv in ``import_stage_<run id>`` (made by the preview, reused
        by the commit while the upload is unchanged); returns the number of rows."""
        sql = self.sql
        drop_stale_stages(keep=self.importer.run.pk)
        fingerprint = self._fingerprint()
        if sql.exists(sql.stage) and sql.exists(sql.table("dups")) and sql.exists(sql.table("combos")):
            comment = sql.one("SELECT obj_description(%s::regclass, 'pg_class')", [sql.stage])[0]
            try:
                meta = json.loads(comment or "{}")
            except ValueError:
                meta = {}
            if (
                meta.get("version") == STAGE_VERSION
                and meta.get("fingerprint") == fingerprint
                and (meta.get("rows") == 0 or sql.one(f"SELECT EXISTS (SELECT 1 FROM {sql.stage})")[0])
            ):
                return int(meta["rows"])
        for name in (sql.stage, sql.table("dups"), sql.table("combos"), sql.table("raw")):
            sql.run(f"DROP TABLE IF EXISTS {name} CASCADE")
        loaded = self._copy_as_is(table, label)
        how = "copy"
        if loaded is None:
            loaded = self._copy_through_reader(table, label)
            how = "reader"
        self.staged_columns, rows = loaded
        self.progress.start(f"{label} — checking", rows)
        self._helper_tables()
        self._answers()
        self._parse()
        sql.run(f"DROP TABLE {sql.table('raw')}")
        meta = {"version": STAGE_VERSION, "fingerprint": fingerprint, "rows": rows, "how": how}
        literal = psycopg.sql.Literal(json.dumps(meta)).as_string(sql.raw.connection)
        sql.run(f"COMMENT ON TABLE {sql.stage} IS {literal}")
        log.info("import %s: users.csv staged (%s, %s rows)", self.importer.run.pk, how, rows)
        return rows

    def _trimmed(self) -> str:
        """The staged rows with every used column stripped as the reader strips cells, under
        its alias (``OFFSET 0``: computed once a row)."""
        cells = []
        for name in USED:
            column = self.staged_columns.get(name)
            if column:
                cells.append(f"{_trim_sql(column)} AS {ALIAS[name]}")
            else:  # an absent preferredGivenName leaves the name as it is; other columns read as ""
                cells.append(f"{'NULL' if name == 'preferredGivenName' else chr(39) * 2}::text AS {ALIAS[name]}")
        return f"SELECT line, {', '.join(cells)} FROM {self.sql.table('raw')} OFFSET 0"

    def _helper_tables(self) -> None:
        """roles.csv's roles and orgs, and the homerooms, as temporary tables (when there are any)."""
        importer, sql = self.importer, self.sql
        self.has_roles = bool(importer.roles)
        if self.has_roles:
            assert importer.roles is not None
            sql.load(
                "import_oneroster_roles",
                "user_key text PRIMARY KEY, rk text NOT NULL, kind text, org text NOT NULL",
                ((user, rk, ROLE_KINDS.get(rk), org) for user, (rk, org) in importer.roles.items()),
            )
        self.has_homerooms = bool(self.homeroom_mode and importer.homerooms)
        if self.has_homerooms:
            sql.load(
                "import_oneroster_homerooms",
                "user_key text PRIMARY KEY, title text NOT NULL",
                importer.homerooms.items(),
            )

    def _role_org(self) -> str:
        return "coalesce(r.org, '')" if self.has_roles else "''::text"

    def _answers(self) -> None:
        """One GROUPING SETS scan for the distinct values; Python judges them (``self.maps``),
        and the (roles.csv org, primaryOrgSourcedId, orgSourcedIds) combinations are numbered
        in the kept ``…_combos`` table."""
        sql = self.sql
        roles_join = "LEFT JOIN import_oneroster_roles r ON r.user_key = s.sid" if self.has_roles else ""
        found = sql.rows(
            f"""
            SELECT CASE WHEN GROUPING(status) = 0 THEN 'status' WHEN GROUPING(role1) = 0 THEN 'role'
                        WHEN GROUPING(enabled) = 0 THEN 'enabled' WHEN GROUPING(grades) = 0 THEN 'grades'
                        WHEN GROUPING(role_org) = 0 THEN 'site' WHEN GROUPING(date_c) = 0 THEN 'date'
                        WHEN GROUPING(sid_c) = 0 THEN 'sid' WHEN GROUPING(num_c) = 0 THEN 'number'
                        ELSE 'email' END,
                   status, role1, enabled, grades, role_org, prim, orgs, date_c, sid_c, num_c, email_c
            FROM (SELECT s.status, split_part(s.role, ',', 1) AS role1, s.enabled, s.grades,
                         {self._role_org()} AS role_org, s.prim, s.orgs,
                         CASE WHEN s.dlm <> '' AND s.dlm !~ %(date_ok)s THEN s.dlm END AS date_c,
                         CASE WHEN s.sid ~ %(sci)s THEN s.sid END AS sid_c,
                         CASE WHEN s.ident ~ %(sci)s THEN s.ident END AS num_c,
                         CASE WHEN s.email <> '' AND NOT {email_certainly_valid_sql("s.email", "%(email_ok)s")}
                              THEN s.email END AS email_c
                  FROM ({self._trimmed()}) s {roles_join}) x
            GROUP BY GROUPING SETS ((status), (role1), (enabled), (grades), (role_org, prim, orgs), (date_c),
                                    (sid_c), (num_c), (email_c))
            """,
            {"c": _CELL_STRIP, "date_ok": DATE_OK, "sci": MAYBE_SCIENTIFIC, "email_ok": EMAIL_OK},
        )
        maps: dict[str, dict[str, tuple[Any, ...]]] = {name: {} for name in MAP_NAMES}
        combos: list[tuple[int, str, str, str]] = []
        for kind, status, role1, enable, grade, role_org, prim, orgs, date, sid, number, email in found:
            if kind == "status":
                value = status.strip().lower()
                maps["status"][status] = (status_of(value), value)
            elif kind == "role":
                key = role_key(role1)
                maps["role"][role1] = (key, ROLE_KINDS.get(key))
            elif kind == "enabled":
                if (problem := _bool_problem(enable)) is not None:
                    maps["enabled"][enable] = (problem,)
            elif kind == "grades":
                code, problem = grade_cell(grade)
                maps["grades"][grade] = (code, problem or None)
            elif kind == "site":
                combos.append((len(combos) + 1, role_org, prim, orgs))
            elif kind == "date" and date is not None and _bad_date(date):
                maps["date"][date] = (True,)
            elif kind in ("sid", "number") and (value := sid if kind == "sid" else number) is not None:
                if (problem := _identifier_problem(value)) is not None:
                    maps[kind][value] = (problem,)
            elif kind == "email" and email is not None and not email_is_valid(email):
                maps["email"][email] = (True,)
        self.maps = maps
        combos_table = sql.table("combos")
        sql.run(
            f"CREATE UNLOGGED TABLE {combos_table} (combo integer PRIMARY KEY, role_org text NOT NULL, "
            "prim text NOT NULL, orgs text NOT NULL)"
        )
        with sql.raw.copy(f"COPY {combos_table} FROM STDIN") as copy:
            for combo in combos:
                copy.write_row(combo)
        sql.run(f"ANALYZE {combos_table}")

    def _lookup(self, name: str, expr: str, types: Sequence[str]) -> tuple[list[str], str]:
        """SQL giving, for ``expr``, each value of the answer ``self.maps[name]`` (NULLs when it
        has none): ``CASE`` for a few distinct values, else a join with a temporary table.
        Returns the expressions and the join clause."""
        mapping = self.maps[name]
        if not mapping:
            return [f"NULL::{t}" for t in types], ""
        if len(mapping) <= MAX_CASE:
            conn = self.sql.raw.connection
            literal = psycopg.sql.Literal
            expressions = []
            for index, sql_type in enumerate(types):
                whens = " ".join(
                    f"WHEN {literal(key).as_string(conn)} THEN {literal(values[index]).as_string(conn)}::{sql_type}"
                    for key, values in mapping.items()
                )
                expressions.append(f"CASE {expr} {whens} END")
            return expressions, ""
        table = f"import_oneroster_map_{name}"
        columns = ", ".join(f"v{i} {sql_type}" for i, sql_type in enumerate(types))
        self.sql.load(table, f"raw text PRIMARY KEY, {columns}", ((key, *values) for key, values in mapping.items()))
        alias = f"m_{name}"
        return [f"{alias}.v{i}" for i in range(len(types))], f"LEFT JOIN {table} {alias} ON {alias}.raw = {expr}"

    # -- 3. parse --------------------------------------------------------------------------

    def _parse(self) -> None:
        """The rows with their group (P people / G guardians), first error found without the
        database (``err0``; the site is checked per phase), warnings and record; then the
        repeated sourcedIds (``…_dups``) and each row's ``dup`` flag."""
        sql = self.sql
        stage, combos = sql.stage, sql.table("combos")
        joins: list[str] = []

        def lookup(name: str, expr: str, *types: str) -> list[str]:
            expressions, join = self._lookup(name, expr, types)
            if join:
                joins.append(join)
            return expressions

        st, shown = lookup("status", "s.status", "text", "text")
        m_rk, m_kind = lookup("role", "split_part(s.role, ',', 1)", "text", "text")
        (enabled_warn,) = lookup("enabled", "s.enabled", "text")
        grade, grade_warn = lookup("grades", "s.grades", "text", "text")
        (bad_date,) = lookup("date", "s.dlm", "boolean")
        (key_problem,) = lookup("sid", "s.sid", "text")
        (num_problem,) = lookup("number", "s.ident", "text")
        (bad_email,) = lookup("email", "s.email", "boolean")
        if self.has_roles:
            joins.insert(0, "LEFT JOIN import_oneroster_roles r ON r.user_key = s.sid")
            rk = f"coalesce(r.rk, {m_rk})"
            kind = f"CASE WHEN r.user_key IS NOT NULL THEN r.kind ELSE {m_kind} END"
            raw_role = "CASE WHEN r.user_key IS NOT NULL THEN r.rk ELSE s.role END"
        else:
            rk, kind, raw_role = m_rk, m_kind, "s.role"
        if self.has_homerooms:
            joins.append("LEFT JOIN import_oneroster_homerooms h ON h.user_key = s.sid")
            homeroom = {BULK: "coalesce(h.title, '')", DELTA: "h.title"}[self.homeroom_mode]
        else:
            homeroom = "''::text" if self.homeroom_mode == BULK else "NULL::text"
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {stage} AS
            SELECT b.line, b.sid, b.grp, b.key_code, b.key_problem, b.st, b.kind, b.rk, b.given, b.family, b.pref,
                   b.ident, b.num_problem, b.email, b.email_bad, b.agents, b.grade, b.combo, b.homeroom, b.date_bad,
                   CASE WHEN b.st IS NULL THEN b.st_shown END AS st_shown,
                   CASE WHEN b.kind IS NULL THEN b.raw_role END AS raw_role,
                   CASE WHEN b.enabled_warn IS NOT NULL THEN b.enabled END AS enabled,
                   b.enabled_warn,
                   CASE WHEN b.grade_warn IS NOT NULL THEN b.grades END AS grades,
                   b.grade_warn,
                   CASE WHEN b.date_bad THEN b.dlm END AS dlm,
                   CASE WHEN b.grp = 'G' THEN coalesce(nullif(b.phone, ''), b.sms) END AS phone,
                   CASE WHEN b.key_code > 0 THEN b.key_code
                        WHEN b.st IS NULL THEN {BAD_STATUS}
                        WHEN b.st = 'tobedeleted' THEN 0
                        WHEN b.grp = 'G' THEN CASE WHEN char_length(b.given) > {PERSON_NAME_MAX} THEN {CONTACT_GIVEN_LONG}
                                                   WHEN char_length(b.family) > {PERSON_NAME_MAX} THEN {CONTACT_FAMILY_LONG}
                                                   WHEN b.given = '' AND b.family = '' THEN {CONTACT_NO_NAME}
                                                   ELSE 0 END
                        WHEN b.kind = '{SKIP}' THEN 0
                        WHEN b.kind IS NULL THEN CASE WHEN %(has_roles)s AND b.raw_role = '' THEN {NO_ROLE}
                                                      ELSE {BAD_ROLE} END
                        WHEN b.given = '' THEN {GIVEN_EMPTY}
                        WHEN char_length(b.given) > {PERSON_NAME_MAX} THEN {GIVEN_LONG}
                        WHEN b.family = '' THEN {FAMILY_EMPTY}
                        WHEN char_length(b.family) > {PERSON_NAME_MAX} THEN {FAMILY_LONG}
                        WHEN char_length(b.pref) > {PERSON_NAME_MAX} THEN {PREFERRED_LONG}
                        WHEN b.num_problem IS NOT NULL THEN {NUMBER_SCIENTIFIC}
                        WHEN char_length(b.ident) > {STUDENT_NUMBER_MAX} THEN {NUMBER_LONG}
                        ELSE 0 END AS err0,
                   false AS dup
            FROM (
              SELECT s.*,
                     CASE WHEN {key_problem} IS NOT NULL THEN {KEY_SCIENTIFIC} WHEN s.sid = '' THEN {KEY_EMPTY}
                          WHEN char_length(s.sid) > 255 THEN {KEY_LONG} ELSE 0 END AS key_code,
                     {key_problem} AS key_problem, {st} AS st, {shown} AS st_shown,
                     {rk} AS rk, {raw_role} AS raw_role, {kind} AS kind,
                     CASE WHEN ({kind}) = '{GUARDIAN}' THEN 'G' ELSE 'P' END AS grp,
                     {enabled_warn} AS enabled_warn, {grade} AS grade, {grade_warn} AS grade_warn,
                     c.combo, {num_problem} AS num_problem, coalesce({bad_date}, false) AS date_bad,
                     coalesce({bad_email}, false) AS email_bad, {homeroom} AS homeroom
              FROM ({self._trimmed()}) s
              {" ".join(joins)}
              LEFT JOIN {combos} c ON c.role_org = {self._role_org()} AND c.prim = s.prim AND c.orgs = s.orgs
            ) b
            """,
            {"c": _CELL_STRIP, "has_roles": self.has_roles},
        )
        dups = sql.table("dups")
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {dups} AS
            SELECT grp, sid, array_agg(line ORDER BY line) AS lines FROM {stage}
            WHERE key_code = 0 AND (grp, sid) IN (SELECT grp, sid FROM {stage} WHERE key_code = 0
                                                  GROUP BY grp, sid HAVING count(*) > 1)
            GROUP BY grp, sid
            """
        )
        sql.run(
            f"UPDATE {stage} r SET dup = true FROM {dups} d WHERE d.grp = r.grp AND d.sid = r.sid AND r.key_code = 0"
        )
        sql.run(f"ANALYZE {stage} (grp, key_code, st, kind, err0, dup, combo)")
        sql.run(f"ANALYZE {dups}")

    # -- 4. the database: sites, then the view every later statement reads --------------------

    def _site_answers(self) -> None:
        """Each combination's site (this phase's sites: the preview's placeholders or the
        commit's new ids), and the view ``import_oneroster_v``: the rows with ``site_id`` and
        ``err`` (``err0``, or "no school" for a person whose combination names none)."""
        sql = self.sql
        combos = sql.rows(f"SELECT combo, role_org, prim, orgs FROM {sql.table('combos')}")
        # Judged before the COPY starts: home_site_for may query the sites.
        answers = [(combo, *self._site(role_org, prim, orgs)) for combo, role_org, prim, orgs in combos]
        sql.load(
            "import_oneroster_site",
            "combo integer PRIMARY KEY, site_id integer, err_col text, err_val text, err_reason text",
            answers,
        )
        sql.run("DROP VIEW IF EXISTS import_oneroster_v")
        sql.run(
            f"""
            CREATE TEMPORARY VIEW import_oneroster_v AS
            SELECT r.*, st.site_id, st.err_col AS site_col, st.err_val AS site_val, st.err_reason AS site_reason,
                   CASE WHEN r.err0 = 0 AND r.grp = 'P' AND r.st = 'active' AND r.kind IN ('{STUDENT}', '{STAFF}')
                             AND st.site_id IS NULL THEN {NO_SITE} ELSE r.err0 END AS err
            FROM {sql.stage} r LEFT JOIN import_oneroster_site st ON st.combo = r.combo
            """
        )

    def _site(self, role_org: str, prim: str, orgs: str) -> tuple[int | None, str | None, str | None, str | None]:
        """(site id, None…) or (None, column, value, reason) of the Python path's home site."""
        try:
            return self.people.home_site_for(role_org, prim, orgs), None, None, None
        except RowError as exc:
            problem = exc.problems[0]
            return None, problem.column, problem.value, problem.reason

    # -- 5. issues, people, guardians ---------------------------------------------------

    @property
    def t_rows(self) -> str:
        """The rows with this phase's site answers (see :meth:`_site_answers`)."""
        return "import_oneroster_v"

    def _issue_table(self) -> None:
        self.sql.run("DROP TABLE IF EXISTS import_oneroster_issues")
        self.sql.run(
            "CREATE TEMPORARY TABLE import_oneroster_issues (s1 integer, s2 bigint, s3 integer, s4 bigint, "
            "s5 bigint, severity text, line integer, col text, val text, reason text, key text)"
        )

    def _h(self, name: str) -> str:
        return self.cols.header(name)

    def _dup_issues(self, group: str, section: int) -> None:
        """An error on every line of every repeated key (ordered as the key index finds them)."""
        self.sql.run(
            f"""
            INSERT INTO import_oneroster_issues
            SELECT %(section)s, d.lines[2], 0, l.line, 0, 'error', l.line, %(col)s, d.sid,
                   %(label)s || ' ''' || d.sid || ''' appears on ' || cardinality(d.lines) || ' lines ('
                   || array_to_string(d.lines[1:50], ', ')
                   || CASE WHEN cardinality(d.lines) > 50 THEN ' and ' || (cardinality(d.lines) - 50) || ' more'
                           ELSE '' END
                   || '); none of them is imported until only one is left',
                   d.sid
            FROM {self.sql.table("dups")} d CROSS JOIN LATERAL unnest(d.lines) AS l(line)
            WHERE d.grp = %(grp)s
            """,
            {"section": section, "col": self._h("sourcedId"), "label": self.key_label, "grp": group},
        )

    def _key_issue_sql(self) -> str:
        """SELECT fragments (column, value, reason) of a key error."""
        return f"""CASE r.key_code WHEN {KEY_SCIENTIFIC} THEN r.key_problem
                       WHEN {KEY_EMPTY} THEN {sql_say(Msg.ROW_KEY_EMPTY, name="'sourcedId'")}
                       ELSE 'is ' || char_length(r.sid) || ' characters long; at most 255' END"""

    def _people_issues(self) -> None:
        """Duplicates, then every people row's issues in file order."""
        h = self._h
        self._dup_issues("P", 1)
        params = {
            "sid": h("sourcedId"), "status": h("status"), "role": h("role"), "given": h("givenName"),
            "family": h("familyName"), "pref": h("preferredGivenName"), "ident": h("identifier"),
            "enabled": h("enabledUser"), "grades": h("grades"), "email": h("email"), "roles": ROLE_LIST,
            "email_invalid": EMAIL_INVALID,
        }  # fmt: skip
        reached_role = f"r.key_code = 0 AND r.st = 'active' AND r.kind IN ('{STUDENT}', '{STAFF}')"
        name_max = PERSON_NAME_MAX
        given_problem = text_problem_sql("r.given", name="givenName", max_length=name_max, required=True)
        family_problem = text_problem_sql("r.family", name="familyName", max_length=name_max, required=True)
        pref_problem = text_problem_sql("r.pref", name="preferredGivenName", max_length=name_max)
        number_problem = text_problem_sql("r.ident", name="identifier", max_length=STUDENT_NUMBER_MAX)
        self.sql.run(
            f"""
            INSERT INTO import_oneroster_issues
            SELECT 2, r.line, x.sub, 0, 0, x.severity, r.line, x.col, x.val, x.reason, x.key
            FROM {self.t_rows} r CROSS JOIN LATERAL (
              SELECT 0 AS sub, 'error' AS severity, %(sid)s AS col, r.sid AS val, {self._key_issue_sql()} AS reason,
                     '' AS key WHERE r.key_code > 0
              UNION ALL
              SELECT 1, 'warning', %(enabled)s, r.enabled, r.enabled_warn, r.sid
              WHERE {reached_role} AND r.enabled_warn IS NOT NULL
              UNION ALL
              SELECT 2, 'warning', %(grades)s, r.grades, r.grade_warn, r.sid
              WHERE {reached_role} AND r.err IN (0, {NO_SITE}) AND r.grade_warn IS NOT NULL
              UNION ALL
              SELECT 3, 'error',
                     CASE r.err WHEN {BAD_STATUS} THEN %(status)s WHEN {NO_ROLE} THEN 'role' WHEN {BAD_ROLE} THEN %(role)s
                          WHEN {GIVEN_EMPTY} THEN %(given)s WHEN {GIVEN_LONG} THEN %(given)s
                          WHEN {FAMILY_EMPTY} THEN %(family)s WHEN {FAMILY_LONG} THEN %(family)s
                          WHEN {PREFERRED_LONG} THEN %(pref)s ELSE %(ident)s END,
                     CASE r.err WHEN {BAD_STATUS} THEN r.st_shown WHEN {NO_ROLE} THEN '' WHEN {BAD_ROLE} THEN r.raw_role
                          WHEN {GIVEN_EMPTY} THEN '' WHEN {GIVEN_LONG} THEN r.given WHEN {FAMILY_EMPTY} THEN ''
                          WHEN {FAMILY_LONG} THEN r.family WHEN {PREFERRED_LONG} THEN r.pref ELSE r.ident END,
                     CASE r.err WHEN {BAD_STATUS} THEN {sql_say(Msg.ROSTER_BAD_STATUS)}
                          WHEN {NO_ROLE} THEN {sql_say(Msg.ROSTER_NO_ROLE)}
                          WHEN {BAD_ROLE} THEN {sql_say(Msg.ROSTER_BAD_ROLE, roles="%(roles)s")}
                          WHEN {GIVEN_EMPTY} THEN {given_problem} WHEN {GIVEN_LONG} THEN {given_problem}
                          WHEN {FAMILY_EMPTY} THEN {family_problem} WHEN {FAMILY_LONG} THEN {family_problem}
                          WHEN {PREFERRED_LONG} THEN {pref_problem}
                          WHEN {NUMBER_SCIENTIFIC} THEN r.num_problem
                          ELSE {number_problem} END,
                     r.sid
              WHERE r.key_code = 0 AND r.err NOT IN (0, {NO_SITE})
              UNION ALL
              SELECT 3, 'error', r.site_col, r.site_val, r.site_reason, r.sid
              WHERE r.key_code = 0 AND r.err = {NO_SITE}
              UNION ALL
              SELECT 4, 'warning', %(email)s, r.email, %(email_invalid)s, r.sid
              WHERE r.key_code = 0 AND r.err = 0 AND r.email_bad AND r.st = 'active' AND r.kind <> '{SKIP}'
            ) x
            WHERE r.grp = 'P' AND NOT r.dup AND (r.key_code > 0 OR r.err > 0 OR r.enabled_warn IS NOT NULL
                  OR r.grade_warn IS NOT NULL OR r.email_bad)
            """,
            params,
        )
        self._student_number_issues()

    def _student_number_issues(self) -> None:
        """Warnings on students whose number another active person already has (as
        ``PeopleStep._warn_numbers_taken``: planned a batch of items at a time, so after the
        issues of the batch's last row, the last batch's after every row's)."""
        sql, stage = self.sql, self.sql.stage
        t_rows = self.t_rows
        student = (
            f"r.grp = 'P' AND r.key_code = 0 AND NOT r.dup AND r.err = 0 AND r.st = 'active' "
            f"AND r.kind = '{STUDENT}' AND r.ident <> ''"
        )
        taken = sql.table("taken")
        sql.run(f"DROP TABLE IF EXISTS {taken}")
        # The numbers other active people have: people this file lists do not count, nor —
        # when a bulk file makes inactive the people it does not list — anyone with a sourcedId.
        person, site = Person._meta.db_table, Site._meta.db_table
        taken_by = number_taken_by_sql(
            status="p.status",
            sourced_id="p.sourced_id",
            listed=f"EXISTS (SELECT 1 FROM {stage} k WHERE k.grp = 'P' AND k.key_code = 0 AND k.sid = p.sourced_id)",
            everyone_listed="%(everyone)s",
        )
        found = sql.run(
            f"""
            CREATE UNLOGGED TABLE {taken} AS
            SELECT r.line, r.sid, r.ident, count(*) AS n, min(p.id) AS first_id
            FROM {t_rows} r JOIN {person} p ON p.student_number = r.ident AND p.status = 'active'
            WHERE {student} AND {taken_by}
            GROUP BY r.line, r.sid, r.ident
            """,
            {"everyone": self.mode == BULK and self.importer.deactivate_missing},
        )
        if not found:
            return
        actor = self.importer.actor
        sites = None if actor is None else scope_for(actor).site_ids(VIEW)
        size = self.people.batch_size
        items = f"r.grp = 'P' AND r.key_code = 0 AND NOT r.dup AND r.err = 0 AND (r.st = 'tobedeleted' OR r.kind <> '{SKIP}')"
        who = number_owner_text_sql(
            given="f.given_name",
            family="f.family_name",
            sourced_id="f.sourced_id",
            site_name="s.name",
            visible="(%(everywhere)s OR f.home_site_id = ANY(%(sites)s))",
            others="(t.n - 1)",
        )
        reason = number_taken_reason_sql(who)
        sql.run(
            f"""
            WITH i AS (SELECT r.line, row_number() OVER (ORDER BY r.line) - 1 AS n FROM {t_rows} r WHERE {items}),
                 e AS (SELECT n / {size} AS batch, line FROM i WHERE n %% {size} = {size - 1})
            INSERT INTO import_oneroster_issues
            SELECT 2, coalesce(e.line, 2147483647), 1000, t.line, 0, 'warning', t.line, %(ident)s, t.ident,
                   {reason},
                   t.sid
            FROM {taken} t
            JOIN i ON i.line = t.line
            LEFT JOIN e ON e.batch = i.n / {size}
            JOIN {person} f ON f.id = t.first_id
            LEFT JOIN {site} s ON s.id = f.home_site_id
            """,
            {
                "ident": self._h("identifier"),
                "everywhere": sites is None,
                "sites": sorted(sites or ()),
            },
        )

    def _counted_so_far(self, last_section: int = 5) -> tuple[int, int]:
        """(errors, warnings) found so far, in sections 1 (people duplicates) to ``last_section``."""
        errors, warnings = self.sql.one(
            "SELECT count(*) FILTER (WHERE severity = 'error'), count(*) FILTER (WHERE severity = 'warning') "
            "FROM import_oneroster_issues WHERE s1 <= %s",
            [last_section],
        )
        return int(errors), int(warnings)

    # -- people -------------------------------------------------------------------------

    def _people(self, rows: int) -> None:
        """Plan (and at commit apply) the people rows, then the bulk deactivation."""
        importer, sql, report = self.importer, self.sql, self.report
        t_rows = self.t_rows
        counts = dict(
            sql.rows(
                f"""
                SELECT outcome, count(*) FROM (
                  SELECT CASE WHEN key_code > 0 OR dup OR err > 0 THEN '{REJECTED}'
                              WHEN st = 'active' AND kind = '{SKIP}' THEN '{SKIPPED}' ELSE 'planned' END AS outcome
                  FROM {t_rows} WHERE grp = 'P') x
                GROUP BY outcome
                """
            )
        )
        for outcome in (REJECTED, SKIPPED):
            if counts.get(outcome):
                report.count("people", outcome, counts[outcome])
        plan = sql.table("people")
        changed = """(p.role, p.given_name, p.family_name, p.preferred_name, p.email, p.student_number, p.grade,
                         p.home_site_id, p.homeroom)
                        IS DISTINCT FROM
                        (v.role, r.given, r.family, coalesce(r.pref, p.preferred_name), coalesce(v.email, p.email),
                         r.ident, coalesce(r.grade, p.grade), r.site_id, coalesce(r.homeroom, p.homeroom))"""
        outcome = roster_outcome_sql("p.status", deleted="r.st = 'tobedeleted'", changed=changed)
        sql.run(f"DROP TABLE IF EXISTS {plan}")
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {plan} AS
            SELECT r.line, r.sid, p.id AS pk,
              {outcome} AS outcome,
              v.role, r.given, r.family, coalesce(r.pref, p.preferred_name, '') AS pref,
              coalesce(v.email, p.email, '') AS email, r.ident, coalesce(r.grade, p.grade, '') AS grade, r.site_id,
              coalesce(r.homeroom, p.homeroom, '') AS homeroom,
              {status_when_listed_sql("p.status")} AS status
            FROM {t_rows} r
            CROSS JOIN LATERAL (SELECT CASE WHEN r.kind = '{STUDENT}' THEN 'student' ELSE 'staff' END AS role,
                                       CASE WHEN r.email = '' THEN '' WHEN r.email_bad THEN NULL ELSE r.email END AS email
                               ) v
            LEFT JOIN {Person._meta.db_table} p ON p.sourced_id = r.sid
            WHERE r.grp = 'P' AND r.key_code = 0 AND NOT r.dup AND r.err = 0
              AND (r.st = 'tobedeleted' OR r.kind <> '{SKIP}')
            """
        )
        outcomes = dict(sql.rows(f"SELECT outcome, count(*) FROM {plan} GROUP BY outcome"))
        for outcome, n in outcomes.items():
            report.count("people", outcome, int(n))
        # People the bulk file does not list: the main writes touch only people it lists, so
        # they are the same before and after them (counted while the table is smaller).
        missing = 0
        if self.mode == BULK and importer.deactivate_missing and rows:
            (missing,) = sql.one(f"SELECT count(*) FROM {Person._meta.db_table} p WHERE {self._missing_sql()}")
        now = timezone.now()
        if importer.applying:
            people_bulk.people_apply_plan(
                sql=sql, plan=plan, created=int(outcomes.get(CREATED, 0)), now=now,
                actor=importer.actor, run_id=importer.run.pk,
            )  # fmt: skip
        self._shared_number_issues()
        self._people_finish(rows, now, int(missing))

    def _shared_number_issues(self) -> None:
        """Warnings on the students whose number other students' rows have (as
        ``PeopleStep._warn_shared_numbers``: after every row's issues, before the guardians')."""
        sql, nums = self.sql, self.sql.table("nums")
        student = (
            f"r.grp = 'P' AND r.key_code = 0 AND NOT r.dup AND r.err = 0 AND r.st = 'active' "
            f"AND r.kind = '{STUDENT}' AND r.ident <> ''"
        )
        sql.run(f"DROP TABLE IF EXISTS {nums}")
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {nums} AS
            SELECT r.ident, array_agg(r.line ORDER BY r.line) AS lines FROM {self.t_rows} r WHERE {student}
            GROUP BY r.ident HAVING count(*) > 1
            """
        )
        sql.run(
            f"""
            INSERT INTO import_oneroster_issues
            SELECT 2, 2147483647, 2000, r.line, 0, 'warning', r.line, %(ident)s, r.ident,
                   {shared_number_reason_sql("r.ident", "n.lines")},
                   r.sid
            FROM {self.t_rows} r JOIN {nums} n ON n.ident = r.ident
            WHERE {student}
            """,
            {"ident": self._h("identifier")},
        )

    def _missing_sql(self) -> str:
        """WHERE clause (over people ``p``) of the active people with a sourcedId the file lacks."""
        return people_bulk.people_unlisted_sql(self._listed_sql())

    def _listed_sql(self) -> str:
        """Boolean SQL over people ``p``: the file has a people row with their sourcedId."""
        return (
            f"EXISTS (SELECT 1 FROM {self.sql.stage} r WHERE r.grp = 'P' AND r.key_code = 0 AND r.sid = p.sourced_id)"
        )

    def _people_finish(self, rows: int, now: Any, missing: int) -> None:
        """The bad-date note, then (bulk) the people the file no longer lists."""
        sql, report = self.sql, self.report
        bad = sql.rows(
            f"SELECT count(*) OVER (), line, dlm FROM {self.sql.stage} "
            f"WHERE grp = 'P' AND key_code = 0 AND NOT dup AND date_bad ORDER BY line LIMIT 1"
        )
        if bad:
            n, line, raw = bad[0]
            report.note(say(Msg.ROSTER_BAD_DATES, file=self.file, n=n, line=line, raw=raw[:40]))
        if self.mode != BULK or not self.importer.deactivate_missing:
            return
        if not rows:
            raise FileError(self.file, say(Msg.ROSTER_BULK_EMPTY))
        self.importer.guard_people(missing)  # FileError at an unconfirmed commit (as the Python path)
        if self.importer.applying and missing:
            people_bulk.people_deactivate_unlisted(
                sql=sql, listed=self._listed_sql(), now=now, actor=self.importer.actor, run_id=self.importer.run.pk
            )
        if missing:
            report.count("people", DEACTIVATED, int(missing))

    # -- guardians ------------------------------------------------------------------------

    def _guardians_enabled(self) -> bool:
        """As ``GuardianStep.enabled``: guardian rows, students naming guardians, or (bulk)
        contacts from earlier rosters to remove."""
        if getattr(self, "_g_enabled", None) is None:
            found = self.sql.one(
                f"SELECT EXISTS (SELECT 1 FROM {self.sql.stage} WHERE grp = 'G'), "
                f"EXISTS (SELECT 1 FROM {self.t_rows} WHERE grp = 'P' AND key_code = 0 AND NOT dup AND err = 0 "
                f"AND st = 'active' AND kind = '{STUDENT}' AND agents <> '' AND EXISTS (SELECT 1 FROM "
                f"unnest(string_to_array(agents, ',')) a(x) WHERE btrim(a.x, %(v)s) <> ''))",
                {"v": _STRIP},
            )
            enabled = bool(found[0] or found[1])
            if not enabled and self.mode == BULK and self.importer.deactivate_missing:
                enabled = GuardianContact.objects.exclude(sourced_id="").exists()
            self._g_enabled = enabled
        return bool(self._g_enabled)

    def _guardian_parse_issues(self) -> None:
        """Guardian duplicates and the errors and warnings of guardian rows (sorted per batch later)."""
        h = self._h
        self._dup_issues("G", 3)
        given_problem = text_problem_sql("r.given", name="givenName", max_length=PERSON_NAME_MAX)
        family_problem = text_problem_sql("r.family", name="familyName", max_length=PERSON_NAME_MAX)
        self.sql.run(
            f"""
            INSERT INTO import_oneroster_issues
            SELECT 4, 0, 0, r.line, x.sub, x.severity, r.line, x.col, x.val, x.reason, x.key
            FROM {self.t_rows} r CROSS JOIN LATERAL (
              SELECT 0 AS sub, 'error' AS severity, %(sid)s AS col, r.sid AS val, {self._key_issue_sql()} AS reason,
                     '' AS key WHERE r.key_code > 0
              UNION ALL
              SELECT 0, 'error',
                     CASE WHEN r.err = {BAD_STATUS} THEN %(status)s WHEN r.err = {CONTACT_FAMILY_LONG} THEN %(family)s
                          ELSE %(given)s END,
                     CASE r.err WHEN {BAD_STATUS} THEN r.st_shown WHEN {CONTACT_GIVEN_LONG} THEN r.given
                          WHEN {CONTACT_FAMILY_LONG} THEN r.family ELSE '' END,
                     CASE r.err WHEN {BAD_STATUS} THEN {sql_say(Msg.ROSTER_BAD_STATUS)}
                          WHEN {CONTACT_GIVEN_LONG} THEN {given_problem}
                          WHEN {CONTACT_FAMILY_LONG} THEN {family_problem}
                          ELSE {sql_say(Msg.GUARDIAN_NO_NAME)} END,
                     r.sid
              WHERE r.key_code = 0 AND r.err > 0
              UNION ALL
              SELECT 1, 'warning', %(phone)s, r.phone, {sql_say(Msg.GUARDIAN_PHONE_LONG, max=str(GUARDIAN_PHONE_MAX))}, r.sid
              WHERE r.key_code = 0 AND r.err = 0 AND r.st = 'active' AND char_length(r.phone) > {GUARDIAN_PHONE_MAX}
              UNION ALL
              SELECT 2, 'warning', %(email)s, r.email, %(email_invalid)s, r.sid
              WHERE r.key_code = 0 AND r.err = 0 AND r.st = 'active' AND r.email_bad
            ) x
            WHERE r.grp = 'G' AND NOT r.dup
            """,
            {
                "sid": h("sourcedId"),
                "status": h("status"),
                "given": h("givenName"),
                "family": h("familyName"),
                "phone": h("phone"),
                "email": h("email"),
                "email_invalid": EMAIL_INVALID,
            },  # fmt: skip
        )

    def _guardians(self) -> None:
        """Guardian rows and the students naming guardians → contacts (plan, apply, bulk removal)."""
        importer, sql, report = self.importer, self.sql, self.report
        t_rows = self.t_rows
        counts = dict(
            sql.rows(
                f"SELECT CASE WHEN key_code > 0 OR dup OR err > 0 THEN '{REJECTED}' ELSE 'ok' END, count(*) "
                f"FROM {t_rows} WHERE grp = 'G' GROUP BY 1"
            )
        )
        if counts.get(REJECTED):
            report.count("guardians", REJECTED, int(counts[REJECTED]))
        links, live, students, plan = (sql.table(n) for n in ("links", "live", "students", "gplan"))
        for name in (links, live, students, plan):
            sql.run(f"DROP TABLE IF EXISTS {name}")
        # Students naming guardians (the agent_links of the Python path), in file order.
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {links} AS
            SELECT agent, student, line, o FROM (
              SELECT btrim(a.x, %(v)s) AS agent, r.sid AS student, r.line, a.o
              FROM {t_rows} r CROSS JOIN LATERAL unnest(string_to_array(r.agents, ',')) WITH ORDINALITY AS a(x, o)
              WHERE r.grp = 'P' AND r.key_code = 0 AND NOT r.dup AND r.err = 0 AND r.st = 'active'
                AND r.kind = '{STUDENT}' AND r.agents <> '') x
            WHERE agent <> ''
            """,
            {"v": _STRIP},
        )
        # Guardian records: parsed rows (deleted or live) with their contact's values.
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {live} AS
            SELECT r.line, r.sid, r.st = 'tobedeleted' AS deleted, r.agents,
                   CASE WHEN r.given = '' THEN r.family WHEN r.family = '' THEN r.given
                        ELSE r.given || ' ' || r.family END AS name,
                   r.rk AS relationship,
                   CASE WHEN r.email_bad THEN '' ELSE r.email END AS email,
                   CASE WHEN char_length(r.phone) > 40 THEN '' ELSE r.phone END AS phone
            FROM {t_rows} r WHERE r.grp = 'G' AND r.key_code = 0 AND NOT r.dup AND r.err = 0
            """
        )
        sql.run(f"ANALYZE {links}")
        sql.run(f"ANALYZE {live}")
        # Each live guardian's students: its own agentSourcedIds, then the students naming it.
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {students} AS
            SELECT line, sid, student, row_number() OVER (PARTITION BY sid ORDER BY p1, p2, p3) AS pos FROM (
              SELECT DISTINCT ON (sid, student) line, sid, student, p1, p2, p3 FROM (
                SELECT g.line, g.sid, btrim(a.x, %(v)s) AS student, 0 AS p1, a.o AS p2, 0::bigint AS p3
                FROM {live} g CROSS JOIN LATERAL unnest(string_to_array(g.agents, ',')) WITH ORDINALITY AS a(x, o)
                WHERE NOT g.deleted AND g.agents <> ''
                UNION ALL
                SELECT g.line, g.sid, l.student, 1, l.line, l.o FROM {live} g JOIN {links} l ON l.agent = g.sid
                WHERE NOT g.deleted
              ) x WHERE student <> ''
              ORDER BY sid, student, p1, p2, p3
            ) d
            """,
            {"v": _STRIP},
        )
        person, contact = Person._meta.db_table, GuardianContact._meta.db_table
        # Preview: a student the file lists (even on a rejected row) counts as made by this import.
        new_if_in_file = (
            "FALSE"
            if importer.applying
            else f"s.student IN (SELECT sid FROM {sql.stage} WHERE grp = 'P' AND key_code = 0)"
        )
        sql.run(
            f"""
            CREATE UNLOGGED TABLE {plan} AS
            SELECT s.line, s.sid, s.student, s.pos, p.id AS person_id,
                   (p.id IS NOT NULL OR {new_if_in_file}) AS desired,
                   c.id AS contact_id,
                   CASE WHEN c.id IS NULL THEN '{CREATED}'
                        WHEN (c.name, c.relationship, c.email, c.phone)
                             IS DISTINCT FROM (g.name, g.relationship, g.email, g.phone) THEN '{UPDATED}'
                        ELSE '{UNCHANGED}' END AS outcome
            FROM {students} s
            JOIN {live} g ON g.sid = s.sid
            LEFT JOIN {person} p ON p.sourced_id = s.student
            LEFT JOIN (SELECT DISTINCT ON (sourced_id, person_id) id, sourced_id, person_id, name, relationship,
                              email, phone
                       FROM {contact} WHERE sourced_id <> '' ORDER BY sourced_id, person_id, id DESC) c
                   ON c.sourced_id = s.sid AND c.person_id = p.id
            """
        )
        sql.run(f"ANALYZE {plan}")
        for outcome, n in sql.rows(f"SELECT outcome, count(*) FROM {plan} WHERE desired GROUP BY outcome"):
            report.count("guardians", outcome, int(n))
        skipped = sql.one(
            f"SELECT count(*) FROM {live} g WHERE NOT g.deleted "
            f"AND NOT EXISTS (SELECT 1 FROM {plan} x WHERE x.sid = g.sid AND x.desired)"
        )[0]
        if skipped:
            report.count("guardians", SKIPPED, int(skipped))
        removed_or_not = sql.rows(
            f"""
            SELECT c.id IS NOT NULL, count(*) FROM {live} g LEFT JOIN {contact} c ON c.sourced_id = g.sid
            WHERE g.deleted GROUP BY 1
            """
        )
        for has_contact, n in removed_or_not:
            report.count("guardians", REMOVED if has_contact else UNCHANGED, int(n))
        self._guardian_plan_issues(live, plan)
        self._agent_warnings(links)
        (before,) = sql.one(f"SELECT coalesce(max(id), 0) FROM {contact}")
        if importer.applying:
            people_bulk.guardians_apply_plan(
                sql=sql, plan=plan, live=live, now=timezone.now(), actor=importer.actor, run_id=importer.run.pk
            )
        has_guardian_rows = sql.one(f"SELECT EXISTS (SELECT 1 FROM {sql.stage} WHERE grp = 'G')")[0]
        if self.mode == BULK and self.importer.deactivate_missing and has_guardian_rows:
            # As GuardianStep.finish: only students the file lists (not as tobedeleted) lose the
            # links their agents no longer have; a missing student keeps their guardians, a
            # guardian whose row was rejected keeps its links, a student still naming a guardian
            # without a row keeps it.
            # Only contacts older than this run's can be stale (the ones it made are wanted).
            # Every condition is AND-ed EXISTS / NOT EXISTS: hash semi- and anti-joins.
            stage = sql.stage
            stale = f"""
                FROM {contact} c JOIN {person} p ON p.id = c.person_id
                WHERE c.sourced_id <> '' AND p.sourced_id <> '' AND c.id <= %(before)s
                  AND EXISTS (SELECT 1 FROM {stage} k WHERE k.grp = 'P' AND k.key_code = 0 AND k.sid = p.sourced_id)
                  AND NOT EXISTS (SELECT 1 FROM {stage} d WHERE d.grp = 'P' AND d.key_code = 0 AND NOT d.dup
                                  AND d.err0 = 0 AND d.st = 'tobedeleted' AND d.sid = p.sourced_id)
                  AND NOT EXISTS (SELECT 1 FROM {stage} k WHERE k.grp = 'G' AND k.key_code = 0
                                  AND k.sid = c.sourced_id
                                  AND NOT EXISTS (SELECT 1 FROM {live} g WHERE g.sid = k.sid AND NOT g.deleted))
                  AND NOT EXISTS (SELECT 1 FROM {plan} x WHERE x.sid = c.sourced_id AND x.student = p.sourced_id
                                  AND x.desired)
                  AND NOT EXISTS (SELECT 1 FROM {links} l WHERE l.agent = c.sourced_id AND l.student = p.sourced_id)
            """
            params = {"before": before}
            if not sql.one(
                f"SELECT EXISTS (SELECT 1 FROM {contact} WHERE sourced_id <> '' AND id <= %(before)s)", params
            )[0]:
                removed = 0
            elif importer.applying:
                removed = people_bulk.guardians_remove(
                    sql=sql, ids=f"SELECT c.id {stale}", params=params, actor=importer.actor, run_id=importer.run.pk
                )
            else:
                removed = int(sql.one(f"SELECT count(*) {stale}", params)[0])
            if removed:
                report.count("guardians", REMOVED, removed)

    def _guardian_plan_issues(self, live: str, plan: str) -> None:
        """Warnings found while planning, and the batch (window) each guardian row's issues are in."""
        h = self._h
        sql = self.sql
        sql.run(
            f"""
            INSERT INTO import_oneroster_issues
            SELECT 4, 0, 1, x.line, x.pos, 'warning', x.line, %(agents)s, x.student,
                   'is not a person in users.csv or in DeviceLedger; no contact made for it', x.sid
            FROM {plan} x WHERE NOT x.desired
            UNION ALL
            SELECT 4, 0, 1, g.line, 1000000, 'warning', g.line, %(agents)s, '',
                   'links this guardian to no student; skipped', g.sid
            FROM {live} g WHERE NOT g.deleted AND NOT EXISTS (SELECT 1 FROM {plan} x WHERE x.sid = g.sid AND x.desired)
            """,
            {"agents": h("agentSourcedIds")},
        )
        # Batches of the Python path: a row's issues come with the batch its items are in.
        if sql.one("SELECT EXISTS (SELECT 1 FROM import_oneroster_issues WHERE s1 = 4)")[0]:
            sql.run(
                f"""
                UPDATE import_oneroster_issues i SET s2 = w.batch FROM (
                  SELECT line, (count(*) FILTER (WHERE item) OVER (ORDER BY line) - item::int) / {GUARDIAN_BATCH} AS batch
                  FROM (SELECT line, (key_code = 0 AND NOT dup AND err = 0) AS item FROM {self.t_rows}
                        WHERE grp = 'G' AND NOT dup) g
                ) w WHERE i.s1 = 4 AND i.line = w.line
                """
            )

    def _agent_warnings(self, links: str) -> None:
        """Guardians named by students but not guardian rows of the file (first 1,000)."""
        self.sql.run(
            f"""
            INSERT INTO import_oneroster_issues
            SELECT 5, row_number() OVER (ORDER BY first_line, first_o), 0, 0, 0, 'warning', NULL,
                   'agentSourcedIds', agent,
                   'is named by ' || n || ' student(s) (e.g. ''' || first_student
                   || ''') but is not a guardian, parent or relative in users.csv', ''
            FROM (
              SELECT agent, count(*) AS n, (array_agg(student ORDER BY line, o))[1] AS first_student,
                     min(line) AS first_line, (array_agg(o ORDER BY line, o))[1] AS first_o
              FROM {links} l
              WHERE NOT EXISTS (SELECT 1 FROM {self.sql.stage} r WHERE r.grp = 'G' AND r.key_code = 0 AND NOT r.dup
                                AND r.sid = l.agent)
              GROUP BY agent
            ) a
            ORDER BY first_line, first_o
            LIMIT 1000
            """
        )

    # -- issues ---------------------------------------------------------------------------

    def _store_issues(self, last_section: int = 5) -> None:
        """Count the issues on the report and store them in the Python path's order (up to
        MAX_STORED_ISSUES; during an all-or-nothing commit only errors, held in memory).
        Sections: 1 people duplicates, 2 people rows, 3 guardian duplicates, 4 guardian rows
        and plan, 5 the guardians' finish."""
        report, sql = self.report, self.sql
        errors, warnings = self._counted_so_far(last_section)
        report.errors += errors
        report.warnings += warnings
        order = f"WHERE s1 <= {int(last_section)} ORDER BY s1, s2, s3, s4, s5"
        value = (
            f"CASE WHEN char_length(val) > {MAX_ISSUE_VALUE} THEN left(val, {MAX_ISSUE_VALUE - 1}) || '…' ELSE val END"
        )
        if report.hold:
            room = MAX_HELD - len(report._held)
            if room > 0 and errors:
                for line, col, val, reason, key in sql.rows(
                    f"SELECT line, left(col, 255), {value}, reason, left(key, 255) FROM import_oneroster_issues "
                    f"{order.replace('WHERE', 'WHERE severity = %(error)s AND')} LIMIT %(room)s",
                    {"room": room, "error": "error"},
                ):
                    report._held.append(
                        ImportIssue(
                            run_id=report.run.pk,
                            severity=ImportIssue.Severity.ERROR,
                            file=self.file,
                            line=line,
                            column=col,
                            value=val,
                            reason=reason,
                            key=key,
                        )  # fmt: skip
                    )
            return
        report.flush()
        room = MAX_STORED_ISSUES - report._stored
        if room <= 0 or not (errors or warnings):
            return
        stored = sql.run(
            f"""
            INSERT INTO {ImportIssue._meta.db_table} (run_id, severity, file, line, "column", value, reason, key)
            SELECT %(run)s, severity, %(file)s, line, left(col, 255), {value}, reason, left(key, 255)
            FROM import_oneroster_issues {order} LIMIT %(room)s
            """,
            {"run": report.run.pk, "file": self.file[:255], "room": room},
        )
        report._stored += stored

    def _drop_work_tables(self) -> None:
        """Drop this phase's tables (the staged ``import_stage_<run id>``, ``…_dups`` and
        ``…_combos`` stay for the commit)."""
        sql = getattr(self, "sql", None)
        if sql is None or connection.needs_rollback:
            return
        temporary = ["import_oneroster_issues", "import_oneroster_site", "import_oneroster_roles",
                     "import_oneroster_homerooms", *(f"import_oneroster_map_{name}" for name in MAP_NAMES)]  # fmt: skip
        with contextlib.suppress(psycopg.Error, DatabaseError):
            sql.run("DROP VIEW IF EXISTS import_oneroster_v")
            work = ", ".join(
                sql.table(suffix) for suffix in ("raw", "people", "links", "live", "students", "gplan", "nums", "taken")
            )
            sql.run(f"DROP TABLE IF EXISTS {work}, {', '.join(temporary)}")


# --------------------------------------------------------------------------- helpers


def _bool_problem(value: str) -> str | None:
    try:
        parse_bool(value)
    except ValueError as exc:
        return str(exc)
    return None


def _bad_date(value: str) -> bool:
    try:
        parse_datetime(value)
    except ValueError:
        return True
    return False


def _identifier_problem(value: str) -> str | None:
    try:
        parse_identifier(value)
    except ValueError as exc:
        return str(exc)
    return None
