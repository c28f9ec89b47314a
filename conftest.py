"""Project-wide pytest fixtures."""

from __future__ import annotations

import os
import shutil

import pytest
from django.core.cache import cache
from django.db import connections

from core.append_only import FLUSH_MARKER
from core.testing import World, make_world


def _flush_past_append_only_triggers() -> None:
    """Let the test database's flush empty append-only tables on SQLite (tests only).

    pytest-django empties the database after each transactional test with Django's flush:
    ``TRUNCATE`` on PostgreSQL (no row trigger fires) but ``DELETE FROM`` on SQLite, which the
    append-only triggers refuse (``core/append_only.py``). The flush's statements run in one
    transaction; this wraps them in ``CREATE TABLE`` / ``DROP TABLE`` of the marker table the
    SQLite delete trigger looks for, so the marker exists only while the flush runs and only in
    the test database. The production database keeps refusing ``DELETE``.
    """
    from django.db.backends.sqlite3 import base  # the backend first: its operations module imports it

    DatabaseOperations = base.DatabaseOperations

    original = DatabaseOperations.sql_flush
    if getattr(original, "_ledger_append_only", False):
        return

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):  # type: ignore[no-untyped-def]
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if not statements:
            return statements
        return [f"CREATE TABLE {FLUSH_MARKER} (x)", *statements, f"DROP TABLE {FLUSH_MARKER}"]

    sql_flush._ledger_append_only = True  # type: ignore[attr-defined]
    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


_flush_past_append_only_triggers()


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
