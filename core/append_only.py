"""The append-only base: one mechanism for every log whose rows are written once and never
changed (the device event log, the change log, the fee ledger to come).

Two layers (issue #7, "An audit trail for every change"):

* **In the ORM**: :class:`AppendOnlyModel` refuses ``save()`` of an existing row and
  ``delete()``; :class:`AppendOnlyQuerySetMixin` refuses queryset ``update()`` (and so
  ``bulk_update()``) and ``delete()``. Each raises :class:`AppendOnlyError`.
* **In the database**: the migration operation :class:`AppendOnlyTriggers` creates triggers
  that refuse ``UPDATE`` and ``DELETE`` of the table's rows on PostgreSQL (one plpgsql
  function, :data:`PG_FUNCTION`) and on SQLite — so raw SQL, another program or a forgotten
  code path cannot rewrite history either.

**Foreign keys that go to NULL.** A log keeps its rows readable after the actor (a staff user)
or the person it names is removed: those foreign keys are ``on_delete=SET_NULL``, which Django
performs as ``UPDATE <table> SET <fk> = NULL WHERE id IN (…)``. The triggers allow exactly
that — an update that changes nothing but setting the listed foreign key columns to NULL — and
refuse every other update. The labels stored as text beside the key keep the row readable.

**What is not refused.** ``TRUNCATE`` on PostgreSQL fires no row trigger (it needs the table's
owner, who could drop the triggers anyway); pytest-django flushes PostgreSQL test databases
with it between transactional tests. SQLite has no ``TRUNCATE``: Django's flush runs ``DELETE
FROM``, which the trigger refuses unless a table named :data:`FLUSH_MARKER` exists in the main
schema. Only the tests' flush shim (``conftest.py``) creates it, inside the flush's own
transaction, and drops it after; a production database never has it. (A trigger of the main
schema cannot read ``sqlite_temp_master``, so the marker cannot be a TEMP table.)

**SQLite rebuilds tables.** Many ``ALTER TABLE`` changes on SQLite copy the table into a new
one, which drops its triggers; a migration that alters an append-only model must run
:class:`AppendOnlyTriggers` again afterwards (``core/tests/test_append_only.py`` fails when a
table of an :class:`AppendOnlyModel` lacks its triggers). The SQLite update trigger also names
the table's columns, so a new column needs the operation run again as well. On PostgreSQL the
trigger compares whole rows and needs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

#: The table whose presence lets SQLite's flush of a test database delete log rows.
FLUSH_MARKER = "ledger_append_only_flush"

#: The plpgsql function every append-only trigger on PostgreSQL calls.
PG_FUNCTION = "ledger_append_only_refuse"


class AppendOnlyError(TypeError):
    """Raised by the ORM guard when code tries to change or delete a log row."""


class AppendOnlyQuerySetMixin:
    """Mix into a model's queryset (before ``models.QuerySet`` or a subclass of it): bulk
    ``update()`` and ``delete()`` raise :class:`AppendOnlyError`."""

    model: Any

    def _refuse(self) -> AppendOnlyError:
        return AppendOnlyError(getattr(self.model, "append_only_message", "This log is append-only."))

    def update(self, **kwargs: Any) -> int:
        raise self._refuse()

    def delete(self) -> Any:
        raise self._refuse()


class AppendOnlyQuerySet(AppendOnlyQuerySetMixin, models.QuerySet):
    """A plain append-only queryset, for logs that need no scoping."""


class AppendOnlyModel(models.Model):
    """Abstract base of a log: rows are inserted once, never saved again, never deleted.

    Subclasses set :attr:`append_only_message` (the error text), give their manager an
    :class:`AppendOnlyQuerySetMixin` queryset and add :class:`AppendOnlyTriggers` to the
    migration that creates their table, naming their ``SET_NULL`` foreign keys.
    """

    append_only_message: ClassVar[str] = "This log is append-only."

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: a row that exists already cannot be changed."""
        if not self._state.adding and not kwargs.get("force_insert"):
            raise AppendOnlyError(self.append_only_message)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(self.append_only_message)


# --- database triggers --------------------------------------------------------------------

_PG_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
-- Refuse UPDATE and DELETE of an append-only table's rows. The trigger's arguments name the
-- foreign key columns that may go to NULL (ON DELETE SET NULL of the row they point to); an
-- update changing nothing else is allowed. See core/append_only.py.
DECLARE
    old_row jsonb;
    new_row jsonb;
    fk text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% is append-only: DELETE refused', TG_TABLE_NAME USING ERRCODE = '23000';
    END IF;
    old_row := to_jsonb(OLD);
    new_row := to_jsonb(NEW);
    FOR i IN 0 .. TG_NARGS - 1 LOOP
        fk := TG_ARGV[i];
        IF new_row -> fk <> 'null'::jsonb AND new_row -> fk IS DISTINCT FROM old_row -> fk THEN
            RAISE EXCEPTION '% is append-only: % may only be set to NULL', TG_TABLE_NAME, fk
                USING ERRCODE = '23000';
        END IF;
        old_row := old_row - fk;
        new_row := new_row - fk;
    END LOOP;
    IF old_row IS DISTINCT FROM new_row THEN
        RAISE EXCEPTION '% is append-only: UPDATE refused', TG_TABLE_NAME USING ERRCODE = '23000';
    END IF;
    RETURN NEW;
END
$$;
"""


def _names(table: str) -> dict[str, str]:
    return {
        "pg": f"{table}_append_only",
        "delete": f"{table}_append_only_delete",
        "update": f"{table}_append_only_update",
        "fk": f"{table}_append_only_fk",
    }


def append_only_trigger_sql(
    *, connection: BaseDatabaseWrapper, table: str, columns: Sequence[str], nullable_fk_columns: Sequence[str]
) -> list[str]:
    """The statements that make ``table`` refuse UPDATE and DELETE on ``connection``'s
    database (PostgreSQL or SQLite; others raise ``NotImplementedError``).

    ``columns`` are all the table's columns (SQLite names them in its update trigger);
    ``nullable_fk_columns`` are the ``SET NULL`` foreign key columns an update may set to NULL.
    """
    q = connection.ops.quote_name
    names = _names(table)
    if connection.vendor == "postgresql":
        args = ", ".join("'" + c.replace("'", "''") + "'" for c in nullable_fk_columns)
        return [
            _PG_FUNCTION_SQL,
            f"DROP TRIGGER IF EXISTS {q(names['pg'])} ON {q(table)}",
            f"CREATE TRIGGER {q(names['pg'])} BEFORE UPDATE OR DELETE ON {q(table)} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}({args})",
        ]
    if connection.vendor == "sqlite":
        others = [c for c in columns if c not in nullable_fk_columns]
        statements = [*drop_append_only_trigger_sql(connection=connection, table=table)]
        statements.append(
            f"CREATE TRIGGER {q(names['delete'])} BEFORE DELETE ON {q(table)} "
            f"WHEN NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{FLUSH_MARKER}') "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END"
        )
        statements.append(
            f"CREATE TRIGGER {q(names['update'])} BEFORE UPDATE OF {', '.join(q(c) for c in others)} "
            f"ON {q(table)} BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END"
        )
        if nullable_fk_columns:
            moved = " OR ".join(
                f"(NEW.{q(c)} IS NOT NULL AND NEW.{q(c)} IS NOT OLD.{q(c)})" for c in nullable_fk_columns
            )
            statements.append(
                f"CREATE TRIGGER {q(names['fk'])} BEFORE UPDATE OF {', '.join(q(c) for c in nullable_fk_columns)} "
                f"ON {q(table)} WHEN {moved} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: a foreign key may only be set to NULL'); END"
            )
        return statements
    raise NotImplementedError(f"Append-only triggers are written for PostgreSQL and SQLite, not {connection.vendor}.")


def drop_append_only_trigger_sql(*, connection: BaseDatabaseWrapper, table: str) -> list[str]:
    """The statements that remove ``table``'s append-only triggers (the shared PostgreSQL
    function stays: other tables use it)."""
    q = connection.ops.quote_name
    names = _names(table)
    if connection.vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {q(names['pg'])} ON {q(table)}"]
    return [f"DROP TRIGGER IF EXISTS {q(names[k])}" for k in ("delete", "update", "fk")]


def append_only_triggers_present(*, connection: BaseDatabaseWrapper, table: str) -> bool:
    """True when ``table`` has its append-only triggers on ``connection``'s database."""
    names = _names(table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s AND NOT tgisinternal",
                [table, names["pg"]],
            )
            return cursor.fetchone()[0] == 1
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name IN (%s, %s)",
            [table, names["delete"], names["update"]],
        )
        return len(cursor.fetchall()) == 2


class AppendOnlyTriggers(Operation):
    """Migration operation: make a model's table refuse UPDATE and DELETE in the database.

    ``AppendOnlyTriggers("deviceevent", nullable_fks=["actor", "person"])`` after the
    operation that creates (or, on SQLite, last rebuilt) the table. ``nullable_fks`` name the
    model's ``on_delete=SET_NULL`` foreign keys: an update that only sets them to NULL passes.
    Reversible (the reverse drops the triggers). Changes no model state.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, nullable_fks: Sequence[str] = ()) -> None:
        self.model_name = model_name
        self.nullable_fks = list(nullable_fks)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [self.model_name], {"nullable_fks": self.nullable_fks})

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def _model(self, app_label: str, state: ProjectState) -> Any:
        return state.apps.get_model(app_label, self.model_name)

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = self._model(app_label, to_state)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        fk_columns = []
        for name in self.nullable_fks:
            field = model._meta.get_field(name)
            if not (field.many_to_one and field.null):
                raise ValueError(f"{model.__name__}.{name} is not a nullable foreign key.")
            fk_columns.append(field.column)
        columns = [f.column for f in model._meta.local_concrete_fields]
        for sql in append_only_trigger_sql(
            connection=schema_editor.connection,
            table=model._meta.db_table,
            columns=columns,
            nullable_fk_columns=fk_columns,
        ):
            schema_editor.execute(sql, params=None)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = self._model(app_label, from_state)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        for sql in drop_append_only_trigger_sql(connection=schema_editor.connection, table=model._meta.db_table):
            schema_editor.execute(sql, params=None)

    def describe(self) -> str:
        return f"Make {self.model_name} append-only in the database (refuse UPDATE and DELETE)"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_append_only"
