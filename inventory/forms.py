"""Device forms. Every choice list comes through the scoping gate (one addition: the owner site a
device already has, on the edit form of a device the user may change)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.forms import IdChoiceField, ScopedFormMixin
from core.scoping import CHANGE, VIEW, scope_for
from core.types import Actor
from inventory import rules
from inventory.models import Device, DeviceModel
from sites.models import Location, Site


class DeviceForm(ScopedFormMixin, forms.ModelForm):
    """Add or edit a device's details. Status, custody and current site change through actions."""

    purchase_cost = forms.DecimalField(
        label="Purchase cost (USD)", required=False, min_value=Decimal(0), max_digits=10, decimal_places=2
    )

    class Meta:
        model = Device
        fields = [
            "asset_tag",
            "serial_number",
            "model",
            "owner_site",
            "purchase_date",
            "purchase_cost",
            "purchase_order",
            "vendor",
            "funding_source",
            "warranty_end",
            "wifi_mac",
            "google_device_id",
            "notes",
        ]
        field_classes = {"model": IdChoiceField, "owner_site": IdChoiceField}
        widgets = {
            "purchase_date": forms.DateInput(attrs={"type": "date"}),
            "warranty_end": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.updated_at.isoformat()
        self.model_choice("model").queryset = DeviceModel.objects.visible_to(user, VIEW).select_related("manufacturer")
        self.model_choice("owner_site").queryset = self.owner_site_choices(
            user=user, current_id=self.instance.owner_site_id
        )
        self.fields["asset_tag"].widget.attrs.update({"autofocus": True, "autocomplete": "off"})

    @staticmethod
    def owner_site_choices(*, user: Actor, current_id: int | None) -> QuerySet[Site]:
        """The owner sites ``user`` may pick: the active sites where they may change devices,
        and the device's current owner site (``current_id``, ``None`` for a new device) even
        outside them, shown by name, so editing a device another school owns (one at the user's
        site in a centralized district) keeps its owner. Handing a device to a site outside
        the user's scope stays refused ("Select a valid choice")."""
        own = Site.objects.visible_to(user, CHANGE).filter(active=True)
        if current_id is None:
            return own
        return Site.objects.filter(Q(pk__in=own.values("pk")) | Q(pk=current_id))

    def clean_wifi_mac(self) -> str:
        """A MAC address by :func:`inventory.rules.mac_normalize`; stored as ``AA:BB:CC:DD:EE:FF``."""
        mac = rules.mac_normalize(self.cleaned_data.get("wifi_mac", ""))
        if mac is None:
            raise forms.ValidationError(f"{rules.MAC_INVALID[0].upper()}{rules.MAC_INVALID[1:]}.")
        return mac

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # The request runs in the district's time zone (core.middleware), so this is its today.
        problems = rules.date_problems(
            purchase_date=data.get("purchase_date"), warranty_end=data.get("warranty_end"), today=timezone.localdate()
        )
        for name, problem in problems:
            label = str(self.fields[name].label or name.replace("_", " "))
            self.add_error(name, f"The {label.lower()} {problem}.")
        return data


class TransferForm(ScopedFormMixin, forms.Form):
    """Send a device to another site."""

    site = IdChoiceField(queryset=Site.objects.none(), label="To site")
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Destinations are every active site (name and code only): a technician sends devices
        # to the warehouse, a repair depot or another school. This is the one list not cut by
        # the gate; see docs/architecture.md. Only users who may change devices get it.
        can_change = scope_for(user).allows(CHANGE)
        self.model_choice("site").queryset = Site.objects.filter(active=True) if can_change else Site.objects.none()


class MoveForm(ScopedFormMixin, forms.Form):
    """Put a device in a room, cart or shelf at its site."""

    location = IdChoiceField(queryset=Location.objects.none(), required=False, empty_label="(no location)")
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args: Any, user: Actor, device: Device, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_choice("location").queryset = Location.objects.visible_to(user, VIEW).filter(
            site_id=device.current_site_id, active=True
        )


class StatusForm(forms.Form):
    """Mark lost / stolen / found, loaner pool in or out, retire."""

    ACTIONS = [
        ("", "— choose —"),
        ("repair", "Send to repair"),
        ("repaired", "Back from repair"),
        ("lost", "Mark lost"),
        ("stolen", "Mark stolen"),
        ("found", "Mark found"),
        ("loaner_in", "Add to loaner pool"),
        ("loaner_out", "Take out of loaner pool"),
        ("retire", "Retire"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    note = forms.CharField(required=False, max_length=1000, help_text="E.g. the police report number for a theft.")


class BundleForm(forms.Form):
    """Bundle an accessory with this device, by asset tag (scan it)."""

    accessory_tag = forms.CharField(label="Accessory asset tag", max_length=200)
