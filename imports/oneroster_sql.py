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

The step's people half is ``imports.oneroster_sql_people``, its guardian half
``imports.oneroster_sql_guardians`` (functions assigned as its methods), its constants
``imports.oneroster_sql_codes``; people's rules come from ``people.rules``, the writes go through
``people.bulk``.

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

from imports import oneroster_sql_guardians, oneroster_sql_people
from imports.messages import Msg, sql_say
from imports.models import ImportIssue, ImportRun
from imports.oneroster import (
    BULK,
    DELTA,
    OneRosterImporter,
    grade_cell,
    status_of,
)
from imports.oneroster_sql_codes import (  # noqa: F401 - also imported from here (google_sql, tests)
    ALIAS,
    BAD_ROLE,
    BAD_STATUS,
    CONTACT_FAMILY_LONG,
    CONTACT_GIVEN_LONG,
    CONTACT_NO_NAME,
    DATE_OK,
    EMAIL_OK,
    FAMILY_EMPTY,
    FAMILY_LONG,
    GIVEN_EMPTY,
    GIVEN_LONG,
    GUARDIAN_BATCH,
    KEY_EMPTY,
    KEY_LONG,
    KEY_SCIENTIFIC,
    MAP_NAMES,
    MAX_CASE,
    MAX_HELD,
    MAYBE_SCIENTIFIC,
    NO_ROLE,
    NO_SITE,
    NUMBER_LONG,
    NUMBER_SCIENTIFIC,
    PREFERRED_LONG,
    STAGE_VERSION,
    USED,
)
from imports.oneroster_users import PeopleStep, UserStep
from imports.pipeline import (
    MAX_ISSUE_VALUE,
    MAX_STORED_ISSUES,
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
from imports.values import parse_bool, parse_datetime, parse_identifier
from people.rules import (
    GUARDIAN,
    PERSON_NAME_MAX,
    ROLE_KINDS,
    SKIP,
    STAFF,
    STUDENT,
    STUDENT_NUMBER_MAX,
    email_certainly_valid_sql,
    email_is_valid,
    role_key,
    too_long_sql,
)

log = logging.getLogger(__name__)


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
        self._g_enabled: bool | None = None  # see oneroster_sql_guardians.guardians_enabled

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
                self._recall_reader_facts(table, meta.get("reader"))
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
        meta = {
            "version": STAGE_VERSION,
            "fingerprint": fingerprint,
            "rows": rows,
            "how": how,
            "reader": self._reader_facts(table, how),
        }
        if how == "copy":
            table.blank_rows = self.blank_rows_found
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
                       ELSE {too_long_sql("r.sid", max_length=255)} END"""

    # -- people (imports.oneroster_sql_people) -------------------------------------------

    _people_issues = oneroster_sql_people.people_issues
    _student_number_issues = oneroster_sql_people.student_number_issues
    _counted_so_far = oneroster_sql_people.counted_so_far
    _people = oneroster_sql_people.people
    _shared_number_issues = oneroster_sql_people.shared_number_issues
    _missing_sql = oneroster_sql_people.missing_sql
    _listed_sql = oneroster_sql_people.listed_sql
    _people_finish = oneroster_sql_people.people_finish

    # -- guardians (imports.oneroster_sql_guardians) ---------------------------------------

    _guardians_enabled = oneroster_sql_guardians.guardians_enabled
    _guardian_parse_issues = oneroster_sql_guardians.guardian_parse_issues
    _guardians = oneroster_sql_guardians.guardians
    _guardian_plan_issues = oneroster_sql_guardians.guardian_plan_issues
    _agent_warnings = oneroster_sql_guardians.agent_warnings

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
