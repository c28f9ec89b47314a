"""District settings form."""

from __future__ import annotations

import calendar
from typing import Any
from zoneinfo import available_timezones

from django import forms

from sites.models import District

#: Zone-name prefixes that are legacy aliases or system files, not places a district is in.
_ALIAS_PREFIXES = ("Etc/", "US/", "SystemV/", "posix/", "right/", "Canada/", "Mexico/", "Brazil/", "Chile/")


def time_zone_choices(current: str = "") -> list[tuple[str, str]]:
    """Canonical IANA zones (``Region/City``) and UTC, sorted, for the settings form; the
    district's ``current`` zone is kept even when it is an alias, so saving other settings
    never fails on it."""
    zones = {tz for tz in available_timezones() if "/" in tz and not tz.startswith(_ALIAS_PREFIXES)} | {"UTC"}
    if current:
        zones.add(current)
    return [(tz, tz) for tz in sorted(zones)]


class DistrictForm(forms.ModelForm):
    """Edit the district's name, time zone, ownership mode, fee collector, school-year start,
    scanner prefix/suffix, second-device policy and default due date."""

    time_zone = forms.ChoiceField(choices=time_zone_choices)
    # The model's fields are PositiveSmallIntegerFields, whose form fields allow 0 (so -1 said
    # "≥ 0" and 0 "≥ 1"): the form states the model's range once, one message a field.
    school_year_start_month = forms.IntegerField(label="School year start month", min_value=1, max_value=12)
    school_year_start_day = forms.IntegerField(label="School year start day", min_value=1, max_value=31)
    default_due_month = forms.TypedChoiceField(
        label="Default due date: month",
        choices=[("", "No default due date"), *((m, calendar.month_name[m]) for m in range(1, 13))],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=District._meta.get_field("default_due_month").help_text,
    )
    default_due_day = forms.IntegerField(label="Default due date: day", min_value=1, max_value=31, required=False)

    class Meta:
        model = District
        fields = [
            "name",
            "time_zone",
            "ownership_mode",
            "fee_collector",
            "school_year_start_month",
            "school_year_start_day",
            "scanner_prefix",
            "scanner_suffix",
            "second_device_policy",
            "default_due_month",
            "default_due_day",
        ]
        widgets = {"name": forms.TextInput(attrs={"size": 60})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.time_zone if self.instance and self.instance.pk else ""
        self.fields["time_zone"].choices = time_zone_choices(current)  # type: ignore[attr-defined]
