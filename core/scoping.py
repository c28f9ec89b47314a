"""The one scoping gate: what a staff user may see and change.

Every queryset that reaches a user goes through :meth:`ScopedQuerySet.visible_to`
(lists, details, search, form choices, exports, bulk actions, imports), and every
id in a request body is resolved with :func:`get_visible_or_404`. Out of scope
answers 404; a user with no role sees nothing.

Which roles a user holds is read by a :class:`ScopeProvider` that ``accounts`` implements
(core imports no domain app). Roles (held district-wide or at one site):

=====================  ==========================  =====================
role                   view                        change
=====================  ==========================  =====================
district admin         all sites                   all sites + settings
district technician    all sites                   all sites
site technician        their sites                 their sites
site administrator     their sites                 —
auditor                district-wide or a site     —
=====================  ==========================  =====================

Which site a device belongs to depends on the district's ownership mode: its
owner site when ``decentralized``, its current site when ``centralized``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from core.types import Actor

VIEW = "view"
CHANGE = "change"
ADMIN = "admin"
ACTIONS = (VIEW, CHANGE, ADMIN)


@dataclass(frozen=True)
class Scope:
    """What one user may do where.

    ``everywhere`` holds the actions allowed at every site; ``sites`` maps an action
    to the ids of the sites where it is allowed. ``ownership_mode`` is the district's.
    """

    everywhere: frozenset[str] = frozenset()
    sites: dict[str, frozenset[int]] = field(default_factory=dict)
    ownership_mode: str = "centralized"

    def allows(self, action: str = VIEW) -> bool:
        """True when the action is allowed at one site at least."""
        return action in self.everywhere or bool(self.sites.get(action))

    def allows_everywhere(self, action: str = VIEW) -> bool:
        """True when the action is allowed at every site (a district-wide role)."""
        return action in self.everywhere

    def site_ids(self, action: str = VIEW) -> frozenset[int] | None:
        """Site ids where ``action`` is allowed; ``None`` means every site."""
        if action in self.everywhere:
            return None
        return self.sites.get(action, frozenset())

    def allows_site(self, site_id: int | None, action: str = VIEW) -> bool:
        """True when ``action`` is allowed at the site with id ``site_id``."""
        ids = self.site_ids(action)
        return ids is None or (site_id is not None and site_id in ids)

    @property
    def is_district_admin(self) -> bool:
        return ADMIN in self.everywhere

    @property
    def device_site_field(self) -> str:
        """The device field that decides scope: owner site (decentralized) or current site."""
        return device_site_field(self.ownership_mode)


def device_site_field(ownership_mode: str) -> str:
    """The device field holding the site a device belongs to under the district's
    ``ownership_mode``: ``"owner_site_id"`` when ``decentralized``, else ``"current_site_id"``.
    The one home of the rule (core imports no domain app, so it lives here, beside the gate that
    needs it); ``inventory.rules`` re-exports it for device code."""
    return "owner_site_id" if ownership_mode == "decentralized" else "current_site_id"


NO_SCOPE = Scope()


class ScopeProvider(Protocol):
    """What ``settings.LEDGER_SCOPE_PROVIDER`` names: ``(user) -> Scope`` for an
    authenticated, active user. ``core.scoping.roles_scope`` implements it from staff
    roles and the district's ownership mode; core imports no domain app."""

    def __call__(self, user: AbstractBaseUser) -> Scope: ...


def _provider() -> ScopeProvider:
    return import_string(getattr(settings, "LEDGER_SCOPE_PROVIDER", "core.scoping.roles_scope"))


def scope_for(user: Actor | None) -> Scope:
    """Return the user's :class:`Scope`, computed once per user object (i.e. per request).

    Inactive and anonymous users get an empty scope. The roles are read by the configured
    :class:`ScopeProvider` (``settings.LEDGER_SCOPE_PROVIDER``).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    cached: Scope | None = getattr(user, "_ledger_scope", None)
    if cached is not None:
        return cached
    scope = _provider()(user)
    user._ledger_scope = scope  # type: ignore[attr-defined]  # the per-request cache rides on the user object
    return scope


def person_visibility(user: Actor | None) -> Callable[[int | None], bool]:
    """A function ``(home_site_id) -> bool``: may ``user`` see a person of that home site?

    For rows that name a person beside something else the user may see (a device's holder,
    an event): show the name only when the person is visible too (FERPA). The rule is the
    gate's own for people (``PersonQuerySet.scope_site_field = "home_site_id"``). A row whose
    person was removed (``None``) keeps its stored label.
    """
    scope = scope_for(user)
    ids = scope.site_ids(VIEW)
    if ids is None:
        return lambda site_id: True
    return lambda site_id: site_id is None or site_id in ids


#: What is shown instead of a person the viewer may not see.
HIDDEN_PERSON = "a person at another site"


class NamedPerson(Protocol):
    """What :func:`person_label_for` reads of a person (a ``people.Person``)."""

    @property
    def home_site_id(self) -> int | None: ...

    @property
    def label(self) -> str: ...


def person_label_for(*, person: NamedPerson | None, user: Actor | None, label: str | None = None) -> str:
    """The text that names ``person`` to ``user``: every message, result and list cell that
    names a person beside something else goes through here (FERPA, the gate's rule for people).

    ``person`` is anything with ``home_site_id`` and ``label`` (a ``people.Person``), or
    ``None`` for a removed person. ``label`` is the stored text to show (an assignment's
    ``holder_label``); it defaults to ``person.label`` ("Given Family #number"). Returns
    :data:`HIDDEN_PERSON` when ``user`` may not see the person (:func:`person_visibility`);
    ``user=None`` is the system (imports, commands), which reads the label as stored.
    """
    text = label if label is not None else (person.label if person is not None else "")
    if person is None or user is None:
        return text or ""
    return text if person_visibility(user)(person.home_site_id) else HIDDEN_PERSON


def forget_scope(user: Actor | None) -> None:
    """Drop the cached scope (after roles or the ownership mode change)."""
    if hasattr(user, "_ledger_scope"):
        delattr(user, "_ledger_scope")


_QS = TypeVar("_QS", bound="ScopedQuerySet")


class ScopedQuerySet(models.QuerySet):
    """A queryset that can be narrowed to what a user may see or change.

    Subclasses name the field holding the site id in ``scope_site_field`` or override
    :meth:`scope_field` (devices depend on the ownership mode). A model whose rows belong to
    more than one site (an event or an assignment: its device's site and its person's home
    site) overrides :meth:`scope_q`, the one condition :meth:`visible_to` applies.
    """

    scope_site_field: ClassVar[str] = "site_id"

    def scope_field(self, scope: Scope) -> str:
        """The lookup path (ending in a site id) that decides this model's scope."""
        return self.scope_site_field

    def scope_q(self, scope: Scope, site_ids: frozenset[int], action: str = VIEW) -> Q:
        """The condition for the rows ``action`` reaches at the sites ``site_ids`` (the user's
        sites for that action; never called for a district-wide role, which reaches every row).

        Default: the :meth:`scope_field` is one of ``site_ids``. Overridden by querysets whose
        rows belong to a site in more than one way (``inventory.models.DeviceEventQuerySet``,
        ``custody.models.AssignmentQuerySet``).
        """
        return Q(**{f"{self.scope_field(scope)}__in": site_ids})

    def visible_to(self, user: Actor | None, action: str = VIEW) -> Self:
        """Rows ``user`` may see (``action="view"``) or change (``"change"``). No role: none."""
        scope = scope_for(user)
        if not scope.allows(action):
            return self.none()
        ids = scope.site_ids(action)
        if ids is None:
            return self.all()
        return self.filter(self.scope_q(scope, ids, action))


class DevicePersonScopedQuerySet(ScopedQuerySet):
    """Rows about a device and a person (``inventory.DeviceEvent``, ``custody.Assignment``):
    a school keeps the custody record of its own students after their devices leave it.

    ``view``: the row's device is visible (its site under the ownership mode, as
    ``DeviceQuerySet``) **or** its person is visible (the person's home site, the gate's rule
    for people, ``PersonQuerySet.scope_site_field``). Other actions (``change``) follow the
    device only: a school may read its students' history on another school's device, never
    change it. Names of people the viewer may not see stay hidden where rows are shown
    (:func:`person_label_for`, :func:`person_visibility`).

    SQL: two indexed subqueries, ``device_id IN (devices of the sites) OR person_id IN (people
    of the sites)``, so the row table is not joined to both for the condition.
    """

    person_site_field: ClassVar[str] = "home_site_id"

    def scope_field(self, scope: Scope) -> str:
        return f"device__{scope.device_site_field}"

    def scope_q(self, scope: Scope, site_ids: frozenset[int], action: str = VIEW) -> Q:
        device = self.model._meta.get_field("device").related_model._default_manager  # type: ignore[union-attr]
        by_device = Q(device__in=device.filter(**{f"{scope.device_site_field}__in": site_ids}).values("pk"))
        if action != VIEW:
            return by_device
        person = self.model._meta.get_field("person").related_model._default_manager  # type: ignore[union-attr]
        return by_device | Q(person__in=person.filter(**{f"{self.person_site_field}__in": site_ids}).values("pk"))


_M = TypeVar("_M", bound=models.Model)


def get_visible_or_404(queryset: models.QuerySet[_M], user: Actor | None, action: str = VIEW, **lookup: Any) -> _M:
    """Resolve one object through the scoping gate, or raise 404.

    ``queryset`` must be a :class:`ScopedQuerySet` (or a manager of one). A missing
    object and an out-of-scope object give the same 404. Malformed ids (``pk="abc"``)
    also give 404 instead of a 500.
    """
    qs = queryset.all() if hasattr(queryset, "all") else queryset
    if not isinstance(qs, ScopedQuerySet):
        raise TypeError(f"{qs.model.__name__} is not scoped; give it a ScopedQuerySet")
    try:
        return qs.visible_to(user, action).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError, OverflowError, models.ObjectDoesNotExist) as exc:
        raise Http404(f"No {qs.model._meta.verbose_name} matches the request.") from exc
    except qs.model.MultipleObjectsReturned as exc:
        raise Http404(f"No single {qs.model._meta.verbose_name} matches the request.") from exc


class ReferenceQuerySet(ScopedQuerySet):
    """District-wide reference data (manufacturers, device models): visible to anyone
    with a role, changeable by district admins and district technicians, none otherwise."""

    def visible_to(self, user: Actor | None, action: str = VIEW) -> Self:
        scope = scope_for(user)
        return self.all() if scope.allows_everywhere(action) or (action == VIEW and scope.allows(VIEW)) else self.none()
