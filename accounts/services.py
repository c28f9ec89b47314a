"""Writes to staff users and their roles.

Creating a login, changing its name or email, deactivating and reactivating it, making a
set-password link and setting a password write a change log entry about the user; granting,
changing and revoking a role each write one about the role, listed on the user's history
(``parent``); all in the change's transaction (:mod:`core.changelog`). The staff pages
(``accounts/views.py``) and the Django admin's role editing (``accounts/admin.py``) go through
these functions. Refusals are worded in :mod:`accounts.rules`.
``source=None`` means web when an actor is given, command otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import rules
from accounts.models import DISTRICT_ONLY_ROLES, SITE_ONLY_ROLES, StaffRole
from core.changelog import Action, change_log_record, resolve_source
from core.errors import WrongStateError
from core.scoping import forget_scope
from core.types import Actor
from sites.models import Site

if TYPE_CHECKING:
    from django.contrib.auth.models import User


#: The user fields a staff page edits, in the change log's order.
USER_FIELDS = ("username", "first_name", "last_name", "email")


def _user_values(user: AbstractUser, names: tuple[str, ...] = USER_FIELDS) -> dict[str, Any]:
    return {name: getattr(user, name) for name in names if getattr(user, name) not in (None, "")}


def _other_active_admins(user: AbstractBaseUser) -> int:
    """Active logins other than ``user`` holding the District admin role."""
    return (
        StaffRole.objects.filter(role=StaffRole.Role.DISTRICT_ADMIN, site__isnull=True, user__is_active=True)
        .exclude(user_id=user.pk)
        .values("user_id")
        .distinct()
        .count()
    )


def _refuse(message: str | None, field: str | None = None) -> None:
    if message is not None:
        raise WrongStateError(message, field=field)


def user_label(user: AbstractBaseUser) -> str:
    """A login as people read it: "Dana Whitfield (dwhitfield)", or the username alone."""
    full = user.get_full_name().strip() if isinstance(user, AbstractUser) else ""
    return f"{full} ({user.get_username()})" if full else user.get_username()


@transaction.atomic
def staff_user_create(
    *,
    username: str,
    password: str | None,
    roles: list[tuple[str, Site | None]],
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    actor: Actor | None = None,
    source: str | None = None,
) -> AbstractUser:
    """Create a staff login with its roles, e.g. ``[("site_technician", lincoln)]``.

    ``password=None`` creates the login with an unusable password: the person sets one through
    a set-password link (:func:`staff_password_link`). The password is not validated here (the
    staff page's form runs Django's password validators).

    District admins are also marked ``is_staff``/``is_superuser`` (:func:`_admin_access`); the role
    itself is what opens the Django admin and gives its permissions (``core.admin_site``,
    ``accounts.backends``).
    Raises :class:`~core.errors.WrongStateError` (field ``username``) for a username another
    login has, ignoring case (:func:`accounts.rules.username_refusal`), ``ValueError`` for a role
    held at the wrong level (site roles need a site; district roles must not have one).
    The login's creation (name, email; never the password) and each role granted are logged.
    """
    User = get_user_model()
    username = username.strip()
    taken = User.objects.filter(username__iexact=username).exists()
    _refuse(rules.username_refusal(username=username, taken=taken), "username")
    user = User.objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name, email=email
    )
    after = {**_user_values(user), "password": "set" if password else "not set"}
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=user, action=Action.CREATED,
        before={}, after=after,
    )  # fmt: skip
    for role, site in roles:
        staff_role_grant(user=user, role=role, site=site, actor=actor, source=source)
    return user


@transaction.atomic
def staff_user_update(
    *, user: AbstractUser, actor: Actor | None, first_name: str, last_name: str, email: str, source: str | None = None
) -> AbstractUser:
    """Change a login's name and email; logged with before → after (nothing logged when
    nothing changed). The username stays (it is what the person types and what logs name)."""
    User = get_user_model()
    current = User.objects.select_for_update().get(pk=user.pk)
    names = ("first_name", "last_name", "email")
    old = {name: getattr(current, name) for name in names}
    new = {"first_name": first_name.strip(), "last_name": last_name.strip(), "email": email.strip()}
    changed = [name for name in names if old[name] != new[name]]
    if changed:
        for name in changed:
            setattr(current, name, new[name])
        current.save(update_fields=changed)
        change_log_record(
            actor=actor, source=resolve_source(actor=actor, source=source), obj=current, action=Action.CHANGED,
            before={k: old[k] for k in changed}, after={k: new[k] for k in changed},
        )  # fmt: skip
    return current


@transaction.atomic
def staff_user_deactivate(
    *, user: AbstractUser, actor: Actor | None, source: str | None = None, note: str = ""
) -> AbstractUser:
    """Stop a login from logging in (``is_active`` off; sessions end at their next request, and
    the gate grants an inactive user nothing). Roles are kept, so reactivating restores them;
    logged. Refused (:class:`~core.errors.WrongStateError`, :func:`accounts.rules.deactivate_refusal`)
    for the acting user's own login and for the last active district admin."""
    User = get_user_model()
    current = User.objects.select_for_update().get(pk=user.pk)
    if not current.is_active:
        return current
    is_admin = current.staff_roles.filter(role=StaffRole.Role.DISTRICT_ADMIN).exists()
    _refuse(
        rules.deactivate_refusal(
            is_self=actor is not None and actor.pk == current.pk,
            is_active_admin=is_admin,
            other_active_admins=_other_active_admins(current),
            name=user_label(current),
        )
    )
    current.is_active = False
    current.save(update_fields=["is_active"])
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=current, action=Action.CHANGED,
        before={"is_active": True}, after={"is_active": False}, note=note,
    )  # fmt: skip
    forget_scope(current)
    return current


@transaction.atomic
def staff_user_reactivate(
    *, user: AbstractUser, actor: Actor | None, source: str | None = None, note: str = ""
) -> AbstractUser:
    """Let a deactivated login log in again, with the roles it kept; logged."""
    User = get_user_model()
    current = User.objects.select_for_update().get(pk=user.pk)
    if current.is_active:
        return current
    current.is_active = True
    current.save(update_fields=["is_active"])
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=current, action=Action.CHANGED,
        before={"is_active": False}, after={"is_active": True}, note=note,
    )  # fmt: skip
    forget_scope(current)
    return current


@transaction.atomic
def staff_password_link(*, user: AbstractUser, actor: Actor | None, source: str | None = None) -> tuple[str, str]:
    """A one-time set-password link's parts ``(uidb64, token)`` for ``user``, for the district
    admin to hand over (no email is sent). Django's password-reset token: valid for
    ``PASSWORD_RESET_TIMEOUT`` (3 days), and spent once the password is set or the user logs in.
    Logged (who made a link for whom), never the token. Refused for a deactivated login."""
    if not user.is_active:
        raise WrongStateError(f"{user_label(user)} is deactivated; reactivate the login first.")
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=user, action=Action.CHANGED,
        before={}, after={"password": "set-password link made"},
    )  # fmt: skip
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)  # type: ignore[arg-type]


@transaction.atomic
def staff_password_set(*, user: AbstractUser, password: str, actor: Actor | None, source: str | None = None) -> None:
    """Set a login's password (already validated by the form); logged without the password."""
    user.set_password(password)
    user.save(update_fields=["password"])
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=user, action=Action.CHANGED,
        before={}, after={"password": "set"},
    )  # fmt: skip


def _check(role: str, site: Site | None) -> None:
    if role not in StaffRole.Role.values:
        raise ValueError(f"Unknown role '{role}'.")
    if role in DISTRICT_ONLY_ROLES and site is not None:
        raise ValueError(f"{role} is a district-wide role; give no site.")
    if role in SITE_ONLY_ROLES and site is None:
        raise ValueError(f"{role} is held at a site; give one.")


def _refuse_last_admin(grant: StaffRole) -> None:
    """Refuse taking the District admin role from the last active district admin (a person
    acting through a page; commands, ``actor=None``, may: they are how a district recovers)."""
    _refuse(
        rules.revoke_refusal(
            role=grant.role,
            user_active=grant.user.is_active,
            other_active_admins=_other_active_admins(grant.user),
            name=user_label(grant.user),
        )
    )


def _values(staff_role: StaffRole) -> dict[str, Any]:
    return {"role": staff_role.role, "site": staff_role.site.name if staff_role.site is not None else "district-wide"}


def _admin_access(user: User) -> None:
    """Mark a district admin ``is_staff``/``is_superuser`` (as the demo logins are). Not what
    opens the Django admin: the role does, and a revoked role closes it whatever these say
    (``core.admin_site.LedgerAdminSite``, ``accounts.backends.DistrictAdminPermissions``)."""
    if not user.is_staff and user.staff_roles.filter(role=StaffRole.Role.DISTRICT_ADMIN).exists():
        user.is_staff = True
        user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])


@transaction.atomic
def staff_role_grant(
    *, user: User, role: str, site: Site | None, actor: Actor | None = None, source: str | None = None, note: str = ""
) -> StaffRole:
    """Give ``user`` a role district-wide (``site=None``) or at one site; a role already held
    is returned as it is (nothing logged). Raises ``ValueError`` for an unknown role or one
    held at the wrong level."""
    _check(role, site)
    granted, created = StaffRole.objects.get_or_create(user=user, role=role, site=site)
    if created:
        change_log_record(
            actor=actor, source=resolve_source(actor=actor, source=source), obj=granted, action=Action.CREATED,
            before={}, after=_values(granted), site_id=granted.site_id, parent=user, note=note,
        )  # fmt: skip
    _admin_access(user)
    forget_scope(user)
    return granted


@transaction.atomic
def staff_role_update(
    *, staff_role: StaffRole, role: str, site: Site | None, actor: Actor | None, source: str | None = None
) -> StaffRole:
    """Change which role a grant is, or where it is held; logged with before → after.
    Raises ``ValueError`` for a role held at the wrong level, ``IntegrityError`` when the user
    holds that role there already, :class:`~core.errors.WrongStateError` when it would take
    the District admin role from the last active district admin (given an ``actor``)."""
    _check(role, site)
    current = StaffRole.objects.select_for_update(of=("self",)).select_related("site", "user").get(pk=staff_role.pk)
    if actor is not None and role != current.role:
        _refuse_last_admin(current)
    old = _values(current)
    current.role, current.site = role, site
    current.save(update_fields=["role", "site"])
    new = _values(current)
    changed = [k for k in new if new[k] != old[k]]
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=current, action=Action.CHANGED,
        before={k: old[k] for k in changed}, after={k: new[k] for k in changed}, site_id=current.site_id,
        parent=current.user,
    )  # fmt: skip
    _admin_access(current.user)
    forget_scope(current.user)
    return current


@transaction.atomic
def staff_role_revoke(*, staff_role: StaffRole, actor: Actor | None, source: str | None = None, note: str = "") -> None:
    """Take a role away (the user keeps their login); logged on the user's history. Django
    admin access granted with a district admin role stays until changed on the user.
    Raises :class:`~core.errors.WrongStateError` for the last active district admin's District
    admin role when an ``actor`` asks (:func:`accounts.rules.revoke_refusal`)."""
    current = StaffRole.objects.select_for_update(of=("self",)).select_related("site", "user").get(pk=staff_role.pk)
    if actor is not None:
        _refuse_last_admin(current)
    change_log_record(
        actor=actor, source=resolve_source(actor=actor, source=source), obj=current, action=Action.DELETED,
        before=_values(current), after={}, site_id=current.site_id, parent=current.user, note=note,
    )  # fmt: skip
    user = current.user
    current.delete()
    forget_scope(user)
