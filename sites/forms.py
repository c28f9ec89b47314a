"""District settings form."""

from __future__ import annotations

from zoneinfo import available_timezones

from django import forms

from sites.models import District


class DistrictForm(forms.ModelForm):
    """Edit the district's name, time zone, ownership mode, fee collector and school-year start."""

    time_zone = forms.ChoiceField(choices=[(tz, tz) for tz in sorted(available_timezones())])
    # The model's fields are PositiveSmallIntegerFields, whose form fields allow 0 (so -1 said
    # "≥ 0" and 0 "≥ 1"): the form states the model's range once, one message a field.
    school_year_start_month = forms.IntegerField(label="School year start month", min_value=1, max_value=12)
    school_year_start_day = forms.IntegerField(label="School year start day", min_value=1, max_value=31)

    class Meta:
        model = District
        fields = [
            "name",
            "time_zone",
            "ownership_mode",
            "fee_collector",
            "school_year_start_month",
            "school_year_start_day",
        ]
