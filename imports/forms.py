"""Forms of the import pages."""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import ScopedFormMixin
from core.scoping import ADMIN, CHANGE, scope_for
from core.types import Actor
from imports.models import ImportRun
from imports.pipeline import ImporterUnavailable, importer_class
from imports.selectors import import_kinds
from sites.models import Site


class _KindField(forms.ChoiceField):
    """The kinds offered; a kind the user may not run is hidden but still accepted here, so the
    upload is refused with the reason (403) rather than "not a valid choice"."""

    hidden: frozenset[str] = frozenset()

    def valid_value(self, value: Any) -> bool:
        return str(value) in self.hidden or super().valid_value(value)


#: What a CSV/XLSX row is: told from the headers, or chosen.
ENTITY_CHOICES = [("", "Tell from the headers"), ("devices", "Devices"), ("people", "People")]


#: Which importers read each option field (the page shows a field only for those kinds).
OPTION_KINDS: dict[str, tuple[str, ...]] = {
    "deactivate_missing": (ImportRun.Kind.ONEROSTER,),
    "date_order": (ImportRun.Kind.GOOGLE, ImportRun.Kind.SNIPEIT, ImportRun.Kind.CSV),
    "decimal_comma": (ImportRun.Kind.GOOGLE, ImportRun.Kind.SNIPEIT, ImportRun.Kind.CSV),
    "create_checkouts": (ImportRun.Kind.GOOGLE,),
    "match_people_by": (ImportRun.Kind.SNIPEIT,),
    "one_site": (ImportRun.Kind.SNIPEIT,),
    "without_custody": (ImportRun.Kind.SNIPEIT,),
    "entity": (ImportRun.Kind.CSV,),
    "source_name": (ImportRun.Kind.CSV,),
}


class ImportForm(ScopedFormMixin, forms.Form):
    """A new import: what it is, the file, the mode, the site it is limited to, and options.

    Options go to ``ImportRun.options``: only those the chosen importer reads
    (:meth:`imports.pipeline.Importer.option_names`): ``deactivate_missing`` (OneRoster),
    ``date_order`` and ``decimal_comma`` (device files), ``create_checkouts`` (Google),
    ``match_people_by``, ``one_site``, ``without_custody`` (Snipe-IT), ``entity`` and ``source`` (CSV/XLSX).
    """

    kind = _KindField(label="What are you importing?")
    file = forms.FileField(label="File (a zip of OneRoster CSV files, a CSV or an XLSX)")
    mode = forms.ChoiceField(
        choices=ImportRun.Mode.choices, initial=ImportRun.Mode.ALL_OR_NOTHING, widget=forms.RadioSelect
    )
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(),
        required=False,
        empty_label="Whole district",
        help_text="Rows for any other site are rejected. Site staff import for one of their sites.",
    )
    deactivate_missing = forms.BooleanField(
        required=False,
        initial=True,
        label="OneRoster: make people and schools missing from a bulk file inactive",
    )
    date_order = forms.ChoiceField(
        choices=[("MDY", "Month first (01/23/2024)"), ("DMY", "Day first (23/01/2024)")],
        initial="MDY",
        label="Dates written like 01/02/2024 are",
    )
    decimal_comma = forms.BooleanField(required=False, label="Amounts use a decimal comma (1.234,50)")
    create_checkouts = forms.BooleanField(
        required=False,
        label="Google Admin: check each device out to its annotated user (else its most recent user)",
        help_text="Off: users are kept as last-seen facts only.",
    )
    match_people_by = forms.ChoiceField(
        choices=[("email", "Email"), ("username", "Username"), ("student_number", "Student / employee number")],
        initial="email",
        required=False,
        label="Snipe-IT: match the people assets are checked out to by",
    )
    one_site = forms.BooleanField(
        required=False,
        label="Snipe-IT: put every asset at the site chosen above",
        help_text="Snipe-IT's Location is not read. Otherwise each location is a site's code or name, or is mapped "
        "to a site under Snipe-IT locations.",
    )
    without_custody = forms.BooleanField(
        required=False,
        label="Snipe-IT: import assets whose user matches nobody here, without custody",
        help_text="Off: such an asset is a row error, so no device is added without the check-out Snipe-IT records.",
    )
    entity = forms.ChoiceField(
        choices=ENTITY_CHOICES,
        required=False,
        label="CSV/XLSX: each row is",
    )
    source_name = forms.CharField(
        max_length=120,
        required=False,
        label="CSV/XLSX: where the file comes from",
        help_text="e.g. 'Lincoln spreadsheet': the column mapping you choose is remembered under this name.",
    )

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        admin = scope_for(user).is_district_admin
        kind_field, entity_field = self.fields["kind"], self.fields["entity"]
        assert isinstance(kind_field, _KindField) and isinstance(entity_field, forms.ChoiceField)
        # People and sites imports are for district admins only: not offered to anybody else.
        allowed = [
            (kind, label, available) for kind, label, available in import_kinds() if admin or not _admin_only(kind)
        ]
        kind_field.choices = [
            (kind, label if available else f"{label} — not available yet") for kind, label, available in allowed
        ]
        kind_field.hidden = frozenset(kind for kind, _, _ in import_kinds()) - {kind for kind, _, _ in allowed}
        if not admin:
            entity_field.choices = [c for c in ENTITY_CHOICES if c[0] != "people"]
        site_field = self.model_choice("site")
        site_field.queryset = Site.objects.visible_to(user, CHANGE).filter(active=True).order_by("name")
        if not scope_for(user).allows_everywhere(CHANGE):
            # Site staff import for one of their sites: "Whole district" is not theirs to choose
            # (it was offered, pre-selected, and refused with a 403 after the file was chosen).
            site_field.empty_label = None
            site_field.required = True
            site_field.help_text = "Rows for any other site are rejected."
            first = site_field.queryset.first()
            if first is not None:
                self.initial.setdefault("site", first.pk)
        for name, kinds in OPTION_KINDS.items():
            # The page shows an option only while a kind that reads it is chosen (static/js/imports.js).
            self.fields[name].widget.attrs["data-kinds"] = " ".join(kinds)

    def options(self) -> dict[str, Any]:
        data = self.cleaned_data
        options: dict[str, Any] = {
            "deactivate_missing": bool(data.get("deactivate_missing")),
            "date_order": data.get("date_order") or "MDY",
            "decimal_comma": bool(data.get("decimal_comma")),
        }
        kind = data.get("kind")
        if kind == ImportRun.Kind.GOOGLE:
            options["create_checkouts"] = bool(data.get("create_checkouts"))
        elif kind == ImportRun.Kind.SNIPEIT:
            options["match_people_by"] = data.get("match_people_by") or "email"
            options["one_site"] = bool(data.get("one_site"))
            options["without_custody"] = bool(data.get("without_custody"))
        elif kind == ImportRun.Kind.CSV:
            if data.get("entity"):
                options["entity"] = data["entity"]
            if (data.get("source_name") or "").strip():
                options["source"] = data["source_name"].strip()
        try:
            known = importer_class(str(kind)).option_names()
        except ImporterUnavailable:
            return options
        return {name: value for name, value in options.items() if name in known}


def _admin_only(kind: str) -> bool:
    """True for kinds only district admins may run (sites and people)."""
    try:
        return importer_class(kind).district_admin_only
    except ImporterUnavailable:
        return False


class OrgUnitMappingForm(ScopedFormMixin, forms.Form):
    """One Google org unit path prefix → site."""

    path_prefix = forms.CharField(max_length=255, label="Org unit path (prefix)", help_text="e.g. /Students/Lincoln")
    site = forms.ModelChoiceField(queryset=Site.objects.none())

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_choice("site").queryset = Site.objects.visible_to(user, ADMIN).filter(active=True).order_by("name")


class LocationMappingForm(ScopedFormMixin, forms.Form):
    """One Snipe-IT location name → site."""

    name = forms.CharField(
        max_length=255, label="Snipe-IT location", help_text="As Snipe-IT writes it; case and spaces do not matter."
    )
    site = forms.ModelChoiceField(queryset=Site.objects.none())

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_choice("site").queryset = Site.objects.visible_to(user, ADMIN).filter(active=True).order_by("name")
