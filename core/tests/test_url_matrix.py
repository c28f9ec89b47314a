"""Every URL pattern has a scoping spec, and every spec holds for every role.

Specs live in ``<app>/tests/scoping_specs.py`` (a ``SPECS`` list of UrlSpec).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.scoping_matrix import UrlSpec

ROLE_ACTIONS = {
    "district_admin": {"view", "change", "admin"},
    "district_tech": {"view", "change"},
    "site_tech": {"view", "change"},
    "principal": {"view"},
    "auditor": {"view"},
    "site_auditor": {"view"},
}


def _all_specs() -> dict[str, UrlSpec]:
    specs: dict[str, UrlSpec] = {}
    for module_info in pkgutil.iter_modules([str(Path(settings.BASE_DIR))]):
        try:
            module = importlib.import_module(f"{module_info.name}.tests.scoping_specs")
        except ModuleNotFoundError:
            continue
        for spec in module.SPECS:
            assert spec.name not in specs, f"two specs for {spec.name}"
            specs[spec.name] = spec
    return specs


def _url_names(patterns=None, namespace="") -> list[str]:
    names = []
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue  # the admin site is covered by test_admin_is_for_district_admins_only
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            names += _url_names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.append(f"{namespace}{p.name}")
        elif isinstance(p, URLPattern):
            names.append(f"{namespace}<unnamed {p.pattern}>")
    return names


SPECS = _all_specs()


def test_every_url_pattern_has_a_scoping_spec():
    missing = sorted(set(_url_names()) - set(SPECS))
    assert not missing, f"URL patterns without a scoping spec in <app>/tests/scoping_specs.py: {missing}"


def _request(client, spec: UrlSpec, world, side: str, method: str):
    url = reverse(spec.name, kwargs=spec.kwargs(world, side))
    if method == "post":
        return client.post(url, spec.post(world, side) if spec.post else {})
    return client.get(url, spec.query)


@pytest.mark.django_db
@pytest.mark.parametrize("spec", [s for s in SPECS.values() if not s.public], ids=lambda s: s.name)
def test_anonymous_is_sent_to_log_in(client, world, spec):
    for method in spec.methods:
        response = _request(client, spec, world, "own", method)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), (spec.name, method)


@pytest.mark.django_db
@pytest.mark.parametrize("spec", [s for s in SPECS.values() if not s.public], ids=lambda s: s.name)
def test_user_without_a_role_sees_nothing(client_for, world, spec):
    client = client_for(world.nobody)
    for method in spec.methods:
        response = _request(client, spec, world, "own", method)
        assert response.status_code in (403, 404), (spec.name, method, response.status_code)
        body = response.content.decode()
        assert world.device_a.asset_tag not in body and world.person_a.family_name not in body


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(ROLE_ACTIONS))
@pytest.mark.parametrize("spec", [s for s in SPECS.values() if not s.public], ids=lambda s: s.name)
def test_role_matrix(client_for, world, spec, role):
    """Allowed roles get the page for their own site's object; others are refused; the
    other site's object is 404 for site-scoped roles."""
    user = getattr(world, role)
    client = client_for(user)
    allowed = spec.action in ROLE_ACTIONS[role]
    site_scoped = role in ("site_tech", "principal", "site_auditor")
    for method in spec.methods:
        own = _request(client, spec, world, "own", method)
        if allowed:
            assert own.status_code in spec.ok_status, (spec.name, role, method, own.status_code)
        else:
            assert own.status_code in (403, 404), (spec.name, role, method, own.status_code)
        if spec.object_scoped:
            other = _request(client_for(user), spec, world, "other", method)
            if not allowed:
                assert other.status_code in (403, 404), (spec.name, role, method, other.status_code)
            elif site_scoped:
                assert other.status_code == 404, (spec.name, role, method, other.status_code)
            else:
                assert other.status_code in spec.ok_status, (spec.name, role, method, other.status_code)


@pytest.mark.django_db
def test_admin_is_for_district_admins_only(client_for, world):
    for role in ("site_tech", "district_tech", "principal", "auditor"):
        user = getattr(world, role)
        user.is_staff = True
        user.save()
        response = client_for(user).get(reverse("admin:index"))
        assert response.status_code == 302 and "login" in response.url, role
    assert client_for(world.district_admin).get(reverse("admin:index")).status_code in (200, 302)
