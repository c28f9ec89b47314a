"""core.extensions: panels, list hooks and value labels (a registry of its own per test)."""

from __future__ import annotations

import pytest
from django.db.models import Q
from django.template import Context, Template
from django.test import RequestFactory, override_settings

from core import extensions
from core.extensions import Extensions

LOCMEM = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {
            "loaders": [
                (
                    "django.template.loaders.locmem.Loader",
                    {"a.html": "<a>{{ page_var }}|{{ own }}</a>", "b.html": "<b>{{ thing }}</b>"},
                )
            ],
        },
    }
]


def test_panels_come_in_order_and_a_second_registration_replaces_the_first():
    registry = Extensions()
    registry.register_panel("slot", name="late", template="b.html", context=lambda r, o: {}, order=20)
    registry.register_panel("slot", name="early", template="x.html", context=lambda r, o: {}, order=10)
    registry.register_panel("slot", name="early", template="a.html", context=lambda r, o: {}, order=10)
    assert [(p.name, p.template) for p in registry.panels("slot")] == [("early", "a.html"), ("late", "b.html")]
    assert registry.panels("nobody-fills-this") == []


@override_settings(TEMPLATES=LOCMEM)
def test_the_panels_tag_renders_each_panel_with_the_page_context_and_its_own(monkeypatch):
    registry = Extensions()
    seen = []

    def own_context(request, obj):
        seen.append((request.path, obj))
        return {"own": f"own-{obj}"}

    registry.register_panel("slot", name="b", template="b.html", context=lambda r, o: {}, order=2)
    registry.register_panel("slot", name="a", template="a.html", context=own_context, order=1)
    monkeypatch.setattr(extensions, "registry", registry)
    request = RequestFactory().get("/page/")
    html = Template('{% load panels %}[{% panels "slot" thing %}]{% panels "empty" thing %}').render(
        Context({"request": request, "page_var": "P", "thing": "T<"})
    )
    assert html == "[<a>P|own-T&lt;</a><b>T&lt;</b>]"
    assert seen == [("/page/", "T<")]


@pytest.mark.django_db
def test_list_hooks_annotate_search_and_filter():
    from sites.models import Site

    registry = Extensions()
    registry.register_list_hook(
        "sites",
        name="h",
        annotate=lambda qs, user: qs.extra(select={"marked": "1"}),
        search=lambda user, query: Q(code=query.upper()) if query != "none" else None,
        flags={"only_a": lambda qs, user: qs.filter(code="A")},
    )
    Site.objects.create(code="A", name="Alder")
    Site.objects.create(code="B", name="Birch")
    qs = Site.objects.all()
    assert [s.marked for s in registry.annotate_list("sites", qs, user=None)] == [1, 1]
    assert registry.search_conditions("sites", user=None, query="b") == [Q(code="B")]
    assert registry.search_conditions("sites", user=None, query="none") == []
    assert [s.code for s in registry.filter_list("sites", "only_a", qs, user=None)] == ["A"]
    assert registry.has_flag("sites", "only_a") and not registry.has_flag("sites", "overdue")
    # A flag nobody supplies shows nothing rather than everything.
    assert list(registry.filter_list("sites", "overdue", qs, user=None)) == []
    assert registry.annotate_list("other", qs, user=None) is qs


def test_value_labels():
    registry = Extensions()
    registry.register_value_labels("condition", {"good": "Good"})
    registry.register_value_labels("condition", {"broken": "Broken / not working"})
    assert registry.value_label("condition", "broken") == "Broken / not working"
    assert registry.value_label("condition", "good") == "Good"
    assert registry.value_label("condition", "other") is None
    assert registry.value_label("status", "good") is None


def test_the_project_fills_the_places_its_pages_declare():
    """The apps' ready() registered their panels and hooks (pages of lower apps depend on it)."""
    registry = extensions.registry
    assert [p.name for p in registry.panels("person_detail")] == ["custody.holdings", "inventory.history"]
    assert [p.name for p in registry.panels("device_custody")] == ["custody.holder"]
    assert [p.name for p in registry.panels("site_detail")] == ["reports.site_devices"]
    assert registry.has_flag("device_list", "overdue")
    assert registry.value_label("condition", "missing_parts") == "Missing parts"
