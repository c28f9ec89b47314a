"""Project-wide pytest fixtures."""

from __future__ import annotations

import pytest
from django.core.cache import cache

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
