"""Forms of the staff pages (``accounts/views.py``): a new login, its name and email, a role
to grant. The writes go through :mod:`accounts.services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator

from accounts import rules
from accounts.models import DISTRICT_ONLY_ROLES, SITE_ONLY_ROLES, StaffRole
from sites.models import Site

_USERNAME_MAX = get_user_model()._meta.get_field("username").max_length


def _role_field() -> forms.ChoiceField:
    """The role to grant; it starts on no role so the admin picks one (a hurried admin must not
    create a district admin because it was the first in the list)."""
    return forms.ChoiceField(
        choices=[("", "Choose a role…"), *StaffRole.Role.choices],
        error_messages={"required": "Choose a role."},
    )


def _site_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Site.objects.filter(active=True).order_by("name"),
        required=False,
        empty_label="No site (district-wide roles)",
        help_text="District admin and district technician are district-wide; site technician and principal "
        "are held at a site; an auditor may be either.",
    )


def _check_level(form: forms.Form, data: dict[str, Any]) -> None:
    """A role held at the wrong level is the site field's error, in the model's words (``StaffRole.clean``)."""
    role, site = data.get("role"), data.get("site")
    if role in DISTRICT_ONLY_ROLES and site is not None or role in SITE_ONLY_ROLES and site is None:
        try:
            StaffRole(role=role, site=site).clean()
        except forms.ValidationError as error:
            for message in error.message_dict.get("site", []):
                form.add_error("site", message)


class RoleForm(forms.Form):
    """A role to grant: district-wide (no site) or at one active site."""

    role = _role_field()
    site = _site_field()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_level(self, data)
        return data


class StaffUserForm(forms.Form):
    """A new staff login: username, name, email, a first role, and either an initial password
    (typed twice, Django's password rules) or none, in which case the page makes a set-password
    link to hand over (no email is sent)."""

    username = forms.CharField(
        max_length=_USERNAME_MAX,
        validators=[UnicodeUsernameValidator()],
        help_text="What the person types to log in, e.g. dwhitfield. Letters, digits and @ . + - _ only.",
    )
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    role = _role_field()
    site = _site_field()
    password1 = forms.CharField(
        label="Initial password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to get a set-password link to give the person instead (valid 3 days).",
    )
    password2 = forms.CharField(
        label="Initial password again",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        taken = get_user_model().objects.filter(username__iexact=username).exists()
        refusal = rules.username_refusal(username=username, taken=taken)
        if refusal:
            raise forms.ValidationError(refusal)
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_level(self, data)
        one, two = data.get("password1") or "", data.get("password2") or ""
        if one or two:
            if one != two:
                self.add_error("password2", "The two passwords differ.")
            else:
                probe = get_user_model()(
                    username=data.get("username", ""),
                    first_name=data.get("first_name", ""),
                    last_name=data.get("last_name", ""),
                    email=data.get("email", ""),
                )
                try:
                    password_validation.validate_password(one, probe)
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return data


class StaffDetailsForm(forms.Form):
    """A login's name and email."""

    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)


class StaffFilterForm(forms.Form):
    """The staff list's search (name, username or email), role, site and active filters; bad
    values are ignored."""

    q = forms.CharField(required=False, label="Search")
    role = forms.ChoiceField(choices=[("", "Any role"), *StaffRole.Role.choices], required=False)
    site = forms.ModelChoiceField(queryset=Site.objects.order_by("name"), required=False, empty_label="Any site")
    status = forms.ChoiceField(
        choices=[("active", "Active"), ("inactive", "Deactivated"), ("all", "All")], required=False
    )
