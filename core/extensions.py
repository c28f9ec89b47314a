"""Extension points: a lower app's page shows data that a higher app owns, without importing it.

Apps import only the apps below them (see "Allowed imports between apps" in
docs/architecture.md). A person's page belongs to ``people`` but shows what the person holds
(``custody``) and their device history (``inventory``); the device list belongs to
``inventory`` but shows each device's holder (``custody``). The lower app declares a named
place; the higher app fills it from its ``AppConfig.ready()``. Modelled on NetBox's template
extensions (``PluginTemplateExtension``), kept small:

* **Panels** — a page declares a slot in its template with ``{% load panels %}{% panels
  "person_detail" person %}``; each panel registered for that slot (a template and a context
  function) is rendered there, in ``order``. Slots in use: ``person_detail`` (after the
  guardians), ``device_custody`` (inside the device page's Custody card), ``site_detail``
  (after the site's facts).
* **List hooks** — a list selector asks the hooks registered under its name to annotate its
  queryset, to add conditions to its search, and to apply named flag filters. In use:
  ``device_list`` (``custody`` annotates ``holder``, matches holders by name or number and
  supplies the ``overdue`` flag).
* **Value labels** — words for stored choice values another app writes into a lower app's
  rows (``custody`` labels the ``condition`` values in device events).

Registration is idempotent per ``(slot or list, name)``: registering the same name again
replaces the entry, so ``ready()`` running twice does no harm. Everything here is about
showing data; rules stay in the owning app's services.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from core.types import Actor

#: ``context(request, obj) -> dict`` of template variables for one panel.
PanelContext = Callable[[HttpRequest, Any], Mapping[str, Any]]
#: ``(queryset, user) -> queryset``: an annotation or a filter applied by a list hook.
QuerysetStep = Callable[[QuerySet[Any], Actor], QuerySet[Any]]
#: ``(user, query) -> condition or None``: rows matching ``query`` by data the hook owns.
SearchStep = Callable[[Actor, str], Q | None]


@dataclass(frozen=True)
class Panel:
    """One block of a page, supplied by the app that owns its data.

    ``template`` is rendered with the page's context plus ``context(request, obj)``, where
    ``obj`` is the page's object (a Person, a Device, a Site). ``order``: smaller first.
    The context function must scope what it reads through the gate for ``request.user``.
    """

    slot: str
    name: str
    template: str
    context: PanelContext
    order: int = 100


@dataclass(frozen=True)
class ListHook:
    """What a higher app adds to a lower app's list selector (see :meth:`Extensions.list_hooks`).

    ``annotate``: adds columns the list template shows. ``search``: a condition OR-ed with the
    list's own search (``None`` when the hook matches nothing). ``flags``: named filters the
    list applies when asked (e.g. ``overdue``). Each step receives the acting user and must
    go through the gate.
    """

    list_name: str
    name: str
    annotate: QuerysetStep | None = None
    search: SearchStep | None = None
    flags: Mapping[str, QuerysetStep] = field(default_factory=dict)


class Extensions:
    """A registry of panels, list hooks and value labels. The project uses :data:`registry`;
    tests make their own."""

    def __init__(self) -> None:
        self._panels: dict[str, dict[str, Panel]] = {}
        self._hooks: dict[str, dict[str, ListHook]] = {}
        self._labels: dict[str, dict[str, str]] = {}

    # Panels
    def register_panel(self, slot: str, *, name: str, template: str, context: PanelContext, order: int = 100) -> Panel:
        """Show ``template`` in ``slot`` on every page that declares it; returns the panel."""
        panel = Panel(slot=slot, name=name, template=template, context=context, order=order)
        self._panels.setdefault(slot, {})[name] = panel
        return panel

    def panels(self, slot: str) -> list[Panel]:
        """The panels of ``slot``, by ``order`` then name (``[]`` for a slot nobody fills)."""
        return sorted(self._panels.get(slot, {}).values(), key=lambda p: (p.order, p.name))

    # List hooks
    def register_list_hook(
        self,
        list_name: str,
        *,
        name: str,
        annotate: QuerysetStep | None = None,
        search: SearchStep | None = None,
        flags: Mapping[str, QuerysetStep] | None = None,
    ) -> ListHook:
        """Extend the list selector ``list_name``; returns the hook."""
        hook = ListHook(list_name=list_name, name=name, annotate=annotate, search=search, flags=dict(flags or {}))
        self._hooks.setdefault(list_name, {})[name] = hook
        return hook

    def list_hooks(self, list_name: str) -> list[ListHook]:
        """The hooks of ``list_name``, by name."""
        return sorted(self._hooks.get(list_name, {}).values(), key=lambda h: h.name)

    def annotate_list(self, list_name: str, queryset: QuerySet[Any], *, user: Actor) -> QuerySet[Any]:
        """``queryset`` with every hook's annotations."""
        for hook in self.list_hooks(list_name):
            if hook.annotate is not None:
                queryset = hook.annotate(queryset, user)
        return queryset

    def search_conditions(self, list_name: str, *, user: Actor, query: str) -> list[Q]:
        """The hooks' conditions for ``query`` (cleaned, not blank), to be OR-ed with the list's own."""
        conditions = []
        for hook in self.list_hooks(list_name):
            condition = hook.search(user, query) if hook.search is not None else None
            if condition is not None:
                conditions.append(condition)
        return conditions

    def has_flag(self, list_name: str, flag: str) -> bool:
        """Whether some hook of ``list_name`` supplies the filter ``flag``."""
        return any(flag in hook.flags for hook in self.list_hooks(list_name))

    def filter_list(self, list_name: str, flag: str, queryset: QuerySet[Any], *, user: Actor) -> QuerySet[Any]:
        """``queryset`` narrowed by every hook's filter named ``flag``. A flag no hook supplies
        gives no rows (asking for "overdue only" without custody shows nothing, not everything)."""
        steps = [hook.flags[flag] for hook in self.list_hooks(list_name) if flag in hook.flags]
        if not steps:
            return queryset.none()
        for step in steps:
            queryset = step(queryset, user)
        return queryset

    # Value labels
    def register_value_labels(self, key: str, labels: Mapping[str, str]) -> None:
        """Words for the stored values of ``key`` (e.g. ``condition``: ``{"good": "Good"}``)."""
        self._labels.setdefault(key, {}).update({str(k): str(v) for k, v in labels.items()})

    def value_label(self, key: str, value: Any) -> str | None:
        """The word for ``value`` of ``key``, or ``None`` when nobody registered one."""
        return self._labels.get(key, {}).get(str(value))


#: The project's registry, filled by the apps' ``ready()``.
registry = Extensions()
register_panel = registry.register_panel
register_list_hook = registry.register_list_hook
register_value_labels = registry.register_value_labels
