"""``{% panels "slot" obj %}``: render the panels other apps registered for a page's slot.

See :mod:`core.extensions`. Each panel's template is rendered like an ``{% include %}``: with
the page's context plus the panel's own context (``context(request, obj)``).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template import Engine
from django.utils.safestring import SafeString, mark_safe

from core import extensions

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context: template.Context, slot: str, obj: Any = None) -> SafeString:
    """The HTML of every panel registered for ``slot``, in order (empty when none)."""
    request: Any = context.get("request")
    engine = context.template.engine if context.template is not None else Engine.get_default()
    parts = []
    for panel in extensions.registry.panels(slot):
        own = panel.context(request, obj)
        with context.push(**own):
            parts.append(engine.get_template(panel.template).render(context))
    return mark_safe("".join(parts))  # each part is an autoescaped template rendering
