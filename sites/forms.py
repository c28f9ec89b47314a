"""District settings form and the site page's location form."""

from __future__ import annotations

import calendar
from typing import Any
from zoneinfo import available_timezones

from django import forms

from sites.models import District, Location

#: Zone-name prefixes that are legacy aliases or system files, not places a district is in.
_ALIAS_PREFIXES = ("Etc/", "US/", "SystemV/", "posix/", "right/", "Canada/", "Mexico/", "Brazil/", "Chile/")


#: The zones a US school district is in, east to west, with the words people use for them;
#: offered first (issue #8: "time zones with the district's likely ones first").
US_TIME_ZONES: list[tuple[str, str]] = [
    ("America/New_York", "Eastern"),
    ("America/Chicago", "Central"),
    ("America/Denver", "Mountain"),
    ("America/Phoenix", "Mountain, no daylight saving (Arizona)"),
    ("America/Los_Angeles", "Pacific"),
    ("America/Anchorage", "Alaska"),
    ("Pacific/Honolulu", "Hawaii"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico, U.S. Virgin Islands)"),
    ("Pacific/Guam", "Chamorro (Guam, Northern Mariana Islands)"),
    ("Pacific/Pago_Pago", "Samoa (American Samoa)"),
]

#: Month names for the settings' month selects, ``(1, "January")`` … ``(12, "December")``.
MONTH_CHOICES: list[tuple[int, str]] = [(m, calendar.month_name[m]) for m in range(1, 13)]

ChoiceList = list[tuple[Any, Any]]


def time_zone_choices(current: str = "") -> ChoiceList:
    """Grouped choices for the settings form: the US zones first (:data:`US_TIME_ZONES`, as
    "Central — America/Chicago"), then every other canonical IANA zone (``Region/City``) and
    UTC, sorted. The district's ``current`` zone is kept even when it is an alias, so saving
    other settings never fails on it."""
    zones = {tz for tz in available_timezones() if "/" in tz and not tz.startswith(_ALIAS_PREFIXES)} | {"UTC"}
    if current:
        zones.add(current)
    us = [(tz, f"{words} — {tz}") for tz, words in US_TIME_ZONES if tz in zones]
    first = {tz for tz, _ in us}
    return [("United States", us), ("All time zones", [(tz, tz) for tz in sorted(zones - first)])]


class DistrictForm(forms.ModelForm):
    """Edit the district's name, time zone, ownership mode, fee collector, school-year start,
    scanner prefix/suffix, second-device policy and default due date."""

    time_zone = forms.ChoiceField(choices=time_zone_choices)
    # The model's fields are PositiveSmallIntegerFields, whose form fields allow 0 (so -1 said
    # "≥ 0" and 0 "≥ 1"): the form states the model's range once, one message a field.
    school_year_start_month = forms.TypedChoiceField(label="School year start month", choices=MONTH_CHOICES, coerce=int)
    school_year_start_day = forms.IntegerField(label="School year start day", min_value=1, max_value=31)
    default_due_month = forms.TypedChoiceField(
        label="Default due date: month",
        choices=[("", "No default due date"), *MONTH_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=District._meta.get_field("default_due_month").help_text,
    )
    default_due_day = forms.IntegerField(label="Default due date: day", min_value=1, max_value=31, required=False)
    # Not sent (a form from before the setting existed, a script): the district's current policy.
    second_device_policy = forms.ChoiceField(
        label="Second device of the same category",
        choices=District.SecondDevicePolicy.choices,
        required=False,
        help_text=District._meta.get_field("second_device_policy").help_text,
    )

    def clean_second_device_policy(self) -> str:
        """The chosen policy; the district's current one when the field was not sent."""
        return self.cleaned_data.get("second_device_policy") or self.instance.second_device_policy

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
        widgets = {"name": forms.TextInput(attrs={"size": 60, "class": "full"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.time_zone if self.instance and self.instance.pk else ""
        self.fields["time_zone"].choices = time_zone_choices(current)  # type: ignore[attr-defined]


class LocationForm(forms.Form):
    """A location's name and kind (add and rename on the site page); the length is the model's."""

    name = forms.CharField(max_length=Location._meta.get_field("name").max_length)
    kind = forms.ChoiceField(choices=Location.Kind.choices, initial=Location.Kind.ROOM)
