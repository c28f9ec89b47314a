"""The set-based writes of ``core.bulk`` (``insert_rows``, ``update_rows``): values of
field types that need converting (dates, decimals, date-times, JSON) are converted, and None
is written as SQL NULL without a conversion, on both databases."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, models, transaction
from django.test.utils import isolate_apps

from core.bulk import PLAIN_FIELDS as _PLAIN_FIELDS
from core.bulk import insert_rows as _insert_rows
from core.bulk import update_rows as _update_rows

# A table of its own (no project model has a nullable JSON field); created and dropped here,
# so the test runs outside a transaction (SQLite's schema editor needs that).
pytestmark = pytest.mark.django_db(transaction=True)

WHEN = datetime.datetime(2024, 3, 5, 14, 30, 15, tzinfo=datetime.UTC)


@pytest.fixture
def model():  # type: ignore[no-untyped-def]
    with isolate_apps("imports"):

        class Values(models.Model):
            label = models.CharField(max_length=20)
            day = models.DateField(null=True)
            amount = models.DecimalField(max_digits=10, decimal_places=2, null=True)
            at = models.DateTimeField(null=True)
            data = models.JSONField(null=True)

            class Meta:
                app_label = "imports"
                db_table = "imports_test_bulk_values"

            def __str__(self) -> str:
                return self.label

        with connection.schema_editor() as editor:
            editor.create_model(Values)
        try:
            yield Values
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(Values)


CONVERTED = ("day", "amount", "at", "data")


@pytest.fixture
def conversions(model, monkeypatch):  # type: ignore[no-untyped-def]
    """The values each converted field was asked to prepare (``get_db_prep_save``)."""
    seen: dict[str, list[object]] = {name: [] for name in CONVERTED}
    for name in CONVERTED:
        field = model._meta.get_field(name)
        original = field.get_db_prep_save

        def spy(value, connection, name=name, original=original):  # type: ignore[no-untyped-def]
            seen[name].append(value)
            return original(value, connection)

        monkeypatch.setattr(field, "get_db_prep_save", spy)
    return seen


def _raw(model, label: str) -> tuple:  # type: ignore[no-untyped-def]
    """The row as the database has it: which columns are SQL NULL."""
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(name)} IS NULL" for name in CONVERTED)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {quote(model._meta.db_table)} WHERE label = %s", [label])
        return tuple(bool(v) for v in cursor.fetchone())


def test_none_is_written_as_null_without_a_conversion_and_values_are_converted(model, conversions):
    full = {"day": datetime.date(2024, 2, 29), "amount": Decimal("289.50"), "at": WHEN, "data": {"a": [1, "x", None]}}
    _insert_rows(model, [{"label": "empty", "day": None, "amount": None, "at": None, "data": None},
                         {"label": "full", **full}])  # fmt: skip
    assert _raw(model, "empty") == (True, True, True, True)  # SQL NULL, not JSON null
    assert _raw(model, "full") == (False, False, False, False)
    empty, row = model.objects.get(label="empty"), model.objects.get(label="full")
    assert (empty.day, empty.amount, empty.at, empty.data) == (None, None, None, None)
    assert model.objects.filter(data__isnull=True).count() == 1
    assert (row.day, row.amount, row.at, row.data) == (full["day"], full["amount"], full["at"], full["data"])
    assert model.objects.filter(data__a__1="x").count() == 1  # stored as JSON, not as text
    assert conversions == {name: [value] for name, value in full.items()}  # None never converted


def test_updates_write_null_and_converted_values_too(model, conversions):
    _insert_rows(model, [{"label": "a", "day": datetime.date(2024, 1, 1), "amount": Decimal("1.00"), "at": WHEN,
                          "data": {"k": 1}}, {"label": "b"}])  # fmt: skip
    a, b = model.objects.get(label="a"), model.objects.get(label="b")
    with transaction.atomic():  # as in the import services (PostgreSQL's temporary table lives till the commit)
        _update_rows(
            model,
            [{"pk": a.pk, "day": None, "amount": None, "at": None, "data": None},
             {"pk": b.pk, "day": datetime.date(2025, 6, 30), "amount": Decimal("0.05"), "at": WHEN, "data": [1, 2]}],
            list(CONVERTED),
        )  # fmt: skip
    assert _raw(model, "a") == (True, True, True, True)
    b.refresh_from_db()
    assert (b.day, b.amount, b.at, b.data) == (datetime.date(2025, 6, 30), Decimal("0.05"), WHEN, [1, 2])
    assert None not in [value for values in conversions.values() for value in values]


@pytest.mark.django_db
def test_every_converted_field_of_the_project_makes_none_null():
    """Why skipping the conversion of None changes nothing: ``get_db_prep_save(None)`` is None
    for every field type the bulk writes convert (a new field type that differs fails here)."""
    converted = [
        field
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if not field.primary_key and not isinstance(field, _PLAIN_FIELDS)
    ]
    assert {"DateField", "DateTimeField", "DecimalField", "JSONField"} <= {type(f).__name__ for f in converted}
    assert [f"{f.model.__name__}.{f.name}" for f in converted if f.get_db_prep_save(None, connection) is not None] == []
