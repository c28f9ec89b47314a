"""The guardian half of the set-based users.csv step (``imports.oneroster_sql.SetBasedUsersStep``):
the guardian rows' issues, their students, the plan against ``people_guardiancontact``, its apply
(through ``people.bulk``) and the removal of stale links. Each function is a method of the step
(assigned in its class body)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from imports.messages import Msg, sql_say
from imports.oneroster import (
    BULK,
    GUARDIAN_PHONE_MAX,
)
from imports.oneroster_sql_codes import (
    BAD_STATUS,
    CONTACT_FAMILY_LONG,
    CONTACT_GIVEN_LONG,
    GUARDIAN_BATCH,
)
from imports.pipeline import (
    CREATED,
    REJECTED,
    REMOVED,
    SKIPPED,
    UNCHANGED,
    UPDATED,
)
from imports.values import _STRIP
from people import bulk as people_bulk
from people.models import GuardianContact, Person
from people.rules import (
    EMAIL_INVALID,
    PERSON_NAME_MAX,
    STUDENT,
    guardian_link_stale_sql,
    text_problem_sql,
)

if TYPE_CHECKING:
    from imports.oneroster_sql import SetBasedUsersStep


# -- guardians ------------------------------------------------------------------------


def guardians_enabled(step: SetBasedUsersStep) -> bool:
    """As ``GuardianStep.enabled``: guardian rows, students naming guardians, or (bulk)
    contacts from earlier rosters to remove."""
    if getattr(step, "_g_enabled", None) is None:
        found = step.sql.one(
            f"SELECT EXISTS (SELECT 1 FROM {step.sql.stage} WHERE grp = 'G'), "
            f"EXISTS (SELECT 1 FROM {step.t_rows} WHERE grp = 'P' AND key_code = 0 AND NOT dup AND err = 0 "
            f"AND st = 'active' AND kind = '{STUDENT}' AND agents <> '' AND EXISTS (SELECT 1 FROM "
            f"unnest(string_to_array(agents, ',')) a(x) WHERE btrim(a.x, %(v)s) <> ''))",
            {"v": _STRIP},
        )
        enabled = bool(found[0] or found[1])
        if not enabled and step.mode == BULK and step.importer.deactivate_missing:
            enabled = GuardianContact.objects.exclude(sourced_id="").exists()
        step._g_enabled = enabled
    return bool(step._g_enabled)


def guardian_parse_issues(step: SetBasedUsersStep) -> None:
    """Guardian duplicates and the errors and warnings of guardian rows (sorted per batch later)."""
    h = step._h
    step._dup_issues("G", 3)
    given_problem = text_problem_sql("r.given", name="givenName", max_length=PERSON_NAME_MAX)
    family_problem = text_problem_sql("r.family", name="familyName", max_length=PERSON_NAME_MAX)
    step.sql.run(
        f"""
        INSERT INTO import_oneroster_issues
        SELECT 4, 0, 0, r.line, x.sub, x.severity, r.line, x.col, x.val, x.reason, x.key
        FROM {step.t_rows} r CROSS JOIN LATERAL (
          SELECT 0 AS sub, 'error' AS severity, %(sid)s AS col, r.sid AS val, {step._key_issue_sql()} AS reason,
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


def guardians(step: SetBasedUsersStep) -> None:
    """Guardian rows and the students naming guardians → contacts (plan, apply, bulk removal)."""
    importer, sql, report = step.importer, step.sql, step.report
    t_rows = step.t_rows
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
        "FALSE" if importer.applying else f"s.student IN (SELECT sid FROM {sql.stage} WHERE grp = 'P' AND key_code = 0)"
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
    step._guardian_plan_issues(live, plan)
    step._agent_warnings(links)
    (before,) = sql.one(f"SELECT coalesce(max(id), 0) FROM {contact}")
    if importer.applying:
        people_bulk.guardians_apply_plan(
            sql=sql, plan=plan, live=live, now=timezone.now(), actor=importer.actor, run_id=importer.run.pk
        )
    has_guardian_rows = sql.one(f"SELECT EXISTS (SELECT 1 FROM {sql.stage} WHERE grp = 'G')")[0]
    if step.mode == BULK and step.importer.deactivate_missing and has_guardian_rows:
        # As GuardianStep.finish: only students the file lists (not as tobedeleted) lose the
        # links their agents no longer have; a missing student keeps their guardians, a
        # guardian whose row was rejected keeps its links, a student still naming a guardian
        # without a row keeps it.
        # Only contacts older than this run's can be stale (the ones it made are wanted).
        # Every condition is AND-ed EXISTS / NOT EXISTS: hash semi- and anti-joins.
        stage = sql.stage
        rule = guardian_link_stale_sql(
            from_roster="c.sourced_id <> '' AND p.sourced_id <> ''",
            student_listed=f"EXISTS (SELECT 1 FROM {stage} k WHERE k.grp = 'P' AND k.key_code = 0 AND k.sid = p.sourced_id)",
            student_leaving=f"""EXISTS (SELECT 1 FROM {stage} d WHERE d.grp = 'P' AND d.key_code = 0 AND NOT d.dup
                                AND d.err0 = 0 AND d.st = 'tobedeleted' AND d.sid = p.sourced_id)""",
            guardian_unplanned=f"""EXISTS (SELECT 1 FROM {stage} k WHERE k.grp = 'G' AND k.key_code = 0
                                   AND k.sid = c.sourced_id
                                   AND NOT EXISTS (SELECT 1 FROM {live} g WHERE g.sid = k.sid AND NOT g.deleted))""",
            linked=[
                f"""EXISTS (SELECT 1 FROM {plan} x WHERE x.sid = c.sourced_id AND x.student = p.sourced_id
                            AND x.desired)""",
                f"EXISTS (SELECT 1 FROM {links} l WHERE l.agent = c.sourced_id AND l.student = p.sourced_id)",
            ],
        )  # people.rules.guardian_link_stale
        stale = f"""
            FROM {contact} c JOIN {person} p ON p.id = c.person_id
            WHERE c.id <= %(before)s AND {rule}
        """
        params = {"before": before}
        if not sql.one(f"SELECT EXISTS (SELECT 1 FROM {contact} WHERE sourced_id <> '' AND id <= %(before)s)", params)[
            0
        ]:
            removed = 0
        elif importer.applying:
            removed = people_bulk.guardians_remove(
                sql=sql, ids=f"SELECT c.id {stale}", params=params, actor=importer.actor, run_id=importer.run.pk
            )
        else:
            removed = int(sql.one(f"SELECT count(*) {stale}", params)[0])
        if removed:
            report.count("guardians", REMOVED, removed)


def guardian_plan_issues(step: SetBasedUsersStep, live: str, plan: str) -> None:
    """Warnings found while planning, and the batch (window) each guardian row's issues are in."""
    h = step._h
    sql = step.sql
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
              FROM (SELECT line, (key_code = 0 AND NOT dup AND err = 0) AS item FROM {step.t_rows}
                    WHERE grp = 'G' AND NOT dup) g
            ) w WHERE i.s1 = 4 AND i.line = w.line
            """
        )


def agent_warnings(step: SetBasedUsersStep, links: str) -> None:
    """Guardians named by students but not guardian rows of the file (first 1,000)."""
    step.sql.run(
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
          WHERE NOT EXISTS (SELECT 1 FROM {step.sql.stage} r WHERE r.grp = 'G' AND r.key_code = 0 AND NOT r.dup
                            AND r.sid = l.agent)
          GROUP BY agent
        ) a
        ORDER BY first_line, first_o
        LIMIT 1000
        """
    )
