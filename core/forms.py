"""Form fields shared by every app."""

from __future__ import annotations

from typing import Any

from django import forms

#: The largest id a 64-bit database column holds; larger numbers are not ids.
MAX_ID = 2**63 - 1


def parse_id(value: Any) -> int | None:
    """An id from a query string or form: a positive 64-bit integer, else ``None``."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


class ScopedFormMixin:
    """Typed access to a form's model choice fields, whose querysets come from the gate."""

    fields: dict[str, forms.Field]

    def model_choice(self, name: str) -> forms.ModelChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ModelChoiceField)
        return field


class IdChoiceField(forms.ModelChoiceField):
    """A ``ModelChoiceField`` that turns ids no database can hold into "not a valid choice"
    (SQLite raises OverflowError for them, which would otherwise be a 500)."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if parse_id(value) is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)
