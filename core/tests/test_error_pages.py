"""`make run` shows the product's own 404, 403, CSRF-failure pages, with a way back, not
Django's debug pages; `DEBUG=1` is the developers' switch (issue #8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _settings_in(env: dict[str, str]) -> dict[str, object]:
    """``config.settings`` as a fresh process reads it from ``env`` (as ``make run`` starts it)."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    code = (
        "import json, config.settings as s; print(json.dumps({'DEBUG': s.DEBUG, 'finders': s.WHITENOISE_USE_FINDERS,"
        " 'storage': s.STORAGES['staticfiles']['BACKEND'], 'hosts': s.ALLOWED_HOSTS}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_make_run_has_no_debug_pages_but_serves_static_files_and_debug_1_turns_them_on():
    run = _settings_in({})
    assert run["DEBUG"] is False
    assert run["finders"] is True and "Manifest" not in str(run["storage"]) and "127.0.0.1" in run["hosts"]
    assert _settings_in({"DEBUG": "1"})["DEBUG"] is True
    production = _settings_in({"SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "ledger.example.org"})
    assert production["DEBUG"] is False and "Manifest" in str(production["storage"])


def test_serving_other_hosts_without_a_secret_key_is_refused():
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    out = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env={**clean, "ALLOWED_HOSTS": "ledger.example.org"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0 and "SECRET_KEY must be set" in out.stderr


def test_static_files_are_served_without_collectstatic(client):
    response = client.get("/static/css/ledger.css")
    assert response.status_code == 200


def test_404_is_the_products_page_with_a_way_back(client_for, world):
    response = client_for(world.site_tech).get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "Not found" in body and f'href="{reverse("dashboard")}"' in body and "history.back()" in body
    assert "Using the URLconf" not in body and 'class="topbar"' in body


def test_403_from_permission_denied_is_the_products_page(rf, world):
    from core.views import error_403

    request = rf.get("/")
    request.user = world.site_tech
    body = error_403(request, PermissionError()).content.decode()
    assert "Not allowed" in body and "history.back()" in body


def test_csrf_failure_is_the_products_page_with_a_way_back_to_the_form(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.site_tech, backend="django.contrib.auth.backends.ModelBackend")
    form = "http://testserver" + reverse("check_in")
    response = client.post(reverse("check_in"), {"code": "CB-000001"}, HTTP_REFERER=form)
    body = response.content.decode()
    assert response.status_code == 403
    assert "This form had expired" in body and "Nothing was saved" in body
    assert f'href="{form}"' in body and 'class="topbar"' in body
    assert "CSRF verification failed" not in body
    # A referer on another site is not offered as the way back.
    response = client.post(reverse("check_in"), {"code": "x"}, HTTP_REFERER="https://evil.example/")
    assert "evil.example" not in response.content.decode()
