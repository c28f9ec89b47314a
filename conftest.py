"""Project-wide pytest fixtures."""

from __future__ import annotations

import os
import shutil

import pytest
from django.core.cache import cache
from django.db import connections

from core.testing import World, make_world


@pytest.fixture(autouse=True)
def _fast_hashing_and_clean_cache(settings):  # type: ignore[no-untyped-def]
    """Tests hash passwords with MD5 (Argon2 is slow on purpose) and start with an empty cache."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    """Two sites, a device/student/location at each, one user per role (site roles at site A)."""
    return make_world()


@pytest.fixture
def client_for(client):  # type: ignore[no-untyped-def]
    """``client_for(user)``: the test client logged in as ``user`` (bypassing axes)."""

    def login(user):  # type: ignore[no-untyped-def]
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return login


#: Debian's Chromium, driven by Playwright in browser tests (never ``playwright install``).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt install chromium)"
)


@pytest.fixture
def page():  # type: ignore[no-untyped-def]
    """A Playwright page in headless Chromium (``--no-sandbox``, no background networking)."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )  # fmt: skip
        context = browser.new_context()
        try:
            yield context.new_page()
        finally:
            # While Playwright's event loop runs in this thread, Django keeps this thread's
            # database connections apart (asgiref's Local follows the running loop's context):
            # the test's queries opened one that the test database teardown never sees, and
            # PostgreSQL then refused to drop the test database ("being accessed by other
            # users"). Close them here, while that loop still runs.
            connections.close_all()
            context.close()
            browser.close()
