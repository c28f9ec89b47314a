"""The people half of the set-based users.csv step (``imports.oneroster_sql.SetBasedUsersStep``):
the people rows' issues, the plan against ``people_person``, its apply (through ``people.bulk``)
and the bulk deactivation. Each function is a method of the step (assigned in its class body)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from core.scoping import HIDDEN_PERSON, VIEW, scope_for
from custody.rules import leaver_still_holds_sql
from custody.selectors import open_holdings_sql
from imports.messages import Msg, say, sql_say
from imports.oneroster import (
    BULK,
)
from imports.oneroster_sql_codes import (
    BAD_ROLE,
    BAD_STATUS,
    FAMILY_EMPTY,
    FAMILY_LONG,
    GIVEN_EMPTY,
    GIVEN_LONG,
    NO_ROLE,
    NO_SITE,
    NUMBER_SCIENTIFIC,
    PREFERRED_LONG,
)
from imports.pipeline import (
    CREATED,
    DEACTIVATED,
    REACTIVATED,
    REJECTED,
    SKIPPED,
    UPDATED,
    FileError,
)
from people import bulk as people_bulk
from people.models import Person
from people.rules import (
    EMAIL_INVALID,
    PERSON_NAME_MAX,
    ROLE_LIST,
    SKIP,
    STAFF,
    STUDENT,
    STUDENT_NUMBER_MAX,
    number_owner_text_sql,
    number_taken_by_sql,
    number_taken_reason_sql,
    roster_outcome_sql,
    shared_number_reason_sql,
    sql_text,
    status_when_listed_sql,
    text_problem_sql,
)
from sites.models import Site

if TYPE_CHECKING:
    from imports.oneroster_sql import SetBasedUsersStep


def people_issues(step: SetBasedUsersStep) -> None:
    """Duplicates, then every people row's issues in file order."""
    h = step._h
    step._dup_issues("P", 1)
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
    step.sql.run(
        f"""
        INSERT INTO import_oneroster_issues
        SELECT 2, r.line, x.sub, 0, 0, x.severity, r.line, x.col, x.val, x.reason, x.key
        FROM {step.t_rows} r CROSS JOIN LATERAL (
          SELECT 0 AS sub, 'error' AS severity, %(sid)s AS col, r.sid AS val, {step._key_issue_sql()} AS reason,
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
    step._student_number_issues()


def student_number_issues(step: SetBasedUsersStep) -> None:
    """Warnings on students whose number another active person already has (as
    ``PeopleStep._warn_numbers_taken``: planned a batch of items at a time, so after the
    issues of the batch's last row, the last batch's after every row's)."""
    sql, stage = step.sql, step.sql.stage
    t_rows = step.t_rows
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
        {"everyone": step.mode == BULK and step.importer.deactivate_missing},
    )
    if not found:
        return
    actor = step.importer.actor
    sites = None if actor is None else scope_for(actor).site_ids(VIEW)
    size = step.people.batch_size
    items = (
        f"r.grp = 'P' AND r.key_code = 0 AND NOT r.dup AND r.err = 0 AND (r.st = 'tobedeleted' OR r.kind <> '{SKIP}')"
    )
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
            "ident": step._h("identifier"),
            "everywhere": sites is None,
            "sites": sorted(sites or ()),
        },
    )


def counted_so_far(step: SetBasedUsersStep, last_section: int = 5) -> tuple[int, int]:
    """(errors, warnings) found so far, in sections 1 (people duplicates) to ``last_section``."""
    errors, warnings = step.sql.one(
        "SELECT count(*) FILTER (WHERE severity = 'error'), count(*) FILTER (WHERE severity = 'warning') "
        "FROM import_oneroster_issues WHERE s1 <= %s",
        [last_section],
    )
    return int(errors), int(warnings)


# -- people -------------------------------------------------------------------------


def people(step: SetBasedUsersStep, rows: int) -> None:
    """Plan (and at commit apply) the people rows, then the bulk deactivation."""
    importer, sql, report = step.importer, step.sql, step.report
    t_rows = step.t_rows
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
    if step.mode == BULK and importer.deactivate_missing and rows:
        (missing,) = sql.one(f"SELECT count(*) FROM {Person._meta.db_table} p WHERE {step._missing_sql()}")
    leaver_issues(step, plan)  # before the apply: the plan's people as they are now
    now = timezone.now()
    if importer.applying:
        people_bulk.people_apply_plan(
            sql=sql, plan=plan, created=int(outcomes.get(CREATED, 0)), now=now,
            actor=importer.actor, run_id=importer.run.pk,
        )  # fmt: skip
    step._shared_number_issues()
    step._people_finish(rows, now, int(missing))


def leaver_issues(step: SetBasedUsersStep, plan: str) -> None:
    """A warning per person of the plan the file makes inactive or moves to another school who
    still holds devices (as ``PeopleStep._warn_leavers_holding``: the row's line, sourcedId
    column and key; after a batch's taken-number warnings, the batch's people ordered by their
    first tag as ``custody.selectors.open_holdings_by_person`` gives them)."""
    size = step.people.batch_size
    person, site = Person._meta.db_table, Site._meta.db_table
    what = (
        f"CASE WHEN pl.outcome = '{DEACTIVATED}' THEN 'made inactive' "
        f"ELSE 'moves to ' || coalesce(s.name, 'another school') END"
    )
    step.sql.run(
        f"""
        WITH i AS (SELECT line, row_number() OVER (ORDER BY line) - 1 AS n FROM {plan}),
             e AS (SELECT n / {size} AS batch, line FROM i WHERE n %% {size} = {size - 1}),
             l AS (
               SELECT pl.line, pl.sid, i.n / {size} AS batch, h.tags, {what} AS what
               FROM {plan} pl
               JOIN i ON i.line = pl.line
               JOIN {person} p ON p.id = pl.pk
               LEFT JOIN {site} s ON s.id = pl.site_id
               CROSS JOIN LATERAL (SELECT {open_holdings_sql("pl.pk")} AS tags) h
               WHERE h.tags IS NOT NULL
                 AND (pl.outcome = '{DEACTIVATED}'
                      OR (pl.outcome IN ('{UPDATED}', '{REACTIVATED}') AND p.home_site_id IS DISTINCT FROM pl.site_id))
             )
        INSERT INTO import_oneroster_issues
        SELECT 2, coalesce(e.line, 2147483647), 1500,
               row_number() OVER (PARTITION BY l.batch ORDER BY l.tags[1], l.line), 0, 'warning', l.line, %(sid)s,
               l.sid, {leaver_still_holds_sql(what="l.what", tags="l.tags")}, l.sid
        FROM l LEFT JOIN e ON e.batch = l.batch
        """,
        {"sid": step._h("sourcedId")},
    )


def unlisted_leaver_issues(step: SetBasedUsersStep) -> None:
    """A warning per person a bulk file makes inactive by not listing them who still holds
    devices, naming them as ``core.scoping.person_label_for`` does (as ``PeopleStep.finish``:
    after the shared-number warnings; the people taken 5,000 at a time by id, each lot
    ordered by first tag)."""
    actor = step.importer.actor
    sites = None if actor is None else scope_for(actor).site_ids(VIEW)
    person = Person._meta.db_table
    label = (
        "btrim(coalesce(nullif(p.preferred_name, ''), p.given_name) || ' ' || p.family_name)"
        " || CASE WHEN p.student_number <> '' THEN ' #' || p.student_number ELSE '' END"
    )
    shown = (
        f"CASE WHEN %(everywhere)s OR p.home_site_id IS NULL OR p.home_site_id = ANY(%(sites)s) "
        f"THEN {label} ELSE {sql_text(HIDDEN_PERSON)} END"
    )
    step.sql.run(
        f"""
        WITH m AS (SELECT p.id, (row_number() OVER (ORDER BY p.id) - 1) / 5000 AS lot
                   FROM {person} p WHERE {step._missing_sql()}),
             l AS (SELECT m.lot, p.id, h.tags, {shown} AS who
                   FROM m JOIN {person} p ON p.id = m.id
                   CROSS JOIN LATERAL (SELECT {open_holdings_sql("m.id")} AS tags) h
                   WHERE h.tags IS NOT NULL)
        INSERT INTO import_oneroster_issues
        SELECT 2, 2147483647, 3000, row_number() OVER (ORDER BY l.lot, l.tags[1], l.id), 0, 'warning', NULL, '',
               l.who, {leaver_still_holds_sql(what="'not in the file, made inactive'", tags="l.tags")}, ''
        FROM l
        """,
        {"everywhere": sites is None, "sites": sorted(sites or ())},
    )


def shared_number_issues(step: SetBasedUsersStep) -> None:
    """Warnings on the students whose number other students' rows have (as
    ``PeopleStep._warn_shared_numbers``: after every row's issues, before the guardians')."""
    sql, nums = step.sql, step.sql.table("nums")
    student = (
        f"r.grp = 'P' AND r.key_code = 0 AND NOT r.dup AND r.err = 0 AND r.st = 'active' "
        f"AND r.kind = '{STUDENT}' AND r.ident <> ''"
    )
    sql.run(f"DROP TABLE IF EXISTS {nums}")
    sql.run(
        f"""
        CREATE UNLOGGED TABLE {nums} AS
        SELECT r.ident, array_agg(r.line ORDER BY r.line) AS lines FROM {step.t_rows} r WHERE {student}
        GROUP BY r.ident HAVING count(*) > 1
        """
    )
    sql.run(
        f"""
        INSERT INTO import_oneroster_issues
        SELECT 2, 2147483647, 2000, r.line, 0, 'warning', r.line, %(ident)s, r.ident,
               {shared_number_reason_sql("r.ident", "n.lines")},
               r.sid
        FROM {step.t_rows} r JOIN {nums} n ON n.ident = r.ident
        WHERE {student}
        """,
        {"ident": step._h("identifier")},
    )


def missing_sql(step: SetBasedUsersStep) -> str:
    """WHERE clause (over people ``p``) of the active people with a sourcedId the file lacks."""
    return people_bulk.people_unlisted_sql(step._listed_sql())


def listed_sql(step: SetBasedUsersStep) -> str:
    """Boolean SQL over people ``p``: the file has a people row with their sourcedId."""
    return f"EXISTS (SELECT 1 FROM {step.sql.stage} r WHERE r.grp = 'P' AND r.key_code = 0 AND r.sid = p.sourced_id)"


def people_finish(step: SetBasedUsersStep, rows: int, now: Any, missing: int) -> None:
    """The bad-date note, then (bulk) the people the file no longer lists."""
    sql, report = step.sql, step.report
    bad = sql.rows(
        f"SELECT count(*) OVER (), line, dlm FROM {step.sql.stage} "
        f"WHERE grp = 'P' AND key_code = 0 AND NOT dup AND date_bad ORDER BY line LIMIT 1"
    )
    if bad:
        n, line, raw = bad[0]
        report.note(say(Msg.ROSTER_BAD_DATES, file=step.file, n=n, line=line, raw=raw[:40]))
    if step.mode != BULK or not step.importer.deactivate_missing:
        return
    if not rows:
        raise FileError(step.file, say(Msg.ROSTER_BULK_EMPTY))
    step.importer.guard_people(missing)  # FileError at an unconfirmed commit (as the Python path)
    if missing:
        unlisted_leaver_issues(step)
    if step.importer.applying and missing:
        people_bulk.people_deactivate_unlisted(
            sql=sql,
            listed=step._listed_sql(),
            now=now,
            actor=step.importer.actor,
            run_id=step.importer.run.pk,
            expected=int(missing),
        )
    if missing:
        report.count("people", DEACTIVATED, int(missing))
