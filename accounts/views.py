"""The staff pages: district admins list staff logins, create one, grant and revoke roles,
change a name or email, deactivate and reactivate, and make a set-password link (no email is
sent: the admin hands the link over). Every write goes through :mod:`accounts.services`
(logged); refusals (:mod:`accounts.rules`) come back as messages. Plus the public page where a
person sets their password from such a link.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy

from accounts import services
from accounts.forms import RoleForm, StaffDetailsForm, StaffFilterForm, StaffUserForm
from accounts.models import StaffRole
from core.changelog import change_log_for
from core.errors import DomainError
from core.scoping import ADMIN
from core.views import form_error_messages, ledger_view

STAFF_ACTIONS = ("grant", "revoke", "details", "deactivate", "reactivate", "password-link")


def _get_user_or_404(queryset: QuerySet[Any], pk: int) -> Any:
    """A login by id (users have no site: the pages are for district admins), 404 for a
    missing or out-of-range id."""
    try:
        return queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, OverflowError) as error:
        raise Http404("No such login.") from error


def _staff() -> QuerySet[Any]:
    roles = StaffRole.objects.select_related("site").order_by("role", "site__name")
    return (
        get_user_model()
        .objects.prefetch_related(Prefetch("staff_roles", queryset=roles))
        .order_by("last_name", "first_name", "username")
    )


@ledger_view(ADMIN)
def staff_list(request: HttpRequest) -> HttpResponse:
    """Every staff login with its roles (role at site), filtered by search, role, site and
    active/deactivated (active by default)."""
    form = StaffFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    users = _staff()
    status = data.get("status") or "active"
    if status != "all":
        users = users.filter(is_active=status == "active")
    if q := (data.get("q") or "").strip():
        for word in q.split():
            users = users.filter(
                Q(username__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
    if data.get("role"):
        users = users.filter(staff_roles__role=data["role"])
    if data.get("site"):
        users = users.filter(staff_roles__site=data["site"])
    users = users.distinct()
    return render(request, "accounts/staff_list.html", {"form": form, "users": users, "total": users.count()})


@ledger_view(ADMIN)
def staff_create(request: HttpRequest) -> HttpResponse:
    """A new login with a first role, and an initial password or a set-password link."""
    form = StaffUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.staff_user_create(
                username=data["username"],
                password=data["password1"] or None,
                roles=[(data["role"], data["site"])],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                actor=request.user,
            )
        except (DomainError, IntegrityError, ValueError) as error:
            form.add_error("username" if isinstance(error, IntegrityError) else None, _words(error))
        else:
            if data["password1"]:
                messages.success(request, f"{services.user_label(user)} can log in with the password you set.")
            else:
                messages.success(
                    request,
                    f"{services.user_label(user)} is created but cannot log in yet: give them the set-password "
                    "link below first.",
                )
                _link_message(request, user)
            return redirect("staff_detail", pk=user.pk)
    return render(request, "accounts/staff_form.html", {"form": form})


@ledger_view(ADMIN)
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One login: name, email, last log-in, roles (each with Revoke), a role to grant, the
    name/email form, Deactivate or Reactivate, a set-password link, and its history."""
    user = _get_user_or_404(_staff(), pk)
    return render(
        request,
        "accounts/staff_detail.html",
        {
            "staff": user,
            "label": services.user_label(user),
            "role_form": RoleForm(),
            "details_form": StaffDetailsForm(
                initial={"first_name": user.first_name, "last_name": user.last_name, "email": user.email}
            ),
            "is_self": user.pk == request.user.pk,
            "change_log": change_log_for(obj=user, user=request.user),
        },
    )


@ledger_view(ADMIN)
def staff_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """POST one change to a login (``grant``, ``revoke``, ``details``, ``deactivate``,
    ``reactivate``, ``password-link``); the result or the refusal comes back as a message on
    the login's page. Anything else is 404; GET goes back to the page."""
    user = _get_user_or_404(get_user_model().objects.all(), pk)
    back = redirect("staff_detail", pk=user.pk)
    if action not in STAFF_ACTIONS:
        raise Http404("No such action.")
    if request.method != "POST":
        return back
    label = services.user_label(user)
    try:
        if action == "grant":
            form = RoleForm(request.POST)
            if not form.is_valid():
                return _errors(request, form, back)
            role, site = form.cleaned_data["role"], form.cleaned_data["site"]
            held_already = StaffRole.objects.filter(user=user, role=role, site=site).exists()
            grant = services.staff_role_grant(user=user, role=role, site=site, actor=request.user)
            if held_already:
                messages.info(request, f"{label} was already {_role_words(grant)}; nothing changed.")
            else:
                messages.success(request, f"{label} is now {_role_words(grant)}.")
        elif action == "revoke":
            role_id = _int(request.POST.get("role"))
            held = StaffRole.objects.select_related("site").filter(user=user, pk=role_id or 0).first()
            if held is None:
                messages.error(request, "That role was already taken away.")
                return back
            services.staff_role_revoke(staff_role=held, actor=request.user)
            messages.success(request, f"{label} is no longer {_role_words(held)}.")
        elif action == "details":
            details = StaffDetailsForm(request.POST)
            if not details.is_valid():
                return _errors(request, details, back)
            services.staff_user_update(user=user, actor=request.user, **details.cleaned_data)
            messages.success(request, "Name and email saved.")
        elif action == "deactivate":
            services.staff_user_deactivate(user=user, actor=request.user)
            messages.success(request, f"{label} is deactivated: they cannot log in. Their roles are kept.")
        elif action == "reactivate":
            services.staff_user_reactivate(user=user, actor=request.user)
            messages.success(request, f"{label} can log in again.")
        else:
            _link_message(request, user)
    except DomainError as error:
        messages.error(request, error.message)
    return back


def _link_message(request: HttpRequest, user: AbstractUser) -> None:
    """Make a set-password link (logged) and show it once, for the admin to hand over."""
    uidb64, token = services.staff_password_link(user=user, actor=request.user)
    url = request.build_absolute_uri(reverse("password_set", kwargs={"uidb64": uidb64, "token": token}))
    messages.info(
        request,
        f"Give {services.user_label(user)} this link to set their password (valid 3 days, works once; "
        f"no email is sent): {url}",
        extra_tags="password-link",
    )


def _errors(request: HttpRequest, form: Any, back: HttpResponse) -> HttpResponse:
    for message in form_error_messages(form):
        messages.error(request, message)
    return back


def _role_words(grant: StaffRole) -> str:
    where = grant.site.name if grant.site is not None else "district-wide"
    return f"{grant.get_role_display()} ({where})"


def _words(error: Exception) -> str:
    if isinstance(error, IntegrityError):
        return "That username is taken."
    return str(error)


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The page a set-password link opens (public): Django's password-reset check of the
    link, the new password typed twice, then :func:`accounts.services.staff_password_set`
    (logged). A spent, expired or malformed link, or a deactivated login's, says so."""

    template_name = "registration/password_set.html"
    success_url = reverse_lazy("password_set_done")

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form: Any) -> HttpResponse:
        services.staff_password_set(user=form.user, password=form.cleaned_data["new_password1"], actor=form.user)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return redirect(self.success_url)


def password_set_done(request: HttpRequest) -> HttpResponse:
    """After a password was set: log in with it."""
    return render(request, "registration/password_set_done.html")
