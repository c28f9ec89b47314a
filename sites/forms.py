"""District settings form."""

from __future__ import annotations

from zoneinfo import available_timezones

from django import forms

from sites.models import District


class DistrictForm(forms.ModelForm):
    """Edit the district's name, time zone, ownership mode, fee collector and school-year start."""

    time_zone = forms.ChoiceField(choices=[(tz, tz) for tz in sorted(available_timezones())])

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
