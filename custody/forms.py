"""Check-out and check-in forms, built for USB barcode scanners (a scan types the code and Enter)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django import forms

from core.forms import IdChoiceField, ScopedFormMixin
from core.scoping import VIEW
from core.types import Actor
from custody import rules
from custody.models import Assignment
from people.models import Person


def new_submission_key() -> str:
    """A one-time key per rendered form, so a re-submitted form does nothing twice."""
    return uuid.uuid4().hex


class CheckOutForm(ScopedFormMixin, forms.Form):
    """One scan: a device's asset tag or serial to check out to the chosen person."""

    person = IdChoiceField(queryset=Person.objects.none(), widget=forms.HiddenInput, label="Person")
    code = forms.CharField(label="Scan or type an asset tag or serial number", max_length=200)
    due_on = forms.DateField(label="Due date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    condition = forms.ChoiceField(label="Condition out", choices=Assignment.Condition.choices, initial="good")
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_choice("person").queryset = Person.objects.visible_to(user, VIEW)
        self.fields["person"].error_messages["invalid_choice"] = "That person is not at your sites."
        self.fields["code"].widget.attrs.update(
            {"autofocus": True, "autocomplete": "off", "data-scan": "1", "enterkeyhint": "go"}
        )


class CheckInForm(forms.Form):
    """One scan: a device's asset tag or serial to check in, with its condition."""

    code = forms.CharField(label="Scan or type an asset tag or serial number", max_length=200)
    condition = forms.ChoiceField(label="Condition in", choices=Assignment.Condition.choices, initial="good")
    notes = forms.CharField(required=False, max_length=1000)
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            {"autofocus": True, "autocomplete": "off", "data-scan": "1", "enterkeyhint": "go"}
        )


class BulkForm(forms.Form):
    """Many items at once: one per line. ``due_on`` (check-out only; blank: no due date) is
    judged by ``custody.rules.due_date_refusal`` before any line runs."""

    lines = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=200_000)
    condition = forms.ChoiceField(choices=Assignment.Condition.choices, initial="good")
    due_on = forms.DateField(label="Due date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    MAX_LINES = 2000

    def clean_due_on(self) -> datetime.date | None:
        """The due date every line's check-out gets (``None``: none), refused when in the past
        or too far ahead (``custody.rules.due_date_refusal``, the district's today)."""
        due_on: datetime.date | None = self.cleaned_data.get("due_on")
        words = rules.due_date_refusal(due_on=due_on, today=rules.district_today()) if due_on else None
        if words is not None:
            raise forms.ValidationError(words)
        return due_on

    def clean_lines(self) -> list[str]:
        """Non-blank lines, at most :data:`MAX_LINES`."""
        lines = [line.strip() for line in self.cleaned_data["lines"].splitlines() if line.strip()]
        if not lines:
            raise forms.ValidationError("Enter at least one line.")
        if len(lines) > self.MAX_LINES:
            raise forms.ValidationError(f"At most {self.MAX_LINES} lines at once; this has {len(lines)}.")
        return lines
